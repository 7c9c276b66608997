"""A bad configuration is refused with the file, the line and the reason,
every error at once, and a non-zero exit, both by `egressd -t` and at
start (where nothing is left listening); a good one passes -t."""
import os
import socket

import harness as h


def _binary():
    return os.environ.get("EGRESSD", h.DEFAULT_BINARY)


def _write(t, name, text):
    path = os.path.join(t.tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def _check(*files, run=False):
    argv = [_binary()] + ([] if run else ["-t"])
    for f in files:
        argv += ["-c", f]
    r = h.run(argv, timeout=20)
    return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")


GOOD = """listen = ( { address = "127.0.0.1"; port = %d; } );
auth = { required = false; };
allow = ( { hosts = [ "portal.example" ]; ports = [ 443 ]; } );
"""


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_good_file_passes(t):
    path = _write(t, "good.conf", GOOD % _free_port())
    rc, err = _check(path)
    assert rc == 0, err
    assert "configuration OK" in err, err


def test_every_error_with_file_and_line(t):
    path = _write(t, "bad.conf", "\n".join([
        'listen = ( { address = "127.0.0.1"; port = 99999; } );',
        'clients = { allow = [ "10.0.0.0/33" ]; };',
        'allow = ( { hosts = [ "*.*.example" ]; ports = [ 0 ];',
        '            protocol = "tlz"; } );',
        'limits = { header_timeout = -1.0; tunnels = "many"; };',
        'bogus = 1;',
        'auth = { required = false; };', ""]))
    rc, err = _check(path)
    assert rc != 0, err
    want = ["bad.conf:1: listen.port: expected a port number",
            "bad.conf:2: clients.allow: '10.0.0.0/33' is not an address",
            "bad.conf:3: allow.hosts: '*.*.example' is not a host name",
            "bad.conf:3: allow.ports: expected a port number 1..65535",
            "bad.conf:4: allow.protocol: 'tlz' is not tls, ssh or any",
            "bad.conf:5: limits.header_timeout: -1 is out of range",
            "bad.conf:5: limits.tunnels: expected a number",
            "bad.conf:6: unknown setting 'bogus'"]
    for w in want:
        assert any(line.endswith(w) or w in line
                   for line in err.splitlines()), (w, err)
    # all at once, in line order (an editor walks them top to bottom)
    lines = [int(x.split("bad.conf:")[1].split(":")[0])
             for x in err.splitlines() if "bad.conf:" in x]
    assert len(lines) == len(want) and lines == sorted(lines), err


def test_syntax_error_names_line(t):
    path = _write(t, "syntax.conf", GOOD % 3128 + "limits = { ;\n")
    rc, err = _check(path)
    assert rc != 0
    assert "syntax.conf:4: syntax error" in err, err


def test_overlay_error_names_overlay(t):
    base = _write(t, "base.conf", GOOD % 3128)
    over = _write(t, "site.conf", "\n\nlimits = { idle_timeout = 0.0; };\n")
    rc, err = _check(base, over)
    assert rc != 0
    assert "site.conf:3: limits.idle_timeout: 0 is out of range" in err, err
    assert "base.conf" not in err, err


def test_missing_file(t):
    rc, err = _check(os.path.join(t.tmp, "absent.conf"))
    assert rc != 0
    assert "absent.conf: cannot read: No such file or directory" in err, err


def test_auth_required_without_users(t):
    path = _write(t, "noauth.conf", (GOOD % 3128).replace(
        "auth = { required = false; };\n", ""))
    rc, err = _check(path)
    assert rc != 0
    assert "noauth.conf: auth: required is true but there is no " \
        "users_file" in err, err


def test_weak_hash_refused_at_start(t):
    users = _write(t, "users", "alice:$1$abcdefgh$0123456789abcdefghijkl\n")
    port = _free_port()
    path = _write(t, "md5.conf", (GOOD % port).replace(
        "auth = { required = false; };",
        'auth = { users_file = "%s"; };' % users))
    rc, err = _check(path)
    assert rc != 0
    assert "auth.users_file: %s:1: MD5-crypt ($1$) hash refused" % users \
        in err, err
    rc, err = _check(path, run=True)         # the daemon itself
    assert rc != 0, err
    with socket.socket() as s:               # and nothing listens
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_check_refuses_log_in_missing_directory(t):
    """-t refuses what the daemon could not start with: an access log in
    a directory that does not exist; and it names every file it read."""
    missing = os.path.join(t.tmp, "no-such-dir", "access.log")
    base = _write(t, "base.conf", GOOD % _free_port())
    over = _write(t, "over.conf", 'log = { access = "%s"; };\n' % missing)
    rc, err = _check(base, over)
    assert rc == 1, err
    assert "log.access: %s: directory %s: No such file or directory" % (
        missing, os.path.dirname(missing)) in err, err
    over = _write(t, "over2.conf", 'log = { access = "%s"; };\n' %
                  os.path.join(t.tmp, "access.log"))
    rc, err = _check(base, over)
    assert rc == 0, err
    assert "%s + %s: configuration OK" % (base, over) in err, err
    assert not os.path.exists(os.path.join(t.tmp, "access.log"))
