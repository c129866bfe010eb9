# SPDX-License-Identifier: GPL-2.0-or-later
"""Maintenance: ha_pair.hold pins the active member, ha_pair.probe probes
now, and probe_standby reports the standby and raises hapair:split."""

import re

from conftest import Kamailio, Peer, pairs_xml, parse_kamcmd

PRI, BAK = "sip:127.0.0.2:5060", "sip:127.0.0.3:5060"


def test_hold_pins_the_active_member(procs, logdir):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, pairs_xml([("sipserver1", PRI, BAK, {
        "oos-check": "500ms", "oos-force": "300ms"})]))
    assert kam.wait(lambda: kam.show("sipserver1")["members"][0]["state"]
                    == "up", 3) is not None
    r = parse_kamcmd(kam.rpc("ha_pair.hold", "sipserver1").stdout)[0]
    assert (r["held"], r["changed"]) == ("1", "1")
    assert kam.show("sipserver1")["held"] == "1"
    pri.freeze()
    # probing and reporting go on, no switchover
    assert kam.wait(lambda: kam.show("sipserver1")["members"][0]["state"]
                    == "down", 2) is not None
    # two more unanswered probes of the primary (500 ms apart): still held
    u = int(kam.show("sipserver1")["members"][0]["probes_unanswered"])
    assert kam.wait(lambda: int(kam.show("sipserver1")["members"][0]
                                ["probes_unanswered"]) >= u + 2, 3) \
        is not None
    p = kam.show("sipserver1")
    assert (p["state"], p["active"], p["switchovers"]) == \
        ("CHECK", "primary", "0")
    # released: the next failure switches
    r = parse_kamcmd(kam.rpc("ha_pair.hold", "sipserver1", "off").stdout)[0]
    assert (r["held"], r["changed"]) == ("0", "1")
    assert kam.wait(lambda: kam.show("sipserver1")["active"] == "backup", 2) \
        is not None
    # faults
    out = kam.rpc("ha_pair.hold", "sipserver1", "maybe", check=False).stdout
    assert "400" in out and "Bad value 'maybe'" in out
    out = kam.rpc("ha_pair.hold", "nosuch", check=False).stdout
    assert "404" in out


def test_probe_now(procs, logdir):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, pairs_xml([("sipserver1", PRI, BAK, {
        "oos-check": "30s", "oos-force": "1s"})]))
    # the start probes, answered; the next in 30 s
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("sipserver1")["members"]), 3) \
        is not None
    before = (pri.received("OPTIONS sip:127.0.0.2"),
              bak.received("OPTIONS sip:127.0.0.3"))
    assert before == (1, 1)
    kam.rpc("ha_pair.probe", "sipserver1")
    assert kam.wait(lambda: (pri.received("OPTIONS sip:127.0.0.2"),
                             bak.received("OPTIONS sip:127.0.0.3"))
                    == (2, 2), 1) is not None
    out = kam.rpc("ha_pair.probe", check=False).stdout
    assert "400" in out and "Missing pair name" in out


def test_probe_standby_and_split(procs, logdir):
    """Both simulated members answer (a real standby keeps its SIP port
    closed): with probe_standby that is split brain, said once."""
    Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, pairs_xml([("sipserver1", PRI, BAK, {
        "oos-check": "300ms", "oos-force": "200ms"})]),
        defines={"WITH_PROBE_STANDBY": None})

    def splits():
        return re.findall(r"ha_pair event split: (.*)", kam.log_text())
    assert kam.wait(lambda: len(splits()) == 1, 3) is not None
    assert splits()[0].startswith("pair=sipserver1: active primary and "
                                  "standby backup both answer")
    # the standby is probed every oos-check (300 ms), and reported: five
    # more rounds, still the one split event
    n = bak.received("OPTIONS sip:127.0.0.3")
    assert kam.wait(lambda: bak.received("OPTIONS sip:127.0.0.3") >= n + 5,
                    3) is not None
    assert len(splits()) == 1
    assert kam.show("sipserver1")["members"][1]["state"] == "up"
