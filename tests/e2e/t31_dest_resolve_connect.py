"""Resolution and connect outcomes (issue #3, cases B24.4, B28, B29):
DNS errors are 502 dns_error and a silent server 504 dns_timeout, never
a 200 first; the name is resolved exactly as normalised (absolute, no
search list, also for a trailing-dot request); a blackholed upstream is
504 connection_timeout within the connect timeout, a refused one 502
connection_refused at once."""
import re
import time

import destkit as d
import harness as h

DNS = {"nx.svc.allowed.example": "NXDOMAIN",
       "servfail.svc.allowed.example": "SERVFAIL",
       "nodata.svc.allowed.example": "NODATA",
       "silent.svc.allowed.example": "SILENT",
       "refused.svc.allowed.example": ["127.0.0.2"],
       "blackhole.svc.allowed.example": ["127.0.0.2"],
       "slow.svc.allowed.example": ["127.0.0.2", "127.0.0.3"],
       "second.svc.allowed.example": ["127.0.0.3", "127.0.0.2"]}


def _failure(env, name, port, status, ps, n, limit_s=h.IO_TIMEOUT):
    """CONNECT name:port; the whole answer up to EOF is one error
    response (never a 200 first); the n-th record matches."""
    t0 = time.monotonic()
    r = d.ask(env.port, "%s:%d" % (name, port), limit_s=limit_s)
    took = time.monotonic() - t0
    h.assert_answer(r, status, ps)
    tail = d.rest_until_eof(r)
    r.sock.close()
    assert tail == b"%d %s\n" % (status, re.sub(
        r"^HTTP/1\.1 \d+ ", "", r.status_line).encode()), tail
    assert b"200 Connection" not in r.head.encode() + tail
    rec = env.records(n)[-1]
    h.check_failure(rec, ps, status, destination__domain=name.rstrip("."))
    return rec, took


def test_dns_errors_are_502(t):
    """B24.4, B28.1-3: NXDOMAIN, SERVFAIL, NODATA -> 502 dns_error, no
    address dialled, one query per type for exactly the name."""
    env = h.Env(t, dns=DNS)
    names = ["nx.svc.allowed.example", "servfail.svc.allowed.example",
             "nodata.svc.allowed.example"]
    for i, name in enumerate(names):
        rec, _ = _failure(env, name, env.tcp.port, 502, "dns_error", i + 1)
        h.check_record(rec, destination__ip=None, egressd__dns__answers=0,
                       egressd__connect_ms=0)
        qs = env.dns.queries(name)
        assert {q[1] for q in qs} <= {h.QTYPE_A, h.QTYPE_AAAA} and qs, qs
    seen = {q[0] for q in env.dns.queries()}
    assert seen == set(names), "queried %s (search list?)" % seen
    assert env.tcp.connections == 0 and env.hub.connections == 0


def test_dns_silent_is_504(t):
    """B28.4: no reply at all -> 504 dns_timeout after resolver.timeout
    (2 s here), not much later."""
    env = h.Env(t, dns=DNS)
    rec, took = _failure(env, "silent.svc.allowed.example", env.tcp.port,
                         504, "dns_timeout", 1, limit_s=20)
    assert 1.5 <= took < 2 + 1.5, "dns timeout after %.2f s" % took
    h.check_record(rec, destination__ip=None, egressd__connect_ms=0)
    assert rec["egressd"]["dns"]["duration_ms"] >= 1500, rec["egressd"]["dns"]
    assert {q[0] for q in env.dns.queries()} == \
        {"silent.svc.allowed.example"}


def test_trailing_dot_resolves_canonical_name(t):
    """B02/B28: "name." and "NAME" are resolved as "name" only, and an
    NXDOMAIN for "x." is not retried with any suffix."""
    env = h.Env(t, dns=DNS)
    r = d.ask(env.port, "API.svc.allowed.example.:%d" % env.tcp.port)
    h.assert_answer(r, 200)
    r.sock.close()
    rec = env.records(1)[0]
    h.check_record(rec, destination__domain="api.svc.allowed.example",
                   url__original="API.svc.allowed.example.:%d" %
                   env.tcp.port, destination__ip="127.0.0.2")
    _failure(env, "nx.svc.allowed.example.", env.tcp.port, 502,
             "dns_error", 2)
    names = {q[0] for q in env.dns.queries()}
    assert names == {"api.svc.allowed.example", "nx.svc.allowed.example"}, \
        names


def test_connect_refused_is_502_at_once(t):
    """B29.2: RST from the only address -> 502 connection_refused."""
    closed = d.Closed(t, "127.0.0.2")
    env = h.Env(t, dns=DNS, extra_ports=[closed.port])
    rec, took = _failure(env, "refused.svc.allowed.example", closed.port,
                         502, "connection_refused", 1)
    assert took < 1.5, "refused after %.2f s" % took
    h.check_record(rec, destination__ip="127.0.0.2", egressd__dns__answers=1,
                   egressd__dns__discarded=0)
    assert rec["egressd"]["connect_ms"] < 1500, rec["egressd"]


def test_connect_timeout_is_504(t):
    """B29.1: SYNs to a full accept queue are dropped; 504
    connection_timeout within connect_timeout (1 s) + 1 s."""
    hole = d.Blackhole(t, "127.0.0.2")
    t.defer(hole.close)
    env = h.Env(t, dns=DNS, extra_ports=[hole.port],
                limits={"connect_timeout": 1.0})
    rec, took = _failure(env, "blackhole.svc.allowed.example", hole.port,
                         504, "connection_timeout", 1, limit_s=15)
    assert 0.9 <= took < 2.0, "connect timeout after %.2f s" % took
    h.check_record(rec, destination__ip="127.0.0.2")
    assert 900 <= rec["egressd"]["connect_ms"] < 2000, rec["egressd"]


def test_connect_timeout_is_overall(t):
    """Two blackholed addresses: still one connect_timeout in all."""
    hole = d.Blackhole(t, "127.0.0.2")
    t.defer(hole.close)
    hole3 = d.Blackhole(t, "127.0.0.3", hole.port)
    t.defer(hole3.close)

    def allow3(cfg):
        cfg["destinations"]["allow_internal"] = ["127.0.0.2/32",
                                                 "127.0.0.3/32"]
    env = h.Env(t, dns=DNS, extra_ports=[hole.port],
                limits={"connect_timeout": 1.0}, config_hook=allow3)
    _, took = _failure(env, "slow.svc.allowed.example", hole.port, 504,
                       "connection_timeout", 1, limit_s=15)
    assert took < 2.0, "two addresses took %.2f s" % took


def test_refused_then_next_address(t):
    """The first permitted address refuses: the next one is dialled."""
    srv = h.TcpServer("127.0.0.2")
    t.defer(srv.close)
    d.Closed(t, "127.0.0.3", srv.port)

    def allow3(cfg):
        cfg["destinations"]["allow_internal"] = ["127.0.0.2/32",
                                                 "127.0.0.3/32"]
    env = h.Env(t, dns=DNS, extra_ports=[srv.port], config_hook=allow3)
    r = d.ask(env.port, "second.svc.allowed.example:%d" % srv.port)
    h.assert_answer(r, 200)
    r.sock.sendall(b"hello")
    assert h._recv_exact(r.sock, 5, 10) == b"hello"
    r.sock.close()
    d.check_dest(env.records(1)[0], event__outcome="success",
                 destination__ip="127.0.0.2", egressd__dns__answers=2,
                 egressd__dns__discarded=0)


def test_hosts_file_answers_without_dns_and_is_still_checked(t):
    """resolver.hosts_file answers at once (no DNS query), names as the
    session canonicalises them; its addresses pass the same checks as
    DNS answers (an internal one is refused)."""
    def hosts(c):
        with open(c["resolver"]["hosts_file"], "w") as f:
            f.write("# split horizon\n"
                    "127.0.0.2  Hosted.SVC.allowed.example.  alias.svc."
                    "allowed.example\n"
                    "10.1.2.3   inner.svc.allowed.example # internal\n"
                    "not-an-address bogus.svc.allowed.example\n"
                    # a comment longer than any line buffer stays one
                    "# " + "x" * 1100 + " 127.0.0.2 "
                    "commented.svc.allowed.example\n"
                    # and a long line keeps its late names
                    "127.0.0.2 " + " ".join("n%d.x.example" % i
                                            for i in range(200)) +
                    " late.svc.allowed.example\n")
    env = h.Env(t, config_hook=hosts)
    for name in ("hosted.svc.allowed.example", "alias.svc.allowed.example",
                 "late.svc.allowed.example"):
        r = h.open_tunnel(env.port, "%s:%d" % (name, env.tcp.port))
        h.assert_answer(r, 200)
        r.sock.close()
    r = h.open_tunnel(env.port, "inner.svc.allowed.example:%d" %
                      env.tcp.port)
    h.assert_answer(r, 403, "destination_ip_prohibited")
    r.sock.close()
    assert env.dns.queries() == [], env.dns.queries()
    r = h.open_tunnel(env.port, "bogus.svc.allowed.example:%d" %
                      env.tcp.port)
    assert r.status in (502, 504), r
    r.sock.close()
    assert env.dns.queries("bogus.svc.allowed.example"), env.dns.queries()
    r = h.open_tunnel(env.port, "commented.svc.allowed.example:%d" %
                      env.tcp.port)
    assert r.status in (502, 504), r
    r.sock.close()
    assert env.dns.queries("commented.svc.allowed.example")
    recs = env.records(6, timeout=5)
    assert sorted(x["http"]["response"]["status_code"] for x in recs)[:4] \
        == [200, 200, 200, 403], recs
