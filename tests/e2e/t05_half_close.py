"""Half-close passes through the tunnel in each direction."""
import socket

import harness as h

NAME = "raw.svc.allowed.example"


def test_client_shuts_down_write(t):
    """Client FIN reaches the server; the server can still answer."""
    env = h.Env(t)
    r = h.open_tunnel(env.port, "%s:%d" % (NAME, env.tcp.port))
    h.assert_answer(r, 200)
    s = r.sock
    s.sendall(b"hello")
    s.shutdown(socket.SHUT_WR)
    got = r.rest + h.recv_all(s)
    s.close()
    assert got == b"helloEOF-SEEN\n", got
    srv = env.tcp.wait_done(1)[0]
    assert srv["eof"] and srv["data"] == b"hello", srv
    rec = env.records(1)[0]
    h.check_success(env, rec, NAME, env.tcp.port)
    assert rec["source"]["bytes"] == 5
    assert rec["destination"]["bytes"] == len(b"helloEOF-SEEN\n")


def test_server_shuts_down_write(t):
    """Server FIN reaches the client after all its bytes; the client can
    still send afterwards and the server receives it."""
    cmd = h.TcpServer(h.HUB_IP, mode="cmd")
    t.defer(cmd.close)
    env = h.Env(t, extra_ports=[cmd.port])
    r = h.open_tunnel(env.port, "%s:%d" % (NAME, cmd.port))
    h.assert_answer(r, 200)
    s = r.sock
    n = 200000
    line = b"SHUTWR %d halfclose\n" % n
    s.sendall(line)
    got = r.rest + h.recv_all(s)
    assert got == h.stream_bytes("halfclose", n), "got %d bytes" % len(got)
    late = b"written after the server's FIN"
    s.sendall(late)
    s.shutdown(socket.SHUT_WR)
    assert h.recv_all(s) == b""
    s.close()
    srv = cmd.wait_done(1)[0]
    assert srv["error"] is None and srv["eof"], srv
    assert srv["data"] == late, srv["data"]
    rec = env.records(1)[0]
    h.check_success(env, rec, NAME, cmd.port)
    assert rec["source"]["bytes"] == len(line) + len(late)
    assert rec["destination"]["bytes"] == n
