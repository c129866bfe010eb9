# SPDX-License-Identifier: GPL-2.0-or-later
# One status line per pair from `kamcmd ha_pair.list`:
#   sipserver1       CHECK active=primary primary up   1ms    backup up   0ms    switchovers 0
# A member whose last probe ended longer ago than oos_check + oos_force (a
# standby not probed) shows as "unknown" with that age, e.g. "unknown(12s)".
# With -v key=1 the round-trip times and ages are left out, and a member shows
# what its last probe found however old: the line then changes only when the
# pair does (state, active member, a member up or down, a switchover).
# With -v table=1: a table with a header (scripts/ha_status).
BEGIN { n = 0 }
function flush() {
	if (name == "")
		return
	if (table) {
		if (!hdr++)
			printf "%-20s %-5s %-7s %-22s %-22s %5s %-8s %s\n", "PAIR",
				"STATE", "ACTIVE", "PRIMARY", "BACKUP", "SWITCH", "HELD",
				"LAST SWITCHOVER"
		printf "%-20s %-5s %-7s %-22s %-22s %5s %-8s %s\n", name, state,
			active, t[0], t[1], sw, (held == "1" ? "held" : "-"),
			reason (ago == "" || ago == "-1" ? "" : sprintf(" %.1fs ago", ago / 1000))
	} else {
		printf "%-16s %-5s active=%-7s %s%s switchovers %s%s\n", name, state,
			active, m[0], m[1], sw, (held == "1" ? " HELD" : "")
	}
	name = ""; n = 0; m[0] = ""; m[1] = ""; t[0] = ""; t[1] = ""
	reason = ""; ago = ""
}
/^\t[a-z_]+: / {
	k = $1; sub(/:$/, "", k); v = $2
	if (k == "name") { flush(); name = v }
	else if (k == "state") state = v
	else if (k == "active") active = v
	else if (k == "switchovers") sw = v
	else if (k == "held") held = v
	else if (k == "last_switchover_reason") reason = v
	else if (k == "last_switchover_ago_ms") ago = v
	next
}
/^\t\t\trole: / { role = $2; next }
/^\t\t\turi: / { uri = $2; next }
/^\t\t\tstate: / { mstate = $2; next }
/^\t\t\tlast_result: / { mresult = $2; next }
/^\t\t\tlast_probe_ago_ms: / { mago = $2; next }
/^\t\t\tlast_rtt_ms: / {
	rtt = ($2 == "-1") ? "-" : $2 "ms"
	shown = mstate
	if (mstate == "unknown" && mago != "" && mago >= 0)
		shown = sprintf("unknown(%ds)", mago / 1000)
	if (key)
		m[n] = sprintf("%s %-4s ", role, mresult != "" ? mresult : mstate)
	else
		m[n] = sprintf("%s %-4s %-6s ", role, shown, rtt)
	t[n] = sprintf("%s %s", shown, rtt)
	mresult = ""; mago = ""
	n++
	next
}
END { flush() }
