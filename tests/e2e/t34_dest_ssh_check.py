"""The `ssh` protocol check (issue #3): the client's first bytes must be
an "SSH-2.0-" identification; the server's banner reaches the client
before the check completes; anything else closes the tunnel and no
client byte reaches the upstream."""
import time

import destkit as d
import harness as h

NAME = "raw.svc.allowed.example"
BANNER = b"SSH-2.0-stub_server\r\n"


class SshStub(h.TcpServer):
    """Sends its banner at once, then echoes."""

    def handle(self, conn, rec):
        conn.sendall(BANNER)
        self._drain(conn, rec, echo=True)


def _env(t):
    srv = SshStub("127.0.0.2")
    t.defer(srv.close)
    env = h.Env(t, extra_ports=[srv.port],
                config_hook=lambda c: d.set_protocol(c, "ssh"))
    return env, srv


def test_ssh_banner_passes(t):
    """The server banner arrives before the client sent anything; an
    identification line cut over two writes passes; data flows."""
    env, srv = _env(t)
    r = d.ask(env.port, "%s:%d" % (NAME, srv.port))
    h.assert_answer(r, 200)
    got = r.rest + h._recv_exact(r.sock, len(BANNER) - len(r.rest), 10)
    assert got == BANNER, got
    r.sock.sendall(b"SSH-2.")
    time.sleep(0.2)
    ident = b"0-OpenSSH_9.2 test\r\n"
    r.sock.sendall(ident + b"kex")
    want = b"SSH-2." + ident + b"kex"
    assert h._recv_exact(r.sock, len(want), 10) == want
    r.sock.close()
    rec = env.records(1)[0]
    h.check_record(rec, event__outcome="success",
                   egressd__protocol_check="pass",
                   destination__ip="127.0.0.2",
                   source__bytes=len(want))
    assert srv.wait_done(1)[0]["data"] == want


def test_not_ssh_closes(t):
    env, srv = _env(t)
    r = d.ask(env.port, "%s:%d" % (NAME, srv.port))
    h.assert_answer(r, 200)
    r.sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
    tail = d.rest_until_eof(r)
    r.sock.close()
    assert tail in (b"", BANNER), tail
    rec = env.records(1)[0]
    h.check_record(rec, event__outcome="failure", event__reason="not_ssh",
                   http__response__status_code=200,
                   egressd__protocol_check="fail", source__bytes=0)
    assert srv.wait_done(1)[0]["received"] == 0
