# SPDX-License-Identifier: GPL-2.0-or-later
"""RPC with bad arguments: unknown pair, bad role or value, missing and
extra arguments, numbers where names are expected, very long strings. Each
gets a fault that says what is wrong, and changes nothing."""

import shutil

import pytest

from conftest import (LOGS, Kamailio, Peer, Procs, check_kamailio_logs,
                      pairs_xml, parse_kamcmd)

PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {}),
                   # all digits is a valid name: kamcmd sends it as a number
                   ("123", "sip:127.0.0.2:5060", "sip:127.0.0.4:5060", {})])

LONG = "x" * 4000
CASES = [
    # (arguments, fault code, text of the fault)
    (("ha_pair.show",), 400, "Missing pair name: ha_pair.show <pair>"),
    (("ha_pair.show", "nosuch"), 404, "Unknown pair 'nosuch'"),
    (("ha_pair.show", LONG), 404, f"Unknown pair '{'x' * 64}'"),
    (("ha_pair.show", "sipserver1", "extra"), 400,
     "Too many arguments ('extra'...): ha_pair.show <pair>"),
    (("ha_pair.switchover",), 400, "Missing pair name"),
    (("ha_pair.switchover", "nosuch", "backup"), 404, "Unknown pair 'nosuch'"),
    (("ha_pair.switchover", "sipserver1", "tertiary"), 400,
     "Bad role 'tertiary': primary or backup"),
    (("ha_pair.switchover", "sipserver1", 1), 400,
     "Bad role '1': primary or backup"),
    (("ha_pair.switchover", "sipserver1", LONG), 400,
     f"Bad role '{'x' * 32}': primary or backup"),
    (("ha_pair.switchover", "sipserver1", "backup", "now"), 400,
     "Too many arguments ('now'...): ha_pair.switchover <pair> "
     "[primary|backup]"),
    (("ha_pair.hold",), 400, "Missing pair name"),
    (("ha_pair.hold", "sipserver1", "maybe"), 400,
     "Bad value 'maybe': on or off"),
    (("ha_pair.hold", "sipserver1", 1), 400, "Bad value '1': on or off"),
    (("ha_pair.hold", "sipserver1", "on", "off"), 400, "Too many arguments"),
    (("ha_pair.probe",), 400, "Missing pair name: ha_pair.probe <pair>"),
    (("ha_pair.probe", "nosuch"), 404, "Unknown pair 'nosuch'"),
    (("ha_pair.probe", "sipserver1", "now"), 400, "Too many arguments"),
    (("ha_pair.list", "sip", "extra"), 400,
     "Too many arguments ('extra'...): ha_pair.list [name-prefix]"),
    (("ha_pair.reload", "now"), 400,
     "Too many arguments ('now'...): ha_pair.reload (no arguments)"),
]


@pytest.fixture(scope="module")
def kam_module():
    """One kamailio for all the cases (each case checks it changed
    nothing; crash_checks checks, after each, that nothing crashed)."""
    logdir = LOGS / "test_rpc_bad_args"
    if logdir.exists():
        shutil.rmtree(logdir)
    logdir.mkdir(parents=True)
    procs = Procs()
    try:
        Peer(procs, logdir, "primary", "127.0.0.2")
        Peer(procs, logdir, "backup", "127.0.0.3")
        Peer(procs, logdir, "backup4", "127.0.0.4")
        kam = Kamailio(procs, logdir, PAIRS)
        assert kam.wait(lambda: kam.show("sipserver1")["members"][0]["state"]
                        == "up", 5) is not None
        yield kam
    finally:
        procs.stop_all()
    check_kamailio_logs(procs)


@pytest.fixture(autouse=True)
def crash_checks(kam_module):
    """After each test, what the procs fixture checks after every other
    test (conftest.check_kamailio_logs: no kamailio process crashed, no
    sanitizer report), and that the shared kamailio still runs."""
    yield
    check_kamailio_logs(kam_module.procs)
    assert kam_module.proc.poll() is None, \
        f"kamailio exited ({kam_module.proc.returncode}): {kam_module.log}"


def state(kam):
    return [(p["name"], p["state"], p["active"], p["switchovers"], p["held"])
            for p in parse_kamcmd(kam.rpc("ha_pair.list").stdout)]


@pytest.mark.parametrize("args,code,text", CASES,
                         ids=[" ".join(str(a)[:20] for a in c[0])
                              for c in CASES])
def test_bad_rpc_arguments(kam_module, args, code, text):
    kam = kam_module
    before = state(kam)
    out = kam.rpc(*args, check=False).stdout
    assert f"error: {code} - {text}" in out, out
    assert state(kam) == before


def test_numeric_pair_name(kam_module):
    """A pair named 123 is found although kamcmd sends 123 as a number."""
    assert kam_module.show("123")["name"] == "123"
    out = kam_module.rpc("ha_pair.list", 12).stdout
    assert [p["name"] for p in parse_kamcmd(out)] == ["123"]


def test_request_over_ctl_limit(kam_module):
    """An argument larger than ctl's buffer: ctl drops the connection
    (kamcmd: "read reply failed"), kamailio goes on."""
    kam = kam_module
    before = state(kam)
    r = kam.rpc("ha_pair.hold", "sipserver1", "y" * 100000, check=False)
    assert r.returncode != 0 or "error" in r.stdout
    assert state(kam) == before
    assert kam.show("sipserver1")["held"] == "0"
