# SPDX-License-Identifier: GPL-2.0-or-later
"""A kamailio stops clean after ha_pair made transactions wait (issue 20
item 7, issue 21 item 1): SIGTERM while requests wait for a hunting pair,
and SIGTERM just after requests waited and were answered (their
transactions still in tm's table, on its wait timer). Every time the
kamailio exits by itself with status 0 and leaves no core, on 5.6 as on
6.0. 5.6's tm frees the transactions it still holds in its module destroy,
which runs after ha_pair's, and calls their TMCB_DESTROY callbacks there:
ha_pair's must not touch what its own destroy freed (docs/design.md,
Shutdown)."""

import signal
import time

import test_evidence
from conftest import Kamailio, bad_member, pairs_xml

CHECK_MS, FORCE_MS = 1000, 500
PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060",
                    "sip:127.0.0.3:5060",
                    {"oos-check": f"{CHECK_MS}ms",
                     "oos-force": f"{FORCE_MS}ms"})])
N = 3


def hunting(procs, logdir, max_wait):
    """Both members (sipp) frozen once up: the pair hunts, and a request
    waits up to max_wait ms (test_evidence's hunt)."""
    return test_evidence.hunting(procs, logdir, max_wait)[2]


def stop_clean(procs, kam):
    """SIGTERM to kam's main process: it must exit by itself, 0, no core
    (what the procs fixture checks of every kamailio, said here too)."""
    t0 = time.monotonic()
    procs.stop(kam.proc, signal.SIGTERM, wait=10)
    took = time.monotonic() - t0
    unclean = procs.unclean()
    assert not unclean, "\n".join(unclean)
    assert kam.proc.returncode == 0, kam.proc.returncode
    assert "exited by a signal" not in kam.log_text()
    return took


def test_sigterm_while_requests_wait(procs, logdir, uacs):
    kam = hunting(procs, logdir, 8000)
    us = [uacs("127.0.0.20", 6000 + i) for i in range(N)]
    for i, u in enumerate(us):
        u.request("MESSAGE", f"waits{i}", ruri="sip:alice@127.0.0.2:5060")
    assert kam.wait(lambda: kam.show("sipserver1")["waiting"] == str(N), 3) \
        is not None, kam.show("sipserver1")
    stop_clean(procs, kam)


def test_sigterm_after_requests_waited(procs, logdir, uacs):
    """Each request waits its bound (1 s) and is answered 503; tm keeps
    the transactions for its wait timer (5 s), within which the stop
    comes."""
    kam = hunting(procs, logdir, 1000)
    us = [uacs("127.0.0.20", 6000 + i) for i in range(N)]
    for i, u in enumerate(us):
        u.request("MESSAGE", f"waited{i}", ruri="sip:alice@127.0.0.2:5060")
    for i, u in enumerate(us):
        code, text, _ = u.final(f"waited{i}", "MESSAGE", 4)
        assert code == 503, text
    st = kam.stats()
    assert (st["waited"], st["waiting"], st["wait_timeouts"]) == (N, 0, N), st
    stop_clean(procs, kam)


def test_sigterm_after_member_ignored_requests(procs, logdir, uacs):
    """The issue's case: three requests the primary (a real SIP server)
    ignores; tm's fr_timer (1 s) fails each, ha_failover() asks for a
    verification probe and the transaction waits for its verdict (the
    probe is answered: the member's 408 stands); then SIGTERM."""
    bad_member(procs, logdir)
    kam = Kamailio(procs, logdir, PAIRS)
    assert kam.wait(lambda: kam.show("sipserver1")["members"][0]["state"]
                    == "up", 3) is not None
    u = uacs("127.0.0.11")
    for i in range(N):
        u.request("MESSAGE", f"ignored{i}", headers=["X-Test: ignore"])
    for i in range(N):
        code, text, _ = u.final(f"ignored{i}", "MESSAGE", 6)
        assert code == 408, text
    st = kam.stats()
    # one whose verdict was in already (a probe answered in that very
    # millisecond) is answered without waiting
    assert st["waited"] >= 1 and st["waiting"] == 0, st
    stop_clean(procs, kam)
