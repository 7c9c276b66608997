"""End-to-end harness for egressd: real daemon, real clients, loopback only.

Pieces:
  Pki       test CA, hub server cert, proxy server cert, client cert
  TlsHub    threaded TLS server (echo / tiny HTTP answer / bulk exchange)
  TcpServer threaded plain TCP server (echo / bulk / half-close commands)
  StubDns   UDP (and TCP) DNS server with per-name answers and a query log
  Egressd   the daemon under test, with its access log
  Env       one ready-made setup (PKI, hub, DNS, daemon) used by scenarios

Every loop is bounded in count and time; every socket has a timeout.
Only 127.0.0.0/8 and ::1 are ever contacted by the harness itself.
"""
import hashlib
import ipaddress
import json
import os
import random
import re
import signal
import socket
import ssl
import struct
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_BINARY = os.path.join(REPO, "src", "egressd")
# Our copy of the shared bad-input cases, so the suite never depends on
# a folder outside the repository; t00 checks it against the shared one.
DEFAULT_CASES = os.path.join(HERE, "cases.tsv")
SHARED_CASES = os.path.normpath(os.path.join(REPO, "..", "shared", "cases",
                                             "cases.tsv"))

HUB_IP = "127.0.0.2"
PORTAL = "portal.eu1.edge.siemens.cloud"
IO_TIMEOUT = 10.0

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")


class Skip(Exception):
    """Raised by a test to be reported as SKIP."""


# --------------------------------------------------------------- utilities

def free_port(host="127.0.0.1"):
    """A port that was free a moment ago (bind 0, read, close)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, step=0.02):
    """Poll pred() until true or timeout; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def stream_bytes(seed, n):
    """n bytes of a deterministic pseudo-random stream."""
    return random.Random(seed).randbytes(n)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def _recv_exact(sock, n, limit_s=60.0):
    buf = bytearray()
    deadline = time.monotonic() + limit_s
    while len(buf) < n:
        if time.monotonic() > deadline:
            raise TimeoutError("recv_exact: deadline")
        chunk = sock.recv(min(65536, n - len(buf)))
        if not chunk:
            raise EOFError("EOF after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def _recv_line(sock, limit=4096):
    buf = bytearray()
    while len(buf) < limit:
        c = sock.recv(1)
        if not c:
            break
        buf += c
        if c == b"\n":
            break
    return bytes(buf)


def recv_all(sock, limit=64 * 1024 * 1024, limit_s=30.0):
    """Read until EOF (bounded in bytes and time)."""
    buf = bytearray()
    deadline = time.monotonic() + limit_s
    while len(buf) < limit and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def run(cmd, timeout=30, input=None, env=None):
    """subprocess.run with a timeout and captured output."""
    return subprocess.run(cmd, input=input, capture_output=True,
                          timeout=timeout, env=env)


# --------------------------------------------------------------------- PKI

class Pki:
    """A throwaway CA and certificates made with the openssl CLI."""

    HUB_NAMES = [PORTAL, "*.svc.allowed.example", "*.eu1.edge.siemens.cloud",
                 "localhost"]
    HUB_IPS = ["127.0.0.1", "127.0.0.2", "::1"]

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        p = lambda n: os.path.join(directory, n)
        self.ca, self.ca_key = p("ca.pem"), p("ca.key")
        self.hub_cert, self.hub_key = p("hub.pem"), p("hub.key")
        self.proxy_cert, self.proxy_key = p("proxy.pem"), p("proxy.key")
        self.client_cert, self.client_key = p("client.pem"), p("client.key")
        if not os.path.exists(self.client_cert):
            self._make()

    def _ossl(self, *args):
        r = run(["openssl"] + list(args), timeout=30)
        if r.returncode != 0:
            raise RuntimeError("openssl %s: %s" % (args[0],
                                                   r.stderr.decode()))

    def _ext(self, name, text):
        path = os.path.join(self.dir, name + ".ext")
        with open(path, "w") as f:
            f.write(text)
        return path

    def _key(self, path):
        self._ossl("genpkey", "-algorithm", "EC", "-pkeyopt",
                   "ec_paramgen_curve:prime256v1", "-out", path)

    def _leaf(self, name, cert, key, cn, ext):
        self._key(key)
        csr = os.path.join(self.dir, name + ".csr")
        self._ossl("req", "-new", "-key", key, "-subj", "/CN=" + cn,
                   "-out", csr)
        self._ossl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey",
                   self.ca_key, "-CAcreateserial", "-days", "3", "-sha256",
                   "-extfile", self._ext(name, ext), "-out", cert)

    def _make(self):
        self._key(self.ca_key)
        ca_ext = self._ext("ca", "basicConstraints=critical,CA:TRUE\n"
                           "keyUsage=critical,keyCertSign,cRLSign\n"
                           "subjectKeyIdentifier=hash\n")
        self._ossl("req", "-new", "-x509", "-key", self.ca_key, "-subj",
                   "/CN=egressd e2e test CA", "-days", "3", "-sha256",
                   "-extensions", "v3_ca", "-config", self._ca_conf(ca_ext),
                   "-out", self.ca)
        san = ",".join(["DNS:" + n for n in self.HUB_NAMES] +
                       ["IP:" + i for i in self.HUB_IPS])
        leaf = ("basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "authorityKeyIdentifier=keyid\n")
        self._leaf("hub", self.hub_cert, self.hub_key, PORTAL,
                   leaf + "extendedKeyUsage=serverAuth\n"
                   "subjectAltName=" + san + "\n")
        self._leaf("proxy", self.proxy_cert, self.proxy_key, "egressd.test",
                   leaf + "extendedKeyUsage=serverAuth\nsubjectAltName="
                   "DNS:egressd.test,IP:127.0.0.1,IP:::1\n")
        self._leaf("client", self.client_cert, self.client_key, "iem-line1",
                   leaf + "extendedKeyUsage=clientAuth\n")

    def _ca_conf(self, ext_path):
        path = os.path.join(self.dir, "ca.cnf")
        with open(ext_path) as f:
            ext = f.read()
        with open(path, "w") as f:
            f.write("[req]\ndistinguished_name=dn\n[dn]\n[v3_ca]\n" + ext)
        return path

    def client_context(self, client_cert=False):
        """An SSL client context trusting only the test CA."""
        ctx = ssl.create_default_context(cafile=self.ca)
        if client_cert:
            ctx.load_cert_chain(self.client_cert, self.client_key)
        return ctx


# ------------------------------------------------------------ TCP servers

class _Server:
    """Accept loop in a thread; one handler thread per connection."""

    def __init__(self, host, port=0):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(128)
        self.sock.settimeout(0.2)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.sessions = []
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop,
                                        daemon=True)
        self._thread.start()

    @property
    def connections(self):
        with self.lock:
            return len(self.sessions)

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            rec = {"peer": peer, "received": 0, "data": bytearray(),
                   "first": b"", "eof": False, "done": False,
                   "error": None, "sni": None}
            with self.lock:
                self.sessions.append(rec)
            threading.Thread(target=self._run, args=(conn, rec),
                             daemon=True).start()

    def _run(self, conn, rec):
        conn.settimeout(IO_TIMEOUT * 3)
        try:
            self.handle(conn, rec)
        except Exception as e:  # recorded for the test to inspect
            rec["error"] = repr(e)
        finally:
            rec["done"] = True
            try:
                conn.close()
            except OSError:
                pass

    def _note(self, rec, data, keep=1 << 20):
        if not rec["first"]:
            rec["first"] = bytes(data[:256])
        rec["received"] += len(data)
        if len(rec["data"]) < keep:
            rec["data"] += data[:keep - len(rec["data"])]

    def wait_done(self, n=1, timeout=10.0):
        """Wait until n sessions have finished; returns them."""
        def done():
            with self.lock:
                return [s for s in self.sessions if s["done"]]
        wait_until(lambda: len(done()) >= n, timeout)
        return done()

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def _bulk(conn, rec, line, sequential):
    """BULK <recv_n> <send_n> <seed>: receive recv_n bytes, send send_n
    bytes of stream(seed), then 'SHA <hex of received>\\n'."""
    _, rn, sn, seed = line.split()
    rn, sn = int(rn), int(sn)
    h = hashlib.sha256()
    payload = stream_bytes(seed, sn)

    def sender():
        conn.sendall(payload)

    t = None
    if not sequential:
        t = threading.Thread(target=sender, daemon=True)
        t.start()
    got = 0
    while got < rn:
        chunk = conn.recv(min(65536, rn - got))
        if not chunk:
            raise EOFError("bulk: EOF after %d of %d" % (got, rn))
        h.update(chunk)
        got += len(chunk)
        rec["received"] += len(chunk)
    if t is None:
        sender()
    else:
        t.join(60)
    conn.sendall(b"SHA " + h.hexdigest().encode() + b"\n")


class TcpServer(_Server):
    """Plain TCP server.

    mode "echo": echo every chunk; on EOF from the client send
      b"EOF-SEEN\\n" (proving the other direction is still open), close.
    mode "cmd": the first line is a command:
      BULK <recv_n> <send_n> <seed>   concurrent bulk exchange (see _bulk)
      SHUTWR <n> <seed>               send n stream bytes, shutdown(SHUT_WR),
                                      then read (recorded) until EOF
    mode "silent": record what arrives, never write, close on EOF.
    """

    def __init__(self, host="127.0.0.2", mode="echo", port=0):
        self.mode = mode
        super().__init__(host, port)

    def handle(self, conn, rec):
        if self.mode == "cmd":
            line = _recv_line(conn).decode("ascii", "replace")
            rec["first"] = line.encode()
            if line.startswith("BULK "):
                return _bulk(conn, rec, line, sequential=False)
            if line.startswith("SHUTWR "):
                _, n, seed = line.split()
                conn.sendall(stream_bytes(seed, int(n)))
                conn.shutdown(socket.SHUT_WR)
                self._drain(conn, rec, echo=False)
                return
            raise ValueError("unknown command %r" % line)
        self._drain(conn, rec, echo=(self.mode == "echo"))
        if self.mode == "echo":
            conn.sendall(b"EOF-SEEN\n")

    def _drain(self, conn, rec, echo):
        for _ in range(1 << 20):
            data = conn.recv(65536)
            if not data:
                rec["eof"] = True
                return
            self._note(rec, data)
            if echo:
                conn.sendall(data)


HTTP_METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"OPTIONS ")


class TlsHub(_Server):
    """TLS server standing in for the vendor hub.

    After the handshake, by the first bytes received:
      an HTTP request   -> a minimal HTTP/1.1 200 answer naming the SNI,
                           then close (so curl and s_client work)
      BULK r s seed\\n   -> sequential bulk exchange (see _bulk)
      anything else     -> echo until EOF
    Each session records the SNI, the first bytes and the byte count.
    """

    def __init__(self, pki, host=HUB_IP, port=0):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki.hub_cert, pki.hub_key)
        self.ctx.sni_callback = self._sni
        self._tls = threading.local()
        super().__init__(host, port)

    def _sni(self, sslobj, name, ctx):
        rec = getattr(self._tls, "rec", None)
        if rec is not None:
            rec["sni"] = name

    @staticmethod
    def _close_notify(tconn):
        """Send close_notify (clients treat a bare EOF as truncation)."""
        tconn.settimeout(2)
        try:
            tconn.unwrap()
        except (OSError, ValueError):
            pass

    def handle(self, conn, rec):
        self._tls.rec = rec
        tconn = self.ctx.wrap_socket(conn, server_side=True)
        rec["handshake"] = True
        data = tconn.recv(65536)
        if not data:
            rec["eof"] = True
            return
        if data.startswith(b"BULK "):
            line, _, rest = data.partition(b"\n")
            if rest:
                raise ValueError("bulk: data after command line")
            return _bulk(tconn, rec, line.decode(), sequential=True)
        self._note(rec, data)
        if data.startswith(HTTP_METHODS):
            body = ("hub-ok sni=%s\n" % rec["sni"]).encode()
            tconn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                          b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                          % len(body) + body)
            self._close_notify(tconn)
            return
        tconn.sendall(data)
        for _ in range(1 << 20):
            try:
                data = tconn.recv(65536)
            except (ssl.SSLEOFError, ConnectionResetError):
                data = b""
            if not data:
                rec["eof"] = True
                return
            self._note(rec, data)
            tconn.sendall(data)


# ----------------------------------------------------------------- DNS stub

QTYPE_A, QTYPE_AAAA = 1, 28
RCODE_NOERROR, RCODE_SERVFAIL, RCODE_NXDOMAIN = 0, 2, 3


class StubDns:
    """DNS server on 127.0.0.1 (UDP, plus TCP on the same port if free).

    records: name -> spec, where spec is
      a list of IP strings (A answers the IPv4 ones, AAAA the IPv6 ones;
        no address of the family -> NODATA),
      "NXDOMAIN", "SERVFAIL", "NODATA", "SILENT" (never answers),
      "TRUNCATED" or ("TRUNCATED", [ips]): over UDP TC=1 with the first
        few answers; over TCP the full list,
      a callable(qname, qtype, n) -> spec (n: earlier queries for the
        same name and type).
    Unknown names -> NXDOMAIN.  `log` holds (qname, qtype) per query.
    """

    TRUNC_KEEP = 8

    def __init__(self, records=None, host="127.0.0.1"):
        self.records = {self._canon(k): v for k, v in
                        (records or {}).items()}
        self.log = []
        self.lock = threading.Lock()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((host, 0))
        self.udp.settimeout(0.2)
        self.host, self.port = host, self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.tcp.bind((host, self.port))
            self.tcp.listen(16)
            self.tcp.settimeout(0.2)
        except OSError:
            self.tcp.close()
            self.tcp = None
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._udp_loop,
                                          daemon=True)]
        if self.tcp:
            self._threads.append(threading.Thread(target=self._tcp_loop,
                                                  daemon=True))
        for t in self._threads:
            t.start()

    @staticmethod
    def _canon(name):
        name = name.lower()
        return name[:-1] if name.endswith(".") else name

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def set(self, name, spec):
        self.records[self._canon(name)] = spec

    def queries(self, name=None):
        with self.lock:
            if name is None:
                return list(self.log)
            return [q for q in self.log if q[0] == self._canon(name)]

    def _udp_loop(self):
        while not self._stop.is_set():
            try:
                pkt, peer = self.udp.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            reply = self.answer(pkt, tcp=False)
            if reply is not None:
                try:
                    self.udp.sendto(reply, peer)
                except OSError:
                    pass

    def _tcp_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                conn.settimeout(2)
                try:
                    for _ in range(16):
                        (n,) = struct.unpack("!H", _recv_exact(conn, 2, 2))
                        reply = self.answer(_recv_exact(conn, n, 2),
                                            tcp=True)
                        if reply is None:
                            break
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
                except (OSError, EOFError, TimeoutError, struct.error):
                    pass

    @staticmethod
    def parse_question(pkt):
        """(id, flags, qname, qtype, qclass, end offset of question)."""
        qid, flags, qd = struct.unpack("!HHH", pkt[:6])
        if qd != 1:
            raise ValueError("qdcount %d" % qd)
        labels, off = [], 12
        for _ in range(128):
            n = pkt[off]
            off += 1
            if n == 0:
                break
            if n & 0xC0:
                raise ValueError("compressed qname")
            labels.append(pkt[off:off + n].decode("ascii", "replace"))
            off += n
        qtype, qclass = struct.unpack("!HH", pkt[off:off + 4])
        return qid, flags, ".".join(labels), qtype, qclass, off + 4

    def answer(self, pkt, tcp):
        try:
            qid, flags, qname, qtype, qclass, qend = self.parse_question(pkt)
        except (ValueError, IndexError, struct.error):
            return None
        name = self._canon(qname)
        with self.lock:
            n = sum(1 for q in self.log if q == (name, qtype))
            self.log.append((name, qtype))
        spec = self.records.get(name, "NXDOMAIN")
        if callable(spec):
            spec = spec(name, qtype, n)
        rcode, ips, tc = RCODE_NOERROR, [], False
        if spec == "SILENT":
            return None
        if spec in ("NXDOMAIN", "SERVFAIL"):
            rcode = RCODE_NXDOMAIN if spec == "NXDOMAIN" else RCODE_SERVFAIL
        elif spec == "NODATA":
            pass
        else:
            if isinstance(spec, tuple) and spec[0] == "TRUNCATED":
                spec = spec[1]
                if not tcp:
                    tc = True
            ips = [ipaddress.ip_address(a) for a in spec]
            want = 4 if qtype == QTYPE_A else 6 if qtype == QTYPE_AAAA else 0
            ips = [a for a in ips if a.version == want]
            if tc:
                ips = ips[:self.TRUNC_KEEP]
        rflags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | rcode
        if tc:
            rflags |= 0x0200
        head = struct.pack("!HHHHHH", qid, rflags, 1, len(ips), 0, 0)
        body = pkt[12:qend]
        for a in ips:
            rtype = QTYPE_A if a.version == 4 else QTYPE_AAAA
            # name: compression pointer to the question name at offset 12
            body += struct.pack("!HHHIH", 0xC00C, rtype, 1, 1,
                                len(a.packed)) + a.packed
        return head + body

    def close(self):
        self._stop.set()
        for t in self._threads:
            t.join(2)
        self.udp.close()
        if self.tcp:
            self.tcp.close()


def dns_query(server_port, name, qtype=QTYPE_A, timeout=2.0, tcp=False):
    """A tiny DNS client for self-tests: (rcode, tc, [ip strings]) or None
    on timeout."""
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", qtype, 1)
    if tcp:
        with socket.create_connection(("127.0.0.1", server_port),
                                      timeout) as s:
            s.sendall(struct.pack("!H", len(q)) + q)
            (n,) = struct.unpack("!H", _recv_exact(s, 2, timeout))
            r = _recv_exact(s, n, timeout)
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(q, ("127.0.0.1", server_port))
            try:
                r, _ = s.recvfrom(65536)
            except socket.timeout:
                return None
    rid, flags, qd, an = struct.unpack("!HHHH", r[:8])
    assert rid == qid, "id mismatch"
    _, _, _, _, _, off = StubDns.parse_question(r)
    ips = []
    for _ in range(an):
        ptr, rtype, _cls, ttl, rdlen = struct.unpack("!HHHIH",
                                                     r[off:off + 12])
        assert ptr == 0xC00C and ttl == 1
        rdata = r[off + 12:off + 12 + rdlen]
        ips.append(str(ipaddress.ip_address(rdata)))
        off += 12 + rdlen
    return flags & 0xF, bool(flags & 0x0200), ips


# ----------------------------------------------------------- config writer

def _lc_value(v, indent):
    pad = "\t" * indent
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if "." in repr(v) or "e" in repr(v) else repr(v) + ".0"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, dict):
        inner = "".join("%s\t%s = %s;\n" % (pad, k, _lc_value(x, indent + 1))
                        for k, x in v.items())
        return "{\n" + inner + pad + "}"
    if isinstance(v, (list, tuple)):
        if any(isinstance(x, dict) for x in v):
            items = (",\n".join(pad + "\t" + _lc_value(x, indent + 1)
                                for x in v))
            return "(\n" + items + "\n" + pad + ")"
        return "[ " + ", ".join(_lc_value(x, indent) for x in v) + " ]"
    raise TypeError("cannot render %r" % (v,))


def libconfig(cfg):
    """Render a dict as libconfig text (groups {}, lists (), arrays [])."""
    return "".join("%s = %s;\n" % (k, _lc_value(v, 0)) for k, v in
                   cfg.items())


# ------------------------------------------------------------ the daemon

def _proc_addr(address):
    """An address as /proc/net/tcp{,6} prints it: each 32-bit word of
    the address in host (little-endian) byte order, in hex."""
    fam = socket.AF_INET6 if ":" in address else socket.AF_INET
    raw = socket.inet_pton(fam, address)
    return "".join(raw[i:i + 4][::-1].hex().upper()
                   for i in range(0, len(raw), 4))


def _listening(port, address=None):
    """True when a socket LISTENs on the TCP port (from /proc), on that
    address if one is given: a test server on 127.0.0.2 may hold the
    same port number as egressd's 127.0.0.1 listener, and must not be
    taken for it."""
    want = ":%04X" % port
    if address:
        want = _proc_addr(address) + want
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[1].endswith(want) and parts[3] == "0A":
                        return True
        except OSError:
            pass
    return False


class Egressd:
    """egressd under test: `egressd -c FILE [extra_args]` in the
    foreground, stderr to a file.  Readiness is read from /proc/net/tcp so
    that waiting for it does not itself open a session."""

    def __init__(self, tmpdir, config, extra_args=(), port=None):
        self.binary = os.environ.get("EGRESSD", DEFAULT_BINARY)
        if not os.access(self.binary, os.X_OK):
            raise AssertionError("egressd binary not found at %s (build it,"
                                 " or set EGRESSD)" % self.binary)
        self.tmp = tmpdir
        self.conf = os.path.join(tmpdir, "egressd.conf")
        self.stderr_path = os.path.join(tmpdir, "egressd.stderr")
        self.address = None
        if isinstance(config, dict):
            self.port = config["listen"][0]["port"]
            self.address = config["listen"][0].get("address")
            self.access_log = config.get("log", {}).get("access")
            text = libconfig(config)
        else:
            self.port, self.access_log, text = port, None, config
            m = re.search(r'access\s*=\s*"([^"]*)"', text)
            if m:
                self.access_log = m.group(1)
        with open(self.conf, "w") as f:
            f.write(text)
        if isinstance(config, dict):      # for debugging and stand-ins
            with open(self.conf + ".json", "w") as f:
                json.dump(config, f, indent=1)
        env = dict(os.environ)
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        self._err = open(self.stderr_path, "wb")
        argv = [self.binary, "-c", self.conf] + list(extra_args)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self._err, stderr=self._err,
                                     env=env)
        self.rc = None
        if self.port is not None:
            ok = wait_until(lambda: _listening(self.port, self.address) or
                            self.proc.poll() is not None, 10.0)
            if self.proc.poll() is not None or not ok:
                self.stop(check=False)
                raise AssertionError("egressd did not start (rc %s): %s" %
                                     (self.rc, self.stderr()[-2000:]))

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def check_sanitizers(self):
        err = self.stderr()
        for mark in SANITIZER_MARKS:
            i = err.find(mark)
            if i >= 0:
                raise AssertionError("sanitizer report in egressd stderr:\n"
                                     + err[max(0, i - 200):i + 3000])

    def alive(self):
        return self.proc.poll() is None

    def stop(self, check=True):
        """SIGTERM, wait up to 10 s (then SIGKILL); returns the exit code.
        With check, fails on a sanitizer report, a kill or a crash."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                self.rc = self.proc.returncode
                self._err.close()
                if check:
                    raise AssertionError("egressd ignored SIGTERM for 10 s")
                return self.rc
        self.rc = self.proc.returncode
        self._err.close()
        if check:
            self.check_sanitizers()
            if self.rc != 0:
                raise AssertionError("egressd exited with %s: %s" %
                                     (self.rc, self.stderr()[-2000:]))
        return self.rc

    # -- access log

    def raw_log(self):
        try:
            with open(self.access_log, "rb") as f:
                return f.read()
        except (OSError, TypeError):
            return b""

    def records(self):
        """The access log as a list of dicts (complete lines only).  Each
        line is checked to be free of raw control bytes."""
        out = []
        for line in self.raw_log().split(b"\n")[:-1]:
            bad = [b for b in line if b < 0x20 or b == 0x7F]
            assert not bad, "raw control byte(s) %r in log line %r" % (
                bad[:4], line[:300])
            out.append(json.loads(line.decode("utf-8")))
        return out

    def wait_records(self, n, timeout=3.0):
        """Poll until at least n records exist; asserts exactly n."""
        wait_until(lambda: len(self.records()) >= n, timeout)
        recs = self.records()
        assert len(recs) == n, "want %d access-log records, have %d: %s" % (
            n, len(recs), recs[n:][:3] if len(recs) > n else "")
        return recs


# ----------------------------------------------------- log record schema

# Strings that may not apply are null, never a placeholder, so that a
# SIEM mapping source.ip and destination.ip as addresses takes every
# record; so are a status never sent and a port never asked for.
S0 = (str, type(None))
I0 = (int, type(None))

_SCHEMA = {
    "@timestamp": str,
    "event": {"id": str, "kind": str, "action": str, "outcome": str,
              "reason": str, "duration": int, "count": int},
    "source": {"ip": str, "port": int, "bytes": int,
               "geo": {"country_iso_code": S0}},
    "user": {"name": S0},
    "http": {"request": {"method": S0},
             "response": {"status_code": I0}},
    "url": {"original": S0},
    "destination": {"domain": S0, "port": I0, "ip": S0, "bytes": int,
                    "geo": {"country_iso_code": S0}},
    "network": {"transport": str, "bytes": int},
    "tls": {"client": {"server_name": S0}},
    "egressd": {"listener": str, "auth": str, "protocol_check": str,
                "connect_ms": int,
                "dns": {"answers": int, "discarded": int,
                        "discarded_reasons": S0, "duration_ms": int,
                        "error": S0}},
}


def _check_schema(obj, schema, path):
    assert isinstance(obj, dict), "%s: not an object" % path
    for k, t in schema.items():
        assert k in obj, "log record lacks %s%s" % (path, k)
        if isinstance(t, dict):
            _check_schema(obj[k], t, path + k + ".")
        else:
            ok = isinstance(obj[k], t) and not isinstance(obj[k], bool)
            assert ok, "%s%s: %r is not %s" % (path, k, obj[k], t)


def check_record(rec, **want):
    """Check a record's schema and the fields given as dotted keys with
    '__' for '.', e.g. event__reason="host_not_allowed"."""
    _check_schema(rec, _SCHEMA, "")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
                        rec["@timestamp"]), rec["@timestamp"]
    assert re.fullmatch(r"[0-9a-f]{16}", rec["event"]["id"]), rec["event"]
    assert rec["event"]["outcome"] in ("success", "failure"), rec
    assert rec["event"]["duration"] >= 0 and rec["destination"]["bytes"] >= 0
    assert rec["network"]["bytes"] == (rec["source"]["bytes"] +
                                       rec["destination"]["bytes"]), rec
    assert sorted(rec) == sorted(_SCHEMA), "fields: %s" % sorted(rec)
    assert rec["egressd"]["protocol_check"] in ("none", "pass", "fail")
    assert rec["egressd"]["auth"] in ("none", "ok", "failed", "locked",
                                      "certificate")
    for key, val in want.items():
        cur = rec
        for part in key.split("__"):
            cur = cur[part]
        assert cur == val, "record %s = %r, want %r (record: %s)" % (
            key.replace("__", "."), cur, val, json.dumps(rec))
    return rec


def field(rec, dotted):
    cur = rec
    for part in dotted.split("."):
        cur = cur[part]
    return cur


# ------------------------------------------------------- client helpers

class Reply:
    """A proxy's answer head: status, headers (lower-case names, lists),
    the head text, bytes already read past the head, the socket."""

    def __init__(self, head, rest, sock):
        self.head = head.decode("latin-1")
        self.rest, self.sock = rest, sock
        lines = self.head.split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})(?: |$)", lines[0])
        self.status = int(m.group(1)) if m else None
        self.status_line = lines[0]
        self.headers = {}
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                self.headers.setdefault(k.strip().lower(), []).append(
                    v.strip())

    def header(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None

    def __repr__(self):
        return "<Reply %r>" % self.head[:300]


def read_head(sock, limit=65536, limit_s=IO_TIMEOUT):
    """Read up to the blank line ending a response head (bounded)."""
    buf = b""
    deadline = time.monotonic() + limit_s
    while b"\r\n\r\n" not in buf and len(buf) < limit:
        if time.monotonic() > deadline:
            break
        try:
            chunk = sock.recv(4096)
        except (socket.timeout, ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        buf += chunk
    head, sep, rest = buf.partition(b"\r\n\r\n")
    return Reply(head + sep, rest, sock)


def open_tunnel(port, target, extra=b"", host="127.0.0.1", version="1.1",
                headers=b""):
    """Send CONNECT target (plus extra bytes in the same write); return the
    Reply with .sock still open."""
    s = socket.create_connection((host, port), IO_TIMEOUT)
    s.settimeout(IO_TIMEOUT)
    req = ("CONNECT %s HTTP/%s\r\nHost: %s\r\n" % (target, version,
                                                   target)).encode()
    s.sendall(req + headers + b"\r\n" + extra)
    return read_head(s)


def connect_raw(port, data, host="127.0.0.1", limit_s=IO_TIMEOUT):
    """Write data in one go (from a helper thread, so an early close by the
    proxy does not stop us reading), read the answer head, close.
    Returns a Reply (sock closed)."""
    s = socket.create_connection((host, port), IO_TIMEOUT)
    s.settimeout(limit_s)

    def writer():
        try:
            s.sendall(data)
        except OSError:
            pass
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    r = read_head(s, limit_s=limit_s)
    s.close()
    t.join(limit_s)
    return r


def curl(args, timeout=20):
    """Run curl with no proxy variables from the environment."""
    env = {k: v for k, v in os.environ.items()
           if "proxy" not in k.lower()}
    return run(["curl", "-sS", "--max-time", str(timeout - 5)] + list(args),
               timeout=timeout, env=env)


def tls_through(pki, port, name, hub_port, client_cert=False):
    """CONNECT name:hub_port, then a verified TLS handshake with SNI name.
    Returns (Reply, ssl socket or None)."""
    r = open_tunnel(port, "%s:%d" % (name, hub_port))
    if r.status != 200:
        return r, None
    assert r.rest == b"", "bytes after 200 head before TLS: %r" % r.rest
    ctx = pki.client_context(client_cert)
    return r, ctx.wrap_socket(r.sock, server_hostname=name)


# --------------------------------------------------------- shared cases

def decode_case(text):
    """Exactly the decoding of shared/cases/send: {N*text} repeats, then
    \\r \\n \\t \\\\ \\xHH."""
    text = re.sub(r"\{(\d+)\*([^}]*)\}",
                  lambda m: m.group(2) * int(m.group(1)), text)
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 == len(text):
            out += c.encode("utf-8")
            i += 1
            continue
        n = text[i + 1]
        if n == "x":
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
            continue
        out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}.get(
            n, ("\\" + n).encode())
        i += 2
    return bytes(out)


CASE_STATUSES = {200, 400, 403, 405, 407, 408, 413, 414, 429, 431,
                 500, 502, 503, 504}


def case_statuses(expect):
    """Status codes the first clause of an expectation accepts (as send)."""
    if not re.match(r"\d{3}\b", expect):
        return set()
    first = expect.split(";")[0]
    return {int(c) for c in re.findall(r"\b(\d{3})\b", first)} & \
        CASE_STATUSES


def parse_cases(path=None, port=None):
    """Rows of cases.tsv as dicts: id, raw (decoded bytes, ':443' -> port
    when port is given, keeping any leading zeros), expect, note,
    statuses."""
    path = path or os.environ.get("E2E_CASES", DEFAULT_CASES)
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            cid, raw, expect, note = (line.rstrip("\n").split("\t") +
                                      [""] * 4)[:4]
            data = decode_case(raw)
            if port is not None:
                data = re.sub(rb":(0*)443(?![0-9])",
                              lambda m: b":" + m.group(1) + str(port).encode(),
                              data)
            rows.append({"id": cid, "raw": data, "expect": expect,
                         "note": note, "statuses": case_statuses(expect)})
    return rows


# ------------------------------------------------------ standard setup

DEFAULT_DNS = {
    PORTAL: [HUB_IP],
    "api.svc.allowed.example": [HUB_IP],
    "raw.svc.allowed.example": [HUB_IP],
}


class Env:
    """PKI + hub + TCP server + stub DNS + egressd with the standard test
    config.  Everything is torn down by t.defer (LIFO).

    allowlist: portal.eu1.edge.siemens.cloud on the hub port;
    *.svc.allowed.example on the hub port, the TCP server's port, 8443 and
    extra_ports; protocol "any"; 127.0.0.2/32 allowed internal."""

    def __init__(self, t, dns=None, extra_ports=(), tcp_mode="echo",
                 limits=None, config_hook=None, start=True):
        self.t = t
        self.pki = shared_pki(t)
        self.hub = TlsHub(self.pki)
        t.defer(self.hub.close)
        self.tcp = TcpServer(HUB_IP, mode=tcp_mode)
        t.defer(self.tcp.close)
        records = dict(DEFAULT_DNS)
        records.update(dns or {})
        self.dns = StubDns(records)
        t.defer(self.dns.close)
        self.port = free_port()
        self.access_log = os.path.join(t.tmp, "access.log")
        self.hosts_file = os.path.join(t.tmp, "hosts")
        with open(self.hosts_file, "w") as f:
            f.write("# empty: names come from the stub DNS\n")
        lim = {"header_timeout": 2.0, "connect_timeout": 2.0,
               "idle_timeout": 30.0, "max_header_bytes": 16384,
               "max_headers": 64,
               "per_ip": {"rate": 1000.0, "burst": 1000, "tunnels": 256},
               "tunnels": 1024}
        lim.update(limits or {})
        ports = [self.hub.port, self.tcp.port, 8443] + list(extra_ports)
        self.config = {
            "listen": [{"address": "127.0.0.1", "port": self.port}],
            "clients": {"allow": ["127.0.0.0/8", "::1"]},
            "auth": {"realm": "egressd", "required": False},
            "allow": [
                {"hosts": [PORTAL], "ports": [self.hub.port],
                 "protocol": "any"},
                {"hosts": ["*.svc.allowed.example"], "ports": ports,
                 "protocol": "any"},
            ],
            "destinations": {"allow_internal": [HUB_IP + "/32"],
                             "strict": False},
            "resolver": {"nameservers": [self.dns.address], "timeout": 2.0,
                         "hosts_file": self.hosts_file},
            "limits": lim,
            "log": {"access": self.access_log, "format": "json"},
        }
        if config_hook:
            config_hook(self.config)
        self.proxy = None
        if start:
            self.start()

    def start(self):
        self.proxy = Egressd(self.t.tmp, self.config)
        self.t.defer(self.proxy.stop)
        return self.proxy

    def records(self, n, timeout=3.0):
        return self.proxy.wait_records(n, timeout)


_PKI = {}


def shared_pki(t):
    """One PKI per run (certificates take a moment to make)."""
    base = os.environ.get("E2E_PKI_DIR") or os.path.join(
        os.path.dirname(t.tmp), "pki")
    if base not in _PKI:
        _PKI[base] = Pki(base)
    return _PKI[base]


# ------------------------------------------------------- assertions

def assert_answer(reply, status, proxy_status=None):
    """Status code, and for errors the RFC 9209 Proxy-Status type."""
    assert reply.status == status, "want %d, got %r" % (status, reply)
    if status == 200:
        assert reply.status_line == "HTTP/1.1 200 Connection established", \
            reply.status_line
        return
    ps = reply.header("Proxy-Status")
    assert ps is not None, "no Proxy-Status in %r" % reply
    if proxy_status:
        assert re.match(r"egressd\s*;\s*error=%s\b" % re.escape(proxy_status),
                        ps), "Proxy-Status %r, want error=%s" % (
                            ps, proxy_status)
    if status == 405:
        assert reply.header("Allow") == "CONNECT", reply
    if status == 407:
        assert (reply.header("Proxy-Authenticate") or "").startswith(
            "Basic realm="), reply
    if status == 429:
        assert reply.header("Retry-After"), reply


def tls_early(pki, port, name, dport, payload=b""):
    """CONNECT and the TLS ClientHello in ONE write (optimistic clients);
    then finish the handshake over the tunnel with memory BIOs.  Returns
    (Reply, sslobj, sock, incoming, outgoing)."""
    ctx = pki.client_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    s = socket.create_connection(("127.0.0.1", port), IO_TIMEOUT)
    s.settimeout(IO_TIMEOUT)
    t = "%s:%d" % (name, dport)
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (t, t)).encode()
              + hello)
    r = read_head(s)
    if r.status != 200:
        return r, None, s, inc, out
    finish_tls(s, obj, inc, out, r.rest)
    return r, obj, s, inc, out


def finish_tls(sock, obj, inc, out, first=b""):
    """Drive a memory-BIO handshake over sock to the end (bounded)."""
    inc.write(first)
    for _ in range(100):
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pending = out.read()
            if pending:
                sock.sendall(pending)
            data = sock.recv(65536)
            if not data:
                raise EOFError("EOF during TLS handshake")
            inc.write(data)
    pending = out.read()
    if pending:
        sock.sendall(pending)


def bio_exchange(obj, s, inc, out, payload, want):
    """Send payload over a memory-BIO TLS object; read `want` bytes."""
    obj.write(payload)
    s.sendall(out.read())
    got = b""
    for _ in range(1000):
        if len(got) >= want:
            break
        try:
            got += obj.read(65536)
            continue
        except ssl.SSLWantReadError:
            pass
        data = s.recv(65536)
        if not data:
            break
        inc.write(data)
    return got


def check_success(env, rec, domain, dport, url=None, client_port=None):
    """The record of an established tunnel through the standard Env."""
    check_record(rec, event__action="connect", event__outcome="success",
                 http__request__method="CONNECT",
                 http__response__status_code=200, user__name=None,
                 destination__domain=domain, destination__port=dport,
                 destination__ip=HUB_IP, source__ip="127.0.0.1",
                 egressd__listener="127.0.0.1:%d" % env.port,
                 egressd__auth="none")
    assert rec["event"]["reason"] in ("client_closed", "upstream_closed"), \
        rec["event"]["reason"]
    if url is not None:
        assert rec["url"]["original"] == url, rec["url"]
    if client_port is not None:
        assert rec["source"]["port"] == client_port, rec["source"]
    return rec


def check_failure(rec, reason, status, **more):
    """The record of a session refused before any tunnel."""
    check_record(rec, event__outcome="failure", event__reason=reason,
                 http__response__status_code=status or None, **more)
    assert rec["destination"]["bytes"] == 0, rec
    return rec
