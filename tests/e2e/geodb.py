"""Small MaxMind DB files for the geo scenarios, built at test time.

mkmmdb.pl (Debian's libmaxmind-db-writer-perl) writes them; nothing is
committed.  A mapping is "CIDR=CC" ("CIDR=-" is an entry without a
country; with the maxmind schema "CIDR=-,AT" has only
registered_country).
"""
import os

import harness as h

MKMMDB = os.path.join(h.HERE, "mkmmdb.pl")


def build(t, name, mappings, schema="maxmind", ip_version=6):
    """Write t.tmp/name from mappings (list of "CIDR=CC"); returns the
    path.  Skips the test when the Perl writer is not installed."""
    path = os.path.join(t.tmp, name)
    r = h.run(["perl", "-MMaxMind::DB::Writer::Tree", "-e", "1"])
    if r.returncode != 0:
        raise h.Skip("libmaxmind-db-writer-perl not installed")
    r = h.run(["perl", MKMMDB, "--schema", schema, "--ip-version",
               str(ip_version), "-o", path] + list(mappings), timeout=60)
    assert r.returncode == 0, "mkmmdb.pl failed: %s" % r.stderr
    return path


def rebuild(t, path, mappings, schema="maxmind", ip_version=6):
    """Replace path by a new database, by rename (as geoipupdate does)."""
    tmp = build(t, os.path.basename(path) + ".new", mappings, schema,
                ip_version)
    os.rename(tmp, path)
    return path


def geo_env(t, db, geo=None, start=True, **kw):
    """The standard Env with geo.database = db and the geo settings in
    geo (a dict merged into the geo group)."""
    def hook(cfg):
        g = {"database": db}
        g.update(geo or {})
        cfg["geo"] = g
    return h.Env(t, config_hook=hook, start=start, **kw)


def ask(env, name=h.PORTAL, port=None, host="127.0.0.1", source=None):
    """CONNECT name:port from source (an address to bind, or None);
    returns the Reply with .sock open (t.defer closes it)."""
    target = "%s:%d" % (name, port or env.hub.port)
    fam = h.socket.AF_INET6 if ":" in host else h.socket.AF_INET
    s = h.socket.socket(fam, h.socket.SOCK_STREAM)
    env.t.defer(s.close)
    s.settimeout(h.IO_TIMEOUT)
    if source:
        s.bind((source, 0))
    s.connect((host, env.port))
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
               (target, target)).encode())
    return h.read_head(s)


def through(env, reply):
    """TLS to the hub over an established tunnel and one HTTP request;
    returns the hub's answer (contains b"hub-ok")."""
    h.assert_answer(reply, 200)
    tls = env.pki.client_context().wrap_socket(reply.sock,
                                               server_hostname=h.PORTAL)
    tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    got = h.recv_all(tls, limit=65536, limit_s=h.IO_TIMEOUT)
    tls.close()
    assert b"hub-ok" in got, got
    return got


def refused_early(env, rec, reason="client_country_denied", queries=0,
                  dials=0):
    """A client refused at accept: 403 record, no DNS query and no dial
    beyond the queries and dials of earlier sessions."""
    h.check_failure(rec, reason, 403, destination__ip=None,
                    destination__domain=None, egressd__connect_ms=0)
    assert len(env.dns.queries()) == queries, env.dns.queries()
    assert env.hub.connections == dials, env.hub.connections
