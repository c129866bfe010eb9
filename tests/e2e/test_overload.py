# SPDX-License-Identifier: GPL-2.0-or-later
"""Overload control with pipelimit (WITH_OVERLOAD in the example config):
offered twice the limit of new calls, the proxy admits the limit (within
10 %) and refuses the rest with 503."""


from conftest import SIPP, Kamailio, Peer, pairs_xml
from test_failover_under_load import final_counts

PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s"})])
LIMIT, SECONDS = 20, 10


def test_admitted_rate_is_the_limit(procs, logdir):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS, defines={
        "WITH_OVERLOAD": None, "INVITE_LIMIT": LIMIT})
    assert kam.wait(lambda: kam.show("sipserver1")["members"][0]["state"]
                    == "up", 3) is not None
    stats = logdir / "caller-stats.csv"
    args = ["sipp", "-sf", str(SIPP / "call.xml"), "-i", "127.0.0.10",
            "-p", "5090", "-r", str(2 * LIMIT), "-m", str(2 * LIMIT * SECONDS),
            "-d", "100", "-s", "bob", "-nostdin", "-timeout", "40s",
            "-trace_stat", "-stf", str(stats), "-fd", "1",
            "127.0.0.1:5060"]
    caller = procs.start(args, logdir / "caller.out", cwd=logdir)
    caller.wait(40)
    ok, failed = final_counts(stats)
    admitted = pri.received("INVITE sip:")
    with open(logdir.parent / "overload.txt", "w") as f:
        f.write(f"offered {2 * LIMIT}/s for {SECONDS} s: {admitted} admitted "
                f"({admitted / SECONDS:.1f}/s), {failed} refused\n")
    assert ok == admitted and ok + failed == 2 * LIMIT * SECONDS
    assert abs(admitted / SECONDS - LIMIT) <= 0.1 * LIMIT, admitted
