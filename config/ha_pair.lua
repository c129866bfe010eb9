-- SPDX-License-Identifier: GPL-2.0-or-later
-- ha_pair.lua - routing with ha_pair in Lua (KEMI), the same logic as
-- kamailio.cfg: requests for the pair go to its active member, dialogs
-- follow it, ha_failover() retries what a failed member left behind.

local FR_INV_MS, FR_MS = 120000, 1000

function ksr_request_route()
	-- the pool's own messages (kamailio-kemi.cfg's WITH_DMQ: pair changes,
	-- dmq's node list and pings); KSR.dmq exists only with dmq loaded
	if KSR.dmq ~= nil and KSR.is_method("KDMQ") then
		KSR.dmq.handle_message()
		return 1
	end
	if KSR.maxfwd.process_maxfwd(10) < 0 then
		KSR.sl.send_reply(483, "Too Many Hops")
		return 1
	end
	if KSR.is_OPTIONS() and KSR.is_myself_ruri()
			and KSR.pv.gete("$rU") == "" then
		KSR.sl.send_reply(200, "OK")
		return 1
	end
	if KSR.siputils.has_totag() > 0 then
		local routed = KSR.rr.loose_route() > 0
		local rc = KSR.ha_pair.ha_route()
		if rc == -2 and not KSR.is_ACK() then
			-- hunting: wait for the member the pair finds (an ACK never
			-- waits: it has no transaction)
			rc = ksr_wait()
			if rc == 0 then return 1 end
		end
		if rc == -2 and not KSR.is_ACK() then
			ksr_reply_503()
		elseif rc == 1 or rc == 2 or routed then
			ksr_relay()
		elseif KSR.is_ACK() then
			if KSR.tm.t_check_trans() > 0 then ksr_relay() end
		else
			KSR.sl.send_reply(404, "Not Here")
		end
		return 1
	end
	if KSR.is_CANCEL() then
		if KSR.tm.t_check_trans() > 0 then ksr_relay() end
		return 1
	end
	KSR.tm.t_check_trans()
	if KSR.is_INVITE() then KSR.rr.record_route() end
	local rc = KSR.ha_pair.ha_route()
	if rc == -2 then
		rc = ksr_wait()
		if rc == 0 then return 1 end
	end
	if rc == 1 or rc == 2 then
		ksr_relay()
	elseif rc == -2 then
		ksr_reply_503()
	elseif rc == -1 then
		KSR.sl.send_reply(404, "Not Here")
	else
		KSR.sl.send_reply(500, "Server Internal Error")
	end
	return 1
end

function ksr_reply_503()
	KSR.hdr.append_to_reply("Retry-After: 5\r\n")
	KSR.sl.send_reply(503, "Service Unavailable")
end

-- The pair has no active member right now: the request waits, suspended
-- (no worker held), until the pair finds one; tm then calls
-- ksr_failure_ha, where ha_failover() sends it there (or answers 503 at
-- the bound). 0: it waits (return at once); 1: $du is set; -2: 503.
function ksr_wait()
	KSR.tm.t_set_fr(FR_INV_MS, FR_MS)
	KSR.tm.t_on_failure("ksr_failure_ha")
	return KSR.ha_pair.ha_wait()
end

function ksr_relay()
	KSR.tm.t_set_fr(FR_INV_MS, FR_MS)
	KSR.tm.t_on_failure("ksr_failure_ha")
	if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
end

-- A branch to a member failed, or a waiting request has its verdict:
-- ha_failover() probes the member and suspends the transaction (0), and
-- tm calls this function again with the verdict: 1, retry on $du; 0, it
-- answered the caller itself (the member's own failure, or 503).
function ksr_failure_ha()
	if KSR.tm.t_is_canceled() > 0 then return 1 end
	if KSR.ha_pair.ha_failover() == 1 then
		KSR.tm.t_on_failure("ksr_failure_ha")
		KSR.tm.t_relay()
	end
	return 1
end

-- event_callback: evname is ha_pair:switchover, ha_pair:down, ha_pair:up
-- or ha_pair:split; $hapair(...) tells the rest
function ksr_ha_pair_event(evname)
	KSR.notice("ha_pair kemi event " .. evname .. ": pair="
		.. KSR.pv.gete("$hapair(name)") .. " " .. KSR.pv.gete("$hapair(old)")
		.. " -> " .. KSR.pv.gete("$hapair(new)") .. " ("
		.. KSR.pv.gete("$hapair(old_uri)") .. " -> "
		.. KSR.pv.gete("$hapair(new_uri)") .. ") reason="
		.. KSR.pv.gete("$hapair(reason)") .. "\n")
	return 1
end
