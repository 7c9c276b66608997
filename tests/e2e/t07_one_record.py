"""Exactly one access-log record per session, whatever the path."""
import socket
import time

import harness as h


def test_mix_of_sessions(t):
    env = h.Env(t)
    want = {}                         # client port -> (reason, status)

    for _ in range(3):                # tunnels, closed by the client
        r, s = h.tls_through(env.pki, env.port, h.PORTAL, env.hub.port)
        h.assert_answer(r, 200)
        want[s.getsockname()[1]] = ("client_closed", 200)
        s.sendall(b"x")
        assert s.recv(1) == b"x"
        s.close()
    for _ in range(3):                # denied host
        r = h.open_tunnel(env.port, "evil.example:%d" % env.hub.port)
        h.assert_answer(r, 403)
        want[r.sock.getsockname()[1]] = ("host_not_allowed", 403)
        r.sock.close()
    for data, reason, status in [
            (b"garbage\r\n\r\n", "malformed_request_line", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "method_not_allowed",
             405),
            (b"CONNECT %s HTTP/1.1\r\n\r\n" % h.PORTAL.encode(),
             "malformed_port", 400)]:
        s = socket.create_connection(("127.0.0.1", env.port), 5)
        want[s.getsockname()[1]] = (reason, status)
        s.sendall(data)
        r = h.read_head(s)
        assert r.status == status, (data, r)
        s.close()
    for partial in (b"", b"CONNECT portal"):   # client gives up in head
        s = socket.create_connection(("127.0.0.1", env.port), 5)
        want[s.getsockname()[1]] = ("client_closed_in_head", 0)
        s.sendall(partial)
        time.sleep(0.1)
        s.close()

    recs = env.records(len(want), timeout=5)
    time.sleep(0.5)
    recs = env.records(len(want))     # still exactly one each
    ids = [r["event"]["id"] for r in recs]
    assert len(set(ids)) == len(ids), "duplicate session ids"
    seen = {}
    for rec in recs:
        h.check_record(rec)
        port = rec["source"]["port"]
        assert port in want and port not in seen, rec
        seen[port] = rec
        reason, status = want[port]
        got = (rec["event"]["reason"],
               rec["http"]["response"]["status_code"] or 0)
        if status == 200:
            assert got[1] == 200 and got[0] in ("client_closed",
                                                "upstream_closed"), got
        else:
            assert got == (reason, status), (got, reason, status)


def test_text_format_dotted_keys(t):
    """log.format = "text": the same fields as the JSON record, in the
    same order, under their whole dotted names, so that source.ip and
    destination.ip (and the two ports) stay apart; null is a bare "-"."""
    def text(c):
        c["log"]["format"] = "text"
    env = h.Env(t, config_hook=text)
    r = h.open_tunnel(env.port, "api.svc.allowed.example:%d" % env.tcp.port)
    h.assert_answer(r, 200)
    r.sock.sendall(b"hi\n")
    assert r.sock.recv(3) == b"hi\n"
    r.sock.close()
    r = h.open_tunnel(env.port, "evil.example:443")
    h.assert_answer(r, 403)
    r.sock.close()
    h.wait_until(lambda: env.proxy.raw_log().count(b"\n") >= 2, 5.0)
    lines = env.proxy.raw_log().decode("ascii").splitlines()
    assert len(lines) == 2, lines
    # the tunnel's record is written when it closes: either may be first
    lines.sort(key=lambda x: "host_not_allowed" in x)
    keys = [k.split("=")[0] for k in lines[0].split(" ")]
    assert keys == ["@timestamp", "event.id", "event.kind", "event.action",
                    "event.outcome", "event.reason", "event.duration",
                    "event.count", "source.ip", "source.port",
                    "source.bytes", "source.geo.country_iso_code",
                    "user.name", "http.request.method",
                    "http.response.status_code", "url.original",
                    "destination.domain", "destination.port",
                    "destination.ip", "destination.bytes",
                    "destination.geo.country_iso_code",
                    "network.transport", "network.bytes",
                    "tls.client.server_name", "egressd.listener",
                    "egressd.auth", "egressd.protocol_check",
                    "egressd.connect_ms", "egressd.dns.answers",
                    "egressd.dns.discarded",
                    "egressd.dns.discarded_reasons",
                    "egressd.dns.duration_ms", "egressd.dns.error"], keys
    ok = dict(k.split("=", 1) for k in lines[0].split(" "))
    assert ok["source.ip"] == '"127.0.0.1"', ok
    assert ok["destination.ip"] == '"%s"' % h.HUB_IP, ok
    assert ok["destination.port"] == str(env.tcp.port), ok
    assert ok["source.bytes"] == "3", ok
    assert int(ok["network.bytes"]) == 3 + int(ok["destination.bytes"]), ok
    no = dict(k.split("=", 1) for k in lines[1].split(" "))
    assert no["event.reason"] == '"host_not_allowed"', no
    assert no["destination.ip"] == "-" and no["user.name"] == "-", no


def test_log_outage_loses_nothing(t):
    """The access log's directory disappears and SIGUSR1 asks for a
    reopen: the records of the sessions meanwhile are held, not lost,
    and written once the file can be opened again."""
    import os
    import signal
    logdir = os.path.join(t.tmp, "logdir")
    os.mkdir(logdir)
    path = os.path.join(logdir, "access.log")

    def where(c):
        c["log"]["access"] = path
    env = h.Env(t, config_hook=where)
    r = h.open_tunnel(env.port, "evil.example:443")
    h.assert_answer(r, 403)
    r.sock.close()
    env.records(1, timeout=5)
    os.rename(logdir, logdir + ".old")
    env.proxy.proc.send_signal(signal.SIGUSR1)
    assert h.wait_until(lambda: "cannot open" in env.proxy.stderr(), 5.0), \
        env.proxy.stderr()
    for _ in range(3):
        r = h.open_tunnel(env.port, "evil.example:443")
        h.assert_answer(r, 403)
        r.sock.close()
    os.mkdir(logdir)
    assert h.wait_until(lambda: "open again" in env.proxy.stderr(), 5.0), \
        env.proxy.stderr()
    recs = env.records(3, timeout=5)
    for rec in recs:
        h.check_failure(rec, "host_not_allowed", 403)
    assert "records lost" not in env.proxy.stderr()
