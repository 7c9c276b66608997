"""Bytes written in the same packet as the CONNECT head reach the server
first, byte-exact, and are counted."""
import socket

import harness as h

NAME = "raw.svc.allowed.example"


def test_payload_with_head(t):
    env = h.Env(t)
    payload = b"FIRST\x00\r\n\r\nCONNECT x:1 HTTP/1.1\r\n\r\n" + \
        h.stream_bytes("early", 3000)
    r = h.open_tunnel(env.port, "%s:%d" % (NAME, env.tcp.port),
                      extra=payload)
    h.assert_answer(r, 200)
    s = r.sock
    cport = s.getsockname()[1]
    got = r.rest + h._recv_exact(s, len(payload) - len(r.rest))
    assert got == payload, "echo differs"
    more = b"second write"
    s.sendall(more)
    s.shutdown(socket.SHUT_WR)
    tail = h.recv_all(s)
    s.close()
    assert tail == more + b"EOF-SEEN\n", tail
    srv = env.tcp.wait_done(1)[0]
    assert srv["data"] == payload + more, "server saw %r..." % (
        bytes(srv["data"][:60]),)
    assert srv["first"] == payload[:256]
    rec = env.records(1)[0]
    h.check_success(env, rec, NAME, env.tcp.port, client_port=cport)
    assert rec["source"]["bytes"] == len(payload + more), rec["network"]
    assert rec["destination"]["bytes"] == len(payload + more) + 9, \
        rec["network"]
