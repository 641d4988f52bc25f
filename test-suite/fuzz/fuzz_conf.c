/*
 * fuzz_conf.c -- fuzz the configuration parser (src/conf): any bytes as a
 * configuration held in memory.
 *
 * Invariants: a load either gives a snapshot or an error, never both; the
 * dump of a snapshot loads again and dumps the same.  File access is off,
 * so include and "/path" parameters read nothing from the machine.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "fuzz.h"

/* Dump <c> into a malloc'd string. */
static char *
fuzz_conf_dump(const struct conf *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    FUZZ_CHECK(fp != NULL);
    conf_dump(c, fp);
    fclose(fp);
    return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *err = NULL, *dump, *dump2;
    struct conf *c, *c2;

    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    conf_set_file_access(false);
    c = conf_load_string(text, "fuzz.conf", &err);
    FUZZ_CHECK((c == NULL) != (err == NULL));
    free(err);
    free(text);
    if (c == NULL)
        return 0;
    dump = fuzz_conf_dump(c);
    c2 = conf_load_string(dump, "dump.conf", &err);
    if (c2 == NULL)
        fprintf(stderr, "dump does not load: %s\n%s", err, dump);
    FUZZ_CHECK(c2 != NULL);
    dump2 = fuzz_conf_dump(c2);
    FUZZ_CHECK(strcmp(dump, dump2) == 0);
    free(dump);
    free(dump2);
    conf_unref(c2);
    conf_unref(c);
    return 0;
}
