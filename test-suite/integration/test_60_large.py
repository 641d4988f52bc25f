"""Large transfers: skua streams them with bounded memory."""

import hashlib
import os
import socket
import subprocess
import threading

import pytest

import time

from harness import RawClient, access_rx, clean_env, recv_all
from pyorigin import big_body

RSS_LIMIT_KB = 64 * 1024
GIB = 1 << 30


def vm_rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class RssSampler:
    """Sample VmRSS of <pid> every 50 ms in a thread."""

    def __init__(self, pid):
        self.pid = pid
        self.samples = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            v = vm_rss_kb(self.pid)
            if v is not None:
                self.samples.append(v)
            self._stop.wait(0.05)

    def stop(self):
        self._stop.set()
        self._t.join(2)
        return max(self.samples) if self.samples else None


def run_curl(args, timeout):
    return subprocess.run(["curl", "-q", "-sS"] + args,
                          stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout, env=clean_env())


@pytest.mark.timeout_s(240)
def test_1gib_download_bounded_memory(skua, nginx):
    u = "http://origin.test:%d/1g.bin" % nginx.port
    base = vm_rss_kb(skua.pid)
    sampler = RssSampler(skua.pid)
    try:
        p = run_curl(["-x", skua.proxy, "-o", "/dev/null", "-w",
                      "%{http_code} %{size_download}", "--max-time", "200",
                      u], timeout=220)
    finally:
        peak = sampler.stop()
    assert p.returncode == 0, p.stderr.decode()
    code, size = p.stdout.decode().split()
    assert code == "200"
    assert int(size) == GIB, "got %s bytes, want %d" % (size, GIB)
    assert peak is not None and len(sampler.samples) > 3
    print("skua VmRSS: %d KiB at start, %d KiB peak (%d samples)"
          % (base or 0, peak, len(sampler.samples)))
    assert peak < RSS_LIMIT_KB, (
        "skua's VmRSS reached %d KiB streaming 1 GiB (limit %d KiB)"
        % (peak, RSS_LIMIT_KB))
    m = skua.wait_log(access_rx(r"TCP_MISS/200", "GET", u))
    assert int(m.group("bytes")) >= GIB


@pytest.mark.timeout_s(240)
def test_256mib_upload_bounded_memory(skua, pyorigin, tmp_path):
    src = tmp_path / "upload.bin"
    with open(src, "wb") as f:
        f.truncate(256 << 20)
    u = "http://pyorigin.test:%d/count" % pyorigin.port
    sampler = RssSampler(skua.pid)
    try:
        p = run_curl(["-x", skua.proxy, "-T", str(src), "-H",
                      "Expect:", "--max-time", "200", u], timeout=220)
    finally:
        peak = sampler.stop()
    assert p.returncode == 0, "%s; origin saw %r, errors %r" % (
        p.stderr.decode(), pyorigin.requests, pyorigin.errors)
    h = hashlib.sha256()
    zeros = bytes(1 << 20)
    for _ in range(256):
        h.update(zeros)
    assert p.stdout == b"%d %s\n" % (256 << 20, h.hexdigest().encode())
    assert peak < RSS_LIMIT_KB, (
        "skua's VmRSS reached %d KiB relaying a 256 MiB upload" % peak)


# -- bodies moved by splice ------------------------------------------------
# A response body of known length (or delimited by the close) that is large
# enough goes from the server socket to the client socket through a pipe
# without entering skua.  These check that it arrives whole, in order, and
# that the transaction around it still ends the way it must.

SPLICE_N = 6 * 1000 * 1000 + 7          # not a multiple of any page size


def _digest(b):
    return hashlib.sha256(b).hexdigest()


def _get(c, port, path, extra=b""):
    c.send(b"GET http://pyorigin.test:%d%s HTTP/1.1\r\n"
           b"Host: pyorigin.test:%d\r\n%s\r\n"
           % (port, path.encode(), port, extra))


def test_spliced_body_arrives_whole_then_connection_reused(skua, pyorigin):
    want = _digest(big_body(SPLICE_N))
    with RawClient(skua.port, timeout=30) as c:
        for i in range(2):
            _get(c, pyorigin.port, "/big/%d" % SPLICE_N)
            r = c.read_response()
            assert r.status == 200
            assert len(r.body) == SPLICE_N
            assert _digest(r.body) == want, "response %d corrupted" % i
        # the client connection still serves small responses afterwards
        _get(c, pyorigin.port, "/small")
        r = c.read_response()
        assert r.body == b"ok /small\n"
    # one server connection carried all three: the spliced body left it
    # clean and reusable
    assert pyorigin.connections == 1, pyorigin.connections
    u = "http://pyorigin.test:%d/big/%d" % (pyorigin.port, SPLICE_N)
    m = skua.wait_log(access_rx(r"TCP_MISS/200", "GET", u))
    assert int(m.group("bytes")) > SPLICE_N


def test_spliced_body_to_a_slow_reader(skua, pyorigin):
    n = 3 * 1000 * 1000
    with RawClient(skua.port, timeout=30) as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        _get(c, pyorigin.port, "/big/%d" % n)
        got = b""
        while b"\r\n\r\n" not in got:
            got += c.sock.recv(4096)
        head, _, body = got.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        parts = [body]
        size = len(body)
        deadline = time.monotonic() + 60
        while size < n and time.monotonic() < deadline:
            d = c.sock.recv(32768)
            assert d, "closed after %d bytes" % size
            parts.append(d)
            size += len(d)
            time.sleep(0.001)
        assert size == n
        assert _digest(b"".join(parts)) == _digest(big_body(n))


def test_spliced_close_delimited_body(skua, pyorigin):
    n = 2 * 1000 * 1000 + 1
    with RawClient(skua.port, timeout=30) as c:
        _get(c, pyorigin.port, "/bigclose/%d" % n)
        r = c.read_response()
        assert r.status == 200
        assert r.header("content-length") is None
        assert len(r.body) == n
        assert _digest(r.body) == _digest(big_body(n))
    u = "http://pyorigin.test:%d/bigclose/%d" % (pyorigin.port, n)
    skua.wait_log(access_rx(r"TCP_MISS/200", "GET", u))


def _req(port, path, method=b"GET"):
    return (b"%s http://pyorigin.test:%d%s HTTP/1.1\r\n"
            b"Host: pyorigin.test:%d\r\n\r\n"
            % (method, port, path.encode(), port))


@pytest.mark.parametrize("n", [1000 * 1000, 50000])
@pytest.mark.parametrize("pipelined", [False, True])
def test_body_never_carries_bytes_past_its_length(skua, pyorigin, n,
                                                  pipelined):
    """A server that sends more than its Content-Length (spliced or
    buffered body): the client gets exactly the body, and the extra bytes
    never become a response, even for a request already waiting."""
    with RawClient(skua.port, timeout=30) as c:
        c.send(_req(pyorigin.port, "/bigextra/%d" % n) +
               (_req(pyorigin.port, "/after") if pipelined else b""))
        r = c.read_response()
        assert len(r.body) == n
        assert _digest(r.body) == _digest(big_body(n))
        if not pipelined:
            c.send(_req(pyorigin.port, "/after"))
        r = c.read_response()
        assert r.status == 200 and r.body == b"ok /after\n"
    # the polluted server connection was not used for the second request
    assert pyorigin.connections == 2, pyorigin.connections


def _one_shot_origin(handler):
    """A listening socket whose first connection goes to <handler> in a
    thread; return (socket, port)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)

    def run():
        try:
            conn, _ = ls.accept()
        except OSError:
            return
        try:
            handler(conn)
        except OSError:
            pass
        finally:
            conn.close()
    threading.Thread(target=run, daemon=True).start()
    return ls, ls.getsockname()[1]


def _read_head(conn):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = conn.recv(65536)
        if not d:
            break
        buf += d
    return buf.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("n", [500000, 60000])
def test_stray_response_after_a_body_is_never_delivered(skua, n):
    """A server that keeps its connection open after a body followed by a
    whole forged response: a pipelined request must not be answered with
    it."""
    def handler(conn):
        _read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n
                     + big_body(n) + b"HTTP/1.1 200 OK\r\n"
                     b"Content-Length: 5\r\n\r\nEVIL!")
        time.sleep(3)
    ls, port = _one_shot_origin(handler)
    try:
        with RawClient(skua.port, timeout=15) as c:
            c.send(_req(port, "/a") + _req(port, "/b"))
            r = c.read_response()
            assert _digest(r.body) == _digest(big_body(n))
            try:
                r = c.read_response()
            except (EOFError, OSError):
                return              # refused or closed: fine
            assert r.body != b"EVIL!", "a stray response was delivered"
    finally:
        ls.close()


@pytest.mark.parametrize("slow_reader", [False, True])
def test_response_before_the_upload_ends_arrives_whole(skua, slow_reader):
    """The server answers (a large body) without waiting for the request
    body, which the client is still sending: skua closes lingering, so the
    client reads the whole response instead of a reset."""
    n = 2 * 1000 * 1000
    up = 50 * 1000 * 1000

    def handler(conn):
        _read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
        body = big_body(n)
        for i in range(0, n, 100000):
            conn.sendall(body[i:i + 100000])
        conn.settimeout(10)
        while conn.recv(65536):
            pass
    ls, port = _one_shot_origin(handler)
    c = RawClient(skua.port, timeout=20)
    if slow_reader:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    c.send(b"POST http://pyorigin.test:%d/up HTTP/1.1\r\n"
           b"Host: pyorigin.test:%d\r\nContent-Length: %d\r\n\r\n"
           % (port, port, up))
    stop = threading.Event()

    def uploader():
        chunk = b"u" * 65536
        try:
            while not stop.is_set():
                c.sock.sendall(chunk)
                stop.wait(0.005)
        except OSError:
            pass
    th = threading.Thread(target=uploader, daemon=True)
    th.start()
    got = b""
    try:
        while True:
            d = c.sock.recv(65536)
            if not d:
                break
            got += d
            if slow_reader:
                time.sleep(0.001)
            if len(got.partition(b"\r\n\r\n")[2]) >= n:
                break
    finally:
        stop.set()
        th.join(5)
        c.close()
        ls.close()
    body = got.partition(b"\r\n\r\n")[2]
    assert got.startswith(b"HTTP/1.1 200")
    assert len(body) == n, "got %d of %d body bytes" % (len(body), n)
    assert _digest(body) == _digest(big_body(n))


@pytest.mark.parametrize("n", [300000, 30000])
def test_pipelined_request_behind_a_closing_response(skua, pyorigin, n):
    """A keep-alive client, an origin whose body ends with its close (so
    skua answers Connection: close), and a second request the client sends
    once skua is done with the first: the first response still arrives
    whole, never cut by a reset."""
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.settimeout(20)
    c.connect(("127.0.0.1", skua.port))
    try:
        c.sendall(_req(pyorigin.port, "/bigclose/%d" % n))
        time.sleep(1.0)
        c.sendall(_req(pyorigin.port, "/second"))
        got = recv_all(c, timeout=20)
    finally:
        c.close()
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert len(body) == n and body == big_body(n)


def test_pipelined_spliced_and_buffered_bodies(skua, pyorigin):
    n = 3 * 1000 * 1000 + 3
    want = _digest(big_body(n))
    with RawClient(skua.port, timeout=30) as c:
        c.send(_req(pyorigin.port, "/big/%d" % n) +
               _req(pyorigin.port, "/small1") +
               _req(pyorigin.port, "/big/%d" % n, method=b"HEAD") +
               _req(pyorigin.port, "/big/%d" % n) +
               _req(pyorigin.port, "/bigclose/%d" % n))
        assert _digest(c.read_response().body) == want
        assert c.read_response().body == b"ok /small1\n"
        r = c.read_response(method="HEAD")
        assert r.status == 200 and r.header("content-length") == str(n)
        assert _digest(c.read_response().body) == want
        assert _digest(c.read_response().body) == want


def _cpu_s(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("path", ["/big/%d", "/bigclose/%d"])
def test_spliced_body_paused_reader_costs_nothing(skua, pyorigin, path):
    """While the client reads nothing, a spliced transfer waits without
    spinning (a busy loop would burn the whole interval)."""
    n = 40 * 1000 * 1000
    with RawClient(skua.port, timeout=30) as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        c.send(_req(pyorigin.port, path % n))
        c.read_head()
        c._take(100000)
        time.sleep(0.5)
        a = _cpu_s(skua.pid)
        time.sleep(2)
        used = _cpu_s(skua.pid) - a
        assert used < 1.0, "skua used %.2f s of CPU in 2 s" % used


def test_spliced_body_cut_short(skua, pyorigin):
    n = 4 * 1000 * 1000
    with RawClient(skua.port, timeout=30) as c:
        _get(c, pyorigin.port, "/bigtrunc/%d" % n)
        r = c.read_head()
        assert r.status == 200
        assert r.header("content-length") == str(n)
        body = c.read_to_eof()
    # everything the server sent, then the close: never a complete message
    assert len(body) == n // 2
    assert _digest(body) == _digest(big_body(n)[:n // 2])
    u = "http://pyorigin.test:%d/bigtrunc/%d" % (pyorigin.port, n)
    skua.wait_log(access_rx(r"TCP_MISS_ABORTED/200", "GET", u))
