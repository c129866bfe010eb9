#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Install what ha_pair needs from Debian and Debian's source package of the
# Kamailio it is built for, without touching the system's apt configuration
# (private deb-src lists under build/ are used instead).
#
#   deps.sh [5.6]  Debian 12's packaged kamailio (5.6) and its source, in
#                  build/kamailio (headers and flags for the module)
#   deps.sh 6.0    Debian 13's kamailio source package (trixie), checked
#                  against its .dsc, patched as Debian does, its core and the
#                  modules the configs and tests load built and installed
#                  into build/6.0/prefix
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/apt-src.sh
. "$top/scripts/apt-src.sh"
build="$top/build"
target=${1:-5.6}
case "$target" in
5.6 | 6.0) ;;
*)
	echo "deps: unknown Kamailio target '$target' (use 5.6 or 6.0)" >&2
	exit 2
	;;
esac
pkgs=(kamailio kamailio-extra-modules libxml2-dev libxml2-utils check
	sip-tester sipsak pkg-config dpkg-dev build-essential bison flex
	kamailio-lua-modules kamailio-tls-modules openssl
	clang libclang-rt-14-dev valgrind gnuplot-nox
	python3 python3-pytest python3-pytest-timeout nftables iproute2 procps
	debhelper lintian tmux gdb dnsmasq-base python3-dnspython stress-ng)

SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi

# to build Kamailio 6.0 itself: tls (OpenSSL), app_lua (Lua 5.1, as Debian's
# package), kamcmd (readline)
if [ "$target" = 6.0 ]; then
	pkgs+=(libssl-dev liblua5.1-0-dev libreadline-dev)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	echo "deps: installing ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"
fi

# Debian's package starts kamailio as a service where systemd runs; it would
# hold port 5060 and is not what our tests run.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q kamailio 2>/dev/null; then
	echo "deps: note: the system's kamailio service is running and holds its ports"
fi

if [ "$target" = 6.0 ]; then
	exec "$top/scripts/deps-6.0.sh"
fi

ver=$(dpkg-query -W -f='${Version}' kamailio)
upver=${ver%-*}
upver=${upver#*:}
src="$build/kamailio-$upver"
stamp="$build/.kamailio-src-$ver"
if [ ! -f "$stamp" ]; then
	echo "deps: fetching Debian's source of kamailio $ver"
	# deb-src entries for the system's own suite, in a private list
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
	apt_src_setup "$build/apt" "$codename"
	apt-get "${aptopts[@]}" update -qq
	rm -rf "$build/apt/src" "$src"
	mkdir -p "$build/apt/src"
	(cd "$build/apt/src" &&
		apt-get "${aptopts[@]}" source -qq --only-source "kamailio=$ver")
	d=$(find "$build/apt/src" -maxdepth 1 -mindepth 1 -type d -name 'kamailio-*' | head -n 1)
	[ -n "$d" ] || {
		echo "deps: apt-get source gave no kamailio folder" >&2
		exit 1
	}
	mv "$d" "$src"
	rm -rf "$build/apt/src"
	echo "deps: configuring kamailio's build (as Debian's rules do)"
	make -s -C "$src/src" cfg prefix=/usr FLAVOUR=kamailio \
		CC_EXTRA_OPTS=-DVERSION_NODATE >/dev/null
	ln -sfn "kamailio-$upver" "$build/kamailio"
	touch "$stamp"
fi
echo "deps: ok (kamailio $ver, source in build/kamailio)"
