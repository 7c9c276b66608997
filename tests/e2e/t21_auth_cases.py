"""The shared cases B19 (scheme and alphabet), B20 (decoding and the
colon split) and B22 (wrong user vs wrong password) sent raw against a
users file: each row's status, and every 407 byte for byte the same."""
import harness as h
import authkit as ak

WANT_USER = {"B19.1": "alice", "B19.2": "alice", "B19.3": "alice",
             "B19.4": "bob", "B20.1": "carol", "B20.7": "dave",
             "B20.8": "dave", "B22.1": "alice", "B22.2": "alice",
             "B22.3": "Xlice", "B22.4": "ALICE"}
WANT_REASON = {"B19.5": "auth_bad_syntax", "B19.6": "auth_bad_syntax",
               "B19.7": "auth_required", "B20.2": "auth_bad_syntax",
               "B20.3": "auth_bad_syntax", "B20.4": "auth_bad_syntax",
               "B20.5": "auth_bad_syntax", "B20.6": "auth_bad_syntax",
               "B20.8": "auth_failed", "B20.9": "auth_bad_syntax",
               "B20.10": "auth_bad_syntax", "B22.1": "auth_failed",
               "B22.2": "auth_failed", "B22.3": "auth_failed",
               "B22.4": "auth_failed"}


def _rows(port):
    rows = [r for r in h.parse_cases(port=port)
            if r["id"].split(".")[0] in ("B19", "B20", "B22")]
    assert len(rows) == 21, [r["id"] for r in rows]
    return rows


def test_b19_b20_b22_statuses_and_records(t):
    env = ak.auth_env(t)
    answers = {}
    for row in _rows(env.hub.port):
        r, raw = ak.send(env.port, row["raw"])
        assert r.status in row["statuses"], (row["id"], row["expect"], r)
        h.assert_answer(r, r.status, "http_request_denied"
                        if r.status == 407 else None)
        rec = ak.record_of(env, r)
        want = {"http__response__status_code": r.status,
                "user__name": WANT_USER.get(row["id"], None)}
        if r.status == 200:
            want["egressd__auth"] = "ok"
            want["destination__domain"] = h.PORTAL
        else:
            want["event__reason"] = WANT_REASON[row["id"]]
            want["destination__ip"] = None
            answers[row["id"]] = raw
        h.check_record(rec, **want)
    env.records(21)
    assert sorted(answers) == sorted(WANT_REASON), sorted(answers)
    # one fixed 407, whatever went wrong (RFC 7235; no user oracle)
    first = answers["B22.1"]
    for cid, raw in answers.items():
        assert raw == first, (cid, raw, first)
    assert b'Proxy-Authenticate: Basic realm="egressd"' in first, first
    assert b"details" not in first, first


def test_unknown_user_and_wrong_password_identical(t):
    """B22: unknown user, wrong case, wrong password of each length of
    common prefix: one answer, byte for byte."""
    env = ak.auth_env(t)
    target = "%s:%d" % (h.PORTAL, env.hub.port)
    tries = [("alice", b"s3cre"[:n] + b"XXXXXX"[n:]) for n in range(6)]
    tries += [("Xlice", b"s3cret"), ("ALICE", b"s3cret"),
              ("nobody", b"s3cret"), ("bob", b"s3cret")]
    seen = set()
    for user, pw in tries:
        r, raw = ak.send(env.port, ak.request(target, ak.cred(user, pw)))
        assert r.status == 407, (user, pw, r)
        seen.add(raw)
    assert len(seen) == 1, seen
    recs = env.records(len(tries))
    assert [x["user"]["name"] for x in recs] == [u for u, _ in tries]
    assert {x["event"]["reason"] for x in recs} == {"auth_failed"}
    assert env.hub.connections == 0 and env.dns.queries() == []
