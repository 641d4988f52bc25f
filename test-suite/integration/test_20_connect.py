"""CONNECT tunnels: TLS to nginx through curl and Python's ssl module, an
opaque byte stream to an echo server, and denied ports."""

import os
import socket
import ssl
import threading

import pytest

from harness import RawClient, access_rx, curl, recv_all
from nginxd import MARKER
from pyorigin import EchoServer


@pytest.fixture
def echo():
    e = EchoServer()
    yield e
    e.close()


@pytest.fixture
def tunnel_skua(skua_factory, nginx, echo):
    return skua_factory(ssl_ports=(nginx.tls_port, echo.port))


def test_curl_https_through_connect(skua, nginx, tmp_path):
    u = "https://127.0.0.1:%d/page.html" % nginx.tls_port
    r = curl(skua.proxy, u, "-k", tmpdir=str(tmp_path))
    assert r.rc == 0 and r.code == 200, r
    assert MARKER.encode() in r.body
    skua.wait_log(access_rx(r"TCP_TUNNEL/200", "CONNECT",
                            "127.0.0.1:%d" % nginx.tls_port,
                            hier=r"HIER_DIRECT/127\.0\.0\.1", mime=r"-"))


def test_curl_https_by_name(skua, nginx, tmp_path):
    u = "https://tls.test:%d/small.txt" % nginx.tls_port
    r = curl(skua.proxy, u, "-k", tmpdir=str(tmp_path))
    assert r.rc == 0 and r.code == 200, r
    assert r.body == b"small file through skua\n"
    skua.wait_log(access_rx(r"TCP_TUNNEL/200", "CONNECT",
                            "tls.test:%d" % nginx.tls_port,
                            hier=r"HIER_DIRECT/127\.0\.0\.1"))


def test_connect_status_line_and_tls(skua, nginx):
    with RawClient(skua.port) as c:
        c.send(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               b"\r\n" % (nginx.tls_port, nginx.tls_port))
        r = c.read_response("CONNECT")
        assert r.raw_head.split(b"\r\n")[0] == \
            b"HTTP/1.1 200 Connection established", r.raw_head
        assert c.buf == b"", "bytes after the 200: %r" % c.buf
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        tls = ctx.wrap_socket(c.sock, server_hostname="tls.test")
        tls.sendall(b"GET /small.txt HTTP/1.1\r\nHost: tls.test\r\n"
                    b"Connection: close\r\n\r\n")
        data = recv_all(tls)
        assert data.startswith(b"HTTP/1.1 200"), data[:200]
        assert data.endswith(b"small file through skua\n")


def test_opaque_tunnel_and_half_close(tunnel_skua, echo):
    payload = os.urandom(1 << 20)
    with RawClient(tunnel_skua.port, timeout=20) as c:
        c.send(b"CONNECT tunnel.test:%d HTTP/1.1\r\n"
               b"Host: tunnel.test:%d\r\n\r\n" % (echo.port, echo.port))
        r = c.read_response("CONNECT")
        assert r.status == 200, r
        got = bytearray(c.buf)
        c.buf = b""

        def writer():
            for i in range(0, len(payload), 65536):
                c.sock.sendall(payload[i:i + 65536])

        t = threading.Thread(target=writer)
        t.start()
        while len(got) < len(payload):
            part = c.sock.recv(262144)
            if not part:
                break
            got += part
        t.join(20)
        assert len(got) == len(payload), (
            "tunnel returned %d bytes, expected %d" % (len(got),
                                                       len(payload)))
        assert bytes(got) == payload
        # Half-close: the echo server sees EOF, answers "bye" and closes;
        # the tunnel must carry both directions through that.
        c.sock.shutdown(socket.SHUT_WR)
        rest = b""
        while True:
            part = c.sock.recv(65536)
            if not part:
                break
            rest += part
    assert rest == b"bye\n", (
        "after the client's half-close the tunnel gave %r, not the "
        "origin's last words" % rest)
    tunnel_skua.wait_log(access_rx(r"TCP_TUNNEL/200", "CONNECT",
                                   "tunnel.test:%d" % echo.port,
                                   hier=r"HIER_DIRECT/127\.0\.0\.1"))


def test_connect_early_data_forwarded(tunnel_skua, echo):
    """Bytes sent right behind the CONNECT head belong to the tunnel."""
    with RawClient(tunnel_skua.port) as c:
        c.send(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               b"\r\nEARLY-BYTES" % (echo.port, echo.port))
        r = c.read_response("CONNECT")
        assert r.status == 200, r
        while len(c.buf) < len(b"EARLY-BYTES"):
            c._fill()
        assert c.buf == b"EARLY-BYTES"


def test_connect_denied_port(skua, nginx):
    target = "127.0.0.1:%d" % nginx.port        # not in SSL_ports
    with RawClient(skua.port) as c:
        c.send(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n"
               % (target.encode(), target.encode()))
        r = c.read_response()
    assert r.status == 403, r
    assert r.header("x-skua-error") == "ERR_ACCESS_DENIED", r.headers
    assert (r.header("content-type") or "").startswith("text/html")
    skua.wait_log(access_rx(r"TCP_DENIED/403", "CONNECT", target,
                            hier=r"HIER_NONE/-"))


def test_connect_refused_port(skua_factory, nginx):
    from nginxd import free_port
    closed = free_port()
    s = skua_factory(ssl_ports=(closed,))
    target = "127.0.0.1:%d" % closed
    with RawClient(s.port) as c:
        c.send(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n"
               % (target.encode(), target.encode()))
        r = c.read_response()
    assert r.status == 503, r
    assert r.header("x-skua-error") == "ERR_CONNECT_FAIL", r.headers
    s.wait_log(access_rx(r"\w+/503", "CONNECT", target))
