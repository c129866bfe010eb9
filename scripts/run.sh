#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make run: kamailio with ha_pair on 127.0.0.1:5060 in front of a
# simulated pair (sipp) on 127.0.0.2:5060 (primary) and 127.0.0.3:5060
# (backup). Ctrl-C stops all of it. The kamailio, kamcmd and ha_pair.so are
# those of `make env` (make run passes them; KAMAILIO=6.0 picks 6.0's).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${KAMAILIO_BIN:-}" ] || [ -z "${KAMCMD:-}" ] || [ -z "${HA_PAIR_SO:-}" ]; then
	envs=$(make -s --no-print-directory -C "$top" env KAMAILIO="${HA_KAMAILIO:-5.6}") || exit 1
	eval "$envs"
fi
rundir="$top/run"
mkdir -p "$rundir"
ctl="unix:$rundir/kamailio_ctl"
pids=()

port_busy() { # ip port
	ss -Hlnu "src $1:$2" 2>/dev/null | grep -q . ||
		ss -Hlnu "src 0.0.0.0:$2" 2>/dev/null | grep -q .
}

for ip in 127.0.0.1 127.0.0.2 127.0.0.3; do
	if port_busy "$ip" 5060; then
		echo "make run: UDP port $ip:5060 is already taken by:" >&2
		ss -Hlnup "sport = :5060" >&2
		echo "Stop that program first (a kamailio service: systemctl stop kamailio)." >&2
		exit 1
	fi
done

stop() {
	trap - INT TERM EXIT
	echo
	echo "stopping (pids ${pids[*]})"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	exit 0
}
trap stop INT TERM EXIT

for m in primary:127.0.0.2 backup:127.0.0.3; do
	role=${m%%:*}
	ip=${m#*:}
	(cd "$rundir" && exec sipp -sf "$top/tests/sipp/peer.xml" -i "$ip" -p 5060 \
		-nostdin -trace_err -error_file "$rundir/sipp-$role.err" \
		>"$rundir/sipp-$role.log" 2>&1) &
	pids+=($!)
	echo "simulated $role: sipp on $ip:5060 (pid $!)"
done

sed -e 's/oos-check="[^"]*"/oos-check="1s"/' "$top/config/ha_pairs.xml" >"$rundir/ha_pairs.xml"
"$KAMAILIO_BIN" -f "$top/config/kamailio.cfg" -DD -E -e \
	-A "HA_PAIR_SO=\"$HA_PAIR_SO\"" \
	-A "PAIRS_FILE=\"$rundir/ha_pairs.xml\"" \
	-A "CTL_SOCKET=\"$ctl\"" -A OOS_CHECK=1000 -A OOS_FORCE=500 \
	>"$rundir/kamailio.log" 2>&1 &
kpid=$!
pids+=($kpid)
echo "$("$KAMAILIO_BIN" -v | head -n 1) ($KAMAILIO_BIN) with ha_pair on 127.0.0.1:5060"
echo "  pid $kpid, module $HA_PAIR_SO, log: run/kamailio.log"

for _ in $(seq 50); do
	[ -S "$rundir/kamailio_ctl" ] && break
	if ! kill -0 "$kpid" 2>/dev/null; then
		echo "kamailio did not start; the end of its log:" >&2
		tail -20 "$rundir/kamailio.log" >&2
		exit 1
	fi
	sleep 0.1
done
sleep 1.5
echo
echo "== $KAMCMD -s $ctl ha_pair.list"
"$KAMCMD" -s "$ctl" ha_pair.list
cat <<EOF

Live status below, one line per pair, redrawn in place; a line of history
above it whenever a pair changes. From another terminal:
  $KAMCMD -s $ctl ha_pair.list
  scripts/ha_status -s $ctl        # every pair as a table
  sipsak -s sip:alice@127.0.0.1:5060 -vv         # a request through the proxy
  kill -STOP ${pids[0]}                          # freeze the primary: watch the switch
  kill -CONT ${pids[0]}                          # resume it: traffic stays on the backup
Ctrl-C here stops everything.
EOF
echo
# On a terminal the status block (one line per pair) is redrawn in place and
# history lines are printed above it; otherwise only the history is printed.
tty=0
[ -t 1 ] && tty=1
lines=0
declare -A last=()
sipp_names=(primary backup)
sipp_gone=()
redraw_up() { # move to the top of the status block, clear to the end
	if [ "$tty" = 1 ] && [ "$lines" -gt 0 ]; then
		printf '\033[%dA\033[J' "$lines"
		lines=0
	fi
}
history() { # one line above the status block
	redraw_up
	printf '%s  %s\n' "$(date +%T)" "$1"
}
while kill -0 "$kpid" 2>/dev/null; do
	for i in 0 1; do
		if [ -z "${sipp_gone[$i]:-}" ] && ! kill -0 "${pids[$i]}" 2>/dev/null; then
			sipp_gone[i]=1
			history "simulated ${sipp_names[$i]} (sipp, pid ${pids[$i]}) has exited: it answers nothing now, so the proxy will see it down (its log: run/sipp-${sipp_names[$i]}.log)"
		fi
	done
	list=$("$KAMCMD" -s "$ctl" ha_pair.list 2>/dev/null)
	status=$(awk -f "$top/scripts/status.awk" <<<"$list")
	keys=$(awk -v key=1 -f "$top/scripts/status.awk" <<<"$list")
	while IFS= read -r k; do
		[ -n "$k" ] || continue
		name=${k%% *}
		if [ "${last[$name]:-}" != "$k" ]; then
			last[$name]=$k
			history "$(sed 's/  */ /g' <<<"$k")"
		fi
	done <<<"$keys"
	if [ "$tty" = 1 ]; then
		redraw_up
		while IFS= read -r l; do
			printf '%s  %s\033[K\n' "$(date +%T)" "$l"
			lines=$((lines + 1))
		done <<<"$status"
	fi
	sleep 1
done
redraw_up
echo "kamailio stopped; see run/kamailio.log"
