"""Life cycle under load: reconfigure with a transfer in flight, a broken
config on reconfigure, SIGTERM with a transfer in flight, -k commands."""

import hashlib
import os
import re
import signal
import subprocess
import time

import pytest

from harness import (RawClient, access_rx, clean_env, connect_refused,
                     free_port, tail, wait_listening)

SIZE_20M = 20 << 20


def start_slow_download(proxy, u, out, rate="4M"):
    """curl <u> through <proxy> at <rate> bytes/s into <out>."""
    return subprocess.Popen(
        ["curl", "-q", "-sS", "-x", proxy, "--limit-rate", rate, "-o", out,
         "-w", "%{http_code} %{size_download}", "--max-time", "60", u],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=clean_env())


def finish_download(p, out, want_sha, timeout=60):
    try:
        stdout, stderr = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        stdout, stderr = p.communicate()
        raise AssertionError("download did not finish")
    assert p.returncode == 0, "curl failed (%d): %s" % (p.returncode,
                                                        stderr.decode())
    code, size = stdout.decode().split()
    assert code == "200", stdout
    assert int(size) == SIZE_20M, "got %s bytes, want %d" % (size, SIZE_20M)
    with open(out, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == want_sha


def wait_progress(path, minimum, proc, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path) and os.path.getsize(path) >= minimum:
            return
        assert proc.poll() is None, "download ended early: %r" % (
            proc.communicate(),)
        time.sleep(0.05)
    raise AssertionError("download made no progress")


def get_ok(port, u, expect_body=None):
    with RawClient(port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % u.encode())
        r = c.read_response()
    assert r.status == 200, r
    if expect_body is not None:
        assert r.body == expect_body
    return r


@pytest.mark.timeout_s(90)
def test_reconfigure_during_download(skua, nginx, tmp_path):
    u = "http://origin.test:%d/20m.bin" % nginx.port
    small = "http://origin.test:%d/small.txt" % nginx.port
    out = str(tmp_path / "dl")
    p = start_slow_download(skua.proxy, u, out)
    try:
        wait_progress(out, 2 << 20, p)
        port2 = free_port()
        skua.write_conf(extra_ports=(port2,))
        rc = skua.ctl("reconfigure")
        assert rc.returncode == 0, rc.stderr.decode()
        assert wait_listening(port2, timeout=10), (
            "the new http_port 127.0.0.1:%d is not listening after "
            "reconfigure\n%s" % (port2, tail(skua.cache_log)))
        get_ok(port2, small, b"small file through skua\n")
        get_ok(skua.port, small, b"small file through skua\n")
        assert p.poll() is None, "the download ended during reconfigure"
    finally:
        finish_download(p, out, nginx.sums["20m.bin"])
    skua.wait_log(access_rx(r"TCP_MISS/200", "GET", u))
    assert skua.alive()


@pytest.mark.timeout_s(60)
def test_reconfigure_applies_new_rules(skua, nginx):
    small = "http://origin.test:%d/small.txt" % nginx.port
    get_ok(skua.port, small)
    skua.write_conf(access=["http_access deny all"])
    assert skua.ctl("reconfigure").returncode == 0
    end = time.monotonic() + 10
    while time.monotonic() < end:
        with RawClient(skua.port) as c:
            c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % small.encode())
            if c.read_response().status == 403:
                return
        time.sleep(0.2)
    raise AssertionError("new http_access rules not applied after "
                         "reconfigure")


@pytest.mark.timeout_s(60)
def test_reconfigure_broken_config_keeps_old(skua, nginx):
    small = "http://origin.test:%d/small.txt" % nginx.port
    good = open(skua.conf_path).read()
    lines = good.splitlines()
    lines.insert(3, "no_such_directive here")
    # Would deny everything if it were (wrongly) half-applied.
    lines.append("http_access deny all")
    skua.write_conf(text="\n".join(lines) + "\n")
    rc = skua.ctl("reconfigure")
    time.sleep(1.0)
    assert skua.alive(), "skua died on a broken reconfigure:\n" + tail(
        skua.stderr_path)
    get_ok(skua.port, small, b"small file through skua\n")
    # The error was reported with its place, by -k or by the instance.
    said = rc.stderr.decode("utf-8", "replace") + tail(skua.stderr_path) + \
        tail(skua.cache_log)
    assert re.search(r"skua\.conf:4: \S", said), said[-3000:]
    skua.write_conf(text=good)          # leave a good config for teardown


@pytest.mark.timeout_s(90)
def test_sigterm_lets_transfer_finish(skua_factory, nginx, tmp_path):
    s = skua_factory(ssl_ports=(nginx.tls_port,), shutdown_lifetime=30)
    u = "http://origin.test:%d/20m.bin" % nginx.port
    out = str(tmp_path / "dl")
    p = start_slow_download(s.proxy, u, out, rate="5M")
    try:
        wait_progress(out, 2 << 20, p)
        t0 = time.monotonic()
        os.kill(s.pid, signal.SIGTERM)
        end = t0 + 5
        while not connect_refused(s.port):
            assert time.monotonic() < end, (
                "skua still accepts connections 5s after SIGTERM")
            time.sleep(0.1)
        assert p.poll() is None, "the transfer was cut at SIGTERM"
    finally:
        finish_download(p, out, nginx.sums["20m.bin"])
    rc = s.wait_exit(15)
    assert rc is not None, "skua did not exit after its last transfer"
    assert time.monotonic() - t0 < 28, "skua waited for shutdown_lifetime"
    assert rc == 0, "exit status %d" % rc
    s.wait_log(access_rx(r"TCP_MISS/200", "GET", u))


@pytest.mark.timeout_s(60)
def test_k_check_and_shutdown(skua, nginx):
    rc = skua.ctl("check")
    assert rc.returncode == 0, rc.stderr.decode()
    with open(skua.pid_file) as f:
        assert int(f.read().split()[0]) == skua.pid
    rc = skua.ctl("shutdown")
    assert rc.returncode == 0, rc.stderr.decode()
    status = skua.wait_exit(20)
    assert status == 0, "skua -k shutdown: exit status %r" % status
    rc = skua.ctl("check")
    assert rc.returncode != 0, "-k check succeeds with no instance running"


@pytest.mark.timeout_s(60)
def test_k_rotate_keeps_logging(skua, nginx):
    before = "http://origin.test:%d/small.txt" % nginx.port
    after = "http://origin.test:%d/1k.bin" % nginx.port
    get_ok(skua.port, before)
    skua.wait_log(access_rx(r"\w+/200", "GET", before))
    os.rename(skua.access_log, skua.access_log + ".old")
    rc = skua.ctl("rotate")
    assert rc.returncode == 0, rc.stderr.decode()
    time.sleep(0.5)
    get_ok(skua.port, after)
    skua.wait_log(access_rx(r"\w+/200", "GET", after))
    assert skua.alive()


@pytest.mark.timeout_s(60)
def test_idle_client_does_not_delay_shutdown(skua_factory, nginx):
    s = skua_factory(ssl_ports=(nginx.tls_port,), shutdown_lifetime=20)
    c = RawClient(s.port)
    try:
        c.send(b"GET http://origin.test:%d/small.txt HTTP/1.1\r\n"
               b"Host: x\r\n\r\n" % nginx.port)
        assert c.read_response().status == 200
        t0 = time.monotonic()
        os.kill(s.pid, signal.SIGTERM)
        rc = s.wait_exit(25)
        assert rc == 0, "exit status %r" % rc
        assert time.monotonic() - t0 < 10, (
            "an idle keep-alive connection held shutdown for %.1fs"
            % (time.monotonic() - t0))
    finally:
        c.close()


@pytest.mark.timeout_s(90)
def test_repeated_reconfigure_under_load(skua, nginx):
    """Ten reconfigures while a client keeps fetching: every request
    succeeds and skua stays up."""
    import threading
    small = "http://origin.test:%d/small.txt" % nginx.port
    failures = []
    done = threading.Event()
    count = [0]

    def client():
        while not done.is_set() and count[0] < 2000:
            try:
                with RawClient(skua.port) as c:
                    for _ in range(5):
                        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
                               % small.encode())
                        r = c.read_response()
                        if r.status != 200:
                            failures.append(r)
                        count[0] += 1
            except (OSError, EOFError) as e:
                failures.append(repr(e))

    t = threading.Thread(target=client)
    t.start()
    try:
        for i in range(10):
            skua.write_conf(extra="visible_hostname skua-test-%d" % i)
            assert skua.ctl("reconfigure").returncode == 0
            time.sleep(0.3)
    finally:
        done.set()
        t.join(30)
    assert skua.alive()
    assert not failures, "%d failures, first: %r" % (len(failures),
                                                     failures[:3])
    assert count[0] > 20


@pytest.mark.timeout_s(60)
def test_sigterm_with_hanging_origin(skua_factory, pyorigin):
    """A request stuck on a silent origin does not hold skua past
    shutdown_lifetime."""
    s = skua_factory(shutdown_lifetime=2)
    c = RawClient(s.port)
    try:
        c.send(b"GET http://pyorigin.test:%d/hang HTTP/1.1\r\nHost: x\r\n"
               b"\r\n" % pyorigin.port)
        pyorigin.wait_requests(1)
        t0 = time.monotonic()
        os.kill(s.pid, signal.SIGTERM)
        rc = s.wait_exit(20)
        assert rc is not None, "skua still running 20s after SIGTERM"
        assert rc == 0, "exit status %d" % rc
        assert time.monotonic() - t0 < 12
    finally:
        c.close()


@pytest.mark.timeout_s(60)
def test_reconfigure_removes_a_middle_port(skua, nginx):
    """Removing a port listed between two kept ones closes exactly that
    one; the kept ones keep serving (a listener kept across a reload is in
    two generations at once)."""
    small = "http://origin.test:%d/small.txt" % nginx.port
    a, b = free_port(), free_port()
    skua.write_conf(extra_ports=(a, b))
    assert skua.ctl("reconfigure").returncode == 0
    for port in (a, b):
        assert wait_listening(port, timeout=10), tail(skua.cache_log)
    skua.write_conf(extra_ports=(b,))
    assert skua.ctl("reconfigure").returncode == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not connect_refused(a):
        time.sleep(0.1)
    assert connect_refused(a), "removed http_port %d still accepts" % a
    for _ in range(3):      # several reloads with the same kept ports
        assert skua.ctl("reconfigure").returncode == 0
    time.sleep(0.5)
    get_ok(b, small, b"small file through skua\n")
    get_ok(skua.port, small, b"small file through skua\n")
    assert skua.alive()
