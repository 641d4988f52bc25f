# src/auth/: checking user names and passwords (htpasswd files; helper
# backends later).
libskua_a_SOURCES += \
	src/auth/auth.c \
	src/auth/auth.h \
	src/auth/auth_hash.c \
	src/auth/auth_passwd.c

if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_auth
TESTS += test-suite/unit/test_auth
test_suite_unit_test_auth_SOURCES = test-suite/unit/test_auth.c \
	src/auth/auth.c src/auth/auth_hash.c src/auth/auth_passwd.c \
	lib/sk_common.c lib/sk_log.c
test_suite_unit_test_auth_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSK_TEST_SRCDIR='"$(abs_top_srcdir)"'
test_suite_unit_test_auth_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_auth_LDADD = $(CMOCKA_LIBS) $(SK_LIBS)
endif
EXTRA_DIST += $(AUTH_TEST_FILES)
AUTH_TEST_FILES = \
	test-suite/unit/auth/good.htpasswd
