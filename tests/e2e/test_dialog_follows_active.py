# SPDX-License-Identifier: GPL-2.0-or-later
"""Dialogs follow the active member: a call set up to the primary, the
primary frozen and the switch done, the caller's BYE reaches the backup.
Once through the pair tag in Record-Route, once without Record-Route (the
R-URI is the primary's address)."""

import time

import pytest

from conftest import SIPP, Kamailio, Peer, pairs_xml

PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])


def call(procs, logdir, hold_ms):
    msgs = logdir / "caller-messages.log"
    args = ["sipp", "-sf", str(SIPP / "call.xml"), "-i", "127.0.0.10",
            "-p", "5090", "-m", "1", "-d", str(hold_ms), "-s", "bob",
            "-nostdin", "-trace_msg", "-message_file", str(msgs),
            "-timeout", "20s", "-timeout_error", "127.0.0.1:5060"]
    return procs.start(args, logdir / "caller.out", cwd=logdir), msgs


@pytest.mark.parametrize("record_route", [True, False],
                         ids=["pair-tag", "member-address"])
def test_bye_after_switchover_reaches_backup(procs, logdir, record_route):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS,
                   defines={} if record_route else {"WITHOUT_RR": None})
    assert kam.wait(lambda: kam.show("sipserver1")["members"][0]["state"]
                    == "up", 3) is not None
    caller, msgs = call(procs, logdir, 5000)
    assert kam.wait(lambda: pri.received("ACK sip:") == 1, 3) is not None
    text = msgs.read_text()
    if record_route:
        assert ";hapair=sipserver1" in text, "no pair tag in Record-Route"
    else:
        assert "Record-Route" not in text
    pri.freeze()
    assert kam.wait(lambda: kam.show("sipserver1")["active"] == "backup",
                    3) is not None
    rc = caller.wait(15)
    assert rc == 0, (logdir / "caller.out").read_text()[-2000:]
    assert bak.received("BYE sip:") == 1
    # resumed, the primary reads what was queued for it meanwhile: a fixed
    # delay on purpose, nothing must arrive in it
    pri.resume()
    time.sleep(0.2)
    assert pri.received("BYE sip:") == 0
    # R-URI untouched: the BYE still names the primary's contact
    assert bak.received(r"BYE sip:127\.0\.0\.2:5060") == 1
