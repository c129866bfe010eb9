# SPDX-License-Identifier: GPL-2.0-or-later
"""A pair at oos-check 1 s / oos-force 500 ms, tm's fr_timer at its 30 s
default: routing at start, a frozen primary, its return, both frozen."""

import random
import time

from conftest import Kamailio, Peer, pairs_xml, send_request
from harness import member, note

CHECK_MS, FORCE_MS = 1000, 500
PRI, BAK = "sip:127.0.0.2:5060", "sip:127.0.0.3:5060"
ONE_PAIR = pairs_xml([("sipserver1", PRI, BAK,
                       {"oos-check": f"{CHECK_MS}ms",
                        "oos-force": f"{FORCE_MS}ms"})])
CLIENT = ("127.0.0.10", 5090)


def start(procs, logdir):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, ONE_PAIR)
    ok = kam.wait(lambda: member(kam.show("sipserver1"), "primary")["state"]
                  == "up", 5)
    assert ok is not None, kam.show("sipserver1")
    return pri, bak, kam


def routed_to(peer, user):
    return peer.received(f"MESSAGE sip:{user}@")


def test_routes_to_primary_at_start(procs, logdir):
    pri, bak, kam = start(procs, logdir)
    p = kam.show("sipserver1")
    assert (p["state"], p["active"], p["active_uri"]) == ("CHECK", "primary", PRI)
    assert send_request(procs, logdir, *CLIENT, user="start1") == 200
    assert routed_to(pri, "start1") == 1
    assert routed_to(bak, "start1") == 0
    # the backup was probed once at start, and not again while the primary
    # answers (probe_standby is off): two more rounds of the primary (2 s)
    n = pri.received("OPTIONS sip:127.0.0.2")
    assert kam.wait(lambda: pri.received("OPTIONS sip:127.0.0.2") >= n + 2,
                    2 * CHECK_MS / 1000 + 1) is not None
    assert bak.received("OPTIONS sip:127.0.0.3") == 1


def test_frozen_primary_switches_and_stays(procs, logdir):
    pri, bak, kam = start(procs, logdir)
    # freeze at a random moment of the probe period (a fixed delay on
    # purpose: the moment is what this varies)
    time.sleep(0.3 + random.uniform(0, CHECK_MS / 1000.0))
    pri.freeze()
    t0 = time.monotonic()
    took = kam.wait(lambda: kam.show("sipserver1")["active"] == "backup",
                    10, step=0.01)
    bound = (2 * CHECK_MS + FORCE_MS + 300) / 1000.0
    assert took is not None, kam.show("sipserver1")
    note(logdir, "switch_times.txt",
         f"frozen primary -> backup: {took * 1000:.0f} ms\n")
    assert took <= bound, f"switch took {took:.3f}s > {bound}s"
    p = kam.show("sipserver1")
    assert p["last_switchover_reason"] == "probe"
    assert int(p["switchovers"]) == 1
    assert member(p, "primary")["state"] == "down"
    # module-wide statistics follow
    assert kam.stat("switchovers") == 1
    assert kam.stat("probes_unanswered") >= 1
    assert kam.stat("probes_sent") >= int(member(p, "primary")["probes_sent"])
    # requests now reach the backup
    assert send_request(procs, logdir, *CLIENT, user="after1") == 200
    assert routed_to(bak, "after1") == 1
    assert routed_to(pri, "after1") == 0

    # the primary comes back: traffic stays on the backup (sticky) for
    # three more probe rounds of the backup (3 s)
    pri.resume()
    n = bak.received("OPTIONS sip:127.0.0.3")
    assert kam.wait(lambda: bak.received("OPTIONS sip:127.0.0.3") >= n + 3,
                    3 * CHECK_MS / 1000 + 1) is not None
    p = kam.show("sipserver1")
    assert (p["state"], p["active"]) == ("CHECK", "backup")
    assert int(p["switchovers"]) == 1
    before = routed_to(pri, "after2")
    assert send_request(procs, logdir, *CLIENT, user="after2") == 200
    assert routed_to(bak, "after2") == 1
    assert routed_to(pri, "after2") == before == 0
    assert time.monotonic() - t0 < 30


def test_both_frozen_gives_503(procs, logdir):
    pri, bak, kam = start(procs, logdir)
    pri.freeze()
    bak.freeze()
    took = kam.wait(lambda: kam.show("sipserver1")["state"] == "FORCE", 5)
    assert took is not None
    p = kam.show("sipserver1")
    assert p["active"] == "none" and p["active_uri"] == ""
    refused = kam.stat("requests_refused")
    assert send_request(procs, logdir, *CLIENT, user="none1") == 503
    assert kam.stat("requests_refused") == refused + 1 == 1
    msgs = "\n".join(f.read_text() for f in logdir.glob("req-*.log"))
    assert "Retry-After: 5" in msgs
    # the backup answering again ends FORCE
    bak.resume()
    assert kam.wait(lambda: kam.show("sipserver1")["active"] == "backup",
                    2 * FORCE_MS / 1000.0 + 1) is not None
