"""SOCKS4, SOCKS4a and SOCKS5: curl through socks_port and through an
http_port shared with SOCKS, RFC 1929 passwords from an htpasswd file,
BIND with a second connection, malformed requests over raw sockets (exact
reply bytes, nothing connected), policy denials, and the access log.
"""

import os
import socket
import struct
import time
import warnings

import pytest

from harness import access_rx, curl, recv_all
from nginxd import MARKER, free_port
from pyorigin import EchoServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt
    except ImportError:                     # Python >= 3.13
        crypt = None

USER, PASSWORD = "alice", "s3cret pass"
USER2, PASSWORD2 = "bob", "other"


# -- helpers -----------------------------------------------------------------

def socks_conf(socks_port, access=("socks_access allow localhost",
                                   "socks_access deny all"), extra=()):
    return "\n".join(["socks_port 127.0.0.1:%d" % socks_port]
                     + list(extra) + list(access))


def recv_exact(sock, n, timeout=10):
    sock.settimeout(timeout)
    out = b""
    while len(out) < n:
        part = sock.recv(n - len(out))
        if not part:
            raise EOFError("closed after %r" % out)
        out += part
    return out


def s5_addr(host, port):
    try:
        return b"\x01" + socket.inet_pton(socket.AF_INET, host) + \
            struct.pack("!H", port)
    except OSError:
        pass
    try:
        return b"\x04" + socket.inet_pton(socket.AF_INET6, host) + \
            struct.pack("!H", port)
    except OSError:
        pass
    name = host.encode()
    return b"\x03" + bytes([len(name)]) + name + struct.pack("!H", port)


def s5_request(cmd, host, port):
    return b"\x05" + bytes([cmd]) + b"\x00" + s5_addr(host, port)


def s5_read_reply(sock):
    """Read a SOCKS5 reply; return (rep, (addr, port))."""
    head = recv_exact(sock, 4)
    assert head[0] == 5, head
    if head[3] == 1:
        a = socket.inet_ntop(socket.AF_INET, recv_exact(sock, 4))
    elif head[3] == 4:
        a = socket.inet_ntop(socket.AF_INET6, recv_exact(sock, 16))
    else:
        n = recv_exact(sock, 1)[0]
        a = recv_exact(sock, n).decode()
    port = struct.unpack("!H", recv_exact(sock, 2))[0]
    return head[1], (a, port)


def s5_open(port, cmd, host, dport, auth=None):
    """Greeting (+ RFC 1929) + request; return (sock, rep, bound)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if auth:
        s.sendall(b"\x05\x01\x02")
        assert recv_exact(s, 2) == b"\x05\x02"
        u, p = auth[0].encode(), auth[1].encode()
        s.sendall(b"\x01" + bytes([len(u)]) + u + bytes([len(p)]) + p)
        assert recv_exact(s, 2) == b"\x01\x00"
    else:
        s.sendall(b"\x05\x01\x00")
        assert recv_exact(s, 2) == b"\x05\x00"
    s.sendall(s5_request(cmd, host, dport))
    rep, bound = s5_read_reply(s)
    return s, rep, bound


def s4_request(cmd, ip, port, user=b"", host=None):
    if host is not None:
        return struct.pack("!BBH", 4, cmd, port) + b"\x00\x00\x00\x01" + \
            user + b"\x00" + host + b"\x00"
    return struct.pack("!BBH", 4, cmd, port) + socket.inet_aton(ip) + \
        user + b"\x00"


def write_htpasswd(path):
    """user:hash lines: a bcrypt and a SHA-512 crypt(3) hash."""
    if crypt is None:
        pytest.skip("Python's crypt module is not available")
    h1 = crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    h2 = crypt.crypt(PASSWORD2, crypt.mksalt(crypt.METHOD_SHA512))
    if not h1 or not h1.startswith("$2"):
        pytest.skip("crypt(3) here has no bcrypt")
    with open(path, "w") as f:
        f.write("# skua test users\n%s:%s\n%s:%s\n" % (USER, h1, USER2, h2))
    return path


@pytest.fixture
def echo():
    e = EchoServer()
    yield e
    e.close()


@pytest.fixture
def socks_skua(skua_factory):
    sp = free_port()
    s = skua_factory(extra=socks_conf(sp))
    s.socks_port = sp
    return s


def assert_nothing_connected(echo, before=0):
    time.sleep(0.3)
    assert echo.connections == before, \
        "skua connected to the origin %d times" % (echo.connections - before)


# -- curl through socks_port --------------------------------------------------

def socks_proxy(scheme, port):
    """curl's -x for SOCKS: socks4, socks4a, socks5, socks5h."""
    return "%s://127.0.0.1:%d" % (scheme, port)


@pytest.mark.parametrize("scheme,host,method", [
    ("socks4", "127.0.0.1", "SOCKS4_CONNECT"),
    ("socks4a", "origin.test", "SOCKS4_CONNECT"),
    ("socks5", "127.0.0.1", "SOCKS5_CONNECT"),
    ("socks5h", "origin.test", "SOCKS5_CONNECT"),
])
def test_curl_socks(socks_skua, nginx, tmp_path, scheme, host, method):
    url = "http://%s:%d/page.html" % (host, nginx.port)
    r = curl(socks_proxy(scheme, socks_skua.socks_port), url,
             tmpdir=str(tmp_path))
    assert r.rc == 0 and r.code == 200, r
    assert MARKER.encode() in r.body
    m = socks_skua.wait_log(access_rx(
        r"TCP_TUNNEL/200", method, "%s:%d" % (host, nginx.port),
        hier=r"HIER_DIRECT/127\.0\.0\.1"))
    assert int(m.group("bytes")) > len(r.body)


def test_curl_socks5_https(socks_skua, nginx, tmp_path):
    url = "https://tls.test:%d/small.txt" % nginx.tls_port
    r = curl(socks_proxy("socks5h", socks_skua.socks_port), url, "-k",
             tmpdir=str(tmp_path))
    assert r.rc == 0 and r.body == b"small file through skua\n", r


def test_shared_http_port(skua_factory, nginx, tmp_path):
    """One port serves curl -x http, --socks5-hostname and --socks4."""
    s = skua_factory(start=False, extra="socks_access allow localhost")
    text = open(s.conf_path).read()
    line = "http_port 127.0.0.1:%d\n" % s.port
    assert line in text
    s.write_conf(text=text.replace(line, line[:-1] + " socks\n"))
    s.start()
    url = "http://origin.test:%d/page.html" % nginx.port
    r1 = curl(s.proxy, url, tmpdir=str(tmp_path))
    r2 = curl(socks_proxy("socks5h", s.port), url, tmpdir=str(tmp_path))
    r3 = curl(socks_proxy("socks4", s.port),
              url.replace("origin.test", "127.0.0.1"), tmpdir=str(tmp_path))
    for r in (r1, r2, r3):
        assert r.rc == 0 and r.code == 200 and MARKER.encode() in r.body, r
    s.wait_log(access_rx(r"TCP_\w+/200", "GET", url))
    s.wait_log(access_rx(r"TCP_TUNNEL/200", "SOCKS5_CONNECT",
                         "origin.test:%d" % nginx.port))
    s.wait_log(access_rx(r"TCP_TUNNEL/200", "SOCKS4_CONNECT",
                         "127.0.0.1:%d" % nginx.port))


# -- RFC 1929 -----------------------------------------------------------------

@pytest.fixture
def auth_skua(skua_factory, tmp_path):
    pw = write_htpasswd(str(tmp_path / "socks.htpasswd"))
    sp = free_port()
    s = skua_factory(extra=socks_conf(
        sp, extra=["socks_auth_methods userpass",
                   "socks_password_file %s" % pw,
                   "acl users proxy_auth REQUIRED"],
        access=["socks_access allow localhost users",
                "socks_access deny all"]))
    s.socks_port = sp
    return s


def test_userpass_right_password(auth_skua, nginx, tmp_path):
    url = "http://origin.test:%d/page.html" % nginx.port
    for user, pw in ((USER, PASSWORD), (USER2, PASSWORD2)):
        r = curl(socks_proxy("socks5h", auth_skua.socks_port), url,
                 "--proxy-user", "%s:%s" % (user, pw), tmpdir=str(tmp_path))
        assert r.rc == 0 and r.code == 200, r
        m = auth_skua.wait_log(access_rx(
            r"TCP_TUNNEL/200", "SOCKS5_CONNECT",
            "origin.test:%d" % nginx.port))
    line = [ln for ln in auth_skua.log_lines() if " %s " % USER in ln]
    assert line, "the user name is not in the log: %s" % \
        auth_skua.log_lines()
    assert m


def test_userpass_wrong_password(auth_skua, nginx, tmp_path):
    url = "http://origin.test:%d/page.html" % nginx.port
    r = curl(socks_proxy("socks5h", auth_skua.socks_port), url,
             "--proxy-user", "%s:wrong" % USER, tmpdir=str(tmp_path))
    assert r.rc != 0 and r.code == 0, r
    auth_skua.wait_log(r"TCP_DENIED/407 .* %s " % USER)
    # Raw: the RFC 1929 failure status, then the connection closes.
    s = socket.create_connection(("127.0.0.1", auth_skua.socks_port))
    s.sendall(b"\x05\x01\x02\x01\x05alice\x03bad")
    assert recv_all(s) == b"\x05\x02\x01\x01"
    s.close()


def test_userpass_in_one_packet(auth_skua, echo):
    """Greeting, credentials and request sent at once: the request waits
    for the password check and is served after it."""
    u, p = USER.encode(), PASSWORD.encode()
    s = socket.create_connection(("127.0.0.1", auth_skua.socks_port))
    s.sendall(b"\x05\x01\x02" + b"\x01" + bytes([len(u)]) + u +
              bytes([len(p)]) + p + s5_request(1, "127.0.0.1", echo.port))
    assert recv_exact(s, 4) == b"\x05\x02\x01\x00"
    rep, _ = s5_read_reply(s)
    assert rep == 0
    s.sendall(b"hi")
    assert recv_exact(s, 2) == b"hi"
    s.close()


@pytest.mark.timeout_s(60)
def test_slow_hash_does_not_block_others(skua_factory, echo, tmp_path):
    """A bcrypt check runs off the event loop: while one runs, a session
    on the same worker is served."""
    if crypt is None:
        pytest.skip("Python's crypt module is not available")
    slow = crypt.crypt("pw", crypt.mksalt(crypt.METHOD_BLOWFISH,
                                          rounds=1 << 14))
    if not slow or not slow.startswith("$2"):
        pytest.skip("crypt(3) here has no bcrypt")
    t0 = time.monotonic()
    crypt.crypt("pw", slow)
    cost = time.monotonic() - t0
    if cost < 0.3:
        pytest.skip("bcrypt too fast here (%.2fs) to tell" % cost)
    pw = tmp_path / "slow.htpasswd"
    pw.write_text("slow:%s\n" % slow)
    sp, sp2 = free_port(), free_port()
    skua_factory(extra=socks_conf(sp, extra=[
        "socks_port 127.0.0.1:%d auth=none" % sp2,
        "socks_auth_methods userpass",
        "socks_password_file %s" % pw]))
    a = socket.create_connection(("127.0.0.1", sp))
    a.sendall(b"\x05\x01\x02\x01\x04slow\x02pw")
    assert recv_exact(a, 2) == b"\x05\x02"
    time.sleep(0.05)
    t0 = time.monotonic()
    c, rep, _ = s5_open(sp2, 1, "127.0.0.1", echo.port)
    quick = time.monotonic() - t0
    assert rep == 0
    c.close()
    assert recv_exact(a, 2, timeout=20) == b"\x01\x00"
    a.close()
    assert quick < cost / 2, (
        "a CONNECT took %.2fs while a %.2fs password check ran"
        % (quick, cost))


def test_no_acceptable_method(auth_skua):
    s = socket.create_connection(("127.0.0.1", auth_skua.socks_port))
    s.sendall(b"\x05\x02\x00\x01")          # none and GSSAPI only
    assert recv_all(s) == b"\x05\xff"
    s.close()
    # SOCKS4 has no authentication: refused on a userpass-only port.
    s = socket.create_connection(("127.0.0.1", auth_skua.socks_port))
    s.sendall(s4_request(1, "127.0.0.1", 80, b"alice"))
    assert recv_all(s) == b"\x00\x5b" + b"\x00" * 6
    s.close()


# -- BIND ---------------------------------------------------------------------

def test_bind_socks5(socks_skua):
    ctrl, rep, bound = s5_open(socks_skua.socks_port, 2, "127.0.0.1", 0)
    assert rep == 0 and bound[0] == "127.0.0.1" and bound[1] != 0, \
        (rep, bound)
    srv = socket.create_connection(bound, timeout=10)
    rep2, peer = s5_read_reply(ctrl)
    assert rep2 == 0
    assert peer == srv.getsockname(), (peer, srv.getsockname())
    srv.sendall(b"from the server")
    assert recv_exact(ctrl, 15) == b"from the server"
    ctrl.sendall(b"from the client")
    assert recv_exact(srv, 15) == b"from the client"
    ctrl.close()
    assert recv_all(srv) == b""
    srv.close()
    socks_skua.wait_log(access_rx(r"TCP_TUNNEL/200", "SOCKS5_BIND",
                                  "127.0.0.1:0"))


def test_bind_socks4(socks_skua):
    ctrl = socket.create_connection(("127.0.0.1", socks_skua.socks_port),
                                    timeout=10)
    ctrl.sendall(s4_request(2, "127.0.0.1", 21, b"ftpuser"))
    r1 = recv_exact(ctrl, 8)
    assert r1[:2] == b"\x00\x5a", r1
    port = struct.unpack("!H", r1[2:4])[0]
    ip = socket.inet_ntoa(r1[4:8])
    srv = socket.create_connection((ip, port), timeout=10)
    r2 = recv_exact(ctrl, 8)
    assert r2[:2] == b"\x00\x5a", r2
    assert (socket.inet_ntoa(r2[4:8]),
            struct.unpack("!H", r2[2:4])[0]) == srv.getsockname()
    srv.sendall(b"220 hello\r\n")
    assert recv_exact(ctrl, 11) == b"220 hello\r\n"
    ctrl.close()
    srv.close()
    socks_skua.wait_log(access_rx(r"TCP_TUNNEL/200", "SOCKS4_BIND",
                                  "127.0.0.1:21"))


def test_bind_rejects_stranger(skua_factory):
    """A connection from an address other than DST.ADDR is refused; the
    expected peer still gets through."""
    sp = free_port()
    s = skua_factory(extra=socks_conf(sp))
    ctrl, rep, bound = s5_open(sp, 2, "127.0.0.2", 0)
    assert rep == 0, rep
    stranger = socket.create_connection(bound, timeout=5)   # from 127.0.0.1
    assert recv_all(stranger, timeout=5) == b""
    stranger.close()
    srv = socket.socket()
    srv.bind(("127.0.0.2", 0))
    srv.connect(bound)
    rep2, peer = s5_read_reply(ctrl)
    assert rep2 == 0 and peer[0] == "127.0.0.2"
    ctrl.close()
    srv.close()


def test_bind_timeout_and_client_leaving(skua_factory):
    """No peer within connect_timeout: the second reply is 0x06 (TTL
    expired).  A client that leaves while waiting takes the port away."""
    sp = free_port()
    s = skua_factory(extra=socks_conf(sp) + "\nconnect_timeout 1 seconds")
    ctrl, rep, bound = s5_open(sp, 2, "127.0.0.1", 0)
    assert rep == 0
    rep2, _ = s5_read_reply(ctrl)
    assert rep2 == 6, rep2
    assert recv_all(ctrl) == b""
    ctrl.close()
    ctrl, rep, bound = s5_open(sp, 2, "127.0.0.1", 0)
    assert rep == 0
    ctrl.close()
    time.sleep(0.5)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(bound, timeout=2)
    s.wait_log(access_rx(r"NONE_NONE/504", "SOCKS5_BIND", "127.0.0.1:0"))


def test_connect_ipv6(socks_skua):
    lsock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        lsock.bind(("::1", 0))
    except OSError:
        lsock.close()
        pytest.skip("no IPv6 loopback")
    lsock.listen(1)
    port = lsock.getsockname()[1]
    c, rep, bound = s5_open(socks_skua.socks_port, 1, "::1", port)
    assert rep == 0 and bound[0] == "::1", (rep, bound)
    a, _ = lsock.accept()
    a.sendall(b"over v6")
    assert recv_exact(c, 7) == b"over v6"
    a.close()
    c.close()
    lsock.close()
    socks_skua.wait_log(access_rx(r"TCP_TUNNEL/200", "SOCKS5_CONNECT",
                                  "[::1]:%d" % port,
                                  hier=r"HIER_DIRECT/::1"))


# -- one packet, one byte at a time ------------------------------------------

def test_greeting_and_request_in_one_packet(socks_skua, echo):
    s = socket.create_connection(("127.0.0.1", socks_skua.socks_port))
    s.sendall(b"\x05\x01\x00" + s5_request(1, "127.0.0.1", echo.port)
              + b"early")
    assert recv_exact(s, 2) == b"\x05\x00"
    rep, bound = s5_read_reply(s)
    assert rep == 0 and bound[0] == "127.0.0.1"
    assert recv_exact(s, 5) == b"early"
    s.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "tunnel.test"])
def test_half_close_right_after_the_request(socks_skua, echo, host):
    """Request, early data and the client's half-close, all before the
    reply: the data reaches the server, the half-close follows it, and the
    answer the server gives to it comes back."""
    s = socket.create_connection(("127.0.0.1", socks_skua.socks_port))
    s.sendall(b"\x05\x01\x00" + s5_request(1, host, echo.port)
              + b"early\n")
    s.shutdown(socket.SHUT_WR)
    assert recv_exact(s, 2) == b"\x05\x00"
    rep, _ = s5_read_reply(s)
    assert rep == 0
    assert recv_all(s) == b"early\nbye\n"
    s.close()
    socks_skua.wait_log(access_rx(r"TCP_TUNNEL/200", "SOCKS5_CONNECT",
                                  "%s:%d" % (host, echo.port)))


def test_byte_at_a_time(socks_skua, echo):
    s = socket.create_connection(("127.0.0.1", socks_skua.socks_port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    greeting = b"\x05\x02\x00\x02"
    for b in greeting:
        s.sendall(bytes([b]))
        time.sleep(0.01)
    assert recv_exact(s, 2) == b"\x05\x00"
    for b in s5_request(1, "tunnel.test", echo.port):
        s.sendall(bytes([b]))
        time.sleep(0.01)
    rep, _ = s5_read_reply(s)
    assert rep == 0
    s.sendall(b"ping")
    assert recv_exact(s, 4) == b"ping"
    s.close()
    # SOCKS4a too.
    s = socket.create_connection(("127.0.0.1", socks_skua.socks_port))
    for b in s4_request(1, None, echo.port, b"u", b"tunnel.test"):
        s.sendall(bytes([b]))
        time.sleep(0.01)
    assert recv_exact(s, 8)[:2] == b"\x00\x5a"
    s.close()


# -- malformed requests: exact replies, nothing connected --------------------

Z5 = b"\x00\x01" + b"\x00" * 6          # ATYP IPv4, 0.0.0.0:0 in a reply


@pytest.mark.parametrize("name,data,reply", [
    # A greeting that claims three methods and sends one, then EOF.
    ("short greeting", b"\x05\x03\x00", b""),
    # NMETHODS 0: nothing acceptable.
    ("no methods", b"\x05\x00", b"\x05\xff"),
    # A SOCKS4 request after SOCKS5 negotiation: general failure.
    ("v4 on a v5 session", b"\x05\x01\x00" + b"\x04\x01\x00\x50\x7f\x00"
     b"\x00\x01\x00", b"\x05\x00\x05\x01" + Z5),
    ("NUL in name", b"\x05\x01\x00\x05\x01\x00\x03\x03a\x00b\x00\x50",
     b"\x05\x00\x05\x01" + Z5),
    ("empty name", b"\x05\x01\x00\x05\x01\x00\x03\x00\x00\x50",
     b"\x05\x00\x05\x01" + Z5),
    ("zero port", b"\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x00",
     b"\x05\x00\x05\x01" + Z5),
    ("unknown command", b"\x05\x01\x00\x05\x09\x00\x01\x7f\x00\x00\x01"
     b"\x00\x50", b"\x05\x00\x05\x07" + Z5),
    ("unknown address type", b"\x05\x01\x00\x05\x01\x00\x07\x7f\x00\x00"
     b"\x01\x00\x50", b"\x05\x00\x05\x08" + Z5),
    ("non-zero RSV", b"\x05\x01\x00\x05\x01\x01\x01\x7f\x00\x00\x01\x00"
     b"\x50", b"\x05\x00\x05\x01" + Z5),
    ("v4 zero port", b"\x04\x01\x00\x00\x7f\x00\x00\x01\x00",
     b"\x00\x5b" + b"\x00" * 6),
    ("v4 unknown command", b"\x04\x03\x00\x50\x7f\x00\x00\x01\x00",
     b"\x00\x5b" + b"\x00" * 6),
    ("v4a empty name", b"\x04\x01\x00\x50\x00\x00\x00\x01u\x00\x00",
     b"\x00\x5b" + b"\x00" * 6),
    ("v4a long name", b"\x04\x01\x00\x50\x00\x00\x00\x01u\x00" +
     b"a" * 300 + b"\x00", b"\x00\x5b" + b"\x00" * 6),
    ("v4 long user id", b"\x04\x01\x00\x50\x7f\x00\x00\x01" + b"u" * 2000,
     b"\x00\x5b" + b"\x00" * 6),
    ("unknown version", b"\x06\x01\x00", b""),
    ("HTTP on socks_port", b"GET / HTTP/1.1\r\n\r\n", b""),
])
def test_malformed(socks_skua, echo, name, data, reply):
    # Every case names the echo server's port where it names one, so a
    # connect that should not happen would show there.
    data = data.replace(b"\x00\x50", struct.pack("!H", echo.port))
    reply = reply.replace(b"\x00\x50", struct.pack("!H", echo.port))
    s = socket.create_connection(("127.0.0.1", socks_skua.socks_port))
    s.sendall(data)
    if name == "short greeting":
        s.shutdown(socket.SHUT_WR)
    assert recv_all(s) == reply, name
    s.close()
    assert_nothing_connected(echo)


def test_malformed_logged(socks_skua):
    s = socket.create_connection(("127.0.0.1", socks_skua.socks_port))
    s.sendall(b"\x05\x01\x00\x05\x09\x00\x01\x7f\x00\x00\x01\x00\x50")
    recv_all(s)
    s.close()
    socks_skua.wait_log(r"TAG_NONE/400 \d+ SOCKS5 error:invalid-request")


# -- policy ------------------------------------------------------------------

def test_socks_access_deny(skua_factory, echo):
    sp = free_port()
    s = skua_factory(extra=socks_conf(
        sp, extra=["acl echoport port %d" % echo.port,
                   "acl binds socks_command bind"],
        access=["socks_access deny echoport",
                "socks_access deny binds",
                "socks_access allow localhost",
                "socks_access deny all"]))
    c, rep, _ = s5_open(sp, 1, "127.0.0.1", echo.port)
    assert rep == 2
    assert recv_all(c) == b""
    c.close()
    c = socket.create_connection(("127.0.0.1", sp))
    c.sendall(s4_request(1, "127.0.0.1", echo.port))
    assert recv_all(c) == b"\x00\x5b" + b"\x00" * 6
    c.close()
    c, rep, _ = s5_open(sp, 2, "127.0.0.1", 0)
    assert rep == 2
    c.close()
    assert_nothing_connected(echo)
    s.wait_log(access_rx(r"TCP_DENIED/403", "SOCKS5_CONNECT",
                         "127.0.0.1:%d" % echo.port, hier=r"HIER_NONE/-"))
    s.wait_log(access_rx(r"TCP_DENIED/403", "SOCKS4_CONNECT",
                         "127.0.0.1:%d" % echo.port))
    s.wait_log(access_rx(r"TCP_DENIED/403", "SOCKS5_BIND", "127.0.0.1:0"))


def test_socks_access_by_name(skua_factory, echo):
    """dstdomain sees the name the client asked for (socks5h / 4a)."""
    sp = free_port()
    s = skua_factory(extra=socks_conf(
        sp, extra=["acl bad dstdomain tunnel.test"],
        access=["socks_access deny bad", "socks_access allow localhost"]))
    c, rep, _ = s5_open(sp, 1, "tunnel.test", echo.port)
    assert rep == 2
    c.close()
    c, rep, _ = s5_open(sp, 1, "127.0.0.1", echo.port)
    assert rep == 0
    c.close()
    s.wait_log(access_rx(r"TCP_DENIED/403", "SOCKS5_CONNECT",
                         "tunnel.test:%d" % echo.port))


def test_socks_access_dst_needs_dns(skua_factory, echo):
    """A dst acl against a name: skua resolves, then decides."""
    sp = free_port()
    s = skua_factory(extra=socks_conf(
        sp, extra=["acl lo dst 127.0.0.0/8"],
        access=["socks_access deny lo", "socks_access allow localhost"]))
    c, rep, _ = s5_open(sp, 1, "tunnel.test", echo.port)
    assert rep == 2
    c.close()
    assert_nothing_connected(echo)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "self", "self-by-name",
                                  "http-port"])
def test_connect_forbidden_destinations(socks_skua, host):
    port = socks_skua.socks_port
    if host == "self":
        host = "127.0.0.1"
    elif host == "self-by-name":
        host = "tunnel.test"
    elif host == "http-port":
        host, port = "127.0.0.1", socks_skua.port
    c, rep, _ = s5_open(socks_skua.socks_port, 1, host, port)
    assert rep == 2, "CONNECT to %s:%d answered %d" % (host, port, rep)
    assert recv_all(c) == b""
    c.close()
    # SOCKS4 too (IPv4 only).
    if ":" not in host and host != "tunnel.test":
        c = socket.create_connection(("127.0.0.1", socks_skua.socks_port))
        c.sendall(s4_request(1, host, port))
        assert recv_all(c) == b"\x00\x5b" + b"\x00" * 6
        c.close()
    socks_skua.wait_log(r"TCP_DENIED/403 \d+ SOCKS5_CONNECT ")


def test_default_deny_without_rules(skua_factory, echo):
    sp = free_port()
    s = skua_factory(extra="socks_port 127.0.0.1:%d" % sp)
    c, rep, _ = s5_open(sp, 1, "127.0.0.1", echo.port)
    assert rep == 2
    c.close()
    assert_nothing_connected(echo)
    s.wait_log(r"TCP_DENIED/403")


# -- errors ------------------------------------------------------------------

def test_errors(socks_skua):
    closed = free_port()
    c, rep, _ = s5_open(socks_skua.socks_port, 1, "127.0.0.1", closed)
    assert rep == 5, "connection refused is 0x05, got %d" % rep
    c.close()
    c, rep, _ = s5_open(socks_skua.socks_port, 1, "nx.test", 80)
    assert rep == 4, "a name that does not resolve is 0x04, got %d" % rep
    c.close()
    socks_skua.wait_log(access_rx(r"NONE_NONE/503", "SOCKS5_CONNECT",
                                  "nx.test:80"))
    socks_skua.wait_log(access_rx(r"NONE_NONE/503", "SOCKS5_CONNECT",
                                  "127.0.0.1:%d" % closed))


def test_versions_option(skua_factory, echo):
    sp = free_port()
    s = skua_factory(extra=socks_conf(sp).replace(
        "socks_port 127.0.0.1:%d" % sp,
        "socks_port 127.0.0.1:%d versions=5" % sp))
    c = socket.create_connection(("127.0.0.1", sp))
    c.sendall(s4_request(1, "127.0.0.1", echo.port))
    assert recv_all(c) == b""
    c.close()
    c, rep, _ = s5_open(sp, 1, "127.0.0.1", echo.port)
    assert rep == 0
    c.close()
    assert s


def test_log_formats(skua_factory, echo, tmp_path):
    """One line per session in every built-in format."""
    sp = free_port()
    logs = {f: str(tmp_path / ("socks-%s.log" % f))
            for f in ("common", "combined", "json")}
    extra = socks_conf(sp) + "\n" + "\n".join(
        "access_log stdio:%s %s" % (p, f) for f, p in logs.items())
    s = skua_factory(extra=extra)
    c, rep, _ = s5_open(sp, 1, "tunnel.test", echo.port)
    assert rep == 0
    c.sendall(b"12345")
    assert recv_exact(c, 5) == b"12345"
    c.close()
    s.wait_log(access_rx(r"TCP_TUNNEL/200", "SOCKS5_CONNECT",
                         "tunnel.test:%d" % echo.port))
    end = time.monotonic() + 5
    for f, p in logs.items():
        while True:
            text = open(p).read() if os.path.exists(p) else ""
            if "SOCKS5_CONNECT" in text or time.monotonic() > end:
                break
            time.sleep(0.05)
        assert "SOCKS5_CONNECT" in text and "tunnel.test" in text, (f, text)


# -- chromium -----------------------------------------------------------------

@pytest.mark.timeout_s(150)
def test_chromium_socks5(socks_skua, nginx, tmp_path):
    from test_50_browser import CHROMIUM_CANDIDATES, run_chromium
    import shutil
    binary = None
    for cand in CHROMIUM_CANDIDATES + (shutil.which("chromium") or "",):
        if cand and os.access(cand, os.X_OK):
            binary = cand
            break
    if binary is None:
        pytest.skip("chromium is not installed (Debian: chromium)")
    page = "http://origin.test:%d/page.html" % nginx.port
    rc, dom, err = run_chromium(
        binary, socks_skua.port, page, tmp_path,
        extra=("--proxy-server=socks5://127.0.0.1:%d"
               % socks_skua.socks_port,))
    assert MARKER in dom, "page not loaded (rc %d):\nDOM: %s\nstderr: %s" % (
        rc, dom[:2000], err[-3000:])
    socks_skua.wait_log(access_rx(r"TCP_TUNNEL/200", "SOCKS5_CONNECT",
                                  "origin.test:%d" % nginx.port))
