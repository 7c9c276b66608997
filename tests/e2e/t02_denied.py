"""Hosts, ports and literals outside the allowlist: 403 before any DNS
query or connection."""
import harness as h


def _denied(t, make_target, reason, ps="http_request_denied"):
    env = h.Env(t)
    target = make_target(env)
    r = h.open_tunnel(env.port, target)
    cport = r.sock.getsockname()[1]
    h.assert_answer(r, 403, ps)
    r.sock.close()
    rec = env.records(1)[0]
    h.check_failure(rec, reason, 403, destination__ip=None,
                    http__request__method="CONNECT", source__port=cport,
                    url__original=target, egressd__connect_ms=0)
    assert env.dns.queries() == [], env.dns.queries()
    assert env.hub.connections == 0 and env.tcp.connections == 0
    return rec


def test_host_not_allowed(t):
    rec = _denied(t, lambda e: "evil.example:%d" % e.hub.port,
                  "host_not_allowed")
    assert rec["destination"]["domain"] == "evil.example"


def test_apex_not_matched_by_wildcard(t):
    _denied(t, lambda e: "svc.allowed.example:%d" % e.hub.port,
            "host_not_allowed")


def test_port_not_allowed(t):
    rec = _denied(t, lambda e: h.PORTAL + ":22", "port_not_allowed")
    assert rec["destination"]["port"] == 22


def test_ip_literal(t):
    _denied(t, lambda e: "127.0.0.2:%d" % e.hub.port,
            "ip_literal_not_allowed", "destination_ip_prohibited")
