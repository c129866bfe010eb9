# SPDX-License-Identifier: GPL-2.0-or-later
"""Members resolved by SRV (RFC 3263, no port in the URI), against a real
DNS server (Debian's dnsmasq) in a network namespace of the test's
(conftest's dnsns: its resolv.conf names dnsmasq; the host's is never
touched).

- Probes go to the SRV target the resolver picks (the one of highest
  priority), on its port: the member is up, probed there.
- With dns_try_naptr (WITH_NAPTR), a member whose name has only a NAPTR
  record (SIP+D2U, to an SRV name) is probed at that SRV's target.
- Every SRV target's addresses count as the member (issue 12, item 6): a
  request from the other target (another address and port) makes the
  standby primary active (passive switchover, member_trust any). Before,
  only the chosen target's address and the SRV domain's own A records did,
  and that request was routed as from anyone else.
- A member whose host resolves to more addresses than a member may have
  (16) is refused at reload with the reason, and the running pairs stay
  (issue 12, item 7)."""

import pytest

import conftest
from conftest import Kamailio, Peer, pairs_xml, parse_kamcmd, send_request

DOMAIN = "ha-srv.test"
PAIRS = pairs_xml([("srv", f"sip:{DOMAIN}", "sip:127.0.0.3:5060",
                    {"oos-check": "1s"})])
MANY = pairs_xml([("srv", f"sip:{DOMAIN}", "sip:127.0.0.3:5060",
                   {"oos-check": "1s"}),
                  ("many", "sip:many.test:5060", "sip:127.0.0.3:5060", {})])


def dnsmasq(procs, logdir, ns):
    # two targets: t1 first (priority 10), t2 after (20)
    args = [f"--srv-host=_sip._udp.{DOMAIN},t1.{DOMAIN},5070,10,50",
            f"--srv-host=_sip._udp.{DOMAIN},t2.{DOMAIN},5072,20,50",
            f"--host-record=t1.{DOMAIN},127.0.0.2",
            f"--host-record=t2.{DOMAIN},127.0.0.5",
            f"--host-record={DOMAIN},127.0.0.8"]
    # NAPTR (SIP+D2U) -> SRV -> t3 (only through the NAPTR record)
    args += ["--naptr-record=ha-naptr.test,10,10,S,SIP+D2U,,"
             "_sip._udp.naptr-srv.test",
             f"--srv-host=_sip._udp.naptr-srv.test,t3.{DOMAIN},5074,10,50",
             f"--host-record=t3.{DOMAIN},127.0.0.6"]
    # a host with 17 addresses
    args += [f"--host-record=many.test,127.0.1.{i}" for i in range(1, 18)]
    return conftest.dnsmasq(procs, logdir, ns, args)


@pytest.mark.timeout(60)
def test_srv_member_all_targets(procs, logdir, dnsns):
    dnsmasq(procs, logdir, dnsns)
    t1 = Peer(procs, logdir, "t1", "127.0.0.2", port=5070, netns=dnsns)
    Peer(procs, logdir, "backup", "127.0.0.3", netns=dnsns)
    kam = Kamailio(procs, logdir, PAIRS, netns=dnsns,
                   defines={"MEMBER_TRUST": '"any"'})
    # probed at the SRV target of highest priority, on its port
    assert kam.wait(lambda: kam.show("srv")["members"][0]["state"] == "up",
                    5) is not None, kam.log_text()[-2000:]
    assert t1.received("OPTIONS sip:ha-srv.test") >= 1
    kam.rpc("ha_pair.switchover", "srv", "backup")
    assert kam.show("srv")["active"] == "backup"

    # a request from the other SRV target (its address and port) is from
    # the primary: it becomes active again
    assert send_request(procs, logdir, "127.0.0.5", 5072, user="t2",
                        ruri_host="127.0.0.3:5060", netns=dnsns) == 200
    p = kam.show("srv")
    assert (p["active"], p["last_switchover_reason"]) == \
        ("primary", "passive"), p

    # 17 addresses: refused, the running pairs stay
    kam.pairs.write_text(MANY)
    r = kam.rpc("ha_pair.reload", check=False)
    assert ("pair 'many' primary: host 'many.test' resolves to more than "
            "16 addresses") in r.stdout + r.stderr, r.stdout + r.stderr
    assert [x["name"] for x in
            parse_kamcmd(kam.rpc("ha_pair.list").stdout)] == ["srv"]


NAPTR = pairs_xml([("naptr", "sip:ha-naptr.test", "sip:127.0.0.3:5060",
                    {"oos-check": "1s"})])


@pytest.mark.timeout(60)
def test_naptr_member_probed_at_its_srv_target(procs, logdir, dnsns):
    dnsmasq(procs, logdir, dnsns)
    t3 = Peer(procs, logdir, "t3", "127.0.0.6", port=5074, netns=dnsns)
    Peer(procs, logdir, "backup", "127.0.0.3", netns=dnsns)
    kam = Kamailio(procs, logdir, NAPTR, netns=dnsns,
                   defines={"WITH_NAPTR": None})
    assert kam.wait(lambda: kam.show("naptr")["members"][0]["state"]
                    == "up", 5) is not None, kam.log_text()[-2000:]
    assert t3.received("OPTIONS sip:ha-naptr.test") >= 1
    assert kam.show("naptr")["active"] == "primary"
