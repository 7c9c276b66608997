#!/bin/sh
# Install the Debian 12 packages egressd needs to build, test and run
# its demo.  Run as root (or through sudo).  --list prints the package
# names and installs nothing.
set -eu
pkgs="build-essential autoconf automake pkg-config
	libevent-dev libssl-dev libmaxminddb-dev libconfig-dev
	libcunit1-dev libcrypt-dev clang libclang-rt-14-dev
	libmaxmind-db-writer-perl mmdb-bin
	openssl ca-certificates curl python3 netcat-openbsd iproute2"
if [ "${1-}" = --list ]; then
	echo $pkgs
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
