"""Per-source connection rate (issue #5): one source over its token bucket
gets 429 with Retry-After and Proxy-Status connection_limit_reached while
a second source address (127.0.0.2) is served; repeated denials from one
source are aggregated in the access log (event.count), far over the limit
the socket is closed with no answer; every allowed session keeps its own
record."""
import socket
import time

import harness as h


def connect_from(src, port, target, limit_s=h.IO_TIMEOUT):
    """CONNECT target from source address src; returns the Reply (.sock
    open), or a Reply with status None when the proxy closed at once."""
    s = socket.create_connection(("127.0.0.1", port), limit_s,
                                 source_address=(src, 0))
    s.settimeout(limit_s)
    try:
        s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
                   (target, target)).encode())
    except OSError:
        pass
    return h.read_head(s, limit_s=limit_s)


def _env(t, rate, burst, interval=2.0):
    return h.Env(t, limits={"per_ip": {"rate": rate, "burst": burst,
                                       "tunnels": 256},
                            "log_aggregate_interval": interval})


def _count(recs, reason):
    return sum(r["event"]["count"] for r in recs
               if r["event"]["reason"] == reason)


def test_rate_limited_source_other_source_served(t):
    env = _env(t, 0.2, 3, interval=0)      # one token per 5 s
    target = "api.svc.allowed.example:%d" % env.tcp.port
    for _ in range(3):
        r = connect_from("127.0.0.1", env.port, target)
        h.assert_answer(r, 200)
        r.sock.close()
    r = connect_from("127.0.0.1", env.port, target)
    h.assert_answer(r, 429, "connection_limit_reached")
    assert 1 <= int(r.header("Retry-After")) <= 5, r
    assert "rate_limited" in r.header("Proxy-Status"), r
    r.sock.close()
    r2 = connect_from("127.0.0.2", env.port, target)
    h.assert_answer(r2, 200)
    r2.sock.close()
    recs = env.records(5, timeout=5)
    denied = [x for x in recs if x["event"]["reason"] == "rate_limited"]
    assert len(denied) == 1, recs
    h.check_failure(denied[0], "rate_limited", 429,
                    source__ip="127.0.0.1", destination__ip=None)
    ok = [x for x in recs if x["http"]["response"]["status_code"] == 200]
    assert len(ok) == 4 and all(x["event"]["count"] == 1 for x in ok), recs
    assert ok[-1]["source"]["ip"] == "127.0.0.2", ok[-1]


def test_denials_aggregated_hard_close(t):
    """20 attempts over the rate: 429s first, then (refused burst times in
    a row) closed with no answer; the log holds a handful of records whose
    counts add up to 20, while the allowed sessions have one each."""
    env = _env(t, 0.1, 2, interval=2.0)
    target = "api.svc.allowed.example:%d" % env.tcp.port
    for _ in range(2):
        r = connect_from("127.0.0.1", env.port, target)
        h.assert_answer(r, 200)
        r.sock.close()
    statuses = []
    for _ in range(20):
        r = connect_from("127.0.0.1", env.port, target, limit_s=5)
        statuses.append(r.status)
        if r.status is not None:
            h.assert_answer(r, 429, "connection_limit_reached")
        r.sock.close()
    assert statuses[0] == 429 and statuses[1] == 429, statuses
    assert statuses[-1] is None, statuses      # past the hard threshold
    r = connect_from("127.0.0.2", env.port, target)
    h.assert_answer(r, 200)
    r.sock.close()

    def settled():
        recs = env.proxy.records()
        return _count(recs, "rate_limited") >= 20
    h.wait_until(settled, 8.0, step=0.2)
    recs = env.proxy.records()
    denied = [x for x in recs if x["event"]["reason"] == "rate_limited"]
    assert _count(recs, "rate_limited") == 20, recs
    assert len(denied) <= 4, denied              # aggregated, not 20
    assert any(x["event"]["count"] > 1 for x in denied), denied
    for x in denied:
        h.check_record(x, source__ip="127.0.0.1", event__outcome="failure")
        assert x["http"]["response"]["status_code"] in (None, 429), x
    ok = [x for x in recs if x["http"]["response"]["status_code"] == 200]
    assert len(ok) == 3 and all(x["event"]["count"] == 1 for x in ok), ok


def test_source_recovers_after_refill(t):
    """The hard threshold is not a ban: once a token is due the source is
    served again."""
    env = _env(t, 2.0, 1, interval=2.0)
    target = "api.svc.allowed.example:%d" % env.tcp.port
    r = connect_from("127.0.0.1", env.port, target)
    h.assert_answer(r, 200)
    r.sock.close()
    for _ in range(5):
        connect_from("127.0.0.1", env.port, target, limit_s=5).sock.close()
    time.sleep(1.0)
    r = connect_from("127.0.0.1", env.port, target)
    h.assert_answer(r, 200)
    r.sock.close()
