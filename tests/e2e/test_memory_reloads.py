# SPDX-License-Identifier: GPL-2.0-or-later
"""1,000 ha_pair.reload RPCs, alternating between two pairs files, leave
ha_pair's shared and private memory where they were, by Kamailio's own
accounting (its pkg/shm allocators are invisible to AddressSanitizer):
`mod.stats ha_pair all` (the module's pkg in the process that runs the
reloads, the ctl process, and its shm) and `core.shmmem`. (kex's
`pkg.stats` is not used: it is refreshed only when a process handles a SIP
message, so the ctl process's figure there never moves.) The parser uses
the C library's malloc (libxml2), outside Kamailio's accounting: the ctl
process's private resident memory (RssAnon: not the shared memory pages it
touched) is checked too (not under ASan, whose quarantine keeps freed
memory).

Long (about a minute): runs only with HA_LONG=1 (make test-long)."""

import os
import re
import time

import pytest

from conftest import SANITIZE, Kamailio, Peer, pairs_xml, parse_kamcmd

pytestmark = [pytest.mark.long,
              pytest.mark.skipif(os.environ.get("HA_LONG") != "1",
                                 reason="long test: set HA_LONG=1")]

RELOADS = 1000
# after the replaced tables' grace (HA_RETIRE_GRACE_MS, 5 s) and the
# prober's reaping pass (every second)
SETTLE_S = 8
# bounds: ha_pair's own pkg and shm may differ by allocator rounding only
# (one table leaked per reload would be ~1000 x 1-2 KB); the whole shm
# pool and each process's pkg also hold what the core and other modules
# keep (statistics, tm, the RPC's buffers)
MOD_BOUND = 1024
SHM_BOUND = 64 * 1024
# a parsed configuration leaked per reload would be 1000 x 1-2 KB and more
RSS_BOUND = 512 * 1024

A = ("pairA", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060")
B = ("pairB", "sip:127.0.0.4:5060", "sip:127.0.0.6:5060")
ONE = pairs_xml([A + ({"oos-check": "1s"},)])
TWO = pairs_xml([A + ({"oos-check": "2s", "alive-codes": "2xx,404"},),
                 B + ({"oos-force": "500ms"},)])


def mod_stats(kam):
    """ha_pair's (pkg, shm) totals: pkg of the process serving the RPC
    (the one that runs reloads), shm of all."""
    out = kam.rpc("mod.stats", "ha_pair", "all").stdout
    totals = [int(x) for x in re.findall(r"Total: (\d+)", out)]
    assert len(totals) == 2, out
    return tuple(totals)


def shm_used(kam):
    out = kam.rpc("core.shmmem").stdout
    return int(re.search(r"used: (\d+)", out).group(1))


def ctl_pid(kam):
    """The process that runs the RPC commands (ctl's handler)."""
    procs = parse_kamcmd(kam.rpc("core.psx").stdout)
    pids = [int(p["PID"]) for p in procs if "ctl handler" in p["DSC"]]
    assert len(pids) == 1, procs
    return pids[0]


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"RssAnon:\s+(\d+) kB", f.read()).group(1)) * 1024


def snapshot(kam, pid):
    return {"mod": mod_stats(kam), "shm": shm_used(kam), "rss": rss(pid)}


@pytest.mark.timeout(600)
def test_1000_reloads_leak_no_memory(procs, logdir):
    for ip in ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.6"):
        Peer(procs, logdir, ip, ip)
    kam = Kamailio(procs, logdir, ONE)
    assert kam.wait(lambda: kam.show("pairA")["members"][0]["state"] == "up",
                    3) is not None
    # warm up: the first reloads allocate what stays (statistics, buffers)
    for text in (TWO, ONE, TWO, ONE):
        kam.pairs.write_text(text)
        kam.rpc("ha_pair.reload")
    time.sleep(SETTLE_S)
    pid = ctl_pid(kam)
    before = snapshot(kam, pid)

    t0 = time.monotonic()
    for i in range(RELOADS):
        kam.pairs.write_text(TWO if i % 2 == 0 else ONE)
        out = kam.rpc("ha_pair.reload").stdout
        assert "error" not in out.lower(), (i, out)
    took = time.monotonic() - t0
    peak = snapshot(kam, pid)
    time.sleep(SETTLE_S)
    after = snapshot(kam, pid)

    # the last file loaded was ONE: pairB is gone, pairA still probed
    assert [p for p in re.findall(r"name: (\S+)",
                                  kam.rpc("ha_pair.list").stdout)] == \
        ["pairA"]
    with open(logdir.parent / "memory_reloads.txt", "w") as f:
        f.write(f"{RELOADS} reloads in {took:.1f} s\n"
                f"ha_pair pkg (RPC process): before {before['mod'][0]}, "
                f"peak {peak['mod'][0]}, after {after['mod'][0]}\n"
                f"ha_pair shm: before {before['mod'][1]}, peak "
                f"{peak['mod'][1]}, after {after['mod'][1]}\n"
                f"shm used: before {before['shm']}, peak {peak['shm']}, "
                f"after {after['shm']}\n"
                f"ctl process RssAnon (private memory): before {before['rss']}, peak "
                f"{peak['rss']}, after {after['rss']}"
                f"{' (ASan: not checked)' if SANITIZE else ''}\n")
    assert abs(after["mod"][0] - before["mod"][0]) < MOD_BOUND, \
        (before, after)
    assert abs(after["mod"][1] - before["mod"][1]) < MOD_BOUND, \
        (before, after)
    assert after["shm"] - before["shm"] < SHM_BOUND, (before, after)
    if not SANITIZE:
        assert after["rss"] - before["rss"] < RSS_BOUND, (before, after)
    # the accounting does see ha_pair's tables: right after the reloads,
    # those replaced in the last 5 s are still held (their grace)
    assert peak["mod"][1] > after["mod"][1], (peak, after)
