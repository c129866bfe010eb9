# SPDX-License-Identifier: GPL-2.0-or-later
"""The behaviours of the probing (docs/ha_pair.md, How it decides), measured at the members (issue 12, item
11): the probes' From (probe_from) and source socket (probe_socket), the
module-wide alive_codes, oos_check and oos_force applied to pairs that set
none, a reply after its deadline ignored, FORCE attempts at least 50 ms
apart when every send fails at once, and ha_pair.probe in FORCE.

The members are faults.ProbedMember: real UDP sockets that answer OPTIONS
and keep, per probe, its arrival time, source address, Call-ID and From."""

import re
import time

import pytest

from conftest import Kamailio, pairs_xml

PRI, BAK = "sip:127.0.0.2:5060", "sip:127.0.0.3:5060"


def one_pair(**attrs):
    return pairs_xml([("p1", PRI, BAK, attrs)])


def members_up(kam, name="p1"):
    return all(m["state"] == "up" for m in kam.show(name)["members"])


@pytest.mark.parametrize("probe_from", [None, "sip:monitor@proxy.example.com"],
                         ids=["default", "set"])
def test_probe_from(procs, logdir, probed_member, probe_from):
    """The From URI the members receive: sip:ha_pair@<first listen
    address> by default, else probe_from as it is."""
    pri, bak = probed_member("127.0.0.2"), probed_member("127.0.0.3")
    defines = {"PROBE_FROM": f'"{probe_from}"'} if probe_from else {}
    kam = Kamailio(procs, logdir, one_pair(**{"oos-check": "1s"}),
                   defines=defines)
    assert kam.wait(lambda: members_up(kam), 5) is not None, kam.show("p1")
    want = probe_from or "sip:ha_pair@127.0.0.1"
    for m in (pri, bak):
        froms = {re.sub(r";tag=.*", "", f) for _, _, _, f in m.probes}
        assert froms == {f"<{want}>"}, froms


@pytest.mark.parametrize("port", [None, 5060, 5070],
                         ids=["default", "5060", "5070"])
def test_probe_socket(procs, logdir, probed_member, port):
    """The address and port probes leave from: with two listen sockets
    (5060 and 5070), one of them (Kamailio's choice) by default, and the
    one probe_socket names when set (each of the two, so one differs from
    the default); the replies come back there and are taken."""
    pri, bak = probed_member("127.0.0.2"), probed_member("127.0.0.3")
    defines = {"LISTEN2": "udp:127.0.0.1:5070"}
    if port:
        defines["PROBE_SOCKET"] = f'"udp:127.0.0.1:{port}"'
    kam = Kamailio(procs, logdir, one_pair(**{"oos-check": "300ms"}),
                   defines=defines)
    assert kam.wait(lambda: members_up(kam), 5) is not None, kam.show("p1")
    # a few scheduled probes of the active member too
    assert kam.wait(lambda: len(pri.firsts()) >= 4, 3) is not None
    seen = {addr for m in (pri, bak) for _, addr, _, _ in m.probes}
    if port:
        assert seen == {("127.0.0.1", port)}, seen
    else:
        assert len(seen) == 1 and seen < {("127.0.0.1", 5060),
                                          ("127.0.0.1", 5070)}, seen
    p = kam.show("p1")
    assert p["members"][0]["probes_unanswered"] == "0", p


@pytest.mark.parametrize("alive_codes", [None, "2xx"], ids=["any", "2xx"])
def test_module_alive_codes(procs, logdir, probed_member, alive_codes):
    """The module's alive_codes applies to a pair that sets none: with
    "2xx", p1's primary answering 503 counts as not answering (p1 moves to
    its backup), while p2, whose own alive-codes="503" overrides it, keeps
    its primary that answers 503. Without the parameter any final reply
    is an answer: p1 stays on its primary."""
    probed_member("127.0.0.2", code=503)
    probed_member("127.0.0.3")
    probed_member("127.0.0.4", code=503)
    probed_member("127.0.0.6")
    timing = {"oos-check": "500ms", "oos-force": "300ms"}
    pairs = pairs_xml([("p1", PRI, BAK, timing),
                       ("p2", "sip:127.0.0.4:5060", "sip:127.0.0.6:5060",
                        {**timing, "alive-codes": "503"})])
    defines = {"ALIVE_CODES": f'"{alive_codes}"'} if alive_codes else {}
    kam = Kamailio(procs, logdir, pairs, defines=defines)
    # p2's primary answered 503 a few times, p1's at least once
    assert kam.wait(lambda: int(
        kam.show("p2")["members"][0]["probes_sent"]) >= 3, 5) is not None
    assert kam.show("p1")["members"][0]["last_code"] == "503"
    p1, p2 = kam.show("p1"), kam.show("p2")
    if alive_codes:
        assert (p1["state"], p1["active"]) == ("CHECK", "backup"), p1
        assert p1["members"][0]["last_result"] == "down", p1
        assert p1["last_switchover_reason"] == "probe", p1
    else:
        assert (p1["state"], p1["active"]) == ("CHECK", "primary"), p1
        assert p1["members"][0]["state"] == "up", p1
        assert p1["members"][0]["probes_unanswered"] == "0", p1
    assert (p2["state"], p2["active"]) == ("CHECK", "primary"), p2
    assert p2["members"][0]["probes_unanswered"] == "0", p2


def gaps_ms(times):
    return [round((b - a) * 1000) for a, b in zip(times, times[1:])]


def test_module_oos_defaults(procs, logdir, probed_member):
    """oos_check 400 and oos_force 150 (module parameters) apply to a pair
    that sets no timings (p2 sets its own): its active member is probed
    every 400 ms; an unanswered probe ends 400 ms after it was sent (the
    first hunt attempt follows at once); then each hunt attempt lasts
    150 ms. Measured at the members (first transmissions only)."""
    pri, bak = probed_member("127.0.0.2"), probed_member("127.0.0.3")
    pairs = pairs_xml([("p1", PRI, BAK, {}),
                       ("p2", "sip:127.0.0.4:5060", "sip:127.0.0.6:5060",
                        {"oos-check": "1s", "oos-force": "300ms"})])
    kam = Kamailio(procs, logdir, pairs,
                   defines={"OOS_CHECK": 400, "OOS_FORCE": 150})
    p1, p2 = kam.show("p1"), kam.show("p2")
    assert (p1["oos_check"], p1["oos_force"]) == ("400", "150"), p1
    assert (p2["oos_check"], p2["oos_force"]) == ("1000", "300"), p2

    # from the start probe on: each at the previous one's send time +
    # oos-check (the start probe leaves with the prober's first tick,
    # a while after the pair was made)
    assert kam.wait(lambda: len(pri.firsts()) >= 7, 5) is not None
    period = gaps_ms([t for t, _, _ in pri.firsts()])
    assert all(370 <= g <= 460 for g in period), period

    # both stop answering: the primary's next probe is the last one
    t_stop = time.monotonic()
    pri.code = bak.code = None
    assert kam.wait(lambda: kam.show("p1")["state"] == "FORCE", 2) is not None
    assert kam.wait(lambda: len([t for t, _, _ in bak.firsts()
                                 if t > t_stop]) >= 3, 3) is not None
    t_last = [t for t, _, _ in pri.firsts() if t > t_stop][0]
    hunt = sorted(t for m in (pri, bak) for t, _, _ in m.firsts()
                  if t > t_last)
    deadline = round((hunt[0] - t_last) * 1000)
    assert 390 <= deadline <= 470, (deadline, gaps_ms(hunt))
    attempts = gaps_ms(hunt)[:4]
    assert all(145 <= g <= 210 for g in attempts), attempts


@pytest.mark.parametrize("delay_ms", [100, 450], ids=["in-time", "late"])
def test_reply_after_deadline_ignored(procs, logdir, probed_member,
                                      delay_ms):
    """Both members answer every probe with 200, delay_ms after it arrives;
    oos-check and oos-force are 300 ms. In time (100 ms) the pair keeps its
    primary; late (450 ms: after every deadline, also of the
    retransmissions) no answer counts: the pair hunts, and no member ever
    shows a reply code, though each sent many 200s."""
    pri = probed_member("127.0.0.2", delay=delay_ms / 1000)
    bak = probed_member("127.0.0.3", delay=delay_ms / 1000)
    kam = Kamailio(procs, logdir, one_pair(**{"oos-check": "300ms",
                                              "oos-force": "300ms"}))
    # (the standby is probed once at start while the primary answers)
    assert kam.wait(lambda: pri.replied >= 4 and bak.replied >= (
        1 if delay_ms < 300 else 4), 6) is not None
    p = kam.show("p1")
    if delay_ms < 300:
        assert (p["state"], p["active"]) == ("CHECK", "primary"), p
        m = p["members"][0]
        assert m["last_code"] == "200" and m["probes_unanswered"] == "0", p
        assert delay_ms <= int(m["last_rtt_ms"]) < 300, p
    else:
        assert (p["state"], p["active"]) == ("FORCE", "none"), p
        for m in p["members"]:
            # last_code 0: no final reply taken, ever
            assert (m["state"], m["last_code"]) == ("down", "0"), p
            # all but the one that may be in flight now
            assert (int(m["probes_unanswered"])
                    >= int(m["probes_sent"]) - 1), p
        assert sum(int(m["probes_unanswered"]) for m in p["members"]) >= 3, p
        assert p["switchovers"] == "0", p  # none became active again


def probes_sent(kam):
    return sum(int(m["probes_sent"]) for m in kam.show("p1")["members"])


def test_force_attempts_apart_under_instant_failures(procs, logdir):
    """Both members over TCP on closed ports: every connect is refused at
    once, so every hunt attempt fails at once. Attempts still start at
    least 50 ms apart: over 2 s at most 41 probes; and each failure is
    taken at once, not at the 2 s oos-force deadline: at least 25."""
    pairs = one_pair(**{"oos-check": "1s", "oos-force": "2s"})
    pairs = pairs.replace(":5060", ":5099;transport=tcp")
    kam = Kamailio(procs, logdir, pairs, defines={
        "WITH_TCP": None, "LISTEN_TCP": "tcp:127.0.0.1:5060"})
    assert kam.wait(lambda: kam.show("p1")["state"] == "FORCE", 3) is not None
    n0, t0 = probes_sent(kam), time.monotonic()
    time.sleep(2.0)
    n1, t1 = probes_sent(kam), time.monotonic()
    window_ms = (t1 - t0) * 1000
    n = n1 - n0
    assert n <= window_ms / 50 + 1, (n, window_ms)
    assert n >= 25, (n, window_ms)


def test_probe_rpc_in_force(procs, logdir, probed_member):
    """ha_pair.probe while the pair hunts: the member that has no attempt
    in flight is probed now, not when the current attempt's 5 s deadline
    ends; it answers and becomes active at once."""
    pri = probed_member("127.0.0.2", code=None)
    bak = probed_member("127.0.0.3", code=None)
    kam = Kamailio(procs, logdir, one_pair(**{"oos-check": "500ms",
                                              "oos-force": "5s"}))
    assert kam.wait(lambda: kam.show("p1")["state"] == "FORCE", 3) is not None
    # the hunt's first attempt goes to the backup (the primary failed)
    t_force = time.monotonic()
    assert kam.wait(lambda: any(t > t_force - 0.1 for t, _, _ in
                                bak.firsts()), 2) is not None
    n = len(pri.firsts())
    pri.code = 200
    t0 = time.monotonic()
    kam.rpc("ha_pair.probe", "p1")
    took = kam.wait(lambda: len(pri.firsts()) > n, 2)
    assert took is not None, "no probe at the primary within 2 s"
    assert pri.firsts()[n][0] - t0 < 0.1, pri.firsts()[n][0] - t0
    assert kam.wait(lambda: kam.show("p1")["active"] == "primary", 0.5) is not None
    p = kam.show("p1")
    assert (p["state"], p["members"][0]["state"]) == ("CHECK", "up"), p
