"""10 MiB each way, byte-exact (sha256), plain TCP both directions at once
and TLS through the hub."""
import threading

import harness as h

NAME = "raw.svc.allowed.example"
N = 10 << 20


def test_tcp_both_ways_at_once(t):
    env = h.Env(t, tcp_mode="cmd")
    r = h.open_tunnel(env.port, "%s:%d" % (NAME, env.tcp.port))
    h.assert_answer(r, 200)
    s = r.sock
    up = h.stream_bytes("up", N)
    line = b"BULK %d %d down\n" % (N, N)
    s.sendall(line)
    w = threading.Thread(target=s.sendall, args=(up,), daemon=True)
    w.start()
    got = r.rest + h.recv_all(s, limit_s=50)
    w.join(10)
    s.close()
    sha_line = b"SHA " + h.sha256(up).encode() + b"\n"
    assert len(got) == N + len(sha_line), len(got)
    assert h.sha256(got[:N]) == h.sha256(h.stream_bytes("down", N))
    assert got[N:] == sha_line, (got[N:], sha_line)
    rec = env.records(1)[0]
    h.check_success(env, rec, NAME, env.tcp.port)
    assert rec["source"]["bytes"] == len(line) + N, rec["network"]
    assert rec["destination"]["bytes"] == N + len(sha_line), rec["network"]


def test_tls_each_way(t):
    env = h.Env(t)
    reply, s = h.tls_through(env.pki, env.port, h.PORTAL, env.hub.port)
    h.assert_answer(reply, 200)
    up = h.stream_bytes("tls-up", N)
    s.sendall(b"BULK %d %d tls-down\n" % (N, N))
    s.sendall(up)
    got = h._recv_exact(s, N, limit_s=50)
    sha_line = h._recv_exact(s, 69)
    s.close()
    assert h.sha256(got) == h.sha256(h.stream_bytes("tls-down", N))
    assert sha_line == b"SHA " + h.sha256(up).encode() + b"\n"
    rec = env.records(1)[0]
    h.check_success(env, rec, h.PORTAL, env.hub.port)
    assert rec["source"]["bytes"] > N and rec["destination"]["bytes"] > N
