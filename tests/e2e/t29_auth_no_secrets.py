"""No credential in any output: after a run of good and bad credentials
(and whatever scenarios ran before this one in the same run), no access
log, error log or stderr capture holds a test password, plain or in
base64, nor a Proxy-Authorization value."""
import base64
import os

import harness as h
import authkit as ak


def _needles():
    pws = list(ak.PASSWORDS.values()) + ak.WRONG + [ak.SLOW_PASS,
                                                     b"n3w-secret",
                                                     b"at-ops-pw"]
    out = set()
    for pw in pws:
        out.add(pw)
        out.add(base64.b64encode(pw))
        for user in list(ak.PASSWORDS) + ["Xlice", "ALICE", "nobody"]:
            out.add(ak.token(user, pw))
    for row in h.parse_cases():
        if "Proxy-Authorization: " in row["raw"].decode("latin-1"):
            v = row["raw"].split(b"Proxy-Authorization: ")[1]
            v = v.split(b"\r\n")[0].split(b" ")[-1]
            if len(v) >= 8:
                out.add(v)
    return out


def _outputs(root):
    """Every log-like file under the run directory."""
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith((".log", ".stderr")) or "log" in f:
                yield os.path.join(d, f)


def test_no_password_in_any_log(t):
    env = ak.auth_env(t, lockout={"failures": 4, "duration": 60.0})
    target = "%s:%d" % (h.PORTAL, env.hub.port)
    n = 0
    for user in ak.PASSWORDS:
        r, _ = ak.send(env.port, ak.request(target, ak.cred(user)))
        assert r.status == 200, (user, r)
        n += 1
    for pw in ak.WRONG:
        for src in ("127.0.0.1", "127.0.0.4"):
            ak.send(env.port, ak.request(target, ak.cred("alice", pw)),
                    source=src)
            n += 1
    for row in h.parse_cases(port=env.hub.port):
        if row["id"].split(".")[0] in ("B19", "B20", "B22"):
            ak.send(env.port, row["raw"], source="127.0.0.5")
            n += 1
    # a password typed into the target, in spellings where characters
    # of the password (or a broken scheme) hide where the userinfo ends
    for line in (b"CONNECT bob:??>>@%s:443 HTTP/1.1" % h.PORTAL.encode(),
                 b"CONNECT alice:s3cret/@%s:443 HTTP/1.1" %
                 h.PORTAL.encode(),
                 b"CONNECT carol:pa:ss@x#@%s:443 HTTP/1.1" %
                 h.PORTAL.encode(),
                 b"GET http://bob:??>>@evil.example/ HTTP/1.1",
                 b"GET //alice:s3cret@evil.example/ HTTP/1.1",
                 b"GET https:/alice:s3cret@evil.example/ HTTP/1.1"):
        r, _ = ak.send(env.port, line + b"\r\nHost: x\r\n\r\n",
                       source="127.0.0.6")
        assert r.status in (400, 405), (line, r)
        n += 1
    env.proxy.stop()        # flushes aggregated (event.count) records
    recs = env.proxy.records()
    assert sum(x["event"].get("count", 1) for x in recs) == n, recs
    assert "locked out" in env.proxy.stderr()   # the warnings were made
    root = os.path.dirname(t.tmp)
    needles = _needles()
    files = list(_outputs(root))
    assert env.access_log in files and env.proxy.stderr_path in files
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        for s in needles:
            assert s not in data, "%r found in %s" % (s, path)
        assert b"Proxy-Authorization" not in data, path
        assert b"Basic " not in data, path
