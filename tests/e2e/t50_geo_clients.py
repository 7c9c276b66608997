"""Client countries: geo.clients allow/deny lists, unknown countries,
geo.private_clients, both database schemas, IPv4-only databases, an IPv6
client.  The databases are built at test time (geodb.build); loopback
addresses stand for clients from several countries."""
import socket

import geodb
import harness as h

# 127.0.0.5: an entry without a country; 127.0.0.6: registered_country
# only; 127.0.0.7: not in the database at all.
MAP = ["127.0.0.1/32=DE", "127.0.0.2/32=FR", "127.0.0.4/32=RU",
       "127.0.0.5/32=-", "127.0.0.6/32=-,AT", "::1/128=CH"]
MAP_DBIP = ["127.0.0.1/32=DE", "127.0.0.2/32=FR", "127.0.0.4/32=RU",
            "::1/128=CH"]


def _env(t, clients, private=(), db=None, **kw):
    db = db or geodb.build(t, "c.mmdb", MAP)
    return geodb.geo_env(t, db, {"private_clients": list(private),
                                 "clients": clients}, **kw)


def _allowed(env, source, cc, n=1):
    r = geodb.ask(env, source=source)
    geodb.through(env, r)
    rec = env.records(n)[-1]
    h.check_record(rec, event__outcome="success", source__ip=source,
                   source__geo__country_iso_code=cc,
                   http__response__status_code=200,
                   destination__ip=h.HUB_IP, destination__domain=h.PORTAL)
    return rec


def _q(env):
    """DNS queries so far (the sessions allowed before)."""
    return len(env.dns.queries())


def _denied(env, source, cc, n=1):
    r = geodb.ask(env, source=source)
    h.assert_answer(r, 403, "http_request_denied")
    rec = env.records(n)[-1]
    h.check_record(rec, source__ip=source, source__geo__country_iso_code=cc)
    return rec


def test_allow_list(t):
    env = _env(t, {"allow": ["DE", "AT"]})
    rec = _allowed(env, "127.0.0.1", "DE")
    # the hub (127.0.0.2, allowed internal) is in the database too
    h.check_record(rec, destination__geo__country_iso_code="FR")
    q = _q(env)
    rec = _denied(env, "127.0.0.4", "RU", 2)
    geodb.refused_early(env, rec, queries=q, dials=1)


def test_deny_list(t):
    env = _env(t, {"deny": ["ru"]})          # lower case is accepted
    _allowed(env, "127.0.0.1", "DE")
    q = _q(env)
    geodb.refused_early(env, _denied(env, "127.0.0.4", "RU", 2), queries=q,
                        dials=1)


def test_registered_country(t):
    """An entry with only registered_country.iso_code counts as it."""
    env = _env(t, {"allow": ["AT"]})
    _allowed(env, "127.0.0.6", "AT")


def test_unknown_deny(t):
    env = _env(t, {"allow": ["DE"], "unknown": "deny"})
    geodb.refused_early(env, _denied(env, "127.0.0.5", None))


def test_unknown_allow(t):
    env = _env(t, {"allow": ["DE"], "unknown": "allow"})
    _allowed(env, "127.0.0.5", None)
    _denied(env, "127.0.0.4", "RU", 2)


def test_nonpublic_absent_client_denied(t):
    """A loopback/private address the database does not contain, and
    that is not in geo.private_clients, is refused even with
    unknown = "allow": no private client passes by accident."""
    env = _env(t, {"deny": ["RU"], "unknown": "allow"})
    geodb.refused_early(env, _denied(env, "127.0.0.7", None))


def test_private_clients_skip_lookup(t):
    """Addresses in geo.private_clients pass without a lookup, even when
    the database places them in a denied country."""
    env = _env(t, {"allow": ["DE"], "unknown": "deny"},
               private=["127.0.0.4/32", "127.0.0.7/32"])
    _allowed(env, "127.0.0.4", None)
    _allowed(env, "127.0.0.7", None, 2)
    q = _q(env)
    geodb.refused_early(env, _denied(env, "127.0.0.5", None, 3), queries=q,
                        dials=2)


def test_dbip_schema(t):
    db = geodb.build(t, "dbip.mmdb", MAP_DBIP, schema="dbip")
    env = _env(t, {"allow": ["DE"]}, db=db)
    rec = _allowed(env, "127.0.0.1", "DE")
    h.check_record(rec, destination__geo__country_iso_code="FR")
    q = _q(env)
    geodb.refused_early(env, _denied(env, "127.0.0.4", "RU", 2), queries=q,
                        dials=1)


def test_ipv4_only_database(t):
    db = geodb.build(t, "v4.mmdb", MAP_DBIP[:3], schema="dbip",
                     ip_version=4)
    env = _env(t, {"allow": ["DE"]}, db=db)
    _allowed(env, "127.0.0.1", "DE")
    q = _q(env)
    geodb.refused_early(env, _denied(env, "127.0.0.4", "RU", 2), queries=q,
                        dials=1)


def _v6_env(t, clients, db=None, private=()):
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        raise h.Skip("no ::1 on this host")
    env = _env(t, clients, private=private, db=db, start=False)
    env.config["listen"].append({"address": "::1", "port": env.port})
    env.start()
    return env


def test_ipv6_client(t):
    env = _v6_env(t, {"allow": ["CH"]})
    r = geodb.ask(env, host="::1")
    geodb.through(env, r)
    rec = env.records(1)[0]
    h.check_record(rec, source__ip="::1", source__geo__country_iso_code="CH",
                   event__outcome="success")
    q = _q(env)
    rec = _denied(env, "127.0.0.1", "DE", 2)
    geodb.refused_early(env, rec, queries=q, dials=1)


def test_ipv6_client_in_ipv4_database(t):
    """::1 cannot be in an IPv4-only file: it is absent, non-public, so
    refused unless geo.private_clients lists it."""
    db = geodb.build(t, "v4.mmdb", MAP_DBIP[:3], ip_version=4)
    env = _v6_env(t, {"allow": ["DE"], "unknown": "allow"}, db=db)
    r = geodb.ask(env, host="::1")
    h.assert_answer(r, 403, "http_request_denied")
    rec = env.records(1)[0]
    h.check_failure(rec, "client_country_denied", 403, source__ip="::1",
                    source__geo__country_iso_code=None)
    env.proxy.stop()
    env.config["geo"]["private_clients"] = ["::1"]
    env.start()
    r = geodb.ask(env, host="::1")
    geodb.through(env, r)
