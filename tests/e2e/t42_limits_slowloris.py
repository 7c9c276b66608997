"""Slowloris (issue #5, cases B18.1-B18.3): a crowd of trickling
connections does not stop a normal client from getting its tunnel; the
header deadline counts from accept whatever the trickle; excess
connections from one address are refused (429 or close) while a second
address gets 200.  Every crowd connection is accounted for in the log
(records' event.count add up)."""
import selectors
import socket
import time

import harness as h

HEAD = b"CONNECT portal.eu1.edge.siemens.cloud:443 HTTP/1.1\r\n"


class Crowd:
    """n non-blocking connections from the given sources, each sending
    HEAD then one header line per tick (bounded)."""

    def __init__(self, port, sources, n):
        self.sel = selectors.DefaultSelector()
        self.socks, self.opened = [], {}
        self.closed_at = {}
        for i in range(n):
            s = socket.socket()
            s.bind((sources[i % len(sources)], 0))
            s.settimeout(5)
            s.connect(("127.0.0.1", port))
            s.setblocking(False)
            self.opened[s] = time.monotonic()
            try:
                s.send(HEAD)
            except OSError:
                pass
            self.socks.append(s)
            self.sel.register(s, selectors.EVENT_READ)

    def tick(self):
        """Read what arrived (note closes), trickle one line to the rest."""
        for key, _ in self.sel.select(0):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                self.closed_at[s] = time.monotonic()
                self.sel.unregister(s)
        for s in self.socks:
            if s not in self.closed_at:
                try:
                    s.send(b"X-a: b\r\n")
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    pass

    def open_count(self):
        return len(self.socks) - len(self.closed_at)

    def close(self):
        for s in self.socks:
            s.close()
        self.sel.close()


def _run_crowd(crowd, seconds):
    end = time.monotonic() + seconds
    for _ in range(int(seconds / 0.25) + 1):
        if time.monotonic() >= end or crowd.open_count() == 0:
            break
        crowd.tick()
        time.sleep(0.25)


def _connect_from(src, env):
    s = socket.create_connection(("127.0.0.1", env.port), h.IO_TIMEOUT,
                                 source_address=(src, 0))
    s.settimeout(h.IO_TIMEOUT)
    t = "api.svc.allowed.example:%d" % env.tcp.port
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (t, t)).encode())
    return h.read_head(s)


def test_crowd_does_not_starve_normal_client(t):
    """300 trickling connections from 127.0.0.3-8; a client at
    127.0.0.1 gets its tunnel within a bound, then every crowd member is
    closed by the header deadline (3 s from accept)."""
    env = h.Env(t, limits={"header_timeout": 3.0})
    sources = ["127.0.0.%d" % i for i in range(3, 9)]
    crowd = Crowd(env.port, sources, 300)
    t.defer(crowd.close)
    crowd.tick()
    t0 = time.monotonic()
    r = _connect_from("127.0.0.1", env)
    took = time.monotonic() - t0
    h.assert_answer(r, 200)
    r.sock.sendall(b"hello\n")
    assert h._recv_exact(r.sock, 6, limit_s=5) == b"hello\n"
    assert took < 2.5, "tunnel took %.1f s under the crowd" % took
    assert crowd.open_count() > 250, crowd.open_count()   # still trickling
    r.sock.close()
    _run_crowd(crowd, 12.0)
    assert crowd.open_count() == 0, "%d still open" % crowd.open_count()
    # B18.1: closed by the deadline from accept despite the trickle
    late = [crowd.closed_at[s] - crowd.opened[s] for s in crowd.socks]
    assert max(late) < 3.0 + 5.0, max(late)
    assert min(late) > 2.0, min(late)
    recs = env.records(301, timeout=8)
    timeouts = [x for x in recs if x["event"]["reason"] == "header_timeout"]
    assert len(timeouts) == 300, len(timeouts)
    for x in timeouts[:5]:
        h.check_failure(x, "header_timeout", 408, destination__ip=None)
    ok = [x for x in recs if x["http"]["response"]["status_code"] == 200]
    assert len(ok) == 1 and ok[0]["source"]["ip"] == "127.0.0.1", ok
    assert all(q[0] == "api.svc.allowed.example"
               for q in env.dns.queries()), env.dns.queries()


def test_b18_3_one_address_capped_other_served(t):
    """B18.3: 200 parallel trickling connections from 127.0.0.3 with
    per_ip.tunnels = 50: the excess is refused (429 or close); 127.0.0.2
    gets 200; the log accounts for all 201 connections in few records."""
    env = h.Env(t, limits={"header_timeout": 3.0,
                           "per_ip": {"rate": 1000.0, "burst": 1000,
                                      "tunnels": 50}})
    crowd = Crowd(env.port, ["127.0.0.3"], 200)
    t.defer(crowd.close)
    crowd.tick()
    r = _connect_from("127.0.0.2", env)
    h.assert_answer(r, 200)
    r.sock.close()
    _run_crowd(crowd, 12.0)
    assert crowd.open_count() == 0, crowd.open_count()

    def total():
        return sum(x["event"]["count"] for x in env.proxy.records())
    h.wait_until(lambda: total() >= 201, 8.0, step=0.2)
    recs = env.proxy.records()
    assert total() == 201, recs[-5:]
    by = {}
    for x in recs:
        by[x["event"]["reason"]] = by.get(x["event"]["reason"], 0) + \
            x["event"]["count"]
    assert by.get("header_timeout") == 50, by
    assert by.get("client_connection_limit") == 150, by
    limited = [x for x in recs
               if x["event"]["reason"] == "client_connection_limit"]
    assert len(limited) <= 4, limited        # aggregated, not 150 lines
    for x in limited:
        h.check_record(x, source__ip="127.0.0.3", event__outcome="failure")
