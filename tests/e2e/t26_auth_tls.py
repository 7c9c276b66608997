"""The TLS listener: Basic credentials inside TLS (curl --proxy https://),
a verified client certificate that names a user of the users file
(curl --proxy-cert), and plain HTTP to the TLS port (one record,
tls_handshake_failed)."""
import os
import socket

import harness as h
import authkit as ak


def _tls_env(t, client_ca=True, extra=()):
    port = h.free_port()

    def hook(c):
        pki = h.shared_pki(t)
        tls = {"certificate": pki.proxy_cert, "key": pki.proxy_key}
        if client_ca:
            tls["client_ca"] = pki.ca
        c["listen"].append({"address": "127.0.0.1", "port": port,
                            "tls": tls})
    env = ak.auth_env(t, hook=hook, extra=extra)
    env.tls_port = port
    assert h.wait_until(lambda: h._listening(port), 5.0)
    return env


def _curl_tls(env, *args):
    return h.curl(["--proxy", "https://127.0.0.1:%d" % env.tls_port,
                   "--proxy-cacert", env.pki.ca, "--cacert", env.pki.ca,
                   "-w", "\n%{http_connect}"] + list(args) +
                  ["https://%s:%d/" % (h.PORTAL, env.hub.port)])


def test_basic_over_tls_listener(t):
    env = _tls_env(t, client_ca=False)
    r = _curl_tls(env, "--proxy-user", "alice:s3cret")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == "hub-ok sni=%s\n\n200" % h.PORTAL, r.stdout
    rec = env.records(1)[0]
    h.check_record(rec, user__name="alice", egressd__auth="ok",
                   http__response__status_code=200,
                   egressd__listener="127.0.0.1:%d" % env.tls_port)
    r = _curl_tls(env, "--proxy-user", "alice:wrong-pw-1")
    assert r.stdout.endswith(b"407"), (r.stdout, r.stderr)
    h.check_failure(env.records(2)[1], "auth_failed", 407,
                    user__name="alice")


def test_client_certificate_names_user(t):
    """The certificate user (CN iem-line1) is listed in the users file
    (with a password nobody uses), so a reload can revoke it."""
    other = os.path.join(t.tmp, "users.cert")
    ak.passwd(other, "iem-line1", b"unused-cert-user-pw", "yescrypt")
    env = _tls_env(t, extra=[open(other).read().strip()])
    r = _curl_tls(env, "--proxy-cert", env.pki.client_cert,
                  "--proxy-key", env.pki.client_key)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(b"\n200"), r.stdout
    h.check_record(env.records(1)[0], user__name="iem-line1",
                   egressd__auth="certificate",
                   http__response__status_code=200)


def test_client_certificate_user_not_listed(t):
    """With a users file, a certificate for a name not in it does not
    authenticate: Basic must."""
    env = _tls_env(t)
    r = _curl_tls(env, "--proxy-cert", env.pki.client_cert,
                  "--proxy-key", env.pki.client_key)
    assert r.stdout.endswith(b"407"), (r.stdout, r.stderr)
    h.check_failure(env.records(1)[0], "auth_required", 407,
                    user__name=None, egressd__auth="none")
    r = _curl_tls(env, "--proxy-cert", env.pki.client_cert,
                  "--proxy-key", env.pki.client_key,
                  "--proxy-user", "bob:??>>")
    assert r.stdout.endswith(b"\n200"), (r.stdout, r.stderr)
    h.check_record(env.records(2)[1], user__name="bob", egressd__auth="ok")


def test_plain_http_to_tls_port(t):
    env = _tls_env(t)
    s = socket.create_connection(("127.0.0.1", env.tls_port), h.IO_TIMEOUT)
    s.settimeout(h.IO_TIMEOUT)
    s.sendall(ak.request("%s:%d" % (h.PORTAL, env.hub.port),
                         ak.cred("alice")))
    got = h.recv_all(s, limit=65536, limit_s=10)
    s.close()
    assert b"HTTP/1.1 200" not in got and b"407" not in got, got
    rec = env.records(1, timeout=5)[0]
    h.check_failure(rec, "tls_handshake_failed", 0, user__name=None,
                    egressd__listener="127.0.0.1:%d" % env.tls_port)
    assert env.hub.connections == 0 and env.dns.queries() == []
    assert env.proxy.alive()
