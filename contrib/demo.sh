#!/bin/sh
# The main job, end to end, on a fresh Debian 12 machine (as root, or a
# user with sudo):
#   sh contrib/demo.sh
# Installs the build dependencies, builds egressd, makes a throw-away
# test CA and a TLS server on 127.0.0.2:443 that answers for
# portal.eu1.edge.siemens.cloud, starts egressd on the shipped
# etc/egressd.conf plus a small overlay (a hosts override that maps the
# hub name to 127.0.0.2, that one loopback destination permitted, a
# demo user, a loopback listener), then sends real traffic through it:
#   1. curl to https://portal.eu1.edge.siemens.cloud/ through egressd,
#      with the demo user; the TLS session is verified against the test
#      CA, so it proves the tunnel reached the hub;
#   2. curl to https://evil.example/ (not on the allowlist): 403;
#   3. curl with a wrong password: 407.
# Prints the access-log records and stops everything it started.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "$(id -u)" -ne 0 ]; then
	exec sudo sh "$0" "$@"	# port 443 on 127.0.0.2 needs root
fi
[ "${EGRESSD_SKIP_DEPS:-0}" = 1 ] || sh contrib/deps-debian.sh

echo "== build"
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
mkdir -p build
(cd build && "$top/configure" -q --enable-werror && make -s -j2) >/dev/null
bin=$top/build/src

tmp=$(mktemp -d /tmp/egressd-demo.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

echo "== test CA and hub certificate (throw-away, in $tmp)"
hub=portal.eu1.edge.siemens.cloud
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=egressd demo CA" \
    -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=$hub" \
    -keyout "$tmp/hub.key" -out "$tmp/hub.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s\n' "$hub" > "$tmp/ext"
openssl x509 -req -in "$tmp/hub.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
    -CAcreateserial -days 1 -extfile "$tmp/ext" -out "$tmp/hub.pem" 2>/dev/null

echo "== hub: openssl s_server on 127.0.0.2:443"
openssl s_server -quiet -accept 127.0.0.2:443 -www \
    -cert "$tmp/hub.pem" -key "$tmp/hub.key" >"$tmp/hub.log" 2>&1 &
pids="$pids $!"

echo "== demo user iem-line1 (bcrypt hash made by egressd-passwd)"
printf 'demo-password\n' | "$bin/egressd-passwd" -f "$tmp/users" iem-line1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '127.0.0.2 %s\n' "$hub" > "$tmp/hosts"
cat > "$tmp/overlay.conf" <<OVERLAY
# Demo overlay: each group here replaces the shipped file's group.
listen = ( { address = "127.0.0.1"; port = $port; } );
clients = { allow = [ "127.0.0.1/32" ]; };
auth = { users_file = "$tmp/users"; realm = "egressd demo"; };
destinations = { allow_internal = [ "127.0.0.2/32" ]; };
resolver = { hosts_file = "$tmp/hosts"; timeout = 5.0; };
log = { access = "$tmp/access.log"; format = "json"; };
OVERLAY
"$bin/egressd" -t -c etc/egressd.conf -c "$tmp/overlay.conf"

echo "== egressd on 127.0.0.1:$port (etc/egressd.conf + overlay)"
"$bin/egressd" -c etc/egressd.conf -c "$tmp/overlay.conf" \
    2>"$tmp/egressd.log" &
pids="$pids $!"
hexport=$(printf '%04X' "$port")
i=0
# ready when the port listens (read from /proc: a probe connection would
# be a session of its own in the access log)
until grep -q ":$hexport 00000000:0000 0A" /proc/net/tcp; do
	i=$((i + 1)); [ $i -lt 50 ] || { cat "$tmp/egressd.log"; exit 1; }
	sleep 0.1
done

rc=0
echo
echo "== 1. allowed: https://$hub/ through egressd (TLS verified by the test CA)"
if curl -sS --max-time 10 --proxy "http://127.0.0.1:$port" \
    --proxy-user iem-line1:demo-password --cacert "$tmp/ca.pem" \
    -o "$tmp/page" -w 'HTTP %{http_code} from the hub, proxy answered %{http_connect}\n' \
    "https://$hub/"; then
	echo "   tunnel OK: $(grep -c . "$tmp/page") lines of s_server status page"
else
	echo "   FAILED"; rc=1
fi
echo "== 2. denied: https://evil.example/ (not on the allowlist)"
code=$(curl -s --max-time 10 --proxy "http://127.0.0.1:$port" \
    --proxy-user iem-line1:demo-password -o /dev/null \
    -w '%{http_connect}' https://evil.example/ || true)
echo "   proxy answered $code"
[ "$code" = 403 ] || rc=1
echo "== 3. wrong password"
code=$(curl -s --max-time 10 --proxy "http://127.0.0.1:$port" \
    --proxy-user iem-line1:wrong -o /dev/null -w '%{http_connect}' \
    "https://$hub/" || true)
echo "   proxy answered $code"
[ "$code" = 407 ] || rc=1

sleep 0.5
echo
echo "== access log ($tmp/access.log), one JSON record per session:"
cat "$tmp/access.log"
echo
echo "== egressd's own log:"
cat "$tmp/egressd.log"
if [ $rc -eq 0 ]; then
	echo "demo: all three answers as expected"
else
	echo "demo: FAILED"
fi
exit $rc
