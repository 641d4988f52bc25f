"""Things going wrong mid-way, timeouts, concurrency, more acl types and
log formats."""

import json
import re
import socket
import subprocess
import time

import pytest

from harness import RawClient, access_rx, clean_env, curl, free_port


def purl(o, path):
    return "http://pyorigin.test:%d%s" % (o.port, path)


def nurl(n, path):
    return "http://origin.test:%d%s" % (n.port, path)


def get(port, u, method=b"GET", body=b""):
    with RawClient(port) as c:
        head = b"%s %s HTTP/1.1\r\nHost: x\r\n" % (method, u.encode())
        if body or method == b"POST":
            head += b"Content-Length: %d\r\n" % len(body)
        c.send(head + b"\r\n" + body)
        return c.read_response(method.decode())


def test_client_abort_mid_download(skua, nginx):
    u = nurl(nginx, "/1g.bin")
    c = RawClient(skua.port)
    c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % u.encode())
    r = c.read_head()
    assert r.status == 200, r
    got = len(c.buf)
    while got < (4 << 20):
        got += len(c.sock.recv(262144))
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                      b"\x01\x00\x00\x00\x00\x00\x00\x00")    # RST
    c.close()
    # skua carries on, logs the aborted transfer, and serves the next one.
    skua.wait_log(access_rx(r"TCP_\w+/200", "GET", u))
    r = get(skua.port, nurl(nginx, "/small.txt"))
    assert r.status == 200 and r.body == b"small file through skua\n"
    assert skua.alive()


def test_origin_truncates_body(skua, pyorigin):
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % purl(pyorigin, "/truncate").encode())
        r = c.read_head()
        assert r.status == 200, r
        body = c.read_to_eof()
    # The client must see the body cut short and the connection closed,
    # never a complete-looking response.
    if r.header("content-length") is not None:
        assert int(r.header("content-length")) == 100000
        assert len(body) < 100000
    else:
        assert not body.endswith(b"0\r\n\r\n"), (
            "skua ended a truncated body with a clean last chunk")
    assert skua.alive()


def test_stale_pooled_connection_is_not_used(skua, pyorigin):
    """The origin closes an idle keep-alive connection silently; the next
    request must still succeed (on a new connection)."""
    r = get(skua.port, purl(pyorigin, "/closeafter"))
    assert r.status == 200, r
    time.sleep(0.6)
    r = get(skua.port, purl(pyorigin, "/next"))
    assert r.status == 200 and r.body == b"ok /next\n", r
    assert pyorigin.connections == 2


def test_dns_timeout(skua_factory, tmp_path):
    s = skua_factory(extra="dns_timeout 2 seconds")
    u = "http://silent.test/"
    r = curl(s.proxy, u, tmpdir=str(tmp_path), timeout=40)
    assert r.code == 503, r
    assert r.headers.get("x-skua-error") == "ERR_DNS_FAIL", r.headers
    assert r.elapsed < 20, "answered after %.1fs" % r.elapsed
    s.wait_log(access_rx(r"\w+/503", "GET", u, hier=r"HIER_NONE/-"))


def test_client_idle_pconn_timeout(skua_factory, nginx):
    s = skua_factory(extra="client_idle_pconn_timeout 1 second")
    with RawClient(s.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % nurl(nginx, "/small.txt").encode())
        assert c.read_response().status == 200
        t0 = time.monotonic()
        assert c.closed_by_peer(timeout=8), "idle client kept open > 8s"
        assert time.monotonic() - t0 >= 0.5


def test_request_timeout(skua_factory, pyorigin):
    s = skua_factory(extra="request_timeout 1 second")
    with RawClient(s.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n"
               % purl(pyorigin, "/partial").encode())
        t0 = time.monotonic()
        rest = b""
        c.sock.settimeout(8)
        try:
            while True:
                part = c.sock.recv(65536)
                if not part:
                    break
                rest += part
        except socket.timeout:
            raise AssertionError("a half-sent request head kept the "
                                 "connection open > 8s")
        except ConnectionResetError:
            pass
        assert time.monotonic() - t0 < 8
    if rest:
        assert rest.startswith(b"HTTP/1.1 408"), rest[:200]
    assert not pyorigin.requests


def test_concurrent_clients(skua, nginx):
    n = 40
    urls = [nurl(nginx, "/1k.bin?c=%d" % i) for i in range(n)]
    args = ["curl", "-q", "-sS", "-Z", "--parallel-max", str(n), "-x",
            skua.proxy, "-w", "%{http_code} %{size_download}\n"]
    for u in urls:
        args += ["-o", "/dev/null", u]
    p = subprocess.run(args, capture_output=True, timeout=60,
                       env=clean_env())
    assert p.returncode == 0, p.stderr.decode()
    lines = p.stdout.decode().split("\n")
    results = [ln for ln in lines if ln]
    assert results == ["200 1024"] * n, results


def test_workers_2(skua_factory, nginx, tmp_path):
    s = skua_factory(extra="workers 2")
    for i in range(10):
        r = curl(s.proxy, nurl(nginx, "/small.txt"), tmpdir=str(tmp_path))
        assert r.code == 200 and r.body == b"small file through skua\n", r
    s.stop()


def test_acl_types(skua_factory, nginx, pyorigin):
    p2, p3 = free_port(), free_port()
    extra = "\n".join([
        "http_port 127.0.0.1:%d" % p2,
        "http_port 127.0.0.1:%d name=third" % p3,
        "acl second_port localport %d" % p2,
        "acl third_port myportname third",
        "acl posts method POST",
        "acl bins url_regex -i \\.BIN$",
        "acl py dstdom_regex ^py",
        "acl dests dst 127.0.0.1",
        "acl web proto HTTP",
    ])
    s = skua_factory(extra=extra, access=[
        "http_access deny second_port",
        "http_access deny third_port posts",
        "http_access deny bins",
        "http_access deny py posts",
        "http_access allow localhost dests web",
        "http_access deny all"])
    small = nurl(nginx, "/small.txt")
    assert get(s.port, small).status == 200
    assert get(p2, small).status == 403                 # localport
    assert get(p3, small).status == 200
    assert get(p3, purl(pyorigin, "/echo"), b"POST", b"x").status == 403
    assert get(s.port, nurl(nginx, "/1k.bin")).status == 403   # url_regex
    assert get(s.port, purl(pyorigin, "/echo"), b"POST",
               b"x").status == 403                      # dstdom_regex
    r = get(s.port, nurl(nginx, "/small.txt"), b"POST", b"x")
    assert r.status != 403, r                           # POST to origin.test
    assert get(s.port, purl(pyorigin, "/fine")).status == 200


def test_log_formats(skua_factory, nginx, tmp_path):
    w = tmp_path / "logs"
    w.mkdir()
    extra = "\n".join([
        "logformat mine %rm|%ru|%>Hs|%Ss",
        "access_log stdio:%s/common.log common" % w,
        "access_log stdio:%s/combined.log combined" % w,
        "access_log stdio:%s/json.log json" % w,
        "access_log stdio:%s/mine.log mine" % w,
    ])
    s = skua_factory(extra=extra)
    u = nurl(nginx, "/small.txt")
    r = curl(s.proxy, u, "-A", "itest-agent/1.0", "-e",
             "http://referer.test/", tmpdir=str(tmp_path))
    assert r.code == 200
    s.wait_log(access_rx(r"TCP_MISS/200", "GET", u))

    def first_line(name):
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                text = (w / name).read_text()
            except OSError:
                text = ""
            if text.strip():
                return text.splitlines()[0]
            time.sleep(0.05)
        raise AssertionError("%s stayed empty" % name)

    common = first_line("common.log")
    assert re.match(r'^127\.0\.0\.1 \S+ \S+ \[[^\]]+\] "GET %s HTTP/1\.1" '
                    r'200 \d+' % re.escape(u), common), common
    combined = first_line("combined.log")
    assert '"http://referer.test/"' in combined, combined
    assert '"itest-agent/1.0"' in combined, combined
    obj = json.loads(first_line("json.log"))
    assert isinstance(obj, dict)
    flat = json.dumps(obj)
    assert u in flat, obj
    assert first_line("mine.log") == "GET|%s|200|TCP_MISS" % u


@pytest.mark.timeout_s(60)
def test_many_sequential_connections(skua, nginx):
    """Bounded churn: 300 short connections; skua's fd use stays flat."""
    import os
    u = nurl(nginx, "/small.txt").encode()

    def fds():
        return len(os.listdir("/proc/%d/fd" % skua.pid))

    for _ in range(20):
        get(skua.port, u.decode())
    before = fds()
    for _ in range(300):
        with RawClient(skua.port) as c:
            c.send(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   b"\r\n" % u)
            r = c.read_response()
            assert r.status == 200
    time.sleep(0.5)
    after = fds()
    assert after <= before + 5, "fds grew from %d to %d" % (before, after)


def rst_close(c):
    """Close a RawClient with a reset instead of a FIN."""
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                      b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()


def still_serves(s, nginx):
    r = get(s.port, nurl(nginx, "/small.txt"))
    assert r.status == 200 and r.body == b"small file through skua\n", r
    assert s.alive()


def test_client_gone_during_dns(skua_factory, nginx):
    s = skua_factory(extra="dns_timeout 2 seconds")
    for how in ("fin", "rst"):
        c = RawClient(s.port)
        c.send(b"GET http://silent.test/%s HTTP/1.1\r\nHost: x\r\n\r\n"
               % how.encode())
        time.sleep(0.2)
        rst_close(c) if how == "rst" else c.close()
    time.sleep(3)                       # past dns_timeout
    still_serves(s, nginx)


def test_client_gone_while_origin_hangs(skua, nginx, pyorigin):
    c = RawClient(skua.port)
    c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
           % purl(pyorigin, "/hang").encode())
    pyorigin.wait_requests(1)
    rst_close(c)
    time.sleep(0.5)
    still_serves(skua, nginx)


def test_client_aborts_upload(skua, nginx, pyorigin):
    c = RawClient(skua.port)
    c.send(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n"
           b"\r\n" % purl(pyorigin, "/count").encode())
    c.send(b"u" * (1 << 20))
    time.sleep(0.3)
    rst_close(c)
    time.sleep(0.5)
    still_serves(skua, nginx)
    assert not pyorigin.requests, "an incomplete upload was completed"


def test_origin_resets_mid_response(skua, nginx, pyorigin):
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % purl(pyorigin, "/reset").encode())
        try:
            r = c.read_head()
            body = c.read_to_eof()
        except (ConnectionResetError, EOFError):
            r, body = None, b""
    if r is not None:
        assert r.status in (200, 502), r
        if r.status == 200:
            assert len(body) < 100000
    still_serves(skua, nginx)


def test_tunnel_client_reset(skua_factory, nginx):
    from pyorigin import EchoServer
    echo = EchoServer()
    try:
        s = skua_factory(ssl_ports=(echo.port,))
        c = RawClient(s.port)
        c.send(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n"
               % echo.port)
        assert c.read_response("CONNECT").status == 200
        c.send(b"x" * 100000)
        rst_close(c)
        time.sleep(0.5)
        still_serves(s, nginx)
    finally:
        echo.close()


def test_pipeline_with_error_in_middle(skua, nginx):
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET http://nx.test/ HTTP/1.1\r\nHost: nx.test\r\n\r\n"
               b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % (nurl(nginx, "/small.txt").encode(),
                  nurl(nginx, "/1k.bin").encode()))
        r1 = c.read_response()
        r2 = c.read_response()
        assert (r1.status, r2.status) == (200, 503), (r1, r2)
        assert r1.body == b"small file through skua\n"
        if (r2.header("connection") or "").lower() == "close":
            return                      # allowed: skua closes after errors
        r3 = c.read_response()
        assert r3.status == 200 and len(r3.body) == 1024, r3


def test_origin_bad_chunk_framing(skua, pyorigin):
    """A chunked body that turns to garbage mid-way ends the client's
    response early; skua survives and serves the next request."""
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % purl(pyorigin, "/badchunk").encode())
        r = c.read_head()
        assert r.status == 200, r
        body = c.read_to_eof()
    assert not body.endswith(b"0\r\n\r\n"), body
    time.sleep(0.3)
    assert skua.alive()
    r = get(skua.port, purl(pyorigin, "/204"))
    assert r.status == 204
