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

import re
import shutil
import subprocess

import pytest

from harness import tail
from netns import CLIENT4, CLIENT6, GW_C4, GW_S4, GW_S6, HELPER, \
    NS_G, SERVER4, SERVER6, Gateway, client_get, fields, run_gateway, \
    scratch_ns, sh

pytestmark = pytest.mark.timeout_s(60)

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



needs_iptables = pytest.mark.skipif(
    shutil.which("iptables") is None or shutil.which("ip6tables") is None,
    reason="iptables is not installed (Debian: iptables)")


@pytest.fixture(scope="module")
def gw(skua_bin, tmp_path_factory):
    yield from run_gateway(
        lambda: Gateway(skua_bin, str(tmp_path_factory.mktemp("intercept")),
                        skua_conf, ORIGIN), NFT_RULES)


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
    with scratch_ns("h") as ns:
        for mode in ("--redirect", "--tproxy"):
            sh("sh", HELPER, mode, "--ports", "80,8080", "--to-port", "3130",
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
            sh("sh", HELPER, mode, "--remove", ns=ns)
            assert sh("nft", "list", "table", "inet", "skua", ns=ns,
                      check=False).returncode != 0
        assert "fwmark" not in sh("ip", "rule", ns=ns).stdout.decode()


@needs_iptables
def test_helper_iptables(gw):
    """The --iptables form: REDIRECT (with --iface and --user), TPROXY and
    UDP sets side by side, each taken away by --name alone, the policy
    routing with the last TPROXY set."""

    def rules(cmd, table):
        return sh(cmd, "-t", table, "-S", ns=ns).stdout.decode()

    with scratch_ns("i") as ns:
        sh("sh", HELPER, "--iptables", "--name", "web", "--ports", "80,8080",
           "--to-port", "3129", "--iface", "lo", "--user", "root",
           "--exclude", "192.0.2.0/24", "--exclude", "2001:db8:9::/48",
           "--apply", ns=ns)
        sh("sh", HELPER, "--iptables", "--name", "tls", "--tproxy",
           "--ports", "443", "--to-port", "3130", "--apply", ns=ns)
        sh("sh", HELPER, "--iptables", "--udp", "--ports", "53",
           "--to-port", "3131", "--apply", ns=ns)
        nat4, nat6 = rules("iptables", "nat"), rules("ip6tables", "nat")
        assert "-A PREROUTING -i lo -j SKUA_REDIRECT_web" in nat4, nat4
        assert "--uid-owner 0 -j SKUA_REDIRECT_web" in nat4, nat4
        assert "-A SKUA_REDIRECT_web -d 192.0.2.0/24 -j RETURN" in nat4
        assert "2001:db8:9::/48" in nat6 and "192.0.2" not in nat6, nat6
        assert re.search(r"--dports 80,8080 -j REDIRECT --to-ports 3129",
                         nat4), nat4
        m4 = rules("iptables", "mangle")
        assert re.search(r"-A SKUA_TPROXY_tls -p tcp .*--dports 443 "
                         r"-j TPROXY --on-port 3130", m4), m4
        assert re.search(r"-A SKUA_TPROXY -p udp .*--dports 53 "
                         r"-j TPROXY --on-port 3131", m4), m4
        assert "-p udp -m socket --transparent -j SKUA_DIVERT" in m4, m4
        assert len([ln for ln in sh("ip", "rule", ns=ns).stdout.decode()
                    .splitlines() if "fwmark 0x1 lookup 100" in ln]) == 1

        sh("sh", HELPER, "--iptables", "--name", "web", "--remove", ns=ns)
        assert "SKUA" not in rules("iptables", "nat")
        assert "SKUA" not in rules("ip6tables", "nat")
        sh("sh", HELPER, "--iptables", "--name", "tls", "--remove", ns=ns)
        m4 = rules("iptables", "mangle")
        assert "SKUA_TPROXY_tls" not in m4 and "SKUA_TPROXY " in m4, m4
        assert "fwmark 0x1" in sh("ip", "rule", ns=ns).stdout.decode()
        sh("sh", HELPER, "--iptables", "--remove", ns=ns)
        assert "SKUA" not in rules("iptables", "mangle")
        assert "SKUA" not in rules("ip6tables", "mangle")
        assert "fwmark" not in sh("ip", "rule", ns=ns).stdout.decode()
        assert "fwmark" not in sh("ip", "-6", "rule", ns=ns).stdout.decode()


@needs_iptables
def test_iptables_rules_intercept(gw):
    """The gateway intercepting with the iptables rules skua-intercept
    --iptables installs (REDIRECT for 80, TPROXY for 8080) instead of the
    nftables ones: the same requests reach skua, IPv4 and IPv6."""
    sh("nft", "delete", "table", "inet", "skua_test", ns=NS_G)
    try:
        sh("sh", HELPER, "--iptables", "--name", "r", "--ports", "80",
           "--to-port", str(ICPT_PORT), "--iface", "c1", "--apply", ns=NS_G)
        sh("sh", HELPER, "--iptables", "--name", "t", "--tproxy", "--ports",
           "8080", "--to-port", str(TPROXY_PORT), "--iface", "c1",
           "--apply", ns=NS_G)
        for server in (SERVER4, SERVER6):
            host = "[%s]" % server if ":" in server else server
            code, body = client_get("http://%s/ipt" % host)
            assert code == 200, body
            assert fields(body)["peer"] in (GW_S4, GW_S6)
            gw.wait_log(r"GET http://%s/ipt " % re.escape(host))
            code, body = client_get("http://%s:8080/ipt" % host)
            assert code == 200, body
            assert fields(body)["peer"] in (CLIENT4, CLIENT6)
            gw.wait_log(r"GET http://%s:8080/ipt " % re.escape(host))
    finally:
        for name in ("r", "t"):
            sh("sh", HELPER, "--iptables", "--name", name, "--remove",
               ns=NS_G, check=False)
        p = subprocess.run(["ip", "netns", "exec", NS_G, "nft", "-f", "-"],
                           input=NFT_RULES.encode(), capture_output=True)
        assert p.returncode == 0, p.stderr
        for fam in ("-4", "-6"):
            if not sh("ip", fam, "rule", "show", "fwmark", "1", ns=NS_G).stdout:
                sh("ip", fam, "rule", "add", "fwmark", "1", "lookup", "100",
                   ns=NS_G)
            sh("ip", fam, "route", "replace", "local",
               "0.0.0.0/0" if fam == "-4" else "::/0", "dev", "lo",
               "table", "100", ns=NS_G)
    code, body = client_get("http://%s/after" % SERVER4)
    assert code == 200, body


@needs_iptables
def test_helper_mixed_flavours_and_own_mark(gw):
    """An nftables set and an iptables set share the policy routing: the
    first one removed leaves it.  A set with its own --mark and --table
    takes exactly its own routing away, and never a rule or route the
    administrator made."""

    def ip_rules():
        return sh("ip", "rule", ns=ns).stdout.decode()

    with scratch_ns("m") as ns:
        sh("sh", HELPER, "--name", "dns", "--udp", "--ports", "53",
           "--to-port", "3131", "--apply", ns=ns)
        sh("sh", HELPER, "--iptables", "--name", "tls", "--tproxy",
           "--ports", "443", "--to-port", "3130", "--apply", ns=ns)
        sh("sh", HELPER, "--iptables", "--name", "tls", "--remove", ns=ns)
        assert "fwmark 0x1 lookup 100" in ip_rules(), "nft set lost it"
        sh("sh", HELPER, "--iptables", "--name", "tls", "--tproxy",
           "--ports", "443", "--to-port", "3130", "--apply", ns=ns)
        sh("sh", HELPER, "--name", "dns", "--remove", ns=ns)
        assert "fwmark 0x1 lookup 100" in ip_rules(), "iptables set lost it"
        sh("sh", HELPER, "--iptables", "--name", "tls", "--remove", ns=ns)
        assert "fwmark" not in ip_rules()

        sh("sh", HELPER, "--name", "own", "--tproxy", "--mark", "2",
           "--table", "200", "--apply", ns=ns)
        rules = ip_rules()
        assert "fwmark 0x2 lookup 200" in rules and "0x1" not in rules
        assert b"local" in sh("ip", "route", "show", "table", "200",
                              ns=ns).stdout
        sh("sh", HELPER, "--name", "own", "--mark", "2", "--table", "200",
           "--remove", ns=ns)
        assert "fwmark" not in ip_rules()
        for fam in ("-4", "-6"):
            assert sh("ip", fam, "route", "show", "table", "200", ns=ns,
                      check=False).stdout.strip() == b""

        # routing the administrator made stays theirs
        sh("ip", "rule", "add", "fwmark", "3", "lookup", "300", ns=ns)
        sh("ip", "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table",
           "300", ns=ns)
        sh("sh", HELPER, "--name", "adm", "--tproxy", "--ipv4", "--mark",
           "3", "--table", "300", "--apply", ns=ns)
        assert ip_rules().count("fwmark 0x3 lookup 300") == 1
        sh("sh", HELPER, "--name", "adm", "--ipv4", "--mark", "3",
           "--table", "300", "--remove", ns=ns)
        assert "fwmark 0x3 lookup 300" in ip_rules()
        assert b"local default" in sh("ip", "route", "show", "table", "300",
                                      ns=ns).stdout


def test_helper_named_sets(gw):
    """Rule sets with --name live side by side (a gateway intercepting
    HTTP by REDIRECT, TLS by TPROXY and DNS over UDP at once), come off
    one by one, and share the TPROXY policy routing until the last one
    using it goes."""

    def tables():
        out = sh("nft", "list", "tables", "inet", ns=ns).stdout.decode()
        return sorted(re.findall(r"table inet (\S+)", out))

    def fwmark_rules():
        return [line for fam in ("-4", "-6") for line in
                sh("ip", fam, "rule", ns=ns).stdout.decode().splitlines()
                if "fwmark 0x1 lookup 100" in line]

    with scratch_ns("h") as ns:
        sh("sh", HELPER, "--name", "web", "--ports", "80",
           "--to-port", "3129", "--apply", ns=ns)
        sh("sh", HELPER, "--name", "tls", "--tproxy", "--ports", "443",
           "--to-port", "3130", "--apply", ns=ns)
        sh("sh", HELPER, "--name", "dns", "--udp", "--ports", "53",
           "--to-port", "3131", "--apply", ns=ns)
        assert tables() == ["skua_dns", "skua_tls", "skua_web"]
        web = sh("nft", "list", "table", "inet", "skua_web",
                 ns=ns).stdout.decode()
        dns = sh("nft", "list", "table", "inet", "skua_dns",
                 ns=ns).stdout.decode()
        assert "tcp dport 80 redirect to :3129" in web, web
        assert "udp dport 53 tproxy ip to :3131" in dns, dns
        # one policy routing rule per family, however many sets use it
        assert len(fwmark_rules()) == 2, fwmark_rules()
        # the same name twice is refused, the rules stay as they were
        p = sh("sh", HELPER, "--name", "web", "--ports", "8080",
               "--apply", ns=ns, check=False)
        assert p.returncode != 0 and b"exists already" in p.stderr
        for bad in ("a-b", "x" * 13):
            p = sh("sh", HELPER, "--name", bad, "--apply", ns=ns,
                   check=False)
            assert p.returncode == 2 and b"--name" in p.stderr, p.stderr
        sh("sh", HELPER, "--name", "tls", "--remove", ns=ns)
        assert tables() == ["skua_dns", "skua_web"]
        assert len(fwmark_rules()) == 2, "dns still needs the routing"
        sh("sh", HELPER, "--name", "dns", "--remove", ns=ns)
        assert tables() == ["skua_web"]
        assert fwmark_rules() == []
        assert sh("ip", "route", "show", "table", "100",
                  ns=ns).stdout.strip() == b""
        sh("sh", HELPER, "--name", "web", "--remove", ns=ns)
        assert tables() == []
