"""Network-namespace topologies for the interception tests.

    client 198.51.100.2    gateway (skua)         server 203.0.113.10, .11
           2001:db8:1::2 -- 198.51.100.1 | 203.0.113.1 -- 2001:db8:2::10
                            2001:db8:1::1 | 2001:db8:2::1

The gateway forwards, has the fwmark policy routing TPROXY needs, and
installs the nftables rules a test module gives (or those that
helpers/skua-intercept installs with the arguments it gives).  Gateway
runs skua there and a Python server program in the server namespace.
Everything is torn down by the callers' finalizers, also when a test
fails.
"""

import contextlib
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

TAG = "sk%d" % (os.getpid() % 100000)
NS_C, NS_G, NS_S = TAG + "c", TAG + "g", TAG + "s"
CLIENT4, GW_C4, GW_S4 = "198.51.100.2", "198.51.100.1", "203.0.113.1"
SERVER4, OTHER4 = "203.0.113.10", "203.0.113.11"
CLIENT6, GW_C6, GW_S6 = "2001:db8:1::2", "2001:db8:1::1", "2001:db8:2::1"
SERVER6 = "2001:db8:2::10"
HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "helpers", "skua-intercept")


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


@contextlib.contextmanager
def scratch_ns(suffix):
    """A namespace of its own (loopback up) for the body of a with-block,
    deleted afterwards, also on failure; yields its name."""
    ns = TAG + suffix
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "set", "lo", "up", ns=ns)
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def why_not_runnable(nft_rules, curl=True):
    """Why the topology cannot be built here (None if it can): not root, a
    tool missing (curl only when <curl>), or a kernel that refuses
    <nft_rules> in a scratch namespace."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and nftables)"
    tools = [("ip", "iproute2"), ("nft", "nftables")]
    if curl:
        tools.append(("curl", "curl"))
    for tool, pkg in tools:
        if shutil.which(tool) is None:
            return "%s is not installed (Debian: %s)" % (tool, pkg)
    probe = TAG + "p"
    p = subprocess.run(["ip", "netns", "add", probe], capture_output=True)
    if p.returncode != 0:
        return "cannot create a network namespace: %s" % p.stderr.decode()
    try:
        p = subprocess.run(["ip", "netns", "exec", probe, "nft", "-f", "-"],
                           input=nft_rules.encode(), capture_output=True)
        if p.returncode != 0:
            return "this kernel lacks the nftables support the rules " \
                "need (NAT, TPROXY, socket): %s" % p.stderr.decode()[:300]
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def build_topology(nft_rules=None, helper_args=None, wait_dad=False):
    """Create the namespaces and links.  The gateway's interception rules
    are <nft_rules> (nftables text) with the fwmark policy routing TPROXY
    needs or, with <helper_args>, both as helpers/skua-intercept installs
    them with these arguments and --apply.  With <wait_dad>, return only
    once no address is tentative any more."""
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
    if helper_args is not None:
        # The rules and the fwmark policy routing, as the helper does them.
        sh("sh", HELPER, *helper_args, "--apply", ns=NS_G)
    else:
        # TPROXY: marked packets are delivered locally (table 100).
        sh("ip", "rule", "add", "fwmark", "1", "lookup", "100", ns=NS_G)
        sh("ip", "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table",
           "100", ns=NS_G)
        sh("ip", "-6", "rule", "add", "fwmark", "1", "lookup", "100",
           ns=NS_G)
        sh("ip", "-6", "route", "add", "local", "::/0", "dev", "lo",
           "table", "100", ns=NS_G)
        p = subprocess.run(["ip", "netns", "exec", NS_G, "nft", "-f", "-"],
                           input=nft_rules.encode(), capture_output=True)
        assert p.returncode == 0, p.stderr.decode()
    if wait_dad:
        wait_dad_done()


def wait_dad_done(timeout=10):
    """Wait (bounded) until duplicate address detection has ended in every
    namespace.  Link-local addresses are tentative for a while after the
    links come up: until then the gateway sends no neighbour solicitation
    for a packet from a foreign (spoofed) source, which would then leave
    late."""
    end = time.monotonic() + timeout
    while any(sh("ip", "-6", "addr", "show", "tentative", ns=ns).stdout
              for ns in (NS_C, NS_G, NS_S)):
        assert time.monotonic() < end, "IPv6 DAD did not finish"
        time.sleep(0.1)


def destroy_topology():
    for ns in (NS_C, NS_G, NS_S):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def run_gateway(make, nft_rules=None, probe_rules=None, curl=True,
                **topology):
    """The body of a module fixture, for `yield from`: skip when
    why_not_runnable(<probe_rules> or <nft_rules>, <curl>) says why, build
    the topology (build_topology(<nft_rules>, **<topology>)), start what
    make() returns and yield it.  Afterwards stop it, take the topology
    down, print the tails of its logs and fail with what its stop()
    reports.  make() returns a Gateway, or an object that has its start(),
    stop(), access_log and cache_log."""
    reason = why_not_runnable(probe_rules or nft_rules, curl)
    if reason:
        pytest.skip(reason)
    destroy_topology()
    g = None
    try:
        build_topology(nft_rules, **topology)
        g = make()
        g.start()
        yield g
    finally:
        problems = g.stop() if g is not None else []
        destroy_topology()
        if g is not None:
            print("=== access.log ===\n%s\n=== cache.log ===\n%s"
                  % (tail(g.access_log), tail(g.cache_log)))
    assert not problems, problems


class Gateway:
    """skua in the gateway namespace, and servers in the server one.

    <make_conf>(workdir, **kw) returns the configuration text; <server>
    is the source of a Python program run in the server namespace with
    the arguments: a path it creates once it is ready, then
    <server_args>."""

    def __init__(self, binary, workdir, make_conf, server, server_args=()):
        self.binary = binary
        self.workdir = workdir
        self.make_conf = make_conf
        self.server = server
        self.server_args = list(server_args)
        self.conf = os.path.join(workdir, "skua.conf")
        self.cache_log = os.path.join(workdir, "cache.log")
        self.access_log = os.path.join(workdir, "access.log")
        self.stderr_path = os.path.join(workdir, "stderr.log")
        self.skua = self.origin = None
        with open(os.path.join(workdir, "hosts"), "w") as f:
            f.write("%s server.test\n%s server.test\n%s other.test\n"
                    % (SERVER4, SERVER6, OTHER4))
        with open(self.conf, "w") as f:
            f.write(make_conf(workdir))

    def start(self):
        ready = os.path.join(self.workdir, "origin.ready")
        script = os.path.join(self.workdir, "origin.py")
        with open(script, "w") as f:
            f.write(self.server)
        self.origin = subprocess.Popen(
            ["ip", "netns", "exec", NS_S, sys.executable, script, ready,
             *self.server_args],
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

    def reconfigure(self, **kw):
        mark = tail(self.cache_log, 1 << 20).count("reconfigured")
        with open(self.conf, "w") as f:
            f.write(self.make_conf(self.workdir, **kw))
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
            if not self._stderr.closed:
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

    def log_lines(self, path=None):
        """The lines of access.log, or of the log at <path>."""
        try:
            with open(path or self.access_log) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def wait_lines(self, rx, timeout=5):
        """Wait for an access.log line matching <rx>; return all that
        match."""
        rx = re.compile(rx)
        found = []

        def have():
            found[:] = [ln for ln in self.log_lines() if rx.search(ln)]
            return found
        self.wait_for(have, "an access.log line matching %r (have %r)"
                      % (rx.pattern, self.log_lines()[-5:]), timeout)
        return found

    def wait_log(self, rx, timeout=5):
        """Wait for an access.log line matching <rx>; return the first."""
        return self.wait_lines(rx, timeout)[0]


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
