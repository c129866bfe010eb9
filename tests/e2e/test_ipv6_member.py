# SPDX-License-Identifier: GPL-2.0-or-later
"""A member on IPv6 loopback: probed, recognised by its address, routed
to, and left when it stops answering."""


from conftest import Kamailio, Peer, pairs_xml, send_request, port_free

import pytest

PRI6 = "sip:[::1]:5070"
PAIRS = pairs_xml([("v6pair", PRI6, "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])


def test_ipv6_member(procs, logdir):
    if not port_free("::1", 5070):
        pytest.fail("[::1]:5070 is taken")
    pri = Peer(procs, logdir, "primary6", "::1", port=5070)
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS,
                   defines={"LISTEN6": "udp:[::1]:5060"})
    assert kam.wait(lambda: kam.show("v6pair")["members"][0]["state"] == "up",
                    3) is not None
    p = kam.show("v6pair")
    assert (p["active"], p["active_uri"]) == ("primary", PRI6)
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="six") == 200
    assert pri.received("MESSAGE sip:six@") == 1
    pri.freeze()
    assert kam.wait(lambda: kam.show("v6pair")["active"] == "backup",
                    3.5) is not None
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="four") == 200
    assert bak.received("MESSAGE sip:four@") == 1
