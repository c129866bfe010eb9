# SPDX-License-Identifier: GPL-2.0-or-later
"""Passive switchover: an out-of-dialog request from the standby's own
address makes it active at once; an OPTIONS from it changes nothing.

These run with member_trust "any": the request here comes from an address
where nothing answers probes (sipp sends it), which is what the trigger
itself is about. With the default, "confirm", the same request makes the
member active once it answers a probe: tests/e2e/test_trust.py."""

import re

from conftest import Kamailio, Peer, pairs_xml, send_request

ANY = {"MEMBER_TRUST": '"any"'}
PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])
FAR = "127.0.0.5:5060"  # where the pair's own outbound requests go


def switchovers(kam):
    return re.findall(r"ha_pair event switchover: (.*)", kam.log_text())


def test_request_from_standby_makes_it_active(procs, logdir):
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    far = Peer(procs, logdir, "far", "127.0.0.5")
    kam = Kamailio(procs, logdir, PAIRS, defines=ANY)
    # the primary is not there: the pair starts on it and moves to the
    # backup, which answered its start probe
    assert kam.wait(lambda: kam.show("sipserver1")["active"] == "backup",
                    3) is not None
    before = kam.show("sipserver1")
    assert before["last_switchover_reason"] == "probe"

    # an OPTIONS from the primary's address: relayed (ha_route() gives 2),
    # no switchover
    assert send_request(procs, logdir, "127.0.0.2", 5060, method="OPTIONS",
                        user="opt1", ruri_host=FAR) == 200
    assert far.received("OPTIONS sip:opt1@") == 1
    p = kam.show("sipserver1")
    assert (p["active"], p["switchovers"]) == ("backup", before["switchovers"])

    # a MESSAGE from it: the primary has been promoted, active at once
    assert send_request(procs, logdir, "127.0.0.2", 5060, method="MESSAGE",
                        user="msg1", ruri_host=FAR) == 200
    assert far.received("MESSAGE sip:msg1@") == 1
    p = kam.show("sipserver1")
    assert p["active"] == "primary", p
    assert p["last_switchover_reason"] == "passive"
    assert int(p["switchovers"]) == int(before["switchovers"]) + 1
    assert int(p["last_switchover_ago_ms"]) < 1000
    # the one switchover event it caused
    assert kam.wait(lambda: len(switchovers(kam)) == 3, 2) is not None
    assert switchovers(kam)[2] == (
        "pair=sipserver1 backup -> primary (sip:127.0.0.3:5060 -> "
        "sip:127.0.0.2:5060) reason=passive")

    # probing follows it: the promoted primary, started only now, is probed
    # every oos-check (1 s) as the active member, and answers
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    assert kam.wait(lambda: pri.received("OPTIONS sip:127.0.0.2") >= 2, 3.5) \
        is not None
    p = kam.show("sipserver1")
    assert (p["state"], p["active"], p["switchovers"]) == \
        ("CHECK", "primary", str(int(before["switchovers"]) + 1)), p
    assert p["members"][0]["state"] == "up", p
    assert send_request(procs, logdir, "127.0.0.10", 5090,
                        user="to-pair") == 200
    assert pri.received("MESSAGE sip:to-pair@") == 1
    assert bak.received("MESSAGE sip:to-pair@") == 0


def test_passive_switchover_off(procs, logdir):
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    far = Peer(procs, logdir, "far", "127.0.0.5")
    kam = Kamailio(procs, logdir, PAIRS,
                   defines={"WITH_PASSIVE_OFF": None, **ANY})
    assert kam.wait(lambda: kam.show("sipserver1")["active"] == "backup",
                    3) is not None
    before = kam.show("sipserver1")
    n = bak.received("OPTIONS sip:127.0.0.3")
    assert send_request(procs, logdir, "127.0.0.2", 5060, method="MESSAGE",
                        user="msg2", ruri_host=FAR) == 200
    # relayed, and nothing else: no switchover, no event; the backup stays
    # active and is probed as such (two more rounds of 1 s)
    assert far.received("MESSAGE sip:msg2@") == 1
    assert kam.wait(lambda: bak.received("OPTIONS sip:127.0.0.3") >= n + 2,
                    3.5) is not None
    p = kam.show("sipserver1")
    assert (p["active"], p["switchovers"], p["last_switchover_reason"]) == \
        ("backup", before["switchovers"], "probe"), p
    assert [e for e in switchovers(kam) if "reason=passive" in e] == []
    assert len(switchovers(kam)) == 2  # start, probe


def test_passive_methods_restrict_the_trigger(procs, logdir):
    Peer(procs, logdir, "backup", "127.0.0.3")
    Peer(procs, logdir, "far", "127.0.0.5")
    kam = Kamailio(procs, logdir, PAIRS,
                   defines={"PASSIVE_METHODS": '"INVITE,NOTIFY"', **ANY})
    assert kam.wait(lambda: kam.show("sipserver1")["active"] == "backup",
                    3) is not None
    # MESSAGE is not in the list: no switchover
    assert send_request(procs, logdir, "127.0.0.2", 5060, method="MESSAGE",
                        user="msg3", ruri_host=FAR) == 200
    assert kam.show("sipserver1")["active"] == "backup"
    assert [e for e in switchovers(kam) if "reason=passive" in e] == []
    # NOTIFY is
    assert send_request(procs, logdir, "127.0.0.2", 5060, method="NOTIFY",
                        user="ntf3", ruri_host=FAR) == 200
    p = kam.show("sipserver1")
    assert (p["active"], p["last_switchover_reason"]) == ("primary", "passive")
