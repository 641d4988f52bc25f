# src/udp/: transparent UDP interception (udp_port PORT tproxy): flows of
# datagrams relayed to their original destinations.
libskua_a_SOURCES += \
	src/udp/udp_flow.c \
	src/udp/udp_flow.h \
	src/udp/udp_tproxy.c

if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_udp_flow
TESTS += test-suite/unit/test_udp_flow
test_suite_unit_test_udp_flow_SOURCES = test-suite/unit/test_udp_flow.c \
	src/udp/udp_flow.c
test_suite_unit_test_udp_flow_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_udp_flow_LDADD = $(CMOCKA_LIBS)
endif
