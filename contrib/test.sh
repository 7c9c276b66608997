#!/bin/sh
# The whole test suite, on a fresh Debian 12 machine:
#   sh contrib/test.sh
# installs the build dependencies, builds egressd twice (a normal
# -Werror build and an AddressSanitizer + UndefinedBehaviorSanitizer
# build), runs the CUnit suites and the end-to-end scenarios against
# both, the geo self-test, a short libFuzzer run of each parser and
# the style check, and ends with one line
# "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "${EGRESSD_SKIP_DEPS:-0}" = 1 ] || sh contrib/deps-debian.sh || exit 1
[ -x configure ] || autoreconf -fi >/dev/null 2>&1 || exit 1

passed=0
failed=0
count() {	# count "label: N passed, N failed" lines from a log
	line=$(grep -E '^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed' "$1" |
	    tail -n 1)
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	if [ -z "$line" ]; then
		echo "$2: no summary line: counted as 1 failure"
		p=0 f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

build() {	# build DIR [configure args]
	dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q --enable-werror "$@" &&
	    make -s -j2 && make -s -j2 tests/unit/unit) \
	    >"$dir/build.log" 2>&1 || {
		cat "$dir/build.log"
		echo "build ($dir) failed"
		failed=$((failed + 1))
		return 1
	}
}

suite() {	# suite BUILD-DIR LABEL
	dir=$1
	label=$2
	echo "== $label: unit"
	"$dir/tests/unit/unit" >"$dir/unit.log" 2>&1
	grep -E 'FAILED|unit:' "$dir/unit.log"
	count "$dir/unit.log" "$label unit"
	echo "== $label: end to end"
	EGRESSD="$dir/src/egressd" EGRESSD_PASSWD="$dir/src/egressd-passwd" \
	    python3 tests/e2e/run.py >"$dir/e2e.log" 2>&1
	grep -vE '^PASS ' "$dir/e2e.log"
	count "$dir/e2e.log" "$label e2e"
}

mkdir -p build
echo "== style (80 columns, no trailing blanks)"
sh contrib/check-style.sh >build/style.log 2>&1
grep -v '^style:' build/style.log
count build/style.log style

if build build; then
	suite build plain
fi
if [ "${EGRESSD_SKIP_ASAN:-0}" != 1 ] && build build-asan --enable-asan
then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1 suite build-asan asan
fi
echo "== geo self-test"
sh tests/e2e/geo_selftest.sh >build/geo.log 2>&1
tail -n 3 build/geo.log
count build/geo.log geo

echo "== fuzz (libFuzzer, ${FUZZ_SECONDS:-30} s per parser)"
sh contrib/fuzz.sh >build/fuzz.log 2>&1
grep -E '^fuzz_' build/fuzz.log
count build/fuzz.log fuzz

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
