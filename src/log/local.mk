# src/log/: the access log (Squid's formats, logformat, JSON) and its
# destinations.
libskua_a_SOURCES += \
	src/log/access_log.c \
	src/log/access_log.h \
	src/log/log_format.c \
	src/log/log_int.h \
	src/log/log_json.c

if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_access_log
TESTS += test-suite/unit/test_access_log
test_suite_unit_test_access_log_SOURCES = test-suite/unit/test_access_log.c \
	test-suite/unit/mock_acl_check.c \
	src/log/access_log.c src/log/log_format.c src/log/log_json.c \
	lib/sk_common.c lib/sk_log.c lib/sk_str.c
# The stub comes after the real include path: src/conf/conf_fields.h wins
# once it exists.
test_suite_unit_test_access_log_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/test-suite/unit/stub
test_suite_unit_test_access_log_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_access_log_LDADD = $(CMOCKA_LIBS) $(SK_LIBS)
endif
