/*
 * conf_int.h -- what the files of src/conf share and nobody else sees: the
 * directive descriptor built from conf_directives.def, the parse context
 * handed to slot and custom parsers, and the private part of a snapshot.
 *
 * It deliberately holds no parsing code; see conf.c (loading, lexing,
 * include), conf_slots.c (slot parsers and dump), conf_custom.c (list
 * directives) and conf_doc.c (generated documentation).
 */
#ifndef SK_CONF_INT_H
#define SK_CONF_INT_H

#include <stdio.h>

#include "conf/conf.h"

/* Slot types of the directive table. */
enum conf_slot {
    CONF_SLOT_FLAG = 0,
    CONF_SLOT_TIME,
    CONF_SLOT_SIZE,
    CONF_SLOT_INT,
    CONF_SLOT_STRING,
    CONF_SLOT_ENUM,
    CONF_SLOT_CUSTOM
};

/* Directive flags (the FLAGS column of conf_directives.def). */
#define CONF_D_REPEAT   0x01u   /* may appear more than once */
#define CONF_D_RESTART  0x02u   /* a change takes effect on restart only */
#define CONF_D_JOIN     0x08u   /* STRING: all arguments, joined by spaces */
#define CONF_D_RAW      0x10u   /* one token, then the rest of the line
                                   verbatim as a second argument */

struct conf_ctx;
struct conf_directive;

/*
 * A custom parser: handle the arguments <argv>/<argc> of one line of the
 * directive <d>.  Return 0, or -1 after conf_error().
 */
typedef int conf_parse_f(struct conf_ctx *ctx, const struct conf_directive *d,
                         int argc, char **argv);

/* A STRING validator: return 0, or -1 after conf_error(). */
typedef int conf_check_f(struct conf_ctx *ctx, const char *value);

/* The ARG column: what one slot type needs beyond the field. */
struct conf_slot_arg {
    int min, max;               /* INT: allowed range */
    const char *values;         /* ENUM: space-separated names, 0.. */
    conf_check_f *check;        /* STRING: optional validator */
    conf_parse_f *parse;        /* CUSTOM: the parser */
};

/* One row of the directive table. */
struct conf_directive {
    const char *name;
    enum conf_slot slot;
    size_t offset;              /* of the field; 0 for CUSTOM */
    struct conf_slot_arg arg;
    const char *dflt;           /* config syntax; NULL: none */
    unsigned flags;             /* CONF_D_* */
    const char *syntax;
    const char *help;
};

extern const struct conf_directive conf_directives[];
extern const size_t conf_ndirectives;

/* One argument list kept for conf_dump() of a CUSTOM directive. */
struct conf_line {
    struct conf_line *next;
    const struct conf_directive *d;
    int argc;
    char **argv;
};

/* Where a directive was first seen (duplicate detection). */
struct conf_seen {
    const char *file;
    int line;
};

/* A snapshot with its private parts; struct conf comes first. */
struct conf_priv {
    struct conf pub;
    struct conf_line *lines, **lines_tail;
};

/* The state of one load. */
struct conf_ctx {
    struct conf *conf;
    struct conf_priv *priv;
    struct sk_arena *scratch;   /* per-line tokens; reset after each line */
    const char *file;           /* current file (in the conf arena) */
    int line;
    int depth;                  /* include nesting */
    const struct conf_directive *cur;   /* the directive being parsed */
    const bool *quoted;         /* per argument: it was a quoted string */
    bool defaults;              /* parsing table defaults, not the file */
    bool recorded;              /* the parser kept its own dump line */
    char *err;                  /* malloc'd reason without file:line */
    struct conf_seen *seen;     /* conf_ndirectives entries */
};

/* Set ctx->err to a malloc'd reason (the first error wins). */
int conf_error(struct conf_ctx *ctx, const char *fmt, ...) SK_PRINTF(2, 3);

/* Parse one directive's arguments through its slot or custom parser. */
int conf_slot_parse(struct conf_ctx *ctx, const struct conf_directive *d,
                    int argc, char **argv);

/* Keep <argv> (copied into the conf arena) for conf_dump(). */
void conf_record(struct conf_ctx *ctx, const struct conf_directive *d,
                 int argc, char **argv);

/* Write one scalar directive's value in config syntax (no newline). */
void conf_slot_dump(const struct conf *c, const struct conf_directive *d,
                    FILE *fp);

/* Write <s> as one config token, quoted when it has to be. */
void conf_write_token(FILE *fp, const char *s);

/* A growing argument vector in scratch memory. */
struct conf_vec {
    char **argv;                /* NULL-terminated */
    bool *quoted;
    int argc, cap;
};

/* Append <s> to <v>, growing it in the arena <a>. */
void conf_vec_push(struct sk_arena *a, struct conf_vec *v, char *s,
                   bool quoted);

/*
 * Read the values of a parameters-from-file argument: every line of
 * <path> that is neither blank nor a comment, trimmed, appended to <v>.
 * Return 0, or -1 after conf_error().
 */
int conf_read_values(struct conf_ctx *ctx, const char *path,
                     struct conf_vec *v);

/* Parse "30 seconds", "1.5 hours", "250 ms", "45" (seconds). */
int conf_parse_time(int argc, char **argv, sk_msec_t *out);

/* Parse "64 KB", "64KB", "1 MB", "512" (bytes). */
int conf_parse_size(int argc, char **argv, uint64_t *out);

/* Custom parsers named in conf_directives.def. */
conf_parse_f conf_parse_include;
conf_parse_f conf_parse_http_port;
conf_parse_f conf_parse_acl;
conf_parse_f conf_parse_http_access;
conf_parse_f conf_parse_outgoing;
conf_parse_f conf_parse_logformat;
conf_parse_f conf_parse_access_log;
conf_parse_f conf_parse_nameservers;
conf_parse_f conf_parse_socks_access;
conf_parse_f conf_parse_intercept_access;
conf_parse_f conf_parse_ssl_bump;
conf_parse_f conf_parse_on_unsupported_protocol;
conf_parse_f conf_parse_socks_auth_methods;
conf_parse_f conf_parse_spoof_client_ip;

/* STRING validators named in conf_directives.def. */
conf_check_f conf_check_debug_options;
conf_check_f conf_check_udp_advertise;
conf_check_f conf_check_intercept_backend;

/* Whether include and "/file" parameters may read files (fuzzing). */
extern bool conf_file_access;

#endif
