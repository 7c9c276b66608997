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
