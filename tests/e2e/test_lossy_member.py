# SPDX-License-Identifier: GPL-2.0-or-later
"""A member on a lossy path: the first transmission of every probe is lost,
its retransmission gets through. UDP retransmission inside the deadline
(T1 = min(500 ms, deadline / 4)) means no switchover.

Runs in a network namespace of its own, so that the nftables rule that
loses the datagrams touches nothing but this test."""

import subprocess

import pytest

import harness
from conftest import Kamailio, Peer, pairs_xml

PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])

# every datagram to the primary whose sender has not sent one in the last
# 400 ms is dropped: the first copy of each probe (probes are 1 s apart),
# while its retransmission 250 ms later passes
NFT = """
table ip halossy {
  set seen { type ipv4_addr; flags timeout; }
  chain input {
    type filter hook input priority 0; policy accept;
    ip daddr 127.0.0.2 udp dport 5060 ip saddr @seen counter accept
    ip daddr 127.0.0.2 udp dport 5060 add @seen { ip saddr timeout 400ms } counter drop
  }
}
"""


@pytest.fixture
def netns():
    with harness.netns("halossy", nft=NFT) as name:
        yield name


def counters(ns):
    out = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "table",
                          "ip", "halossy"], capture_output=True, text=True,
                         check=True).stdout
    import re
    c = re.findall(r"counter packets (\d+)", out)
    return int(c[0]), int(c[1])  # accepted, dropped


def test_lossy_member_no_switchover(procs, logdir, netns):
    pri = Peer(procs, logdir, "primary", "127.0.0.2", netns=netns)
    Peer(procs, logdir, "backup", "127.0.0.3", netns=netns)
    kam = Kamailio(procs, logdir, PAIRS, netns=netns)
    # six probes of the primary (1 s apart), the last one answered
    assert kam.wait(lambda: int(kam.show("sipserver1")["members"][0]
                                ["probes_sent"]) >= 6
                    and kam.show("sipserver1")["members"][0]["last_result"]
                    == "up", 10) is not None, kam.show("sipserver1")
    p = kam.show("sipserver1")
    primary = p["members"][0]
    assert (p["state"], p["active"], p["switchovers"]) == \
        ("CHECK", "primary", "0"), p
    assert primary["state"] == "up"
    assert primary["probes_unanswered"] == "0"
    sent = int(primary["probes_sent"])
    assert sent >= 5
    accepted, dropped = counters(netns)
    # every probe lost its first copy and was answered on a retransmission
    assert dropped >= sent - 1, (accepted, dropped, sent)
    assert accepted >= sent - 1
    # each answered probe took about T1 = 250 ms
    assert 200 <= int(primary["last_rtt_ms"]) < 600
    assert pri.received("OPTIONS sip:127.0.0.2") >= sent - 1
