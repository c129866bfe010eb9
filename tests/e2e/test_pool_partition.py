# SPDX-License-Identifier: GPL-2.0-or-later
"""A partition of a pool (docs/design.md, "Disagreement"): two proxies, A
and B, with dmq between them, one pair of sipp members, all in a network
namespace of the test's own. nftables there cuts A from the backup and B
from the primary, both ways, for 60 s. B's probes find the primary gone
and it switches to the backup, once; A refuses B's change (the backup does
not answer it), keeps the primary, and tries the backup again every
oos-check. Each routes to the member it reaches, both report the
disagreement, neither flaps. The split heals: A adopts B's version at its
next retry, within one oos-check, and tells B, whose record ends.

A's tries are bounded (claim_retries): a 60 s split at oos-check 2 s is
30-37 of them, more than the default 20, so that test gives A 50 (the
budget the operator sets for partitions that long). A split longer than
the tries stays after the path heals, reported, A no longer probing, until
an operator's switchover ends it (the second test, with 3 tries)."""

import re
import subprocess
import time

import pytest

from conftest import Peer, dmq_addr, pairs_xml, send_request
from test_pool_dmq import start_pool

PAIR = "sipserver1"
OOS_CHECK = 2.0
PAIRS = pairs_xml([(PAIR, "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "2s", "oos-force": "500ms"})])
A_IP, B_IP = "127.0.0.11", "127.0.0.12"
PRI_IP, BAK_IP = "127.0.0.2", "127.0.0.3"
SPLIT_S = 60
SYNC_INTERVAL_S = 10  # the module's default sync_interval (the config's)
# A's tries: above the split's 30-37 and the try that heals it
CLAIM_RETRIES = 50

# A <-> backup and B <-> primary dropped, both ways (on loopback every
# datagram passes output once: that hook is enough)
NFT = f"""
table ip hapart {{
  chain out {{
    type filter hook output priority 0; policy accept;
    ip saddr {A_IP} ip daddr {BAK_IP} counter drop
    ip saddr {BAK_IP} ip daddr {A_IP} counter drop
    ip saddr {B_IP} ip daddr {PRI_IP} counter drop
    ip saddr {PRI_IP} ip daddr {B_IP} counter drop
  }}
}}
"""
EVENT = re.compile(r"ha_pair event switchover: pair=sipserver1 .*reason=(\w+)")


def nft(ns, *args, input=None):
    return subprocess.run(["ip", "netns", "exec", ns, "nft"] + list(args),
                          input=input, text=True, capture_output=True,
                          check=True).stdout


def switch_events(kam):
    """The reasons of the pair's switchover events in kam's log, in order
    (a start, if it is one, left out)."""
    return [r for r in EVENT.findall(kam.log_text()) if r != "start"]


@pytest.mark.timeout(150)
def test_partition_each_keeps_its_member_then_converges(procs, logdir,
                                                        netns):
    pri = Peer(procs, logdir, "primary", PRI_IP, netns=netns)
    bak = Peer(procs, logdir, "backup", BAK_IP, netns=netns)
    a, b = start_pool(procs, logdir, ips=[A_IP, B_IP], pairs=PAIRS,
                      netns=netns, extra={"CLAIM_RETRIES": CLAIM_RETRIES})
    for k in (a, b):
        assert k.wait(lambda: k.show(PAIR)["active"] == "primary"
                      and k.show(PAIR)["members"][0]["state"] == "up",
                      5) is not None, k.show(PAIR)
    events = {k: len(switch_events(k)) for k in (a, b)}
    assert events == {a: 0, b: 0}, events

    nft(netns, "-f", "-", input=NFT)
    t0 = time.monotonic()
    # B: its next probe of the primary (within oos-check) goes unanswered
    # (oos-check), then the backup answers its FORCE probe at once
    assert b.wait(lambda: b.show(PAIR)["active"] == "backup",
                  2 * OOS_CHECK + 1) is not None, b.show(PAIR)
    # A: B's change, its probe of the backup unanswered (oos-force)
    assert a.wait(lambda: a.show(PAIR)["disagreement"] == "yes",
                  2) is not None, a.show(PAIR)
    seen = {a: set(), b: set()}
    sent = {a: 0, b: 0}
    n = 0
    while time.monotonic() - t0 < SPLIT_S:
        for k in (a, b):
            seen[k].add(k.show(PAIR)["active"])
        if n < 12 and time.monotonic() - t0 > 5 * n:
            # real requests through each proxy: each sends them to the
            # member it reaches
            for k, ip, user in ((a, A_IP, f"via-a-{n}"),
                                (b, B_IP, f"via-b-{n}")):
                code = send_request(procs, logdir, "127.0.0.31", 5090 + n,
                                    user=user, ruri_host=f"{ip}:5060",
                                    proxy=f"{ip}:5060", netns=netns,
                                    timeout=3)
                assert code == 200, (user, code)
                sent[k] += 1
            n += 1
        time.sleep(0.25)
    pa, pb = a.show(PAIR), b.show(PAIR)
    # nobody flapped: A never left the primary, B went to the backup once
    assert seen == {a: {"primary"}, b: {"backup"}}, seen
    assert (pa["active"], pa["switchovers"]) == ("primary", "0"), pa
    assert (pb["active"], pb["switchovers"],
            pb["last_switchover_reason"]) == ("backup", "1", "probe"), pb
    assert switch_events(a) == [], a.log
    assert switch_events(b) == ["probe"], b.log
    # each request reached the member its proxy reaches
    assert sent == {a: 12, b: 12}
    assert pri.received(r"MESSAGE sip:via-a-") == 12
    assert bak.received(r"MESSAGE sip:via-b-") == 12
    assert pri.received(r"MESSAGE sip:via-b-") == 0
    assert bak.received(r"MESSAGE sip:via-a-") == 0
    # both report the disagreement: A the newer version it refused (B's),
    # B the older one A answered with
    assert (pa["disagreement"], pa["disagreement_member"],
            pa["disagreement_version"], pa["disagreement_from"]) == (
        "yes", "backup", pb["version"], dmq_addr(B_IP)), pa
    a_origin = pa["last_switchover_from"]
    assert (pb["disagreement"], pb["disagreement_member"],
            pb["disagreement_version"], pb["disagreement_from"]) == (
        "yes", "primary", pa["version"],
        dmq_addr(A_IP) if a_origin == "local" else a_origin), pb
    # counted once, retried every oos-check (not spinning)
    assert (pa["peer_refused"], a.stat("peer_changes_refused")) == ("1", 1)
    retries = int(pa["peer_retries"])
    # (the first an oos-check after A's refusal, which came up to 2 x
    # oos-check + oos-force after the cut; and one more try at each of B's
    # periodic broadcasts, sync_interval: never more often)
    assert SPLIT_S / OOS_CHECK - 5 <= retries \
        <= SPLIT_S / OOS_CHECK + SPLIT_S / SYNC_INTERVAL_S + 1, pa
    assert int(pa["claim_tries_left"]) == CLAIM_RETRIES - retries, pa
    assert (pb["peer_refused"], pb["peer_retries"]) == ("0", "0"), pb

    nft(netns, "delete", "table", "ip", "hapart")
    healed = time.monotonic()
    assert a.wait(lambda: a.show(PAIR)["active"] == "backup",
                  OOS_CHECK + 1) is not None, a.show(PAIR)
    pa = a.show(PAIR)
    # the switch's own time (an upper bound: the show ran before this)
    took = time.monotonic() - int(pa["last_switchover_ago_ms"]) / 1000 \
        - healed
    assert b.wait(lambda: b.show(PAIR)["disagreement"] == "no",
                  1) is not None, b.show(PAIR)
    b_clear = time.monotonic() - healed
    pa, pb = a.show(PAIR), b.show(PAIR)
    assert (pa["active"], pa["last_switchover_reason"], pa["version"],
            pa["last_switchover_from"], pa["disagreement"]) == (
        "backup", "peer", pb["version"], dmq_addr(B_IP), "no"), pa
    assert (pb["active"], pb["switchovers"]) == ("backup", "1"), pb
    assert (pa["claim_tries_left"], pb["claim_tries_left"]) == ("0", "0")
    assert switch_events(a) == ["peer"], a.log
    assert switch_events(b) == ["probe"], b.log
    code = send_request(procs, logdir, "127.0.0.31", 5089, user="healed",
                        ruri_host=f"{A_IP}:5060", proxy=f"{A_IP}:5060",
                        netns=netns, timeout=3)
    assert code == 200 and bak.received(r"MESSAGE sip:healed@") == 1
    with open(logdir.parent / "pool_agreement.txt", "a") as f:
        f.write(f"partition of a pool of 2 ({SPLIT_S} s, oos-check "
                f"{OOS_CHECK:.0f} s): {retries} retries, 1 refusal; healed: "
                f"A on B's member {took * 1000:.0f} ms after the rules went "
                f"(its switch time, from last_switchover_ago_ms), B's "
                f"disagreement gone {b_clear * 1000:.0f} ms after (polled)\n")
    # within one oos-check: the next retry's probe, and the prober's tick
    assert took <= OOS_CHECK + 0.1, took


@pytest.mark.timeout(120)
def test_partition_longer_than_the_tries_stays_split(procs, logdir, netns):
    """With claim_retries 3, A tries B's version 3 times (a few oos-checks)
    and stops: the disagreement still shown, no more tries; when the path
    heals A stays on the primary (the version's member answering later
    moves nothing: a forged claim is not adopted months later). An
    operator's switchover on A to the backup ends it on both."""
    Peer(procs, logdir, "primary", PRI_IP, netns=netns)
    Peer(procs, logdir, "backup", BAK_IP, netns=netns)
    a, b = start_pool(procs, logdir, ips=[A_IP, B_IP], pairs=PAIRS,
                      netns=netns, extra={"CLAIM_RETRIES": 3})
    for k in (a, b):
        assert k.wait(lambda: k.show(PAIR)["active"] == "primary"
                      and k.show(PAIR)["members"][0]["state"] == "up",
                      5) is not None, k.show(PAIR)
    nft(netns, "-f", "-", input=NFT)
    assert b.wait(lambda: b.show(PAIR)["active"] == "backup",
                  2 * OOS_CHECK + 1) is not None, b.show(PAIR)
    assert a.wait(lambda: a.show(PAIR)["disagreement"] == "yes",
                  2) is not None, a.show(PAIR)
    assert a.show(PAIR)["claim_tries_left"] in ("3", "2"), a.show(PAIR)
    # 3 tries: every oos-check (B's broadcasts take some), then none
    assert a.wait(lambda: a.show(PAIR)["claim_tries_left"] == "0",
                  3 * OOS_CHECK + 2) is not None, a.show(PAIR)
    # the last try's probe ends within oos-force
    time.sleep(0.6)
    spent = a.show(PAIR)
    assert spent["peer_retries"] == "3", spent
    time.sleep(3 * OOS_CHECK)
    pa = a.show(PAIR)
    assert (pa["peer_retries"], pa["claim_tries_left"], pa["peer_refused"],
            pa["disagreement"], pa["disagreement_member"],
            pa["active"]) == ("3", "0", "1", "yes", "backup", "primary"), pa

    # healed: the backup answers A now, but A has no tries left
    nft(netns, "delete", "table", "ip", "hapart")
    time.sleep(2 * OOS_CHECK + 0.5)
    pa = a.show(PAIR)
    assert (pa["active"], pa["switchovers"], pa["peer_retries"],
            pa["disagreement"]) == ("primary", "0", "3", "yes"), pa
    assert switch_events(a) == [], a.log

    # the operator ends it: A's change is newer than B's version
    a.rpc("ha_pair.switchover", PAIR, "backup")
    assert a.wait(lambda: a.show(PAIR)["disagreement"] == "no"
                  and b.show(PAIR)["disagreement"] == "no",
                  2) is not None, (a.show(PAIR), b.show(PAIR))
    pa, pb = a.show(PAIR), b.show(PAIR)
    assert (pa["active"], pb["active"]) == ("backup", "backup"), (pa, pb)
    assert pa["version"] == pb["version"], (pa, pb)
    # the events are logged by the event process, after the change: a
    # moment later than ha_pair.show has it
    assert a.wait(lambda: switch_events(a) == ["manual"], 2) is not None, \
        (switch_events(a), a.log)
    assert switch_events(b) == ["probe"], b.log
