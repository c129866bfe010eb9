# SPDX-License-Identifier: GPL-2.0-or-later
"""Bad script arguments and module parameters: Kamailio refuses to start,
and the log names the function or parameter and what is wrong with it
(docs/ha_pair.md, Bad input: refused at fixup time, not on the first request)."""

import subprocess

import pytest

from conftest import CFG, Kamailio, pairs_xml

PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {})])
ROUTE = "\tha_route();\n#!endif"          # route[HA_ROUTE]'s call
FAILOVER = "\tha_failover();\n"
PARAM = 'modparam("ha_pair", "oos_check", OOS_CHECK)'

# a script without tm that calls ha_failover()
NO_TM = """#!KAMAILIO
listen=LISTEN
loadmodule HA_PAIR_SO
modparam("ha_pair", "pairs_file", PAIRS_FILE)
request_route {
	ha_route();
	forward();
}
failure_route[HA_FAILOVER] {
	ha_failover();
}
"""


def call(text):
    return lambda cfg: cfg.replace(ROUTE, f"\t{text};\n#!endif")


def param(name, value):
    return lambda cfg: cfg.replace(
        PARAM, f'{PARAM}\nmodparam("ha_pair", "{name}", {value})')


CASES = {
    # ha_route(pair): the argument
    "ha_route unknown pair": (
        call('ha_route("nosuch")'), "ha_route: no pair 'nosuch' in "),
    "ha_route not a name": (
        call('ha_route("my pair")'),
        "ha_route: 'my pair' is not a pair name (1 to 64 letters"),
    "ha_route empty name": (
        call('ha_route("")'), "ha_route: '' is not a pair name"),
    "ha_route name too long": (
        call(f'ha_route("{"n" * 65}")'),
        f"ha_route: '{'n' * 65}' is not a pair name"),
    "ha_route number": (call("ha_route(5)"), "ha_route: no pair '5' in "),
    "ha_route bad variable": (
        call('ha_route("$nosuchpv(x)")'),
        "ha_route: bad argument '$nosuchpv(x)'"),
    # Kamailio's own checks name the function too
    "ha_route two arguments": (
        call('ha_route("sipserver1", "x")'),
        "failed to find command ha_route (params 2)"),
    "ha_failover with an argument": (
        lambda cfg: cfg.replace(FAILOVER, '\tha_failover("x");\n'),
        "failed to find command ha_failover (params 1)"),
    "ha_route in a failure_route": (
        lambda cfg: cfg.replace(FAILOVER, "\tha_route();\n"),
        "misused command ha_route"),
    "ha_failover without tm": (
        lambda cfg: NO_TM,
        'ha_failover: needs the tm module (loadmodule "tm.so")'),
    # module parameters
    "pairs_file missing": (
        lambda cfg: cfg.replace(
            'modparam("ha_pair", "pairs_file", PAIRS_FILE)', ""),
        "the pairs_file parameter is required"),
    "oos_check out of range": (
        lambda cfg: cfg.replace(PARAM, 'modparam("ha_pair", "oos_check", 10)'),
        "oos_check 10 ms out of range (50 ms to 300 s)"),
    "oos_force out of range": (
        lambda cfg: cfg.replace('modparam("ha_pair", "oos_force", OOS_FORCE)',
                                'modparam("ha_pair", "oos_force", 40000)'),
        "oos_force 40000 ms out of range (50 ms to 32 s)"),
    "oos_check as a string": (
        param("oos_check", '"5s"'),
        "parameter <oos_check> of type <1:string> not found in module "
        "<ha_pair>"),
    "unknown parameter": (
        param("oos_chek", 1000),
        "parameter <oos_chek> of type <2:int> not found in module <ha_pair>"),
    "alive_codes": (
        param("alive_codes", '"2xx,99"'),
        "bad alive_codes '2xx,99': a list of codes"),
    "passive_methods": (
        param("passive_methods", '"INVITE,,"'),
        "bad passive_methods 'INVITE,,'"),
    "probe_socket": (
        param("probe_socket", '"udp:127.0.0.99:5060"'),
        "probe_socket 'udp:127.0.0.99:5060' is not a listen socket"),
    "probe_from": (
        param("probe_from", '"not a uri"'),
        "probe_from 'not a uri': not a sip: or sips: URI"),
    "passive_switchover": (
        param("passive_switchover", 5),
        "passive_switchover 5: 0 (off) or 1 (on)"),
    "probe_standby": (
        param("probe_standby", 7), "probe_standby 7: 0 (off) or 1 (on)"),
    "claim_retries": (
        param("claim_retries", -1),
        "claim_retries -1: tries of a refused pool claim, 0 (never retried) "
        "to 1000000"),
    "dns_refresh": (
        param("dns_refresh", -1), "dns_refresh -1: seconds, or 0 for never"),
    "pool_time_window": (
        param("pool_time_window", 0), "pool_time_window 0 s: 1 to 3600"),
    "dmq without key file": (
        lambda cfg: cfg.replace("#!KAMAILIO", "#!KAMAILIO\n#!define WITH_DMQ",
                                1).replace(
            'modparam("ha_pair", "pool_secret_file", POOL_SECRET_FILE)\n',
            ""),
        "enable_dmq is 1 but pool_secret_file is not set"),
    "event_callback without KEMI": (
        param("event_callback", '"ksr_ha_event"'),
        "event_callback 'ksr_ha_event': no KEMI engine is loaded"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_script_argument_stops_startup(procs, logdir, case):
    change, message = CASES[case]
    cfg = logdir / "kamailio.cfg"
    text = change(CFG.read_text())
    assert text != CFG.read_text(), "the change did not apply"
    cfg.write_text(text)
    kam = Kamailio(procs, logdir, PAIRS, cfg=cfg, expect_start=False)
    try:
        rc = kam.proc.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    log = kam.log_text()
    assert rc is not None and rc != 0, f"kamailio started:\n{log[-2000:]}"
    assert message in log, log[-3000:]
    assert not kam.ctl.exists()


def test_the_unchanged_config_starts(procs, logdir):
    """The control: the same config without the change starts."""
    kam = Kamailio(procs, logdir, PAIRS)
    assert kam.proc.poll() is None
