"""A real browser: headless Chromium loads pages through skua.

Chromium resolves nothing itself (--host-resolver-rules maps every name to
NOTFOUND), and loopback is not bypassed (<-loopback>), so every request
goes to skua, which resolves origin.test through the DNS stub.
"""

import os
import shutil
import signal
import subprocess

import pytest

from harness import access_rx, clean_env
from nginxd import MARKER

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


@pytest.fixture(scope="module")
def chromium():
    for cand in CHROMIUM_CANDIDATES + (shutil.which("chromium") or "",):
        if cand and os.access(cand, os.X_OK):
            return cand
    pytest.skip("chromium is not installed (Debian: chromium)")


def run_chromium(binary, proxy_port, target, tmp_path, extra=(),
                 timeout=90):
    profile = tmp_path / "profile"
    home = tmp_path / "home"
    profile.mkdir(exist_ok=True)
    home.mkdir(exist_ok=True)
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-dev-shm-usage",
           "--disable-extensions", "--disable-default-apps",
           "--no-default-browser-check", "--metrics-recording-only",
           "--disable-client-side-phishing-detection",
           "--disable-features=MediaRouter,OptimizationHints,Translate,"
           "NetworkTimeServiceQuerying,AutofillServerCommunication,"
           "CertificateTransparencyComponentUpdater",
           "--user-data-dir=%s" % profile,
           "--proxy-server=http://127.0.0.1:%d" % proxy_port,
           "--proxy-bypass-list=<-loopback>",
           "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
           "--virtual-time-budget=5000"] + list(extra) + \
        ["--dump-dom", target]
    env = clean_env(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                    XDG_CACHE_HOME=str(home / ".cache"))
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)    # our own session: chromium
        out, err = p.communicate()          # and its helpers
        raise AssertionError("chromium did not finish in %ds:\n%s"
                             % (timeout, err.decode()[-3000:]))
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)    # leftover helpers, if any
        except ProcessLookupError:
            pass
    return p.returncode, out.decode("utf-8", "replace"), \
        err.decode("utf-8", "replace")


@pytest.mark.timeout_s(150)
def test_chromium_loads_page_through_proxy(chromium, skua, nginx, tmp_path):
    page = "http://origin.test:%d/page.html" % nginx.port
    rc, dom, err = run_chromium(chromium, skua.port, page, tmp_path)
    assert MARKER in dom, "page not loaded (rc %d):\nDOM: %s\nstderr: %s" % (
        rc, dom[:2000], err[-3000:])
    assert "script-ran-through-proxy" in dom, (
        "the page's script (a second request) did not load: %s" % dom)
    skua.wait_log(access_rx(r"TCP_\w+/200", "GET", page,
                            hier=r"HIER_DIRECT/127\.0\.0\.1",
                            mime=r"text/html\S*"))
    skua.wait_log(access_rx(r"TCP_\w+/200", "GET",
                            "http://origin.test:%d/app.js" % nginx.port))


@pytest.mark.timeout_s(150)
def test_chromium_https_through_connect(chromium, skua, nginx, tmp_path):
    page = "https://127.0.0.1:%d/page.html" % nginx.tls_port
    rc, dom, err = run_chromium(chromium, skua.port, page, tmp_path,
                                extra=("--ignore-certificate-errors",))
    assert MARKER in dom, "page not loaded (rc %d):\nDOM: %s\nstderr: %s" % (
        rc, dom[:2000], err[-3000:])
    skua.wait_log(access_rx(r"TCP_TUNNEL/200", "CONNECT",
                            "127.0.0.1:%d" % nginx.tls_port))


@pytest.mark.timeout_s(150)
def test_chromium_shows_error_page(chromium, skua, tmp_path):
    page = "http://nx.test/"
    rc, dom, err = run_chromium(chromium, skua.port, page, tmp_path)
    assert "ERR_DNS_FAIL" in dom or "nx.test" in dom, (
        "skua's error page was not shown:\n%s\n%s" % (dom[:2000],
                                                      err[-2000:]))
    skua.wait_log(access_rx(r"\w+/503", "GET", page))
