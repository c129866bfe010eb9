"""KEMI: the routing in Lua (config/ha_pair.lua), events through
event_callback with the specification's event names."""

import re

from conftest import TOP, Kamailio, Peer, pairs_xml, send_request

KEMI_CFG = TOP / "config" / "kamailio-kemi.cfg"
LUA = TOP / "config" / "ha_pair.lua"
PRI, BAK = "sip:127.0.0.2:5060", "sip:127.0.0.3:5060"


def kemi_events(kam):
    return re.findall(r"ha_pair kemi event (.*)", kam.log_text())


def test_lua_routing_and_event_callback(procs, logdir):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, pairs_xml([("sipserver1", PRI, BAK, {
        "oos-check": "1s", "oos-force": "500ms"})]), cfg=KEMI_CFG,
        defines={"LUA_SCRIPT": f'"{LUA}"'})
    assert kam.wait(lambda: len(kemi_events(kam)) == 1, 3)
    assert kemi_events(kam)[0] == (f"ha_pair:switchover: pair=sipserver1 "
                                   f"none -> primary ( -> {PRI}) reason=start")
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="l1") == 200
    assert pri.received("MESSAGE sip:l1@") == 1
    pri.freeze()
    assert kam.wait(lambda: len(kemi_events(kam)) == 2, 4)
    assert kemi_events(kam)[1] == (
        f"ha_pair:switchover: pair=sipserver1 primary -> backup "
        f"({PRI} -> {BAK}) reason=probe")
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="l2") == 200
    assert bak.received("MESSAGE sip:l2@") == 1
