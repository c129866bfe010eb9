# SPDX-License-Identifier: GPL-2.0-or-later
"""ha_pair.switchover: make the other (or the named) member active now."""

from conftest import Kamailio, Peer, pairs_xml, parse_kamcmd, send_request

PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])
CLIENT = ("127.0.0.10", 5090)


def test_manual_switchover(procs, logdir):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS)
    assert kam.wait(lambda: kam.show("sipserver1")["members"][0]["state"]
                    == "up", 3) is not None

    # no role: the other member
    r = parse_kamcmd(kam.rpc("ha_pair.switchover", "sipserver1").stdout)[0]
    assert (r["old"], r["new"], r["changed"]) == ("primary", "backup", "1")
    p = kam.show("sipserver1")
    assert (p["active"], p["last_switchover_reason"]) == ("backup", "manual")
    assert kam.stat("switchovers") == 1
    assert send_request(procs, logdir, *CLIENT, user="m1") == 200
    assert bak.received("MESSAGE sip:m1@") == 1
    assert pri.received("MESSAGE sip:m1@") == 0

    # to the member already active: nothing changes, and it says so
    r = parse_kamcmd(kam.rpc("ha_pair.switchover", "sipserver1",
                             "backup").stdout)[0]
    assert r["changed"] == "0"
    assert "nothing changed" in r["message"]
    assert int(kam.show("sipserver1")["switchovers"]) == 1

    # a named role
    r = parse_kamcmd(kam.rpc("ha_pair.switchover", "sipserver1",
                             "primary").stdout)[0]
    assert (r["old"], r["new"], r["changed"]) == ("backup", "primary", "1")
    assert send_request(procs, logdir, *CLIENT, user="m2") == 200
    assert pri.received("MESSAGE sip:m2@") == 1


def test_manual_switchover_faults(procs, logdir):
    Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS)
    out = kam.rpc("ha_pair.switchover", "nosuch", check=False).stdout
    assert "404" in out and "Unknown pair 'nosuch'" in out
    out = kam.rpc("ha_pair.switchover", "sipserver1", "tertiary",
                  check=False).stdout
    assert "400" in out and "Bad role 'tertiary'" in out
    out = kam.rpc("ha_pair.switchover", check=False).stdout
    assert "400" in out and "Missing pair name" in out
    assert kam.show("sipserver1")["active"] == "primary"


def test_manual_switchover_in_force_needs_a_role(procs, logdir):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS)
    pri.freeze()
    bak.freeze()
    assert kam.wait(lambda: kam.show("sipserver1")["state"] == "FORCE",
                    3) is not None
    out = kam.rpc("ha_pair.switchover", "sipserver1", check=False).stdout
    assert "409" in out and "name the member" in out
    # the operator knows better: the backup, while it still looks dead
    r = parse_kamcmd(kam.rpc("ha_pair.switchover", "sipserver1",
                             "backup").stdout)[0]
    assert (r["old"], r["new"], r["changed"]) == ("none", "backup", "1")
    bak.resume()
    assert kam.wait(lambda: (kam.show("sipserver1")["state"],
                             kam.show("sipserver1")["active"])
                    == ("CHECK", "backup"), 3) is not None, \
        kam.show("sipserver1")
