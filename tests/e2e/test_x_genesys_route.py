# SPDX-License-Identifier: GPL-2.0-or-later
"""X-Genesys-Route: honoured on requests from a pair member ($du from it,
header removed), stripped from every other request, a malformed value
removed and ignored."""

import socket

import pytest

from conftest import Kamailio, Peer, pairs_xml, port_free, send_request

PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])


def start_pair(procs, logdir):
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    far = Peer(procs, logdir, "far", "127.0.0.5")
    other = Peer(procs, logdir, "other", "127.0.0.6")
    kam = Kamailio(procs, logdir, PAIRS)
    # the primary is not there: the pair runs on the backup, and requests
    # "from the primary" are sent by the test from its address
    assert kam.wait(lambda: kam.show("sipserver1")["active"] == "backup",
                    3) is not None
    return bak, far, other, kam


def test_x_genesys_route_stripped_from_others(procs, logdir):
    bak, far, other, kam = start_pair(procs, logdir)
    # a client may not steer the proxy: the header is removed and the
    # request goes to the pair's active member
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="client",
                        headers=["X-Genesys-Route: sip:127.0.0.5:5060"]) == 200
    assert bak.received("MESSAGE sip:client@") == 1
    assert far.received("MESSAGE sip:client@") == 0
    assert "X-Genesys-Route" not in bak.msgs.read_text()


def test_x_genesys_route_from_member(procs, logdir):
    bak, far, other, kam = start_pair(procs, logdir)
    # from the primary's own address (a member): honoured and removed
    # any SIP URI with an IP host, as RFC 3261 allows (SPEC: issue 14)
    for n, value in enumerate(["sip:127.0.0.5:5060",
                               "<sip:127.0.0.5:5060;transport=udp>",
                               "<sip:out@127.0.0.5:5060>",
                               "sip:out@127.0.0.5",
                               "<sip:127.0.0.5:5060;lr>",
                               "<sip:out@127.0.0.5:5060;transport=UDP;lr>",
                               "<sip:127.0.0.5;Transport=Udp;x-id=7;lr>",
                               "  <sip:+4930123@127.0.0.5:5060;user=phone>"]):
        assert send_request(procs, logdir, "127.0.0.2", 5060, user=f"g{n}",
                            ruri_host="127.0.0.6:5060",
                            headers=[f"X-Genesys-Route: {value}"]) == 200
        assert far.received(f"MESSAGE sip:g{n}@127.0.0.6") == 1
        assert other.received(f"MESSAGE sip:g{n}@") == 0
    assert "X-Genesys-Route" not in far.msgs.read_text()

    # malformed: removed, ignored, routing stays with the script (R-URI)
    for n, value in enumerate(["sip:not-an-ip:5060", "<sip:127.0.0.5:5060",
                               "tel:+123", "sip:127.0.0.5:5060;transport=xx",
                               "<sip:out@far.example.com:5060;lr>",
                               "<sip:127.0.0.5:5060?Subject=x>",
                               "<sip:out@127.0.0.5:5060>>",
                               "sip:[::1:5060", "sip:out@:5060"]):
        assert send_request(procs, logdir, "127.0.0.2", 5060, user=f"b{n}",
                            ruri_host="127.0.0.6:5060",
                            headers=[f"X-Genesys-Route: {value}"]) == 200
        assert other.received(f"MESSAGE sip:b{n}@127.0.0.6") == 1
        assert far.received(f"MESSAGE sip:b{n}@") == 0
    assert "X-Genesys-Route" not in other.msgs.read_text()
    assert "malformed X-Genesys-Route 'sip:not-an-ip:5060'" in kam.log_text()


def test_x_genesys_route_ipv6(procs, logdir):
    """A bracketed IPv6 host, with a user part and ;lr, is a next hop too."""
    if not port_free("::1", 5071):
        pytest.fail("[::1]:5071 is taken")
    far6 = Peer(procs, logdir, "far6", "::1", port=5071)
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS, defines={"LISTEN6": "udp:[::1]:5060"})
    assert kam.wait(lambda: kam.show("sipserver1")["active"] == "backup",
                    3) is not None
    # sipp takes [...] in a scenario for its keywords: a plain socket sends
    src = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    src.bind(("127.0.0.2", 5060))
    src.settimeout(5)
    try:
        for n, value in enumerate(["<sip:out@[::1]:5071;lr>",
                                   "sip:[0:0:0:0:0:0:0:1]:5071;transport=UDP"]):
            src.sendto(message(f"v{n}", value), ("127.0.0.1", 5060))
            reply = ""
            while not reply.startswith("SIP/2.0 2"):  # probes come here too
                reply = src.recv(65535).decode(errors="replace")
            assert far6.received(f"MESSAGE sip:v{n}@127.0.0.6") == 1
    finally:
        src.close()
    assert "malformed X-Genesys-Route" not in kam.log_text()


def message(user, xgr):
    return (f"MESSAGE sip:{user}@127.0.0.6:5060 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-{user}\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:gw@127.0.0.2:5060>;tag={user}\r\n"
            f"To: <sip:{user}@127.0.0.6:5060>\r\n"
            f"Call-ID: xgr6-{user}@127.0.0.2\r\n"
            f"CSeq: 1 MESSAGE\r\n"
            f"X-Genesys-Route: {xgr}\r\n"
            f"Content-Length: 0\r\n\r\n").encode()
