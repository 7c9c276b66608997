#!/bin/sh
# geo-cost.sh: CONNECT rate with geo checks on against off, in the same
# run, through egressd to a loopback TCP sink.
#
# usage: EGRESSD=build/src/egressd [ROUNDS=3] [SECS=5] [CONCURRENCY=16]
#        sh contrib/bench/geo-cost.sh
#
# "on" uses a small database built here with tests/e2e/mkmmdb.pl
# (Debian's libmaxmind-db-writer-perl): every session looks up its client
# (127.0.0.1 = DE, allowed) and its destination (a host name from the
# hosts file -> 127.0.0.2 = FR, not denied), so both checks run in full.
# "off" is the same config without geo.  Both write the access log and
# resolve the same name.  Rounds alternate off/on so that other load on
# the machine hits both alike; the best round of each mode counts.  Not
# a test: it prints the figures and the ratio and asserts nothing.
# A real country file is larger (a deeper tree), so pass GEO_DB=FILE to
# measure with one; it must not map 127.0.0.1 to a country outside DE.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/onoff.sh"

if [ -n "${GEO_DB-}" ]; then
	db=$GEO_DB
	# a real file has no loopback: only destinations are looked up
	private='"127.0.0.0/8"'
else
	db=$tmp/bench.mmdb
	perl "$here/../../tests/e2e/mkmmdb.pl" --schema maxmind -o "$db" \
	    127.0.0.1/32=DE 127.0.0.2/32=FR ::1/128=CH 10.0.0.0/8=AT
	private=""
fi
echo "127.0.0.2 sink.bench.example" > "$tmp/hosts"

# conf MODE PORT: write $tmp/MODE.conf
conf() {
	if [ "$1" = on ]; then
		geo="geo = { database = \"$db\"; private_clients = [ $private ];
		    clients = { allow = [ \"DE\", \"AT\" ]; unknown = \"deny\"; };
		    destinations = { deny = [ \"KP\" ]; unknown = \"allow\"; };
		};"
	else
		geo=""
	fi
	cat > "$tmp/$1.conf" <<EOC
listen = ( { address = "127.0.0.1"; port = $2; } );
clients = { allow = [ "127.0.0.0/8" ]; };
auth = { required = false; };
allow = ( { hosts = [ "sink.bench.example" ]; ports = [ $sinkport ];
    protocol = "any"; } );
destinations = { allow_internal = [ "127.0.0.2/32" ]; };
resolver = { hosts_file = "$tmp/hosts"; };
limits = { per_ip = { rate = 1000000.0; burst = 1000000;
    tunnels = 100000; }; tunnels = 100000; };
log = { access = "$tmp/$1.access.log"; format = "json"; };
$geo
EOC
}

rounds "geo off" "geo on" "sink.bench.example:$sinkport"
[ -n "${GEO_DB-}" ] || grep -q '"country_iso_code":"DE"' "$tmp/on.access.log" ||
	echo "warning: no DE client in the geo-on log: lookups not made?" >&2
