"""SIGTERM drains: the listening socket closes at once (a new client is
refused by the kernel, never left waiting unanswered and unlogged), a
session still before its 200 is answered 503 and logged, and an open
tunnel carries on until it ends or the drain time runs out."""
import signal
import socket
import time

import harness as h


def test_drain_refuses_new_answers_pending_keeps_tunnels(t):
    env = h.Env(t, dns={"slow.svc.allowed.example": "SILENT"})
    # an open tunnel
    tun = h.open_tunnel(env.port, "raw.svc.allowed.example:%d" %
                        env.tcp.port)
    h.assert_answer(tun, 200)
    # a session waiting for DNS that will never answer
    pend = socket.create_connection(("127.0.0.1", env.port), h.IO_TIMEOUT)
    pend.settimeout(h.IO_TIMEOUT)
    pend.sendall(b"CONNECT slow.svc.allowed.example:%d HTTP/1.1\r\n"
                 b"Host: x\r\n\r\n" % env.tcp.port)
    assert h.wait_until(lambda: env.dns.queries(), 5.0)
    env.proxy.proc.send_signal(signal.SIGTERM)
    r = h.read_head(pend)
    h.assert_answer(r, 503, "proxy_internal_response")
    assert r.header("Retry-After") is not None, r
    pend.close()
    # the listener is closed: refused, not queued
    refused = False
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", env.port), 1).close()
        except ConnectionRefusedError:
            refused = True
            break
        time.sleep(0.05)
    assert refused, "the listening socket still accepts during the drain"
    # the tunnel still works, then ends
    tun.sock.sendall(b"still here\n")
    assert tun.sock.recv(64) == b"still here\n"
    tun.sock.close()
    assert env.proxy.proc.wait(10) == 0
    recs = env.proxy.records()
    by = {x["event"]["reason"]: x for x in recs}
    assert sorted(by) == ["client_closed", "shutdown_before_tunnel"], recs
    h.check_failure(by["shutdown_before_tunnel"], "shutdown_before_tunnel",
                    503, destination__domain="slow.svc.allowed.example")
    h.check_record(by["client_closed"], http__response__status_code=200)
