# src/dns/: the resolver (c-ares on the worker's event loop, shared answer
# cache, hosts file).
libskua_a_SOURCES += \
	src/dns/dns.c \
	src/dns/dns.h \
	src/dns/dns_cache.c \
	src/dns/dns_hosts.c \
	src/dns/dns_impl.h

if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_dns
TESTS += test-suite/unit/test_dns
test_suite_unit_test_dns_SOURCES = test-suite/unit/test_dns.c \
	src/dns/dns_cache.c src/dns/dns_hosts.c \
	lib/sk_common.c lib/sk_log.c lib/sk_str.c lib/sk_time.c
test_suite_unit_test_dns_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_dns_LDADD = $(CMOCKA_LIBS) $(SK_LIBS)

check_PROGRAMS += test-suite/unit/test_comm_connect
TESTS += test-suite/unit/test_comm_connect
test_suite_unit_test_comm_connect_SOURCES = \
	test-suite/unit/test_comm_connect.c src/comm/comm_connect.c \
	lib/sk_common.c lib/sk_log.c lib/sk_str.c lib/sk_time.c
test_suite_unit_test_comm_connect_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_comm_connect_LDADD = $(CMOCKA_LIBS) $(SK_LIBS)
endif

# A hand-run check of the real c-ares and connect paths (needs loopback
# only); built by `make check`, never run by it.
check_PROGRAMS += src/dns/dns_probe
src_dns_dns_probe_SOURCES = src/dns/dns_probe.c src/dns/dns.c \
	src/dns/dns_cache.c src/dns/dns_hosts.c src/comm/comm_connect.c \
	lib/sk_common.c lib/sk_log.c lib/sk_str.c lib/sk_time.c
src_dns_dns_probe_LDADD = $(SK_LIBS)
