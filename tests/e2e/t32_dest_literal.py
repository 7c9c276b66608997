"""IP literals in CONNECT (issue #3, cases B06, B08): refused unless a
rule names the address, never resolved, never dialled; a rule naming an
address permits exactly that literal, except egressd's own listener."""
import time

import destkit as d
import harness as h

REFUSED = ["[::1]:%d", "[2001:db8::1]:%d", "2130706433:%d", "0x7f.1:%d",
           "0177.0.0.1:%d", "127.1:%d", "0:%d", "0.0.0.0:%d",
           "100.64.0.1:%d", "127.0.0.1:%d", "[::ffff:127.0.0.1]:%d",
           "[::ffff:127.0.0.2]:%d", "127.0.0.3:%d"]


def _traps(t):
    """Listeners on 127.0.0.1:P and [::1]:P that must see nothing, and a
    server on 127.0.0.2:P."""
    trap4 = h.TcpServer("127.0.0.1", mode="silent")
    t.defer(trap4.close)
    trap6 = h.TcpServer("::1", mode="silent", port=trap4.port)
    t.defer(trap6.close)
    good = h.TcpServer("127.0.0.2", port=trap4.port)
    t.defer(good.close)
    return trap4, trap6, good


def test_literals_refused_without_rule(t):
    """B06.1, B06.6, B08.1-7: 403 destination_ip_prohibited, no DNS
    query, no connect (even to 127.0.0.2, which is allowed internal:
    allow_internal is for answers, not for literals)."""
    trap4, trap6, good = _traps(t)
    env = h.Env(t, extra_ports=[trap4.port])
    for i, form in enumerate(REFUSED):
        target = form % trap4.port
        r = d.ask(env.port, target)
        r.sock.close()
        h.assert_answer(r, 403, "destination_ip_prohibited")
        rec = env.records(i + 1)[-1]
        h.check_failure(rec, rec["event"]["reason"], 403,
                        url__original=target, destination__ip=None,
                        egressd__dns__answers=0, egressd__connect_ms=0)
        assert rec["event"]["reason"] in ("ip_literal_not_allowed",
                                          "numeric_host_not_allowed"), rec
    assert env.dns.queries() == [], env.dns.queries()
    time.sleep(0.2)
    assert trap4.connections == trap6.connections == \
        good.connections == 0


def test_literal_named_by_rule(t):
    """A rule `addresses = [ "127.0.0.2", "::1" ]` permits exactly those
    literals (200, no DNS), and still not 127.0.0.1."""
    trap4, trap6, good = _traps(t)
    ok6 = h.TcpServer("::1")
    t.defer(ok6.close)

    def rule(cfg):
        cfg["allow"].append({"addresses": ["127.0.0.2", "::1"],
                             "ports": [trap4.port, ok6.port],
                             "protocol": "any"})
    env = h.Env(t, config_hook=rule)
    cases = [("127.0.0.2:%d" % trap4.port, "127.0.0.2"),
             ("[::1]:%d" % ok6.port, "::1")]
    for i, (target, ip) in enumerate(cases):
        r = d.ask(env.port, target)
        h.assert_answer(r, 200)
        r.sock.sendall(b"literal")
        assert h._recv_exact(r.sock, 7, 10) == b"literal"
        r.sock.close()
        d.check_dest(env.records(i + 1)[-1], event__outcome="success",
                     destination__ip=ip, egressd__dns__answers=0,
                     url__original=target)
    r = d.ask(env.port, "127.0.0.1:%d" % trap4.port)
    r.sock.close()
    h.assert_answer(r, 403, "destination_ip_prohibited")
    env.records(3)
    assert env.dns.queries() == []
    time.sleep(0.2)
    assert good.connections == 1 and ok6.connections == 1
    assert trap4.connections == 0


def test_literal_self_refused(t):
    """Even a rule naming 127.0.0.1 on egressd's own port never makes
    egressd dial itself."""
    def rule(cfg):
        cfg["allow"].append({"addresses": ["127.0.0.1"],
                             "ports": [cfg["listen"][0]["port"]],
                             "protocol": "any"})
    env = h.Env(t, config_hook=rule)
    r = d.ask(env.port, "127.0.0.1:%d" % env.port)
    r.sock.close()
    h.assert_answer(r, 403, "destination_ip_prohibited")
    h.check_failure(env.records(1)[0], "destination_ip_prohibited", 403,
                    destination__ip=None)
