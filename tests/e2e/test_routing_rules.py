# SPDX-License-Identifier: GPL-2.0-or-later
"""The behaviours of the routing (docs/ha_pair.md, ha_route()) (issue 12, item 11): the pair chosen from
$du, ha_route() returning -3, KSR.ha_pair.ha_route_pair() in Lua, and the
passive rule for a source address shared by several pairs."""

from conftest import TOP, Kamailio, Peer, pairs_xml, send_request
from faults import sip_request

KEMI_CFG = TOP / "config" / "kamailio-kemi.cfg"
CLIENT = ("127.0.0.10", 5090)
OOS = {"oos-check": "1s", "oos-force": "500ms"}
PAIRS = pairs_xml([("alpha", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060", OOS),
                   ("beta", "sip:127.0.0.4:5060", "sip:127.0.0.6:5060", OOS)])


def peers(procs, logdir, ips=("127.0.0.2", "127.0.0.3", "127.0.0.4",
                              "127.0.0.6")):
    return {ip: Peer(procs, logdir, ip, ip) for ip in ips}


def up(kam, *names):
    return all(m["state"] == "up" for n in names
               for m in kam.show(n)["members"][:1])


def test_pair_chosen_from_du(procs, logdir):
    """An in-dialog request without the pair tag, whose R-URI is no
    member's, but whose next hop after loose_route() ($du, from its Route
    set) is beta's primary: ha_route() finds beta from $du and sends it to
    beta's active member now, the backup (without the rule, -1, and the
    script would relay it to the old $du, the primary)."""
    p = peers(procs, logdir)
    kam = Kamailio(procs, logdir, PAIRS)
    assert kam.wait(lambda: up(kam, "alpha", "beta"), 3) is not None
    kam.rpc("ha_pair.switchover", "beta", "backup")
    routed = kam.stat("requests_routed")
    req = ("MESSAGE sip:bob@127.0.0.9:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.10:5091;branch=z9hG4bK-du1;rport\r\n"
           "Route: <sip:127.0.0.1:5060;lr>\r\n"
           "Route: <sip:127.0.0.4:5060;lr>\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:alice@127.0.0.10:5091>;tag=a1\r\n"
           "To: <sip:bob@127.0.0.9:5060>;tag=b1\r\n"
           "Call-ID: du1@127.0.0.10\r\n"
           "CSeq: 2 MESSAGE\r\n"
           "Content-Length: 0\r\n\r\n")
    assert sip_request(req, ("127.0.0.10", 5091)) == 200
    assert p["127.0.0.6"].received("MESSAGE sip:bob@127.0.0.9") == 1
    assert p["127.0.0.4"].received("MESSAGE sip:bob@127.0.0.9") == 0
    assert kam.stat("requests_routed") == routed + 1


def test_ha_route_returns_minus_3(procs, logdir):
    """ha_route($hdr(X-Pair)): a pair name that comes out empty (the
    header is there, with no value) is an internal error, -3 (the example
    config answers 500), not "no pair" (-1, 404); a known name routes
    (1)."""
    p = peers(procs, logdir, ("127.0.0.2", "127.0.0.3"))
    kam = Kamailio(procs, logdir, PAIRS,
                   defines={"ROUTE_TO_PAIR": '"$hdr(X-Pair)"'})
    assert kam.wait(lambda: up(kam, "alpha"), 3) is not None
    assert send_request(procs, logdir, *CLIENT, user="e1",
                        headers=["X-Pair:"]) == 500
    assert "ha_route_pair: empty pair name" in kam.log_text()
    assert send_request(procs, logdir, *CLIENT, user="e2",
                        headers=["X-Pair: gamma"]) == 404
    assert send_request(procs, logdir, *CLIENT, user="e3",
                        headers=["X-Pair: alpha"]) == 200
    assert p["127.0.0.2"].received("MESSAGE sip:e3@") == 1
    assert p["127.0.0.2"].received("MESSAGE sip:e1@") == 0


LUA = """-- SPDX-License-Identifier: GPL-2.0-or-later
-- the pair named by the X-Pair header, by KSR.ha_pair.ha_route_pair()
function ksr_request_route()
	local rc = KSR.ha_pair.ha_route_pair(KSR.pv.gete("$hdr(X-Pair)"))
	KSR.notice("ha_route_pair rc=" .. rc .. "\\n")
	if rc == 1 or rc == 2 then
		if KSR.tm.t_relay() < 0 then KSR.sl.sl_reply_error() end
	elseif rc == -1 then
		KSR.sl.send_reply(404, "Not Here")
	elseif rc == -2 then
		KSR.sl.send_reply(503, "Service Unavailable")
	else
		KSR.sl.send_reply(500, "Server Internal Error")
	end
	return 1
end

function ksr_ha_pair_event(evname)
	return 1
end
"""


def test_kemi_ha_route_pair(procs, logdir):
    """KSR.ha_pair.ha_route_pair(name) in Lua: the named pair's active
    member, following a switchover (1); an unknown name -1; an empty name
    -3; no active member -2."""
    p = peers(procs, logdir)
    lua = logdir / "route_pair.lua"
    lua.write_text(LUA)
    kam = Kamailio(procs, logdir, PAIRS, cfg=KEMI_CFG,
                   defines={"LUA_SCRIPT": f'"{lua}"'})
    assert kam.wait(lambda: up(kam, "alpha", "beta"), 3) is not None
    assert send_request(procs, logdir, *CLIENT, user="k1",
                        headers=["X-Pair: beta"]) == 200
    assert p["127.0.0.4"].received("MESSAGE sip:k1@") == 1
    kam.rpc("ha_pair.switchover", "beta", "backup")
    assert send_request(procs, logdir, *CLIENT, user="k2",
                        headers=["X-Pair: beta"]) == 200
    assert p["127.0.0.6"].received("MESSAGE sip:k2@") == 1
    assert send_request(procs, logdir, *CLIENT, user="k3",
                        headers=["X-Pair: gamma"]) == 404
    assert send_request(procs, logdir, *CLIENT, user="k4") == 500
    # alpha with no member answering: -2
    p["127.0.0.2"].kill()
    p["127.0.0.3"].kill()
    assert kam.wait(lambda: kam.show("alpha")["state"] == "FORCE", 4) is not None
    assert send_request(procs, logdir, *CLIENT, user="k5",
                        headers=["X-Pair: alpha"]) == 503
    rcs = [line.rsplit("=", 1)[1] for line in kam.log_text().splitlines()
           if "ha_route_pair rc=" in line]
    assert rcs == ["1", "1", "-1", "-3", "-2"], rcs


# 127.0.0.3 is the backup of both
SHARED = pairs_xml([("alpha", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060", OOS),
                    ("beta", "sip:127.0.0.4:5060", "sip:127.0.0.3:5060", OOS)])
FAR = "127.0.0.5:5060"


def test_passive_rule_for_a_shared_source_address(procs, logdir):
    """127.0.0.3:5060 is the standby of both pairs. A request from it
    (member_trust any: the trigger itself) moves no pair: the address maps
    to two. With a pair tag naming alpha (a Route preloaded by the member,
    ;hapair=alpha) it moves alpha, and only alpha."""
    p = peers(procs, logdir, ("127.0.0.2", "127.0.0.4", "127.0.0.5"))
    kam = Kamailio(procs, logdir, SHARED, defines={"MEMBER_TRUST": '"any"'})
    assert kam.wait(lambda: up(kam, "alpha", "beta"), 3) is not None

    assert send_request(procs, logdir, "127.0.0.3", 5060, user="s1",
                        ruri_host=FAR) == 200
    assert p["127.0.0.5"].received("MESSAGE sip:s1@") == 1
    for n in ("alpha", "beta"):
        s = kam.show(n)
        assert (s["active"], s["switchovers"]) == ("primary", "0"), s

    assert send_request(procs, logdir, "127.0.0.3", 5060, user="s2",
                        ruri_host=FAR, headers=[
                            "Route: <sip:127.0.0.1:5060;lr;hapair=alpha>"]) \
        == 200
    assert p["127.0.0.5"].received("MESSAGE sip:s2@") == 1
    a, b = kam.show("alpha"), kam.show("beta")
    assert (a["active"], a["last_switchover_reason"]) == ("backup",
                                                          "passive"), a
    assert (b["active"], b["switchovers"]) == ("primary", "0"), b
