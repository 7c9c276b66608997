"""limits.delay_connect (issue #3): on tls and ssh rules egressd answers
200 after the destination checks, checks the client's first bytes, and
only then dials; a rejected tunnel never opens an upstream connection.
A dial that fails after the check closes the client (the record keeps
status 200 and names the connect failure); `any` rules are unchanged."""
import time

import destkit as d
import harness as h

NAME = "api.svc.allowed.example"


def _env(t, proto="tls", extra_ports=(), limits=None):
    lim = {"delay_connect": True}
    lim.update(limits or {})
    return h.Env(t, tcp_mode="silent", extra_ports=extra_ports, limits=lim,
                 config_hook=lambda c: d.set_protocol(c, proto))


def test_delayed_match_connects_after_check(t):
    env = _env(t)
    r, tls = h.tls_through(env.pki, env.port, NAME, env.hub.port)
    h.assert_answer(r, 200)
    tls.sendall(b"delayed")
    assert h._recv_exact(tls, 7, 10) == b"delayed"
    tls.close()
    rec = env.records(1)[0]
    h.check_success(env, rec, NAME, env.hub.port)
    h.check_record(rec, egressd__protocol_check="pass",
                   tls__client__server_name=NAME)
    assert env.hub.wait_done(1)[0]["sni"] == NAME


def test_delayed_early_hello(t):
    """ClientHello in the CONNECT write: checked, then dialled, then the
    held bytes go first."""
    env = _env(t)
    r, obj, s, inc, out = h.tls_early(env.pki, env.port, NAME,
                                      env.hub.port)
    h.assert_answer(r, 200)
    assert h.bio_exchange(obj, s, inc, out, b"early", 5) == b"early"
    s.close()
    h.check_record(env.records(1)[0], egressd__protocol_check="pass",
                   event__outcome="success", destination__ip="127.0.0.2")


def test_delayed_rejects_never_dial(t):
    """SNI mismatch, no SNI, not TLS, silence: 200, then closed; the
    upstream never sees a connection; no address is logged as dialled."""
    env = _env(t, limits={"protocol_timeout": 1.0})
    wrong, _ = d.client_hello(env.pki, "other.svc.allowed.example")
    nosni, _ = d.client_hello(env.pki, None)
    cases = [(wrong, "sni_mismatch"), (nosni, "sni_missing"),
             (b"GET / HTTP/1.0\r\n\r\n", "not_tls"),
             (b"", "protocol_check_timeout")]
    for i, (payload, reason) in enumerate(cases):
        r = d.ask(env.port, "%s:%d" % (NAME, env.tcp.port))
        h.assert_answer(r, 200)
        if payload:
            r.sock.sendall(payload)
        assert d.rest_until_eof(r) == b""
        r.sock.close()
        rec = env.records(i + 1)[-1]
        h.check_record(rec, event__outcome="failure", event__reason=reason,
                       http__response__status_code=200,
                       egressd__protocol_check="fail",
                       destination__ip=None, egressd__connect_ms=0,
                       source__bytes=0, egressd__dns__answers=1)
    time.sleep(0.2)
    assert env.tcp.connections == 0, "a rejected tunnel dialled upstream"


def test_delayed_connect_refused_after_200(t):
    """The check passes, the dial is refused: the client sees EOF after
    the 200; the record keeps 200 and says connection_refused."""
    closed = d.Closed(t, "127.0.0.2")
    env = _env(t, extra_ports=[closed.port])
    hello, _ = d.client_hello(env.pki, NAME)
    r = d.ask(env.port, "%s:%d" % (NAME, closed.port), extra=hello)
    h.assert_answer(r, 200)
    assert d.rest_until_eof(r) == b""
    r.sock.close()
    h.check_record(env.records(1)[0], event__outcome="failure",
                   event__reason="connection_refused",
                   http__response__status_code=200,
                   egressd__protocol_check="pass",
                   destination__ip="127.0.0.2",
                   tls__client__server_name=NAME, source__bytes=0)


def test_delayed_connect_timeout_after_200(t):
    hole = d.Blackhole(t, "127.0.0.2")
    t.defer(hole.close)
    env = _env(t, extra_ports=[hole.port],
               limits={"connect_timeout": 1.0})
    hello, _ = d.client_hello(env.pki, NAME)
    r = d.ask(env.port, "%s:%d" % (NAME, hole.port), extra=hello)
    h.assert_answer(r, 200)
    t0 = time.monotonic()
    assert d.rest_until_eof(r) == b""
    took = time.monotonic() - t0
    r.sock.close()
    assert took < 2.5, "connect timeout after %.2f s" % took
    rec = env.records(1)[0]
    h.check_record(rec, event__reason="connection_timeout",
                   http__response__status_code=200,
                   event__outcome="failure", destination__ip="127.0.0.2")
    assert rec["egressd"]["connect_ms"] >= 900, rec["egressd"]


def test_delayed_ssh_rejects_never_dial(t):
    env = _env(t, proto="ssh")
    r = d.ask(env.port, "%s:%d" % (NAME, env.tcp.port),
              extra=b"GET / HTTP/1.1\r\n\r\n")
    h.assert_answer(r, 200)
    assert d.rest_until_eof(r) == b""
    r.sock.close()
    h.check_record(env.records(1)[0], event__reason="not_ssh",
                   egressd__protocol_check="fail", destination__ip=None)
    r = d.ask(env.port, "%s:%d" % (NAME, env.tcp.port),
              extra=b"SSH-2.0-client\r\n")
    h.assert_answer(r, 200)
    h.wait_until(lambda: env.tcp.connections == 1, 5)
    r.sock.close()
    rec = env.records(2)[1]
    h.check_record(rec, egressd__protocol_check="pass",
                   event__outcome="success", destination__ip="127.0.0.2")
    assert env.tcp.wait_done(1)[0]["data"] == b"SSH-2.0-client\r\n"


def test_delay_ignored_for_any_rules(t):
    """`any` rules connect before the 200, as without the option: a
    refused dial is a plain 502."""
    closed = d.Closed(t, "127.0.0.2")
    env = _env(t, proto="any", extra_ports=[closed.port])
    r = d.ask(env.port, "%s:%d" % (NAME, closed.port))
    r.sock.close()
    h.assert_answer(r, 502, "connection_refused")
    h.check_failure(env.records(1)[0], "connection_refused", 502,
                    egressd__protocol_check="none")
