# SPDX-License-Identifier: GPL-2.0-or-later
"""A member given by host name: resolved through Kamailio's resolver at
start-up, probed and routed to. (localhost: the sandbox has no DNS, so
the config's WITH_SYSTEM_RESOLVER makes Kamailio read /etc/hosts.)"""

from conftest import Kamailio, Peer, pairs_xml, send_request

PRI = "sip:localhost:5072"
PAIRS = pairs_xml([("named", PRI, "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])


def test_hostname_member(procs, logdir):
    pri = Peer(procs, logdir, "primary-localhost", "127.0.0.1", port=5072)
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS,
                   defines={"WITH_SYSTEM_RESOLVER": None})
    assert kam.wait(lambda: kam.show("named")["members"][0]["state"] == "up",
                    3) is not None
    p = kam.show("named")
    assert (p["active"], p["active_uri"]) == ("primary", PRI)
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="h1") == 200
    assert pri.received("MESSAGE sip:h1@") == 1


def test_unresolvable_member_stops_startup(procs, logdir):
    bad = PAIRS.replace("localhost", "no-such-host.invalid")
    kam = Kamailio(procs, logdir, bad, expect_start=False)
    assert kam.proc.wait(10) != 0
    assert "pair 'named' primary: cannot resolve host 'no-such-host.invalid'" \
        in kam.log_text()
