"""The parser and policy rows of shared/cases/cases.tsv (B02-B17), sent
raw with ':443' replaced by the hub's port; status, answer headers and
one clean access-log record per row.

Auth is off (auth.required = false), so the rows' Proxy-Authorization
headers are ignored; every row of these groups runs here."""
import os
import re

import harness as h

GROUPS = ["B02", "B03", "B05", "B06", "B08", "B09", "B10", "B11", "B12",
          "B13", "B14", "B16", "B17"]
EXTRA_DNS = {"cgnat.svc.allowed.example": ["100.64.0.1"]}
PS_OF = {400: "http_request_error", 405: "http_request_error",
         431: "http_request_error"}


def _canonical(raw):
    """Lower-cased host of the request target with one trailing dot
    dropped (the name egressd must log and resolve)."""
    target = raw.split(b" ")[1].decode("latin-1")
    host = target.rsplit(":", 1)[0].lower()
    return host[:-1] if host.endswith(".") else host


def _check_row(env, row, nrec):
    """Run one row; return a list of problems (empty when fine)."""
    bad = []
    dns0, hub0 = len(env.dns.queries()), env.hub.connections
    r = h.connect_raw(env.port, row["raw"])
    if r.status not in row["statuses"]:
        return ["status %s, want %s (%r)" % (r.status,
                                            sorted(row["statuses"]),
                                            r.status_line)]
    try:
        h.assert_answer(r, r.status, PS_OF.get(r.status))
    except AssertionError as e:
        bad.append(str(e))
    try:
        rec = env.records(nrec)[-1]
        h.check_record(rec, http__response__status_code=r.status)
    except (AssertionError, ValueError) as e:
        return bad + ["log: %s" % e]
    expect = row["expect"]
    queries = env.dns.queries()[dns0:]
    if "no DNS query" in expect and queries:
        bad.append("DNS queried: %s" % queries)
    if ("no connect attempt" in expect or "no outbound" in expect) and \
            env.hub.connections != hub0:
        bad.append("hub was connected to")
    if r.status == 200:
        host = _canonical(row["raw"])
        if rec["destination"]["domain"] != host or \
                rec["destination"]["ip"] != h.HUB_IP or \
                rec["destination"]["port"] != env.hub.port:
            bad.append("destination %s" % rec["destination"])
        if any(q[0] != host for q in queries):
            bad.append("resolved other names: %s" % queries)
    elif rec["destination"]["ip"] is not None and r.status < 500:
        bad.append("refused but destination.ip=%s" %
                   rec["destination"]["ip"])
    return bad


def _run_group(t, group):
    path = os.environ.get("E2E_CASES", h.DEFAULT_CASES)
    if not os.path.exists(path):
        raise h.Skip("no cases.tsv at %s" % path)
    env = h.Env(t, dns=EXTRA_DNS)
    rows = [r for r in h.parse_cases(path, port=env.hub.port)
            if re.match(re.escape(group) + r"\.", r["id"])]
    assert rows, "no rows for " + group
    problems, n = [], 0
    for row in rows:
        if not row["statuses"]:
            print("# %s: no status expectation, not run here" % row["id"])
            continue
        n += 1
        for p in _check_row(env, row, n):
            problems.append("%s: %s" % (row["id"], p))
    assert env.proxy.alive(), "egressd died"
    assert not problems, "; ".join(problems)


def _make(group):
    def test(t):
        _run_group(t, group)
    test.__name__ = "test_" + group
    test.__qualname__ = test.__name__
    test.__module__ = __name__
    return test


for _g in GROUPS:
    globals()["test_" + _g] = _make(_g)
