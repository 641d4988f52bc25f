"""nginx (Debian's) as the well-behaved origin for the integration tests.

One instance serves a generated document root on a plain port and a TLS
port (self-signed certificate made with the openssl CLI), logs each request
with its connection number and request count on that connection (to check
skua's upstream keep-alive), and runs in the foreground as a single process
(master_process off) so that the fixture can stop it by its PID.
What it deliberately does not do: listen anywhere but 127.0.0.1, or use any
file outside its temporary prefix.
"""

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time

MARKER = "skua-integration-marker-7f3a"


def find_nginx():
    for cand in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def free_port():
    """Return a port that was free on 127.0.0.1 a moment ago."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port, host="127.0.0.1"):
    """Return True when a TCP socket listens on <host>:<port> (Linux)."""
    want = "%s:%04X" % ("".join("%02X" % int(b) for b in
                                reversed(host.split("."))), port)
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def wait_listening(port, proc=None, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if listening(port):
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def make_cert(dirname):
    """Write cert.pem and key.pem (self-signed, CN 127.0.0.1) in <dirname>."""
    cert = os.path.join(dirname, "cert.pem")
    key = os.path.join(dirname, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:tls.test"],
        check=True, capture_output=True, timeout=60)
    return cert, key


def make_docroot(root):
    """Fill <root> with the files the tests fetch; return {name: sha256}."""
    os.makedirs(root, exist_ok=True)
    files = {
        "page.html": (
            "<!DOCTYPE html>\n<html><head><title>skua test page</title>"
            "</head>\n<body><p id=\"marker\">%s</p>\n"
            "<p id=\"script\">script did not run</p>\n"
            "<script src=\"/app.js\"></script>\n</body></html>\n"
            % MARKER).encode(),
        "app.js": (b"document.getElementById('script').textContent = "
                   b"'script-ran-through-proxy';\n"),
        "small.txt": b"small file through skua\n",
        "1k.bin": bytes(range(256)) * 4,
    }
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    with open(os.path.join(root, "20m.bin"), "wb") as f:
        f.write(os.urandom(20 << 20))
    with open(os.path.join(root, "1g.bin"), "wb") as f:
        f.truncate(1 << 30)             # sparse: costs no disk
    sums = {}
    for name in files:
        sums[name] = hashlib.sha256(files[name]).hexdigest()
    with open(os.path.join(root, "20m.bin"), "rb") as f:
        sums["20m.bin"] = hashlib.sha256(f.read()).hexdigest()
    return sums


CONF = """\
{user}
master_process off;
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 512; }}
http {{
    log_format conn '$connection $connection_requests "$request" $status '
                    '$body_bytes_sent "$http_via" "$http_x_forwarded_for"';
    access_log {prefix}/access.log conn;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    types {{
        text/html html;
        text/plain txt;
        application/javascript js;
        application/octet-stream bin;
    }}
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 60s;
    keepalive_requests 10000;
    server {{
        listen 127.0.0.1:{port};
        server_name origin.test;
        root {root};
        location = /204 {{ return 204; }}
        location = /304 {{ return 304; }}
    }}
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        server_name tls.test;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {root};
    }}
}}
"""


class Nginx:
    """Start nginx under <prefix>; stop() kills it by PID."""

    def __init__(self, prefix):
        self.binary = find_nginx()
        if self.binary is None:
            raise RuntimeError("nginx not found")
        self.prefix = prefix
        self.root = os.path.join(prefix, "html")
        os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
        self.sums = make_docroot(self.root)
        self.cert, self.key = make_cert(prefix)
        self.access_log = os.path.join(prefix, "access.log")
        self.proc = None
        for _ in range(5):
            self.port, self.tls_port = free_port(), free_port()
            if self._start():
                return
        raise RuntimeError("nginx did not start: " + self.error_log())

    def _start(self):
        conf = os.path.join(self.prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(
                user="user root;" if os.geteuid() == 0 else "",
                prefix=self.prefix, root=self.root, port=self.port,
                tls_port=self.tls_port, cert=self.cert, key=self.key))
        self.stderr = open(os.path.join(self.prefix, "stderr.log"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, "-p", self.prefix, "-c", conf, "-e",
             os.path.join(self.prefix, "error.log")],
            stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr)
        if wait_listening(self.port, self.proc) and \
                wait_listening(self.tls_port, self.proc):
            return True
        self.stop()
        return False

    def error_log(self):
        out = ""
        for name in ("error.log", "stderr.log"):
            try:
                with open(os.path.join(self.prefix, name)) as f:
                    out += f.read()[-4000:]
            except OSError:
                pass
        return out

    def log_lines(self):
        try:
            with open(self.access_log) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def requests_matching(self, needle, count=1, timeout=5.0):
        """Return parsed log entries whose request contains <needle>.

        Each entry is a dict with conn, nreq, request, status, bytes, via
        and xff.  Waits up to <timeout> for <count> of them.
        """
        rx = re.compile(r'^(\d+) (\d+) "([^"]*)" (\d+) (\d+) "([^"]*)" '
                        r'"([^"]*)"$')
        end = time.monotonic() + timeout
        while True:
            out = []
            for line in self.log_lines():
                m = rx.match(line)
                if m and needle in m.group(3):
                    out.append(dict(conn=int(m.group(1)),
                                    nreq=int(m.group(2)),
                                    request=m.group(3),
                                    status=int(m.group(4)),
                                    bytes=int(m.group(5)),
                                    via=m.group(6), xff=m.group(7)))
            if len(out) >= count or time.monotonic() > end:
                return out
            time.sleep(0.05)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.stderr.close()
        self.proc = None
