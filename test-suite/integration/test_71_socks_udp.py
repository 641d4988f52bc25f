"""SOCKS5 UDP ASSOCIATE: a Python client exchanging datagrams with a
Python UDP echo server through skua.

On loopback (always): the exchange by address and by name, fragments
dropped, a second source port dropped, forbidden destinations dropped,
the association ending with its TCP connection and after
socks_udp_timeout, and the access-log line.  In network namespaces (root
only): client, skua and echo server on distinct addresses, so BND.ADDR
must be the address the client reached and a datagram from another
address of the client's host is dropped.
"""

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from harness import access_rx
from nginxd import free_port

HERE = os.path.dirname(os.path.abspath(__file__))


# -- helpers -----------------------------------------------------------------

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
    for af, atyp in ((socket.AF_INET, 1), (socket.AF_INET6, 4)):
        try:
            return bytes([atyp]) + socket.inet_pton(af, host) + \
                struct.pack("!H", port)
        except OSError:
            pass
    name = host.encode()
    return b"\x03" + bytes([len(name)]) + name + struct.pack("!H", port)


def associate(port, dst=("0.0.0.0", 0)):
    """Open a UDP association; return (tcp socket, (bnd addr, bnd port))."""
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(b"\x05\x01\x00")
    assert recv_exact(c, 2) == b"\x05\x00"
    c.sendall(b"\x05\x03\x00" + s5_addr(*dst))
    head = recv_exact(c, 4)
    assert head[:2] == b"\x05\x00" and head[3] == 1, head
    addr = socket.inet_ntoa(recv_exact(c, 4))
    bport = struct.unpack("!H", recv_exact(c, 2))[0]
    return c, (addr, bport)


def wrap(host, port, payload, frag=0):
    return b"\x00\x00" + bytes([frag]) + s5_addr(host, port) + payload


def unwrap(data):
    assert data[:3] == b"\x00\x00\x00", data[:10]
    assert data[3] == 1, data[:10]
    host = socket.inet_ntoa(data[4:8])
    port = struct.unpack("!H", data[8:10])[0]
    return host, port, data[10:]


class UdpEcho:
    """A UDP echo server on 127.0.0.1 that counts what it got."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.got = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._serve, daemon=True)
        self._t.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, src = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.got.append((data, src))
            self.sock.sendto(data, src)

    def close(self):
        self._stop.set()
        self._t.join(2)
        self.sock.close()


@pytest.fixture
def uecho():
    e = UdpEcho()
    yield e
    e.close()


@pytest.fixture
def udp_skua(skua_factory):
    sp = free_port()
    s = skua_factory(extra="\n".join([
        "socks_port 127.0.0.1:%d" % sp,
        "socks_udp_timeout 3 seconds",
        "socks_access allow localhost",
        "socks_access deny all"]))
    s.socks_port = sp
    return s


def exchange(u, bnd, host, port, payload, timeout=3):
    u.settimeout(timeout)
    u.sendto(wrap(host, port, payload), bnd)
    data, src = u.recvfrom(65536)
    assert src == bnd, (src, bnd)
    return unwrap(data)


def nothing_back(u, timeout=0.7):
    u.settimeout(timeout)
    try:
        data, _ = u.recvfrom(65536)
    except socket.timeout:
        return True
    except ConnectionRefusedError:
        return True
    return False


# -- loopback ----------------------------------------------------------------

def test_udp_exchange(udp_skua, uecho):
    c, bnd = associate(udp_skua.socks_port)
    assert bnd[0] == "127.0.0.1" and bnd[1] != 0
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    host, port, payload = exchange(u, bnd, "127.0.0.1", uecho.port,
                                   b"hello udp")
    assert (host, port, payload) == ("127.0.0.1", uecho.port, b"hello udp")
    # By name: skua resolves tunnel.test through the DNS stub.
    host, port, payload = exchange(u, bnd, "tunnel.test", uecho.port,
                                   b"by name")
    assert (host, port, payload) == ("127.0.0.1", uecho.port, b"by name")
    big = os.urandom(8000)
    assert exchange(u, bnd, "127.0.0.1", uecho.port, big)[2] == big
    c.close()
    udp_skua.wait_log(access_rx(r"TCP_TUNNEL/200", "SOCKS5_UDP",
                                "0.0.0.0:0"))
    u.close()


def test_udp_drops(udp_skua, uecho):
    c, bnd = associate(udp_skua.socks_port)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    assert exchange(u, bnd, "127.0.0.1", uecho.port, b"one")[2] == b"one"
    n = len(uecho.got)
    # A fragment (FRAG != 0) is dropped.
    u.sendto(wrap("127.0.0.1", uecho.port, b"frag", frag=1), bnd)
    assert nothing_back(u)
    # A datagram from another port of the client's address is dropped.
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 0))
    other.sendto(wrap("127.0.0.1", uecho.port, b"stranger"), bnd)
    assert nothing_back(other)
    # Truncated header, forbidden destinations: dropped.
    u.sendto(b"\x00\x00\x00\x01\x7f", bnd)
    u.sendto(wrap("0.0.0.0", uecho.port, b"zero"), bnd)
    u.sendto(wrap("127.0.0.1", udp_skua.socks_port, b"self"), bnd)
    assert nothing_back(u)
    assert len(uecho.got) == n, uecho.got[n:]
    # Still working for the right source.
    assert exchange(u, bnd, "127.0.0.1", uecho.port, b"two")[2] == b"two"
    # The association ends with its TCP connection.
    c.close()
    time.sleep(0.5)
    n = len(uecho.got)
    u.sendto(wrap("127.0.0.1", uecho.port, b"late"), bnd)
    assert nothing_back(u)
    assert len(uecho.got) == n
    u.close()
    other.close()


def test_udp_port_named_in_request(udp_skua, uecho):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 0))
    c, bnd = associate(udp_skua.socks_port,
                       dst=("127.0.0.1", u.getsockname()[1]))
    # The first datagram from another port does not claim the association.
    other.sendto(wrap("127.0.0.1", uecho.port, b"first"), bnd)
    assert nothing_back(other)
    assert exchange(u, bnd, "127.0.0.1", uecho.port, b"ok")[2] == b"ok"
    c.close()
    u.close()
    other.close()


def test_udp_idle_timeout(udp_skua, uecho):
    c, bnd = associate(udp_skua.socks_port)
    t0 = time.monotonic()
    c.settimeout(10)
    assert c.recv(100) == b""          # skua closes it: socks_udp_timeout
    assert 2.0 < time.monotonic() - t0 < 8
    c.close()
    udp_skua.wait_log(access_rx(r"TCP_TUNNEL/200", "SOCKS5_UDP",
                                "0.0.0.0:0"))


def test_udp_advertise_address(skua_factory, uecho):
    """udp_advertise_address replaces BND.ADDR (the port stays)."""
    sp = free_port()
    skua_factory(extra="\n".join([
        "socks_port 127.0.0.1:%d" % sp,
        "udp_advertise_address 127.0.0.1",
        "socks_access allow localhost"]))
    c, bnd = associate(sp)
    assert bnd[0] == "127.0.0.1" and bnd[1] != 0
    c.close()
    sp = free_port()
    skua_factory(extra="\n".join([
        "socks_port 127.0.0.1:%d" % sp,
        "udp_advertise_address 192.0.2.7",
        "socks_access allow localhost"]))
    c, bnd = associate(sp)
    assert bnd[0] == "192.0.2.7" and bnd[1] != 0
    c.close()


def test_udp_denied_by_policy(skua_factory, uecho):
    sp = free_port()
    s = skua_factory(extra="\n".join([
        "socks_port 127.0.0.1:%d" % sp,
        "acl udp socks_command udp",
        "socks_access deny udp",
        "socks_access allow localhost"]))
    c = socket.create_connection(("127.0.0.1", sp), timeout=10)
    c.sendall(b"\x05\x01\x00\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00")
    assert recv_exact(c, 12) == b"\x05\x00\x05\x02\x00\x01" + b"\x00" * 6
    c.close()
    s.wait_log(access_rx(r"TCP_DENIED/403", "SOCKS5_UDP", "0.0.0.0:0"))


# -- network namespaces --------------------------------------------------------

NS_CLIENT_NET = ("198.51.100.201", "198.51.100.202", "198.51.100.203")
NS_ECHO_NET = ("203.0.113.201", "203.0.113.202")
ECHO_PORT = 7007

ECHO_SCRIPT = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    data, src = s.recvfrom(65536)
    s.sendto(data, src)
"""

CLIENT_SCRIPT = r"""
import json, socket, struct, sys
skua, port, me, other, echo, eport = sys.argv[1:7]
port, eport = int(port), int(eport)
out = {}
def recv_exact(c, n):
    b = b""
    while len(b) < n:
        p = c.recv(n - len(b))
        if not p:
            raise EOFError(b)
        b += p
    return b
c = socket.socket()
c.settimeout(10)
c.bind((me, 0))
c.connect((skua, port))
c.sendall(b"\x05\x01\x00")
assert recv_exact(c, 2) == b"\x05\x00"
c.sendall(b"\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00")
r = recv_exact(c, 10)
out["rep"] = r[1]
bnd = (socket.inet_ntoa(r[4:8]), struct.unpack("!H", r[8:10])[0])
out["bnd"] = bnd
def wrap(p):
    return b"\x00\x00\x00\x01" + socket.inet_aton(echo) + \
        struct.pack("!H", eport) + p
def try_recv(u):
    u.settimeout(1.0)
    try:
        d, src = u.recvfrom(65536)
    except (socket.timeout, ConnectionRefusedError):
        return None
    return [list(src), socket.inet_ntoa(d[4:8]),
            struct.unpack("!H", d[8:10])[0], d[10:].decode()]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((me, 0))
u.sendto(wrap(b"hello"), bnd)
out["good"] = try_recv(u)
o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
o.bind((other, 0))
o.sendto(wrap(b"from other address"), bnd)
out["other_addr"] = try_recv(o)
o2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
o2.bind((me, 0))
o2.sendto(wrap(b"from other port"), bnd)
out["other_port"] = try_recv(o2)
u.sendto(wrap(b"again"), bnd)
out["again"] = try_recv(u)
c.close()
print(json.dumps(out))
"""


def run(*cmd, check=True):
    return subprocess.run(list(cmd), capture_output=True, text=True,
                          check=check, timeout=30)


@pytest.fixture
def netns(request):
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if run("ip", "netns", "list", check=False).returncode != 0:
        pytest.skip("the ip command cannot manage network namespaces")
    tag = "%d" % os.getpid()
    nsc, nse = "skua-socks-c%s" % tag, "skua-socks-e%s" % tag
    hc, he = "sksc%s" % tag[-6:], "skse%s" % tag[-6:]
    made = []

    def cleanup():
        for ns in made:
            run("ip", "netns", "del", ns, check=False)
        for link in (hc, he):
            run("ip", "link", "del", link, check=False)
    request.addfinalizer(cleanup)
    for ns, host_if, host_ip, ns_ips in (
            (nsc, hc, NS_CLIENT_NET[0], NS_CLIENT_NET[1:]),
            (nse, he, NS_ECHO_NET[0], NS_ECHO_NET[1:])):
        r = run("ip", "netns", "add", ns, check=False)
        if r.returncode != 0:
            pytest.skip("cannot create a network namespace: %s" % r.stderr)
        made.append(ns)
        run("ip", "link", "add", host_if, "type", "veth", "peer", "name",
            "eth0", "netns", ns)
        run("ip", "addr", "add", host_ip + "/29", "dev", host_if)
        run("ip", "link", "set", host_if, "up")
        for ip in ns_ips:
            run("ip", "-n", ns, "addr", "add", ip + "/29", "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", ns, "route", "add", "default", "via", host_ip)
    return nsc, nse


@pytest.mark.timeout_s(90)
def test_udp_in_namespaces(skua_factory, netns):
    nsc, nse = netns
    sp = free_port()
    s = skua_factory(extra="\n".join([
        "socks_port %s:%d" % (NS_CLIENT_NET[0], sp),
        "acl nsclient src %s/32 %s/32" % NS_CLIENT_NET[1:],
        "socks_access allow nsclient",
        "socks_access deny all"]))
    echo = subprocess.Popen(
        ["ip", "netns", "exec", nse, sys.executable, "-c", ECHO_SCRIPT,
         NS_ECHO_NET[1], str(ECHO_PORT)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert echo.stdout.readline().strip() == "ready"
        # Wait for the veth links (DAD is off for IPv4: quick).
        time.sleep(0.5)
        r = run("ip", "netns", "exec", nsc, sys.executable, "-c",
                CLIENT_SCRIPT, NS_CLIENT_NET[0], str(sp),
                NS_CLIENT_NET[1], NS_CLIENT_NET[2], NS_ECHO_NET[1],
                str(ECHO_PORT), check=False)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
    finally:
        echo.kill()
        echo.wait(5)
    assert out["rep"] == 0
    # BND.ADDR: the address the client reached, not a wildcard.
    assert out["bnd"][0] == NS_CLIENT_NET[0], out
    assert out["good"] == [out["bnd"], NS_ECHO_NET[1], ECHO_PORT, "hello"]
    assert out["other_addr"] is None, out
    assert out["other_port"] is None, out
    assert out["again"] is not None and out["again"][3] == "again", out
    s.wait_log(access_rx(r"TCP_TUNNEL/200", "SOCKS5_UDP", "0.0.0.0:0"))
    line = [ln for ln in s.log_lines() if "SOCKS5_UDP" in ln][0]
    assert NS_CLIENT_NET[1] in line
