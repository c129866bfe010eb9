# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Sourced by scripts/deps.sh and scripts/deps-6.0.sh: apt-get on a private
# deb-src list of Debian's archive, so that Kamailio's source package of a
# suite can be fetched without touching the system's apt configuration.

# apt_src_setup DIR SUITE [apt option ...]: write a deb-src list for SUITE
# (with its -updates and -security suites) under DIR/sources.list.d, and set
# the array aptopts to the options that make apt-get and apt-cache read that
# list alone, with their index under DIR/lists (plus the extra options).
apt_src_setup() {
	local dir=$1 suite=$2
	shift 2
	mkdir -p "$dir/sources.list.d" "$dir/lists/partial"
	cat >"$dir/sources.list.d/ha_pair-src-$suite.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	# shellcheck disable=SC2034 # for the caller
	aptopts=(-o Dir::Etc::SourceList=/dev/null
		-o "Dir::Etc::SourceParts=$dir/sources.list.d"
		-o "Dir::State::Lists=$dir/lists"
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= "$@")
}
