"""Exactly one access-log record per session, whatever the path."""
import socket
import time

import harness as h


def test_mix_of_sessions(t):
    env = h.Env(t)
    want = {}                         # client port -> (reason, status)

    for _ in range(3):                # tunnels, closed by the client
        r, s = h.tls_through(env.pki, env.port, h.PORTAL, env.hub.port)
        h.assert_answer(r, 200)
        want[s.getsockname()[1]] = ("client_closed", 200)
        s.sendall(b"x")
        assert s.recv(1) == b"x"
        s.close()
    for _ in range(3):                # denied host
        r = h.open_tunnel(env.port, "evil.example:%d" % env.hub.port)
        h.assert_answer(r, 403)
        want[r.sock.getsockname()[1]] = ("host_not_allowed", 403)
        r.sock.close()
    for data, reason, status in [
            (b"garbage\r\n\r\n", "malformed_request_line", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "method_not_allowed",
             405),
            (b"CONNECT %s HTTP/1.1\r\n\r\n" % h.PORTAL.encode(),
             "malformed_port", 400)]:
        s = socket.create_connection(("127.0.0.1", env.port), 5)
        want[s.getsockname()[1]] = (reason, status)
        s.sendall(data)
        r = h.read_head(s)
        assert r.status == status, (data, r)
        s.close()
    for partial in (b"", b"CONNECT portal"):   # client gives up in head
        s = socket.create_connection(("127.0.0.1", env.port), 5)
        want[s.getsockname()[1]] = ("client_closed_in_head", 0)
        s.sendall(partial)
        time.sleep(0.1)
        s.close()

    recs = env.records(len(want), timeout=5)
    time.sleep(0.5)
    recs = env.records(len(want))     # still exactly one each
    ids = [r["session"] for r in recs]
    assert len(set(ids)) == len(ids), "duplicate session ids"
    seen = {}
    for rec in recs:
        h.check_record(rec)
        port = rec["source"]["port"]
        assert port in want and port not in seen, rec
        seen[port] = rec
        reason, status = want[port]
        got = (rec["event"]["reason"], rec["http"]["response"]["status_code"])
        if status == 200:
            assert got[1] == 200 and got[0] in ("client_closed",
                                                "upstream_closed"), got
        else:
            assert got == (reason, status), (got, reason, status)
