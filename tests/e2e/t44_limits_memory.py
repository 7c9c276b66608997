"""Back-pressure and memory (issue #5): a client that reads nothing while
the upstream sends 50 MiB leaves egressd's RSS flat (the relay stops
reading at limits.tunnel_buffer); the memory held per stalled tunnel and
per idle tunnel is measured and printed ("# ..." lines) for the docs.

E2E_IDLE_TUNNELS (default 300) sets how many idle tunnels are opened."""
import os
import socket
import threading
import time

import harness as h

MiB = 1 << 20


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class Pusher:
    """Origin at 127.0.0.2: each accepted connection is sent up to limit
    bytes as fast as the socket takes them; sent[i] counts what the
    kernel accepted (bounded in time)."""

    def __init__(self, limit, seconds=30):
        self.sock = socket.socket()
        self.sock.bind((h.HUB_IP, 0))
        self.sock.listen(128)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.limit, self.seconds = limit, seconds
        self.sent, self.conns = [], []
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(c)
            self.sent.append(0)
            threading.Thread(target=self._push, args=(c, len(self.sent) - 1),
                             daemon=True).start()

    def _push(self, c, i):
        c.settimeout(0.5)
        chunk = b"x" * 65536
        end = time.monotonic() + self.seconds
        while (self.sent[i] < self.limit and not self.stop.is_set() and
               time.monotonic() < end):
            try:
                self.sent[i] += c.send(chunk[:self.limit - self.sent[i]])
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self.stop.set()
        for c in self.conns:
            c.close()
        self.sock.close()


def under_asan(pid):
    """ASan keeps freed memory in quarantine: RSS then counts every byte
    that ever passed, so per-tunnel bounds hold only without it."""
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def test_slow_reader_rss_flat(t):
    pusher = Pusher(50 * MiB)
    t.defer(pusher.close)
    env = h.Env(t, extra_ports=[pusher.port])
    pid = env.proxy.proc.pid
    r = h.open_tunnel(env.port, "raw.svc.allowed.example:%d" % pusher.port)
    h.assert_answer(r, 200)
    r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    h.wait_until(lambda: pusher.sent, 5)
    before = rss_kib(pid)
    # the sender stalls once every buffer on the way is full
    last, stable = -1, 0
    for _ in range(40):
        time.sleep(0.25)
        cur = pusher.sent[0]
        stable = stable + 1 if cur == last else 0
        last = cur
        if stable >= 4:
            break
    after = rss_kib(pid)
    assert pusher.sent[0] < 50 * MiB, "nothing held back"
    assert after - before < 20 * 1024, "RSS grew %d KiB" % (after - before)
    print("# slow reader: %d KiB in flight (kernel buffers + egressd), "
          "RSS +%d KiB" % (pusher.sent[0] // 1024, after - before))
    got = r.sock.recv(65536)         # reading resumes the flow
    assert got and set(got) == {ord("x")}
    r.sock.close()
    rec = env.records(1, timeout=8)[0]
    h.check_record(rec, http__response__status_code=200,
                   event__outcome="success")
    assert 0 < rec["destination"]["bytes"] < 50 * MiB, rec["network"]


def test_stalled_and_idle_tunnel_memory(t):
    n_idle = int(os.environ.get("E2E_IDLE_TUNNELS", "300"))
    pusher = Pusher(8 * MiB)
    t.defer(pusher.close)
    env = h.Env(t, extra_ports=[pusher.port],
                limits={"tunnels": 10000,
                        "per_ip": {"rate": 100000.0, "burst": 100000,
                                   "tunnels": 10000}})
    pid = env.proxy.proc.pid
    target = "api.svc.allowed.example:%d" % env.tcp.port
    warm = [h.open_tunnel(env.port, target) for _ in range(20)]
    for w in warm:
        w.sock.close()
    time.sleep(0.5)
    base = rss_kib(pid)
    idle = []
    t.defer(lambda: [s.close() for s in idle])
    for _ in range(n_idle):
        r = h.open_tunnel(env.port, target)
        h.assert_answer(r, 200)
        idle.append(r.sock)
    time.sleep(0.5)
    per_idle = (rss_kib(pid) - base) / n_idle
    base2 = rss_kib(pid)
    stalled = []
    t.defer(lambda: [s.close() for s in stalled])
    for _ in range(20):
        r = h.open_tunnel(env.port, "raw.svc.allowed.example:%d" %
                          pusher.port)
        h.assert_answer(r, 200)
        stalled.append(r.sock)
    last, stable = -1, 0
    for _ in range(60):
        time.sleep(0.25)
        cur = sum(pusher.sent)
        stable = stable + 1 if cur == last else 0
        last = cur
        if stable >= 4:
            break
    per_stalled = (rss_kib(pid) - base2) / 20
    print("# idle tunnel: %.1f KiB RSS each (%d tunnels); stalled tunnel:"
          " %.1f KiB RSS each, %d KiB in flight each incl. kernel" %
          (per_idle, n_idle, per_stalled, last // 20 // 1024))
    assert per_idle < 64, per_idle
    if not under_asan(pid):     # 2 x tunnel_buffer + reads, with slack
        assert per_stalled < 512, per_stalled
    for s in idle[:3]:
        s.sendall(b"ok\n")
        assert h._recv_exact(s, 3, limit_s=5) == b"ok\n"
