# SPDX-License-Identifier: GPL-2.0-or-later
"""Which pair a request belongs to: by <domain>, by name (constant or
variable), and a bad constant name refused at start-up."""

from conftest import Kamailio, Peer, pairs_xml, parse_kamcmd, send_request

OOS = {"oos-check": "1s", "oos-force": "500ms"}
PAIRS = pairs_xml([
    ("alpha", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
     {**OOS, "domains": ["alpha.example.com"]}),
    ("beta", "sip:127.0.0.4:5060", "sip:127.0.0.6:5060",
     {**OOS, "domains": ["beta.example.com"]})])
CLIENT = ("127.0.0.10", 5090)


def peers(procs, logdir):
    return {ip: Peer(procs, logdir, ip, ip)
            for ip in ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.6")}


def test_pair_by_domain(procs, logdir):
    p = peers(procs, logdir)
    kam = Kamailio(procs, logdir, PAIRS)
    assert kam.wait(lambda: kam.show("beta")["members"][0]["state"] == "up",
                    3) is not None
    assert send_request(procs, logdir, *CLIENT, user="d1",
                        ruri_host="beta.example.com") == 200
    assert send_request(procs, logdir, *CLIENT, user="d2",
                        ruri_host="ALPHA.example.com") == 200
    assert p["127.0.0.4"].received("MESSAGE sip:d1@") == 1
    assert p["127.0.0.2"].received("MESSAGE sip:d2@") == 1
    # no domain, no member address, two pairs: no pair (404 in the config)
    assert send_request(procs, logdir, *CLIENT, user="d3",
                        ruri_host="other.example.com") == 404
    assert kam.stat("requests_routed") == 2


def test_pair_by_name_variable(procs, logdir):
    p = peers(procs, logdir)
    kam = Kamailio(procs, logdir, PAIRS,
                   defines={"ROUTE_TO_PAIR": '"$rU"'})
    assert kam.wait(lambda: kam.show("beta")["members"][0]["state"] == "up",
                    3) is not None
    assert send_request(procs, logdir, *CLIENT, user="beta") == 200
    assert p["127.0.0.4"].received("MESSAGE sip:beta@") == 1
    assert send_request(procs, logdir, *CLIENT, user="gamma") == 404


def test_unknown_constant_pair_refused_at_startup(procs, logdir):
    kam = Kamailio(procs, logdir, PAIRS, expect_start=False,
                   defines={"ROUTE_TO_PAIR": '"gamma"'})
    assert kam.proc.wait(10) != 0
    assert "ha_route: no pair 'gamma'" in kam.log_text()


def test_malformed_constant_pair_refused_at_startup(procs, logdir):
    kam = Kamailio(procs, logdir, PAIRS, expect_start=False,
                   defines={"ROUTE_TO_PAIR": '"bad name"'})
    assert kam.proc.wait(10) != 0
    assert "ha_route: 'bad name' is not a pair name" in kam.log_text()


def test_pair_by_member_address(procs, logdir):
    """Two pairs, no domain in the R-URI: its host:port as a member's
    address picks the pair (a dialog's Contact, say), and the request goes
    to that pair's active member."""
    p = peers(procs, logdir)
    kam = Kamailio(procs, logdir, PAIRS)
    assert kam.wait(lambda: kam.show("beta")["members"][0]["state"] == "up",
                    3) is not None
    kam.rpc("ha_pair.switchover", "beta", "backup")
    assert send_request(procs, logdir, *CLIENT, user="m1",
                        ruri_host="127.0.0.4:5060") == 200
    assert p["127.0.0.6"].received("MESSAGE sip:m1@127.0.0.4") == 1
    assert p["127.0.0.4"].received("MESSAGE sip:m1@") == 0
    # the port is part of the address
    assert send_request(procs, logdir, *CLIENT, user="m2",
                        ruri_host="127.0.0.4:5999") == 404


def test_list_with_a_name_prefix(procs, logdir):
    kam = Kamailio(procs, logdir, PAIRS)
    every = [p["name"] for p in parse_kamcmd(kam.rpc("ha_pair.list").stdout)]
    assert every == ["alpha", "beta"]
    some = [p["name"] for p in
            parse_kamcmd(kam.rpc("ha_pair.list", "be").stdout)]
    assert some == ["beta"]
    assert parse_kamcmd(kam.rpc("ha_pair.list", "gamma").stdout) == []
