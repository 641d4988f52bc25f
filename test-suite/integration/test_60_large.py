"""Large transfers: skua streams them with bounded memory."""

import hashlib
import socket
import subprocess
import threading

import pytest

import time

from harness import RawClient, access_rx, clean_env
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


def test_spliced_body_never_carries_bytes_past_its_length(skua, pyorigin):
    """A server that sends more than its Content-Length: the client gets
    exactly the body, and the extra bytes never become a response."""
    n = 1000 * 1000
    with RawClient(skua.port, timeout=30) as c:
        _get(c, pyorigin.port, "/bigextra/%d" % n)
        r = c.read_response()
        assert len(r.body) == n
        assert _digest(r.body) == _digest(big_body(n))
        _get(c, pyorigin.port, "/after")
        r = c.read_response()
        assert r.status == 200 and r.body == b"ok /after\n"
    # the polluted server connection was not used for the second request
    assert pyorigin.connections == 2, pyorigin.connections


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
