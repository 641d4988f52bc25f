/*
 * conf_doc.c -- the reference documentation of every directive, written
 * from conf_directives.def: doc/skua.conf.documented ("text"), the
 * DIRECTIVES section of skua.conf(5) ("man") and a list of the defaults
 * ("default").
 *
 * It reads only the names, defaults, flags, syntax lines and help texts of
 * the table, never its parsers, so that the build-time program that writes
 * the documents (conf_doc_main.c) links this file alone.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf/conf_int.h"

struct conf_doc {
    const char *name;
    const char *dflt;
    unsigned flags;
    const char *syntax;
    const char *help;
};

#define CONF_DIRECTIVE(name, slot, field, arg, dflt, flags, syntax, help) \
    { #name, dflt, flags, syntax, help },

static const struct conf_doc conf_docs[] = {
#include "conf/conf_directives.def"
};

#undef CONF_DIRECTIVE

/* Call <fn> for each line of the help text <help>. */
static void
conf_doc_lines(FILE *fp, const char *help,
               void (*fn)(FILE *fp, const char *line, size_t len, void *st),
               void *st)
{
    const char *p = help;

    while (*p != '\0') {
        size_t n = strcspn(p, "\n");

        fn(fp, p, n, st);
        p += n;
        if (*p == '\n')
            p++;
    }
}

static void
conf_doc_text_line(FILE *fp, const char *line, size_t len, void *st)
{
    if (len == 0)
        fputs("#\n", fp);
    else
        fprintf(fp, "#  %.*s\n", (int)len, line);
}

static void
conf_doc_text(FILE *fp)
{
    fputs("#  skua.conf.documented -- every directive of skua.conf with "
          "its syntax,\n#  default and meaning.  Generated from the "
          "directive table; do not edit.\n#\n#  The language is Squid's: "
          "one directive per line, # comments,\n#  \"quoted strings\", "
          "sizes such as 64 KB and times such as 30 seconds.\n\n", fp);
    for (size_t i = 0; i < SK_ARRAY_LEN(conf_docs); i++) {
        const struct conf_doc *d = &conf_docs[i];

        fprintf(fp, "#  TAG: %s\n#  %s\n#\n", d->name, d->syntax);
        conf_doc_lines(fp, d->help, conf_doc_text_line, NULL);
        if (d->flags & CONF_D_REPEAT)
            fputs("#\n#  This directive may be repeated.\n", fp);
        if (d->flags & CONF_D_RESTART)
            fputs("#\n#  A change takes effect on restart, not on "
                  "reconfigure.\n", fp);
        if (d->dflt != NULL)
            fprintf(fp, "#\n#Default:\n# %s %s\n\n", d->name, d->dflt);
        else
            fputs("#\n#Default:\n# none\n\n", fp);
    }
}

/* Write <s> of <len> bytes escaped for roff. */
static void
conf_doc_roff(FILE *fp, const char *s, size_t len)
{
    if (len > 0 && (s[0] == '.' || s[0] == '\''))
        fputs("\\&", fp);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\')
            fputs("\\e", fp);
        else if (s[i] == '-')
            fputs("\\-", fp);
        else
            fputc(s[i], fp);
    }
}

/* Man page line state: 1 while inside an example block. */
static void
conf_doc_man_line(FILE *fp, const char *line, size_t len, void *st)
{
    int *example = st;
    bool is_example = len >= 2 && line[0] == ' ' && line[1] == ' ';

    if (is_example && !*example) {
        fputs(".RS 4\n.nf\n", fp);
        *example = 1;
    } else if (!is_example && *example) {
        fputs(".fi\n.RE\n", fp);
        *example = 0;
    }
    if (len == 0) {
        fputs(".PP\n", fp);
        return;
    }
    if (is_example)
        conf_doc_roff(fp, line + 2, len - 2);
    else
        conf_doc_roff(fp, line, len);
    fputc('\n', fp);
}

static void
conf_doc_man(FILE *fp)
{
    for (size_t i = 0; i < SK_ARRAY_LEN(conf_docs); i++) {
        const struct conf_doc *d = &conf_docs[i];
        int example = 0;

        fputs(".SS ", fp);
        conf_doc_roff(fp, d->name, strlen(d->name));
        fputs("\n.nf\n\\fB", fp);
        conf_doc_roff(fp, d->syntax, strlen(d->syntax));
        fputs("\\fR\n.fi\n.PP\n", fp);
        conf_doc_lines(fp, d->help, conf_doc_man_line, &example);
        if (example)
            fputs(".fi\n.RE\n", fp);
        if (d->flags & (CONF_D_REPEAT | CONF_D_RESTART))
            fputs(".PP\n", fp);
        if (d->flags & CONF_D_REPEAT)
            fputs("This directive may be repeated.\n", fp);
        if (d->flags & CONF_D_RESTART)
            fputs("A change takes effect on restart, not on "
                  "reconfigure.\n", fp);
        fputs(".PP\nDefault: ", fp);
        if (d->dflt != NULL) {
            fputs("\\fB", fp);
            conf_doc_roff(fp, d->name, strlen(d->name));
            fputc(' ', fp);
            conf_doc_roff(fp, d->dflt, strlen(d->dflt));
            fputs("\\fR\n", fp);
        } else {
            fputs("none.\n", fp);
        }
    }
}

static void
conf_doc_default(FILE *fp)
{
    fputs("# The defaults of every skua.conf directive that has one.\n"
          "# Generated from the directive table; do not edit.\n", fp);
    for (size_t i = 0; i < SK_ARRAY_LEN(conf_docs); i++)
        if (conf_docs[i].dflt != NULL)
            fprintf(fp, "# %s %s\n", conf_docs[i].name, conf_docs[i].dflt);
}

int
conf_write_doc(FILE *fp, const char *format)
{
    if (strcmp(format, "text") == 0)
        conf_doc_text(fp);
    else if (strcmp(format, "man") == 0)
        conf_doc_man(fp);
    else if (strcmp(format, "default") == 0)
        conf_doc_default(fp);
    else
        return -1;
    return ferror(fp) ? -1 : 0;
}
