# src/acl/: Squid-style acls and allow/deny access lists.
libskua_a_SOURCES += \
	src/acl/acl.c \
	src/acl/acl.h \
	src/acl/acl_impl.h \
	src/acl/acl_ip.c \
	src/acl/acl_types.c

EXTRA_DIST += test-suite/unit/stub/conf/conf_fields.h

if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_acl
TESTS += test-suite/unit/test_acl
test_suite_unit_test_acl_SOURCES = test-suite/unit/test_acl.c \
	src/acl/acl.c src/acl/acl_ip.c src/acl/acl_types.c \
	lib/sk_arena.c lib/sk_common.c lib/sk_log.c lib/sk_str.c
# The stub comes after the real include path: src/conf/conf_fields.h wins
# once it exists.
test_suite_unit_test_acl_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/test-suite/unit/stub
test_suite_unit_test_acl_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_acl_LDADD = $(CMOCKA_LIBS) $(SK_LIBS)
endif
