# SPDX-License-Identifier: GPL-2.0-or-later
"""Member host names are resolved again every dns_refresh seconds: when a
name moves to another address, probes and requests follow, and the pair
keeps its state. Runs in a network namespace of its own, whose /etc/hosts
(bind-mounted by ip netns exec from /etc/netns/<name>/hosts) the test
rewrites."""

from conftest import HOSTS, Kamailio, Peer, pairs_xml

PAIRS = pairs_xml([("named", "sip:ha-primary.test:5060",
                    "sip:127.0.0.3:5060",
                    {"oos-check": "500ms", "oos-force": "300ms"})])


def test_member_follows_its_host_name(procs, logdir, hosts_netns):
    ns, hosts = hosts_netns
    old = Peer(procs, logdir, "old-address", "127.0.0.2", netns=ns)
    new = Peer(procs, logdir, "new-address", "127.0.0.7", netns=ns)
    Peer(procs, logdir, "backup", "127.0.0.3", netns=ns)
    kam = Kamailio(procs, logdir, PAIRS, netns=ns,
                   defines={"WITH_SYSTEM_RESOLVER": None, "DNS_REFRESH": 1})
    assert kam.wait(lambda: kam.show("named")["members"][0]["state"] == "up",
                    3) is not None
    assert old.received("OPTIONS sip:ha-primary.test") >= 1
    assert new.received("OPTIONS sip:ha-primary.test") == 0

    # the name moves (written in place: the bind mount keeps the inode)
    with open(hosts, "r+") as f:
        f.truncate(0)
        f.write(HOSTS.format(ip="127.0.0.7"))
    assert kam.wait(lambda: new.received("OPTIONS sip:ha-primary.test") >= 2,
                    4) is not None, kam.log_text()[-2000:]
    p = kam.show("named")
    assert (p["state"], p["active"], p["switchovers"]) == \
        ("CHECK", "primary", "0")
    assert "resolve to new addresses" in kam.log_text()
    # three more probes (500 ms apart), all at the new address
    n = old.received("OPTIONS sip:ha-primary.test")
    m = new.received("OPTIONS sip:ha-primary.test")
    assert kam.wait(lambda: new.received("OPTIONS sip:ha-primary.test")
                    >= m + 3, 3) is not None
    assert old.received("OPTIONS sip:ha-primary.test") == n
