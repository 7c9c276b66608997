"""Shared parts of contrib/bench: build ebench, run the loopback target
and the three proxies (egressd, tinyproxy, squid) with throw-away configs
in a temp dir, and stop them again.

Everything listens on loopback with an ephemeral port.  The target is on
127.0.0.2 (so egressd needs allow_internal = [ "127.0.0.2/32" ]); every
proxy requires Basic authentication as the same user.  Environment:

  EGRESSD         egressd binary (default: ../../build/src/egressd, then
                  /tmp/b-bench/src/egressd); build it without sanitizers
  EGRESSD_PASSWD  egressd-passwd (default: next to EGRESSD)
  TINYPROXY, SQUID  the Debian binaries (/usr/bin/tinyproxy, /usr/sbin/squid)
"""
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_IP = "127.0.0.2"
USER, PASSWORD = "bench", "bench-pass-1"
AUTH_B64 = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
NOFILE = 65536
PROXIES = ("egressd", "tinyproxy", "squid")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def raise_nofile():
    """Root may raise the hard limit; children inherit it."""
    import resource
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    except (ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def egressd_binary():
    for p in (os.environ.get("EGRESSD"),
              os.path.join(HERE, "..", "..", "build", "src", "egressd"),
              "/tmp/b-bench/src/egressd"):
        if p and os.access(p, os.X_OK):
            return os.path.abspath(p)
    raise SystemExit("egressd not found: build it (no sanitizers) and set "
                     "EGRESSD")


def listening(port, ip="127.0.0.1"):
    try:
        with socket.create_connection((ip, port), 0.5):
            return True
    except OSError:
        return False


def wait_port(port, proc, what, timeout=15.0):
    """Wait for a listener without opening a session through it: read
    /proc/net/tcp for a LISTEN entry on the port."""
    want = ":%04X" % port
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise SystemExit("%s exited (rc %s)" % (what, proc.returncode))
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if parts[1].endswith(want) and parts[3] == "0A":
                    return
        time.sleep(0.05)
    raise SystemExit("%s did not listen on %d" % (what, port))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bench:
    """A temp dir, ebench, and the processes started in it."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="egressd-bench-")
        os.chmod(self.tmp, 0o777)      # squid runs as "proxy"
        self.procs = []
        self.ebench = os.path.join(self.tmp, "ebench")
        r = subprocess.run(["cc", "-O2", "-o", self.ebench,
                            os.path.join(HERE, "ebench.c")])
        if r.returncode != 0:
            raise SystemExit("cc ebench.c failed")
        self.nofile = raise_nofile()

    def close(self):
        for p in reversed(self.procs):
            self.stop(p)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def stop(self, p):
        if p.poll() is None:
            if p.stdin:
                try:
                    p.stdin.close()
                except OSError:
                    pass
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if p in self.procs:
            self.procs.remove(p)

    def spawn(self, argv, name, **kw):
        err = open(os.path.join(self.tmp, name + ".stderr"), "ab")
        p = subprocess.Popen(argv, stdout=kw.pop("stdout", err), stderr=err,
                             stdin=kw.pop("stdin", subprocess.DEVNULL),
                             **kw)
        self.procs.append(p)
        return p

    # -- the target

    def target(self, mode="echo"):
        """An ebench server on 127.0.0.2:ephemeral; returns (proc, port)."""
        p = self.spawn([self.ebench, "serve", mode, TARGET_IP + ":0"],
                       "target-" + mode, stdout=subprocess.PIPE,
                       stdin=subprocess.PIPE)
        port = int(p.stdout.readline())
        return p, port

    def run_ebench(self, args, timeout=150):
        r = subprocess.run([self.ebench] + args, capture_output=True,
                           text=True, timeout=timeout)
        if r.stderr.strip():
            log(r.stderr.strip()[-500:])
        return parse_kv(r.stdout)

    # -- the proxies

    def proxy(self, name, tport):
        """Start a proxy that lets CONNECT through to TARGET_IP:tport;
        returns (proc, port)."""
        return getattr(self, "_" + name)(tport)

    def _egressd(self, tport):
        binary = egressd_binary()
        passwd = os.environ.get("EGRESSD_PASSWD") or os.path.join(
            os.path.dirname(binary), "egressd-passwd")
        users = os.path.join(self.tmp, "users")
        if not os.path.exists(users):
            r = subprocess.run([passwd, "-f", users, "-m", "bcrypt", USER],
                               input=PASSWORD + "\n", text=True,
                               capture_output=True)
            if r.returncode != 0:
                raise SystemExit("egressd-passwd: " + r.stderr)
        port = free_port()
        conf = os.path.join(self.tmp, "egressd.conf")
        with open(conf, "w") as f:
            f.write("""
listen = ( { address = "127.0.0.1"; port = %d; } );
clients = { allow = [ "127.0.0.0/8" ]; };
auth = { users_file = "%s"; realm = "bench"; required = true;
         cache_ttl = 600.0; };
allow = ( { addresses = [ "%s/32" ]; ports = [ %d ]; protocol = "any"; } );
destinations = { allow_internal = [ "%s/32" ]; };
limits = { per_ip = { rate = 1000000.0; burst = 1000000.0;
                      tunnels = 30000; };
           tunnels = 30000; idle_timeout = 600.0;%s };
log = { access = "%s"; format = "json"; };
""" % (port, users, TARGET_IP, tport, TARGET_IP,
                (" tunnel_buffer = %d;" % int(os.environ["TUNNEL_BUFFER"])
                 if os.environ.get("TUNNEL_BUFFER") else ""),
                os.path.join(self.tmp, "egressd-access.log")))
        p = self.spawn([binary, "-c", conf], "egressd")
        wait_port(port, p, "egressd")
        return p, port

    def _tinyproxy(self, tport):
        port = free_port()
        conf = os.path.join(self.tmp, "tinyproxy.conf")
        with open(conf, "w") as f:
            f.write("""
Port %d
Listen 127.0.0.1
Timeout 600
MaxClients 12000
Allow 127.0.0.1
ConnectPort %d
BasicAuth %s %s
LogFile "%s"
LogLevel Connect
PidFile "%s"
DisableViaHeader Yes
""" % (port, tport, USER, PASSWORD,
                os.path.join(self.tmp, "tinyproxy.log"),
                os.path.join(self.tmp, "tinyproxy.pid")))
        os.chmod(self.tmp, 0o777)
        binary = os.environ.get("TINYPROXY", "/usr/bin/tinyproxy")
        p = self.spawn([binary, "-d", "-c", conf], "tinyproxy")
        wait_port(port, p, "tinyproxy")
        return p, port

    def _squid(self, tport):
        port = free_port()
        pw = os.path.join(self.tmp, "squid.passwd")
        h = subprocess.run(["openssl", "passwd", "-apr1", PASSWORD],
                           capture_output=True, text=True).stdout.strip()
        with open(pw, "w") as f:
            f.write("%s:%s\n" % (USER, h))
        os.chmod(pw, 0o644)
        conf = os.path.join(self.tmp, "squid.conf")
        t = self.tmp
        with open(conf, "w") as f:
            f.write("""
http_port 127.0.0.1:%(port)d
pid_filename %(t)s/squid.pid
cache_log %(t)s/squid-cache.log
access_log stdio:%(t)s/squid-access.log
cache_store_log none
cache deny all
cache_mem 0 MB
coredump_dir %(t)s
workers 1
max_filedescriptors %(nofile)d
pinger_enable off
shutdown_lifetime 1 seconds
dns_nameservers 127.0.0.1
auth_param basic program /usr/lib/squid/basic_ncsa_auth %(pw)s
auth_param basic children 2
auth_param basic credentialsttl 600 seconds
acl bench_target dst %(ip)s/32
acl bench_port port %(tport)d
acl CONNECT method CONNECT
acl authed proxy_auth REQUIRED
http_access deny !authed
http_access allow CONNECT bench_target bench_port
http_access deny all
""" % {"port": port, "t": t, "pw": pw, "ip": TARGET_IP, "tport": tport,
       "nofile": self.nofile})
        binary = os.environ.get("SQUID", "/usr/sbin/squid")
        p = self.spawn([binary, "-N", "-f", conf], "squid")
        wait_port(port, p, "squid", timeout=30)
        return p, port


def parse_kv(line):
    out = {}
    for tok in line.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def rss_kib(pid):
    """VmRSS of pid and all its descendants (tinyproxy/squid helpers)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for tid in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, tid)) as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return total


def no_system_services():
    """Fail loudly if a squid/tinyproxy not started by us is running."""
    r = subprocess.run(["pgrep", "-x", "squid|tinyproxy"],
                       capture_output=True, text=True)
    return r.stdout.split()


def which(names):
    """The proxies asked for (BENCH_PROXIES="egressd squid" narrows)."""
    want = os.environ.get("BENCH_PROXIES")
    return [n for n in names if not want or n in want.split()]
