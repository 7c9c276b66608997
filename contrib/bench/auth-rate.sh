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
. "$here/onoff.sh"

printf 'bench-pw\n' | "$EGRESSD_PASSWD" -f "$tmp/users" -m bcrypt bench

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

rounds "auth off" "auth on (cached)" "127.0.0.2:$sinkport" bench:bench-pw
