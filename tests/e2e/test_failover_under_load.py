# SPDX-License-Identifier: GPL-2.0-or-later
"""Switchover under load without losing calls: sipp sends 50 calls/s for
20 s through the proxy, each held 2 s; the active member is frozen at 8 s,
right after it answered a probe (so that calls fail before the verdict).
With ha_failover() in the example config's failure_route no call fails
while the other member answers; without it, calls fail. Once with the
primary failing, once with the backup active and failing."""

import csv
import time

import pytest

from conftest import SIPP, TOP, Kamailio, Peer, pairs_xml
from harness import note, wait_until

PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])
RATE, CALLS, HOLD_MS, FREEZE_AT = 50, 1000, 2000, 8.0


def run_calls(procs, logdir):
    stats = logdir / "caller-stats.csv"
    args = ["sipp", "-sf", str(SIPP / "call.xml"), "-i", "127.0.0.10",
            "-p", "5090", "-r", str(RATE), "-m", str(CALLS), "-l", "400",
            "-d", str(HOLD_MS), "-s", "bob", "-nostdin", "-timeout", "60s",
            "-trace_stat", "-stf", str(stats), "-fd", "1",
            "-trace_err", "-error_file", str(logdir / "caller-errors.log"),
            "127.0.0.1:5060"]
    return procs.start(args, logdir / "caller.out", cwd=logdir), stats


def final_counts(stats):
    rows = list(csv.reader(stats.open(), delimiter=";"))
    last = dict(zip(rows[0], rows[-1]))
    return int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"])


def load_run(procs, logdir, failing, failover, lua=False):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    if lua:
        lua_script = TOP / "config" / "ha_pair.lua"
        kam = Kamailio(procs, logdir, PAIRS,
                       cfg=TOP / "config" / "kamailio-kemi.cfg",
                       defines={"LUA_SCRIPT": f'"{lua_script}"'})
    else:
        kam = Kamailio(procs, logdir, PAIRS,
                       defines={} if failover else {"WITHOUT_FAILOVER": None})
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("sipserver1")["members"]), 3) \
        is not None
    if failing == "backup":
        kam.rpc("ha_pair.switchover", "sipserver1", "backup")
    victim, other = (pri, bak) if failing == "primary" else (bak, pri)
    assert kam.show("sipserver1")["active"] == failing

    caller, stats = run_calls(procs, logdir)
    time.sleep(FREEZE_AT)
    # frozen right after it answered a probe: the pair finds out at that
    # probe's send time + 2 oos-check (the next probe's deadline), about
    # 2 s later, so the calls sent to it in the first second fail (FR_MS,
    # 1 s) before the verdict and must wait for it. Frozen at a random
    # moment less than about 80 ms before a probe (a call's spacing and
    # tm's timer step; up to one run in twelve), the verdict came within
    # 1 s of the freeze, before any call had failed: nothing waited,
    # rightly (a 6.0 run saw `waited` 0), and the test missed its point
    seen = victim.received("OPTIONS sip:")
    assert wait_until(lambda: victim.received("OPTIONS sip:") > seen,
                      2.5, step=0.005) is not None
    victim.freeze()
    rc = caller.wait(60)
    ok, failed = final_counts(stats)
    p = kam.show("sipserver1")
    note(logdir, "failover_load.txt",
         f"{'lua: ' if lua else ''}{failing} frozen, "
         f"ha_failover {'on' if failover else 'off'}"
         f": {ok} calls ok, {failed} failed, sipp rc {rc}\n")
    assert p["active"] == ("backup" if failing == "primary" else "primary")
    assert other.received("INVITE sip:") > 0
    if failover:
        # the transactions that failed on the frozen member were suspended
        # until the pair found the other one, none refused at the bound
        assert int(p["waited"]) > 0, p
        assert (p["waiting"], p["wait_timeouts"], p["wait_rejected"]) == (
            "0", "0", "0"), p
        note(logdir, "failover_load.txt",
             f"  {p['waited']} transactions waited for the verdict, "
             f"0 at the bound\n")
    return ok, failed, rc


@pytest.mark.parametrize("failing", ["primary", "backup"])
def test_no_call_lost_with_ha_failover(procs, logdir, failing):
    ok, failed, rc = load_run(procs, logdir, failing, failover=True)
    assert (ok, failed, rc) == (CALLS, 0, 0)


def test_calls_lost_without_ha_failover(procs, logdir):
    ok, failed, rc = load_run(procs, logdir, "primary", failover=False)
    assert failed > 0 and ok + failed == CALLS


def test_no_call_lost_with_ha_failover_in_lua(procs, logdir):
    """The same with the routing in Lua (KEMI: KSR.ha_pair.ha_failover())."""
    ok, failed, rc = load_run(procs, logdir, "primary", failover=True,
                              lua=True)
    assert (ok, failed, rc) == (CALLS, 0, 0)
