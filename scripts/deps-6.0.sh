#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Kamailio 6.0 as Debian 13 ships it, built on this machine (called by
# scripts/deps.sh 6.0, after the Debian packages are installed):
#
#  1. Debian 13's source package (kamailio $K60_DEBVER, suite trixie) is
#     fetched with a private deb-src list under build/6.0/apt (the system's
#     apt configuration is not touched). apt checks the files against the
#     signed Sources index; here the .orig and .debian tarballs are checked
#     again against the .dsc (size and SHA-256). dpkg-source -x would
#     refuse: the upstream signature (.orig.tar.gz.asc) is not served by the
#     mirror. So the tarballs are unpacked here and debian/patches/series is
#     applied in order, as dpkg-source does.
#  2. Its core and the modules the example configs, the tests and the
#     benchmarks load (every loadmodule "x.so" in config/, tests/e2e/,
#     tests/bench/, plus those of K60_EXTRA_MODULES) are built with Debian's
#     compile flags (dpkg-buildflags, as debian/rules passes them) and
#     installed into build/6.0/prefix: sbin/kamailio, sbin/kamcmd,
#     lib/kamailio/modules/.
#
# Every step is skipped when its stamp says it is done for this version and
# this module list; a longer module list rebuilds (make picks up the rest).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/apt-src.sh
. "$top/scripts/apt-src.sh"
d60="$top/build/6.0"
K60_DEBVER=${K60_DEBVER:-6.0.1-1+deb13u1}
K60_SUITE=${K60_SUITE:-trixie}
# loaded by no config yet, but part of the product's interface (jsonrpcs:
# the RPC over HTTP/FIFO; dmq: the pool; tmx, sanity, htable, textopsx:
# what an operator's script around ha_pair commonly loads)
K60_EXTRA_MODULES=${K60_EXTRA_MODULES:-jsonrpcs dmq tmx sanity htable textopsx}

upver=${K60_DEBVER%-*}
upver=${upver#*:}
src="$d60/kamailio-$upver"
prefix="$d60/prefix"
apt="$d60/apt"

# the inner makes are Kamailio's: nothing of the calling make (its -s, its
# KAMAILIO=6.0, its -j) leaks into them
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

modules=$(
	{
		grep -hoE '^[[:space:]]*loadmodule[[:space:]]+"[A-Za-z0-9_]+\.so"' \
			"$top"/config/*.cfg "$top"/tests/e2e/*.cfg \
			"$top"/tests/bench/*.cfg 2>/dev/null |
			sed -E 's/.*"([A-Za-z0-9_]+)\.so"/\1/'
		# configs the tests write themselves
		grep -hoE 'loadmodule[[:space:]]+\\?"[A-Za-z0-9_]+\.so' \
			"$top"/tests/e2e/*.py "$top"/tests/bench/*.py 2>/dev/null |
			sed -E 's/.*"([A-Za-z0-9_]+)\.so/\1/'
		printf '%s\n' $K60_EXTRA_MODULES
	} | grep -vx 'ha_pair' | sort -u | tr '\n' ' ' | sed 's/ $//'
)

# ---- 1. the source -------------------------------------------------------
src_stamp="$d60/.src-$K60_DEBVER"
if [ ! -f "$src_stamp" ]; then
	echo "deps 6.0: fetching Debian's source of kamailio $K60_DEBVER ($K60_SUITE)"
	rm -rf "$apt"
	mkdir -p "$apt/src"
	apt_src_setup "$apt" "$K60_SUITE" -o APT::Sandbox::User=root
	apt-get "${aptopts[@]}" update -qq
	# fails on the .asc the mirror does not have; what it did fetch is
	# checked below (a file missing stops there)
	(cd "$apt/src" &&
		apt-get "${aptopts[@]}" source --download-only -qq \
			--only-source "kamailio=$K60_DEBVER" 2>"$apt/source.err") || true
	dsc="$apt/src/kamailio_${K60_DEBVER#*:}.dsc"
	[ -f "$dsc" ] || {
		cat "$apt/source.err" >&2
		echo "deps 6.0: kamailio $K60_DEBVER was not downloaded; the" \
			"$K60_SUITE index has:" \
			$(apt-cache "${aptopts[@]}" showsrc kamailio 2>/dev/null |
				sed -n 's/^Version: //p') >&2
		echo "deps 6.0: pick one with K60_DEBVER=<version>" >&2
		exit 1
	}
	# the .dsc itself against the signed Sources index
	want=$(apt-cache "${aptopts[@]}" showsrc kamailio |
		awk -v v="$K60_DEBVER" '
			/^Version:/ { ok = ($2 == v) }
			/^Checksums-Sha256:/ { s = ok; next }
			/^[^ ]/ { s = 0 }
			s && $3 ~ /\.dsc$/ && !n++ { print $1 }')
	got=$(sha256sum "$dsc" | cut -d' ' -f1)
	if [ -z "$want" ] || [ "$want" != "$got" ]; then
		echo "deps 6.0: $dsc: SHA-256 $got, the Sources index says '$want'" >&2
		exit 1
	fi
	# the tarballs against the .dsc (the .asc is not served)
	tarballs=()
	while read -r sum size name; do
		case "$name" in *.asc) continue ;; esac
		f="$apt/src/$name"
		[ -f "$f" ] || {
			echo "deps 6.0: $name (in the .dsc) was not downloaded" >&2
			exit 1
		}
		if [ "$(stat -c %s "$f")" != "$size" ] ||
			[ "$(sha256sum "$f" | cut -d' ' -f1)" != "$sum" ]; then
			echo "deps 6.0: $name does not match the .dsc (size/SHA-256)" >&2
			exit 1
		fi
		tarballs+=("$name")
	done < <(awk '/^Checksums-Sha256:/ { s = 1; next } /^[^ ]/ { s = 0 }
		s && NF == 3 { print }' "$dsc")
	echo "deps 6.0: checksums ok (${tarballs[*]})"
	orig=$(printf '%s\n' "${tarballs[@]}" | grep '\.orig\.tar\.')
	debian=$(printf '%s\n' "${tarballs[@]}" | grep '\.debian\.tar\.')
	rm -rf "$src" "$apt/unpack"
	mkdir -p "$apt/unpack"
	tar -xf "$apt/src/$orig" -C "$apt/unpack"
	top_dir=$(find "$apt/unpack" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	[ -n "$top_dir" ] || {
		echo "deps 6.0: $orig has no top folder" >&2
		exit 1
	}
	mv "$top_dir" "$src"
	rm -rf "$apt/unpack"
	tar -xf "$apt/src/$debian" -C "$src"
	if [ -f "$src/debian/patches/series" ]; then
		grep -vE '^[[:space:]]*(#|$)' "$src/debian/patches/series" |
			while read -r p _; do
				patch -d "$src" -p1 -s --forward --no-backup-if-mismatch \
					<"$src/debian/patches/$p" || {
					echo "deps 6.0: debian/patches/$p does not apply" >&2
					exit 1
				}
			done
	fi
	ln -sfn "kamailio-$upver" "$d60/kamailio"
	rm -f "$d60"/.src-* "$d60"/.built
	touch "$src_stamp"
fi

# ---- 2. the build ----------------------------------------------------------
cflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS) -DVERSION_NODATE"
ldflags=$(dpkg-buildflags --get LDFLAGS)
want_built="$K60_DEBVER|$modules|$cflags|$ldflags"
if [ "$(cat "$d60/.built" 2>/dev/null)" != "$want_built" ] ||
	[ ! -x "$prefix/sbin/kamailio" ]; then
	echo "deps 6.0: building kamailio $upver into build/6.0/prefix" \
		"(about 90 s; log build/6.0/build.log)"
	echo "deps 6.0: modules: $modules"
	log="$d60/build.log"
	{
		# group_include names no group: only include_modules are built
		make -C "$src/src" cfg FLAVOUR=kamailio prefix="$prefix" \
			group_include=ha_pair_none include_modules="$modules" \
			CC_EXTRA_OPTS="$cflags" LD_EXTRA_OPTS="$ldflags" &&
			make -C "$src/src" -j2 all &&
			make -C "$src/src" install
	} >"$log" 2>&1 || {
		tail -n 40 "$log" >&2
		echo "deps 6.0: the kamailio build failed (log $log)" >&2
		exit 1
	}
	for m in $modules; do
		[ -f "$prefix/lib/kamailio/modules/$m.so" ] || {
			echo "deps 6.0: module $m was not built (log $log)" >&2
			exit 1
		}
	done
	echo "$want_built" >"$d60/.built"
fi
echo "deps: ok (kamailio $K60_DEBVER, source in build/6.0/kamailio," \
	"installed in build/6.0/prefix)"
