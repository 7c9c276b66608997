#!/bin/sh
#
# geo_selftest.sh: src/geo.c against real .mmdb files.
#
# Builds test databases with mkmmdb.pl (both schemas, IPv4 and IPv6),
# compiles a small driver against src/geo.c with the project's warning
# flags and ASan/UBSan, and checks lookups, the metadata line and the
# errors for missing and damaged files.  Prints "geo: N passed, N failed"
# and exits non-zero when anything failed.
#
# Needs: a C compiler, libmaxminddb-dev, libmaxmind-db-writer-perl.
# CC and GEO_SANITIZE (default "-fsanitize=address,undefined") may be
# set in the environment.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cc=${CC:-gcc}
san=${GEO_SANITIZE--fsanitize=address,undefined -fno-sanitize-recover=all}
warn="-std=gnu11 -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual
    -Wwrite-strings -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
    -Wimplicit-fallthrough -Wvla -Werror"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/geo_selftest.XXXXXX") || exit 1
trap '[ -n "${GEO_KEEP-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

pass=0
fail=0

ok() {
	pass=$((pass + 1))
}

bad() {
	fail=$((fail + 1))
	echo "FAIL: $*" >&2
}

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		ok
	else
		bad "$1: expected \"$2\", got \"$3\""
	fi
}

# check_match NAME EXTENDED-REGEX ACTUAL
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok
	else
		bad "$1: \"$3\" does not match /$2/"
	fi
}

finish() {
	echo "geo: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

# The driver: "drv lookup DB ADDR..." prints "ADDR CC", "ADDR -" (not
# found) or "ADDR error"; "drv describe DB" prints geo_describe's line;
# "drv refs DB" takes and drops extra references around a lookup.  When
# geo_open fails it prints the message and exits 2.
cat > "$tmp/drv.c" <<'EOF'
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo.h"

static int
drv_parse(const char *s, struct in6_addr *a)
{
	struct in_addr	 v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		memset(a, 0, sizeof(*a));
		a->s6_addr[10] = 0xff;
		a->s6_addr[11] = 0xff;
		memcpy(&a->s6_addr[12], &v4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, s, a) == 1 ? 0 : -1;
}

static void
drv_lookup(struct geo_db *db, const char *s)
{
	struct in6_addr	 a;
	char		 cc[3];
	int		 r;

	if (drv_parse(s, &a) == -1) {
		printf("%s badaddr\n", s);
		return;
	}
	memcpy(cc, "??", 3);
	r = geo_country(db, &a, cc);
	printf("%s %s\n", s, r == 1 ? cc : r == 0 ? "-" : "error");
}

int
main(int argc, char *argv[])
{
	struct geo_db	*db;
	char		 buf[256];
	int		 i;

	if (argc < 3)
		return 64;
	/* GEO_LOOKUP="a/b": the configured lookup path (geo.lookup_path) */
	char		*lookup[GEO_LOOKUP_MAX + 1], *env = getenv("GEO_LOOKUP");
	size_t		 n = 0;

	while (env != NULL && n < GEO_LOOKUP_MAX &&
	    (lookup[n] = strsep(&env, "/")) != NULL)
		n++;
	if ((db = geo_open(argv[2], lookup, n, buf, sizeof(buf))) == NULL) {
		printf("%s\n", buf);
		return 2;
	}
	if (strcmp(argv[1], "describe") == 0) {
		geo_describe(db, buf, sizeof(buf));
		printf("%s\n", buf);
	} else if (strcmp(argv[1], "refs") == 0) {
		geo_ref(geo_ref(db));
		geo_unref(db);
		geo_unref(db);
		drv_lookup(db, argc > 3 ? argv[3] : "127.0.0.1");
		geo_describe(db, buf, 8);
		printf("%s\n", buf);
	} else {
		for (i = 3; i < argc; i++)
			drv_lookup(db, argv[i]);
	}
	geo_unref(db);
	return 0;
}
EOF

# shellcheck disable=SC2086
if ! $cc $warn $san -I"$top/src" -o "$tmp/drv" "$top/src/geo.c" \
    "$tmp/drv.c" -lmaxminddb 2> "$tmp/cc.err"; then
	cat "$tmp/cc.err" >&2
	bad "compile driver"
	finish
fi
ok

mk() {
	if ! perl "$here/mkmmdb.pl" "$@" 2> "$tmp/mk.err"; then
		cat "$tmp/mk.err" >&2
		bad "mkmmdb.pl $*"
		finish
	fi
	ok
}

# lookups DB "ADDR EXPECTED" ...: one check per address.
lookups() {
	db=$1
	shift
	for pair in "$@"; do
		addr=${pair% *}
		want=${pair#* }
		got=$("$tmp/drv" lookup "$db" "$addr" 2> "$tmp/drv.err")
		rc=$?
		if [ "$rc" -ne 0 ] || [ -s "$tmp/drv.err" ]; then
			cat "$tmp/drv.err" >&2
			bad "$(basename "$db") $addr: driver exit $rc"
			continue
		fi
		check "$(basename "$db") $addr" "$addr $want" "$got"
	done
}

# open_fails NAME PATH REGEX: geo_open returns NULL, message names PATH.
open_fails() {
	got=$("$tmp/drv" describe "$2" 2> "$tmp/drv.err")
	rc=$?
	if [ "$rc" -ne 2 ] || [ -s "$tmp/drv.err" ]; then
		cat "$tmp/drv.err" >&2
		bad "$1: expected exit 2, got $rc ($got)"
		return
	fi
	check_match "$1 names the path" "^geo: $2: " "$got"
	check_match "$1 cause" "$3" "$got"
}

mm6=$tmp/maxmind6.mmdb
db4=$tmp/dbip4.mmdb
mm4=$tmp/maxmind4.mmdb
db6=$tmp/dbip6.mmdb

mk --schema maxmind --ip-version 6 -o "$mm6" \
    127.0.0.1/32=DE 127.0.0.2/32=RU ::1/128=FR \
    127.0.0.3/32=-,AT 127.0.0.4/32=- 127.0.0.5/32=fr,US \
    127.0.0.6/32=XYZ,CH 127.0.0.7/32=1A,- 2001:db8::/32=NL
mk --schema dbip --ip-version 4 -o "$db4" \
    127.0.0.1/32=DE 127.0.0.2/32=RU 127.0.0.5/32=se 127.0.0.6/32=XYZ \
    127.0.0.7/32=-

printf '127.0.0.0/24\tPL\n127.0.0.2/32 RU CZ\n' > "$tmp/spec.tsv"
mk --schema maxmind --ip-version 4 --spec "$tmp/spec.tsv" -o "$mm4"
printf '{"127.0.0.1/32": "DE", "::1/128": "FR"}\n' > "$tmp/spec.json"
mk --schema dbip --ip-version 6 --spec "$tmp/spec.json" -o "$db6"

# IPv4 (as ::ffff:a.b.c.d) and IPv6 in an IPv6 database, maxmind schema.
lookups "$mm6" "127.0.0.1 DE" "127.0.0.2 RU" "::1 FR" \
    "::ffff:127.0.0.2 RU" "127.0.0.9 -" "10.0.0.1 -" "::2 -" \
    "2001:db8::1 NL" "2001:db9::1 -"
# registered_country when country is absent; lower case made upper;
# malformed country codes skipped for the next field; empty entries.
lookups "$mm6" "127.0.0.3 AT" "127.0.0.4 -" "127.0.0.5 FR" \
    "127.0.0.6 CH" "127.0.0.7 -"
# geo.lookup_path: only the configured path is read, no fallback.
GEO_LOOKUP=registered_country/iso_code lookups "$mm6" "127.0.0.3 AT" \
    "127.0.0.5 US" "127.0.0.4 -"
GEO_LOOKUP=country/iso_code lookups "$mm6" "127.0.0.3 -" "127.0.0.5 FR"
GEO_LOOKUP=country_code lookups "$mm6" "127.0.0.1 -"
unset GEO_LOOKUP	# sh may keep an assignment made for a function

# IPv4-only database, dbip schema; IPv6 addresses are simply unknown.
lookups "$db4" "127.0.0.1 DE" "127.0.0.2 RU" "127.0.0.5 SE" \
    "127.0.0.6 -" "127.0.0.7 -" "127.0.0.9 -" "::1 -" "2001:db8::1 -"

# The other two combinations, built from a TSV and a JSON spec.
lookups "$mm4" "127.0.0.1 PL" "127.0.0.2 RU" "127.0.0.200 PL" \
    "127.0.1.1 -" "::1 -"
lookups "$db6" "127.0.0.1 DE" "::1 FR" "127.0.0.2 -" "::ffff:127.0.0.1 DE"

# The startup line.
re='^type=egressd-test-Country built=[0-9]{4}-[0-9]{2}-[0-9]{2}'
check_match "describe v6" "$re ip_version=6 nodes=[1-9][0-9]*\$" \
    "$("$tmp/drv" describe "$mm6" 2>&1)"
check_match "describe v4" "$re ip_version=4 nodes=[1-9][0-9]*\$" \
    "$("$tmp/drv" describe "$db4" 2>&1)"
today=$(date -u +%Y-%m-%d)
check_match "describe date" " built=$today " \
    "$("$tmp/drv" describe "$db4" 2>&1)"

# References: two extra taken and dropped, the db still usable, and
# describe into a short buffer truncated, not overrun (ASan watches).
check "refs" "127.0.0.1 DE
type=eg" "$("$tmp/drv" refs "$mm6" 127.0.0.1 2>&1)"

# Files that must not open.
open_fails "missing file" "$tmp/nonexistent.mmdb" "No such file"
: > "$tmp/empty.mmdb"
open_fails "empty file" "$tmp/empty.mmdb" "."
size=$(wc -c < "$mm6")
head -c $((size / 2)) "$mm6" > "$tmp/truncated.mmdb"
open_fails "truncated file" "$tmp/truncated.mmdb" "invalid metadata"
printf 'not a database\n' > "$tmp/text.mmdb"
open_fails "text file" "$tmp/text.mmdb" "invalid metadata"
# ip_version 5 in the metadata (the value is a uint16, bytes a1 06).
perl -e '
    local $/;
    open my $f, "<:raw", $ARGV[0] or die "$ARGV[0]: $!\n";
    my $s = <$f>;
    my $i = index($s, "ip_version\xa1\x06");
    die "ip_version not found\n" if $i < 0;
    substr($s, $i + 11, 1) = "\x05";
    binmode STDOUT;
    print $s;' "$mm6" > "$tmp/ipv5.mmdb"
open_fails "ip_version 5" "$tmp/ipv5.mmdb" "(ip_version|metadata)"
mkdir "$tmp/dir.mmdb"
open_fails "directory" "$tmp/dir.mmdb" "."

# The tail (metadata) intact but the search tree cut short: the open or
# the lookup must fail cleanly, never read out of bounds.
tail -c 400 "$mm6" > "$tmp/tail.mmdb"
got=$("$tmp/drv" lookup "$tmp/tail.mmdb" 127.0.0.1 ::1 2> "$tmp/drv.err")
rc=$?
if [ "$rc" -eq 2 ] && [ ! -s "$tmp/drv.err" ]; then
	check_match "metadata only" "^geo: $tmp/tail.mmdb: " "$got"
elif [ "$rc" -eq 0 ] && [ ! -s "$tmp/drv.err" ]; then
	check_match "metadata only" "^127.0.0.1 (error|-)" "$got"
else
	cat "$tmp/drv.err" >&2
	bad "metadata only: driver exit $rc"
fi

# Metadata intact, search tree or data section overwritten: the file
# opens, lookups report an error (-1), nothing reads out of bounds.
nodes=$("$tmp/drv" describe "$mm6" | sed -n 's/.* nodes=\([0-9]*\)$/\1/p')
# spoil FROM BYTE: FROM "tree" or "data" (record_size 24: 6 bytes/node).
spoil() {
	perl -e '
	    my ($file, $what, $nodes, $byte) = @ARGV;
	    local $/;
	    open my $f, "<:raw", $file or die "$file: $!\n";
	    my $s = <$f>;
	    my $tree = $nodes * 6;
	    my $meta = rindex($s, "\xab\xcd\xefMaxMind.com");
	    my ($off, $len) = $what eq "tree" ? (0, $tree) :
		($tree + 16, $meta - $tree - 16);
	    substr($s, $off, $len) = chr(hex $byte) x $len;
	    binmode STDOUT;
	    print $s;' "$mm6" "$1" "$nodes" "$2"
}
spoil tree ff > "$tmp/badtree.mmdb"
lookups "$tmp/badtree.mmdb" "127.0.0.1 error" "::1 error"
spoil data 3f > "$tmp/baddata.mmdb"
lookups "$tmp/baddata.mmdb" "127.0.0.1 error" "127.0.0.3 error"

finish
