# SPDX-License-Identifier: GPL-2.0-or-later
"""The example three-node pool of config/pool/ (docs/operations.md, "A
pool of proxies"), checked as written: its DNS zone is a valid BIND zone
(read by dnspython's zone parser) whose SRV and A records name exactly the
sockets the node files listen on, each node's dmq node list names the other
two; and the three nodes, started with their files as they are, form one
pool and share a change of the pair's active member."""

import re

import dns.rdatatype
import dns.zone
import pytest

from conftest import TOP, Kamailio, active_nodes, require_free
from test_pool_dmq import (PAIRS, PRI, BAK, promote_seen_by_one,
                           show)

POOL = TOP / "config" / "pool"
ZONE = POOL / "example.net.zone"
NODES = [POOL / f"node{i}.cfg" for i in (1, 2, 3)]
FQDN = "pool.example.net."

pytestmark = pytest.mark.timeout(60)


def defines(cfg):
    """The #!define lines of a node file: {name: value or None}."""
    got = {}
    for line in cfg.read_text().splitlines():
        m = re.match(r"#!define\s+(\w+)(?:\s+(.*\S))?\s*$", line)
        if m:
            got[m.group(1)] = m.group(2)
    return got


def zone_records():
    """{(name, type): [rdata, ...]} of the example zone, names absolute."""
    z = dns.zone.from_file(str(ZONE), origin="example.net.",
                           relativize=False, check_origin=True)
    out = {}
    for name, node in z.nodes.items():
        for rds in node.rdatasets:
            out.setdefault((name.to_text(), dns.rdatatype.to_text(
                rds.rdtype)), []).extend(rds)
    return out


def srv_sockets(recs, transport):
    """{(address, port)} the pool's SRV records of transport lead to."""
    got = set()
    for srv in recs[(f"_sip._{transport}.{FQDN}", "SRV")]:
        for a in recs[(srv.target.to_text(), "A")]:
            got.add((a.address, srv.port))
    return got


def node_socket(d, name):
    proto, ip, port = d[name].split(":")
    return proto, ip, int(port)


def test_example_zone_names_the_nodes_sockets():
    recs = zone_records()
    nodes = [defines(n) for n in NODES]
    for d in nodes:
        assert "WITH_DMQ" in d and "WITH_TCP" in d, d
    udp = {node_socket(d, "LISTEN")[1:] for d in nodes}
    tcp = {node_socket(d, "LISTEN_TCP")[1:] for d in nodes}
    assert [node_socket(d, "LISTEN")[0] for d in nodes] == ["udp"] * 3
    assert [node_socket(d, "LISTEN_TCP")[0] for d in nodes] == ["tcp"] * 3
    assert len(udp) == 3
    # clients following RFC 3263 reach every node, and nothing else
    assert srv_sockets(recs, "udp") == udp
    assert srv_sockets(recs, "tcp") == tcp
    # all of the same priority and weight: no node is a mere fallback
    assert {(r.priority, r.weight) for t in ("udp", "tcp")
            for r in recs[(f"_sip._{t}.{FQDN}", "SRV")]} == {(10, 10)}
    assert {a.address for a in recs[(FQDN, "A")]} == {ip for ip, _ in udp}
    # dmq: each node is its own listen socket, and names the other two
    servers = [d["DMQ_SERVER"] for d in nodes]
    for d, (ip, port) in zip(nodes, [node_socket(d, "LISTEN")[1:]
                                     for d in nodes]):
        assert d["DMQ_SERVER"] == f'"sip:{ip}:{port}"', d
        assert {d["DMQ_NOTIFY"], d["DMQ_NOTIFY2"]} == \
            set(servers) - {d["DMQ_SERVER"]}, d
        # 127.0.0.0/8 only: the test starts them as they are
        assert ip.startswith("127."), ip


def test_example_nodes_form_a_pool_and_share_a_change(
        procs, logdir, udp_member):
    """The three node files as they are (kamailio -f nodeN.cfg, nothing
    but the pairs file and the control socket given): dmq lists the three
    nodes as active on each, and a passive switchover seen by one node is
    adopted by the other two (reason peer, the same version)."""
    members = {"primary": udp_member(*PRI), "backup": udp_member(*BAK)}
    ips = [node_socket(defines(n), "LISTEN")[1] for n in NODES]
    kams = []
    for i, (ip, cfg) in enumerate(zip(ips, NODES)):
        require_free(ip, 5060)
        require_free(ip, 5060, "tcp")
        d = logdir / f"node{i + 1}"
        d.mkdir()
        kams.append(Kamailio(procs, d, PAIRS, cfg=cfg, listen=None))
    for k in kams:
        assert k.wait(lambda: active_nodes(k) == 3, 15, step=0.1) \
            is not None, k.rpc("dmq.list_nodes").stdout
    assert all(show(k)["active"] == "primary" for k in kams)
    promote_seen_by_one(kams, ips, members["backup"], "backup", 1)
    promote_seen_by_one(kams, ips, members["primary"], "primary", 2)
