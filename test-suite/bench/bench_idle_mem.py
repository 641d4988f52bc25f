#!/usr/bin/python3
"""User-space memory per idle client connection, skua vs Squid.

Two measures, each on a freshly started proxy per round, alternating
skua, Squid, skua, Squid, ...:

  keep-alive  N clients each send one absolute-URI GET of a 1 KiB no-store
              object (local nginx) over HTTP/1.1 keep-alive, read the whole
              response and then stay open and idle.
  tunnel      N clients each send CONNECT to a local TCP server, get 200,
              pass one 5-byte message through the tunnel and back (the
              server echoes it once) and then stay open and idle.

Memory is read from /proc/PID/smaps_rollup of the proxy and all its
descendant processes: the sum of "Anonymous" (resident anonymous pages:
heap, stacks, anonymous mappings -- the memory the proxy allocated; page
cache and shared libraries excluded).  VmRSS is shown alongside.  Figure
per connection = (after - before) / N, where "before" is taken after a
warm-up of 50 connections opened and closed and "after" 1 s after the N-th
connection went idle.  Kernel socket buffers are not included.

Targets from the issue: skua <= 4 KiB per idle keep-alive client and
<= 8 KiB per idle tunnel.  Informational only; nothing here is a test.

usage: bench_idle_mem.py [--quick] [--rounds N] [--count N] [BUILD_DIR]
Environment as for the shell benchmarks (SKUA_BIN, SKUA_WORKERS, SQUID_BIN,
NGINX_BIN, BENCH_ROUNDS, BENCH_KEEP, BENCH_RESULTS).
"""

import argparse
import atexit
import os
import pwd
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHILDREN = []           # Popen objects this script started
SCRATCH = None          # scratch directory


def log(msg):
    print(msg, flush=True)


def render(template, out, **kv):
    with open(os.path.join(HERE, "conf", template)) as f:
        text = f.read()
    for k, v in kv.items():
        text = text.replace("@%s@" % k, str(v))
    with open(out, "w") as f:
        f.write(text)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid):
    """PIDs of pid's descendants (from /proc/*/stat)."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        parent.setdefault(int(fields[1]), []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in parent.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def spawn(name, argv):
    out = open(os.path.join(SCRATCH, name + ".out"), "w")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    p.bench_name = name
    CHILDREN.append(p)
    return p


def stop(p):
    """TERM p, wait up to 5 s, KILL; KILL its leftover descendants."""
    if p in CHILDREN:
        CHILDREN.remove(p)
    if p.poll() is not None:
        return
    kids = descendants(p.pid)
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    for k in kids:
        try:
            os.kill(k, signal.SIGKILL)
        except OSError:
            pass


def cleanup():
    for p in list(CHILDREN):
        stop(p)
    if SCRATCH and os.path.isdir(SCRATCH):
        if os.environ.get("BENCH_KEEP") == "1":
            print("kept %s" % SCRATCH, file=sys.stderr)
        else:
            shutil.rmtree(SCRATCH, ignore_errors=True)


def wait_port(port, p, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if p.poll() is not None:
            raise RuntimeError("%s exited at start-up (see %s.out)"
                               % (p.bench_name, p.bench_name))
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("%s did not listen on %d" % (p.bench_name, port))


def start_nginx():
    d = os.path.join(SCRATCH, "nginx")
    os.makedirs(os.path.join(d, "www"))
    os.makedirs(os.path.join(d, "nginx-tmp"))
    with open(os.path.join(d, "www", "obj1k"), "wb") as f:
        f.write(b"x" * 1024)
    port = free_port()
    render("nginx.conf.in", os.path.join(d, "nginx.conf"), DIR=d, PORT=port)
    p = spawn("nginx", [os.environ.get("NGINX_BIN", "/usr/sbin/nginx"),
                        "-p", d + "/", "-c", os.path.join(d, "nginx.conf")])
    wait_port(port, p)
    return port


def start_proxy(kind, tag):
    """Start a fresh skua or Squid; return (Popen, port)."""
    d = os.path.join(SCRATCH, "%s-%s" % (kind, tag))
    os.makedirs(d)
    port = free_port()
    conf = os.path.join(d, kind + ".conf")
    if kind == "squid":
        user_line = ""
        if os.getuid() == 0:
            user_line = "cache_effective_user proxy"
            os.chown(d, pwd.getpwnam("proxy").pw_uid, -1)
        render("squid.conf.in", conf, DIR=d, PORT=port, USER_LINE=user_line)
        argv = [os.environ.get("SQUID_BIN", "/usr/sbin/squid"), "-N",
                "-f", conf]
    else:
        workers = os.environ.get("SKUA_WORKERS", "")
        render("skua.conf.in", conf, DIR=d, PORT=port,
               WORKERS_LINE="workers %s" % workers if workers else "")
        argv = [os.environ["SKUA_BIN"], "-N", "-f", conf]
    p = spawn("%s-%s" % (kind, tag), argv)
    wait_port(port, p)
    return p, port


def memory_kib(pid):
    """(Anonymous, VmRSS) in KiB summed over pid and its descendants."""
    anon = rss = 0
    for p in [pid] + descendants(pid):
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Anonymous:"):
                        anon += int(line.split()[1])
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
        except OSError:
            pass
    return anon, rss


class HoldServer(threading.Thread):
    """Accepts, echoes the first message on each connection, then holds."""

    def __init__(self):
        super().__init__(daemon=True)
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4096)
        self.lsock.setblocking(False)
        self.port = self.lsock.getsockname()[1]
        self.held = []
        self.lock = threading.Lock()
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
                    sel.register(c, selectors.EVENT_READ, "new")
                    with self.lock:
                        self.held.append(c)
                    continue
                c = key.fileobj
                try:
                    data = c.recv(256)
                    if data:
                        c.send(data)
                except OSError:
                    pass
                sel.unregister(c)
        sel.close()

    def drop_all(self):
        with self.lock:
            held, self.held = self.held, []
        for c in held:
            try:
                c.close()
            except OSError:
                pass


def read_head(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed before the response head")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def read_response(s):
    head, body = read_head(s)
    status = head.split(" ", 2)[1]
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed inside the body")
        body += chunk
    if status != "200" or len(body) != length:
        raise RuntimeError("unexpected response: %s" % head.split("\r\n")[0])


def open_idle(mode, proxy_port, origin_port, hold_port, count, batch=200):
    """Open count connections through the proxy, each left idle after one
    exchange; return the sockets."""
    if mode == "keepalive":
        req = ("GET http://127.0.0.1:%d/obj1k HTTP/1.1\r\n"
               "Host: 127.0.0.1:%d\r\nConnection: keep-alive\r\n\r\n"
               % (origin_port, origin_port)).encode()
    else:
        req = ("CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
               % (hold_port, hold_port)).encode()
    socks = []
    while len(socks) < count:
        group = []
        for _ in range(min(batch, count - len(socks))):
            s = socket.create_connection(("127.0.0.1", proxy_port), 10)
            s.sendall(req)
            group.append(s)
        for s in group:
            if mode == "keepalive":
                read_response(s)
            else:
                head, rest = read_head(s)
                if head.split(" ", 2)[1] != "200" or rest:
                    raise RuntimeError("CONNECT: %s" % head.split("\r\n")[0])
                s.sendall(b"ping\n")
        if mode == "tunnel":
            for s in group:
                got = b""
                while len(got) < 5:
                    chunk = s.recv(64)
                    if not chunk:
                        raise RuntimeError("tunnel closed before the echo")
                    got += chunk
        socks.extend(group)
    return socks


def count_closed(socks):
    """How many of socks the proxy has closed (EOF or error pending)."""
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
    return closed


def close_all(socks):
    for s in socks:
        s.close()


def measure(kind, round_no, mode, origin_port, hold, count):
    """One fresh proxy, one measure; return KiB per connection."""
    p, port = start_proxy(kind, "%s-%d" % (mode, round_no))
    try:
        warm = open_idle(mode, port, origin_port, hold.port, 50)
        close_all(warm)
        hold.drop_all()
        time.sleep(1.0)
        anon0, rss0 = memory_kib(p.pid)
        socks = open_idle(mode, port, origin_port, hold.port, count)
        time.sleep(1.0)
        anon1, rss1 = memory_kib(p.pid)
        per = (anon1 - anon0) / count
        log("    round %d %-5s %-9s: %6.2f KiB/conn anon "
            "(%d -> %d KiB), VmRSS %d -> %d KiB (%.2f KiB/conn)"
            % (round_no, kind, mode, per, anon0, anon1, rss0, rss1,
               (rss1 - rss0) / count))
        closed = count_closed(socks)
        close_all(socks)
        hold.drop_all()
        if closed:
            raise RuntimeError("the proxy closed %d of the %d idle "
                               "connections: no figure" % (closed, count))
        return per
    finally:
        stop(p)


def raise_nofile(count):
    """Raise RLIMIT_NOFILE (inherited by the proxies) for count clients:
    this process holds 2 descriptors per tunnel.  Return the count that
    fits."""
    need = 2 * count + 200
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return count
        except (ValueError, OSError):
            pass
    limit = min(hard, max(soft, need))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    if limit < need:
        count = (limit - 200) // 2
        log("note: RLIMIT_NOFILE hard limit %d: %d connections only"
            % (hard, count))
    return count


def main():
    global SCRATCH
    ap = argparse.ArgumentParser(
        description="User-space memory per idle connection, skua vs Squid.")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--count", type=int)
    ap.add_argument("--duration", help="ignored (for run_all.sh)")
    ap.add_argument("build_dir", nargs="?", default=".")
    args = ap.parse_args()
    rounds = args.rounds or int(os.environ.get("BENCH_ROUNDS", 0)) or \
        (2 if args.quick else 3)
    rounds = max(rounds, 2)
    count = args.count or (2000 if args.quick else 5000)
    count = raise_nofile(count)

    skua = os.environ.get("SKUA_BIN") or os.path.join(args.build_dir, "skua")
    skua = os.path.abspath(skua)
    os.environ["SKUA_BIN"] = skua
    kinds = ["squid"]
    if os.access(skua, os.X_OK):
        kinds.insert(0, "skua")
    else:
        log("note: no skua binary at %s: measuring Squid only" % skua)

    SCRATCH = tempfile.mkdtemp(prefix="skua-bench.")
    os.chmod(SCRATCH, 0o755)
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))

    workers = os.environ.get("SKUA_WORKERS") or "default (one per core)"
    log("### idle memory: %d idle connections, fresh proxy per round"
        % count)
    log("    %d cores, kernel %s; rounds %d, alternating; skua workers: %s;"
        " squid: 1 worker" % (os.cpu_count(), os.uname().release, rounds,
                              workers))
    log("    figure: smaps_rollup Anonymous, summed over the proxy's"
        " processes, (after - before) / %d" % count)
    origin_port = start_nginx()
    hold = HoldServer()
    hold.start()

    results = {}
    for mode in ("keepalive", "tunnel"):
        for r in range(1, rounds + 1):
            for kind in list(kinds):
                try:
                    v = measure(kind, r, mode, origin_port, hold, count)
                except (RuntimeError, OSError) as e:
                    log("    round %d %s %s failed: %s" % (r, kind, mode, e))
                    if kind == "skua" and r == 1:
                        kinds.remove("skua")
                    continue
                results.setdefault((mode, kind), []).append(v)
    hold.stopping = True

    stat = [sys.executable, os.path.join(HERE, "benchstat.py"), "record"]
    for mode, name, target in (
            ("keepalive", "idle keep-alive client memory", 4),
            ("tunnel", "idle CONNECT tunnel memory", 8)):
        vals = {k: ",".join("%.3f" % v for v in results.get((mode, k), []))
                for k in ("skua", "squid")}
        subprocess.run(stat + ["--name", name, "--unit", "KiB/conn",
                               "--better", "lower", "--skua", vals["skua"],
                               "--squid", vals["squid"], "--ref", "abs",
                               "--op", "<=", "--target", str(target)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
