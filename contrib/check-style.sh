#!/bin/sh
# check-style.sh: the mechanical rules of the house style over the C
# sources: lines of at most 80 columns with tabs at 8, no trailing white
# space, no "//" comment lines.  Prints each offending line and ends
# with "style: N passed, N failed" (files).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
pass=0
fail=0
for f in src/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c contrib/bench/*.c; do
	[ -f "$f" ] || continue
	bad=$(expand -t 8 "$f" | awk -v f="$f" '
	    length($0) > 80 { printf "%s:%d: %d columns\n", f, NR, length($0) }
	    /[ \t]$/ { printf "%s:%d: trailing white space\n", f, NR }
	    /^[ \t]*\/\// { printf "%s:%d: // comment\n", f, NR }')
	if [ -n "$bad" ]; then
		printf '%s\n' "$bad"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done
echo "style: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
