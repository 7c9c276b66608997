"""Deadlines and header caps (issue #5): idle_timeout and max_lifetime
end established tunnels with their own reasons; too many headers and an
oversized head are answered 431 with the reason in the log."""
import time

import harness as h


def _tunnel(env):
    r = h.open_tunnel(env.port, "api.svc.allowed.example:%d" % env.tcp.port)
    h.assert_answer(r, 200)
    return r


def test_idle_timeout(t):
    env = h.Env(t, limits={"idle_timeout": 1.0})
    r = _tunnel(env)
    r.sock.sendall(b"x\n")
    assert h._recv_exact(r.sock, 2, limit_s=5) == b"x\n"
    t0 = time.monotonic()
    rest = h.recv_all(r.sock, limit_s=8)
    took = time.monotonic() - t0
    assert rest == b"" and took < 6, (rest, took)
    rec = env.records(1, timeout=5)[0]
    h.check_record(rec, event__reason="idle_timeout",
                   http__response__status_code=200, event__outcome="success")
    assert rec["source"]["bytes"] == 2, rec["network"]


def test_max_lifetime_despite_traffic(t):
    env = h.Env(t, limits={"max_lifetime": 1.5, "idle_timeout": 30.0})
    r = _tunnel(env)
    t0, closed = time.monotonic(), False
    for _ in range(40):                      # busy: never idle
        try:
            r.sock.sendall(b"ping\n")
            if h._recv_exact(r.sock, 5, limit_s=2) != b"ping\n":
                break
        except (EOFError, OSError, TimeoutError):
            closed = True
            break
        time.sleep(0.2)
    took = time.monotonic() - t0
    assert closed and 1.0 < took < 6, (closed, took)
    rec = env.records(1, timeout=5)[0]
    h.check_record(rec, event__reason="max_lifetime",
                   http__response__status_code=200)


def test_431_too_many_headers(t):
    env = h.Env(t, limits={"max_headers": 8})
    req = (b"CONNECT %s:%d HTTP/1.1\r\n" % (h.PORTAL.encode(), env.hub.port)
           + b"".join(b"X-%d: a\r\n" % i for i in range(20)) + b"\r\n")
    r = h.connect_raw(env.port, req)
    h.assert_answer(r, 431, "http_request_error")
    h.check_failure(env.records(1)[0], "too_many_headers", 431,
                    destination__ip=None)
    assert env.dns.queries() == [] and env.hub.connections == 0


def test_431_oversize_head(t):
    env = h.Env(t, limits={"max_header_bytes": 4096})
    req = (b"CONNECT %s:%d HTTP/1.1\r\nX-big: " % (h.PORTAL.encode(),
                                                   env.hub.port)
           + b"a" * 8000 + b"\r\n\r\n")
    r = h.connect_raw(env.port, req)
    h.assert_answer(r, 431, "http_request_error")
    h.check_failure(env.records(1)[0], "header_too_large", 431,
                    destination__ip=None)
    assert env.dns.queries() == [] and env.hub.connections == 0
