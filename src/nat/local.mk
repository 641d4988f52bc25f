# src/nat/: original-destination backends for intercepted connections
# (one file each; configure's HAVE_NAT_* decide which have a body), and
# the helper that installs the matching firewall rules.
libskua_a_SOURCES += \
	src/nat/nat.c \
	src/nat/nat.h \
	src/nat/nat_ipfw.c \
	src/nat/nat_netfilter.c \
	src/nat/nat_pf.c \
	src/nat/nat_tproxy.c

dist_sbin_SCRIPTS = helpers/skua-intercept
dist_doc_DATA += doc/interception.md

if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_nat
TESTS += test-suite/unit/test_nat
test_suite_unit_test_nat_SOURCES = test-suite/unit/test_nat.c \
	src/nat/nat.c src/nat/nat_ipfw.c src/nat/nat_netfilter.c \
	src/nat/nat_pf.c src/nat/nat_tproxy.c \
	lib/sk_common.c lib/sk_log.c lib/sk_str.c lib/sk_time.c
test_suite_unit_test_nat_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_nat_LDADD = $(CMOCKA_LIBS) $(SK_LIBS)
endif
