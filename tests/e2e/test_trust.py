# SPDX-License-Identifier: GPL-2.0-or-later
"""member_trust: what a request from a member's address may do when it came
over UDP, where anyone can forge the source address.

A "forged" request here is one sent from the standby's address while the
standby is not serving (its SIP port is closed, as a real standby's is):
whoever sent it cannot answer a probe sent there. A "genuine" one comes
from a member that is serving: over TCP (a connection proves the address),
or over UDP from a member that answers the probe that follows."""

import re
import time

import pytest

from conftest import Kamailio, Peer, pairs_xml, send_request
from harness import note

NOTES = "switch_times.txt"  # tests/e2e/logs/: figures of each run

CHECK_MS, FORCE_MS = 1000, 500
PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": f"{CHECK_MS}ms",
                     "oos-force": f"{FORCE_MS}ms"})])
FAR = "127.0.0.5:5060"  # where the pair's own outbound requests go
XGR = "X-Genesys-Route: sip:127.0.0.6:5060"  # steers them elsewhere
TCP = {"WITH_TCP": None, "LISTEN_TCP": "tcp:127.0.0.1:5060"}


def trust(value):
    return {"MEMBER_TRUST": f'"{value}"', **TCP}


def start(procs, logdir, defines=None):
    """The pair on its primary; the backup is not serving (nothing on
    127.0.0.3): a request from its address is a forgery."""
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    far = Peer(procs, logdir, "far", "127.0.0.5")
    other = Peer(procs, logdir, "other", "127.0.0.6")
    kam = Kamailio(procs, logdir, PAIRS, defines=defines)
    # the backup's start probe has ended unanswered
    assert kam.wait(lambda: kam.show("sipserver1")["members"][1]["state"]
                    == "down", 3) is not None
    p = kam.show("sipserver1")
    assert (p["state"], p["active"]) == ("CHECK", "primary"), p
    return pri, far, other, kam


def stays_on_primary(kam, seconds):
    """The pair never leaves the primary for seconds (polled)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        p = kam.show("sipserver1")
        if (p["state"], p["active"]) != ("CHECK", "primary"):
            return p
        time.sleep(0.02)
    return None


def test_any_forged_udp_request_takes_the_pair(procs, logdir):
    """"any", the original product's behaviour (no longer the default): a
    forged UDP request from the standby's address moves the traffic to it,
    and the pair is away from its serving member until probing finds
    out."""
    pri, far, other, kam = start(procs, logdir, trust("any"))
    t0 = time.monotonic()
    assert send_request(procs, logdir, "127.0.0.3", 5060, user="forged",
                        ruri_host=FAR, headers=[XGR]) == 200
    p = kam.show("sipserver1")
    assert (p["active"], p["last_switchover_reason"]) == ("backup",
                                                          "passive"), p
    # the forger's X-Genesys-Route is honoured too
    assert other.received("MESSAGE sip:forged@") == 1
    # probing finds the backup silent and hunts back to the primary
    took = kam.wait(lambda: kam.show("sipserver1")["active"] == "primary",
                    5 * CHECK_MS / 1000)
    assert took is not None, kam.show("sipserver1")
    note(logdir, NOTES,
         f"member_trust any: one forged UDP request moved the pair "
         f"off its serving member for "
         f"{(time.monotonic() - t0) * 1000:.0f} ms "
         f"(oos-check {CHECK_MS}, oos-force {FORCE_MS})")
    assert kam.show("sipserver1")["last_switchover_reason"] == "probe"


def test_transport_udp_claim_ignored(procs, logdir):
    pri, far, other, kam = start(procs, logdir, trust("transport"))
    before = kam.show("sipserver1")
    # handled as a request from anyone: to the pair's active member, the
    # header removed, no switchover
    assert send_request(procs, logdir, "127.0.0.3", 5060, user="forged",
                        ruri_host=FAR, headers=[XGR]) == 200
    assert pri.received(f"MESSAGE sip:forged@{FAR}") == 1
    assert far.received("MESSAGE sip:forged@") == 0
    assert other.received("MESSAGE sip:forged@") == 0
    assert "X-Genesys-Route" not in pri.msgs.read_text()
    assert stays_on_primary(kam, 2 * FORCE_MS / 1000) is None
    p = kam.show("sipserver1")
    assert p["switchovers"] == before["switchovers"]
    # and nothing was probed on its behalf
    assert (p["members"][1]["probes_sent"]
            == before["members"][1]["probes_sent"])


@pytest.mark.parametrize("setting", ["transport", "confirm"])
def test_tcp_claim_switches_at_once(procs, logdir, setting):
    """Over TCP the connection proves the address: a genuine promoted
    backup takes the pair at once, and its X-Genesys-Route is honoured."""
    pri, far, other, kam = start(procs, logdir, trust(setting))
    Peer(procs, logdir, "backup", "127.0.0.3")  # promoted: serving now
    t0 = time.monotonic()
    assert send_request(procs, logdir, "127.0.0.3", 5070, user="tcpgen",
                        ruri_host=FAR, headers=[XGR], transport="t1") == 200
    p = kam.show("sipserver1")
    assert (p["active"], p["last_switchover_reason"]) == ("backup",
                                                          "passive"), p
    assert int(p["last_switchover_ago_ms"]) <= (time.monotonic() - t0) * 1000
    assert p["claims_confirmed"] == "0"  # no probe was needed
    assert other.received("MESSAGE sip:tcpgen@") == 1
    assert far.received("MESSAGE sip:tcpgen@") == 0


def test_confirm_forged_udp_claim_changes_nothing(procs, logdir,
                                                  udp_member):
    pri, far, other, kam = start(procs, logdir, trust("confirm"))
    before = kam.show("sipserver1")
    unanswered = int(before["members"][1]["probes_unanswered"])
    # relayed as the member's own traffic (its X-Genesys-Route honoured:
    # a probe confirms a member's state, not who sent one request) ...
    assert send_request(procs, logdir, "127.0.0.3", 5060, user="forged",
                        ruri_host=FAR, headers=[XGR]) == 200
    assert other.received("MESSAGE sip:forged@") == 1
    # ... but the pair stays where it is while the backup is probed, and
    # after its probe went unanswered
    assert stays_on_primary(kam, FORCE_MS / 1000 + 0.5) is None
    p = kam.show("sipserver1")
    assert p["switchovers"] == before["switchovers"]
    assert (p["claim"], p["claims_unconfirmed"],
            p["claims_confirmed"]) == ("none", "1", "0"), p
    assert int(p["members"][1]["probes_unanswered"]) == unanswered + 1
    assert ("the backup, which a request over UDP said was active, did not "
            "answer its probe: no switchover") in kam.log_text()
    # a flood of them (20 in a burst) costs one probe, one claim, and
    # still no switchover
    sent = int(p["members"][1]["probes_sent"])
    forger = udp_member("127.0.0.3", 5060, answers=False)
    for i in range(20):
        forger.send(f"flood{i}")
    assert stays_on_primary(kam, FORCE_MS / 1000 + 0.3) is None
    p = kam.show("sipserver1")
    assert int(p["members"][1]["probes_sent"]) == sent + 1, p
    assert forger.options >= 1  # the probe went to the address, unanswered
    assert (p["claims_unconfirmed"], p["switchovers"]) == (
        "2", before["switchovers"]), p
    assert kam.wait(lambda: far.received("MESSAGE sip:flood") == 20, 3) \
        is not None


def test_confirm_genuine_udp_claim_switches_after_one_probe(
        procs, logdir, udp_member):
    pri, far, other, kam = start(procs, logdir, trust("confirm"))
    bak = udp_member("127.0.0.3", 5060)  # promoted: it answers probes
    bak.send("genuine")
    took = kam.wait(lambda: kam.show("sipserver1")["active"] == "backup",
                    FORCE_MS / 1000, step=0.005)
    assert took is not None, kam.show("sipserver1")
    # one probe round trip (plus up to a 5 ms prober tick), polling included
    assert took < 0.05, took
    p = kam.show("sipserver1")
    assert p["last_switchover_reason"] == "passive"
    assert (p["claim"], p["claims_confirmed"]) == ("none", "1")
    assert bak.options == 1  # the claim's one probe, answered at once
    assert re.search(r"a MESSAGE from the backup \(127\.0\.0\.3:5060, UDP\) "
                     r"says it is active: probing it to confirm",
                     kam.log_text())
    # the request itself went on at once, as the member's own traffic
    assert kam.wait(lambda: 200 in bak.codes, 3) is not None
    assert far.received("MESSAGE sip:genuine@") == 1
    note(logdir, NOTES,
         f"member_trust confirm: genuine UDP claim -> backup in "
         f"{took * 1000:.0f} ms (one probe round trip; polled "
         f"every 5 ms)")
    # probing follows the new active member: its next probe, a check
    n = bak.options
    assert kam.wait(lambda: bak.options > n, CHECK_MS / 1000 + 0.5) \
        is not None
    p = kam.show("sipserver1")
    assert (p["state"], p["active"]) == ("CHECK", "backup"), p
    assert pri.received("MESSAGE sip:genuine@") == 0


def test_bad_member_trust_stops_startup(procs, logdir):
    kam = Kamailio(procs, logdir, PAIRS, defines={"MEMBER_TRUST": '"tls"'},
                   expect_start=False)
    assert kam.proc.wait(10) != 0
    assert ("bad member_trust 'tls': any, transport or confirm"
            in kam.log_text())
