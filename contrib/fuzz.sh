#!/bin/sh
# fuzz.sh: build the libFuzzer harnesses of tests/fuzz with clang
# (ASan + UBSan) and run each for FUZZ_SECONDS (default 30) from a seed
# corpus: the raw requests of tests/e2e/cases.tsv for the request parser,
# their Proxy-Authorization values for the Basic decoder, and a real
# ClientHello written by Python's ssl for the ClientHello reader.
#
# usage: [FUZZ_SECONDS=N] [FUZZ_DIR=DIR] sh contrib/fuzz.sh
# A crash, a leak or a broken promise fails that harness and leaves the
# input in FUZZ_DIR/<harness>/crash-*.  Ends with
# "fuzz: N passed, N failed" (harnesses).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${FUZZ_SECONDS:-30}
dir=${FUZZ_DIR:-$top/build/fuzz}
cc=${CLANG:-clang}
mkdir -p "$dir"

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: $cc not found (Debian: clang libclang-rt-14-dev)"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

# Seeds.
python3 - "$dir" <<'PY'
import os, sys, ssl
sys.path.insert(0, "tests/e2e")
import harness as h
d = sys.argv[1]
for sub in ("http", "authbasic", "tlshello"):
    os.makedirs(os.path.join(d, sub, "corpus"), exist_ok=True)
for i, row in enumerate(h.parse_cases(port=443)):
    raw = row["raw"][:4096]
    with open(os.path.join(d, "http", "corpus", "case%03d" % i), "wb") as f:
        f.write(raw)
    for line in raw.split(b"\r\n"):
        if line.lower().startswith(b"proxy-authorization:"):
            with open(os.path.join(d, "authbasic", "corpus",
                                   "case%03d" % i), "wb") as f:
                f.write(line.split(b":", 1)[1].strip())
ctx = ssl.create_default_context()
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname="portal.eu1.edge.siemens.cloud")
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
with open(os.path.join(d, "tlshello", "corpus", "python"), "wb") as f:
    f.write(out.read())
PY

pass=0
fail=0
for h in http authbasic tlshello; do
	case $h in
	http)		srcs="src/http.c src/allowlist.c src/netset.c src/reason.c" ;;
	authbasic)	srcs="src/authbasic.c" ;;
	tlshello)	srcs="src/tlshello.c" ;;
	esac
	bin=$dir/$h/fuzz_$h
	# shellcheck disable=SC2086
	if ! "$cc" -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -Isrc -I"$top/build" \
	    "tests/fuzz/fuzz_$h.c" $srcs -o "$bin" >"$dir/$h/build.log" 2>&1
	then
		cat "$dir/$h/build.log"
		echo "fuzz_$h: build failed"
		fail=$((fail + 1))
		continue
	fi
	if (cd "$dir/$h" && "$bin" -max_total_time="$secs" -max_len=16384 \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus \
	    >run.log 2>&1); then
		echo "fuzz_$h: $(grep -Eo 'stat::number_of_executed_units: [0-9]+' \
		    "$dir/$h/run.log" | sed 's/.*: //') runs in ${secs} s, clean"
		pass=$((pass + 1))
	else
		tail -n 30 "$dir/$h/run.log"
		echo "fuzz_$h: FAILED (input in $dir/$h/crash-*)"
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
