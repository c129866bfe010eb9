# SPDX-License-Identifier: GPL-2.0-or-later
"""Each pair fires its start event exactly once (issue 12, item 3), also
when loads interleave: reloads add pairs one by one while the DNS refresh
installs a table every second (a member's host name flips between two
addresses, in a network namespace of the test's own, as in
test_dns_refresh.py). A reload used to queue its start events after
releasing the store's lock, from whatever table was running by then: one
that a refresh (or another load) had installed in between, where the pair
it added was no longer new, lost that pair's start event. The window is
microseconds wide, so this test proves the behaviour under interleaving
rather than reproducing the old race every run. (ctl runs RPCs one at a
time, so two reloads never overlap; the refresh runs in its own
process.)"""

import collections
import re
import threading
import time

from conftest import HOSTS, Kamailio, Peer, pairs_xml

PRI, BAK = "sip:127.0.0.2:5060", "sip:127.0.0.3:5060"
NAMED = ("named", "sip:ha-primary.test:5060", BAK, {"oos-check": "1s"})
ADDED = 40


def xml(n):
    return pairs_xml([NAMED] + [(f"p{i}", PRI, BAK, {"oos-check": "1s"})
                                for i in range(n)])


def starts(kam):
    return collections.Counter(re.findall(
        r"ha_pair event switchover: pair=(\S+) none -> primary .* "
        r"reason=start", kam.log_text()))


def test_each_added_pair_starts_once_while_loads_interleave(procs, logdir,
                                                            hosts_netns):
    ns, hosts = hosts_netns
    for name, ip in (("primary", "127.0.0.2"), ("moved", "127.0.0.7")):
        Peer(procs, logdir, name, ip, netns=ns)
    kam = Kamailio(procs, logdir, xml(0), netns=ns,
                   defines={"WITH_SYSTEM_RESOLVER": None, "DNS_REFRESH": 1})
    assert kam.wait(lambda: starts(kam) == {"named": 1}, 3) is not None, \
        starts(kam)
    done = threading.Event()

    def flip():
        ips = ["127.0.0.7", "127.0.0.2"]
        while not done.is_set():
            with open(hosts, "r+") as f:  # in place: the bind mount stays
                f.truncate(0)
                f.write(HOSTS.format(ip=ips[0]))
            ips.reverse()
            done.wait(0.1)

    flipper = threading.Thread(target=flip)
    flipper.start()
    try:
        for n in range(1, ADDED + 1):
            tmp = kam.pairs.with_suffix(".tmp")
            tmp.write_text(xml(n))
            tmp.replace(kam.pairs)  # whole files only
            kam.rpc("ha_pair.reload")
            # slower than the flips: the refresh finds an address the
            # last reload did not resolve, and installs a table
            time.sleep(0.25)
    finally:
        done.set()
        flipper.join(5)
    refreshes = kam.log_text().count("resolve to new addresses")
    assert refreshes >= 2, "the DNS refresh never installed a table"
    want = {"named": 1, **{f"p{i}": 1 for i in range(ADDED)}}
    assert kam.wait(lambda: starts(kam) == want, 5) is not None, (
        {k: v for k, v in starts(kam).items() if v != 1},
        set(want) - set(starts(kam)))
    assert "event queue full" not in kam.log_text()
