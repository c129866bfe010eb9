# SPDX-License-Identifier: GPL-2.0-or-later
"""ha_pair.reload while traffic flows: a pair that keeps its identity keeps
its state and takes new timings, new pairs start, removed pairs stop, a
broken file changes nothing; 200 reloads under 50 calls/s lose no call and
leak no shared memory."""

import re
import threading
import time

from conftest import Kamailio, Peer, pairs_xml, parse_kamcmd, send_request
from test_failover_under_load import final_counts, run_calls

A = ("pairA", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060")
B = ("pairB", "sip:127.0.0.4:5060", "sip:127.0.0.6:5060")


def xml(*pairs):
    return pairs_xml([(n, p, b, attrs) for (n, p, b), attrs in pairs])


def names(kam):
    return [p["name"] for p in parse_kamcmd(kam.rpc("ha_pair.list").stdout)]


def answered_by(procs, logdir, peers, user):
    """Send a request for pairA (R-URI: its primary's address) and say
    which member got it."""
    assert send_request(procs, logdir, "127.0.0.10", 5090, user=user,
                        ruri_host="127.0.0.2:5060") == 200
    return [ip for ip, p in peers.items()
            if p.received(f"MESSAGE sip:{user}@")]


def reload(kam, text):
    kam.pairs.write_text(text)
    return kam.rpc("ha_pair.reload", check=False).stdout


def test_reload_keeps_adds_removes_and_refuses(procs, logdir):
    peers = {ip: Peer(procs, logdir, ip, ip)
             for ip in ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.6")}
    kam = Kamailio(procs, logdir, xml((A, {"oos-check": "1s"})))
    assert kam.wait(lambda: kam.show("pairA")["members"][0]["state"] == "up",
                    3) is not None
    kam.rpc("ha_pair.switchover", "pairA", "backup")

    # changed timings, an added pair
    out = reload(kam, xml((A, {"oos-check": "2s"}), (B, {"oos-check": "1s"})))
    r = parse_kamcmd(out)[0]
    assert (r["pairs"], r["kept"], r["added"], r["removed"]) == \
        ("2", "1", "1", "0"), out
    a = kam.show("pairA")
    assert (a["active"], a["switchovers"], a["oos_check"]) == \
        ("backup", "1", "2000")
    assert answered_by(procs, logdir, peers, "k1") == ["127.0.0.3"]
    b = kam.show("pairB")
    assert (b["state"], b["active"], b["last_switchover_reason"]) == \
        ("CHECK", "primary", "start")
    assert kam.wait(lambda: peers["127.0.0.4"].received(
        "OPTIONS sip:127.0.0.4") >= 1, 2) is not None
    assert kam.wait(lambda: "ha_pair event switchover: pair=pairB none -> "
                    "primary" in kam.log_text(), 2) is not None
    # the new timing applies: pairA's backup is probed every 2 s now; from
    # one of its probes, the second next comes 4 s later (2 s at the old
    # 1 s timing)
    bak_probes = lambda: peers["127.0.0.3"].received("OPTIONS sip:127.0.0.3")
    n0 = bak_probes()
    assert kam.wait(lambda: bak_probes() > n0, 3) is not None
    n1 = bak_probes()
    took = kam.wait(lambda: bak_probes() >= n1 + 2, 6, step=0.01)
    assert took is not None and 3.7 <= took <= 4.4, took

    # a broken file: a fault with file:line and why; nothing changes
    out = reload(kam, xml((A, {"oos-check": "2s"}), (B, {"oos-check": "1s"}))
                 .replace('<backup uri="sip:127.0.0.6:5060"/>', ""))
    assert re.search(rf"500 - {re.escape(str(kam.pairs))}:\d+: pair 'pairB': "
                     r"missing <backup>", out), out
    assert names(kam) == ["pairA", "pairB"]
    assert kam.show("pairA")["active"] == "backup"
    assert answered_by(procs, logdir, peers, "k2") == ["127.0.0.3"]

    # a removed pair is no longer probed nor matched
    out = reload(kam, xml((A, {"oos-check": "2s"})))
    r = parse_kamcmd(out)[0]
    assert (r["kept"], r["added"], r["removed"]) == ("1", "0", "1"), out
    assert names(kam) == ["pairA"]
    assert "404" in kam.rpc("ha_pair.show", "pairB", check=False).stdout
    assert answered_by(procs, logdir, peers, "k3") == ["127.0.0.3"]
    # from pairA's next probe (sent after the reload) and over two more
    # (4 s), none of the removed pair's (it was probed every 1 s)
    pair_a = lambda: peers["127.0.0.3"].received("OPTIONS sip:127.0.0.3")
    n = pair_a()
    assert kam.wait(lambda: pair_a() > n, 3) is not None
    n0 = peers["127.0.0.4"].received("OPTIONS sip:127.0.0.4")
    n = pair_a()
    assert kam.wait(lambda: pair_a() >= n + 2, 5) is not None
    assert peers["127.0.0.4"].received("OPTIONS sip:127.0.0.4") == n0

    # another member URI is another identity: a new pair, on its primary
    out = reload(kam, xml((("pairA", "sip:127.0.0.2:5060",
                            "sip:127.0.0.6:5060"), {"oos-check": "2s"})))
    r = parse_kamcmd(out)[0]
    assert (r["kept"], r["added"], r["removed"]) == ("0", "1", "1"), out
    a = kam.show("pairA")
    assert (a["active"], a["switchovers"]) == ("primary", "0")
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="r1") == 200
    assert peers["127.0.0.2"].received("MESSAGE sip:r1@") == 1


def shm_used(kam):
    out = kam.rpc("core.shmmem").stdout
    return int(re.search(r"used: (\d+)", out).group(1))


def module_shm(kam):
    """ha_pair's own shared memory, by Kamailio's accounting."""
    out = kam.rpc("mod.stats", "ha_pair", "shm").stdout
    return int(re.search(r"Total: (\d+)", out).group(1))


def test_200_reloads_under_load(procs, logdir):
    Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    for ip in ("127.0.0.4", "127.0.0.6"):
        Peer(procs, logdir, ip, ip)
    # the calls' R-URI is the proxy's address: a <domain> keeps them on
    # pairA when pairB is there too
    one = xml((A, {"oos-check": "1s"}))
    two = xml((A, {"oos-check": "2s"}), (B, {}))
    one, two = (t.replace('<backup uri="sip:127.0.0.3:5060"/>',
                          '<backup uri="sip:127.0.0.3:5060"/>\n'
                          '    <domain>127.0.0.1</domain>') for t in (one, two))
    kam = Kamailio(procs, logdir, one)
    assert kam.wait(lambda: kam.show("pairA")["members"][0]["state"] == "up",
                    3) is not None
    # warm up: the first reloads and requests allocate what stays. A fixed
    # delay on purpose: the replaced tables are freed after a grace of 5 s
    # that no RPC shows, and the baseline must not include them
    for text in (two, one):
        reload(kam, text)
    time.sleep(7)
    before = shm_used(kam)
    mod_before = module_shm(kam)
    dump_before = kam.rpc("mod.stats", "ha_pair", "shm").stdout

    caller, stats = run_calls(procs, logdir)
    faults = []

    def reloads():
        for i in range(200):
            out = reload(kam, two if i % 2 == 0 else one)
            if "error" in out:
                faults.append(out)
            time.sleep(0.05)
    th = threading.Thread(target=reloads)
    th.start()
    th.join(60)
    rc = caller.wait(60)
    ok, failed = final_counts(stats)
    with open(logdir.parent / "reload_load.txt", "w") as f:
        f.write(f"200 reloads under 50 calls/s: {ok} calls ok, {failed} "
                f"failed\n")
    assert faults == []
    assert (ok, failed, rc) == (1000, 0, 0)
    assert names(kam) == ["pairA"]
    # the replaced tables are freed after their grace (5 s); tm's
    # transactions after theirs: wait for the memory to come back (the
    # asserts below say what did not)
    kam.wait(lambda: shm_used(kam) - before < 64 * 1024
             and abs(module_shm(kam) - mod_before) < 1024, 20, step=0.5)
    after = shm_used(kam)
    mod_after = module_shm(kam)
    with open(logdir.parent / "reload_load.txt", "a") as f:
        f.write(f"shm used before {before}, after {after}; ha_pair's own "
                f"before {mod_before}, after {mod_after}\n")
        f.write(f"ha_pair's shm by place, before:\n{dump_before}after:\n"
                + kam.rpc("mod.stats", "ha_pair", "shm").stdout)
    assert after - before < 64 * 1024, (before, after)
    # a leak of one table per reload would be ~200 x 2 KB here. What is
    # left is the allocator: mod.stats counts each allocation's fragment,
    # and an equal request may get a bigger one (seen: a 104-byte table
    # header counted 304, module totals +0 to +1,104 bytes over runs with
    # the same places allocating): 8 KB, far below the leak
    assert abs(mod_after - mod_before) < 8192, (
        dump_before, kam.rpc("mod.stats", "ha_pair", "shm").stdout)
