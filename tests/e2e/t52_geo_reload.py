"""The geo database's life cycle: the startup line, SIGHUP with a good
new file (new sessions use it, a tunnel in flight is untouched), SIGHUP
with a corrupt or missing file (the old one stays, the log says why,
with the path), and a missing or corrupt file at start (exit non-zero,
the path in the message)."""
import os
import signal

import geodb
import harness as h

CLIENTS = {"private_clients": [], "clients": {"allow": ["DE"]}}


def _hup(env, want, n):
    """SIGHUP, then wait until the n-th line containing want is in the
    daemon's stderr (bounded)."""
    env.proxy.proc.send_signal(signal.SIGHUP)
    ok = h.wait_until(lambda: env.proxy.stderr().count(want) >= n, 15.0)
    assert ok, "no %r after SIGHUP: %s" % (want, env.proxy.stderr()[-2000:])


def _tunnel(env):
    """An established TLS tunnel to the hub; returns the TLS socket."""
    r = geodb.ask(env)
    h.assert_answer(r, 200)
    tls = env.pki.client_context().wrap_socket(r.sock,
                                               server_hostname=h.PORTAL)
    tls.sendall(b"before")
    assert h._recv_exact(tls, 6, h.IO_TIMEOUT) == b"before"
    return tls


def test_startup_line(t):
    db = geodb.build(t, "g.mmdb", ["127.0.0.1/32=DE"], schema="dbip")
    env = geodb.geo_env(t, db, CLIENTS)
    err = env.proxy.stderr()
    assert ("geo: %s: type=" % db) in err, err
    assert "built=20" in err and "ip_version=6" in err, err


def test_reload_good_file(t):
    db = geodb.build(t, "g.mmdb", ["127.0.0.1/32=DE", "127.0.0.2/32=FR"])
    env = geodb.geo_env(t, db, CLIENTS)
    tls = _tunnel(env)
    geodb.rebuild(t, db, ["127.0.0.1/32=RU", "127.0.0.2/32=FR"],
                  schema="dbip")
    _hup(env, "geo: %s: type=" % db, 2)

    # a new session sees the new mapping
    r = geodb.ask(env)
    h.assert_answer(r, 403, "http_request_denied")
    rec = env.records(1)[0]
    h.check_failure(rec, "client_country_denied", 403,
                    source__geo__country_iso_code="RU")

    # the tunnel opened before is untouched, and logged with its country
    tls.sendall(b"after")
    assert h._recv_exact(tls, 5, h.IO_TIMEOUT) == b"after"
    tls.close()
    recs = env.records(2)
    old = [x for x in recs if x["event"]["outcome"] == "success"]
    assert len(old) == 1, recs
    h.check_record(old[0], source__geo__country_iso_code="DE",
                   destination__geo__country_iso_code="FR")


def _reload_bad(t, spoil, cause):
    db = geodb.build(t, "g.mmdb", ["127.0.0.1/32=DE"])
    env = geodb.geo_env(t, db, CLIENTS)
    tls = _tunnel(env)
    spoil(db)
    _hup(env, "keeping the old one", 1)
    err = env.proxy.stderr()
    assert ("geo: %s: " % db) in err and cause in err, err[-2000:]
    assert env.proxy.alive()

    # the old database still decides, for old and new sessions
    geodb.through(env, geodb.ask(env))
    tls.sendall(b"after")
    assert h._recv_exact(tls, 5, h.IO_TIMEOUT) == b"after"
    tls.close()
    for rec in env.records(2):
        h.check_record(rec, event__outcome="success",
                       source__geo__country_iso_code="DE")


def _corrupt(path):
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(b"\xab\xcd\xef" * 4000)
    os.rename(tmp, path)


def test_reload_corrupt_file(t):
    _reload_bad(t, _corrupt, "metadata")


def test_reload_missing_file(t):
    _reload_bad(t, os.unlink, "No such file")


def _start_fails(t, path, cause):
    env = geodb.geo_env(t, path, CLIENTS, start=False)
    conf = os.path.join(t.tmp, "egressd.conf")
    with open(conf, "w") as f:
        f.write(h.libconfig(env.config))
    binary = os.environ.get("EGRESSD", h.DEFAULT_BINARY)
    for args in (["-t"], []):
        r = h.run([binary, "-c", conf] + args, timeout=20)
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        assert r.returncode != 0, out
        assert ("geo: %s: " % path) in out and cause in out, out
        for mark in h.SANITIZER_MARKS:
            assert mark not in out, out
    assert not h._listening(env.port)


def test_start_missing_file(t):
    _start_fails(t, os.path.join(t.tmp, "nope.mmdb"), "No such file")


def test_start_corrupt_file(t):
    path = os.path.join(t.tmp, "bad.mmdb")
    with open(path, "wb") as f:
        f.write(b"\0" * 100)
    _corrupt(path)
    _start_fails(t, path, "metadata")


def test_start_truncated_file(t):
    path = geodb.build(t, "g.mmdb", ["127.0.0.1/32=DE"])
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:len(data) // 2])
    _start_fails(t, path, "geo: ")
