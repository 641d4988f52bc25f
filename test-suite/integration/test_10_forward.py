"""Plain HTTP forwarding with curl and raw sockets.

Origins: nginx (origin.test) for well-formed static content and its
per-connection request log, the Python origin (pyorigin.test) to see
exactly what skua forwarded and to send odd responses.
"""

import hashlib
import os
import subprocess

import pytest

from harness import (RawClient, VISIBLE_HOSTNAME, access_rx, clean_env,
                     curl)
from pyorigin import CHUNKED_BODY, CLOSE_BODY


def url(server, path, host=None):
    name = host or ("origin.test" if hasattr(server, "tls_port")
                    else "pyorigin.test")
    return "http://%s:%d%s" % (name, server.port, path)


def test_get(skua, nginx, tmp_path):
    u = url(nginx, "/small.txt")
    r = curl(skua.proxy, u, tmpdir=str(tmp_path))
    assert r.rc == 0 and r.code == 200, r
    assert r.body == b"small file through skua\n"
    m = skua.wait_log(access_rx(r"TCP_MISS/200", "GET", u,
                                hier=r"HIER_DIRECT/127\.0\.0\.1",
                                mime=r"text/plain\S*"))
    assert int(m.group("bytes")) > len(r.body)


def test_get_20m_exact(skua, nginx, tmp_path):
    out = str(tmp_path / "20m")
    r = curl(skua.proxy, url(nginx, "/20m.bin"), tmpdir=str(tmp_path),
             body_file=out)
    assert r.rc == 0 and r.code == 200, r
    with open(out, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == nginx.sums["20m.bin"]


def test_query_string_preserved(skua, nginx, tmp_path):
    path = "/small.txt?a=%20b&c=d%2Fe&empty="
    r = curl(skua.proxy, url(nginx, path), tmpdir=str(tmp_path))
    assert r.code == 200, r
    e = nginx.requests_matching("c=d%2Fe")
    assert e and e[0]["request"] == "GET %s HTTP/1.1" % path, e


def test_head(skua, nginx, tmp_path):
    r = curl(skua.proxy, url(nginx, "/small.txt"), "-I",
             tmpdir=str(tmp_path))
    assert r.rc == 0 and r.code == 200, r
    assert r.headers.get("content-length") == "24", r.headers
    skua.wait_log(access_rx(r"TCP_\w+/200", "HEAD",
                            url(nginx, "/small.txt")))


def test_head_then_get_on_one_connection(skua, pyorigin):
    """A HEAD answer carries Content-Length but no body: skua must not wait
    for one, and the next response on the connection must be intact."""
    u = url(pyorigin, "/headcl")
    with RawClient(skua.port) as c:
        c.send(b"HEAD %s HTTP/1.1\r\nHost: x\r\n\r\n" % u.encode())
        r = c.read_response("HEAD")
        assert r.status == 200 and r.header("content-length") == "5000", r
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % u.encode())
        r = c.read_response()
        assert r.status == 200 and r.body == b"h" * 5000, r


def test_post_body_echoed(skua, pyorigin, tmp_path):
    data = os.urandom(100000)
    src = tmp_path / "post.bin"
    src.write_bytes(data)
    r = curl(skua.proxy, url(pyorigin, "/echo"), "--data-binary",
             "@%s" % src, "-H", "Content-Type: application/octet-stream",
             tmpdir=str(tmp_path))
    assert r.code == 200, r
    assert r.body == data
    req = pyorigin.last()
    assert req.method == "POST" and req.body_len == len(data), req
    assert req.body == data
    skua.wait_log(access_rx(r"TCP_MISS/200", "POST", url(pyorigin, "/echo"),
                            hier=r"HIER_DIRECT/127\.0\.0\.1"))


def test_chunked_upload_intact(skua, pyorigin, tmp_path):
    data = os.urandom(300000)
    src = tmp_path / "chunked.bin"
    src.write_bytes(data)
    r = curl(skua.proxy, url(pyorigin, "/count"), "-H",
             "Transfer-Encoding: chunked", "--data-binary", "@%s" % src,
             tmpdir=str(tmp_path))
    assert r.code == 200, r
    want = b"%d %s\n" % (len(data), hashlib.sha256(data).hexdigest().encode())
    assert r.body == want
    req = pyorigin.last()
    assert req.body_len == len(data)
    # Whatever framing skua chose, exactly one of them.
    assert req.chunked != req.has("content-length"), req


def test_upstream_keepalive(skua, nginx):
    """Two URLs in one curl run reuse the client connection, and skua reuses
    its connection to nginx (seen in nginx's $connection)."""
    u1 = url(nginx, "/small.txt?ka=first")
    u2 = url(nginx, "/1k.bin?ka=second")
    p = subprocess.run(
        ["curl", "-q", "-sS", "-x", skua.proxy, "-o", "/dev/null", "-o",
         "/dev/null", "-w", "%{http_code} %{num_connects}\n", u1, u2],
        capture_output=True, timeout=30, env=clean_env())
    assert p.returncode == 0, p.stderr
    codes = p.stdout.decode().split()
    assert codes == ["200", "1", "200", "0"], (
        "status/new-connection pairs: %r (the second request should reuse "
        "the client connection)" % codes)
    e1 = nginx.requests_matching("ka=first")
    e2 = nginx.requests_matching("ka=second")
    assert e1 and e2, nginx.log_lines()[-5:]
    assert e1[0]["conn"] == e2[0]["conn"], (
        "skua opened a new upstream connection for the second request: "
        "%r %r" % (e1, e2))
    assert e2[0]["nreq"] == e1[0]["nreq"] + 1


def test_absolute_uri_and_host(skua, pyorigin):
    u = url(pyorigin, "/host?x=1")
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: wrong.example\r\n"
               b"X-Test-Case: abs\r\n\r\n" % u.encode())
        r = c.read_response()
    assert r.status == 200, r
    req = pyorigin.last()
    assert req.target == "/host?x=1", "origin got %r" % req.target
    assert req.header("host") == "pyorigin.test:%d" % pyorigin.port, req
    assert len([1 for n, _ in req.headers if n.lower() == "host"]) == 1
    assert req.header("x-test-case") == "abs"


def test_scheme_and_host_case_insensitive(skua, pyorigin):
    u = "HTTP://PyOrigin.TEST:%d/case" % pyorigin.port
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % u.encode())
        r = c.read_response()
    assert r.status == 200, r
    req = pyorigin.last()
    assert req.target == "/case"
    assert req.header("host").lower() == "pyorigin.test:%d" % pyorigin.port


def test_via_and_xff(skua, pyorigin):
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % url(pyorigin, "/plain").encode())
        assert c.read_response().status == 200
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\nVia: 1.0 upstream-a\r\n"
               b"X-Forwarded-For: 192.0.2.7\r\n\r\n"
               % url(pyorigin, "/chain").encode())
        assert c.read_response().status == 200
    plain, chain = pyorigin.wait_requests(2)
    assert plain.header("via", "").startswith(
        "1.1 %s (skua/" % VISIBLE_HOSTNAME), plain.headers
    assert plain.header("x-forwarded-for") == "127.0.0.1", plain.headers
    via = [v.strip() for v in chain.header("via").split(",")]
    assert via[0] == "1.0 upstream-a", via
    assert via[-1].startswith("1.1 %s (skua/" % VISIBLE_HOSTNAME), via
    assert chain.header("x-forwarded-for").replace(" ", "") == \
        "192.0.2.7,127.0.0.1", chain.headers


def test_via_seen_by_nginx(skua, nginx, tmp_path):
    r = curl(skua.proxy, url(nginx, "/small.txt?via=1"),
             tmpdir=str(tmp_path))
    assert r.code == 200
    e = nginx.requests_matching("via=1")
    assert e and "%s (skua/" % VISIBLE_HOSTNAME in e[0]["via"], e
    assert e[0]["xff"] == "127.0.0.1"


FWD = [
    ("on", "192.0.2.7, 127.0.0.1", "127.0.0.1"),
    ("off", "192.0.2.7, unknown", "unknown"),
    ("transparent", "192.0.2.7", None),
    ("delete", None, None),
    ("truncate", "127.0.0.1", "127.0.0.1"),
]


@pytest.mark.parametrize("mode,with_client,without", FWD,
                         ids=[f[0] for f in FWD])
def test_forwarded_for(skua_factory, pyorigin, mode, with_client, without):
    s = skua_factory(extra="forwarded_for %s" % mode)
    with RawClient(s.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n"
               b"X-Forwarded-For: 192.0.2.7\r\n\r\n"
               % url(pyorigin, "/xff1").encode())
        assert c.read_response().status == 200
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % url(pyorigin, "/xff2").encode())
        assert c.read_response().status == 200
    r1, r2 = pyorigin.wait_requests(2)
    got1 = r1.header("x-forwarded-for")
    got2 = r2.header("x-forwarded-for")
    norm = (lambda v: v and v.replace(" ", ""))
    assert norm(got1) == norm(with_client), (mode, r1.headers)
    assert norm(got2) == norm(without), (mode, r2.headers)


def test_via_off(skua_factory, pyorigin):
    s = skua_factory(extra="via off")
    with RawClient(s.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % url(pyorigin, "/novia").encode())
        assert c.read_response().status == 200
    assert not pyorigin.last().has("via"), pyorigin.last().headers


def test_hop_by_hop_request_headers_removed(skua, pyorigin):
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n"
               b"Connection: keep-alive, X-Private-Hop\r\n"
               b"X-Private-Hop: secret\r\n"
               b"Keep-Alive: timeout=300\r\n"
               b"Proxy-Connection: keep-alive\r\n"
               b"Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"
               b"TE: trailers\r\n"
               b"Trailer: X-Checksum\r\n"
               b"Upgrade: websocket\r\n"
               b"X-End-To-End: kept\r\n\r\n"
               % url(pyorigin, "/hop-req").encode())
        assert c.read_response().status == 200
    req = pyorigin.last()
    for name in ("X-Private-Hop", "Keep-Alive", "Proxy-Connection",
                 "Proxy-Authorization", "TE", "Trailer", "Upgrade"):
        assert not req.has(name), "%s reached the origin: %r" % (
            name, req.headers)
    assert "x-private-hop" not in req.header("connection", "").lower()
    assert req.header("x-end-to-end") == "kept"


def test_hop_by_hop_response_headers_removed(skua, pyorigin):
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % url(pyorigin, "/hop").encode())
        r = c.read_response()
    assert r.status == 200 and r.body == b"hop\n", r
    assert r.header("x-resp-hop") is None, r.headers
    assert "x-resp-hop" not in (r.header("connection") or "").lower()
    assert r.header("keep-alive") is None, r.headers
    assert r.header("x-end-to-end") == "kept"


def test_pipelined_requests_in_order(skua, nginx):
    paths = ["/small.txt", "/1k.bin", "/page.html", "/204", "/small.txt?2"]
    data = b"".join(b"GET %s HTTP/1.1\r\nHost: origin.test\r\n\r\n"
                    % url(nginx, p).encode() for p in paths)
    root = nginx.root
    with RawClient(skua.port) as c:
        c.send(data)
        got = [c.read_response() for _ in paths]
    assert [r.status for r in got] == [200, 200, 200, 204, 200], got
    for p, r in zip(paths, got):
        if r.status == 200:
            with open(os.path.join(root, p.split("?")[0][1:]), "rb") as f:
                assert r.body == f.read(), "response to %s out of order" % p


def test_http10_client(skua, nginx):
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.0\r\n\r\n"
               % url(nginx, "/small.txt").encode())
        r = c.read_response()
        assert r.status == 200 and r.body == b"small file through skua\n"
        assert c.closed_by_peer(), "HTTP/1.0 connection left open"


def test_http10_client_gets_no_chunking(skua, pyorigin):
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.0\r\n\r\n"
               % url(pyorigin, "/chunked").encode())
        r = c.read_response()
    assert r.status == 200
    assert r.header("transfer-encoding") is None, r.headers
    assert r.body == CHUNKED_BODY


def test_expect_100_continue(skua, pyorigin):
    body = b"hello world"
    with RawClient(skua.port, timeout=5) as c:
        c.send(b"POST %s HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               b"Content-Length: %d\r\n\r\n"
               % (url(pyorigin, "/echo").encode(), len(body)))
        first = c.read_head()
        assert first.status == 100, "expected 100 Continue, got %r" % first
        c.send(body)
        r = c.read_response()
    assert r.status == 200 and r.body == body, r


def test_expect_100_continue_curl(skua, pyorigin, tmp_path):
    data = os.urandom(2 << 20)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    r = curl(skua.proxy, url(pyorigin, "/count"), "-H",
             "Expect: 100-continue", "--data-binary", "@%s" % src,
             tmpdir=str(tmp_path))
    assert r.code == 200, r
    assert r.body == b"%d %s\n" % (len(data),
                                   hashlib.sha256(data).hexdigest().encode())


def test_204_and_304_have_no_body(skua, nginx, pyorigin):
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % url(nginx, "/204").encode())
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % url(nginx, "/304").encode())
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % url(nginx, "/small.txt").encode())
        assert c.read_response().status == 204
        assert c.read_response().status == 304
        r = c.read_response()
        assert r.body == b"small file through skua\n", r
        # A 304 with a Content-Length still has no body.
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % url(pyorigin, "/304cl").encode())
        r = c.read_response()
        assert r.status == 304, r
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % url(pyorigin, "/204").encode())
        assert c.read_response().status == 204
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % url(pyorigin, "/after").encode())
        r = c.read_response()
        assert r.body == b"ok /after\n", r


def test_close_delimited_response(skua, pyorigin, tmp_path):
    r = curl(skua.proxy, url(pyorigin, "/close"), tmpdir=str(tmp_path))
    assert r.rc == 0 and r.code == 200, r
    assert r.body == CLOSE_BODY
    with RawClient(skua.port) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
               % url(pyorigin, "/close2").encode())
        r = c.read_response()
    assert r.body == CLOSE_BODY


def test_chunked_response(skua, pyorigin, tmp_path):
    r = curl(skua.proxy, url(pyorigin, "/chunked"), tmpdir=str(tmp_path))
    assert r.rc == 0 and r.code == 200, r
    assert r.body == CHUNKED_BODY
    with RawClient(skua.port) as c:
        for i in range(2):
            c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
                   % url(pyorigin, "/chunked%d" % i).encode())
            r = c.read_response()
            assert r.status == 200 and r.body == CHUNKED_BODY, r
