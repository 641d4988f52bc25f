"""A small HTTP/1.1 origin server with odd behaviours, for the tests.

nginx is the well-behaved origin; this one exists for what nginx will not
do on request: echo a request body, answer with a close-delimited or
chunked body, send a 304 that carries a Content-Length, never answer at
all.  It runs in threads of the pytest process and records every request
it receives (method, target, headers, body length and digest), so tests can
check what skua forwarded -- or that nothing reached the origin at all.
What it deliberately does not do: be fast, be lenient, or speak TLS.

Routes (by path prefix of the request target):
  /echo      200, body = the request body; X-Got-Method, X-Got-Length
  /count     200, body = "<length> <sha256>" of the request body
  /hang      reads the request, then never answers (until stopped)
  /close     200 with neither Content-Length nor chunking, then close
  /chunked   200 chunked in several chunks, with an extension and trailer
  /304cl     304 with "Content-Length: 1234" and (correctly) no body
  /204       204, no body
  /headcl    200 "Content-Length: 5000", body only when not HEAD
  /hop       200 with hop-by-hop headers named in Connection
  /truncate  200 "Content-Length: 100000", sends 50000 bytes and closes
  /badchunk  200 chunked, then a chunk size that is not hex
  /reset     200 "Content-Length: 100000", sends 30000 bytes, then RST
  /closeafter 200 (keep-alive by HTTP/1.1 rules), then closes the idle
             connection 0.1 s later without saying so
  /big/N     200 "Content-Length: N", body = big_body(N), sent in pieces
  /bigclose/N 200, big_body(N) delimited by the close
  /bigextra/N 200 "Content-Length: N", big_body(N) and then 1000 bytes
             more that belong to no response
  /bigtrunc/N 200 "Content-Length: N", sends N // 2 bytes and closes
  anything else: 200 "ok <path>\n"
"""

import hashlib
import socket
import struct
import threading

CLOSE_BODY = b"".join(b"close-delimited line %05d\n" % i
                      for i in range(4000))
CHUNKS = [b"first chunk\n", b"x" * 10000, b"third\n", b"y" * 70000,
          b"last\n"]
CHUNKED_BODY = b"".join(CHUNKS)
KEEP_BODY_MAX = 4 << 20


_BIG = [b""]


def big_body(n):
    """<n> bytes that never repeat with a short period (SHA-256 of a
    counter), so a reordered, lost or doubled piece shows in a digest."""
    while len(_BIG[0]) < n:
        i = len(_BIG[0]) // 32
        _BIG[0] += b"".join(hashlib.sha256(b"%d" % k).digest()
                            for k in range(i, i + 65536))
    return _BIG[0][:n]


class BadRequest(Exception):
    pass


class Request:
    """One request as the origin received it."""

    def __init__(self, conn_id, method, target, version, headers, raw_head):
        self.conn_id = conn_id
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers          # list of (name, value), in order
        self.raw_head = raw_head
        self.body = b""                 # kept only up to KEEP_BODY_MAX
        self.body_len = 0
        self.sha256 = None
        self.chunked = False

    def header(self, name, default=None):
        """Return the values of <name> joined by ", ", or <default>."""
        vals = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(vals) if vals else default

    def has(self, name):
        return any(n.lower() == name.lower() for n, _ in self.headers)

    def __repr__(self):
        return "<Request %s %s %s len=%d>" % (self.method, self.target,
                                              self.headers, self.body_len)


class _Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(262144)
        if not data:
            raise EOFError
        self.buf += data

    def line(self, limit=65536):
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise BadRequest("line too long")
            self.fill()
        i = self.buf.index(b"\n")
        out, self.buf = self.buf[:i + 1], self.buf[i + 1:]
        return out

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise BadRequest("head too long")
            self.fill()
        i = self.buf.index(b"\r\n\r\n")
        out, self.buf = self.buf[:i + 4], self.buf[i + 4:]
        return out

    def exactly(self, n, sink):
        while n > 0:
            if not self.buf:
                self.fill()
            part = self.buf[:n]
            self.buf = self.buf[n:]
            sink(part)
            n -= len(part)


class PyOrigin:
    """Serve on a free loopback port until close()."""

    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.connections = 0
        self.errors = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conns = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    # -- public -----------------------------------------------------------
    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        with self._lock:
            for c in self._conns:
                try:
                    c.close()
                except OSError:
                    pass

    def wait_requests(self, n, timeout=5.0):
        """Wait until at least <n> requests were received; return them."""
        import time
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if len(self.requests) >= n:
                    return list(self.requests)
            time.sleep(0.02)
        with self._lock:
            return list(self.requests)

    def last(self):
        with self._lock:
            return self.requests[-1] if self.requests else None

    # -- server -----------------------------------------------------------
    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                conn_id = self.connections
                self._conns.append(conn)
            threading.Thread(target=self._conn, args=(conn, conn_id),
                             daemon=True).start()

    def _conn(self, conn, conn_id):
        conn.settimeout(60)
        rd = _Reader(conn)
        try:
            while not self._stop.is_set():
                try:
                    raw = rd.head()
                except EOFError:
                    return
                req = self._parse_head(conn_id, raw)
                if req.header("expect", "").lower() == "100-continue":
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                self._read_body(rd, req)
                with self._lock:
                    self.requests.append(req)
                if not self._respond(conn, req):
                    return
        except (EOFError, OSError, BadRequest) as e:
            with self._lock:
                self.errors.append(repr(e))
        finally:
            try:
                conn.close()
            except OSError:
                pass

    @staticmethod
    def _parse_head(conn_id, raw):
        lines = raw[:-4].split(b"\r\n")
        parts = lines[0].decode("latin-1").split(" ")
        if len(parts) != 3:
            raise BadRequest("request line %r" % lines[0])
        headers = []
        for ln in lines[1:]:
            name, sep, value = ln.decode("latin-1").partition(":")
            if not sep:
                raise BadRequest("header line %r" % ln)
            headers.append((name, value.strip(" \t")))
        return Request(conn_id, parts[0], parts[1], parts[2], headers, raw)

    @staticmethod
    def _read_body(rd, req):
        h = hashlib.sha256()

        def sink(part):
            h.update(part)
            req.body_len += len(part)
            if len(req.body) < KEEP_BODY_MAX:
                req.body += part

        te = req.header("transfer-encoding")
        if te is not None:
            if te.lower() != "chunked":
                raise BadRequest("transfer-encoding %r" % te)
            req.chunked = True
            while True:
                size_line = rd.line().split(b";")[0].strip()
                size = int(size_line, 16)
                if size == 0:
                    while rd.line() not in (b"\r\n", b"\n"):
                        pass
                    break
                rd.exactly(size, sink)
                if rd.line() != b"\r\n":
                    raise BadRequest("chunk not followed by CRLF")
        elif req.header("content-length") is not None:
            rd.exactly(int(req.header("content-length")), sink)
        req.sha256 = h.hexdigest()

    def _respond(self, conn, req):
        """Answer <req>; return False when the connection must close."""
        path = req.target
        if "://" in path:               # absolute form: still answer
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        keep = req.header("connection", "").lower() != "close"
        if path.startswith("/big"):
            kind, _, n = path[1:].partition("/")
            n = int(n)
            body = big_body(n)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-big\r\n"
            if kind == "bigclose":
                head += b"Connection: close\r\n\r\n"
            else:
                head += b"Content-Length: %d\r\n\r\n" % n
            if kind == "bigtrunc":
                body = body[:n // 2]
            if req.method == "HEAD":
                body = b""
            pieces = [body[i:i + 100000]
                      for i in range(0, len(body), 100000)] or [b""]
            if kind == "bigextra":
                pieces[-1] += b"X" * 1000   # in one send with the body's end
            conn.sendall(head)
            for piece in pieces:
                conn.sendall(piece)
            return kind == "big" and keep
        if path.startswith("/hang"):
            self._stop.wait(120)
            return False
        if path.startswith("/close"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Connection: close\r\n\r\n" + CLOSE_BODY)
            return False
        if path.startswith("/chunked"):
            out = [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                   b"Transfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n"
                   b"\r\n"]
            for i, c in enumerate(CHUNKS):
                ext = b";ext=1" if i == 1 else b""
                out.append(b"%x%s\r\n%s\r\n" % (len(c), ext, c))
            out.append(b"0\r\nX-Trailer: done\r\n\r\n")
            for piece in out:
                conn.sendall(piece)
            return keep
        if path.startswith("/304cl"):
            conn.sendall(b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n"
                         b"Content-Length: 1234\r\n\r\n")
            return keep
        if path.startswith("/204"):
            conn.sendall(b"HTTP/1.1 204 No Content\r\nX-Origin: py\r\n\r\n")
            return keep
        if path.startswith("/headcl"):
            body = b"" if req.method == "HEAD" else b"h" * 5000
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: 5000\r\n\r\n" + body)
            return keep
        if path.startswith("/truncate"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: 100000\r\n\r\n" + b"t" * 50000)
            return False
        if path.startswith("/badchunk"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                         b"\r\n5\r\nhello\r\nZZZ\r\n")
            self._stop.wait(0.2)
            return False
        if path.startswith("/reset"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: 100000\r\n\r\n" + b"r" * 30000)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
            return False
        if path.startswith("/closeafter"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: 3\r\n\r\nok\n")
            self._stop.wait(0.1)
            return False
        if path.startswith("/hop"):
            body = b"hop\n"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Connection: X-Resp-Hop\r\nX-Resp-Hop: 1\r\n"
                         b"Keep-Alive: timeout=5\r\nX-End-To-End: kept\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            return True
        if path.startswith("/echo"):
            body = req.body
            extra = b"X-Got-Method: %s\r\nX-Got-Length: %d\r\n" % (
                req.method.encode(), req.body_len)
        elif path.startswith("/count"):
            body = b"%d %s\n" % (req.body_len, req.sha256.encode())
            extra = b""
        else:
            body = b"ok " + path.encode("latin-1") + b"\n"
            extra = b""
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: "
                     b"application/octet-stream\r\n" + extra +
                     b"Content-Length: %d\r\n" % len(body) +
                     (b"" if keep else b"Connection: close\r\n") +
                     b"\r\n" + (b"" if req.method == "HEAD" else body))
        return keep


class EchoServer:
    """A TCP echo server (for CONNECT tunnels): echoes what it reads, and
    on the client's half-close answers "bye\\n" and closes."""

    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._conn, args=(conn,),
                             daemon=True).start()

    def _conn(self, conn):
        conn.settimeout(30)
        try:
            while not self._stop.is_set():
                data = conn.recv(65536)
                if not data:
                    conn.sendall(b"bye\n")
                    return
                conn.sendall(data)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
