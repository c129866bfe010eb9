# SPDX-License-Identifier: GPL-2.0-or-later
"""KEMI: the routing in Lua (config/ha_pair.lua), events through
event_callback with the specification's event names."""

import re

from conftest import TOP, Kamailio, Peer, pairs_xml, send_request
from test_tls_member import TlsMember, pki, tls_cfg  # noqa: F401 (pki: a fixture)

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
