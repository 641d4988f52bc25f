# src/conf/: the configuration language and the directive table.
# conf_directives.def is the one definition of every directive; the
# documents in doc/ are generated from it by src/conf/conf_doc (doc/local.mk).
libskua_a_SOURCES += \
	src/conf/conf.c \
	src/conf/conf_custom.c \
	src/conf/conf_doc.c \
	src/conf/conf_slots.c \
	src/conf/conf.h \
	src/conf/conf_directives.def \
	src/conf/conf_fields.h \
	src/conf/conf_int.h

# Build-time program that writes the directive reference (doc/local.mk).
noinst_PROGRAMS += src/conf/conf_doc
src_conf_conf_doc_SOURCES = src/conf/conf_doc_main.c src/conf/conf_doc.c

# Bad configurations and the error each must produce, checked through
# `skua -k parse` (test-suite/conf/check.sh).
TESTS += test-suite/conf/check.sh
EXTRA_DIST += test-suite/conf/check.sh $(CONF_TEST_CASES)
CONF_TEST_CASES = \
	test-suite/conf/bad_access_log_format.conf \
	test-suite/conf/bad_access_log_format.expect \
	test-suite/conf/bad_acl_undefined.conf \
	test-suite/conf/bad_acl_undefined.expect \
	test-suite/conf/bad_debug_options.conf \
	test-suite/conf/bad_debug_options.expect \
	test-suite/conf/bad_duplicate.conf \
	test-suite/conf/bad_duplicate.expect \
	test-suite/conf/bad_flag.conf \
	test-suite/conf/bad_flag.expect \
	test-suite/conf/bad_forwarded_for.conf \
	test-suite/conf/bad_forwarded_for.expect \
	test-suite/conf/bad_http_port_addr.conf \
	test-suite/conf/bad_http_port_addr.expect \
	test-suite/conf/bad_http_port_option.conf \
	test-suite/conf/bad_http_port_option.expect \
	test-suite/conf/bad_http_port_unknown.conf \
	test-suite/conf/bad_http_port_unknown.expect \
	test-suite/conf/bad_include_error.conf \
	test-suite/conf/bad_include_error.expect \
	test-suite/conf/bad_include_missing.conf \
	test-suite/conf/bad_include_missing.expect \
	test-suite/conf/bad_logformat_builtin.conf \
	test-suite/conf/bad_logformat_builtin.expect \
	test-suite/conf/bad_quote.conf \
	test-suite/conf/bad_quote.expect \
	test-suite/conf/bad_size.conf \
	test-suite/conf/bad_size.expect \
	test-suite/conf/bad_time.conf \
	test-suite/conf/bad_time.expect \
	test-suite/conf/bad_unknown.conf \
	test-suite/conf/bad_unknown.expect \
	test-suite/conf/bad_udp_port_intercept.conf \
	test-suite/conf/bad_udp_port_intercept.expect \
	test-suite/conf/bad_udp_port_no_tproxy.conf \
	test-suite/conf/bad_udp_port_no_tproxy.expect \
	test-suite/conf/bad_values_file.conf \
	test-suite/conf/bad_values_file.expect \
	test-suite/conf/bad_https_port_plain.conf \
	test-suite/conf/bad_https_port_plain.expect \
	test-suite/conf/bad_ssl_bump_bump.conf \
	test-suite/conf/bad_ssl_bump_bump.expect \
	test-suite/conf/bad_ssl_bump_action.conf \
	test-suite/conf/bad_ssl_bump_action.expect \
	test-suite/conf/bad_tcp_port_both.conf \
	test-suite/conf/bad_tcp_port_both.expect \
	test-suite/conf/bad_at_step.conf \
	test-suite/conf/bad_at_step.expect \
	test-suite/conf/bad_app_proto.conf \
	test-suite/conf/bad_app_proto.expect \
	test-suite/conf/good_intercept_tls_tcp.conf \
	test-suite/conf/good_full.conf \
	test-suite/conf/include.d/bad.inc \
	test-suite/conf/include.d/good.inc

if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_conf
TESTS += test-suite/unit/test_conf
test_suite_unit_test_conf_SOURCES = test-suite/unit/test_conf.c \
	src/conf/conf.c src/conf/conf_custom.c src/conf/conf_doc.c \
	src/conf/conf_slots.c \
	test-suite/unit/mock_acl.c test-suite/unit/mock_log_format.c \
	lib/sk_arena.c lib/sk_common.c lib/sk_log.c lib/sk_str.c
test_suite_unit_test_conf_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSK_TEST_SRCDIR='"$(abs_top_srcdir)"'
test_suite_unit_test_conf_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_conf_LDADD = $(CMOCKA_LIBS) $(SK_LIBS)
endif

# Fuzzing the parser (pattern: top of test-suite/fuzz/local.mk).  The
# harness turns file access off, so include and "/path" read nothing.
if ENABLE_FUZZING
noinst_PROGRAMS += test-suite/fuzz/fuzz_conf
else
check_PROGRAMS += test-suite/fuzz/fuzz_conf
endif
test_suite_fuzz_fuzz_conf_SOURCES = test-suite/fuzz/fuzz_conf.c \
	$(FUZZ_DRIVER)
test_suite_fuzz_fuzz_conf_CPPFLAGS = $(FUZZ_CPPDEFS)
test_suite_fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LINKFLAGS)
test_suite_fuzz_fuzz_conf_LDADD = libskua.a $(SK_LIBS)
EXTRA_DIST += test-suite/fuzz/corpus/fuzz_conf
