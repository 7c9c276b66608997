"""Authentication helpers for the t2N_auth_* scenarios.

The users file is always made by the real egressd-passwd (path from
EGRESSD_PASSWD, else next to EGRESSD), with the credentials of
shared/cases: alice/s3cret (bcrypt), bob/??>> (yescrypt), carol/pa:ss,
dave/paess-with-umlaut (UTF-8).  Options (from=, groups=) are appended to
a user's line afterwards, as an administrator would.
"""
import base64
import ctypes
import os
import socket
import threading

import harness as h

USERS = [("alice", "s3cret".encode(), "bcrypt"),
         ("bob", b"??>>", "yescrypt"),
         ("carol", b"pa:ss", "yescrypt"),
         ("dave", "p\u00e4ss".encode("utf-8"), "yescrypt")]
PASSWORDS = {u: p for u, p, _ in USERS}
# the slow user of the worker-pool test: bcrypt cost 14 (about 1 s)
SLOW_USER, SLOW_PASS, SLOW_COST = "slowpoke", b"tortoise-7", 14
# wrong passwords the scenarios send (must not be logged either)
WRONG = [b"s3creX", b"X3cret", b"wrong-pw-1", "p\u00e4ss".encode("latin-1")]


def passwd_binary():
    p = os.environ.get("EGRESSD_PASSWD")
    if not p:
        p = os.path.join(os.path.dirname(os.environ.get(
            "EGRESSD", h.DEFAULT_BINARY)), "egressd-passwd")
    if not os.access(p, os.X_OK):
        raise AssertionError("egressd-passwd not found at %s (build it, or "
                             "set EGRESSD_PASSWD)" % p)
    return p


def passwd(path, user, password=None, method="bcrypt", delete=False):
    """Run egressd-passwd; the password goes to stdin, never argv."""
    argv = [passwd_binary(), "-f", path]
    if delete:
        argv += ["-D", user]
    else:
        argv += ["-m", method, user]
    r = h.run(argv, input=(password or b"") + b"\n", timeout=60)
    assert r.returncode == 0, "egressd-passwd %s: %s" % (user, r.stderr)
    return r


_LINES = {}


def _base_lines(root):
    """The four users' lines, made once per run (hashing is slow)."""
    if root not in _LINES:
        path = os.path.join(root, "users.base")
        for user, pw, method in USERS:
            passwd(path, user, pw, method)
        with open(path) as f:
            _LINES[root] = {ln.split(":", 1)[0]: ln.rstrip("\n")
                            for ln in f if ":" in ln}
    return _LINES[root]


def slow_hash():
    """A bcrypt hash of SLOW_PASS with a high cost, made with libxcrypt
    (egressd-passwd always uses cost 12)."""
    lc = ctypes.CDLL("libcrypt.so.1")
    lc.crypt_gensalt.restype = ctypes.c_char_p
    lc.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong,
                                 ctypes.c_char_p, ctypes.c_int]
    lc.crypt.restype = ctypes.c_char_p
    lc.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = lc.crypt_gensalt(b"$2b$", SLOW_COST, None, 0)
    out = lc.crypt(SLOW_PASS, salt)
    assert out and out.startswith(b"$2b$%02d$" % SLOW_COST), out
    return out.decode()


def users_file(t, options=None, only=None, extra=()):
    """Write t.tmp/users: the base users (or `only` of them), each with
    options[user] appended, then the raw `extra` lines."""
    lines = _base_lines(os.path.dirname(t.tmp))
    path = os.path.join(t.tmp, "users")
    with open(path, "w") as f:
        for user, _, _ in USERS:
            if only is not None and user not in only:
                continue
            opt = (options or {}).get(user)
            f.write(lines[user] + (" " + opt if opt else "") + "\n")
        for ln in extra:
            f.write(ln + "\n")
    os.chmod(path, 0o640)
    return path


def auth_env(t, options=None, lockout=None, auth=None, hook=None,
             only=None, extra=(), **kw):
    """The standard Env with authentication required against a users
    file.  Lockout is effectively off unless given."""
    path = users_file(t, options, only, extra)
    lock = {"failures": 1000, "window": 60.0, "duration": 60.0}
    lock.update(lockout or {})

    def cfg(c):
        c["auth"] = {"realm": "egressd", "required": True,
                     "users_file": path, "lockout": lock}
        c["auth"].update(auth or {})
        if hook:
            hook(c)
    env = h.Env(t, config_hook=cfg, **kw)
    env.users = path
    return env


def token(user, password):
    if isinstance(user, str):
        user = user.encode("utf-8")
    return base64.b64encode(user + b":" + password)


def cred(user, password=None):
    """A Proxy-Authorization header line (bytes)."""
    if password is None:
        password = PASSWORDS[user]
    return b"Proxy-Authorization: Basic " + token(user, password) + b"\r\n"


def request(target, headers=b""):
    return (b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n" % (target.encode(),
            target.encode())) + headers + b"\r\n"


def send(port, data, source="127.0.0.1", limit_s=h.IO_TIMEOUT):
    """Write data from source (a loopback address), read the answer head
    and, unless it is a 200, everything up to EOF; close.  Returns (Reply,
    raw answer bytes)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(limit_s)
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        cport = s.getsockname()[1]
        s.sendall(data)
        r = h.read_head(s, limit_s=limit_s)
        r.cport = cport
        raw = r.head.encode("latin-1") + r.rest
        if r.status != 200:
            raw += h.recv_all(s, limit=1 << 16, limit_s=limit_s)
    finally:
        s.close()
    r.sock = None
    return r, raw


def record_of(env, reply, timeout=5.0):
    """The access record of the session a send() made (by client port:
    a tunnel's record is written when it closes, so order varies).  A
    record already returned is never returned again: the kernel may hand
    a later client the port of an earlier one."""
    claimed = env.__dict__.setdefault("claimed_sessions", set())

    def find():
        return [x for x in env.proxy.records()
                if x["source"]["port"] == reply.cport and
                x["event"]["id"] not in claimed]
    h.wait_until(find, timeout)
    recs = find()
    assert len(recs) == 1, (reply.cport, recs)
    claimed.add(recs[0]["event"]["id"])
    return recs[0]


def tunnel(port, target, headers=b"", source="127.0.0.1"):
    """CONNECT from source; returns the Reply with .sock open."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(h.IO_TIMEOUT)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(request(target, headers))
    return h.read_head(s)


def echo_ok(sock, payload=b"ping\n"):
    """One round trip through an echo tunnel."""
    sock.sendall(payload)
    got = b""
    for _ in range(100):
        if len(got) >= len(payload):
            break
        chunk = sock.recv(4096)
        if not chunk:
            break
        got += chunk
    return got == payload


def in_thread(fn, *args):
    """Run fn(*args) in a thread; returns (thread, result dict)."""
    res = {}

    def body():
        try:
            res["value"] = fn(*args)
        except Exception as e:  # reported by the caller
            res["error"] = e
    th = threading.Thread(target=body, daemon=True)
    th.start()
    return th, res
