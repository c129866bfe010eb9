#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make deb: the Debian binary package of a module that `make module` built,
# with Debian's own tools (dpkg-buildpackage, debhelper), from a copy of the
# files it needs under build/deb/src, so that debian/rules' clean never
# touches the project's build/ or the module's objects.
#   scripts/mkdeb.sh MODULE KAMAILIO_VERSION MODULES_DIR
# MODULE: the built ha_pair.so; KAMAILIO_VERSION: the exact Debian version of
# the kamailio package it was built against (the package depends on it);
# MODULES_DIR: that kamailio's module folder. Prints the .deb's path last.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
module=$1
kver=$2
moddir=$3
out="$top/build/deb"
src="$out/src"

[ -f "$module" ] || {
	echo "mkdeb: $module is missing (make module)" >&2
	exit 1
}
[ -n "$kver" ] || {
	echo "mkdeb: no kamailio version given (is kamailio installed?)" >&2
	exit 1
}
case $moddir in
/*) ;;
*)
	echo "mkdeb: the module folder must be absolute: $moddir" >&2
	exit 1
	;;
esac
if [ "$(cat "$(dirname "$module")/.flavour" 2>/dev/null)" = "sanitize=1" ]; then
	echo "mkdeb: $module is a sanitizer build (SANITIZE=1): no package of it" >&2
	exit 1
fi

rm -rf "$src"
mkdir -p "$src/prebuilt" "$src/docs/img" "$src/config"
cp -r "$top/debian" "$src/"
cp "$module" "$src/prebuilt/ha_pair.so"
cp "$top/README.md" "$top/LICENSE" "$src/"
cp "$top"/docs/*.md "$src/docs/"
cp "$top"/docs/img/*.png "$src/docs/img/"
cp "$top"/config/*.cfg "$top"/config/*.lua "$top"/config/*.xml \
	"$top"/config/*.xsd "$src/config/"
cp "$top"/config/*.json "$src/config/" 2>/dev/null || true
mkdir -p "$src/config/pool"
cp "$top"/config/pool/*.cfg "$top"/config/pool/*.zone "$src/config/pool/"

# the package's version names the kamailio it is for: one version per core
base=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
kv=${kver#*:}
version="$base+kamailio${kv//-/.}"
sed -i "1s/($base)/($version)/" "$src/debian/changelog"
cat >"$src/debian/ha_pair.mk" <<MK
HA_KAMAILIO_VERSION := $kver
HA_MODULES_DIR := $moddir
MK

rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
(cd "$src" && dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1) || {
	tail -30 "$out/build.log" >&2
	echo "mkdeb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb="$out/kamailio-ha-pair-module_${version}_$arch.deb"
[ -f "$deb" ] || {
	echo "mkdeb: $deb was not made (log: $out/build.log)" >&2
	exit 1
}
echo "$deb"
