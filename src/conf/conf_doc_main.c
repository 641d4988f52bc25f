/*
 * conf_doc_main.c -- build-time program that writes the directive
 * reference from the directive table:
 *
 *   conf_doc text|man|default [TEMPLATE]
 *
 * writes conf_write_doc()'s output to standard output; with TEMPLATE it
 * copies that file instead, putting the output in place of the line
 * "@DIRECTIVES@" (how doc/skua.conf.5 is made from doc/skua.conf.5.in).
 * It is not installed.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf/conf.h"

int
main(int argc, char **argv)
{
    char line[4096];
    FILE *in;
    int rc = 0;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: conf_doc text|man|default [TEMPLATE]\n");
        return 2;
    }
    if (argc == 2)
        return conf_write_doc(stdout, argv[1]) == 0 ? 0 : 1;
    in = fopen(argv[2], "r");
    if (in == NULL) {
        perror(argv[2]);
        return 1;
    }
    while (rc == 0 && fgets(line, sizeof(line), in) != NULL) {
        if (strcmp(line, "@DIRECTIVES@\n") == 0)
            rc = conf_write_doc(stdout, argv[1]);
        else
            fputs(line, stdout);
    }
    if (ferror(in) || fflush(stdout) != 0)
        rc = -1;
    fclose(in);
    return rc == 0 ? 0 : 1;
}
