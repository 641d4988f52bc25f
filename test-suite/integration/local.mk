# integration tests (pytest): the real skua binary driven by curl, raw
# sockets and headless chromium against nginx and a Python origin on
# loopback.  See test-suite/integration/README.md.
TESTS += test-suite/integration/run.sh
EXTRA_DIST += test-suite/integration/run.sh \
	test-suite/integration/README.md \
	test-suite/integration/pytest.ini \
	test-suite/integration/conftest.py \
	test-suite/integration/dnsstub.py \
	test-suite/integration/harness.py \
	test-suite/integration/netns.py \
	test-suite/integration/nginxd.py \
	test-suite/integration/pyorigin.py \
	test-suite/integration/test_00_harness.py \
	test-suite/integration/test_01_parse.py \
	test-suite/integration/test_10_forward.py \
	test-suite/integration/test_20_connect.py \
	test-suite/integration/test_30_errors.py \
	test-suite/integration/test_35_robustness.py \
	test-suite/integration/test_40_reconfigure.py \
	test-suite/integration/test_50_browser.py \
	test-suite/integration/test_60_large.py \
	test-suite/integration/test_80_intercept.py \
	test-suite/integration/test_81_intercept_udp.py \
	test-suite/integration/test_82_intercept_tls_tcp.py \
	test-suite/integration/test_70_socks.py \
	test-suite/integration/test_71_socks_udp.py
