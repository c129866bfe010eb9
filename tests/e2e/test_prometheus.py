# SPDX-License-Identifier: GPL-2.0-or-later
"""Prometheus: with xhttp + xhttp_prom (WITH_PROMETHEUS in the example
config), /metrics has ha_pair's statistics and per-pair gauges set by the
event routes; scraped with curl before and after a switchover."""

import json
import re
import subprocess

from conftest import TOP, Kamailio, Peer, pairs_xml, require_free

PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])
URL = "http://127.0.0.1:9090/metrics"


def scrape():
    out = subprocess.run(["curl", "-sS", "--max-time", "5", URL],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    metrics = {}
    for line in out.stdout.splitlines():
        m = re.match(r"^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) ([-\d.e+]+)", line)
        if m:
            metrics[m.group(1).replace(" ", "")] = float(m.group(2))
    return metrics


def test_metrics_move_with_a_switchover(procs, logdir):
    require_free("127.0.0.1", 9090, "tcp")
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS, defines={"WITH_PROMETHEUS": None})
    assert kam.wait(lambda: scrape().get(
        'kamailio_ha_pair_active{pair="sipserver1"}') == 1, 3) is not None
    m = scrape()
    assert m['kamailio_ha_pair_member_up{pair="sipserver1",role="primary"}'] == 1
    assert m["kamailio_ha_pair_switchovers"] == 0
    sent = m["kamailio_ha_pair_probes_sent"]
    assert sent >= 2

    pri.freeze()
    assert kam.wait(lambda: scrape().get(
        'kamailio_ha_pair_active{pair="sipserver1"}') == 2, 4) is not None
    m = scrape()
    assert m['kamailio_ha_pair_member_up{pair="sipserver1",role="backup"}'] == 1
    assert m['kamailio_ha_pair_member_up{pair="sipserver1",role="primary"}'] == 0
    assert m["kamailio_ha_pair_switchovers"] == 1
    assert m["kamailio_ha_pair_probes_unanswered"] >= 1
    assert m["kamailio_ha_pair_probes_sent"] > sent
    # switchovers by reason: the start, then the probe's
    assert m['kamailio_ha_pair_switchovers_by_reason'
             '{pair="sipserver1",reason="start"}'] == 1
    assert m['kamailio_ha_pair_switchovers_by_reason'
             '{pair="sipserver1",reason="probe"}'] == 1


DASHBOARD = TOP / "config" / "grafana-ha_pair.json"


def test_dashboard_queries_name_served_metrics(procs, logdir):
    require_free("127.0.0.1", 9090, "tcp")
    d = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in d["panels"] for t in p["targets"]]
    exprs.append(d["templating"]["list"][0]["query"])
    used = {n for e in exprs for n in re.findall(r"\bkamailio_\w+", e)}
    # the panels an on-call engineer needs
    assert {"kamailio_ha_pair_active", "kamailio_ha_pair_member_up",
            "kamailio_ha_pair_switchovers_by_reason",
            "kamailio_ha_pair_probes_unanswered",
            "kamailio_ha_pair_requests_refused",
            "kamailio_ha_pair_waiting", "kamailio_ha_pair_waited"} <= used
    Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS, defines={"WITH_PROMETHEUS": None})
    assert kam.wait(lambda: scrape().get(
        'kamailio_ha_pair_active{pair="sipserver1"}') == 1, 3) is not None
    served = {k.split("{")[0] for k in scrape()}
    missing = used - served
    assert not missing, f"the dashboard queries metrics /metrics lacks: {missing}"
