#!/usr/bin/python3
"""Load generators for bench_socks.sh (SOCKS5, skua vs Dante).

  bench_socks_load.py rate --port P --origin-port O --seconds S [--procs N]
      N client processes (default 2), each repeating for S seconds:
      connect, SOCKS5 greeting (no auth), CONNECT 127.0.0.1:O, one
      "GET /obj1k" with Connection: close, read to EOF, close.  Prints
      "sessions=K seconds=T errors=E" and the rate.  Port 0: straight to
      the origin (no SOCKS), for the limit.

  bench_socks_load.py idle --port P --pid PID --count N
      Opens N SOCKS5 tunnels to a local server that echoes one message
      and then holds the connection, passes 5 bytes through each and
      leaves it idle; prints the proxy's memory growth per tunnel: the
      sum of smaps_rollup "Anonymous" over PID and its descendants,
      (after - before) / N, "before" taken after 50 tunnels were opened
      and closed.  Kernel socket buffers are not included.

It starts no proxy and asserts nothing; every loop is bounded in time or
count.  Only 127.0.0.1 is used.
"""

import argparse
import os
import resource
import selectors
import socket
import struct
import sys
import threading
import time
from multiprocessing import Pool


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        part = s.recv(n - len(out))
        if not part:
            raise OSError("closed")
        out += part
    return out


def socks5_open(port, dport, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout)
    s.sendall(b"\x05\x01\x00")
    if recv_exact(s, 2) != b"\x05\x00":
        raise OSError("method refused")
    s.sendall(b"\x05\x01\x00\x01\x7f\x00\x00\x01" + struct.pack("!H", dport))
    rep = recv_exact(s, 10)
    if rep[1] != 0:
        raise OSError("SOCKS reply %d" % rep[1])
    return s


def one_session(port, oport, req):
    if port:
        s = socks5_open(port, oport)
    else:
        s = socket.create_connection(("127.0.0.1", oport), 10)
    try:
        s.sendall(req)
        got = 0
        while True:
            part = s.recv(65536)
            if not part:
                break
            got += len(part)
        if got < 1024:
            raise OSError("short response")
    finally:
        s.close()


def rate_worker(args):
    port, oport, seconds = args
    req = ("GET /obj1k HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "Connection: close\r\n\r\n" % oport).encode()
    n = errors = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            one_session(port, oport, req)
            n += 1
        except OSError:
            errors += 1
            if errors > 1000:
                break
    return n, errors


def cmd_rate(a):
    t0 = time.monotonic()
    with Pool(a.procs) as pool:
        res = pool.map(rate_worker, [(a.port, a.origin_port, a.seconds)]
                       * a.procs)
    secs = time.monotonic() - t0
    n = sum(r[0] for r in res)
    errors = sum(r[1] for r in res)
    print("sessions=%d seconds=%.2f errors=%d rate=%.1f"
          % (n, secs, errors, n / a.seconds))
    return 0


class HoldServer(threading.Thread):
    """Echo the first message of each connection, then hold it."""

    def __init__(self):
        super().__init__(daemon=True)
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4096)
        self.lsock.setblocking(False)
        self.port = self.lsock.getsockname()[1]
        self.held = []
        self.stopping = False

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.lsock, selectors.EVENT_READ, None)
        while not self.stopping:
            for key, _ in sel.select(0.2):
                if key.data is None:
                    try:
                        c, _ = self.lsock.accept()
                    except OSError:
                        continue
                    c.setblocking(False)
                    self.held.append(c)
                    sel.register(c, selectors.EVENT_READ, "c")
                    continue
                try:
                    data = key.fileobj.recv(256)
                    if data:
                        key.fileobj.send(data)
                except OSError:
                    pass
                sel.unregister(key.fileobj)

    def drop_all(self):
        held, self.held = self.held, []
        for c in held:
            c.close()


def descendants(pid):
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        parent.setdefault(int(st[st.rfind(")") + 2:].split()[1]),
                          []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in parent.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def anon_kib(pid):
    total = 0
    for p in [pid] + descendants(pid):
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Anonymous:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def open_tunnels(port, hold_port, count, batch=200):
    socks = []
    while len(socks) < count:
        group = [socks5_open(port, hold_port)
                 for _ in range(min(batch, count - len(socks)))]
        for s in group:
            s.sendall(b"ping\n")
        for s in group:
            recv_exact(s, 5)
        socks.extend(group)
    return socks


def cmd_idle(a):
    need = 2 * a.count + 300
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(need, hard), hard))
    hold = HoldServer()
    hold.start()
    warm = open_tunnels(a.port, hold.port, 50)
    for s in warm:
        s.close()
    hold.drop_all()
    time.sleep(1.0)
    before = anon_kib(a.pid)
    socks = open_tunnels(a.port, hold.port, a.count)
    time.sleep(1.0)
    after = anon_kib(a.pid)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1, socket.MSG_PEEK) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    for s in socks:
        s.close()
    hold.drop_all()
    hold.stopping = True
    if closed:
        print("error: the proxy closed %d idle tunnels" % closed)
        return 1
    print("kib_per_tunnel=%.3f before=%d after=%d count=%d"
          % ((after - before) / a.count, before, after, a.count))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rate")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--origin-port", type=int, required=True)
    r.add_argument("--seconds", type=float, required=True)
    r.add_argument("--procs", type=int, default=2)
    i = sub.add_parser("idle")
    i.add_argument("--port", type=int, required=True)
    i.add_argument("--pid", type=int, required=True)
    i.add_argument("--count", type=int, default=5000)
    a = ap.parse_args()
    return cmd_rate(a) if a.cmd == "rate" else cmd_idle(a)


if __name__ == "__main__":
    sys.exit(main())
