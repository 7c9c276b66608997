"""An allowed host: 200, then a verified TLS session with the hub, through
curl, openssl s_client (HTTP/1.0 CONNECT) and Python's ssl."""
import harness as h


def test_curl_https(t):
    env = h.Env(t)
    url = "https://%s:%d/" % (h.PORTAL, env.hub.port)
    r = h.curl(["--proxy", "http://127.0.0.1:%d" % env.port,
                "--cacert", env.pki.ca, url])
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == b"hub-ok sni=%s\n" % h.PORTAL.encode(), r.stdout
    rec = env.records(1)[0]
    h.check_success(env, rec, h.PORTAL, env.hub.port,
                    url="%s:%d" % (h.PORTAL, env.hub.port))
    assert rec["source"]["bytes"] > 0 and rec["destination"]["bytes"] > 0
    assert env.dns.queries(h.PORTAL), "no DNS query for the portal"
    assert {q[0] for q in env.dns.queries()} == {h.PORTAL}, env.dns.queries()


def test_openssl_s_client(t):
    env = h.Env(t)
    r = h.run(["openssl", "s_client", "-proxy", "127.0.0.1:%d" % env.port,
               "-connect", "%s:%d" % (h.PORTAL, env.hub.port),
               "-servername", h.PORTAL, "-CAfile", env.pki.ca,
               "-verify_return_error", "-ign_eof"],
              input=b"GET / HTTP/1.0\r\n\r\n", timeout=20)
    out = r.stdout.decode("latin-1")
    assert r.returncode == 0, out[-2000:] + r.stderr.decode()[-1000:]
    assert "Verify return code: 0 (ok)" in out, out[-2000:]
    assert "hub-ok sni=" + h.PORTAL in out
    h.check_success(env, env.records(1)[0], h.PORTAL, env.hub.port)


def test_python_ssl(t):
    env = h.Env(t)
    reply, s = h.tls_through(env.pki, env.port, h.PORTAL, env.hub.port)
    h.assert_answer(reply, 200)
    cport = s.getsockname()[1]
    s.sendall(b"ping over tls")
    assert h._recv_exact(s, 13) == b"ping over tls"
    s.close()
    hub = env.hub.wait_done(1)[0]
    assert hub["sni"] == h.PORTAL and hub["first"] == b"ping over tls", hub
    h.check_success(env, env.records(1)[0], h.PORTAL, env.hub.port,
                    client_port=cport)


def test_client_hello_with_head(t):
    """CONNECT head and ClientHello in one write: the hello is forwarded,
    the handshake completes, data flows."""
    env = h.Env(t)
    r, obj, s, inc, out = h.tls_early(env.pki, env.port, h.PORTAL,
                                      env.hub.port)
    h.assert_answer(r, 200)
    assert h.bio_exchange(obj, s, inc, out, b"early", 5) == b"early"
    s.close()
    assert env.hub.wait_done(1)[0]["sni"] == h.PORTAL
    h.check_success(env, env.records(1)[0], h.PORTAL, env.hub.port)
