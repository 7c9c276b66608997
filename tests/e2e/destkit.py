"""Helpers for the destination-safety scenarios (t3N_dest_*).

Everything here stays on 127.0.0.0/8 and ::1: a "closed port" is a
socket bound without listen (connect gets RST), a "blackhole" is a
listening socket with backlog 0 whose accept queue is already full (the
kernel drops further SYNs, so a connect neither succeeds nor fails).
"""
import socket
import ssl
import struct
import time

import harness as h


class Closed:
    """A port on host where nothing listens (bound, so no one else takes
    it while the test runs): a connect is refused at once."""

    def __init__(self, t, host="127.0.0.2", port=0):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        t.defer(self.sock.close)


class Blackhole:
    """A port on host whose SYNs go unanswered: listen(0), then one
    connection fills the accept queue and is never accepted."""

    def __init__(self, t, host="127.0.0.2", port=0):
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind((host, port))
        self.lsock.listen(0)
        t.defer(self.lsock.close)
        self.port = self.lsock.getsockname()[1]
        self.fillers = []
        for _ in range(4):
            if not self._connects(host, 0.5):
                return
        raise h.Skip("cannot fill the accept queue of a backlog-0 socket")

    def _connects(self, host, wait_s):
        """Try one more connection; True if the handshake completed."""
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        self.fillers.append(c)
        try:
            c.connect((host, self.port))
        except BlockingIOError:
            pass
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            err = c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0:
                try:
                    c.getpeername()
                    return True
                except OSError:
                    pass
            time.sleep(0.02)
        return False

    def close(self):
        for c in self.fillers:
            c.close()


def ask(port, target, extra=b"", limit_s=h.IO_TIMEOUT):
    """CONNECT target (plus extra bytes in the same write); the Reply,
    its socket left open (the caller closes it)."""
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.settimeout(limit_s)
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
               (target, target)).encode() + extra)
    return h.read_head(s, limit_s=limit_s)


def rest_until_eof(reply, limit_s=10.0):
    """Everything after the head until EOF (bounded)."""
    reply.sock.settimeout(limit_s)
    return reply.rest + h.recv_all(reply.sock, limit=1 << 20,
                                   limit_s=limit_s)


def set_protocol(cfg, proto):
    for rule in cfg["allow"]:
        rule["protocol"] = proto


def client_hello(pki, name):
    """The first flight of a TLS client with SNI name (None: no SNI),
    and the objects to finish the handshake with (obj, inc, out)."""
    ctx = pki.client_context()
    if name is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read(), (obj, inc, out)


def refragment(hello, size):
    """The handshake message(s) of the records in hello, re-cut into TLS
    records of at most size payload bytes each."""
    body, off = b"", 0
    while off < len(hello):
        ctype, ver, n = struct.unpack("!BHH", hello[off:off + 5])
        assert ctype == 22, "not a handshake record"
        body += hello[off + 5:off + 5 + n]
        off += 5 + n
    out = b""
    for i in range(0, len(body), size):
        chunk = body[i:i + size]
        out += struct.pack("!BHH", 22, 0x0301, len(chunk)) + chunk
    return out


finish_tls = h.finish_tls


def check_dest(rec, **want):
    """check_record plus: the dialled address is one the log shows, and
    the durations are sane."""
    h.check_record(rec, **want)
    assert rec["egressd"]["dns"]["duration_ms"] >= 0 and \
        rec["egressd"]["connect_ms"] >= 0, rec
    return rec
