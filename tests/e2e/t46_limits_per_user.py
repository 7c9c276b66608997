"""Per-user limits (issue #5): limits.per_user.tunnels caps one user's
open tunnels (429 user_connection_limit) and limits.per_user.rate/burst
its new tunnels (429 user_rate_limited with Retry-After), whatever the
source address, while another user is served."""
import harness as h
import authkit as ak

GENEROUS_IP = {"rate": 1000.0, "burst": 1000, "tunnels": 256}


def _target(env):
    return "api.svc.allowed.example:%d" % env.tcp.port


def test_per_user_tunnels(t):
    env = ak.auth_env(t, limits={"per_ip": GENEROUS_IP,
                                 "per_user": {"tunnels": 2}})
    target = _target(env)
    held = []
    for src in ("127.0.0.1", "127.0.0.3"):
        r = ak.tunnel(env.port, target, ak.cred("alice"), source=src)
        h.assert_answer(r, 200)
        held.append(r.sock)
    r = ak.tunnel(env.port, target, ak.cred("alice"), source="127.0.0.4")
    h.assert_answer(r, 429, "connection_limit_reached")
    assert "user_connection_limit" in r.header("Proxy-Status"), r
    assert r.header("Retry-After") is not None, r
    r.sock.close()
    r = ak.tunnel(env.port, target, ak.cred("bob"))
    h.assert_answer(r, 200)
    assert ak.echo_ok(r.sock)
    r.sock.close()
    for s in held:                      # the held tunnels still work
        assert ak.echo_ok(s)
    held.pop().close()
    ok = h.wait_until(lambda: sum(
        1 for x in env.proxy.records()
        if x["user"]["name"] == "alice" and
        x["http"]["response"]["status_code"] == 200) >= 1, 5)
    assert ok, env.proxy.records()
    r = ak.tunnel(env.port, target, ak.cred("alice"))   # a slot is free
    h.assert_answer(r, 200)
    r.sock.close()
    for s in held:
        s.close()
    env.proxy.stop()                    # flushes aggregated records
    recs = env.proxy.records()
    denied = [x for x in recs
              if x["event"]["reason"] == "user_connection_limit"]
    assert sum(x["event"].get("count", 1) for x in denied) == 1, recs
    h.check_failure(denied[0], "user_connection_limit", 429,
                    destination__ip=None)


def test_per_user_rate(t):
    # 0.01/s: no token comes back within the test, so the count is exact
    env = ak.auth_env(t, limits={"per_ip": GENEROUS_IP,
                                 "per_user": {"rate": 0.01, "burst": 2}})
    target = _target(env)
    for src in ("127.0.0.1", "127.0.0.3"):
        r = ak.tunnel(env.port, target, ak.cred("alice"), source=src)
        h.assert_answer(r, 200)
        r.sock.close()
    # a third tunnel from a fresh source: the limit follows the user
    r = ak.tunnel(env.port, target, ak.cred("alice"), source="127.0.0.4")
    h.assert_answer(r, 429, "connection_limit_reached")
    assert "user_rate_limited" in r.header("Proxy-Status"), r
    retry = int(r.header("Retry-After"))
    assert 1 <= retry <= 100, retry
    r.sock.close()
    r = ak.tunnel(env.port, target, ak.cred("bob"), source="127.0.0.4")
    h.assert_answer(r, 200)
    assert ak.echo_ok(r.sock)
    r.sock.close()
    # a wrong password is refused as such, never as a rate limit
    r = ak.tunnel(env.port, target, ak.cred("alice", b"wrong-pw-1"))
    h.assert_answer(r, 407)
    r.sock.close()
    env.proxy.stop()
    recs = env.proxy.records()
    denied = [x for x in recs if x["event"]["reason"] == "user_rate_limited"]
    assert sum(x["event"].get("count", 1) for x in denied) == 1, recs
    h.check_failure(denied[0], "user_rate_limited", 429,
                    destination__ip=None)
