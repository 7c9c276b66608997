"""Brute-force throttling: failures counted per source address and per
user name; past the threshold the source (and the name) get 429 with
Retry-After without any password check, other clients are served, and
the lockout ends after its duration."""
import time

import harness as h
import authkit as ak

LOCK = {"failures": 3, "window": 30.0, "duration": 1.5}


def _fail_three(env, target, source="127.0.0.1", user="alice"):
    for _ in range(3):
        r, _ = ak.send(env.port, ak.request(target, ak.cred(user,
                       b"wrong-pw-1")), source=source)
        assert r.status == 407, r


def test_lockout_429_retry_after_and_expiry(t):
    env = ak.auth_env(t, lockout=LOCK)
    target = "%s:%d" % (h.PORTAL, env.hub.port)
    _fail_three(env, target)
    # locked: even the right password is refused, without a check
    r, raw = ak.send(env.port, ak.request(target, ak.cred("alice")))
    h.assert_answer(r, 429, "http_request_denied")
    assert 1 <= int(r.header("Retry-After")) <= 2, r
    assert b"Proxy-Authenticate" not in raw, raw
    recs = env.records(4)
    h.check_failure(recs[3], "auth_locked_out", 429, user__name="alice",
                    egressd__auth="locked", destination__ip=None)
    err = env.proxy.stderr()
    assert err.count("locked out") == 2, err   # source and user name
    assert "127.0.0.1 locked out" in err, err
    # after the lockout duration the source may try again
    ok = h.wait_until(lambda: ak.send(env.port, ak.request(
        target, ak.cred("alice")))[0].status == 200, 10.0, step=0.3)
    assert ok, env.records(len(env.proxy.records()))
    okrec = lambda: [x for x in env.proxy.records()
                     if x["http"]["response"]["status_code"] == 200]
    assert h.wait_until(okrec, 5.0), env.proxy.records()
    h.check_record(okrec()[0], user__name="alice", egressd__auth="ok")
    assert env.proxy.stderr().count("locked out") == 2


def test_other_source_served_during_lockout(t):
    env = ak.auth_env(t, lockout=LOCK)
    target = "%s:%d" % (h.PORTAL, env.hub.port)
    _fail_three(env, target)
    r, _ = ak.send(env.port, ak.request(target, ak.cred("bob")))
    assert r.status == 429, r
    # another address, another user: served
    r, _ = ak.send(env.port, ak.request(target, ak.cred("bob")),
                   source="127.0.0.2")
    h.assert_answer(r, 200)
    # the user name attacked from 127.0.0.1 is locked from anywhere
    r, _ = ak.send(env.port, ak.request(target, ak.cred("alice")),
                   source="127.0.0.2")
    h.assert_answer(r, 429, "http_request_denied")
    # a 200's record comes when its tunnel closes: find them by source
    recs = [x for x in env.records(6) if x["source"]["ip"] == "127.0.0.2"]
    by_user = {x["user"]["name"]: x for x in recs}
    assert len(recs) == 2 and len(by_user) == 2, recs
    h.check_record(by_user["bob"], egressd__auth="ok",
                   http__response__status_code=200)
    h.check_failure(by_user["alice"], "auth_locked_out", 429,
                    egressd__auth="locked")


def test_bad_syntax_counts_toward_lockout(t):
    env = ak.auth_env(t, lockout=LOCK)
    target = "%s:%d" % (h.PORTAL, env.hub.port)
    for _ in range(3):
        r, _ = ak.send(env.port, ak.request(
            target, b"Proxy-Authorization: Basic !!!!\r\n"),
            source="127.0.0.3")
        assert r.status == 407, r
    r, _ = ak.send(env.port, ak.request(target, ak.cred("alice")),
                   source="127.0.0.3")
    h.assert_answer(r, 429)
    h.check_failure(env.records(4)[3], "auth_locked_out", 429,
                    source__ip="127.0.0.3")
