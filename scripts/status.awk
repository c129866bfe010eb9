# One status line per pair from `kamcmd ha_pair.list`:
#   sipserver1  CHECK  active=primary  primary up 1ms  backup up 0ms  switchovers 0
function flush() {
	if (name != "")
		printf "%-16s %-5s active=%-7s %s%s switchovers %s%s\n", name, state,
			active, m[0], m[1], sw, (held == "1" ? " HELD" : "")
	name = ""; n = 0; m[0] = ""; m[1] = ""
}
/^\t[a-z_]+: / {
	k = $1; sub(/:$/, "", k); v = $2
	if (k == "name") { flush(); name = v }
	else if (k == "state") state = v
	else if (k == "active") active = v
	else if (k == "switchovers") sw = v
	else if (k == "held") held = v
	next
}
/^\t\t\trole: / { role = $2; next }
/^\t\t\tstate: / { mstate = $2; next }
/^\t\t\tlast_rtt_ms: / {
	rtt = ($2 == "-1") ? "-" : $2 "ms"
	m[n++] = sprintf("%s %-4s %-6s ", role, mstate, rtt)
	next
}
END { flush() }
