"""A client that half-closes right after its request (printf ... | nc -N)
still receives the answer the log says it got: the close path waits for
the answer to drain before it lets the connection go."""
import signal
import socket
import time

import harness as h

TRIES = 20


def _ask_half_closed(port, data):
    s = socket.create_connection(("127.0.0.1", port), h.IO_TIMEOUT)
    s.settimeout(h.IO_TIMEOUT)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    return s


def test_refusal_reaches_half_closed_client(t):
    env = h.Env(t)
    for _ in range(TRIES):
        s = _ask_half_closed(env.port, b"CONNECT evil.example:443 HTTP/1.1"
                             b"\r\nHost: evil.example:443\r\n\r\n")
        got = h.recv_all(s, limit_s=h.IO_TIMEOUT)
        s.close()
        assert got.startswith(b"HTTP/1.1 403 "), got
    recs = env.records(TRIES, timeout=5)
    for rec in recs:
        h.check_failure(rec, "host_not_allowed", 403)


def test_drain_503_reaches_half_closed_client(t):
    env = h.Env(t, dns={"slow.svc.allowed.example": "SILENT"})
    socks = []
    for _ in range(TRIES):
        socks.append(_ask_half_closed(
            env.port, b"CONNECT slow.svc.allowed.example:%d HTTP/1.1\r\n"
            b"Host: x\r\n\r\n" % env.tcp.port))
    assert h.wait_until(lambda: len(env.dns.queries()) >= 1, 5.0)
    time.sleep(0.3)                       # all heads read
    env.proxy.proc.send_signal(signal.SIGTERM)
    for s in socks:
        got = h.recv_all(s, limit_s=h.IO_TIMEOUT)
        s.close()
        assert got.startswith(b"HTTP/1.1 503 "), got
    assert env.proxy.proc.wait(10) == 0
    recs = env.proxy.records()
    assert len(recs) == TRIES, recs
    for rec in recs:
        h.check_failure(rec, "shutdown_before_tunnel", 503)
