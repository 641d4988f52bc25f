"""A tiny authoritative DNS stub for the integration tests.

It answers A and AAAA questions from a dict, NXDOMAIN for every other name,
and never forwards anything anywhere: skua under test points its
dns_nameservers at it so that no test ever reaches a real DNS server.
It serves UDP and TCP on the same loopback port and records every question
it was asked.  Names in `silent` get no answer at all (for dns_timeout).  What it deliberately does not do: recursion, CNAMEs,
compression beyond the question pointer, EDNS, DNSSEC.

Run it alone for debugging:
    /usr/bin/python3 dnsstub.py 5353 origin.test=127.0.0.1
"""

import socket
import struct
import sys
import threading

QTYPE_A = 1
QTYPE_AAAA = 28


def _parse_question(msg):
    """Return (id, flags, qname, qtype, qclass, end offset) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    if qdcount < 1:
        return None
    pos = 12
    labels = []
    while True:
        if pos >= len(msg):
            return None
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        if n & 0xC0:
            return None
        labels.append(msg[pos:pos + n].decode("ascii", "replace"))
        pos += n
    if pos + 4 > len(msg):
        return None
    qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
    return qid, flags, ".".join(labels), qtype, qclass, pos + 4


class DnsStub:
    """Answer names from <records>: {"name": {"A": [...], "AAAA": [...]}}."""

    def __init__(self, records=None, host="127.0.0.1", port=0,
                 silent=()):
        self.records = {}
        self.silent = {n.lower().rstrip(".") for n in silent}
        for name, rr in (records or {}).items():
            self.add(name, **rr)
        self.queries = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.udp, self.tcp = self._bind_pair(host, port)
        self.port = self.udp.getsockname()[1]
        self._threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]
        for t in self._threads:
            t.start()

    @staticmethod
    def _bind_pair(host, want):
        """Bind UDP and TCP sockets on one (free, when <want> is 0) port."""
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((host, want))
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((host, port))
            except OSError:
                udp.close()
                tcp.close()
                if want:
                    raise
                continue
            tcp.listen(16)
            udp.settimeout(0.2)
            tcp.settimeout(0.2)
            return udp, tcp
        raise RuntimeError("no free port for both UDP and TCP")

    def add(self, name, A=(), AAAA=()):
        self.records[name.lower().rstrip(".")] = {
            "A": list(A), "AAAA": list(AAAA)}

    def asked(self, name):
        """Return how many questions named <name> were received."""
        name = name.lower().rstrip(".")
        with self._lock:
            return sum(1 for q in self.queries if q[0] == name)

    def answer(self, msg):
        q = _parse_question(msg)
        if q is None:
            return None
        qid, flags, qname, qtype, qclass, end = q
        name = qname.lower().rstrip(".")
        with self._lock:
            self.queries.append((name, qtype))
        if name in self.silent:
            return None
        rd = flags & 0x0100
        rr = self.records.get(name)
        answers = []
        if rr is None:
            rcode = 3                           # NXDOMAIN
        else:
            rcode = 0
            if qtype == QTYPE_A and qclass == 1:
                for a in rr["A"]:
                    answers.append(struct.pack("!HHHIH", 0xC00C, QTYPE_A, 1,
                                               5, 4) + socket.inet_aton(a))
            elif qtype == QTYPE_AAAA and qclass == 1:
                for a in rr["AAAA"]:
                    answers.append(
                        struct.pack("!HHHIH", 0xC00C, QTYPE_AAAA, 1, 5, 16)
                        + socket.inet_pton(socket.AF_INET6, a))
        rflags = 0x8000 | 0x0400 | rd | 0x0080 | rcode  # QR AA RD RA
        head = struct.pack("!HHHHHH", qid, rflags, 1, len(answers), 0, 0)
        return head + msg[12:end] + b"".join(answers)

    def _serve_udp(self):
        while not self._stop.is_set():
            try:
                msg, peer = self.udp.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            resp = self.answer(msg)
            if resp is not None:
                try:
                    self.udp.sendto(resp, peer)
                except OSError:
                    pass

    def _serve_tcp(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._tcp_conn, args=(conn,),
                             daemon=True).start()

    def _tcp_conn(self, conn):
        conn.settimeout(5)
        buf = b""
        try:
            while not self._stop.is_set():
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
                while len(buf) >= 2:
                    n = struct.unpack("!H", buf[:2])[0]
                    if len(buf) < 2 + n:
                        break
                    resp = self.answer(buf[2:2 + n])
                    buf = buf[2 + n:]
                    if resp is not None:
                        conn.sendall(struct.pack("!H", len(resp)) + resp)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self._stop.set()
        for t in self._threads:
            t.join(2)
        self.udp.close()
        self.tcp.close()


def main(argv):
    records = {}
    for arg in argv[2:]:
        name, addr = arg.split("=", 1)
        kind = "AAAA" if ":" in addr else "A"
        records.setdefault(name, {"A": [], "AAAA": []})[kind].append(addr)
    stub = DnsStub(records, port=int(argv[1]))
    print("dnsstub on 127.0.0.1:%d (UDP and TCP)" % stub.port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    stub.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
