# SPDX-License-Identifier: GPL-2.0-or-later
"""Soak (make test-long; skipped unless HA_LONG=1): SOAK_SECONDS (600) of
calls at SOAK_RATE (100) calls/s, each held 2 s, through the proxy, with
a switchover every 30 s from alternating causes:

- freeze: the active member's process is stopped (SIGSTOP); the pair finds
  it out (probe, or ha_failover() on a call's timeout); 10 s later that
  process is replaced by a fresh one (a hung server restarted: no backlog
  of stale answers);
- manual: ha_pair.switchover;
- passive: a MESSAGE from the standby's own address (its process is
  replaced around it, since it holds the address).

Reports the failed calls per switchover, and the shared memory (Kamailio's
and ha_pair's own, mod.stats) before and after, to
tests/e2e/logs/soak.txt; asserts no failed call, no switchover the soak
did not ask for, and no growth of memory beyond noise."""

import csv
import os
import re
import time

import pytest

from conftest import SIPP, Kamailio, Peer, pairs_xml, send_request

LONG = os.environ.get("HA_LONG") == "1"
SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
RATE = int(os.environ.get("SOAK_RATE", "100"))
HOLD_MS, PERIOD = 2000, 30.0
PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])
IP = {"primary": "127.0.0.2", "backup": "127.0.0.3"}
FAR = "127.0.0.5:5060"


def shm_used(kam):
    return int(re.search(r"used: (\d+)",
                         kam.rpc("core.shmmem").stdout).group(1))


def module_mem(kam):
    """ha_pair's own memory by Kamailio's accounting: (shm, pkg) totals."""
    out = kam.rpc("mod.stats", "ha_pair", "all").stdout
    tot = [int(x) for x in re.findall(r"Total: (\d+)", out)]
    return (tot[1] if len(tot) > 1 else 0, tot[0] if tot else 0), out


def counts(stats):
    """(successful, failed) calls so far, from sipp's statistics file."""
    try:
        rows = list(csv.reader(stats.open(), delimiter=";"))
    except FileNotFoundError:
        return 0, 0
    if len(rows) < 2:
        return 0, 0
    last = dict(zip(rows[0], rows[-1]))
    return int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"])


@pytest.mark.long
@pytest.mark.skipif(not LONG, reason="long: make test-long (HA_LONG=1)")
@pytest.mark.timeout(SECONDS + 240)
def test_soak(procs, logdir):
    peers = {r: Peer(procs, logdir, r, IP[r]) for r in IP}
    Peer(procs, logdir, "far", FAR.split(":")[0])
    gen = {"primary": 0, "backup": 0}
    kam = Kamailio(procs, logdir, PAIRS)
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("sipserver1")["members"]), 5) \
        is not None

    def fresh(role):
        """Replace role's sipp process by a new one."""
        peers[role].kill()
        gen[role] += 1
        peers[role] = Peer(procs, logdir, f"{role}{gen[role]}", IP[role])

    # warm-up: calls at the full rate for 20 s, a switchover of each kind
    # (the first of each allocates what stays), then quiet
    def calls(n, tag):
        stats = logdir / f"caller-{tag}.csv"
        args = ["sipp", "-sf", str(SIPP / "call.xml"), "-i", "127.0.0.10",
                "-p", "5090", "-r", str(RATE), "-m", str(n), "-l",
                str(RATE * 10), "-d", str(HOLD_MS), "-s", "bob", "-nostdin",
                "-timeout", f"{SECONDS + 120}s", "-trace_stat", "-stf",
                str(stats), "-fd", "1", "-trace_err", "-error_file",
                str(logdir / f"caller-{tag}-errors.log"), "127.0.0.1:5060"]
        return procs.start(args, logdir / f"caller-{tag}.out",
                           cwd=logdir), stats

    def active():
        return kam.show("sipserver1")["active"]

    def switch(cause):
        """One switchover by cause; returns (seconds until the pair had
        switched, or None, what happened)."""
        old = active()
        other = "backup" if old == "primary" else "primary"
        t0 = time.monotonic()
        if cause == "freeze":
            peers[old].freeze()
            frozen.append((old, t0))
        elif cause == "manual":
            kam.rpc("ha_pair.switchover", "sipserver1")
        else:  # passive: a request from the standby's own address
            peers[other].kill()
            code = send_request(procs, logdir, IP[other], 5060,
                                user=f"passive{len(log)}", ruri_host=FAR)
            gen[other] += 1
            peers[other] = Peer(procs, logdir, f"{other}{gen[other]}",
                                IP[other])
            if code != 200:
                return None, f"passive MESSAGE got {code}"
        took = kam.wait(lambda: active() == other, 10, step=0.02)
        return took, f"{old} -> {other}"

    def thaw(now):
        """A member frozen 10 s ago is replaced by a fresh process."""
        for role, t in list(frozen):
            if now - t >= 10:
                fresh(role)
                frozen.remove((role, t))

    frozen, log = [], []
    caller, stats = calls(RATE * 20, "warmup")
    # (the freeze last: its member is replaced only when tm has given up
    # retransmitting to it, as in the soak, and nothing switches back to
    # it while it is frozen)
    for cause in ("manual", "passive", "freeze"):
        time.sleep(5)
        switch(cause)
    time.sleep(11)
    thaw(time.monotonic())
    assert caller.wait(60) is not None
    time.sleep(10)  # tm's transactions go after their wait timer
    shm0, mod0 = shm_used(kam), module_mem(kam)[0]
    warm = counts(stats)
    sw0 = int(kam.show("sipserver1")["switchovers"])

    # the soak
    caller, stats = calls(RATE * SECONDS, "soak")
    t_start = time.monotonic()
    causes = ("freeze", "manual", "passive")
    i = 0
    prev_failed = 0
    while time.monotonic() - t_start < SECONDS - PERIOD / 2:
        nxt = t_start + (i + 1) * PERIOD
        while time.monotonic() < nxt:
            thaw(time.monotonic())
            time.sleep(0.2)
        if time.monotonic() - t_start > SECONDS - 5:
            break
        ok_before, failed_before = counts(stats)
        cause = causes[i % 3]
        took, what = switch(cause)
        log.append([i + 1, round(time.monotonic() - t_start), cause, what,
                    None if took is None else round(took * 1000),
                    failed_before - prev_failed])
        prev_failed = failed_before
        i += 1
    rc = caller.wait(SECONDS + 60)
    thaw(time.monotonic() + 10)
    ok, failed = counts(stats)
    # the failures after the last switchover belong to it
    if log:
        log[-1].append(failed - prev_failed)
        for j in range(len(log) - 1):
            log[j].append(log[j + 1][5])
    time.sleep(12)
    shm1, (mod1, mod_out) = shm_used(kam), module_mem(kam)
    p = kam.show("sipserver1")

    lines = [f"soak: {SECONDS} s at {RATE} calls/s, hold {HOLD_MS} ms, a "
             f"switchover every {PERIOD:.0f} s; warm-up {warm[0]} ok / "
             f"{warm[1]} failed",
             f"calls: {ok} ok, {failed} failed (sipp rc {rc}); switchovers "
             f"{int(p['switchovers']) - sw0} in the soak ({len(log)} asked "
             f"for), {p['switchovers']} in all",
             "n  at_s  cause    switch            took_ms  failed_calls"]
    for n, at, cause, what, took, _, fails in log:
        lines.append(f"{n:<3}{at:<6}{cause:<9}{what:<18}{took!s:<9}{fails}")
    lines.append(f"shm used (core.shmmem): before {shm0}, after {shm1} "
                 f"({shm1 - shm0:+d}); ha_pair's own (mod.stats shm, pkg): "
                 f"before {mod0}, after {mod1}")
    text = "\n".join(lines) + "\n"
    (logdir.parent / "soak.txt").write_text(text)
    print("\n" + text)

    assert ok + failed == RATE * SECONDS
    assert all(row[4] is not None for row in log), log
    # no call fails: those caught in flight by a freeze, and those that
    # arrive while the pair hunts, wait for the member it finds
    assert failed == 0, text
    # and the pair switched exactly as often as the soak asked it to (a
    # BYE a member does not answer is probed, not taken as its failure)
    assert int(p["switchovers"]) - sw0 == len(log), text
    assert len(log) >= SECONDS // PERIOD - 1
    # no growth beyond noise: ha_pair's own memory as it was; Kamailio's
    # shared memory within 256 KB (tm's and the allocator's fragments)
    assert abs(mod1[0] - mod0[0]) < 2048, (mod0, mod1, mod_out)
    assert shm1 - shm0 < 256 * 1024, (shm0, shm1)
