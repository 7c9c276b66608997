"""Self-tests of the harness pieces; they need no egressd binary.

A tiny stand-in CONNECT relay (no policy, no log) checks that the clients
the scenarios use (curl, openssl s_client, Python ssl) work through a
CONNECT tunnel against the hub, so a scenario failure points at egressd.
"""
import os
import socket
import threading

import harness as h


class StandIn:
    """Minimal CONNECT relay to 127.0.0.2 only (name ignored)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        c.settimeout(10)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 16384:
            d = c.recv(1)
            if not d:
                return
            head += d
        target = head.split(b" ")[1].decode()
        port = int(target.rsplit(":", 1)[1])
        u = socket.create_connection((h.HUB_IP, port), 5)
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pump(a, b):
            try:
                for _ in range(1 << 20):
                    d = a.recv(65536)
                    if not d:
                        break
                    b.sendall(d)
                b.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        t = threading.Thread(target=pump, args=(u, c), daemon=True)
        t.start()
        pump(c, u)
        t.join(10)
        c.close()
        u.close()

    def close(self):
        self.stop.set()
        self.sock.close()


def test_pki_chain(t):
    pki = h.shared_pki(t)
    for cert in (pki.hub_cert, pki.proxy_cert, pki.client_cert):
        r = h.run(["openssl", "verify", "-CAfile", pki.ca, cert])
        assert r.returncode == 0, r.stderr
    r = h.run(["openssl", "x509", "-in", pki.hub_cert, "-noout", "-ext",
               "subjectAltName"])
    text = r.stdout.decode()
    for want in ("DNS:portal.eu1.edge.siemens.cloud",
                 "DNS:*.svc.allowed.example", "IP Address:127.0.0.2",
                 "IP Address:0:0:0:0:0:0:0:1"):
        assert want in text, text
    r = h.run(["openssl", "x509", "-in", pki.client_cert, "-noout",
               "-subject"])
    assert "iem-line1" in r.stdout.decode()


def test_dns_stub(t):
    calls = []

    def flip(name, qtype, n):
        calls.append(n)
        return ["127.0.0.2"] if n == 0 else ["10.0.0.1"]
    many = ["198.51.100.%d" % i for i in range(1, 129)]
    dns = h.StubDns({"a.example": ["127.0.0.2", "::1", "127.0.0.3"],
                     "nx.example": "NXDOMAIN", "sf.example": "SERVFAIL",
                     "nodata.example": "NODATA", "silent.example": "SILENT",
                     "many.example": ("TRUNCATED", many),
                     "flip.example": flip})
    t.defer(dns.close)
    assert h.dns_query(dns.port, "A.Example.") == (0, False,
                                                   ["127.0.0.2", "127.0.0.3"])
    assert h.dns_query(dns.port, "a.example", h.QTYPE_AAAA) == (
        0, False, ["::1"])
    assert h.dns_query(dns.port, "nx.example") == (3, False, [])
    assert h.dns_query(dns.port, "unknown.example") == (3, False, [])
    assert h.dns_query(dns.port, "sf.example") == (2, False, [])
    assert h.dns_query(dns.port, "nodata.example") == (0, False, [])
    assert h.dns_query(dns.port, "silent.example", timeout=0.5) is None
    rc, tc, ips = h.dns_query(dns.port, "many.example")
    assert rc == 0 and tc and len(ips) == h.StubDns.TRUNC_KEEP
    if dns.tcp:
        rc, tc, ips = h.dns_query(dns.port, "many.example", tcp=True)
        assert rc == 0 and not tc and ips == many
    assert h.dns_query(dns.port, "flip.example")[2] == ["127.0.0.2"]
    assert h.dns_query(dns.port, "flip.example")[2] == ["10.0.0.1"]
    assert calls == [0, 1]
    assert ("a.example", h.QTYPE_AAAA) in dns.queries("a.example")
    assert dns.queries("never.example") == []


def test_tcp_server_modes(t):
    echo = h.TcpServer(mode="echo")
    t.defer(echo.close)
    s = socket.create_connection((echo.host, echo.port), 5)
    s.sendall(b"hello")
    s.shutdown(socket.SHUT_WR)
    assert h.recv_all(s) == b"helloEOF-SEEN\n"
    s.close()
    rec = echo.wait_done(1)[0]
    assert rec["data"] == b"hello" and rec["eof"] and rec["error"] is None

    cmd = h.TcpServer(mode="cmd")
    t.defer(cmd.close)
    s = socket.create_connection((cmd.host, cmd.port), 5)
    s.sendall(b"SHUTWR 1000 x\n")
    assert h.recv_all(s) == h.stream_bytes("x", 1000)
    s.sendall(b"after")
    s.close()
    rec = cmd.wait_done(1)[0]
    assert rec["data"] == b"after", rec

    n = 3 << 20
    s = socket.create_connection((cmd.host, cmd.port), 5)
    out = h.stream_bytes("up", n)
    s.sendall(b"BULK %d %d down\n" % (n, n))
    w = threading.Thread(target=s.sendall, args=(out,), daemon=True)
    w.start()
    got = h.recv_all(s)
    w.join(10)
    s.close()
    assert got[:n] == h.stream_bytes("down", n)
    assert got[n:] == b"SHA " + h.sha256(out).encode() + b"\n"


def test_hub_direct(t):
    pki = h.shared_pki(t)
    hub = h.TlsHub(pki)
    t.defer(hub.close)
    ctx = pki.client_context()
    raw = socket.create_connection((hub.host, hub.port), 5)
    s = ctx.wrap_socket(raw, server_hostname=h.PORTAL)
    s.sendall(b"ping")
    assert s.recv(100) == b"ping"
    s.close()
    rec = hub.wait_done(1)[0]
    assert rec["sni"] == h.PORTAL and rec["first"] == b"ping", rec


def test_clients_through_standin(t):
    pki = h.shared_pki(t)
    hub = h.TlsHub(pki)
    t.defer(hub.close)
    proxy = StandIn()
    t.defer(proxy.close)
    url = "https://%s:%d/" % (h.PORTAL, hub.port)
    r = h.curl(["--proxy", "http://127.0.0.1:%d" % proxy.port,
                "--cacert", pki.ca, url])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hub-ok sni=%s\n" % h.PORTAL.encode(), r.stdout
    r = h.run(["openssl", "s_client", "-proxy", "127.0.0.1:%d" % proxy.port,
               "-connect", "%s:%d" % (h.PORTAL, hub.port), "-servername",
               h.PORTAL, "-CAfile", pki.ca, "-verify_return_error",
               "-ign_eof"], input=b"GET / HTTP/1.0\r\n\r\n", timeout=20)
    out = r.stdout.decode("latin-1")
    assert r.returncode == 0 and "Verify return code: 0 (ok)" in out, out
    assert "hub-ok sni=" + h.PORTAL in out
    reply, s = h.tls_through(pki, proxy.port, h.PORTAL, hub.port)
    assert reply.status == 200
    s.sendall(b"abc")
    assert s.recv(10) == b"abc"
    s.close()


def test_cases_file(t):
    path = os.environ.get("E2E_CASES", h.DEFAULT_CASES)
    if not os.path.exists(path):
        raise h.Skip("no cases.tsv at %s" % path)
    rows = {r["id"]: r for r in h.parse_cases(port=4711)}
    assert rows["B05.5"]["raw"].startswith(b"CONNECT p\xc3\xb6rtal.")
    assert b"evil.example\\.svc" in rows["B05.6"]["raw"]
    assert b":04711 " in rows["B09.8"]["raw"]
    assert b":4294967739 " in rows["B09.5"]["raw"]
    assert b"cloud:4711:4711 " in rows["B09.7"]["raw"]
    assert len(rows["B16.5"]["raw"]) == len("CONNECT ") + 1048576
    assert rows["B16.3"]["statuses"] == {431, 400}
    assert rows["B09.8"]["statuses"] == {400, 200}
    assert rows["B18.2"]["raw"] == b""


def test_cases_copy_current(t):
    """tests/e2e/cases.tsv is the shared file, byte for byte."""
    if not os.path.exists(h.SHARED_CASES):
        raise h.Skip("no shared cases at %s to compare" % h.SHARED_CASES)
    with open(h.SHARED_CASES, "rb") as a, open(h.DEFAULT_CASES, "rb") as b:
        assert a.read() == b.read(), \
            "shared cases changed: cp %s %s" % (h.SHARED_CASES,
                                                h.DEFAULT_CASES)


def test_libconfig_render(t):
    text = h.libconfig({"a": 1, "b": 2.0, "c": "x\"y", "d": [1, 2],
                        "e": [{"f": True}], "g": {"h": []}})
    assert 'a = 1;' in text and 'b = 2.0;' in text
    assert 'c = "x\\"y";' in text and 'd = [ 1, 2 ];' in text
    assert "e = (\n" in text and "f = true;" in text and "h = [  ];" in text
