"""Transparent UDP interception (udp_port tproxy) with real kernel rules.

The client -- gateway -- server topology of netns.py:

    client 198.51.100.2    gateway (skua)         server 203.0.113.10
           2001:db8:1::2 -- 198.51.100.1 | 203.0.113.1 -- 2001:db8:2::10
                            2001:db8:1::1 | 2001:db8:2::1

The gateway TPROXYs the UDP datagrams arriving from the client side to
skua's udp_port with the nftables rules and fwmark policy routing that
`helpers/skua-intercept --udp` installs (the `socket transparent` rule
brings the server's answers to skua's spoofed sockets).  In the server
namespace a Python server answers DNS on port 53 (dnsstub.py's answers)
and echoes datagrams on other ports, telling the peer address it saw.
Python clients in the client namespace talk to the server as if there
were no proxy.

Checked: DNS through the interception (the answer comes from the server's
address), the server seeing the client's own address and port, the
access-log line once the flow ends after udp_dns_timeout, an idle echo
flow logged after udp_idle_timeout with its bytes both ways, IPv6, a
server that never answers (UDP_TUNNEL/000), spoof_client_ip deny,
intercept_access, loop refusal, udp_max_flows, a flow outliving a reload
that closes its listener, and shutdown ending live flows.

Skips with a reason when not root or when ip netns / nft are missing.
Namespaces and processes are torn down in finalizers, also on failure.
"""

import errno
import json
import os
import re
import signal
import subprocess
import time

import pytest

from harness import tail, clean_env
from netns import CLIENT4, CLIENT6, GW_C4, GW_S4, NS_C, NS_G, SERVER4, \
    SERVER6, Gateway, run_gateway, sh

pytestmark = pytest.mark.timeout_s(60)

HERE = os.path.dirname(os.path.abspath(__file__))
UDP_PORT = 3131
ECHO_PORT, DENIED_PORT = 7777, 5555
CLOSED_PORT = 6666                      # intercepted, nobody listens

SERVER = r'''
import socket, sys, threading
ready, here, peers = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, here)
from dnsstub import DnsStub
stub = DnsStub({"server.test": {"A": ["203.0.113.10"],
                                "AAAA": ["2001:db8:2::10"]}})
lock = threading.Lock()
def bind(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    return s
def dns(s):
    while True:
        msg, peer = s.recvfrom(4096)
        with lock, open(peers, "a") as f:
            f.write("%s %d\n" % (peer[0].replace("::ffff:", ""), peer[1]))
        resp = stub.answer(msg)
        if resp is not None:
            s.sendto(resp, peer)
def echo(s):
    while True:
        msg, peer = s.recvfrom(65535)
        s.sendto(msg + (" peer=%s port=%d" % (
            peer[0].replace("::ffff:", ""), peer[1])).encode(), peer)
socks = [(dns, bind(53))] + [(echo, bind(p)) for p in (ECHO_PORTS)]
for fn, s in socks:
    threading.Thread(target=fn, args=(s,), daemon=True).start()
open(ready, "w").close()
threading.Event().wait()
'''.replace("ECHO_PORTS", "%d, %d" % (ECHO_PORT, DENIED_PORT))

CLIENT = r'''
import json, random, socket, struct, sys, time
op, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
af = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(af, socket.SOCK_DGRAM)
s.bind(("::" if af == socket.AF_INET6 else "0.0.0.0", 0))
out = {"local": list(s.getsockname()[:2]), "replies": []}
if op == "dns":
    qid = random.randrange(65536)
    name = b"".join(bytes([len(l)]) + l for l in sys.argv[4].encode()
                    .split(b".")) + b"\0"
    qtype = 28 if len(sys.argv) > 5 and sys.argv[5] == "AAAA" else 1
    s.sendto(struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name +
             struct.pack("!HH", qtype, 1), (host, port))
    s.settimeout(3)
    try:
        data, peer = s.recvfrom(4096)
        rid, flags, qd, an = struct.unpack("!HHHH", data[:8])
        pos = 12 + len(name) + 4
        answers = []
        for _ in range(an):
            rtype, rlen = struct.unpack("!H", data[pos + 2:pos + 4])[0], \
                struct.unpack("!H", data[pos + 10:pos + 12])[0]
            rdata = data[pos + 12:pos + 12 + rlen]
            answers.append(socket.inet_ntop(
                socket.AF_INET if rtype == 1 else socket.AF_INET6, rdata))
            pos += 12 + rlen
        out.update(id_ok=rid == qid, rcode=flags & 15, answers=answers,
                   peer=list(peer[:2]))
    except socket.timeout:
        out["timeout"] = True
elif op == "closed":
    # A connected socket, as resolvers and QUIC stacks use: the port
    # unreachable comes back as ECONNREFUSED on the next receive.
    s.connect((host, port))
    s.settimeout(3)
    t0 = time.monotonic()
    s.send(b"anyone there?")
    try:
        s.recv(4096)
        out["answer"] = True
    except socket.timeout:
        out["timeout"] = True
    except OSError as e:
        out["error"] = e.errno
    out["elapsed"] = time.monotonic() - t0
else:
    count = int(sys.argv[4])
    s.settimeout(float(sys.argv[5]) if len(sys.argv) > 5 else 3)
    for i in range(count):
        s.sendto(b"dgram-%d-" % i + b"x" * (10 * i), (host, port))
        if op == "echo":
            try:
                data, peer = s.recvfrom(65535)
                out["replies"].append([data.decode(), list(peer[:2])])
            except socket.timeout:
                out["replies"].append(None)
    if op == "burst":
        end = time.monotonic() + float(sys.argv[5])
        while time.monotonic() < end:
            try:
                data, peer = s.recvfrom(65535)
                out["replies"].append([data.decode(), list(peer[:2])])
            except socket.timeout:
                break
print(json.dumps(out))
'''


# What the runnability probe loads; the gateway gets the rules that
# `helpers/skua-intercept --udp` installs.
PROBE_RULES = """
table inet skua_udp_test {
  chain pre_mangle {
    type filter hook prerouting priority mangle;
    socket transparent 1 meta mark set 1 accept
    iifname "c1" meta l4proto udp tproxy to :%d meta mark set 1 accept
  }
}
""" % UDP_PORT


def skua_conf(workdir, name="udp", max_flows=16384, idle="2 seconds",
              extra=()):
    return "\n".join(list(extra) + [
        "http_port 127.0.0.1:3128",
        "udp_port %d tproxy name=%s" % (UDP_PORT, name),
        "udp_dns_timeout 1 second",
        "udp_idle_timeout %s" % idle,
        "udp_max_flows %d" % max_flows,
        "acl denied_port port %d" % DENIED_PORT,
        "intercept_access deny denied_port",
        "intercept_access allow all",
        "visible_hostname skua-test",
        "pid_filename %s/skua.pid" % workdir,
        "cache_log %s/cache.log" % workdir,
        "access_log stdio:%s/access.log squid" % workdir,
        "access_log stdio:%s/access.json json" % workdir,
        "dns_nameservers 127.0.0.1:53",
        "workers 2",
        "shutdown_lifetime 5 seconds",
        "http_access deny all",
    ]) + "\n"


class UdpGateway(Gateway):
    """netns.Gateway with the UDP server, the Python client and the JSON
    access log."""

    def __init__(self, binary, workdir):
        self.json_log = os.path.join(workdir, "access.json")
        self.peers = os.path.join(workdir, "dns_peers")
        self.client_py = os.path.join(workdir, "client.py")
        super().__init__(binary, workdir, skua_conf, SERVER,
                         server_args=(HERE, self.peers))
        with open(self.client_py, "w") as f:
            f.write(CLIENT)

    def json_entry(self, url, client_port):
        for ln in self.log_lines(self.json_log):
            e = json.loads(ln)
            if e.get("url") == url and e.get("client_port") == client_port:
                return e
        return None

    def client(self, *args, timeout=20):
        p = sh("/usr/bin/python3", self.client_py, *[str(a) for a in args],
               ns=NS_C, timeout=timeout)
        return json.loads(p.stdout.decode())

    def dns_peers(self):
        try:
            with open(self.peers) as f:
                return [ln.split() for ln in f.read().splitlines()]
        except OSError:
            return []


@pytest.fixture(scope="module")
def gw(skua_bin, tmp_path_factory):
    def make():
        rules = sh("nft", "list", "table", "inet", "skua", ns=NS_G).stdout
        assert b"udp dport" in rules and b"tproxy ip6 to" in rules, rules
        return UdpGateway(skua_bin,
                          str(tmp_path_factory.mktemp("intercept_udp")))
    yield from run_gateway(
        make, probe_rules=PROBE_RULES, curl=False, wait_dad=True,
        helper_args=("--udp", "--iface", "c1", "--ports",
                     "53,%d,%d,%d,%d" % (ECHO_PORT, DENIED_PORT, UDP_PORT,
                                         CLOSED_PORT),
                     "--to-port", str(UDP_PORT)))


def line_rx(client, url, result=r"UDP_TUNNEL/200"):
    return r" %s %s \d+ UDP %s " % (re.escape(client), result,
                                    re.escape(url))


def test_startup_logs_backend(gw):
    log = tail(gw.cache_log, 1 << 16)
    assert re.search(r"udp_port %d tproxy name=udp: original destinations "
                     r"from the tproxy backend" % UDP_PORT, log), log


def test_dns_ipv4_through_interception(gw):
    out = gw.client("dns", SERVER4, 53, "server.test")
    assert not out.get("timeout"), out
    assert out["id_ok"] and out["rcode"] == 0, out
    assert out["answers"] == [SERVER4], out
    # the answer comes from the address the client asked, not skua's
    assert out["peer"] == [SERVER4, 53], out
    # the server saw the client's own address and port (spoofed)
    cport = out["local"][1]
    assert [CLIENT4, str(cport)] in gw.dns_peers(), gw.dns_peers()
    # logged when the flow ends, after udp_dns_timeout (1 s)
    t0 = time.monotonic()
    line = gw.wait_log(line_rx(CLIENT4, "%s:53" % SERVER4), timeout=5)
    assert time.monotonic() - t0 < 4
    assert "ORIGINAL_DST/%s" % SERVER4 in line, line
    f = line.split()
    assert int(f[1]) >= 900, line           # duration: the DNS timeout
    assert int(f[4]) > 0, line              # bytes sent to the client
    e = gw.json_entry("%s:53" % SERVER4, cport)
    assert e is not None, gw.log_lines(gw.json_log)
    assert e["proto"] == "udp" and e["dst_how"] == "nat", e
    assert e["method"] == "UDP" and e["listener"] == "udp", e
    assert e["bytes_in"] == e["server_bytes_out"] > 0, e
    assert e["bytes_out"] == e["server_bytes_in"] > 0, e


def test_dns_ipv6_through_interception(gw):
    out = gw.client("dns", SERVER6, 53, "server.test", "AAAA")
    if out.get("timeout"):
        pytest.skip("IPv6 TPROXY for UDP does not work in this kernel")
    assert out["answers"] == [SERVER6], out
    assert out["peer"][:2] == [SERVER6, 53], out
    assert [CLIENT6, str(out["local"][1])] in gw.dns_peers()
    gw.wait_log(line_rx(CLIENT6, "[%s]:53" % SERVER6), timeout=5)


def test_echo_several_datagrams_and_idle_end(gw):
    out = gw.client("echo", SERVER4, ECHO_PORT, 5)
    cport = out["local"][1]
    sent = 0
    for i, r in enumerate(out["replies"]):
        assert r is not None, out
        data, peer = r
        payload = "dgram-%d-" % i + "x" * (10 * i)
        sent += len(payload)
        assert data == "%s peer=%s port=%d" % (payload, CLIENT4, cport), r
        assert peer == [SERVER4, ECHO_PORT], r
    # one flow, one line, after udp_idle_timeout (2 s) without traffic
    t0 = time.monotonic()
    url = "%s:%d" % (SERVER4, ECHO_PORT)
    lines = gw.wait_lines(line_rx(CLIENT4, url), timeout=6)
    assert time.monotonic() - t0 >= 1.0
    assert len(lines) == 1, lines
    e = gw.json_entry(url, cport)
    assert e is not None
    assert e["bytes_in"] == e["server_bytes_out"] == sent, e
    assert e["bytes_out"] == e["server_bytes_in"] > sent, e
    assert e["duration_ms"] >= 1900, e      # 2 s idle timeout


def test_echo_ipv6(gw):
    out = gw.client("echo", SERVER6, ECHO_PORT, 3)
    if out["replies"][0] is None:
        pytest.skip("IPv6 TPROXY for UDP does not work in this kernel")
    for r in out["replies"]:
        assert r is not None and r[1][:2] == [SERVER6, ECHO_PORT], out
        assert "peer=%s port=%d" % (CLIENT6, out["local"][1]) in r[0]


def test_no_answer_logged_000(gw):
    """A flow whose server never answers ends after udp_dns_timeout and
    says so: UDP_TUNNEL/000, as Squid logs a request nothing was sent back
    to."""
    silent = "203.0.113.99"             # nobody has this address
    out = gw.client("dns", silent, 53, "server.test")
    assert out.get("timeout"), out
    line = gw.wait_log(line_rx(CLIENT4, "%s:53" % silent,
                               r"UDP_TUNNEL/000"), timeout=5)
    assert line.split()[4] == "0", line


@pytest.mark.parametrize("spoof", [True, False], ids=["spoofed", "own"])
@pytest.mark.parametrize("server", [SERVER4, SERVER6])
def test_closed_port_refused(gw, server, spoof):
    """A datagram to a port nobody listens on: the client's connected
    socket gets ECONNREFUSED at once, as without skua (the server's port
    unreachable, or skua's own from the destination's address when the
    server answered skua's address), not a timeout."""
    if not spoof:
        gw.reconfigure(extra=["spoof_client_ip deny all"])
    try:
        out = gw.client("closed", server, CLOSED_PORT)
        assert out.get("error") == errno.ECONNREFUSED, out
        assert out["elapsed"] < 2, out
        # logged once idle: /503 when skua passed the refusal on itself
        v6 = ":" in server
        url = ("[%s]:%d" if v6 else "%s:%d") % (server, CLOSED_PORT)
        gw.wait_log(line_rx(CLIENT6 if v6 else CLIENT4, url,
                            r"UDP_TUNNEL/%s" % ("000" if spoof else "503")),
                    timeout=6)
        e = gw.json_entry(url, out["local"][1])
        assert e is not None and e["bytes_out"] == 0, e
    finally:
        if not spoof:
            gw.reconfigure()


def test_spoof_client_ip_deny(gw):
    """With spoof_client_ip denying, datagrams leave from skua's own
    address; answers still reach the client from the server's."""
    gw.reconfigure(extra=["spoof_client_ip deny all"])
    try:
        out = gw.client("echo", SERVER4, ECHO_PORT, 2)
        for r in out["replies"]:
            assert r is not None, out
            assert " peer=%s " % GW_S4 in r[0], r
            assert r[1] == [SERVER4, ECHO_PORT], r
    finally:
        gw.reconfigure()


def test_outgoing_address_without_spoofing(gw):
    """Not spoofing, a flow leaves from tcp_outgoing_address, as TCP
    does (here a second address of the gateway's server side)."""
    extra = "203.0.113.2"
    try:
        sh("ip", "addr", "add", extra + "/24", "dev", "s1", ns=NS_G)
        gw.reconfigure(extra=["spoof_client_ip deny all",
                              "acl echo_port port %d" % ECHO_PORT,
                              "tcp_outgoing_address %s echo_port" % extra])
        out = gw.client("echo", SERVER4, ECHO_PORT, 1)
        r = out["replies"][0]
        assert r is not None and " peer=%s " % extra in r[0], out
        # the acl decides: DNS (port 53) leaves from the usual address
        out = gw.client("dns", SERVER4, 53, "server.test")
        assert out.get("answers") == [SERVER4], out
        assert [GW_S4, ] == [p[0] for p in gw.dns_peers()[-1:]], \
            gw.dns_peers()
    finally:
        gw.reconfigure()
        sh("ip", "addr", "del", extra + "/24", "dev", "s1", ns=NS_G,
           check=False)


def test_intercept_access_denies_once(gw):
    out = gw.client("echo", SERVER4, DENIED_PORT, 3, 0.5)
    assert out["replies"] == [None, None, None], out
    gw.wait_log(line_rx(CLIENT4, "%s:%d" % (SERVER4, DENIED_PORT),
                        r"UDP_DENIED/403"), timeout=5)
    time.sleep(1.0)
    lines = [ln for ln in gw.log_lines()
             if "%s:%d" % (SERVER4, DENIED_PORT) in ln]
    assert len(lines) == 1, lines
    assert "HIER_NONE/-" in lines[0], lines


def test_loop_refused(gw):
    out = gw.client("echo", GW_C4, UDP_PORT, 2, 0.5)
    assert out["replies"] == [None, None], out
    gw.wait_for(lambda: "refusing an intercepted UDP flow" in
                tail(gw.cache_log, 1 << 20), "the loop notice")
    gw.wait_log(line_rx(CLIENT4, "%s:%d" % (GW_C4, UDP_PORT),
                        r"UDP_DENIED/403"), timeout=5)


def test_flow_survives_reload_closing_its_listener(gw):
    """A reload that changes the udp_port line closes its listener; the
    live flow keeps its own sockets and goes on."""
    script = r'''
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"before", ("%s", %d))
print(s.getsockname()[1], s.recv(1000).decode(), flush=True)
sys.stdin.readline()
s.sendto(b"after", ("%s", %d))
print(s.recv(1000).decode(), flush=True)
''' % (SERVER4, ECHO_PORT, SERVER4, ECHO_PORT)
    p = subprocess.Popen(["ip", "netns", "exec", NS_C, "/usr/bin/python3",
                          "-c", script], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, env=clean_env())
    try:
        cport, first = p.stdout.readline().decode().split(" ", 1)
        assert first.startswith("before peer="), first
        gw.reconfigure(name="udp2")
        p.stdin.write(b"\n")
        p.stdin.flush()
        assert p.stdout.readline().decode().startswith("after peer=")
        assert p.wait(10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # one line for the flow, under the listener name it started with
    url = "%s:%d" % (SERVER4, ECHO_PORT)
    gw.wait_for(lambda: gw.json_entry(url, int(cport)) is not None,
                "the reloaded flow's log line", timeout=6)
    e = gw.json_entry(url, int(cport))
    assert e["listener"] == "udp" and e["bytes_in"] == 11, e
    assert sum(1 for ln in gw.log_lines(gw.json_log)
               if '"client_port":%s,' % cport in ln) == 1
    # new flows use the new listener
    out = gw.client("dns", SERVER4, 53, "server.test")
    assert out["answers"] == [SERVER4], out


def test_max_flows(gw):
    gw.reconfigure(name="udp2", max_flows=2)
    try:
        time.sleep(2.5)                 # earlier flows end (2 s idle)
        mark = tail(gw.cache_log, 1 << 20).count("udp_max_flows (2)")
        replies = []
        procs = [subprocess.Popen(
            ["ip", "netns", "exec", NS_C, "/usr/bin/python3", gw.client_py,
             "echo", SERVER4, str(ECHO_PORT), "1", "1"],
            stdout=subprocess.PIPE, env=clean_env()) for _ in range(6)]
        for p in procs:
            out, _ = p.communicate(timeout=15)
            replies.append(json.loads(out.decode())["replies"][0])
        answered = [r for r in replies if r is not None]
        # two workers: each has at most 2 flows
        assert 2 <= len(answered) <= 4, replies
        gw.wait_for(lambda: tail(gw.cache_log, 1 << 20)
                    .count("udp_max_flows (2)") > mark, "the drop report")
    finally:
        gw.reconfigure(name="udp2")


def test_shutdown_ends_live_flows(gw):
    """Stopping skua with live flows (idle timeout far away) is prompt and
    logs them."""
    gw.reconfigure(name="udp2", idle="30 seconds")
    out = gw.client("echo", SERVER4, ECHO_PORT, 1)
    assert out["replies"][0] is not None, out
    cport = out["local"][1]
    t0 = time.monotonic()
    gw.skua.send_signal(signal.SIGTERM)
    gw.skua.wait(20)
    assert time.monotonic() - t0 < 4, "shutdown waited for an idle flow"
    assert gw.skua.returncode == 0
    e = gw.json_entry("%s:%d" % (SERVER4, ECHO_PORT), cport)
    assert e is not None, gw.log_lines(gw.json_log)[-3:]
