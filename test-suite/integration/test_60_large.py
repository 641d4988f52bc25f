"""Large transfers: skua streams them with bounded memory."""

import hashlib
import subprocess
import threading

import pytest

from harness import access_rx, clean_env

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
