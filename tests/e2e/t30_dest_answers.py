"""Destination checks on DNS answers (issue #3, cases B24, B28): blocked
answers are removed before dialling, the dial goes only to an address
that passed, strict mode rejects the whole answer, a rebinding name is
never re-resolved, egressd's own address is never dialled, IPv6 and
IPv4-mapped answers are judged like their IPv4 counterparts.

Only loopback is ever dialled: 127.0.0.1 plays the "internal" address
(blocked), 127.0.0.2 the permitted one (destinations.allow_internal)."""
import time

import destkit as d
import harness as h

MIXED = "mixed.svc.allowed.example"


def _pair(t, mode="echo"):
    """A trap on 127.0.0.1:P that must never be reached, and a server
    on 127.0.0.2:P (the same port)."""
    trap = h.TcpServer("127.0.0.1", mode="silent")
    t.defer(trap.close)
    good = h.TcpServer("127.0.0.2", mode=mode, port=trap.port)
    t.defer(good.close)
    return trap, good


def _order(answers):
    """A DNS spec giving answers, reversed on every other query."""
    def spec(name, qtype, n):
        return answers if n % 2 == 0 else answers[::-1]
    return spec


def _echo_once(r, data=b"ping-through-tunnel"):
    r.sock.sendall(data)
    got = h._recv_exact(r.sock, len(data), 10)
    r.sock.close()
    return got


def test_mixed_answer_dials_permitted_only(t):
    """B24.1: A 127.0.0.1 + A 127.0.0.2, both orders: 200 via
    127.0.0.2; the log counts 2 answers, 1 discarded as loopback."""
    trap, good = _pair(t)
    env = h.Env(t, dns={MIXED: _order(["127.0.0.1", "127.0.0.2"])},
                extra_ports=[trap.port])
    for i in range(2):
        if i:
            time.sleep(1.2)             # TTL 1: a fresh answer
        r = d.ask(env.port, "%s:%d" % (MIXED, trap.port))
        h.assert_answer(r, 200)
        assert _echo_once(r) == b"ping-through-tunnel"
        rec = env.records(i + 1)[-1]
        d.check_dest(rec, event__outcome="success",
                     http__response__status_code=200,
                     destination__ip="127.0.0.2", egressd__dns__answers=2,
                     egressd__dns__discarded=1, egressd__dns__discarded_reasons="loopback",
                     egressd__protocol_check="none")
    assert trap.connections == 0, "egressd connected to 127.0.0.1"
    assert good.connections == 2


def test_mixed_answer_refused_no_fallback(t):
    """B24.2: the permitted address refuses: 502 connection_refused,
    never a fallback to the blocked 127.0.0.1 (which listens)."""
    trap = h.TcpServer("127.0.0.1", mode="silent")
    t.defer(trap.close)
    d.Closed(t, "127.0.0.2", trap.port)
    env = h.Env(t, dns={MIXED: _order(["127.0.0.1", "127.0.0.2"])},
                extra_ports=[trap.port])
    for i in range(2):
        if i:
            time.sleep(1.2)
        t0 = time.monotonic()
        r = d.ask(env.port, "%s:%d" % (MIXED, trap.port))
        took = time.monotonic() - t0
        r.sock.close()
        h.assert_answer(r, 502, "connection_refused")
        assert took < 1.5, "refused took %.2f s" % took
        rec = env.records(i + 1)[-1]
        h.check_failure(rec, "connection_refused", 502,
                        destination__ip="127.0.0.2", egressd__dns__answers=2,
                        egressd__dns__discarded=1,
                        egressd__dns__discarded_reasons="loopback")
    time.sleep(0.2)
    assert trap.connections == 0, "egressd fell back to 127.0.0.1"


def test_many_answers(t):
    """B24.3: 128 A records, over UDP truncated (TC=1) and in full: no
    crash, no hang; 200 to the permitted address or 502."""
    many = ["127.0.0.2"] + ["127.0.%d.%d" % (1 + i // 250, 1 + i % 250)
                            for i in range(127)]
    dns = {"trunc.svc.allowed.example": ("TRUNCATED", many),
           "many.svc.allowed.example": many}
    env = h.Env(t, dns=dns)
    for i, name in enumerate(sorted(dns)):
        t0 = time.monotonic()
        r = d.ask(env.port, "%s:%d" % (name, env.tcp.port), limit_s=20)
        took = time.monotonic() - t0
        assert r.status in (200, 502), r
        h.assert_answer(r, r.status)
        if r.status == 200:
            assert _echo_once(r) == b"ping-through-tunnel"
        else:
            r.sock.close()
        assert took < 8, "%s took %.1f s" % (name, took)
        rec = env.records(i + 1)[-1]
        h.check_record(rec, http__response__status_code=r.status,
                       destination__domain=name)
        if r.status == 200:
            # only 127.0.0.2 is permitted: every other answer counted out
            assert rec["destination"]["ip"] == "127.0.0.2", rec
            assert rec["egressd"]["dns"]["answers"] >= 1
            assert rec["egressd"]["dns"]["discarded"] == rec["egressd"]["dns"]["answers"] - 1
            assert rec["egressd"]["dns"]["discarded_reasons"] == "loopback"
        else:
            assert rec["event"]["reason"] == "dns_error", rec
    assert env.proxy.alive()
    assert env.tcp.connections == sum(
        1 for x in env.proxy.records() if x["http"]["response"][
            "status_code"] == 200)


def test_strict_rejects_whole_answer(t):
    """destinations.strict: one internal answer denies all, 403."""
    trap, good = _pair(t)

    def strict(cfg):
        cfg["destinations"]["strict"] = True
    env = h.Env(t, dns={MIXED: ["127.0.0.2", "127.0.0.1"],
                        "fine.svc.allowed.example": ["127.0.0.2"]},
                extra_ports=[trap.port], config_hook=strict)
    r = d.ask(env.port, "%s:%d" % (MIXED, trap.port))
    r.sock.close()
    h.assert_answer(r, 403, "destination_ip_prohibited")
    rec = env.records(1)[0]
    h.check_failure(rec, "destination_ip_prohibited", 403,
                    destination__ip=None, egressd__dns__answers=2, egressd__dns__discarded=1,
                    egressd__dns__discarded_reasons="loopback", egressd__connect_ms=0)
    # a clean answer still works in strict mode
    r = d.ask(env.port, "fine.svc.allowed.example:%d" % trap.port)
    h.assert_answer(r, 200)
    assert _echo_once(r) == b"ping-through-tunnel"
    env.records(2)
    time.sleep(0.2)
    assert trap.connections == 0 and good.connections == 1


def test_embedded_ipv4_forms_judged_by_ipv4(t):
    """IPv6 spellings of 127.0.0.1 are loopback: IPv4-mapped, NAT64,
    IPv4-compatible, 6to4.  Strict mode plus a plain 127.0.0.1 in the
    same answer makes sure nothing is dialled even if a form slipped."""
    forms = ["::ffff:127.0.0.1", "64:ff9b::7f00:1", "::127.0.0.1",
             "2002:7f00:1::1"]

    def strict(cfg):
        cfg["destinations"]["strict"] = True
    env = h.Env(t, dns={"v6.svc.allowed.example": ["127.0.0.1"] + forms},
                config_hook=strict)
    r = d.ask(env.port, "v6.svc.allowed.example:%d" % env.tcp.port)
    r.sock.close()
    h.assert_answer(r, 403, "destination_ip_prohibited")
    rec = env.records(1)[0]
    h.check_failure(rec, "destination_ip_prohibited", 403,
                    destination__ip=None, egressd__dns__answers=5, egressd__dns__discarded=5)
    assert "loopback" in rec["egressd"]["dns"]["discarded_reasons"], rec["egressd"]["dns"]
    assert env.tcp.connections == 0


def test_mapped_loopback_answer(t):
    """AAAA ::ffff:127.0.0.1 alone: loopback, 403; AAAA
    ::ffff:127.0.0.2 is 127.0.0.2 (permitted) and reaches it."""
    trap, good = _pair(t)
    env = h.Env(t, dns={"m1.svc.allowed.example": ["::ffff:127.0.0.1"],
                        "m2.svc.allowed.example": ["::ffff:127.0.0.2"]},
                extra_ports=[trap.port])
    r = d.ask(env.port, "m1.svc.allowed.example:%d" % trap.port)
    r.sock.close()
    h.assert_answer(r, 403, "destination_ip_prohibited")
    rec = env.records(1)[0]
    h.check_failure(rec, "destination_ip_prohibited", 403,
                    destination__ip=None, egressd__dns__answers=1, egressd__dns__discarded=1,
                    egressd__dns__discarded_reasons="loopback")
    r = d.ask(env.port, "m2.svc.allowed.example:%d" % trap.port)
    h.assert_answer(r, 200)
    assert _echo_once(r) == b"ping-through-tunnel"
    rec = env.records(2)[1]
    d.check_dest(rec, destination__ip="127.0.0.2", egressd__dns__answers=1,
                 egressd__dns__discarded=0, egressd__dns__discarded_reasons=None)
    time.sleep(0.2)
    assert trap.connections == 0 and good.connections == 1


def test_ipv6_loopback_answer(t):
    """AAAA ::1 is loopback: alone 403; next to A 127.0.0.2 it is
    discarded and 127.0.0.2 is dialled (a ::1 listener sees nothing)."""
    trap = h.TcpServer("::1", mode="silent")
    t.defer(trap.close)
    good = h.TcpServer("127.0.0.2", port=trap.port)
    t.defer(good.close)
    env = h.Env(t, dns={"six.svc.allowed.example": ["::1"],
                        "both.svc.allowed.example": ["::1", "127.0.0.2"]},
                extra_ports=[trap.port])
    r = d.ask(env.port, "six.svc.allowed.example:%d" % trap.port)
    r.sock.close()
    h.assert_answer(r, 403, "destination_ip_prohibited")
    h.check_failure(env.records(1)[0], "destination_ip_prohibited", 403,
                    egressd__dns__answers=1, egressd__dns__discarded=1,
                    egressd__dns__discarded_reasons="loopback")
    r = d.ask(env.port, "both.svc.allowed.example:%d" % trap.port)
    h.assert_answer(r, 200)
    assert _echo_once(r) == b"ping-through-tunnel"
    d.check_dest(env.records(2)[1], destination__ip="127.0.0.2",
                 egressd__dns__answers=2, egressd__dns__discarded=1,
                 egressd__dns__discarded_reasons="loopback")
    time.sleep(0.2)
    assert trap.connections == 0


def test_ipv6_first_then_ipv4(t):
    """AAAA and A both permitted: IPv6 is tried first (RFC 8305
    interleaving); when it refuses, the IPv4 address is next."""
    v6 = h.TcpServer("::1")
    t.defer(v6.close)
    v4 = h.TcpServer("127.0.0.2", port=v6.port)
    t.defer(v4.close)
    closed6 = d.Closed(t, "::1")
    d.Closed(t, "127.0.0.3", closed6.port)
    v4b = h.TcpServer("127.0.0.2", port=closed6.port)
    t.defer(v4b.close)

    def allow6(cfg):
        cfg["destinations"]["allow_internal"] = [
            "127.0.0.2/32", "127.0.0.3/32", "::1/128"]
    env = h.Env(t, dns={"dual.svc.allowed.example":
                        ["127.0.0.2", "127.0.0.3", "::1"]},
                extra_ports=[v6.port, closed6.port], config_hook=allow6)
    r = d.ask(env.port, "dual.svc.allowed.example:%d" % v6.port)
    h.assert_answer(r, 200)
    assert _echo_once(r) == b"ping-through-tunnel"
    d.check_dest(env.records(1)[0], destination__ip="::1", egressd__dns__answers=3,
                 egressd__dns__discarded=0)
    assert v6.connections == 1 and v4.connections == 0
    # ::1 refuses: next is the first IPv4 answer, 127.0.0.2
    time.sleep(1.2)
    r = d.ask(env.port, "dual.svc.allowed.example:%d" % closed6.port)
    h.assert_answer(r, 200)
    assert _echo_once(r) == b"ping-through-tunnel"
    d.check_dest(env.records(2)[1], destination__ip="127.0.0.2",
                 egressd__dns__answers=3, egressd__dns__discarded=0)
    assert v4b.connections == 1


def test_rebinding_name_resolved_once(t):
    """DNS rebinding: the first answer is 127.0.0.2 (permitted), every
    later one 127.0.0.1 (blocked).  The tunnel goes to the address that
    was checked, with exactly one query per type; the next session sees
    the new answer and is refused."""
    trap, good = _pair(t)

    def rebind(name, qtype, n):
        return ["127.0.0.2"] if n == 0 else ["127.0.0.1"]
    env = h.Env(t, dns={"rebind.svc.allowed.example": rebind},
                extra_ports=[trap.port])
    target = "rebind.svc.allowed.example:%d" % trap.port
    r = d.ask(env.port, target)
    h.assert_answer(r, 200)
    assert _echo_once(r) == b"ping-through-tunnel"
    rec = env.records(1)[0]
    d.check_dest(rec, destination__ip="127.0.0.2", egressd__dns__answers=1,
                 egressd__dns__discarded=0)
    qs = env.dns.queries("rebind.svc.allowed.example")
    assert sorted(qs) == sorted(set(qs)) and len(qs) <= 2, qs
    time.sleep(1.2)
    r = d.ask(env.port, target)
    r.sock.close()
    h.assert_answer(r, 403, "destination_ip_prohibited")
    h.check_failure(env.records(2)[1], "destination_ip_prohibited", 403,
                    egressd__dns__discarded_reasons="loopback")
    time.sleep(0.2)
    assert trap.connections == 0 and good.connections == 1


def test_answer_is_egressd_itself(t):
    """An answer equal to egressd's own listening address and port is
    discarded as "self" even when the range is allowed internal."""
    def self_hook(cfg):
        cfg["destinations"]["allow_internal"] = ["127.0.0.0/8"]
        cfg["allow"][1]["ports"].append(cfg["listen"][0]["port"])
    env = h.Env(t, dns={"loop.svc.allowed.example": ["127.0.0.1"]},
                config_hook=self_hook)
    r = d.ask(env.port, "loop.svc.allowed.example:%d" % env.port)
    r.sock.close()
    h.assert_answer(r, 403, "destination_ip_prohibited")
    h.check_failure(env.records(1)[0], "destination_ip_prohibited", 403,
                    destination__ip=None, egressd__dns__answers=1, egressd__dns__discarded=1,
                    egressd__dns__discarded_reasons="self")
