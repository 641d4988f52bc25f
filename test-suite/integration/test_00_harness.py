"""The test harness itself: DNS stub, Python origin, nginx, curl.

These run without skua, so a failure here is the harness's, not skua's.
"""

import socket
import struct

from harness import RawClient
from pyorigin import CHUNKED_BODY


def _query(port, name, qtype):
    msg = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        msg += bytes([len(label)]) + label.encode()
    msg += b"\0" + struct.pack("!HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        s.sendto(msg, ("127.0.0.1", port))
        resp = s.recv(512)
    finally:
        s.close()
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", resp[:12])
    return qid, flags & 0xF, an, resp


def test_dns_stub_answers_known_names(dns):
    qid, rcode, an, resp = _query(dns.port, "origin.test", 1)
    assert (qid, rcode, an) == (0x4242, 0, 1)
    assert resp.endswith(socket.inet_aton("127.0.0.1"))
    assert _query(dns.port, "Origin.Test", 28)[1:3] == (0, 0)


def test_dns_stub_nxdomain_for_the_rest(dns):
    assert _query(dns.port, "example.com", 1)[1] == 3
    assert _query(dns.port, "nx.test", 1)[1] == 3


def test_pyorigin_echo_and_chunked(pyorigin):
    with RawClient(pyorigin.port) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
               b"\r\nhello")
        r = c.read_response()
        assert r.status == 200 and r.body == b"hello"
        c.send(b"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n")
        r = c.read_response()
        assert r.body == CHUNKED_BODY
    reqs = pyorigin.wait_requests(2)
    assert [q.target for q in reqs] == ["/echo", "/chunked"]
    assert reqs[0].conn_id == reqs[1].conn_id


def test_nginx_serves_docroot(nginx):
    with RawClient(nginx.port) as c:
        c.send(b"GET /small.txt HTTP/1.1\r\nHost: origin.test\r\n\r\n"
               b"GET /204 HTTP/1.1\r\nHost: origin.test\r\n\r\n")
        assert c.read_response().body == b"small file through skua\n"
        assert c.read_response().status == 204
    entries = nginx.requests_matching("/204")
    assert entries and entries[0]["nreq"] == 2
