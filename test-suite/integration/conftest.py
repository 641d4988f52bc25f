"""Fixtures for the skua integration tests.

Session-wide: the skua binary ($SKUA_BIN), the DNS stub (origin.test,
pyorigin.test, tls.test, tunnel.test -> 127.0.0.1; silent.test is never
answered; NXDOMAIN otherwise) and
nginx (plain and TLS ports, generated document root).  Per test: a Python
origin with odd behaviours, and skua instances started from a generated
config and stopped (with exit-status and sanitizer checks) at teardown.
Every test also runs under a wall-clock limit (marker `timeout_s`).
"""

import os
import signal
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dnsstub import DnsStub                                    # noqa: E402
from harness import Skua, find_error_directory, tail           # noqa: E402
from nginxd import Nginx, find_nginx                           # noqa: E402
from pyorigin import PyOrigin                                  # noqa: E402

DEFAULT_TIMEOUT = 120
HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("srcdir") or os.path.join(HERE, "..", "..")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "timeout_s(n): fail the test after n seconds")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("timeout_s")
    limit = int(marker.args[0]) if marker else DEFAULT_TIMEOUT

    def expired(signum, frame):
        raise TimeoutError("test ran longer than %d seconds" % limit)

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="session")
def skua_bin():
    path = os.environ.get("SKUA_BIN")
    if not path:
        for cand in ("./skua", os.path.join(SRCDIR, "skua")):
            if os.access(cand, os.X_OK):
                path = cand
                break
    if not path or not os.access(path, os.X_OK):
        pytest.fail("set SKUA_BIN to the skua binary under test "
                    "(run.sh does it: ./skua in the build directory)")
    return os.path.abspath(path)


@pytest.fixture(scope="session")
def error_directory():
    return find_error_directory(SRCDIR)


@pytest.fixture(scope="session")
def dns():
    stub = DnsStub({
        "origin.test": {"A": ["127.0.0.1"]},
        "pyorigin.test": {"A": ["127.0.0.1"]},
        "tls.test": {"A": ["127.0.0.1"]},
        "tunnel.test": {"A": ["127.0.0.1"]},
    }, silent=("silent.test",))
    yield stub
    stub.close()


@pytest.fixture(scope="session")
def nginx(tmp_path_factory):
    if find_nginx() is None:
        pytest.skip("nginx is not installed (Debian: nginx-light)")
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI is not installed")
    n = Nginx(str(tmp_path_factory.mktemp("nginx")))
    yield n
    n.stop()


@pytest.fixture
def pyorigin():
    o = PyOrigin()
    yield o
    o.close()


@pytest.fixture
def skua_factory(skua_bin, dns, tmp_path, error_directory, request):
    """Return make(**conf) -> a started Skua (see harness.conf_text).

    Pass start=False to get it configured but not running.  Every instance
    is stopped at teardown; an unclean exit fails the test.
    """
    made = []

    def make(start=True, **conf):
        conf.setdefault("error_directory", error_directory)
        s = Skua(skua_bin, str(tmp_path / ("skua%d" % len(made))),
                 dns.port, **conf)
        made.append(s)
        s.write_conf()
        if start:
            s.start()
        return s

    yield make
    failures = []
    for s in made:
        try:
            s.stop()
        except AssertionError as e:
            failures.append(str(e))
        finally:
            print("=== skua %s: access.log ===\n%s\n=== cache.log ===\n%s"
                  % (s.workdir, tail(s.access_log), tail(s.cache_log)))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


@pytest.fixture
def skua(skua_factory, nginx):
    """A running skua with the default config (CONNECT to nginx TLS ok)."""
    return skua_factory(ssl_ports=(nginx.tls_port,))
