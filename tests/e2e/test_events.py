# SPDX-License-Identifier: GPL-2.0-or-later
"""Events: event_route[hapair:switchover|down|up] with $hapair(...), each
change fired exactly once, and a slow event route never delays probing."""

import re
import time

from conftest import CFG, Kamailio, Peer, pairs_xml

PRI, BAK = "sip:127.0.0.2:5060", "sip:127.0.0.3:5060"


def events(kam, kind):
    return re.findall(rf"ha_pair event {kind}: (.*)", kam.log_text())


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
    time.sleep(1.5)  # more FORCE rounds: no second "down"
    assert len(events(kam, "down")) == 1
    assert events(kam, "up") == []

    pri.resume()
    assert kam.wait(lambda: len(events(kam, "up")) == 1, 3) is not None
    assert events(kam, "up")[0] == "pair=sipserver1 active=primary reason=probe"
    assert len(events(kam, "switchover")) == 3
    assert events(kam, "switchover")[2] == (
        f"pair=sipserver1 backup -> primary ({BAK} -> {PRI}) reason=probe")
    time.sleep(1)
    # each change exactly once
    assert (len(events(kam, "switchover")), len(events(kam, "down")),
            len(events(kam, "up"))) == (3, 1, 1)
    bak.resume()


def test_slow_event_route_does_not_delay_probing(procs, logdir):
    """The switchover route sleeps 2 s; meanwhile probing goes on at its
    200 ms pace, and the events queued behind it run after it, in order."""
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, pairs_xml([("sipserver1", PRI, BAK, {
        "oos-check": "200ms", "oos-force": "100ms"})]),
        defines={"EVENT_SLEEP_US": 2000000})
    time.sleep(2.5)  # the start event's sleep is over
    pri_before = pri.received("OPTIONS sip:127.0.0.2")
    t0 = time.monotonic()
    kam.rpc("ha_pair.switchover", "sipserver1")
    kam.rpc("ha_pair.switchover", "sipserver1")
    time.sleep(1.5)
    # probing went on while the first event's route slept
    assert kam.show("sipserver1")["active"] == "primary"
    # 1.5 s at 200 ms: about 7 probes of the primary arrived meanwhile
    assert pri.received("OPTIONS sip:127.0.0.2") >= pri_before + 6
    assert len(events(kam, "switchover")) == 2  # start + first manual
    assert kam.wait(lambda: len(events(kam, "switchover")) == 3, 4) is not None
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
