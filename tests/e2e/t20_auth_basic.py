"""Basic credentials (RFC 7617) against a users file made by
egressd-passwd: curl and a raw-socket client get through with a bcrypt
and a yescrypt user; the access record names the user, never the
password."""
import harness as h
import authkit as ak


def _curl_through(env, user, password):
    url = "https://%s:%d/" % (h.PORTAL, env.hub.port)
    return h.curl(["--proxy", "http://127.0.0.1:%d" % env.port,
                   "--proxy-user", "%s:%s" % (user, password),
                   "--cacert", env.pki.ca, url])


def _check_ok(env, rec, user):
    h.check_record(rec, event__outcome="success",
                   http__response__status_code=200, user__name=user,
                   egressd__auth="ok", destination__domain=h.PORTAL,
                   destination__ip=h.HUB_IP)


def test_curl_bcrypt_user(t):
    env = ak.auth_env(t)
    r = _curl_through(env, "alice", "s3cret")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == "hub-ok sni=%s\n" % h.PORTAL, r.stdout
    _check_ok(env, env.records(1)[0], "alice")
    assert env.hub.sessions[0]["handshake"]


def test_curl_yescrypt_user(t):
    env = ak.auth_env(t)
    r = _curl_through(env, "bob", "??>>")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == "hub-ok sni=%s\n" % h.PORTAL, r.stdout
    _check_ok(env, env.records(1)[0], "bob")


def test_curl_wrong_password_407(t):
    env = ak.auth_env(t)
    r = h.curl(["--proxy", "http://127.0.0.1:%d" % env.port,
                "--proxy-user", "alice:s3creX", "-o", "/dev/null",
                "-w", "%{http_connect}", "--cacert", env.pki.ca,
                "https://%s:%d/" % (h.PORTAL, env.hub.port)])
    assert r.stdout == b"407", (r.stdout, r.stderr)
    h.check_failure(env.records(1)[0], "auth_failed", 407,
                    user__name="alice", egressd__auth="failed",
                    destination__ip=None)
    assert env.hub.connections == 0


def test_raw_socket_bcrypt_and_yescrypt(t):
    env = ak.auth_env(t)
    target = "raw.svc.allowed.example:%d" % env.tcp.port
    for user in ("alice", "bob", "carol", "dave"):
        r = ak.tunnel(env.port, target, ak.cred(user))
        h.assert_answer(r, 200)
        assert ak.echo_ok(r.sock), user
        r.sock.close()
    recs = env.records(4)
    assert sorted(x["user"]["name"] for x in recs) == \
        ["alice", "bob", "carol", "dave"], recs
    for rec in recs:
        assert rec["egressd"]["auth"] == "ok", rec


def test_no_credentials_no_dns(t):
    """Authentication is decided before the allowlist and DNS."""
    env = ak.auth_env(t)
    r, raw = ak.send(env.port, ak.request("evil.example:443"))
    h.assert_answer(r, 407, "http_request_denied")
    h.check_failure(env.records(1)[0], "auth_required", 407,
                    user__name=None, egressd__auth="none")
    assert env.dns.queries() == []
