"""Intercepted TLS (https_port, peek and splice) and any TCP (tcp_port).

The client -- gateway -- server topology of netns.py, with nftables rules
in the gateway: TCP 443 REDIRECTed to skua's https_port, 8443 TPROXYed to
its tproxy https_port, ports 2222, 2525, 7000 and 7002 REDIRECTed to a
tcp_port and 7001 TPROXYed to a tproxy tcp_port.  The server namespace
runs a real TLS nginx (443, 8443: it answers with the SNI and the peer it
saw) and a Python program with a server-speaks-first service (2525), an
echo service (7000, 7001) and an SSH-like one (2222); nothing listens on
7002.  Clients in the client namespace (curl, and a small Python client)
talk to the server's addresses as if there were no proxy.  Each test
checks what the client got and the access-log lines (squid and json).
"""

import json
import os
import re
import subprocess
import sys

import pytest

from harness import tail
from netns import CLIENT4, CLIENT6, GW_C4, GW_S4, GW_S6, NS_C, NS_S, \
    SERVER4, SERVER6, Gateway, run_gateway, sh
from nginxd import find_nginx, make_cert

pytestmark = pytest.mark.timeout_s(90)

HTTPS_ICPT, HTTPS_TP, TCP_ICPT, TCP_TP = 3443, 3444, 3140, 3141

NFT_RULES = """
table inet skua_test {
  chain pre_nat {
    type nat hook prerouting priority dstnat;
    iifname "c1" tcp dport 443 redirect to :%(hi)d
    iifname "c1" tcp dport { 2222, 2525, 7000, 7002 } redirect to :%(ti)d
  }
  chain pre_mangle {
    type filter hook prerouting priority mangle;
    meta l4proto tcp socket transparent 1 meta mark set 1 accept
    iifname "c1" meta nfproto ipv4 tcp dport 8443 tproxy ip to :%(ht)d meta mark set 1 accept
    iifname "c1" meta nfproto ipv6 tcp dport 8443 tproxy ip6 to :%(ht)d meta mark set 1 accept
    iifname "c1" meta nfproto ipv4 tcp dport 7001 tproxy ip to :%(tt)d meta mark set 1 accept
  }
}
""" % {"hi": HTTPS_ICPT, "ht": HTTPS_TP, "ti": TCP_ICPT, "tt": TCP_TP}

SERVER = r'''
import socket, sys, threading
ready = sys.argv[1]
def peer_of(conn):
    return conn.getpeername()[0].replace("::ffff:", "")
def banner(conn):
    conn.sendall(b"220 smtp.test ESMTP peer=%s\r\n" % peer_of(conn).encode())
    echo(conn)
def echo(conn):
    while True:
        data = conn.recv(4096)
        if not data:
            return
        conn.sendall(b"echo peer=%s " % peer_of(conn).encode() + data)
def ssh(conn):
    conn.recv(4096)
    conn.sendall(b"SSH-2.0-server\r\n")
def serve(handler, conn):
    with conn:
        try:
            handler(conn)
        except OSError:
            pass
def loop(s, handler):
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(handler, conn),
                         daemon=True).start()
for port, handler in ((2525, banner), (7000, echo), (7001, echo),
                      (2222, ssh)):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(64)
    threading.Thread(target=loop, args=(s, handler), daemon=True).start()
open(ready, "w").close()
threading.Event().wait()
'''

# A client run in the client namespace: connect, send, read until EOF or
# a quiet second, print what happened as JSON.
CLIENT = r'''
import json, socket, sys, time
host, port, send = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
first_wait = float(sys.argv[4])
out = {"data": "", "error": None}
try:
    s = socket.create_connection((host, port), timeout=5)
    if first_wait > 0:
        s.settimeout(first_wait)
        try:
            out["data"] += s.recv(4096).decode("latin-1")
        except socket.timeout:
            pass
    if send:
        s.sendall(send)
    s.settimeout(1.5)
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        out["data"] += chunk.decode("latin-1")
except socket.timeout:
    pass
except OSError as e:
    out["error"] = type(e).__name__
print(json.dumps(out))
'''

NGINX_CONF = """\
user root;
master_process off;
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 128; }}
http {{
    access_log off;
    server {{
        listen 443 ssl;
        listen [::]:443 ssl;
        listen 8443 ssl;
        listen [::]:8443 ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            return 200 "sni=$ssl_server_name peer=$remote_addr uri=$uri\\n";
        }}
    }}
}}
"""


def skua_conf(workdir, bump=False, strict=False, extra=()):
    lines = [
        "http_port 127.0.0.1:3128",
        "https_port %d intercept ssl-bump cert=/nonexistent.pem" % HTTPS_ICPT,
        "https_port %d tproxy" % HTTPS_TP,
        "tcp_port %d intercept" % TCP_ICPT,
        "tcp_port %d tproxy" % TCP_TP,
        "sniff_timeout 300 milliseconds",
        "host_verify_strict %s" % ("on" if strict else "off"),
        "pid_filename %s/skua.pid" % workdir,
        "cache_log %s/cache.log" % workdir,
        "access_log stdio:%s/access.log squid" % workdir,
        "access_log stdio:%s/access.json json" % workdir,
        "dns_nameservers 127.0.0.1:53",
        "hosts_file %s/hosts" % workdir,
        "workers 1",
        "shutdown_lifetime 1 seconds",
        "dns_timeout 2 seconds",
        "connect_timeout 3 seconds",
        "acl clients src 198.51.100.0/24 2001:db8:1::/64",
        "acl ssh app_proto ssh",
        "intercept_access deny ssh",
        "intercept_access allow clients",
        "http_access allow clients",
        "http_access deny all",
    ]
    if bump:
        lines += [
            "acl step1 at_step SslBump1",
            "acl blocked ssl::server_name .blocked.test",
            "ssl_bump peek step1",
            "ssl_bump terminate blocked",
            "ssl_bump splice all",
        ]
    lines += extra
    return "\n".join(lines) + "\n"


class Topo:
    """The gateway, plus nginx in the server namespace."""

    def __init__(self, binary, workdir):
        self.workdir = workdir
        self.gw = Gateway(binary, workdir, skua_conf, SERVER)
        self.access_log, self.cache_log = \
            self.gw.access_log, self.gw.cache_log
        with open(os.path.join(workdir, "hosts"), "a") as f:
            f.write("%s tls.test\n%s tls.test\n%s www.blocked.test\n"
                    "%s echo.test\n" % (SERVER4, SERVER6, SERVER4, SERVER4))
        self.cert, key = make_cert(workdir)
        conf = os.path.join(workdir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(prefix=workdir, cert=self.cert,
                                      key=key))
        self.nginx_err = open(os.path.join(workdir, "nginx.stderr"), "ab")
        self.nginx = subprocess.Popen(
            ["ip", "netns", "exec", NS_S, find_nginx(), "-p", workdir,
             "-c", conf, "-e", os.path.join(workdir, "error.log")],
            stdin=subprocess.DEVNULL, stdout=self.nginx_err,
            stderr=self.nginx_err)
        self.client_py = os.path.join(workdir, "client.py")
        with open(self.client_py, "w") as f:
            f.write(CLIENT)

    def start(self):
        self.gw.start()
        self.gw.wait_for(lambda: b":8443 " in sh("ss", "-ltn",
                                                 ns=NS_S).stdout,
                         "nginx to listen")

    def stop(self):
        if self.nginx.poll() is None:
            self.nginx.kill()
            self.nginx.wait(10)
        self.nginx_err.close()
        return self.gw.stop()

    def json_lines(self):
        try:
            with open(os.path.join(self.workdir, "access.json")) as f:
                return [json.loads(ln) for ln in f if ln.strip()]
        except OSError:
            return []

    def wait_json(self, pred, what, timeout=5):
        found = []
        self.gw.wait_for(lambda: found.extend(
            e for e in self.json_lines() if pred(e)) or found,
            "a json log entry: %s (have %r)" % (what, self.json_lines()[-3:]),
            timeout)
        return found[0]

    def talk(self, host, port, send=b"", first_wait=0.0):
        p = sh(sys.executable, self.client_py, host, str(port),
               send.hex(), str(first_wait), ns=NS_C,
               timeout=30)
        return json.loads(p.stdout.decode())


@pytest.fixture(scope="module")
def topo(skua_bin, tmp_path_factory):
    if find_nginx() is None:
        pytest.skip("nginx is not installed")
    yield from run_gateway(
        lambda: Topo(skua_bin, str(tmp_path_factory.mktemp("icpt_tls"))),
        NFT_RULES)


def curl_tls(topo, name, addr, port=443, *args):
    """curl https://<name>:<port>/ with <name> pinned to <addr>; return
    (http code, body)."""
    pin = "[%s]" % addr if ":" in addr else addr
    p = sh("curl", "-q", "-sS", "-m", "10", "--cacert", topo.cert,
           "--resolve", "%s:%d:%s" % (name, port, pin), "-o", "-", "-w",
           "\n%{http_code}", *args, "https://%s:%d/p" % (name, port),
           ns=NS_C, check=False, timeout=20)
    out = p.stdout.decode("utf-8", "replace")
    body, _, code = out.rpartition("\n")
    return int(code) if code.isdigit() else 0, body


def test_startup_logs_backends(topo):
    log = tail(topo.gw.cache_log, 1 << 16)
    assert re.search(r"https_port %d intercept .*: original destinations "
                     r"from the netfilter backend" % HTTPS_ICPT, log), log
    assert re.search(r"tcp_port %d tproxy: original destinations from the "
                     r"tproxy backend" % TCP_TP, log), log


def test_sni_splice_redirect_ipv4(topo):
    code, body = curl_tls(topo, "tls.test", SERVER4)
    assert code == 200, body
    assert "sni=tls.test" in body and "peer=%s " % GW_S4 in body
    line = topo.gw.wait_log(r"TCP_TUNNEL/200 \d+ CONNECT tls.test:443 ")
    assert "ORIGINAL_DST/%s" % SERVER4 in line
    e = topo.wait_json(lambda e: e.get("sni") == "tls.test" and
                       e.get("dst_port") == 443, "sni tls.test")
    assert e["dst_how"] == "sni" and e["proto"] == "tls"
    assert e["server"] == SERVER4 and e["alpn"] in ("h2", "http/1.1")
    assert e["bytes_in"] > 200 and e["bytes_out"] > 500


def test_sni_splice_redirect_ipv6(topo):
    code, body = curl_tls(topo, "tls.test", SERVER6)
    assert code == 200, body
    assert "peer=%s " % GW_S6 in body
    topo.gw.wait_log(r"CONNECT tls.test:443 .*ORIGINAL_DST/%s"
                     % re.escape(SERVER6))


def test_sni_tproxy_spoofs_client(topo):
    code, body = curl_tls(topo, "tls.test", SERVER4, 8443)
    assert code == 200, body
    assert "sni=tls.test" in body and "peer=%s " % CLIENT4 in body
    topo.gw.wait_log(r"CONNECT tls.test:8443 .*ORIGINAL_DST/%s"
                     % re.escape(SERVER4))


def test_sni_tproxy_ipv6(topo):
    code, body = curl_tls(topo, "tls.test", SERVER6, 8443)
    if code == 0:
        pytest.skip("IPv6 TPROXY does not work in this kernel: %r" % body)
    assert code == 200, body
    assert "peer=%s " % CLIENT6 in body


def test_sni_forgery_relayed_to_original_only(topo):
    # forged.test does not resolve: the SNI cannot be verified
    code, body = curl_tls(topo, "forged.test", SERVER4, 443, "-k")
    assert code == 200, body
    assert "sni=forged.test" in body
    topo.gw.wait_for(lambda: "SECURITY ALERT: TLS server name forgery"
                     in tail(topo.gw.cache_log, 1 << 20), "the alert")
    e = topo.wait_json(lambda e: e.get("sni") == "forged.test",
                       "sni forged.test")
    assert e["dst_how"] == "nat" and e["url"] == "%s:443" % SERVER4


def test_not_tls_on_443_is_reset(topo):
    r = topo.talk(SERVER4, 443, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert r["error"] == "ConnectionResetError" or r["data"] == "", r
    e = topo.wait_json(lambda e: e.get("error") == "ERR_PROTOCOL_UNKNOWN",
                       "the refused plain text")
    assert e["proto"] == "http" and e["dst_host"] == SERVER4


def test_server_speaks_first(topo):
    r = topo.talk(SERVER4, 2525, b"QUIT\r\n", first_wait=3)
    assert r["error"] is None, r
    assert r["data"].startswith("220 smtp.test ESMTP peer=%s" % GW_S4), r
    assert "echo peer=%s QUIT" % GW_S4 in r["data"], r
    e = topo.wait_json(lambda e: e.get("dst_port") == 2525 and
                       e.get("result") == "TCP_TUNNEL", "the smtp tunnel")
    assert e["proto"] == "server-first" and e["hier"] == "ORIGINAL_DST"


def test_client_first_unknown_protocol(topo):
    r = topo.talk(SERVER4, 7000, b"\x01\x02hello")
    assert r["data"] == "echo peer=%s \x01\x02hello" % GW_S4, r
    e = topo.wait_json(lambda e: e.get("dst_port") == 7000,
                       "the echo tunnel")
    assert e["proto"] == "unknown" and e["bytes_in"] == 7
    line = topo.gw.wait_log(r"TCP_TUNNEL/200 \d+ CONNECT %s:7000 "
                            % re.escape(SERVER4))
    assert "ORIGINAL_DST/%s" % SERVER4 in line


def test_tcp_tproxy_spoofs_client(topo):
    r = topo.talk(SERVER4, 7001, b"ping")
    assert r["data"] == "echo peer=%s ping" % CLIENT4, r


def test_intercept_access_denies_ssh(topo):
    r = topo.talk(SERVER4, 2222, b"SSH-2.0-OpenSSH_9.2\r\n")
    assert "SSH-2.0-server" not in r["data"], r
    assert r["error"] == "ConnectionResetError" or r["data"] == "", r
    e = topo.wait_json(lambda e: e.get("dst_port") == 2222, "the ssh try")
    assert e["proto"] == "ssh" and e["result"] == "TCP_DENIED"


def test_http_on_tcp_port_host_verified(topo):
    # Host names the original destination: logged by name
    r = topo.talk(SERVER4, 7000, b"GET / HTTP/1.1\r\nHost: echo.test\r\n\r\n")
    assert r["data"].startswith("echo peer=%s GET / HTTP/1.1" % GW_S4), r
    e = topo.wait_json(lambda e: e.get("dst_host") == "echo.test",
                       "the http tunnel")
    assert e["proto"] == "http" and e["dst_how"] == "host_header"


def test_unreachable_server_resets_client(topo):
    r = topo.talk(SERVER4, 7002, b"hello")
    assert r["error"] == "ConnectionResetError", r
    e = topo.wait_json(lambda e: e.get("dst_port") == 7002,
                       "the failed tunnel")
    assert e["error"] == "ERR_CONNECT_FAIL" and e["status"] == 503


def test_loop_refused(topo):
    r = topo.talk(GW_C4, TCP_ICPT, b"x")
    assert r["error"] == "ConnectionResetError" or r["data"] == "", r
    topo.wait_json(lambda e: e.get("error") == "ERR_LOOP_DETECTED",
                   "the loop refusal")


def test_ssl_bump_terminate_by_server_name(topo):
    topo.gw.reconfigure(bump=True)
    try:
        code, body = curl_tls(topo, "www.blocked.test", SERVER4, 443, "-k")
        assert code == 0, body
        e = topo.wait_json(lambda e: e.get("sni") == "www.blocked.test",
                           "the terminated connection")
        assert e["result"] == "TCP_DENIED"
        code, body = curl_tls(topo, "tls.test", SERVER4)
        assert code == 200, body
    finally:
        topo.gw.reconfigure()


def test_sni_forgery_strict_resets(topo):
    topo.gw.reconfigure(strict=True)
    try:
        code, body = curl_tls(topo, "strict.test", SERVER4, 443, "-k")
        assert code == 0, body
        e = topo.wait_json(lambda e: e.get("sni") == "strict.test",
                           "the strict refusal")
        assert e["status"] == 409 and e["error"] == "ERR_CONFLICT_HOST"
    finally:
        topo.gw.reconfigure()


def test_splice_at_step1(topo):
    topo.gw.reconfigure(extra=["ssl_bump splice all"])
    try:
        code, body = curl_tls(topo, "tls.test", SERVER4, 443, "-H",
                              "X-Blind: 1")
        assert code == 200, body
        # spliced without a look: no SNI learned, the address logged
        e = topo.wait_json(lambda e: e.get("dst_port") == 443 and
                           e.get("result") == "TCP_TUNNEL" and
                           "sni" not in e, "a blind splice")
        assert e["url"] == "%s:443" % SERVER4
    finally:
        topo.gw.reconfigure()


def test_on_unsupported_protocol_tunnel(topo):
    topo.gw.reconfigure(extra=["acl plain app_proto http",
                               "on_unsupported_protocol tunnel plain"])
    try:
        r = topo.talk(SERVER4, 443, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        # nginx itself answers the plain text sent to its TLS port
        assert r["data"].startswith("HTTP/1.1 400"), r
        r = topo.talk(SERVER4, 443, b"\x00\x01binary")
        assert r["error"] == "ConnectionResetError" or r["data"] == "", r
    finally:
        topo.gw.reconfigure()
