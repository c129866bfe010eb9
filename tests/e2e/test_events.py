# SPDX-License-Identifier: GPL-2.0-or-later
"""Events: event_route[hapair:switchover|down|up] with $hapair(...), each
change fired exactly once, and a slow event route never delays probing:
events run in the "ha_pair events" process, not in the prober, whether an
RPC or a probe caused them."""

import re
import time

from conftest import CFG, Kamailio, Peer, pairs_xml, parse_kamcmd
from harness import events

PRI, BAK = "sip:127.0.0.2:5060", "sip:127.0.0.3:5060"


def test_switchover_down_up_events(procs, logdir):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, pairs_xml([("sipserver1", PRI, BAK, {
        "oos-check": "1s", "oos-force": "300ms"})]))
    assert kam.wait(lambda: len(events(kam, "switchover")) == 1, 3) is not None
    assert events(kam, "switchover")[0] == (
        f"pair=sipserver1 none -> primary ( -> {PRI}) reason=start")

    pri.freeze()
    assert kam.wait(lambda: len(events(kam, "switchover")) == 2, 4) is not None
    assert events(kam, "switchover")[1] == (
        f"pair=sipserver1 primary -> backup ({PRI} -> {BAK}) reason=probe")

    bak.freeze()
    assert kam.wait(lambda: len(events(kam, "down")) == 1, 4) is not None
    assert events(kam, "down")[0].startswith(
        "pair=sipserver1 (last active backup)")
    # three more FORCE rounds (300 ms) of both members: no second "down"
    sent = probes_sent(kam)
    assert kam.wait(lambda: all(n >= s + 3 for n, s in
                                zip(probes_sent(kam), sent)), 3) is not None
    assert len(events(kam, "down")) == 1
    assert events(kam, "up") == []

    pri.resume()
    assert kam.wait(lambda: len(events(kam, "up")) == 1, 3) is not None
    assert events(kam, "up")[0] == "pair=sipserver1 active=primary reason=probe"
    assert len(events(kam, "switchover")) == 3
    assert events(kam, "switchover")[2] == (
        f"pair=sipserver1 backup -> primary ({BAK} -> {PRI}) reason=probe")
    # two more probe rounds (1 s) of the primary: each change exactly once
    n = pri.received("OPTIONS sip:127.0.0.2")
    assert kam.wait(lambda: pri.received("OPTIONS sip:127.0.0.2") >= n + 2,
                    3) is not None
    assert (len(events(kam, "switchover")), len(events(kam, "down")),
            len(events(kam, "up"))) == (3, 1, 1)
    bak.resume()


def probes_sent(kam):
    return [int(m["probes_sent"]) for m in kam.show("sipserver1")["members"]]


def slow_route(kam, what):
    """The lines of the slow switchover route (EVENT_SLEEP_US): what is
    "sleeps" or "slept"; each (pair, reason, pid)."""
    return re.findall(rf"ha_pair event route {what}: pair=(\S+) "
                      rf"reason=(\S+) pid=(\d+)", kam.log_text())


def process_pids(kam, description):
    """The PIDs of kamailio's processes of that description (core.psx)."""
    procs = parse_kamcmd(kam.rpc("core.psx").stdout)
    return [int(p["PID"]) for p in procs if p["DSC"] == description]


def start_slow(procs, logdir):
    """A pair at oos-check 200 ms whose switchover route sleeps 2 s; returns
    once the start event's route has slept."""
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, pairs_xml([("sipserver1", PRI, BAK, {
        "oos-check": "200ms", "oos-force": "100ms"})]),
        defines={"EVENT_SLEEP_US": 2000000})
    assert kam.wait(lambda: len(slow_route(kam, "slept")) == 1, 4) \
        is not None, kam.log_text()[-2000:]
    return pri, bak, kam


def test_slow_event_route_does_not_delay_probing(procs, logdir):
    """The switchover route sleeps 2 s; meanwhile probing goes on at its
    200 ms pace, and the events queued behind it run after it, in order."""
    pri, _, kam = start_slow(procs, logdir)
    pri_before = pri.received("OPTIONS sip:127.0.0.2")
    t0 = time.monotonic()
    kam.rpc("ha_pair.switchover", "sipserver1")
    kam.rpc("ha_pair.switchover", "sipserver1")
    # probing goes on while the first event's route sleeps: 6 probes of
    # the primary (1.2 s at 200 ms) before that route ends (2 s)
    assert kam.wait(lambda: pri.received("OPTIONS sip:127.0.0.2")
                    >= pri_before + 6, 1.9) is not None
    assert len(slow_route(kam, "slept")) == 1, slow_route(kam, "slept")
    assert kam.show("sipserver1")["active"] == "primary"
    assert len(events(kam, "switchover")) == 2  # start + first manual
    assert kam.wait(lambda: len(events(kam, "switchover")) == 3, 4) \
        is not None
    assert time.monotonic() - t0 >= 2.0
    sw = events(kam, "switchover")
    assert sw[1].endswith("reason=manual") and "primary -> backup" in sw[1]
    assert sw[2].endswith("reason=manual") and "backup -> primary" in sw[2]


def test_event_route_named_as_in_the_specification(procs, logdir):
    """event_route[ha_pair:...] as the specification writes it: Kamailio
    5.6 reads it as pair:..., the module runs it and says how to write it."""
    cfg = logdir / "kamailio.cfg"
    cfg.write_text(CFG.read_text().replace("event_route[hapair:",
                                           "event_route[ha_pair:"))
    Peer(procs, logdir, "primary", "127.0.0.2")
    kam = Kamailio(procs, logdir, pairs_xml([("sipserver1", PRI, BAK, {})]),
                   cfg=cfg)
    assert kam.wait(lambda: len(events(kam, "switchover")) == 1, 3) is not None
    assert "write event_route[hapair:switchover]" in kam.log_text()


def test_probe_caused_event_runs_outside_the_prober(procs, logdir):
    """A frozen primary: the prober switches over (reason probe) and the
    switchover route, which sleeps 2 s, runs in the "ha_pair events"
    process, not in the prober, which meanwhile probes the new active
    member at its 200 ms pace."""
    pri, bak, kam = start_slow(procs, logdir)
    prober = process_pids(kam, "ha_pair prober")
    runner = process_pids(kam, "ha_pair events")
    assert len(prober) == 1 and len(runner) == 1, \
        kam.rpc("core.psx").stdout
    # the start event ran in the events process too
    assert [int(p) for _, _, p in slow_route(kam, "slept")] == runner
    pri.freeze()
    assert kam.wait(lambda: len(slow_route(kam, "sleeps")) == 2, 3) \
        is not None, kam.show("sipserver1")
    assert events(kam, "switchover")[1] == (
        f"pair=sipserver1 primary -> backup ({PRI} -> {BAK}) reason=probe")
    name, reason, pid = slow_route(kam, "sleeps")[1]
    assert (name, reason, int(pid)) == ("sipserver1", "probe", runner[0])
    assert int(pid) != prober[0]
    # the prober is not held by the route: the backup, active now, gets
    # 5 probes (1 s at 200 ms) before the route has slept its 2 s
    n = bak.received("OPTIONS sip:127.0.0.3")
    assert kam.wait(lambda: bak.received("OPTIONS sip:127.0.0.3") >= n + 5,
                    1.8) is not None
    assert len(slow_route(kam, "slept")) == 1
    p = kam.show("sipserver1")
    assert (p["active"], p["last_switchover_reason"]) == ("backup", "probe")
    assert kam.wait(lambda: len(slow_route(kam, "slept")) == 2, 3) \
        is not None
    pri.resume()
