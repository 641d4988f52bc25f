"""Transparent interception with real kernel rules.

A topology of three network namespaces joined by veth pairs:

    client 198.51.100.2    gateway (skua)         server 203.0.113.10, .11
           2001:db8:1::2 -- 198.51.100.1 | 203.0.113.1 -- 2001:db8:2::10
                            2001:db8:1::1 | 2001:db8:2::1

The gateway forwards and runs real nftables rules: TCP port 80 from the
client side is REDIRECTed to skua's intercept port, TCP port 8080 is
TPROXYed to its tproxy port (with the fwmark policy routing TPROXY needs).
curl in the client namespace talks to the server's addresses as if there
were no proxy; a small Python origin in the server namespace answers with
the peer address it saw, so a test can tell a spoofed source from skua's.

Skips with a reason when not root or when ip netns / nft are missing; CI
runs as root and runs them.  Everything (namespaces, processes) is torn
down in finalizers, also when a test fails.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from harness import SANITIZER_RX, tail, ASAN_OPTIONS, UBSAN_OPTIONS, \
    clean_env

pytestmark = pytest.mark.timeout_s(60)

TAG = "sk%d" % (os.getpid() % 100000)
NS_C, NS_G, NS_S = TAG + "c", TAG + "g", TAG + "s"
CLIENT4, GW_C4, GW_S4 = "198.51.100.2", "198.51.100.1", "203.0.113.1"
SERVER4, OTHER4 = "203.0.113.10", "203.0.113.11"
CLIENT6, GW_C6, GW_S6 = "2001:db8:1::2", "2001:db8:1::1", "2001:db8:2::1"
SERVER6 = "2001:db8:2::10"
ICPT_PORT, TPROXY_PORT = 3129, 3130

ORIGIN = r'''
import socket, sys, threading
ready = sys.argv[1]
def serve(conn, peer):
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        head = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
        host = ""
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "host":
                host = value.strip()
        local = conn.getsockname()
        body = ("peer=%s host=%s target=%s local=%s port=%d\n"
                % (peer[0].replace("::ffff:", ""), host, head[0].split()[1],
                   local[0].replace("::ffff:", ""), local[1])).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     b"Connection: close\r\nContent-Length: %d\r\n\r\n"
                     % len(body) + body)
socks = []
for port in (80, 8080):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(64)
    socks.append(s)
def loop(s):
    while True:
        conn, peer = s.accept()
        threading.Thread(target=serve, args=(conn, peer),
                         daemon=True).start()
for s in socks:
    threading.Thread(target=loop, args=(s,), daemon=True).start()
open(ready, "w").close()
threading.Event().wait()
'''

NFT_RULES = """
table inet skua_test {
  chain pre_nat {
    type nat hook prerouting priority dstnat;
    iifname "c1" tcp dport 80 redirect to :%(icpt)d
  }
  chain pre_mangle {
    type filter hook prerouting priority mangle;
    meta l4proto tcp socket transparent 1 meta mark set 1 accept
    iifname "c1" meta nfproto ipv4 tcp dport 8080 tproxy ip to :%(tp)d meta mark set 1 accept
    iifname "c1" meta nfproto ipv6 tcp dport 8080 tproxy ip6 to :%(tp)d meta mark set 1 accept
  }
}
""" % {"icpt": ICPT_PORT, "tp": TPROXY_PORT}


def sh(*cmd, ns=None, check=True, timeout=20):
    """Run a command (in namespace <ns>); return CompletedProcess."""
    argv = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout, env=clean_env())
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (
            " ".join(argv), p.returncode,
            p.stderr.decode("utf-8", "replace")))
    return p


def why_not_runnable():
    if os.geteuid() != 0:
        return "needs root (network namespaces and nftables)"
    for tool, pkg in (("ip", "iproute2"), ("nft", "nftables"),
                      ("curl", "curl")):
        if shutil.which(tool) is None:
            return "%s is not installed (Debian: %s)" % (tool, pkg)
    probe = TAG + "p"
    p = subprocess.run(["ip", "netns", "add", probe], capture_output=True)
    if p.returncode != 0:
        return "cannot create a network namespace: %s" % p.stderr.decode()
    try:
        p = subprocess.run(["ip", "netns", "exec", probe, "nft", "-f", "-"],
                           input=NFT_RULES.encode(), capture_output=True)
        if p.returncode != 0:
            return "this kernel lacks nftables NAT/TPROXY support: %s" % \
                p.stderr.decode()[:300]
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def build_topology():
    for ns in (NS_C, NS_G, NS_S):
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
    sh("ip", "link", "add", "c0", "netns", NS_C, "type", "veth",
       "peer", "name", "c1", "netns", NS_G)
    sh("ip", "link", "add", "s0", "netns", NS_S, "type", "veth",
       "peer", "name", "s1", "netns", NS_G)
    plan = [
        (NS_C, "c0", [CLIENT4 + "/24"], [CLIENT6 + "/64"]),
        (NS_G, "c1", [GW_C4 + "/24"], [GW_C6 + "/64"]),
        (NS_G, "s1", [GW_S4 + "/24"], [GW_S6 + "/64"]),
        (NS_S, "s0", [SERVER4 + "/24", OTHER4 + "/24"], [SERVER6 + "/64"]),
    ]
    for ns, dev, v4, v6 in plan:
        for a in v4:
            sh("ip", "addr", "add", a, "dev", dev, ns=ns)
        for a in v6:
            sh("ip", "-6", "addr", "add", a, "dev", dev, "nodad", ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)
    sh("ip", "route", "add", "default", "via", GW_C4, ns=NS_C)
    sh("ip", "-6", "route", "add", "default", "via", GW_C6, ns=NS_C)
    sh("ip", "route", "add", "default", "via", GW_S4, ns=NS_S)
    sh("ip", "-6", "route", "add", "default", "via", GW_S6, ns=NS_S)
    for key in ("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
                "net.ipv4.conf.all.rp_filter=0",
                "net.ipv4.conf.default.rp_filter=0"):
        sh("sysctl", "-qw", key, ns=NS_G)
    # TPROXY: marked packets are delivered locally (table 100).
    sh("ip", "rule", "add", "fwmark", "1", "lookup", "100", ns=NS_G)
    sh("ip", "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table",
       "100", ns=NS_G)
    sh("ip", "-6", "rule", "add", "fwmark", "1", "lookup", "100", ns=NS_G)
    sh("ip", "-6", "route", "add", "local", "::/0", "dev", "lo", "table",
       "100", ns=NS_G)
    p = subprocess.run(["ip", "netns", "exec", NS_G, "nft", "-f", "-"],
                       input=NFT_RULES.encode(), capture_output=True)
    assert p.returncode == 0, p.stderr.decode()


def destroy_topology():
    for ns in (NS_C, NS_G, NS_S):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def skua_conf(workdir, strict=False):
    return "\n".join([
        "http_port 127.0.0.1:3128",
        "http_port %d intercept" % ICPT_PORT,
        "http_port %d tproxy" % TPROXY_PORT,
        "intercept_backend auto",
        "host_verify_strict %s" % ("on" if strict else "off"),
        "visible_hostname skua-test",
        "pid_filename %s/skua.pid" % workdir,
        "cache_log %s/cache.log" % workdir,
        "access_log stdio:%s/access.log squid" % workdir,
        "dns_nameservers 127.0.0.1:53",
        "hosts_file %s/hosts" % workdir,
        "workers 1",
        "shutdown_lifetime 1 seconds",
        "dns_timeout 2 seconds",
        "connect_timeout 5 seconds",
        "acl clients src 198.51.100.0/24 2001:db8:1::/64",
        "http_access allow clients",
        "http_access deny all",
    ]) + "\n"


class Gateway:
    """skua in the gateway namespace, and the origin in the server one."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.conf = os.path.join(workdir, "skua.conf")
        self.cache_log = os.path.join(workdir, "cache.log")
        self.access_log = os.path.join(workdir, "access.log")
        self.stderr_path = os.path.join(workdir, "stderr.log")
        self.skua = self.origin = None
        with open(os.path.join(workdir, "hosts"), "w") as f:
            f.write("%s server.test\n%s server.test\n%s other.test\n"
                    % (SERVER4, SERVER6, OTHER4))
        with open(self.conf, "w") as f:
            f.write(skua_conf(workdir))

    def start(self):
        ready = os.path.join(self.workdir, "origin.ready")
        script = os.path.join(self.workdir, "origin.py")
        with open(script, "w") as f:
            f.write(ORIGIN)
        self.origin = subprocess.Popen(
            ["ip", "netns", "exec", NS_S, sys.executable, script, ready],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self._stderr = open(self.stderr_path, "ab")
        self.skua = subprocess.Popen(
            ["ip", "netns", "exec", NS_G, self.binary, "-N", "-f", self.conf,
             "-d", "1"], stdin=subprocess.DEVNULL, stdout=self._stderr,
            stderr=self._stderr,
            env=clean_env(ASAN_OPTIONS=ASAN_OPTIONS,
                          UBSAN_OPTIONS=UBSAN_OPTIONS))
        self.wait_for(lambda: os.path.exists(ready), "the origin to start")
        self.wait_for(lambda: "started" in tail(self.cache_log, 1 << 16),
                      "skua to start")

    def wait_for(self, cond, what, timeout=15):
        end = time.monotonic() + timeout
        while not cond():
            if self.skua is not None and self.skua.poll() is not None:
                raise AssertionError("skua exited (%s) waiting for %s:\n%s"
                                     % (self.skua.returncode, what,
                                        tail(self.stderr_path)))
            if time.monotonic() > end:
                raise AssertionError("timed out waiting for %s\n%s\n%s" % (
                    what, tail(self.stderr_path), tail(self.cache_log)))
            time.sleep(0.05)

    def reconfigure(self, strict):
        mark = tail(self.cache_log, 1 << 20).count("reconfigured")
        with open(self.conf, "w") as f:
            f.write(skua_conf(self.workdir, strict))
        self.skua.send_signal(signal.SIGHUP)
        self.wait_for(lambda: tail(self.cache_log, 1 << 20)
                      .count("reconfigured") > mark, "the reconfigure")

    def stop(self):
        problems = []
        if self.skua is not None:
            if self.skua.poll() is None:
                self.skua.send_signal(signal.SIGTERM)
                try:
                    self.skua.wait(20)
                except subprocess.TimeoutExpired:
                    problems.append("skua ignored SIGTERM")
                    self.skua.kill()
                    self.skua.wait(10)
            self._stderr.close()
            if self.skua.returncode != 0 and not problems:
                problems.append("skua exited %s" % self.skua.returncode)
            for path in (self.stderr_path, self.cache_log):
                text = tail(path, 1 << 20)
                m = SANITIZER_RX.search(text)
                if m:
                    problems.append(text[m.start():m.start() + 2000])
        if self.origin is not None and self.origin.poll() is None:
            self.origin.kill()
            self.origin.wait(10)
        return problems

    def log_lines(self):
        try:
            with open(self.access_log) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def wait_log(self, rx, timeout=5):
        rx = re.compile(rx)
        found = []
        self.wait_for(lambda: found.extend(
            ln for ln in self.log_lines() if rx.search(ln)) or found,
            "an access.log line matching %r (have %r)"
            % (rx.pattern, self.log_lines()[-5:]), timeout)
        return found[0]


@pytest.fixture(scope="module")
def gw(skua_bin, tmp_path_factory):
    reason = why_not_runnable()
    if reason:
        pytest.skip(reason)
    destroy_topology()
    g = None
    try:
        build_topology()
        g = Gateway(skua_bin, str(tmp_path_factory.mktemp("intercept")))
        g.start()
        yield g
    finally:
        problems = g.stop() if g is not None else []
        destroy_topology()
        if g is not None:
            print("=== access.log ===\n%s\n=== cache.log ===\n%s"
                  % (tail(g.access_log), tail(g.cache_log)))
    assert not problems, problems


def client_get(url, *args):
    """curl <url> from the client namespace, no proxy; return
    (http code, body)."""
    p = sh("curl", "-q", "-sS", "-m", "10", "-o", "-", "-w",
           "\n%{http_code}", *args, url, ns=NS_C, check=False, timeout=20)
    out = p.stdout.decode("utf-8", "replace")
    body, _, code = out.rpartition("\n")
    return int(code) if code.isdigit() else 0, body


def fields(body):
    return dict(kv.split("=", 1) for kv in body.split() if "=" in kv)


def test_startup_logs_backend_per_port(gw):
    log = tail(gw.cache_log, 1 << 16)
    assert re.search(r"http_port %d intercept: original destinations from "
                     r"the netfilter backend" % ICPT_PORT, log), log
    assert re.search(r"http_port %d tproxy: original destinations from "
                     r"the tproxy backend" % TPROXY_PORT, log), log


def test_redirect_ipv4(gw):
    code, body = client_get("http://%s/r4?x=1" % SERVER4)
    assert code == 200, body
    f = fields(body)
    assert f["local"] == SERVER4 and f["port"] == "80"
    assert f["peer"] == GW_S4           # REDIRECT: the server sees skua
    assert f["host"] == SERVER4 and f["target"] == "/r4?x=1"
    line = gw.wait_log(r"GET http://%s/r4" % re.escape(SERVER4))
    assert "TCP_MISS/200" in line and "HIER_DIRECT/%s" % SERVER4 in line


def test_redirect_ipv6(gw):
    code, body = client_get("http://[%s]/r6" % SERVER6)
    assert code == 200, body
    f = fields(body)
    assert f["local"] == SERVER6 and f["peer"] == GW_S6
    line = gw.wait_log(r"GET http://\[%s\]/r6" % re.escape(SERVER6))
    assert "HIER_DIRECT/%s" % SERVER6 in line


def test_redirect_http10_without_host(gw):
    code, body = client_get("http://%s/nohost" % SERVER4, "-0", "-H",
                            "Host:")
    assert code == 200, body
    f = fields(body)
    assert f["local"] == SERVER4 and f["host"] == SERVER4
    gw.wait_log(r"GET http://%s/nohost" % re.escape(SERVER4))


def test_redirect_host_verified(gw):
    code, body = client_get("http://%s/named" % SERVER4, "-H",
                            "Host: server.test")
    assert code == 200, body
    assert fields(body)["host"] == "server.test"
    gw.wait_log(r"GET http://server.test/named .*HIER_DIRECT/%s"
                % re.escape(SERVER4))
    assert "forgery" not in tail(gw.cache_log, 1 << 20)


def test_tproxy_ipv4_spoofs_client(gw):
    code, body = client_get("http://%s:8080/t4" % SERVER4)
    assert code == 200, body
    f = fields(body)
    assert f["local"] == SERVER4 and f["port"] == "8080"
    assert f["peer"] == CLIENT4         # the server sees the client
    line = gw.wait_log(r"GET http://%s:8080/t4" % re.escape(SERVER4))
    assert "HIER_DIRECT/%s" % SERVER4 in line


def test_tproxy_ipv6_spoofs_client(gw):
    code, body = client_get("http://[%s]:8080/t6" % SERVER6)
    if code == 0:
        pytest.skip("IPv6 TPROXY does not work in this kernel: %r" % body)
    assert code == 200, body
    f = fields(body)
    assert f["local"] == SERVER6 and f["peer"] == CLIENT6


def test_host_forgery_other_server(gw):
    code, body = client_get("http://%s/forged1" % SERVER4, "-H",
                            "Host: other.test")
    assert code == 200, body
    f = fields(body)
    # forwarded to the original destination, never to other.test's
    assert f["local"] == SERVER4 and f["host"] == "other.test"
    gw.wait_for(lambda: "SECURITY ALERT: Host header forgery"
                in tail(gw.cache_log, 1 << 20), "the security alert")
    gw.wait_log(r"GET http://other.test/forged1 .*HIER_DIRECT/%s"
                % re.escape(SERVER4))


def test_host_forgery_wrong_port(gw):
    code, body = client_get("http://%s/forged2" % SERVER4, "-H",
                            "Host: server.test:8081")
    assert code == 200, body
    assert fields(body)["local"] == SERVER4
    assert fields(body)["port"] == "80"
    gw.wait_for(lambda: "intercepted port does not match Host"
                in tail(gw.cache_log, 1 << 20), "the port alert")


def test_loop_refused(gw):
    code, body = client_get("http://%s:%d/loop" % (GW_C4, ICPT_PORT))
    assert code in (403, 0), body
    if code == 403:
        assert "ERR_LOOP_DETECTED" in body


def test_host_verify_strict_409(gw):
    gw.reconfigure(strict=True)
    try:
        code, body = client_get("http://%s/strict" % SERVER4, "-H",
                                "Host: other.test")
        assert code == 409, body
        assert "ERR_CONFLICT_HOST" in body
        code, body = client_get("http://%s/strict-ok" % SERVER4, "-H",
                                "Host: server.test")
        assert code == 200, body
    finally:
        gw.reconfigure(strict=False)


def test_absolute_form_on_intercept_port(gw):
    code, body = client_get("http://server.test/abs", "-x",
                            "http://%s:80" % SERVER4)
    assert code == 200, body
    assert fields(body)["target"] == "/abs"


def test_helper_apply_and_remove(gw):
    """helpers/skua-intercept installs and removes its rules (in a
    namespace of its own, so the topology above is untouched)."""
    helper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                          "..", "helpers", "skua-intercept")
    ns = TAG + "h"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "set", "lo", "up", ns=ns)
        for mode in ("--redirect", "--tproxy"):
            sh("sh", helper, mode, "--ports", "80,8080", "--to-port", "3130",
               "--exclude", "192.0.2.0/24", "--apply", ns=ns)
            rules = sh("nft", "list", "table", "inet", "skua",
                       ns=ns).stdout.decode()
            if mode == "--redirect":
                assert "redirect to :3130" in rules, rules
            else:
                assert "tproxy ip to :3130" in rules, rules
                assert "fwmark 0x1 lookup 100" in sh(
                    "ip", "rule", ns=ns).stdout.decode()
            assert "192.0.2.0/24 return" in rules, rules
            sh("sh", helper, mode, "--remove", ns=ns)
            assert sh("nft", "list", "table", "inet", "skua", ns=ns,
                      check=False).returncode != 0
        assert "fwmark" not in sh("ip", "rule", ns=ns).stdout.decode()
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
