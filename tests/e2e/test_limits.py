# SPDX-License-Identifier: GPL-2.0-or-later
"""Limits that used to drop data silently (issue 12, item 7): a member the
probe_socket cannot probe (another transport) is refused at load, with the
reason, and the running pairs stay; a source address that is a member of
more than 8 pairs is recognised for every one of them (the limit is
lifted: the passive switchover of the pair the script names works for the
9th and 10th pair too). The URI length limit is in the unit tests
(tests/unit/test_ha_config_uri.c), the address limit per member in
test_srv_member.py."""

from conftest import Kamailio, Peer, pairs_xml, parse_kamcmd, send_request

UDP = pairs_xml([("u1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060", {})])
WITH_TCP = pairs_xml([
    ("u1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060", {}),
    ("t1", "sip:127.0.0.4:5060;transport=tcp", "sip:127.0.0.3:5060", {})])


def names(kam):
    return [p["name"] for p in parse_kamcmd(kam.rpc("ha_pair.list").stdout)]


def test_probe_socket_of_another_transport_refused(procs, logdir):
    Peer(procs, logdir, "127.0.0.2", "127.0.0.2")
    Peer(procs, logdir, "127.0.0.3", "127.0.0.3")
    kam = Kamailio(procs, logdir, UDP,
                   defines={"WITH_TCP": None,
                            "LISTEN_TCP": "tcp:127.0.0.1:5060",
                            "PROBE_SOCKET": '"udp:127.0.0.1:5060"'})
    assert kam.wait(lambda: kam.show("u1")["members"][0]["state"] == "up", 5)
    kam.pairs.write_text(WITH_TCP)
    r = kam.rpc("ha_pair.reload", check=False)
    assert ("pair 't1' primary: probe_socket udp:127.0.0.1:5060 cannot "
            "probe a member over tcp and IPv4") in r.stdout + r.stderr, \
        r.stdout + r.stderr
    assert names(kam) == ["u1"]


def test_more_than_8_pairs_share_a_member_address(procs, logdir):
    # ten pairs with the same two members; the backup, at 127.0.0.3:5062,
    # is not running (the test sends from its address)
    pairs = [(f"p{i}", "sip:127.0.0.2:5060", "sip:127.0.0.3:5062", {})
             for i in range(10)]
    pri = Peer(procs, logdir, "127.0.0.2", "127.0.0.2")
    kam = Kamailio(procs, logdir, pairs_xml(pairs),
                   defines={"ROUTE_TO_PAIR": '"$rU"',
                            "MEMBER_TRUST": '"any"'})
    assert kam.wait(lambda: all(
        kam.show(f"p{i}")["active"] == "primary" for i in range(10)), 5)
    # a request from the backup's address naming the pair: the named
    # pair's standby says it is active (passive switchover), whichever
    # pair it is of the ten
    for i in (0, 9, 4):
        assert send_request(procs, logdir, "127.0.0.3", 5062, user=f"p{i}",
                            ruri_host="127.0.0.2:5060") == 200
        p = kam.show(f"p{i}")
        assert (p["active"], p["last_switchover_reason"]) == \
            ("backup", "passive"), p
    others = [kam.show(f"p{i}")["active"] for i in range(10)
              if i not in (0, 9, 4)]
    assert others == ["primary"] * 7
    assert pri.received("MESSAGE sip:p0@") == 1
