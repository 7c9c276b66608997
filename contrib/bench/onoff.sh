# onoff.sh: the shared part of auth-rate.sh and geo-cost.sh, sourced by
# them after they set here=DIR.  Starts a TCP sink on 127.0.0.2 (port in
# $sinkport), keeps everything in $tmp and stops it on exit.  The caller
# defines conf MODE PORT (write $tmp/MODE.conf) and calls rounds.

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

sinkport=$(freeport)
$load sink 127.0.0.2 "$sinkport" &
pids="$pids $!"

# run MODE TARGET [AUTH]: start egressd on $tmp/MODE.conf, load it
# through TARGET, print the rate, stop it
run() {
	port=$(freeport)
	conf "$1" "$port"
	"$EGRESSD" -c "$tmp/$1.conf" 2>>"$tmp/$1.stderr" &
	epid=$!
	i=0
	while ! $load load "$port" "$2" --seconds 0.2 --concurrency 1 \
	    ${3:+--auth "$3"} >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 50 ] || { echo "egressd did not start:" >&2;
		    cat "$tmp/$1.stderr" >&2; exit 1; }
		sleep 0.1
	done
	$load load "$port" "$2" --seconds "$SECS" \
	    --concurrency "$CONCURRENCY" ${3:+--auth "$3"} |
	    sed -n 's/.*rate=//p'
	kill "$epid"
	wait "$epid" 2>/dev/null || true
}

# rounds OFF-LABEL ON-LABEL TARGET [AUTH-ON]: ROUNDS rounds alternating
# off and on (so that other load hits both alike); the best of each
# counts; prints each round, the best and the ratio
rounds() {
	best_off=0
	best_on=0
	r=1
	while [ $r -le "$ROUNDS" ]; do
		off=$(run off "$3")
		on=$(run on "$3" "${4-}")
		echo "round $r: $1 $off/s, $2 $on/s"
		best_off=$(echo "$off $best_off" |
		    awk '{print ($1 > $2) ? $1 : $2}')
		best_on=$(echo "$on $best_on" |
		    awk '{print ($1 > $2) ? $1 : $2}')
		r=$((r + 1))
	done
	echo "best: $1 $best_off/s, $2 $best_on/s"
	echo "$best_on $best_off" | awk '{ printf "ratio on/off %.3f " \
	    "(cost %.1f%%)\n", $1 / $2, 100 * (1 - $1 / $2) }'
}
