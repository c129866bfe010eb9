#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make test-deb-install: install the package on this host (dpkg -i), start
# Debian's kamailio with the example config it ships and `loadmodule
# "ha_pair.so"` (no mpath: Debian's own module folder), check that ha_pair
# runs, then purge the package and check that nothing it installed is left.
# Refuses to run where an ha_pair.so is in the module folder already (it
# would be overwritten, then removed). Run it under the e2e lock: kamailio
# listens on 127.0.0.1:5060.
#   scripts/test_deb_install.sh DEB MODULES_DIR
set -euo pipefail

deb=$1
moddir=$2
pkg=kamailio-ha-pair-module
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

fail() {
	echo "test-deb-install: FAILED: $*" >&2
	exit 1
}

[ -f "$deb" ] || fail "no package $deb (make deb)"
if [ -e "$moddir/ha_pair.so" ]; then
	echo "test-deb-install: $moddir/ha_pair.so exists already; not touching it." >&2
	echo "(remove it, or the package that owns it: dpkg -S $moddir/ha_pair.so)" >&2
	exit 2
fi
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q installed; then
	echo "test-deb-install: $pkg is installed already; not touching it." >&2
	exit 2
fi

tmp=$(mktemp -d /tmp/ha_pair_deb_install.XXXXXX)
kpid=""
sipp_pid=""
installed=0
cleanup() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && sleep 0.5
	[ -n "$kpid" ] && kill -9 "$kpid" 2>/dev/null
	[ -n "$sipp_pid" ] && kill "$sipp_pid" 2>/dev/null
	if [ "$installed" = 1 ]; then
		echo "test-deb-install: purging $pkg"
		$SUDO dpkg --purge "$pkg" >/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "test-deb-install: installing $deb"
$SUDO dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || {
	cat "$tmp/dpkg.log" >&2
	installed=1
	fail "dpkg -i"
}
installed=1
[ -f "$moddir/ha_pair.so" ] || fail "$moddir/ha_pair.so not installed"
dpkg-query -L "$pkg" >"$tmp/files"

top=$(cd "$(dirname "$0")/.." && pwd)
ex=/usr/share/doc/kamailio/examples/ha_pair
cat >"$tmp/ha_pairs.xml" <<XML
<ha_pairs>
  <pair name="sipserver1" oos-check="1s" oos-force="500ms">
    <primary uri="sip:127.0.0.2:5060"/>
    <backup uri="sip:127.0.0.3:5060"/>
  </pair>
</ha_pairs>
XML
sipp -sf "$top/tests/sipp/peer.xml" -i 127.0.0.2 -p 5060 -nostdin \
	>"$tmp/sipp.log" 2>&1 &
sipp_pid=$!
/usr/sbin/kamailio -f "$ex/kamailio.cfg" -DD -E -e \
	-A "PAIRS_FILE=\"$tmp/ha_pairs.xml\"" -A "CTL_SOCKET=\"unix:$tmp/ctl\"" \
	>"$tmp/kamailio.log" 2>&1 &
kpid=$!
for _ in $(seq 100); do
	[ -S "$tmp/ctl" ] && break
	kill -0 "$kpid" 2>/dev/null || break
	sleep 0.1
done
[ -S "$tmp/ctl" ] || {
	tail -20 "$tmp/kamailio.log" >&2
	fail "kamailio did not start with the installed module"
}
grep -q "loadmodule \"ha_pair.so\"\|HA_PAIR_SO \"ha_pair.so\"" "$ex/kamailio.cfg" ||
	fail "the example config does not load ha_pair.so by its bare name"
sleep 1.5
list=$(kamcmd -s "unix:$tmp/ctl" ha_pair.list)
echo "$list" | grep -q "name: sipserver1" || fail "ha_pair.list: $list"
echo "$list" | grep -q "active: primary" || fail "ha_pair.list: $list"
grep -q "$moddir/ha_pair.so" "/proc/$kpid/maps" ||
	fail "kamailio did not map $moddir/ha_pair.so"
echo "test-deb-install: kamailio runs ha_pair from $moddir/ha_pair.so"
kill "$kpid"
wait "$kpid" 2>/dev/null || true
kpid=""

$SUDO dpkg --purge "$pkg" >/dev/null
installed=0
dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "installed" &&
	fail "$pkg still installed after purge"
left=()
while IFS= read -r f; do
	# folders shared with kamailio itself stay
	if [ -e "$f" ] && ! [ -d "$f" ]; then
		left+=("$f")
	fi
done <"$tmp/files"
for d in "$ex" "/usr/share/doc/$pkg"; do
	[ -e "$d" ] && left+=("$d")
done
((${#left[@]} == 0)) || fail "left behind after purge: ${left[*]}"
echo "test-deb-install: purged; nothing left behind"
echo "test-deb-install: OK"
