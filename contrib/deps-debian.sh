#!/bin/sh
# Install the Debian 12 packages egressd needs to build, test and run
# its demo.  Run as root (or through sudo).
set -eu
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential autoconf automake pkg-config \
	libevent-dev libssl-dev libmaxminddb-dev libconfig-dev \
	libcunit1-dev libcrypt-dev clang libclang-rt-14-dev \
	libmaxmind-db-writer-perl mmdb-bin \
	openssl ca-certificates curl python3 netcat-openbsd iproute2 >/dev/null
