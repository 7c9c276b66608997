"""SIGHUP reloads the users file without dropping tunnels; a user
removed by the reload has its open tunnels closed and logged
(user_revoked), other users' tunnels carry on."""
import signal
import time

import harness as h
import authkit as ak


def _reload(env, n_users):
    env.proxy.proc.send_signal(signal.SIGHUP)
    assert h.wait_until(lambda: "reload done: %d users" % n_users in
                        env.proxy.stderr(), 10.0), env.proxy.stderr()


def test_removed_user_tunnel_closed(t):
    env = ak.auth_env(t)
    target = "raw.svc.allowed.example:%d" % env.tcp.port
    tunnels = {}
    for user in ("alice", "bob"):
        r = ak.tunnel(env.port, target, ak.cred(user))
        h.assert_answer(r, 200)
        assert ak.echo_ok(r.sock)
        tunnels[user] = r.sock
    ak.passwd(env.users, "bob", delete=True)
    _reload(env, 3)
    # bob's tunnel ends, with its record
    rec = env.records(1, timeout=5)[0]
    h.check_record(rec, user__name="bob", event__reason="user_revoked",
                   http__response__status_code=200, egressd__auth="ok")
    tunnels["bob"].settimeout(5)
    assert h.recv_all(tunnels["bob"], limit_s=5) == b""
    # alice's tunnel survived the reload
    assert ak.echo_ok(tunnels["alice"], b"after reload\n")
    # bob cannot come back; alice can
    r, _ = ak.send(env.port, ak.request(target, ak.cred("bob")))
    h.assert_answer(r, 407)
    tunnels["alice"].close()
    tunnels["bob"].close()
    recs = env.records(3, timeout=5)
    h.check_failure(recs[1], "auth_failed", 407, user__name="bob")
    h.check_record(recs[2], user__name="alice", egressd__auth="ok")
    assert recs[2]["event"]["reason"] in ("client_closed",
                                          "upstream_closed"), recs[2]


def test_changed_password_takes_effect(t):
    """The success cache is flushed on reload: the old password of a user
    whose hash changed no longer works, even though it was cached."""
    env = ak.auth_env(t)
    target = "%s:%d" % (h.PORTAL, env.hub.port)
    r, _ = ak.send(env.port, ak.request(target, ak.cred("alice")))
    h.assert_answer(r, 200)
    ak.passwd(env.users, "alice", b"n3w-secret", "bcrypt")
    _reload(env, 4)
    r, _ = ak.send(env.port, ak.request(target, ak.cred("alice")))
    h.assert_answer(r, 407)
    r, _ = ak.send(env.port, ak.request(target, ak.cred("alice",
                                                        b"n3w-secret")))
    h.assert_answer(r, 200)
    recs = env.records(3, timeout=5)
    assert sorted(x["egressd"]["auth"] for x in recs) == \
        ["failed", "ok", "ok"], recs


def test_bad_users_file_keeps_running_set(t):
    env = ak.auth_env(t)
    with open(env.users, "a") as f:
        f.write("mallory:plaintext\n")
    env.proxy.proc.send_signal(signal.SIGHUP)
    assert h.wait_until(lambda: "reload failed" in env.proxy.stderr(),
                        10.0), env.proxy.stderr()
    err = env.proxy.stderr()
    assert "%s:5: not a crypt(3) hash" % env.users in err, err
    target = "%s:%d" % (h.PORTAL, env.hub.port)
    r, _ = ak.send(env.port, ak.request(target, ak.cred("bob")))
    h.assert_answer(r, 200)


def test_check_in_flight_judged_by_reloaded_users(t):
    """A password check that was queued before a reload removed its user
    does not let the client in: the answer is judged against the users
    file in force when the check ends.  The one worker is kept busy by a
    slow hash so that bob's check is still queued when the reload is
    done; the order of events is asserted, not a time."""
    line = "%s:%s" % (ak.SLOW_USER, ak.slow_hash())
    env = ak.auth_env(t, auth={"workers": 1}, extra=[line])
    target = "%s:%d" % (h.PORTAL, env.hub.port)
    order = []

    def client(name, headers):
        r, _ = ak.send(env.port, ak.request(target, headers), limit_s=60)
        order.append(name)
        return r.status

    slow, sres = ak.in_thread(client, "slow",
                              ak.cred(ak.SLOW_USER, ak.SLOW_PASS))
    time.sleep(0.3)             # the one worker takes the slow check
    bob, bres = ak.in_thread(client, "bob", ak.cred("bob"))
    time.sleep(0.2)             # bob's check waits behind it
    ak.passwd(env.users, "bob", delete=True)
    _reload(env, 4)
    order.append("reloaded")
    bob.join(60)
    slow.join(60)
    assert order.index("reloaded") < order.index("bob"), order
    assert sres.get("value") == 200, sres
    assert bres.get("value") == 407, bres
    recs = env.records(2, timeout=5)
    rec = [x for x in recs if x["user"]["name"] == "bob"]
    assert len(rec) == 1, recs
    h.check_failure(rec[0], "auth_failed", 407, egressd__auth="failed")


def test_removed_user_before_tunnel_gets_407(t):
    """A user removed while their request waits for DNS is told so (407)
    and logged, not cut off without an answer."""
    env = ak.auth_env(t, dns={"slow.svc.allowed.example": "SILENT"})
    r = {}
    th, r = ak.in_thread(ak.send, env.port, ak.request(
        "slow.svc.allowed.example:%d" % env.tcp.port, ak.cred("bob")))
    assert h.wait_until(lambda: env.dns.queries(), 5.0)
    ak.passwd(env.users, "bob", delete=True)
    _reload(env, 3)
    th.join(10)
    reply, _ = r["value"]
    h.assert_answer(reply, 407, "http_request_denied")
    rec = env.records(1, timeout=5)[0]
    h.check_failure(rec, "user_revoked_before_tunnel", 407,
                    user__name="bob", egressd__auth="ok")
