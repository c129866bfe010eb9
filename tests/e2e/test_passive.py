# SPDX-License-Identifier: GPL-2.0-or-later
"""Passive switchover: an out-of-dialog request from the standby's own
address makes it active at once; an OPTIONS from it changes nothing.

These run with member_trust "any": the request here comes from an address
where nothing answers probes (sipp sends it), which is what the trigger
itself is about. With the default, "confirm", the same request makes the
member active once it answers a probe: tests/e2e/test_trust.py."""

import time

from conftest import Kamailio, Peer, pairs_xml, send_request

ANY = {"MEMBER_TRUST": '"any"'}
PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])
FAR = "127.0.0.5:5060"  # where the pair's own outbound requests go


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

    # probing follows it: the promoted primary answers and keeps the traffic
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    time.sleep(2.5)
    p = kam.show("sipserver1")
    assert (p["state"], p["active"]) == ("CHECK", "primary"), p
    assert pri.received("OPTIONS sip:127.0.0.2") >= 2
    assert send_request(procs, logdir, "127.0.0.10", 5090,
                        user="to-pair") == 200
    assert pri.received("MESSAGE sip:to-pair@") == 1
    assert bak.received("MESSAGE sip:to-pair@") == 0


def test_passive_switchover_off(procs, logdir):
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    Peer(procs, logdir, "far", "127.0.0.5")
    kam = Kamailio(procs, logdir, PAIRS,
                   defines={"WITH_PASSIVE_OFF": None, **ANY})
    assert kam.wait(lambda: kam.show("sipserver1")["active"] == "backup",
                    3) is not None
    assert send_request(procs, logdir, "127.0.0.2", 5060, method="MESSAGE",
                        user="msg2", ruri_host=FAR) == 200
    assert kam.show("sipserver1")["active"] == "backup"
    assert bak.received("OPTIONS sip:127.0.0.3") >= 1


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
    # NOTIFY is
    assert send_request(procs, logdir, "127.0.0.2", 5060, method="NOTIFY",
                        user="ntf3", ruri_host=FAR) == 200
    p = kam.show("sipserver1")
    assert (p["active"], p["last_switchover_reason"]) == ("primary", "passive")
