# SPDX-License-Identifier: GPL-2.0-or-later
"""X-Genesys-Route: honoured on requests from a pair member ($du from it,
header removed), stripped from every other request, a malformed value
removed and ignored."""

import re
import socket
from pathlib import Path

import pytest

from conftest import CFG, Kamailio, Peer, pairs_xml, port_free, send_request

PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])


def start_pair(procs, logdir, cfg=CFG):
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    far = Peer(procs, logdir, "far", "127.0.0.5")
    other = Peer(procs, logdir, "other", "127.0.0.6")
    kam = Kamailio(procs, logdir, PAIRS, cfg=cfg)
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
    # any SIP URI with an IP host, as RFC 3261 allows (docs/ha_pair.md, ha_route())
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


def raw_message(src, user, headers, body="", ctype="text/plain"):
    """A MESSAGE from src (ip, port) to 127.0.0.6, with header lines and a
    body, as bytes."""
    head = [f"MESSAGE sip:{user}@127.0.0.6:5060 SIP/2.0",
            f"Via: SIP/2.0/UDP {src[0]}:{src[1]};branch=z9hG4bK-{user}",
            "Max-Forwards: 70",
            f"From: <sip:gw@{src[0]}:{src[1]}>;tag={user}",
            f"To: <sip:{user}@127.0.0.6:5060>",
            f"Call-ID: scan-{user}@{src[0]}",
            "CSeq: 1 MESSAGE"] + list(headers)
    if body:
        head.append(f"Content-Type: {ctype}")
    head.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def received_messages(peer):
    """The messages peer's sipp logged, each from its first line on."""
    text = peer.msgs.read_text(errors="replace")
    return [m.split(":\n", 1)[1].lstrip("\n") if ":\n" in m else m
            for m in re.split(r"^-{20,}[^\n]*\n", text, flags=re.M)
            if m.strip()]


def send_raw(src, data):
    """Send data from src (ip, port) to the proxy; the status of the final
    reply that comes back (probes of src's address are skipped)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(src)
    s.settimeout(5)
    try:
        s.sendto(data, ("127.0.0.1", 5060))
        while True:
            reply = s.recv(65535).decode(errors="replace")
            if reply.startswith("SIP/2.0 ") and int(reply[8:11]) >= 200:
                return int(reply[8:11])
    finally:
        s.close()


LEAN_CFG = Path(__file__).parent / "lean_proxy.cfg"


@pytest.mark.parametrize("cfg", ["lean", "example"])
def test_x_genesys_route_found_wherever_it_is(procs, logdir, cfg):
    """The header is found however many x the request has elsewhere
    (mid-line, in values, in the body), in any case and as the last header;
    a line of the body that looks like it is body, left alone. "lean": a
    proxy that parsed no header before ha_route(), which then looks at the
    raw message; "example": the example config, whose loose_route() has
    parsed them all."""
    bak, far, other, kam = start_pair(
        procs, logdir, cfg=LEAN_CFG if cfg == "lean" else CFG)
    xs = "x" * 40 + "X" * 40
    client = ("127.0.0.10", 5091)
    # from a client: stripped, though it is the last header, in lower
    # case, after many x and X mid-line, with a body full of them
    data = raw_message(client, "c1", [f"Subject: {xs}", f"X-Tag: {xs}",
                                      "x-genesys-route: sip:127.0.0.5:5060"],
                       body=f"{xs}\r\nx{xs}\r\n")
    assert send_raw(client, data) == 200
    assert bak.received("MESSAGE sip:c1@") == 1
    assert far.received("MESSAGE sip:c1@") == 0
    text = bak.msgs.read_text(errors="replace")
    assert "genesys" not in text.lower(), text
    assert f"X-Tag: {xs}" in text and f"x{xs}" in text

    # from a client: a line of a message/sipfrag body that reads like the
    # header is the body's: forwarded as it came, routed by the pair
    frag = ("SIP/2.0 200 OK\r\n"
            "X-Genesys-Route: sip:127.0.0.5:5060\r\n")
    data = raw_message(client, "c2", [], body=frag, ctype="message/sipfrag")
    assert send_raw(client, data) == 200
    assert bak.received("MESSAGE sip:c2@") == 1
    assert far.received("MESSAGE sip:c2@") == 0
    assert "X-Genesys-Route: sip:127.0.0.5:5060" in bak.msgs.read_text()

    # wherever its line starts in the raw message (the scan reads 16 bytes
    # at a time): a padding header 1 to 16 bytes longer each time, from a
    # client (stripped) and from the primary (honoured)
    member = ("127.0.0.2", 5060)
    for n in range(16):
        pad = f"X-Pad: {'p' * n}"
        data = raw_message(client, f"o{n}", [pad, "Subject: x",
                                             "X-Genesys-Route: "
                                             "sip:127.0.0.5:5060"])
        assert send_raw(client, data) == 200
        assert bak.received(f"MESSAGE sip:o{n}@") == 1, n
        data = raw_message(member, f"h{n}", [pad, "X-Genesys-Route: "
                                             "sip:127.0.0.5:5060"])
        assert send_raw(member, data) == 200
        assert far.received(f"MESSAGE sip:h{n}@127.0.0.6") == 1, n
    assert far.received("MESSAGE sip:o") == 0
    for peer, user in ((bak, "o"), (far, "h")):
        got = [m for m in received_messages(peer)
               if m.startswith(f"MESSAGE sip:{user}")]
        assert len(got) == 16 and not any("genesys" in m.lower()
                                          for m in got), got

    # from the primary (a member): found after the x, honoured, removed
    data = raw_message(member, "m1", [f"Subject: {xs}",
                                      "X-GENESYS-ROUTE: sip:127.0.0.5:5060",
                                      f"X-After: {xs}"], body=xs)
    assert send_raw(member, data) == 200
    assert far.received("MESSAGE sip:m1@127.0.0.6") == 1
    assert other.received("MESSAGE sip:m1@") == 0
    assert "genesys" not in far.msgs.read_text().lower()
