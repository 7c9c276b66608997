"""Name resolution outcomes: DNS errors, timeouts, internal-only answers,
mixed answers (never dialling a blocked address), truncated answers."""
import time

import harness as h

MANY = ["127.0.0.2"] + ["10.9.%d.%d" % (i // 200, i % 200 + 1)
                        for i in range(127)]


def _mixed(name, qtype, n):
    pair = ["203.0.113.10", "127.0.0.1"]
    return pair if n % 2 == 0 else pair[::-1]


DNS = {"nx.svc.allowed.example": "NXDOMAIN",
       "servfail.svc.allowed.example": "SERVFAIL",
       "nodata.svc.allowed.example": "NODATA",
       "silent.svc.allowed.example": "SILENT",
       "internal.svc.allowed.example": ["10.0.0.1"],
       "mixed.svc.allowed.example": _mixed,
       "many.svc.allowed.example": ("TRUNCATED", MANY)}


def _ask(env, name, port=None, limit_s=h.IO_TIMEOUT):
    target = "%s:%d" % (name, port or env.hub.port)
    s = h.socket.create_connection(("127.0.0.1", env.port), 5)
    s.settimeout(limit_s)
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
               (target, target)).encode())
    r = h.read_head(s, limit_s=limit_s)
    s.close()
    return r


def _dns_failure(t, name, status, reason, ps, kind, rcode=None,
                 limit_s=h.IO_TIMEOUT):
    """kind: egressd.dns.error in the record (B28: the log says which
    failure); rcode: the RFC 9209 rcode parameter of Proxy-Status."""
    env = h.Env(t, dns=DNS)
    r = _ask(env, name, limit_s=limit_s)
    h.assert_answer(r, status, ps)
    got = r.header("Proxy-Status")
    if rcode:
        assert '; rcode="%s"' % rcode in got, got
    else:
        assert "rcode" not in got, got
    rec = env.records(1)[0]
    h.check_failure(rec, reason, status, destination__ip=None,
                    destination__domain=name, egressd__connect_ms=0,
                    egressd__dns__error=kind)
    qs = env.dns.queries()
    assert qs and all(q[0] == name for q in qs), \
        "queries %s (search list applied?)" % qs
    assert env.hub.connections == 0
    return rec


def test_nxdomain(t):
    _dns_failure(t, "nx.svc.allowed.example", 502, "dns_error", "dns_error",
                 "NXDOMAIN", "NXDOMAIN")


def test_servfail(t):
    _dns_failure(t, "servfail.svc.allowed.example", 502, "dns_error",
                 "dns_error", "SERVFAIL", "SERVFAIL")


def test_nodata(t):
    # the name exists, without A or AAAA: rcode NOERROR, no data
    _dns_failure(t, "nodata.svc.allowed.example", 502, "dns_error",
                 "dns_error", "NODATA", "NOERROR")


def test_silent_server(t):
    _dns_failure(t, "silent.svc.allowed.example", 504, "dns_timeout",
                 "dns_timeout", "TIMEOUT", limit_s=30)


def test_internal_only(t):
    env = h.Env(t, dns=DNS)
    r = _ask(env, "internal.svc.allowed.example")
    h.assert_answer(r, 403, "destination_ip_prohibited")
    rec = env.records(1)[0]
    h.check_failure(rec, "destination_ip_prohibited", 403,
                    destination__ip=None, egressd__connect_ms=0,
                    egressd__dns__answers=1, egressd__dns__discarded=1)
    assert rec["egressd"]["dns"]["discarded_reasons"] is not None, rec["egressd"]["dns"]


def test_mixed_never_loopback(t):
    """A 127.0.0.1 listener on the requested port must never be dialled,
    whatever the answer order and however the public address fails."""
    trap = h.TcpServer("127.0.0.1", mode="silent")
    t.defer(trap.close)
    env = h.Env(t, dns=DNS, extra_ports=[trap.port])
    for i in range(2):                      # both answer orders
        if i:
            time.sleep(1.2)                 # let a TTL-1 cache expire
        r = _ask(env, "mixed.svc.allowed.example", trap.port, limit_s=30)
        assert r.status in (403, 502, 504), r
        h.assert_answer(r, r.status)
        rec = env.records(i + 1)[-1]
        h.check_record(rec, egressd__dns__answers=2)
        assert rec["egressd"]["dns"]["discarded"] >= 1, rec["egressd"]["dns"]
        assert rec["destination"]["ip"] in (None, "203.0.113.10"), rec
    time.sleep(0.2)
    assert trap.connections == 0, "egressd connected to 127.0.0.1"


def test_truncated_answer(t):
    """evdns does not retry a truncated (TC) UDP answer over TCP: the
    name fails closed as a DNS error (TRUNCATED in the record), nothing
    is dialled (KNOWN_LIMITS)."""
    env = h.Env(t, dns=DNS)
    r = _ask(env, "many.svc.allowed.example", limit_s=30)
    h.assert_answer(r, 502, "dns_error")
    rec = env.records(1)[0]
    h.check_failure(rec, "dns_error", 502, destination__ip=None,
                    egressd__dns__answers=0, egressd__dns__error="TRUNCATED")
    assert env.hub.connections == 0 and env.tcp.connections == 0
    assert env.proxy.alive()


def _v4_only_silent_aaaa(name, qtype, n):
    return "SILENT" if qtype == h.QTYPE_AAAA else [h.HUB_IP]


def test_silent_aaaa_does_not_fail_a_found_a(t):
    """A server that answers A and drops AAAA queries: the A answer is
    used after a short grace, not lost at the deadline (504)."""
    env = h.Env(t, dns={"v4only.svc.allowed.example": _v4_only_silent_aaaa})
    r = _ask(env, "v4only.svc.allowed.example", port=env.tcp.port)
    h.assert_answer(r, 200)
    rec = env.records(1)[0]
    h.check_record(rec, destination__ip=h.HUB_IP, egressd__dns__answers=1,
                   egressd__dns__error=None)


def test_repeated_answers_counted_once(t):
    env = h.Env(t, dns={"dup.svc.allowed.example": [h.HUB_IP] * 20})
    r = _ask(env, "dup.svc.allowed.example", port=env.tcp.port)
    h.assert_answer(r, 200)
    rec = env.records(1)[0]
    h.check_record(rec, egressd__dns__answers=1)
