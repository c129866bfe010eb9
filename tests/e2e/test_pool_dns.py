# SPDX-License-Identifier: GPL-2.0-or-later
"""The pool as its clients see it: one name in DNS, three proxies behind
it, one of them killed mid-traffic (issue 13, item 5).

Everything runs in a network namespace of the test's own (conftest's
dns_pool): Debian's dnsmasq there serves _sip._udp.pool.ha-pool.test, an
SRV record per proxy (127.0.0.11, .12, .13; conftest.pool_records), and
the clients are Kamailio proxies (tests/e2e/edge_proxy.cfg) that send
every new request to sip:pool.ha-pool.test: RFC 3263 by SRV, and on a
branch that times out (fr_timer 500 ms) the next SRV target (DNS
failover), the dead one then blocked for a while. The three pool proxies
run config/kamailio.cfg with dmq between them, in front of one pair.

- Calls from a carrier's edge: sipp calls (20 calls/s, each held 1 s)
  through the edge to the pool, spread over the three SRV targets, and on
  to the pair's active member. One pool proxy is killed (SIGKILL, all its
  processes) mid-traffic: no more calls fail than were in flight through
  it at that moment (from what the member saw: its INVITE came through
  that proxy, its BYE not answered yet), and every call started after the
  edge's first failover (one fr_timer after the kill) succeeds through the
  other two.
- The pair's own outbound traffic: the active member's outbound side (a
  Kamailio on the member's own address, edge_proxy.cfg, which also
  answers the pool's probes) sends requests with X-Genesys-Route to the
  pool's name; the pool proxy it uses routes them to that header's carrier
  (not to the R-URI) and strips the header. That proxy is killed: the
  later requests reach the carrier through another one, routed and
  stripped the same, and no proxy changes the pair's active member."""

import time

import pytest

from conftest import (KAMAILIO_TARGET, POOL_DOMAIN, POOL_IPS, SIPP, Peer,
                      edge_proxy, pairs_xml, sip_header, sipp_messages,
                      sipp_uac, start_pool, wait_until)

PAIR = "sipserver1"
PAIR_DOMAIN = f"{PAIR}.{POOL_DOMAIN}"
PAIRS = pairs_xml([(PAIR, "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"},
                    [PAIR_DOMAIN])])
FR_S = 0.5  # the clients' fr_timer: how soon a dead proxy is given up
RATE, CALLS, HOLD_MS = 20, 360, 1000  # 18 s of calls


def results(logdir, line):
    with open(logdir.parent / "pool_dns.txt", "a") as f:
        f.write(line.rstrip() + "\n")
    print(line)


def top_via_host(text):
    via = sip_header(text, "Via") or ""
    return via.split()[1].split(";")[0].split(":")[0] if " " in via else None


def pool_up(kams):
    """Every pool proxy sees the pair on its primary, the primary up."""
    for k in kams:
        assert k.wait(lambda: k.show(PAIR)["members"][0]["state"] == "up",
                      5) is not None, k.show(PAIR)
        assert k.show(PAIR)["active"] == "primary"


def calls_scenario(logdir):
    """tests/sipp/call.xml calling sip:<service>@[ruri_host] (the pair's
    domain) instead of the address sipp sends to."""
    sf = logdir / "call-domain.xml"
    sf.write_text((SIPP / "call.xml").read_text().replace(
        "@[remote_ip]:[remote_port]", "@[ruri_host]"))
    return sf


def member_calls(peer):
    """{Call-ID: (time its first INVITE arrived, the pool proxy it came
    through (top Via), time the member answered its BYE or None)} from the
    member's sipp log."""
    calls = {}
    for t, way, text in sipp_messages(peer.msgs):
        cid = sip_header(text, "Call-ID")
        if way == "received" and text.startswith("INVITE ") \
                and cid not in calls:
            calls[cid] = (t, top_via_host(text), None)
        elif (way == "sent" and text.startswith("SIP/2.0 200")
              and (sip_header(text, "CSeq") or "").endswith("BYE")
              and cid in calls and calls[cid][2] is None):
            calls[cid] = calls[cid][:2] + (t,)
    return calls


def caller_calls(msgs):
    """{Call-ID: (time its INVITE was first sent, True when its BYE got
    200)} from the caller's sipp log."""
    calls = {}
    for t, way, text in sipp_messages(msgs):
        cid = sip_header(text, "Call-ID")
        if way == "sent" and text.startswith("INVITE ") and cid not in calls:
            calls[cid] = (t, False)
        elif (way == "received" and text.startswith("SIP/2.0 200")
              and (sip_header(text, "CSeq") or "").endswith("BYE")
              and cid in calls):
            calls[cid] = (calls[cid][0], True)
    return calls


def blocked(kam, ip):
    """Does kam's destination blocklist hold ip?"""
    return ip in kam.rpc("dst_blocklist.view").stdout


@pytest.mark.timeout(120)
def test_calls_via_pool_fqdn_proxy_killed(dns_pool, procs, logdir):
    ns = dns_pool
    pri = Peer(procs, logdir, "primary", "127.0.0.2", netns=ns)
    Peer(procs, logdir, "backup", "127.0.0.3", netns=ns)
    kams = start_pool(procs, logdir, POOL_IPS, PAIRS, netns=ns)
    pool_up(kams)
    edge = edge_proxy(procs, logdir, "edge", ns, fr_ms=int(FR_S * 1000),
                      srv_lb=True)
    uac, msgs = sipp_uac(procs, logdir, "caller", calls_scenario(logdir),
                         "127.0.0.1:5060", rate=RATE, count=CALLS,
                         hold_ms=HOLD_MS, keys={"ruri_host": PAIR_DOMAIN},
                         netns=ns, timeout=60)
    # 6 s of calls, through all three proxies (the edge spreads them)
    assert wait_until(lambda: pri.received("INVITE sip:") >= 6 * RATE,
                      20) is not None, (logdir / "caller.out").read_text()
    victim, dead = kams[1], POOL_IPS[1]
    t_kill = time.time()
    victim.crash()
    uac.wait(60)
    theirs = member_calls(pri)
    mine = caller_calls(msgs)
    assert len(mine) == CALLS, len(mine)
    via = {ip: sum(1 for c in theirs.values() if c[1] == ip
                   and c[0] <= t_kill) for ip in POOL_IPS}
    # every proxy had its share before the kill
    assert all(n > 0 for n in via.values()), via
    in_flight = sum(1 for t, ip, bye in theirs.values()
                    if ip == dead and t <= t_kill
                    and (bye is None or bye > t_kill))
    failed = [cid for cid, (t, ok) in mine.items() if not ok]
    late = [cid for cid, (t, ok) in mine.items() if t >= t_kill + FR_S]
    late_failed = [cid for cid in late if cid in failed]
    after = [c for c in theirs.values() if c[0] > t_kill]
    results(logdir, f"Kamailio {KAMAILIO_TARGET}: "
            f"{CALLS} calls at {RATE}/s via the pool's SRV name, proxy "
            f"{dead} killed: {in_flight} calls in flight through it, "
            f"{len(failed)} failed, {len(late)} started after the kill "
            f"+ fr_timer of which {len(late_failed)} failed; before the kill "
            f"calls through each proxy {via}")
    assert in_flight > 0, "the kill met no call in flight"
    assert len(failed) <= in_flight, (failed, in_flight)
    assert late and not late_failed, late_failed
    # the later calls went through the other two proxies
    assert after and all(c[1] in POOL_IPS and c[1] != dead for c in after)
    assert {c[1] for c in after} == set(POOL_IPS) - {dead}
    # the edge found the dead proxy by a timeout and blocked it
    assert blocked(edge, dead), edge.log_text()[-2000:]
    for k in kams:
        if k is not victim:
            assert k.show(PAIR)["active"] == "primary"


XGR_RATE, XGR_COUNT = 20, 200  # 10 s of requests


@pytest.mark.timeout(120)
def test_pair_outbound_via_pool_fqdn(dns_pool, procs, logdir):
    ns = dns_pool
    # the primary member is its outbound side: a Kamailio on the member's
    # address (requests leave from it, so the pool sees them come from the
    # member), answering the pool's probes; DNS failover, no spreading
    edge_proxy(procs, logdir, "out", ns, listen="udp:127.0.0.2:5060",
               fr_ms=int(FR_S * 1000))
    Peer(procs, logdir, "backup", "127.0.0.3", netns=ns)
    carrier = Peer(procs, logdir, "carrier", "127.0.0.5", netns=ns)
    other = Peer(procs, logdir, "other", "127.0.0.6", netns=ns)
    kams = start_pool(procs, logdir, POOL_IPS, PAIRS, netns=ns)
    pool_up(kams)
    before = {k: k.show(PAIR) for k in kams}
    sf = logdir / "message-xgr.xml"
    sf.write_text((SIPP / "request.xml").read_text()
                  .replace("@METHOD@", "MESSAGE")
                  .replace("      @HEADERS@\n",
                           "      X-Genesys-Route: <sip:127.0.0.5:5060>\n"))
    # the R-URI names 127.0.0.6: only X-Genesys-Route takes it to .5
    uac, msgs = sipp_uac(procs, logdir, "server", sf, "127.0.0.2:5060",
                         rate=XGR_RATE, count=XGR_COUNT,
                         keys={"ruri_host": "127.0.0.6:5060"}, netns=ns)
    assert wait_until(lambda: carrier.received("MESSAGE sip:") >= 40,
                      20) is not None, (logdir / "server.out").read_text()
    used = {top_via_host(text) for t, way, text in
            sipp_messages(carrier.msgs) if text.startswith("MESSAGE ")}
    assert len(used) == 1 and used <= set(POOL_IPS), used
    dead = used.pop()
    victim = kams[POOL_IPS.index(dead)]
    t_kill = time.time()
    victim.crash()
    uac.wait(60)

    sent = {}
    for t, way, text in sipp_messages(msgs):
        cid = sip_header(text, "Call-ID")
        if way == "sent" and text.startswith("MESSAGE "):
            sent.setdefault(cid, [t, None])
        elif way == "received" and cid in sent:
            code = int(text[8:11])
            if code >= 200:
                sent[cid][1] = code
    got = [(t, top_via_host(text), text) for t, way, text in
           sipp_messages(carrier.msgs) if text.startswith("MESSAGE ")]
    late = [cid for cid, (t, code) in sent.items() if t >= t_kill + FR_S]
    failed = [cid for cid, (t, code) in sent.items() if code != 200]
    after = [g for g in got if g[0] > t_kill]
    results(logdir, f"Kamailio {KAMAILIO_TARGET}: "
            f"{len(sent)} MESSAGEs with X-Genesys-Route from the member via "
            f"the pool's SRV name, proxy {dead} (the one it used) killed: "
            f"{len(failed)} failed, {len(late)} sent after the kill + "
            f"fr_timer; after the kill the carrier got {len(after)} through "
            f"{sorted({g[1] for g in after})}")
    assert len(sent) == XGR_COUNT
    assert late and not [cid for cid in late if cid in failed], failed
    # every one reached the carrier by X-Genesys-Route (the R-URI's host
    # got none), without the header; the later ones through another proxy
    assert len({sip_header(g[2], "Call-ID") for g in got}) == XGR_COUNT
    assert other.received("MESSAGE sip:") == 0
    assert "X-Genesys-Route" not in carrier.msgs.read_text()
    assert after and all(g[1] in POOL_IPS and g[1] != dead for g in after)
    # from the active member: no proxy switched, none disagrees
    for k in kams:
        if k is victim:
            continue
        p = k.show(PAIR)
        assert (p["active"], p["switchovers"], p["version"],
                p["disagreement"]) == (
            "primary", before[k]["switchovers"], before[k]["version"],
            "no"), p
