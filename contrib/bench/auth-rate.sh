#!/bin/sh
# auth-rate.sh: CONNECT rate with authentication on (cached) against off,
# in the same run, through egressd to a loopback TCP sink.
#
# usage: EGRESSD=build/src/egressd [EGRESSD_PASSWD=...] [ROUNDS=3]
#        [SECS=5] [CONCURRENCY=16] sh contrib/bench/auth-rate.sh
#
# Both modes write the access log.  Rounds alternate off/on so that other
# load on the machine hits both alike; the best round of each mode counts.
# The first authenticated tunnel pays one bcrypt (cost 12) check, every
# later one is served from the success cache.  Not a test: it prints the
# figures and the ratio and asserts nothing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
EGRESSD=${EGRESSD:-$here/../../src/egressd}
EGRESSD_PASSWD=${EGRESSD_PASSWD:-$(dirname "$EGRESSD")/egressd-passwd}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-5}
CONCURRENCY=${CONCURRENCY:-16}
load="python3 $here/connect-load.py"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/egressd-bench.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

freeport() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

printf 'bench-pw\n' | "$EGRESSD_PASSWD" -f "$tmp/users" -m bcrypt bench

sinkport=$(freeport)
$load sink 127.0.0.2 "$sinkport" &
pids="$pids $!"

# conf MODE PORT: write $tmp/MODE.conf
conf() {
	if [ "$1" = on ]; then
		auth="required = true; users_file = \"$tmp/users\";
		    cache_ttl = 300.0;"
	else
		auth="required = false;"
	fi
	cat > "$tmp/$1.conf" <<EOC
listen = ( { address = "127.0.0.1"; port = $2; } );
clients = { allow = [ "127.0.0.0/8" ]; };
auth = { $auth };
allow = ( { addresses = [ "127.0.0.2" ]; ports = [ $sinkport ];
    protocol = "any"; } );
destinations = { allow_internal = [ "127.0.0.2/32" ]; };
limits = { per_ip = { rate = 1000000.0; burst = 1000000;
    tunnels = 100000; }; tunnels = 100000; };
log = { access = "$tmp/$1.access.log"; format = "json"; };
EOC
}

# run MODE: start egressd, load it, print the rate, stop it
run() {
	port=$(freeport)
	conf "$1" "$port"
	"$EGRESSD" -c "$tmp/$1.conf" 2>>"$tmp/$1.stderr" &
	epid=$!
	i=0
	while ! $load load "$port" "127.0.0.2:$sinkport" --seconds 0.2 \
	    --concurrency 1 ${2:+--auth "$2"} >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 50 ] || { echo "egressd did not start" >&2; exit 1; }
		sleep 0.1
	done
	$load load "$port" "127.0.0.2:$sinkport" --seconds "$SECS" \
	    --concurrency "$CONCURRENCY" ${2:+--auth "$2"} |
	    sed -n 's/.*rate=//p'
	kill "$epid"
	wait "$epid" 2>/dev/null || true
}

best_off=0
best_on=0
r=1
while [ $r -le "$ROUNDS" ]; do
	off=$(run off "")
	on=$(run on "bench:bench-pw")
	echo "round $r: auth off $off/s, auth on (cached) $on/s"
	best_off=$(echo "$off $best_off" | awk '{print ($1 > $2) ? $1 : $2}')
	best_on=$(echo "$on $best_on" | awk '{print ($1 > $2) ? $1 : $2}')
	r=$((r + 1))
done
echo "best: auth off $best_off/s, auth on (cached) $best_on/s"
echo "$best_on $best_off" | awk '{ printf "ratio on/off %.3f (cost %.1f%%)\n",
    $1 / $2, 100 * (1 - $1 / $2) }'
