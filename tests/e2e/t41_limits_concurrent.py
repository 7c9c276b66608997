"""Concurrent caps (issue #5): the per-source cap limits.per_ip.tunnels
answers 429 client_connection_limit while another source is served, and a
freed slot is usable again; the global cap limits.tunnels answers 503
proxy_overloaded."""
import socket

import harness as h


def connect_from(src, port, target, limit_s=h.IO_TIMEOUT):
    s = socket.create_connection(("127.0.0.1", port), limit_s,
                                 source_address=(src, 0))
    s.settimeout(limit_s)
    try:
        s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
                   (target, target)).encode())
    except OSError:
        pass
    return h.read_head(s, limit_s=limit_s)


def _echo(sock):
    sock.sendall(b"ping\n")
    return h._recv_exact(sock, 5, limit_s=5)


def test_per_ip_cap(t):
    env = h.Env(t, limits={"per_ip": {"rate": 1000.0, "burst": 1000,
                                      "tunnels": 3}})
    target = "api.svc.allowed.example:%d" % env.tcp.port
    held = []
    for _ in range(3):
        r = connect_from("127.0.0.1", env.port, target)
        h.assert_answer(r, 200)
        held.append(r.sock)
    r = connect_from("127.0.0.1", env.port, target)
    h.assert_answer(r, 429, "connection_limit_reached")
    assert "client_connection_limit" in r.header("Proxy-Status"), r
    r.sock.close()
    r2 = connect_from("127.0.0.2", env.port, target)
    h.assert_answer(r2, 200)
    assert _echo(r2.sock) == b"ping\n"
    r2.sock.close()
    for s in held:                       # the held tunnels still work
        assert _echo(s) == b"ping\n"
    held.pop().close()
    ok = h.wait_until(lambda: sum(
        1 for x in env.proxy.records()
        if x["http"]["response"]["status_code"] == 200) >= 2, 5)
    assert ok, env.proxy.records()
    r3 = connect_from("127.0.0.1", env.port, target)
    h.assert_answer(r3, 200)
    r3.sock.close()
    for s in held:
        s.close()
    recs = env.records(6, timeout=5)
    denied = [x for x in recs
              if x["event"]["reason"] == "client_connection_limit"]
    assert len(denied) == 1, recs
    h.check_failure(denied[0], "client_connection_limit", 429,
                    source__ip="127.0.0.1", destination__ip=None)
    assert env.tcp.connections == 5, env.tcp.connections


def test_global_cap_503(t):
    env = h.Env(t, limits={"tunnels": 3})
    target = "api.svc.allowed.example:%d" % env.tcp.port
    held = []
    for src in ("127.0.0.1", "127.0.0.3", "127.0.0.4"):
        r = connect_from(src, env.port, target)
        h.assert_answer(r, 200)
        held.append(r.sock)
    r = connect_from("127.0.0.5", env.port, target)
    h.assert_answer(r, 503, "connection_limit_reached")
    assert "proxy_overloaded" in r.header("Proxy-Status"), r
    assert r.header("Retry-After"), r
    r.sock.close()
    for s in held:
        assert _echo(s) == b"ping\n"
        s.close()
    recs = env.records(4, timeout=5)
    denied = [x for x in recs if x["event"]["reason"] == "proxy_overloaded"]
    assert len(denied) == 1, recs
    h.check_failure(denied[0], "proxy_overloaded", 503,
                    source__ip="127.0.0.5", destination__ip=None)
    assert env.tcp.connections == 3
