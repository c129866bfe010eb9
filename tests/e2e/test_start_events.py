# SPDX-License-Identifier: GPL-2.0-or-later
"""Each pair fires its start event exactly once (issue 12, item 3), also
when reloads interleave: one thread adds a pair and reloads, again and
again, while another reloads the same file as fast as it can. A reload
that installs its table just after another one's used to read the newer
table, where the pair it added is no longer "fresh": its start event was
lost (or, the other way round, fired twice)."""

import collections
import re
import threading

from conftest import Kamailio, Peer, pairs_xml

PRI, BAK = "sip:127.0.0.2:5060", "sip:127.0.0.3:5060"
ADDED = 60


def xml(n):
    return pairs_xml([(f"p{i}", PRI, BAK, {"oos-check": "1s",
                                            "oos-force": "300ms"})
                      for i in range(n)])


def starts(kam):
    return collections.Counter(re.findall(
        r"ha_pair event switchover: pair=(\S+) none -> primary .* "
        r"reason=start", kam.log_text()))


def test_each_added_pair_starts_once_under_interleaved_reloads(procs,
                                                               logdir):
    Peer(procs, logdir, "primary", "127.0.0.2")
    kam = Kamailio(procs, logdir, xml(1))
    assert kam.wait(lambda: starts(kam) == {"p0": 1}, 3) is not None, \
        starts(kam)
    done = threading.Event()
    errors = []

    def hammer():
        while not done.is_set():
            r = kam.rpc("ha_pair.reload", check=False)
            if r.returncode != 0:
                errors.append(r.stdout + r.stderr)

    others = [threading.Thread(target=hammer) for _ in range(2)]
    for t in others:
        t.start()
    try:
        for n in range(2, ADDED + 2):
            tmp = kam.pairs.with_suffix(".tmp")
            tmp.write_text(xml(n))
            tmp.replace(kam.pairs)  # whole files only
            kam.rpc("ha_pair.reload")
    finally:
        done.set()
        for t in others:
            t.join(15)
    assert not errors, errors[:3]
    want = {f"p{i}": 1 for i in range(ADDED + 1)}
    assert kam.wait(lambda: starts(kam) == want, 5) is not None, {
        k: v for k, v in starts(kam).items() if v != 1} or (
        set(want) - set(starts(kam)))
    assert "event queue full" not in kam.log_text()
