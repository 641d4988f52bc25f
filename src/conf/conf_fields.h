/*
 * conf_fields.h -- the scalar fields of struct conf, generated from
 * conf_directives.def.  conf.h includes this inside struct conf with
 * CONF_FIELD(name, ctype) defined; it emits one CONF_FIELD for each
 * directive whose FIELD column is GEN, typed by its slot.  Include it
 * nowhere else.
 */
#define CONF_CTYPE_FLAG bool
#define CONF_CTYPE_TIME sk_msec_t
#define CONF_CTYPE_SIZE uint64_t
#define CONF_CTYPE_INT int
#define CONF_CTYPE_STRING char *
#define CONF_CTYPE_ENUM int
#define CONF_GEN_GEN(name, slot) CONF_FIELD(name, CONF_CTYPE_##slot)
#define CONF_GEN_HAND(name, slot)
#define CONF_GEN_NONE(name, slot)
#define CONF_DIRECTIVE(name, slot, field, arg, dflt, flags, syntax, help) \
    CONF_GEN_##field(name, slot)
#include "conf/conf_directives.def"
#undef CONF_DIRECTIVE
#undef CONF_GEN_NONE
#undef CONF_GEN_HAND
#undef CONF_GEN_GEN
#undef CONF_CTYPE_ENUM
#undef CONF_CTYPE_STRING
#undef CONF_CTYPE_INT
#undef CONF_CTYPE_SIZE
#undef CONF_CTYPE_TIME
#undef CONF_CTYPE_FLAG
