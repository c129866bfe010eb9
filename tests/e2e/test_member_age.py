# SPDX-License-Identifier: GPL-2.0-or-later
"""How old the knowledge of a member is (issue 12, item 8): every member
has last_probe_ago_ms, and a member whose last probe ended longer ago than
oos-check + oos-force (a standby not probed, probe_standby 0) is shown as
"unknown", with last_result still saying what that probe found."""

import time

from conftest import Kamailio, Peer, pairs_xml

C, F = 500, 300
PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": f"{C}ms", "oos-force": f"{F}ms"})])


def members(kam):
    return kam.show("sipserver1")["members"]


def test_standby_not_probed_turns_unknown(procs, logdir):
    Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS)
    # both answered their start probe: current, so up
    assert kam.wait(lambda: all(m["state"] == "up" for m in members(kam)),
                    3) is not None, members(kam)
    # the standby is not probed again: once its probe is older than
    # oos-check + oos-force it is unknown; the active member, probed every
    # oos-check, never is
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2.0:
        pri, bak = members(kam)
        assert pri["state"] == "up", pri
        assert 0 <= int(pri["last_probe_ago_ms"]) <= C + F, pri
        time.sleep(0.05)
    assert (bak["state"], bak["last_result"]) == ("unknown", "up"), bak
    assert int(bak["last_probe_ago_ms"]) > 1500, bak
    assert bak["probes_sent"] == "1", bak
    # a probe on request makes it current again
    kam.rpc("ha_pair.probe", "sipserver1")
    assert kam.wait(lambda: members(kam)[1]["state"] == "up", 1) is not None, \
        members(kam)
    assert int(members(kam)[1]["last_probe_ago_ms"]) < C, members(kam)
