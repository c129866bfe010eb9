# SPDX-License-Identifier: GPL-2.0-or-later
"""A DNS refresh rebuilds the table from the pairs' definitions, so every
pair keeps all its settings, not only its timings. The case that showed it:
module member_trust "any", a pair with member-trust="confirm" and its
primary named by a host name. Once the name moved, a forged UDP request
from the closed standby's address must still wait for a probe answer (none
comes) and not switch the pair. Runs in a network namespace of its own
whose /etc/hosts the test rewrites (test_dns_refresh.py)."""

from conftest import HOSTS, Kamailio, Peer, pairs_xml, send_request

FAR = "127.0.0.5:5060"
PAIRS = pairs_xml([("named", "sip:ha-primary.test:5060",
                    "sip:127.0.0.3:5060",
                    {"oos-check": "500ms", "oos-force": "300ms",
                     "member-trust": "confirm"})])


def test_refresh_keeps_member_trust(procs, logdir, hosts_netns):
    ns, hosts = hosts_netns
    Peer(procs, logdir, "old-address", "127.0.0.2", netns=ns)
    new = Peer(procs, logdir, "new-address", "127.0.0.7", netns=ns)
    Peer(procs, logdir, "far", "127.0.0.5", netns=ns)
    # nothing serves the backup's address: a claim from it is never
    # confirmed
    kam = Kamailio(procs, logdir, PAIRS, netns=ns,
                   defines={"WITH_SYSTEM_RESOLVER": None, "DNS_REFRESH": 1,
                            "MEMBER_TRUST": '"any"'})
    assert kam.wait(lambda: kam.show("named")["members"][1]["state"]
                    == "down", 3) is not None
    p = kam.show("named")
    assert (p["active"], p["member_trust"], p["oos_check"]) == \
        ("primary", "confirm", "500"), p

    # the name moves (written in place: the bind mount keeps the inode)
    with open(hosts, "r+") as f:
        f.truncate(0)
        f.write(HOSTS.format(ip="127.0.0.7"))
    assert kam.wait(lambda: new.received("OPTIONS sip:ha-primary.test") >= 2,
                    4) is not None, kam.log_text()[-2000:]
    assert "resolve to new addresses" in kam.log_text()
    p = kam.show("named")
    assert (p["active"], p["member_trust"], p["oos_check"],
            p["oos_force"]) == ("primary", "confirm", "500", "300"), p

    # forged: from the standby's address over UDP
    assert send_request(procs, logdir, "127.0.0.3", 5060, user="forged",
                        ruri_host=FAR, netns=ns) == 200
    assert kam.wait(lambda: "probing it to confirm" in kam.log_text(),
                    2) is not None, kam.log_text()[-2000:]
    # the confirming probe goes unanswered (oos-force 300 ms): no switch
    assert kam.wait(lambda: kam.show("named")["claims_unconfirmed"] != "0",
                    3) is not None, kam.show("named")
    p = kam.show("named")
    assert (p["active"], p["switchovers"], p["member_trust"]) == \
        ("primary", "0", "confirm"), p
