# SPDX-License-Identifier: GPL-2.0-or-later
"""KEMI: the routing in Lua (config/ha_pair.lua), events through
event_callback with the specification's event names."""

import re

from conftest import TOP, Kamailio, Peer, bad_member, pairs_xml, send_request
from tlskit import TlsMember, tls_cfg

KEMI_CFG = TOP / "config" / "kamailio-kemi.cfg"
LUA = TOP / "config" / "ha_pair.lua"
PRI, BAK = "sip:127.0.0.2:5060", "sip:127.0.0.3:5060"
EV_PAIRS = pairs_xml([("sipserver1", PRI, BAK, {
    "oos-check": "1s", "oos-force": "500ms"})])


def kemi_events(kam):
    return re.findall(r"ha_pair kemi event (.*)", kam.log_text())


def test_lua_routing_and_event_callback(procs, logdir):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, pairs_xml([("sipserver1", PRI, BAK, {
        "oos-check": "1s", "oos-force": "500ms"})]), cfg=KEMI_CFG,
        defines={"LUA_SCRIPT": f'"{LUA}"'})
    assert kam.wait(lambda: len(kemi_events(kam)) == 1, 3) is not None
    assert kemi_events(kam)[0] == (f"ha_pair:switchover: pair=sipserver1 "
                                   f"none -> primary ( -> {PRI}) reason=start")
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="l1") == 200
    assert pri.received("MESSAGE sip:l1@") == 1
    pri.freeze()
    assert kam.wait(lambda: len(kemi_events(kam)) == 2, 4) is not None
    assert kemi_events(kam)[1] == (
        f"ha_pair:switchover: pair=sipserver1 primary -> backup "
        f"({PRI} -> {BAK}) reason=probe")
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="l2") == 200
    assert bak.received("MESSAGE sip:l2@") == 1


def test_lua_with_tls_and_member_trust(procs, logdir, pki):
    """The KEMI config's switches as the native one's: WITH_TLS (members
    over TLS, probed and routed to) and MEMBER_TRUST (here "transport": a
    UDP request from the backup's address is anyone's, while "any" or
    "confirm" would let it move the pair, the backup being up)."""
    pri_uri, bak_uri = (f"sip:127.0.0.{i}:5061;transport=tls" for i in (2, 3))
    pri = TlsMember(procs, logdir, "primary", "127.0.0.2", pki["primary"])
    TlsMember(procs, logdir, "backup", "127.0.0.3", pki["backup"])
    cfg = tls_cfg(logdir / "tls-proxy.cfg", *pki["proxy"], ca=pki["ca"])
    kam = Kamailio(procs, logdir, pairs_xml([("tlspair", pri_uri, bak_uri, {
        "oos-check": "1s", "oos-force": "500ms"})]), cfg=KEMI_CFG,
        defines={"LUA_SCRIPT": f'"{LUA}"', "WITH_TLS": None,
                 "TLS_CFG": f'"{cfg}"', "LISTEN_TLS": "tls:127.0.0.1:5061",
                 "MEMBER_TRUST": '"transport"'})
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("tlspair")["members"]), 5) \
        is not None, \
        kam.show("tlspair")
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="t1") == 200
    assert pri.received("MESSAGE sip:t1@") == 1
    # from the backup's address and port, over UDP
    assert send_request(procs, logdir, "127.0.0.3", 5061, user="t2",
                        ruri_host="127.0.0.5:5060") == 200
    assert pri.received("MESSAGE sip:t2@") == 1
    p = kam.show("tlspair")
    assert (p["active"], p["switchovers"]) == ("primary", "0"), p


def test_lua_member_failure_stands(procs, logdir, uacs):
    """Under KEMI, a member's 503 is a reason to probe it: the transaction
    waits suspended and tm continues it with t_continue_cb() into
    ksr_failure_ha, where ha_failover() answers the member's own failure
    (status, reason, Retry-After); the pair does not move."""
    bad_member(procs, logdir)
    kam = Kamailio(procs, logdir, EV_PAIRS, cfg=KEMI_CFG,
                   defines={"LUA_SCRIPT": f'"{LUA}"'})
    assert kam.wait(lambda: [m["state"] for m in
                             kam.show("sipserver1")["members"]]
                    == ["up", "down"], 3) is not None
    u = uacs("127.0.0.11")
    u.request("MESSAGE", "kemi503", headers=["X-Test: 503"])
    code, text, _ = u.final("kemi503", "MESSAGE", 5)
    assert code == 503, text
    assert text.startswith("SIP/2.0 503 Member Busy\r\n"), text
    assert re.search(r"^Retry-After: 7\r?$", text, re.M), text
    st = kam.stats()
    # it waited for a verdict and was continued, not answered by the bound
    assert (st["waited"], st["wait_timeouts"], st["waiting"]) == (1, 0, 0), st
    assert st["verify_alive"] >= 1, st
    p = kam.show("sipserver1")
    assert (p["state"], p["active"], p["switchovers"]) == (
        "CHECK", "primary", "0"), p


def test_lua_request_waits_during_hunt(procs, logdir, uacs):
    """Under KEMI, a request arriving while the pair hunts waits (ha_wait()
    in ksr_wait) and is delivered to the member the hunt finds."""
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    bak.freeze()
    kam = Kamailio(procs, logdir, pairs_xml([("sipserver1", PRI, BAK, {
        "oos-check": "1s", "oos-force": "500ms"})]), cfg=KEMI_CFG,
        defines={"LUA_SCRIPT": f'"{LUA}"', "MAX_WAIT": "4000"})
    assert kam.wait(lambda: kam.show("sipserver1")["active"] == "primary",
                    3) is not None
    pri.freeze()
    assert kam.wait(lambda: kam.show("sipserver1")["state"] == "FORCE",
                    4) is not None, kam.show("sipserver1")
    u = uacs("127.0.0.11")
    u.request("MESSAGE", "kemiwait", ruri="sip:w1@127.0.0.1:5060")
    assert kam.wait(lambda: kam.stats()["waiting"] == 1, 1) is not None, \
        kam.stats()
    bak.resume()
    code, text, t1 = u.final("kemiwait", "MESSAGE", 5)
    assert code == 200, text
    assert bak.received("MESSAGE sip:w1@") == 1
    assert pri.received("MESSAGE sip:w1@") == 0
    st = kam.stats()
    assert (st["waited"], st["wait_timeouts"], st["waiting"]) == (1, 0, 0), st
    p = kam.show("sipserver1")
    assert (p["state"], p["active"]) == ("CHECK", "backup"), p
