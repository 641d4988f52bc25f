# test-suite/check/: STYLE.md's mechanical checks, run by `make check`.
TESTS += test-suite/check/check_style.sh
EXTRA_DIST += test-suite/check/check_style.sh \
	test-suite/check/size-exceptions \
	src/proto/.may_include src/comm/.may_include src/conf/.may_include \
	src/acl/.may_include src/dns/.may_include src/log/.may_include \
	src/nat/.may_include src/http/.may_include src/socks/.may_include \
	src/main/.may_include src/auth/.may_include src/tunnel/.may_include \
	src/udp/.may_include
