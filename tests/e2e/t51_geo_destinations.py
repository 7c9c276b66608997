"""Destination countries: geo.destinations allow/deny lists and unknown
countries for resolved addresses, per-rule countries, both schemas.
The hub (127.0.0.2, an allowed internal address) is mapped to a country
in a database built at test time; a refused answer is never dialled."""
import geodb
import harness as h

FR = ["127.0.0.1/32=DE", "127.0.0.2/32=FR"]
NOCC = ["127.0.0.1/32=DE", "127.0.0.2/32=-"]      # entry, no country
ABSENT = ["127.0.0.1/32=DE"]                      # hub not in the file


def _env(t, mappings, dests, schema="maxmind", ip_version=6, hook=None):
    db = geodb.build(t, "d.mmdb", mappings, schema=schema,
                     ip_version=ip_version)
    env = geodb.geo_env(t, db, {"private_clients": ["127.0.0.0/8"],
                                "destinations": dests}, start=False)
    if hook:
        hook(env.config)
    env.start()
    return env


def _passes(env, cc, name=h.PORTAL, n=1):
    geodb.through(env, geodb.ask(env, name))
    rec = env.records(n)[-1]
    h.check_record(rec, event__outcome="success", destination__ip=h.HUB_IP,
                   destination__domain=name,
                   destination__geo__country_iso_code=cc,
                   source__geo__country_iso_code=None)
    return rec


def _refused(env, cc, why, name=h.PORTAL, n=1):
    dials = env.hub.connections
    r = geodb.ask(env, name)
    h.assert_answer(r, 403, "destination_ip_prohibited")
    rec = env.records(n)[-1]
    h.check_failure(rec, "destination_country_denied", 403,
                    destination__ip=None, destination__domain=name,
                    destination__geo__country_iso_code=cc,
                    egressd__dns__answers=1, egressd__dns__discarded=1,
                    egressd__dns__discarded_reasons=why, egressd__connect_ms=0)
    assert env.hub.connections == dials, "a refused address was dialled"
    return rec


def test_deny_list(t):
    env = _env(t, FR, {"deny": ["FR"]})
    _refused(env, "FR", "country")


def test_deny_list_other_country(t):
    env = _env(t, FR, {"deny": ["RU", "KP"]})
    _passes(env, "FR")


def test_allow_list(t):
    env = _env(t, FR, {"allow": ["DE", "FR"]})
    _passes(env, "FR")


def test_allow_list_refuses_others(t):
    env = _env(t, FR, {"allow": ["DE"]})
    _refused(env, "FR", "country")


def test_unknown_deny(t):
    env = _env(t, NOCC, {"deny": ["RU"], "unknown": "deny"})
    _refused(env, None, "country_unknown")


def test_unknown_allow(t):
    env = _env(t, NOCC, {"allow": ["DE"], "unknown": "allow"})
    _passes(env, None)


def test_allowed_internal_absent_passes(t):
    """An allow_internal address the database has no entry for has no
    country: the operator listed it, so unknown = "deny" does not apply."""
    env = _env(t, ABSENT, {"allow": ["DE"], "unknown": "deny"})
    _passes(env, None)


def test_dbip_schema(t):
    env = _env(t, FR, {"deny": ["FR"]}, schema="dbip")
    _refused(env, "FR", "country")


def test_ipv4_only_database(t):
    env = _env(t, FR, {"allow": ["FR"]}, schema="dbip", ip_version=4)
    _passes(env, "FR")


def _rule_countries(countries):
    def hook(cfg):
        cfg["allow"][1]["countries"] = countries
    return hook


def test_rule_countries(t):
    """countries in an allow rule: the *.svc.allowed.example rule needs
    DE, the portal rule has no countries; the global policy allows all."""
    env = _env(t, FR, {"deny": ["KP"]}, hook=_rule_countries(["DE", "at"]))
    _refused(env, "FR", "country", name="api.svc.allowed.example")
    _passes(env, "FR", n=2)


def test_rule_countries_match(t):
    env = _env(t, FR, {}, hook=_rule_countries(["FR"]))
    _passes(env, "FR", name="api.svc.allowed.example")


def test_rule_countries_unknown(t):
    """A rule with countries needs a known one, whatever unknown says,
    also for an allow_internal address the database does not contain."""
    env = _env(t, ABSENT, {"unknown": "allow"},
               hook=_rule_countries(["FR"]))
    _refused(env, None, "country_unknown", name="api.svc.allowed.example")


def _check_config(t, cfg):
    env = h.Env(t, start=False, config_hook=cfg)
    conf = t.tmp + "/bad.conf"
    with open(conf, "w") as f:
        f.write(h.libconfig(env.config))
    r = h.run([h.os.environ.get("EGRESSD", h.DEFAULT_BINARY), "-t", "-c",
               conf])
    return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")


def test_rule_countries_config_errors(t):
    db = geodb.build(t, "d.mmdb", FR)

    def bad_code(cfg):
        cfg["geo"] = {"database": db}
        cfg["allow"][1]["countries"] = ["DE", "D1"]

    def no_db(cfg):
        cfg["allow"][1]["countries"] = ["DE"]

    def bad_policy(cfg):
        cfg["geo"] = {"database": db, "destinations": {"deny": ["FRA"]}}

    rc, out = _check_config(t, bad_code)
    assert rc != 0 and "'D1' is not a two-letter country code" in out, out
    rc, out = _check_config(t, no_db)
    assert rc != 0 and "allow.countries: needs geo.database" in out, out
    rc, out = _check_config(t, bad_policy)
    assert rc != 0 and "'FRA' is not a two-letter country code" in out, out


def test_lookup_path_set_in_config(t):
    """geo.lookup_path: the country is read where the config says (here
    registered_country), with no fallback to the other layouts."""
    both = ["127.0.0.1/32=DE", "127.0.0.2/32=FR,RU"]   # country, registered
    db = geodb.build(t, "d.mmdb", both)
    env = geodb.geo_env(t, db, {
        "private_clients": ["127.0.0.0/8"],
        "lookup_path": ["registered_country", "iso_code"],
        "destinations": {"deny": ["RU"]}})
    _refused(env, "RU", "country")
    env.proxy.stop()
    env = geodb.geo_env(t, db, {
        "private_clients": ["127.0.0.0/8"],
        "destinations": {"deny": ["RU"]}})
    _passes(env, "FR", n=2)     # the same log file: the second record
