# SPDX-License-Identifier: GPL-2.0-or-later
"""A pair made due "now" by another process (here ha_pair.probe, from the
ctl process) is probed at once, even with the prober asleep until the
pair's next scheduled probe 5 s away: the prober's wake-up is never lost
(issue 12, item 2). Measured at the member: a UDP socket that timestamps
each OPTIONS as it arrives and answers 200."""

import random
import subprocess
import time

from conftest import KAMCMD, Kamailio, pairs_xml
from harness import note

CHECK_MS = 5000
CALLS = 200
BOUND_S = 0.050
PAIRS = pairs_xml([("p1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": f"{CHECK_MS}ms", "oos-force": "500ms"})])


def test_probe_rpc_is_never_left_waiting(procs, logdir, probed_member):
    # members on real UDP sockets: each probe's arrival time, answered 200
    pri = probed_member("127.0.0.2")
    probed_member("127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS)
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("p1")["members"]), 5) is not None
    # the start probes are answered; the next one is 5 s away
    time.sleep(0.1)
    # one kamcmd, reading commands from its stdin: what is measured is
    # the module, not the start of a process per call
    ctl = subprocess.Popen([KAMCMD, "-s", f"unix:{kam.ctl}"],
                           stdin=subprocess.PIPE,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, text=True)
    lat = []
    for i in range(CALLS):
        n = len(pri.probes)
        t0 = time.monotonic()
        ctl.stdin.write("ha_pair.probe p1\n")
        ctl.stdin.flush()
        deadline = t0 + 2.0
        while len(pri.probes) == n and time.monotonic() < deadline:
            time.sleep(0.001)
        assert len(pri.probes) > n, f"call {i}: no probe within 2 s"
        lat.append(pri.probes[n][0] - t0)
        # its answer went back at once; let the proxy take it (one
        # probe per member in flight), then vary where the next call
        # falls against the prober's 5 ms ticks
        time.sleep(0.02 + random.uniform(0, 0.01))
    ctl.stdin.close()
    ctl.wait(5)
    lat.sort()
    note(logdir, "wakeup.txt",
         f"ha_pair.probe -> OPTIONS at the active member, "
         f"{CALLS} calls: "
         f"median {lat[len(lat) // 2] * 1000:.1f} ms, "
         f"p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms, "
         f"max {lat[-1] * 1000:.1f} ms\n")
    slow = [f"{x * 1000:.0f}" for x in lat if x > BOUND_S]
    assert not slow, f"probes later than 50 ms (ms): {slow}"
    m = kam.show("p1")["members"][0]
    assert int(m["probes_sent"]) >= CALLS + 1, m
    assert int(m["probes_unanswered"]) == 0, m
