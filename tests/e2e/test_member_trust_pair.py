# SPDX-License-Identifier: GPL-2.0-or-later
"""member-trust in the pairs file: a pair's own setting overrides the
module parameter member_trust, for that pair only. A forged UDP request
from the standby's address (nothing serves there) is what tells them apart:
"any" lets it take the pair at once, "transport" handles it as anyone's."""

import pytest

from conftest import Kamailio, Peer, pairs_xml, send_request

T = {"oos-check": "1s", "oos-force": "500ms"}
FAR = "127.0.0.5:5060"
XGR = "X-Genesys-Route: sip:127.0.0.6:5060"


def start(procs, logdir, module_trust, pair_trust):
    attrs = dict(T)
    if pair_trust:
        attrs["member-trust"] = pair_trust
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    far = Peer(procs, logdir, "far", "127.0.0.5")
    other = Peer(procs, logdir, "other", "127.0.0.6")
    kam = Kamailio(procs, logdir, pairs_xml([
        ("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060", attrs)]),
        defines={"MEMBER_TRUST": f'"{module_trust}"'})
    assert kam.wait(lambda: kam.show("sipserver1")["members"][1]["state"]
                    == "down", 3) is not None
    assert kam.show("sipserver1")["active"] == "primary"
    return pri, far, other, kam


@pytest.mark.parametrize("module_trust,pair_trust", [
    ("any", "transport"), ("confirm", "transport"), ("transport", None)])
def test_pair_transport_ignores_forged_udp(procs, logdir, module_trust,
                                           pair_trust):
    pri, far, other, kam = start(procs, logdir, module_trust, pair_trust)
    assert send_request(procs, logdir, "127.0.0.3", 5060, user="forged",
                        ruri_host=FAR, headers=[XGR]) == 200
    # as from anyone: to the active member, the header removed
    assert pri.received(f"MESSAGE sip:forged@{FAR}") == 1
    assert other.received("MESSAGE sip:forged@") == 0
    p = kam.show("sipserver1")
    assert (p["active"], p["switchovers"]) == ("primary", "0"), p


@pytest.mark.parametrize("module_trust,pair_trust", [
    ("transport", "any"), ("confirm", "any"), ("any", None)])
def test_pair_any_takes_forged_udp(procs, logdir, module_trust, pair_trust):
    pri, far, other, kam = start(procs, logdir, module_trust, pair_trust)
    assert send_request(procs, logdir, "127.0.0.3", 5060, user="forged",
                        ruri_host=FAR, headers=[XGR]) == 200
    # a member's request: passive switchover at once, X-Genesys-Route obeyed
    p = kam.show("sipserver1")
    assert (p["active"], p["last_switchover_reason"]) == ("backup",
                                                          "passive"), p
    assert other.received("MESSAGE sip:forged@") == 1


def test_pair_confirm_waits_for_a_probe(procs, logdir):
    pri, far, other, kam = start(procs, logdir, "any", "confirm")
    assert send_request(procs, logdir, "127.0.0.3", 5060, user="forged",
                        ruri_host=FAR) == 200
    # the claim is probed; nobody answers at the standby's address
    assert kam.wait(lambda: kam.show("sipserver1")["members"][1]
                    ["probes_sent"] != "1", 2) is not None
    assert kam.show("sipserver1")["active"] == "primary"
    assert "probing it to confirm" in kam.log_text()
