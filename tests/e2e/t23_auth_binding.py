"""Binding: a user limited to source addresses (users file from=), and
allowlist rules that name users or groups ("@group", users file
groups=)."""
import harness as h
import authkit as ak


def test_source_binding_from(t):
    env = ak.auth_env(t, options={"dave": "from=127.0.0.3/32"})
    target = "%s:%d" % (h.PORTAL, env.hub.port)
    r, raw = ak.send(env.port, ak.request(target, ak.cred("dave")))
    h.assert_answer(r, 407, "http_request_denied")
    r2, raw2 = ak.send(env.port, ak.request(target, ak.cred("alice",
                                                            b"nope")))
    assert raw == raw2, (raw, raw2)     # no hint that the password was right
    r, _ = ak.send(env.port, ak.request(target, ak.cred("dave")),
                   source="127.0.0.3")
    h.assert_answer(r, 200)
    recs = env.records(3)
    h.check_failure(recs[0], "auth_source_not_allowed", 407,
                    user__name="dave", source__ip="127.0.0.1")
    h.check_record(recs[2], user__name="dave", egressd__auth="ok",
                   source__ip="127.0.0.3", http__response__status_code=200)


def _rules(users):
    def hook(c):
        c["allow"][0]["users"] = users
    return hook


def test_rule_for_named_user(t):
    env = ak.auth_env(t, hook=_rules(["alice"]))
    target = "%s:%d" % (h.PORTAL, env.hub.port)
    r, _ = ak.send(env.port, ak.request(target, ak.cred("alice")))
    h.assert_answer(r, 200)
    before = len(env.dns.queries())
    r, _ = ak.send(env.port, ak.request(target, ak.cred("bob")))
    h.assert_answer(r, 403, "http_request_denied")
    assert len(env.dns.queries()) == before     # refused before DNS
    recs = env.records(2)
    by_user = {x["user"]["name"]: x for x in recs}
    h.check_failure(by_user["bob"], "host_not_allowed", 403,
                    egressd__auth="ok", destination__ip=None)


def test_rule_for_group(t):
    env = ak.auth_env(t, options={"carol": "groups=ops,line1",
                                  "dave": "groups=line2"},
                      hook=_rules(["@ops"]))
    target = "%s:%d" % (h.PORTAL, env.hub.port)
    want = {"carol": 200, "dave": 403, "alice": 403}
    for user, status in want.items():
        r, _ = ak.send(env.port, ak.request(target, ak.cred(user)))
        h.assert_answer(r, status)
    recs = env.records(3)
    got = {x["user"]["name"]: (x["http"]["response"]["status_code"],
                               x["event"]["reason"]) for x in recs}
    assert got["dave"] == (403, "host_not_allowed"), got
    assert got["alice"] == (403, "host_not_allowed"), got
    assert got["carol"][0] == 200, got


def test_group_reference_is_not_a_user_name(t):
    """A user literally called "@ops" is not the group ops."""
    env = ak.auth_env(t, hook=_rules(["@ops"]), only=("alice",))
    lines = open(env.users).read()
    ak.passwd(env.users, "@ops", b"at-ops-pw", "yescrypt")
    assert open(env.users).read().startswith(lines)
    env.proxy.proc.send_signal(__import__("signal").SIGHUP)
    assert h.wait_until(lambda: "reload done: 2 users" in
                        env.proxy.stderr(), 10.0), env.proxy.stderr()
    target = "%s:%d" % (h.PORTAL, env.hub.port)
    r, _ = ak.send(env.port, ak.request(target, ak.cred("@ops",
                                                        b"at-ops-pw")))
    h.assert_answer(r, 403)
    h.check_failure(env.records(1)[0], "host_not_allowed", 403,
                    user__name="@ops", egressd__auth="ok")
