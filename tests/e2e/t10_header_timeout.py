"""The header deadline counts from accept and is not reset by a trickle."""
import select
import socket
import time

import harness as h

DEADLINE = 2.0            # limits.header_timeout in the standard Env
GRACE = 5.0               # generous: a deadline, not a measurement


def _wait_closed(s, limit_s):
    """Read until EOF/reset; returns the bytes received."""
    s.settimeout(limit_s)
    return h.recv_all(s, limit_s=limit_s)


def _check(env, got):
    status = None
    if got:                           # optional 408 before the close
        h.assert_answer(h.read_head(_Buf(got)), 408, "http_request_error")
        status = 408
    rec = env.records(1)[0]
    h.check_record(rec, event__reason="header_timeout",
                   event__outcome="failure", destination__ip=None)
    assert rec["http"]["response"]["status_code"] in ((status,) if status
                                                      else (0, 408)), rec
    assert rec["destination"]["bytes"] == 0, rec["network"]
    return rec


class _Buf:
    """A socket-like object over bytes already received."""

    def __init__(self, data):
        self.data = data

    def recv(self, n):
        d, self.data = self.data[:n], self.data[n:]
        return d


def test_silent_client(t):
    env = h.Env(t)
    s = socket.create_connection(("127.0.0.1", env.port), 5)
    t0 = time.monotonic()
    got = _wait_closed(s, DEADLINE + GRACE)
    took = time.monotonic() - t0
    s.close()
    assert took < DEADLINE + GRACE, "still open after %.1f s" % took
    _check(env, got)


def test_trickle(t):
    env = h.Env(t)
    s = socket.create_connection(("127.0.0.1", env.port), 5)
    t0 = time.monotonic()
    s.sendall(b"CONNECT %s:%d HTTP/1.1\r\n" % (h.PORTAL.encode(),
                                                env.hub.port))
    got, closed = b"", False
    for _ in range(60):               # one line every 0.25 s, at most 15 s
        if time.monotonic() - t0 > DEADLINE + GRACE:
            break
        readable, _, _ = select.select([s], [], [], 0.25)
        if readable:
            got = _wait_closed(s, GRACE)
            closed = True
            break
        try:
            s.sendall(b"X-a: b\r\n")
        except OSError:
            got, closed = b"", True
            break
    took = time.monotonic() - t0
    s.close()
    assert closed and took < DEADLINE + GRACE, "open after %.1f s" % took
    rec = _check(env, got)
    assert env.dns.queries() == [] and env.hub.connections == 0
    # the request line did arrive: the record says what was asked
    assert rec["http"]["request"]["method"] == "CONNECT", rec
    assert rec["url"]["original"] == "%s:%d" % (h.PORTAL, env.hub.port), rec
