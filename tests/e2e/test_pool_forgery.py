# SPDX-License-Identifier: GPL-2.0-or-later
"""A pool no forged datagram can steer: three proxies over dmq (UDP, the
documented default), one pair whose two members both answer probes, so
that any claim a proxy took would move it at once. A forger on the pool's
network sends from a node's own address (a raw socket: the node's very
address and port) every kind of pool message: unsigned, signed with a key
the pool has not, tampered with, signed as another node, out of time,
genuine ones captured on the wire and sent again (to the same node, to
another node, after the sender restarted), and ones signed with a key
taken out of the file. Each ends with no switchover, no pool message sent
by the proxy it was sent to, and its rejection counted by reason."""

import json
import time

import conftest
import poolseal
from conftest import Kamailio, dmq_addr, pairs_xml
from rawudp import Sniffer, send_from

PAIR = "p1"
PRI, BAK = ("127.0.0.2", 5060), ("127.0.0.3", 5060)
PROXIES = ["127.0.0.1", "127.0.0.21", "127.0.0.22"]
# probing never moves the pair in this test: only a message could
PAIRS = pairs_xml([(PAIR, "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "20s", "oos-force": "500ms"})])
# no periodic broadcast: every pool message a proxy sends is the test's
# doing
EXTRA = {"SYNC_INTERVAL": 0}
SENT = ("peer_changes_sent", "peer_batches_sent")


_n = iter(range(1 << 30))


def forge(to_ip, body, src=(PROXIES[0], 5060)):
    """Send body in a KDMQ request to the proxy at to_ip from src (a raw
    socket: by default a node's own SIP address and port)."""
    send_from(src, (to_ip, 5060),
              poolseal.kdmq_request(to_ip, body, src,
                                    f"forged-{next(_n)}-{time.time()}"))


def change(active, version, origin, op="change"):
    return json.dumps({"v": 1, "op": op, "pair": PAIR,
                       "primary": "sip:127.0.0.2:5060",
                       "backup": "sip:127.0.0.3:5060", "active": active,
                       "reason": "passive", "version": version,
                       "origin": origin}, separators=(",", ":"))


def batch(states, origin, sync=True):
    return ('{"v":1,"op":"batch","origin":"%s","sync":%s,"states":[%s],'
            '"last":true}' % (origin, "true" if sync else "false",
                              ",".join(states)))


def show(k):
    return k.show(PAIR)


def snapshot(k):
    p = show(k)
    return {"switchovers": p["switchovers"], "active": p["active"],
            "version": p["version"],
            **{s: k.stat(s) for s in SENT}}


def assert_costs_nothing(k, before, stat, n=1, settle=0.3):
    """k counted n more in stat, and nothing else moved: no switchover, no
    pool message sent (checked again after settle s, for a probe or an
    answer that would come late)."""
    assert k.wait(lambda: k.stat(stat) >= before[stat] + n, 3) is not None, \
        (stat, k.stat(stat), before[stat], k.log_text()[-2000:])
    time.sleep(settle)
    now = snapshot(k)
    assert now == {s: before[s] for s in now}, (now, before)
    assert k.stat(stat) == before[stat] + n


def with_stats(k, *stats):
    d = snapshot(k)
    d.update({s: k.stat(s) for s in stats})
    return d


def on(kams, role, version=None):
    return all(show(k)["active"] == role
               and (version is None or show(k)["version"] == version)
               for k in kams)


def start(procs, logdir, udp_member):
    udp_member(*PRI)
    udp_member(*BAK)
    kams = conftest.start_pool(procs, logdir, PROXIES, PAIRS, extra=EXTRA)
    assert on(kams, "primary")
    # the start-up syncs are over (their answers are the last genuine
    # messages until the test makes some)
    for k in kams:
        assert k.wait(lambda: show(k)["syncing"] == "no", 3) is not None
    return kams


def restart(procs, logdir, kams, i):
    """Stop proxy i and start it again (a new boot), as start_pool
    started it; returns the new one once the pool lists it again."""
    procs.stop(kams[i].proc)
    d = logdir / f"proxy{i}-again"
    d.mkdir()
    ip = PROXIES[i]
    other = PROXIES[1 if i == 0 else 0]
    k = Kamailio(procs, d, PAIRS, listen=f"udp:{ip}:5060",
                 defines={"WITH_DMQ": None,
                          "DMQ_SERVER": f'"{dmq_addr(ip)}"',
                          "DMQ_NOTIFY": f'"{dmq_addr(other)}"', **EXTRA})
    assert k.wait(lambda: conftest.active_nodes(k) == len(PROXIES), 15,
                  step=0.1) is not None
    return k


def test_forged_messages_cost_nothing(procs, logdir, udp_member):
    kams = start(procs, logdir, udp_member)
    victim = kams[1]
    node0 = dmq_addr(PROXIES[0])
    received = show(victim)["peer_received"]
    stats = ["peer_rejected_unsigned", "peer_rejected_key",
             "peer_rejected_mac", "peer_rejected_origin",
             "peer_rejected_time", "peer_rejected_malformed"]
    # unsigned, as an older ha_pair or a forger writes them: a change, a
    # state, a sync, a batch, a huge version, a stale one
    unsigned = [change("backup", 7, node0),
                change("backup", 8, node0, op="state"),
                '{"v":1,"op":"sync","origin":"%s"}' % node0,
                batch([change("backup", 9, node0, op="state")], node0),
                change("backup", 18446744073709551615, node0),
                change("backup", 0, "sip:127.0.0.0:5060")]
    for body in unsigned:
        before = with_stats(victim, *stats)
        forge(PROXIES[1], body)
        assert_costs_nothing(victim, before, "peer_rejected_unsigned")
    # signed with a key the pool has not
    other_key = "0" * 31 + "1" * 33
    before = with_stats(victim, *stats)
    forge(PROXIES[1], poolseal.seal(change("backup", 10, node0),
                                    key=other_key, origin=node0))
    assert_costs_nothing(victim, before, "peer_rejected_key")
    # a genuine envelope with its message changed: a bad MAC
    sealed = poolseal.seal(change("backup", 11, node0), origin=node0)
    before = with_stats(victim, *stats)
    forge(PROXIES[1], sealed.replace('"version":11', '"version":99'))
    assert_costs_nothing(victim, before, "peer_rejected_mac")
    # signed as node 2 but sent from node 0's address
    before = with_stats(victim, *stats)
    forge(PROXIES[1], poolseal.seal(change("backup", 12, dmq_addr(
        PROXIES[2])), origin=dmq_addr(PROXIES[2])))
    assert_costs_nothing(victim, before, "peer_rejected_origin")
    # sent two minutes ago (pool_time_window: 30 s)
    before = with_stats(victim, *stats)
    forge(PROXIES[1], poolseal.seal(
        change("backup", 13, node0), origin=node0,
        ts=int(time.time() * 1000) - 120000))
    assert_costs_nothing(victim, before, "peer_rejected_time")
    # an envelope of the wrong form
    before = with_stats(victim, *stats)
    forge(PROXIES[1], "HAP2 nothex " + change("backup", 14, node0))
    assert_costs_nothing(victim, before, "peer_rejected_malformed")
    assert victim.stat("peer_rejected") == len(unsigned) + 5
    # nothing reached the state machine; the pool never moved
    assert show(victim)["peer_received"] == received
    assert on(kams, "primary", "0")
    log = victim.log_text()
    # logged once a minute per source and reason, with the source
    assert log.count("a pool message from 127.0.0.1:5060 dropped: not "
                     "signed") == 1, log[-3000:]
    assert other_key not in log and poolseal.TEST_KEY not in log


def test_replayed_messages_cost_nothing(procs, logdir, udp_member):
    kams = start(procs, logdir, udp_member)
    victim = kams[1]
    sniff = Sniffer([5060])
    try:
        # genuine traffic: an operator moves the pair there and back on
        # proxy 0; the pool follows each (both members answer)
        kams[0].rpc("ha_pair.switchover", PAIR, "backup")
        assert kams[0].wait(lambda: on(kams, "backup", "1"), 3) is not None
        kams[0].rpc("ha_pair.switchover", PAIR, "primary")
        assert kams[0].wait(lambda: on(kams, "primary", "2"), 3) is not None

        def kdmq_from(src_ip, dst_ip, *needles):
            return lambda s, d, p: (s[0] == src_ip and d[0] == dst_ip
                                    and p.startswith(b"KDMQ sip:ha_pair@")
                                    and all(n in p for n in needles))
        # proxy 0's change to the backup, as it went to proxy 1
        c1 = sniff.find(kdmq_from(PROXIES[0], PROXIES[1], b"HAP2 ",
                                  b'"active":"backup"'))
        assert c1 is not None, sniff.seen[-5:]
        # the same datagram again, byte for byte, from proxy 0's address:
        # a retransmission to dmq: 200, not taken again
        before = with_stats(victim, "peer_duplicates")
        send_from(c1[0], c1[1], c1[2])
        assert_costs_nothing(victim, before, "peer_duplicates")
        # proxy 2 restarts: proxy 0 answers its sync with a batch for
        # proxy 2 only; sent to proxy 1 it is for another node
        kams[2] = restart(procs, logdir, kams, 2)
        c2 = sniff.find(kdmq_from(PROXIES[0], PROXIES[2], b"HAP2 ",
                                  b'"op":"batch"'), timeout=5)
        assert c2 is not None
        assert b" to=sip:127.0.0.22:5060\n" in c2[2], c2[2][:300]
        before = with_stats(victim, "peer_rejected_to")
        send_from(c2[0], (PROXIES[1], 5060),
                  c2[2].replace(b"KDMQ sip:ha_pair@127.0.0.22",
                                b"KDMQ sip:ha_pair@127.0.0.21"))
        assert_costs_nothing(victim, before, "peer_rejected_to")
        # proxy 0 restarts (a new boot, which proxy 1 learns from its
        # sync); its change of the old boot, sent again: a replay
        kams[0] = restart(procs, logdir, kams, 0)
        assert victim.wait(lambda: on(kams, "primary", "2"), 5) is not None
        boot_seen = sniff.find(kdmq_from(PROXIES[0], PROXIES[1],
                                         b'"op":"sync"'), timeout=5)
        assert boot_seen is not None
        before = with_stats(victim, "peer_rejected_replay")
        send_from(c1[0], c1[1], c1[2])
        assert_costs_nothing(victim, before, "peer_rejected_replay")
        # and the same old change with fresh SIP headers (what dmq sees
        # as a new request): the envelope is what counts
        before = with_stats(victim, "peer_rejected_replay")
        body = c1[2].split(b"\r\n\r\n", 1)[1].decode()
        forge(PROXIES[1], body)
        assert_costs_nothing(victim, before, "peer_rejected_replay")
    finally:
        sniff.close()
    assert on(kams, "primary", "2")


def test_a_key_taken_out_of_the_file(procs, logdir, udp_member):
    """Proxy 1's file gets a new key only (K1 taken out), and a reload:
    proxy 0's messages, still signed with K1, are dropped there; they move
    nothing, and proxy 1 sends nothing for them."""
    kams = start(procs, logdir, udp_member)
    victim = kams[1]
    k2 = "a5" * 32
    poolseal.write_keys(victim.logdir / "pool.keys", k2)
    victim.rpc("ha_pair.reload")
    assert f"id {poolseal.key_id(k2)} (signs)" in victim.log_text()
    before = with_stats(victim, "peer_rejected_key")
    kams[0].rpc("ha_pair.switchover", PAIR, "backup")
    assert kams[0].wait(lambda: show(kams[2])["active"] == "backup",
                        3) is not None
    assert_costs_nothing(victim, before, "peer_rejected_key")
    assert show(victim)["active"] == "primary"


def test_bad_key_files_stop_startup_and_reload(procs, logdir, udp_member):
    """A key file that others may read, one with a short key, or none:
    start-up stops with the reason; a reload keeps the running keys."""
    for name, keys, mode, why in (
            ("short", ["abc"], 0o600, "shorter than 32"),
            ("open", [poolseal.TEST_KEY], 0o644, "mode 0644"),
            ("missing", None, 0, "No such file")):
        d = logdir / name
        d.mkdir()
        f = d / "keys"
        if keys is not None:
            poolseal.write_keys(f, *keys)
            f.chmod(mode)
        k = Kamailio(procs, d, PAIRS, listen=f"udp:{PROXIES[0]}:5060",
                     expect_start=False,
                     defines={"WITH_DMQ": None, "POOL_SECRET_FILE": f'"{f}"',
                              "DMQ_SERVER": f'"{dmq_addr(PROXIES[0])}"'})
        k.proc.wait(10)
        assert k.proc.returncode != 0
        assert why in k.log_text(), k.log_text()[-2000:]
        assert "openssl rand -hex 32" in k.log_text() or name == "open"
    kams = start(procs, logdir, udp_member)
    f = kams[0].logdir / "pool.keys"
    f.chmod(0o640)
    out = kams[0].rpc("ha_pair.reload", check=False)
    out = out.stdout + out.stderr
    assert "error: 500" in out and "mode 0640" in out, out
    assert "reload refused, the running pairs and pool keys stay" in \
        kams[0].log_text()
    f.chmod(0o600)
    kams[0].rpc("ha_pair.reload")


def test_key_rotation_without_lost_agreement(procs, logdir, udp_member):
    """Three proxies move from key K1 to K2, one at a time, by editing
    their files and reloading: K2 added (K1 still signs), then K2 first
    (it signs, K1 still verifies), then K1 taken out. After every single
    reload a change made on any proxy reaches the other two, and no
    message is dropped anywhere."""
    kams = start(procs, logdir, udp_member)
    k1, k2 = poolseal.TEST_KEY, "b7" * 32
    steps = [[k1, k2], [k2, k1], [k2]]
    version = 0
    role = "primary"
    for keys in steps:
        for i, k in enumerate(kams):
            poolseal.write_keys(k.logdir / "pool.keys", *keys)
            k.rpc("ha_pair.reload")
            # a change on the next proxy: every proxy takes it
            maker = kams[(i + 1) % len(kams)]
            role = "backup" if role == "primary" else "primary"
            version += 1
            maker.rpc("ha_pair.switchover", PAIR, role)
            assert maker.wait(lambda: on(kams, role), 3) is not None, \
                [show(x) for x in kams]
    for k in kams:
        assert k.stat("peer_rejected") == 0, k.log_text()[-2000:]
        assert show(k)["switchovers"] == str(version)


def test_a_node_s_own_messages_are_bounded(procs, logdir, udp_member):
    """What even a genuine node of the pool (or its stolen key) can make a
    proxy do is bounded: its sync is answered once per boot, and only to
    it; a version more than 2^32 ahead is refused outright; a flood of
    stale changes gets one answer per pair per oos-check."""
    kams = start(procs, logdir, udp_member)
    victim = kams[1]
    # the test signs as proxy 0, from its IP (its address sorts before
    # proxy 1's: its version 0 is older than proxy 1's own version 0)
    node = dmq_addr(PROXIES[0])
    boot = int(time.time() * 1000) + 60000  # a boot of its, newer
    seq = iter(range(1, 1 << 20))

    def send(body):
        forge(PROXIES[1], poolseal.seal(body, origin=node, boot=boot,
                                        seq=next(seq)),
              src=(PROXIES[0], 5099))
    # its sync: one batch back (to it), whatever its repeats
    before = with_stats(victim)
    send('{"v":1,"op":"sync","origin":"%s"}' % node)
    assert victim.wait(lambda: victim.stat("peer_batches_sent")
                       == before["peer_batches_sent"] + 1, 3) is not None
    for _ in range(3):
        send('{"v":1,"op":"sync","origin":"%s"}' % node)
    time.sleep(0.5)
    assert victim.stat("peer_batches_sent") == before["peer_batches_sent"] + 1
    # a version far beyond any the pool could have made
    before = with_stats(victim, "peer_rejected_range")
    send(change("backup", 18446744073709551615, node))
    assert_costs_nothing(victim, before, "peer_rejected_range")
    assert show(victim)["peer_out_of_range"] == "1"
    # a flood of stale changes (version 0 of an origin that sorts first):
    # one answer in an oos-check (20 s here), the rest suppressed
    before = with_stats(victim, "peer_answers_suppressed")
    for _ in range(50):
        send(change("backup", 0, node))
    assert victim.wait(lambda: victim.stat("peer_answers_suppressed")
                       >= before["peer_answers_suppressed"] + 49, 5) \
        is not None
    time.sleep(0.3)
    assert victim.stat("peer_changes_sent") <= \
        before["peer_changes_sent"] + 1
    p = show(victim)
    assert (p["active"], p["switchovers"]) == ("primary", "0"), p
