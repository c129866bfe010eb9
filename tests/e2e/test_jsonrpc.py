# SPDX-License-Identifier: GPL-2.0-or-later
"""Every ha_pair.* RPC command over jsonrpcs (JSON-RPC 2.0 over HTTP,
xhttp: WITH_JSONRPC in the example config), with the same results as over
kamcmd, and faults as JSON-RPC errors with their code and text."""

import json
import urllib.error
import urllib.request

from conftest import Kamailio, Peer, pairs_xml, parse_kamcmd

URL = "http://127.0.0.1:9090/RPC"
TIMING = {"oos-check": "1s", "oos-force": "500ms"}
PAIRS = pairs_xml([
    ("alpha", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060", TIMING),
    ("beta", "sip:127.0.0.4:5060", "sip:127.0.0.6:5060", TIMING)])


def jsonrpc(method, *params):
    body = json.dumps({"jsonrpc": "2.0", "method": method,
                       "params": [str(p) for p in params], "id": 7})
    req = urllib.request.Request(URL, data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            reply = json.loads(r.read())
    except urllib.error.HTTPError as e:
        # a fault: jsonrpcs answers with its code as the HTTP status too
        reply = json.loads(e.read())
        assert e.code == reply["error"]["code"], (e.code, reply)
    assert reply.get("id") == 7 and reply.get("jsonrpc") == "2.0", reply
    return reply


def result(method, *params):
    reply = jsonrpc(method, *params)
    assert "error" not in reply, reply
    return reply["result"]


def error(method, *params):
    reply = jsonrpc(method, *params)
    assert "result" not in reply, reply
    return reply["error"]["code"], reply["error"]["message"]


def as_text(v):
    """JSON values as kamcmd prints them (numbers, strings)."""
    if isinstance(v, dict):
        return {k: as_text(x) for k, x in v.items()}
    if isinstance(v, list):
        return [as_text(x) for x in v]
    return str(v)


def test_every_command_over_jsonrpc(procs, logdir):
    for ip in ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.6"):
        Peer(procs, logdir, ip, ip)
    kam = Kamailio(procs, logdir, PAIRS, defines={"WITH_JSONRPC": None})
    assert kam.wait(lambda: all(m["state"] == "up" for n in ("alpha", "beta")
                                for m in kam.show(n)["members"]), 5) is not None

    # list, list by prefix, show: the pairs, fields as over kamcmd
    pairs = result("ha_pair.list")
    if isinstance(pairs, dict):  # one struct per pair, or an array
        pairs = [pairs]
    assert [p["name"] for p in pairs] == ["alpha", "beta"], pairs
    byctl = parse_kamcmd(kam.rpc("ha_pair.list").stdout)
    assert [sorted(p) for p in pairs] == [sorted(p) for p in byctl]
    assert [sorted(m) for m in pairs[0]["members"]] == \
        [sorted(m) for m in byctl[0]["members"]]
    some = result("ha_pair.list", "be")
    some = [some] if isinstance(some, dict) else some
    assert [p["name"] for p in some] == ["beta"], some
    beta = result("ha_pair.show", "beta")
    assert (beta["name"], beta["state"], beta["active"]) == \
        ("beta", "CHECK", "primary"), beta
    assert as_text(beta["oos_check"]) == "1000"
    assert [m["uri"] for m in beta["members"]] == \
        ["sip:127.0.0.4:5060", "sip:127.0.0.6:5060"]

    # switchover, then again to the same member
    r = result("ha_pair.switchover", "beta")
    assert (r["old"], r["new"], as_text(r["changed"])) == \
        ("primary", "backup", "1"), r
    r = result("ha_pair.switchover", "beta", "backup")
    assert as_text(r["changed"]) == "0", r
    assert kam.show("beta")["active"] == "backup"

    # hold on and off
    r = result("ha_pair.hold", "alpha")
    assert as_text(r["held"]) == "1", r
    assert kam.show("alpha")["held"] == "1"
    r = result("ha_pair.hold", "alpha", "off")
    assert kam.show("alpha")["held"] == "0"

    # probe: both members probed now
    sent = [int(m["probes_sent"]) for m in kam.show("alpha")["members"]]
    result("ha_pair.probe", "alpha")
    assert kam.wait(lambda: all(
        int(m["probes_sent"]) > s
        for m, s in zip(kam.show("alpha")["members"], sent)), 1) is not None

    # reload: alpha kept, beta gone, gamma added
    kam.pairs.write_text(pairs_xml([
        ("alpha", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060", TIMING),
        ("gamma", "sip:127.0.0.7:5060", "sip:127.0.0.8:5060", TIMING)]))
    r = result("ha_pair.reload")
    assert {k: as_text(v) for k, v in r.items()} == \
        {"pairs": "2", "kept": "1", "added": "1", "removed": "1"}, r
    assert [p["name"] for p in
            parse_kamcmd(kam.rpc("ha_pair.list").stdout)] == ["alpha", "gamma"]

    # faults: code and text as over kamcmd
    assert error("ha_pair.show", "beta") == (404, "Unknown pair 'beta'")
    code, text = error("ha_pair.switchover", "alpha", "sideways")
    assert code == 400, text
    code, text = error("ha_pair.hold", "alpha", "maybe")
    assert code == 400, text
    code, text = error("ha_pair.probe")
    assert code == 400, text
    kam.pairs.write_text("<ha_pairs><pair name='x'></pair></ha_pairs>\n")
    code, text = error("ha_pair.reload")
    assert code == 500 and str(kam.pairs) in text, text
    assert [p["name"] for p in result("ha_pair.list")] == ["alpha", "gamma"]
