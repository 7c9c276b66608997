"""Methods other than CONNECT: 405 with Allow: CONNECT, nothing dialled."""
import harness as h


def _method(t, data, method):
    env = h.Env(t)
    r = h.connect_raw(env.port, data)
    h.assert_answer(r, 405, "http_request_error")
    rec = env.records(1)[0]
    h.check_failure(rec, "method_not_allowed", 405, destination__ip=None,
                    http__request__method=method)
    assert env.dns.queries() == [] and env.hub.connections == 0


def test_get_absolute_form(t):
    _method(t, b"GET http://evil.example/ HTTP/1.1\r\n"
               b"Host: evil.example\r\n\r\n", "GET")


def test_lower_case_connect(t):
    _method(t, b"connect %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" %
            (h.PORTAL.encode(), h.PORTAL.encode()), "connect")


def test_get_with_broken_field_is_400(t):
    """Syntax before method (the shared cases' order of verdicts): a GET
    whose head holds a malformed field line is a 400, not a 405."""
    env = h.Env(t)
    r = h.connect_raw(env.port, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n")
    h.assert_answer(r, 400, "http_request_error")
    h.check_failure(env.records(1)[0], "malformed_header", 400,
                    http__request__method="GET")


def test_get_with_too_many_fields_is_431(t):
    env = h.Env(t)
    data = b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 100 + b"\r\n"
    r = h.connect_raw(env.port, data)
    h.assert_answer(r, 431, "http_request_error")
    h.check_failure(env.records(1)[0], "too_many_headers", 431)


def test_tls_hello_on_plain_port_is_400_at_once(t):
    """A client that speaks TLS to the plain listener sends no line end:
    it gets its 400 from the first bytes, not a 408 at the header
    deadline (the reason tells which path answered)."""
    import destkit as dk
    env = h.Env(t)
    hello = dk.client_hello(env.pki, h.PORTAL)[0]
    r = h.connect_raw(env.port, hello)
    h.assert_answer(r, 400, "http_request_error")
    h.check_failure(env.records(1)[0], "malformed_request_line", 400)
