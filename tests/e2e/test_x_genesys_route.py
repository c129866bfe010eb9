"""X-Genesys-Route: honoured on requests from a pair member ($du from it,
header removed), stripped from every other request, a malformed value
removed and ignored."""

from conftest import Kamailio, Peer, pairs_xml, send_request

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
    for n, value in enumerate(["sip:127.0.0.5:5060",
                               "<sip:127.0.0.5:5060;transport=udp>"]):
        assert send_request(procs, logdir, "127.0.0.2", 5060, user=f"g{n}",
                            ruri_host="127.0.0.6:5060",
                            headers=[f"X-Genesys-Route: {value}"]) == 200
        assert far.received(f"MESSAGE sip:g{n}@127.0.0.6") == 1
        assert other.received(f"MESSAGE sip:g{n}@") == 0
    assert "X-Genesys-Route" not in far.msgs.read_text()

    # malformed: removed, ignored, routing stays with the script (R-URI)
    for n, value in enumerate(["sip:not-an-ip:5060", "<sip:127.0.0.5:5060",
                               "tel:+123", "sip:127.0.0.5:5060;transport=xx"]):
        assert send_request(procs, logdir, "127.0.0.2", 5060, user=f"b{n}",
                            ruri_host="127.0.0.6:5060",
                            headers=[f"X-Genesys-Route: {value}"]) == 200
        assert other.received(f"MESSAGE sip:b{n}@127.0.0.6") == 1
        assert far.received(f"MESSAGE sip:b{n}@") == 0
    assert "X-Genesys-Route" not in other.msgs.read_text()
    assert "malformed X-Genesys-Route 'sip:not-an-ip:5060'" in kam.log_text()
