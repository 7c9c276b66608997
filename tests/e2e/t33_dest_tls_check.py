"""The `tls` protocol check (issue #3): after the 200 the client's first
bytes must be a ClientHello whose SNI equals the CONNECT host.  A match
passes the bytes unchanged (also when the hello is cut into many TLS
records and TCP writes); a mismatch, no SNI, non-TLS bytes or silence
close the tunnel with a logged reason, and no client byte reaches the
upstream."""
import time

import destkit as d
import harness as h

NAME = "api.svc.allowed.example"


def _env(t, **kw):
    return h.Env(t, tcp_mode="silent",
                 config_hook=lambda c: d.set_protocol(c, "tls"), **kw)


def _rejected(env, payload, reason, sni=None, n=1):
    """CONNECT NAME to the silent TCP server, send payload: 200, then
    EOF with nothing more; the upstream got not one byte."""
    r = d.ask(env.port, "%s:%d" % (NAME, env.tcp.port))
    h.assert_answer(r, 200)
    if payload:
        r.sock.sendall(payload)
    t0 = time.monotonic()
    tail = d.rest_until_eof(r, limit_s=15)
    took = time.monotonic() - t0
    r.sock.close()
    assert tail == b"", "bytes after a rejected check: %r" % tail[:80]
    rec = env.records(n)[-1]
    h.check_record(rec, event__outcome="failure", event__reason=reason,
                   http__response__status_code=200,
                   egressd__protocol_check="fail",
                   tls__client__server_name=sni,
                   destination__ip="127.0.0.2", source__bytes=0)
    srv = env.tcp.wait_done(n, 5)
    assert all(s["received"] == 0 for s in srv), \
        "upstream received %r" % [bytes(s["data"][:40]) for s in srv]
    return rec, took


def test_sni_match_passes(t):
    env = _env(t)
    r, tls = h.tls_through(env.pki, env.port, NAME, env.hub.port)
    h.assert_answer(r, 200)
    tls.sendall(b"echo me")
    assert h._recv_exact(tls, 7, 10) == b"echo me"
    tls.close()
    rec = env.records(1)[0]
    h.check_success(env, rec, NAME, env.hub.port)
    h.check_record(rec, egressd__protocol_check="pass",
                   tls__client__server_name=NAME)
    assert env.hub.wait_done(1)[0]["sni"] == NAME


def test_sni_mismatch_closes(t):
    """Domain fronting: CONNECT api..., SNI other... -> sni_mismatch."""
    env = _env(t)
    hello, _ = d.client_hello(env.pki, "other.svc.allowed.example")
    _rejected(env, hello, "sni_mismatch", sni="other.svc.allowed.example")


def test_sni_missing_closes(t):
    env = _env(t)
    hello, _ = d.client_hello(env.pki, None)
    _rejected(env, hello, "sni_missing")


def test_not_tls_closes(t):
    env = _env(t)
    _rejected(env, b"GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % NAME.encode(),
              "not_tls")


def test_check_timeout(t):
    """Nothing, or half a ClientHello, then silence:
    protocol_check_timeout after limits.protocol_timeout (0.6 s; a
    fraction, which was once truncated to 0 s: an instant timeout)."""
    env = _env(t, limits={"protocol_timeout": 0.6})
    _, took = _rejected(env, b"", "protocol_check_timeout")
    assert 0.4 <= took < 2.0, "check timeout after %.2f s" % took
    hello, _ = d.client_hello(env.pki, NAME)
    _, took = _rejected(env, hello[:40], "protocol_check_timeout", n=2)
    assert took < 2.5, "check timeout after %.2f s" % took


def test_fragmented_hello_passes(t):
    """The ClientHello re-cut into 40-byte TLS records, each written in
    two TCP writes: it passes, and the hub finishes the handshake."""
    env = _env(t)
    hello, (obj, inc, out) = d.client_hello(env.pki, NAME)
    frag = d.refragment(hello, 40)
    assert frag.count(b"\x16\x03\x01") >= 3
    r = d.ask(env.port, "%s:%d" % (NAME, env.hub.port))
    h.assert_answer(r, 200)
    sock = r.sock
    cuts = list(range(0, len(frag), 23)) + [len(frag)]
    assert len(cuts) < 100
    for a, b in zip(cuts, cuts[1:]):
        sock.sendall(frag[a:b])
        time.sleep(0.01)
    d.finish_tls(sock, obj, inc, out, r.rest)
    got = h.bio_exchange(obj, sock, inc, out, b"fragmented ok", 13)
    assert got == b"fragmented ok", got
    sock.close()
    rec = env.records(1)[0]
    h.check_success(env, rec, NAME, env.hub.port)
    h.check_record(rec, egressd__protocol_check="pass",
                   tls__client__server_name=NAME)
    assert env.hub.wait_done(1)[0]["sni"] == NAME


def test_hello_with_connect_head(t):
    """CONNECT and the ClientHello in one write: checked, passed."""
    env = _env(t)
    r, obj, s, inc, out = h.tls_early(env.pki, env.port, NAME,
                                      env.hub.port)
    h.assert_answer(r, 200)
    assert h.bio_exchange(obj, s, inc, out, b"early", 5) == b"early"
    s.close()
    rec = env.records(1)[0]
    h.check_record(rec, egressd__protocol_check="pass",
                   tls__client__server_name=NAME, event__outcome="success")


def test_rejected_early_bytes_still_get_200_then_eof(t):
    """Regression: non-TLS bytes in the CONNECT write failed the check
    at once and the session was freed with the 200 unsent and unread
    input queued, so the client often saw a reset and no answer at all.
    Now the 200 goes out and the tunnel ends with a FIN."""
    env = _env(t)
    for i in range(5):
        r = d.ask(env.port, "%s:%d" % (NAME, env.tcp.port),
                  extra=b"GET / HTTP/1.1\r\n\r\n" + b"x" * 20000)
        h.assert_answer(r, 200)
        assert d.rest_until_eof(r) == b""
        r.sock.close()
        h.check_record(env.records(i + 1)[-1], event__reason="not_tls",
                       egressd__protocol_check="fail",
                       source__bytes=0)
    srv = env.tcp.wait_done(5, 5)
    assert all(s["received"] == 0 for s in srv)
