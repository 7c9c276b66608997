"""Descriptor exhaustion (issue #5, case B26.1): egressd with
RLIMIT_NOFILE = 64 and 200 idle connections does not spin (CPU time over
a fixed wall interval stays a small fraction), logs the descriptor limit
at a bounded rate, keeps an established tunnel working, and serves a new
CONNECT once the idle connections have met the header deadline."""
import os
import resource
import socket
import time

import harness as h

WALL_S = 3.0


def _cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(parts[11]) + int(parts[12])) / tick     # utime + stime


def test_b26_1_emfile_no_spin(t):
    env = h.Env(t, limits={"header_timeout": 3.0})
    pid = env.proxy.proc.pid
    target = "api.svc.allowed.example:%d" % env.tcp.port
    est = h.open_tunnel(env.port, target)
    h.assert_answer(est, 200)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (64, 64))

    idle = []
    t.defer(lambda: [s.close() for s in idle])
    for _ in range(200):
        s = socket.socket()
        s.bind(("127.0.0.3", 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", env.port))     # queued by the kernel
        idle.append(s)
    time.sleep(0.5)
    c0, w0 = _cpu_s(pid), time.monotonic()
    time.sleep(WALL_S)
    ratio = (_cpu_s(pid) - c0) / (time.monotonic() - w0)
    assert ratio < 0.3, "egressd used %.2f of a CPU at EMFILE" % ratio
    assert env.proxy.alive()

    est.sock.sendall(b"still here\n")          # the tunnel keeps working
    assert h._recv_exact(est.sock, 11, limit_s=5) == b"still here\n"

    got, tries = None, 0
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and tries < 200:
        tries += 1
        try:
            r = h.open_tunnel(env.port, target)
        except OSError:
            time.sleep(0.5)
            continue
        if r.status == 200:
            got = r
            break
        r.sock.close()
        time.sleep(0.5)
    assert got is not None, "no 200 within 40 s (%d tries)" % tries
    got.sock.sendall(b"late\n")
    assert h._recv_exact(got.sock, 5, limit_s=5) == b"late\n"
    got.sock.close()
    est.sock.close()
    err = env.proxy.stderr()
    n = err.count("descriptor limit")
    assert 1 <= n <= 30, "%d descriptor-limit lines" % n

    def tunnels():
        return sorted(x["source"]["bytes"] for x in env.proxy.records()
                      if x["http"]["response"]["status_code"] == 200)
    h.wait_until(lambda: tunnels() == [5, 11], 10, step=0.2)
    assert tunnels() == [5, 11], env.proxy.records()[-3:]
    print("# cpu ratio %.3f, %d descriptor-limit lines, %d tries" %
          (ratio, n, tries))
