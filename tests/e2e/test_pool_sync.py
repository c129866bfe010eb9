# SPDX-License-Identifier: GPL-2.0-or-later
"""The pool's start-up sync and catch-up (enable_dmq): a starting proxy's
pairs wait for the pool's answer (sync_timeout) and requests wait with
them; the answers come in batches under 16 KB, whatever the number of
pairs; a proxy cut off from the pool's dmq traffic catches up by the
periodic broadcast (sync_interval).

Members are sipp peers (conftest.Peer): they answer OPTIONS and MESSAGE
and log every request, so a request that reached the wrong member shows."""

import os
import re
import socket
import statistics
import subprocess
import threading
import time

import pytest

from conftest import KAMAILIO_VERSION, Kamailio, Peer, pairs_xml
from test_pool_dmq import (BAK, PAIR, PAIRS, PRI, PROXIES, all_on, dmq_addr,
                           show, start_pool)

CHUNK_MAX = 16384  # ha_peer.h HA_PEER_CHUNK_MAX: a batch's body, at most


def bound(ip, port=5060, netns=None):
    """Has some program bound ip:port (UDP)? Asked of ss, never by binding
    it (that would race the kamailio starting there)."""
    cmd = ["ss", "-Hlnu", "src", f"{ip}:{port}"]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    return bool(subprocess.run(cmd, capture_output=True, text=True,
                               timeout=5).stdout.strip())


class Client:
    """A UDP caller at src: once the proxy at to_ip listens (ss, polled
    every 2 ms), it sends n MESSAGEs gap s apart and keeps, per Call-ID,
    when it sent it and when and with what its final reply came."""

    def __init__(self, to_ip, n, gap=0.01, src=("127.0.0.31", 5098),
                 netns=None):
        self.to_ip, self.n, self.gap, self.netns = to_ip, n, gap, netns
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(src)
        self.s.settimeout(0.05)
        self.me = f"{src[0]}:{src[1]}"
        self.sent, self.final = {}, {}
        self.listening_at = None
        self.running = True
        self.rx = threading.Thread(target=self._recv, daemon=True)
        self.rx.start()
        self.tx = threading.Thread(target=self._send, daemon=True)
        self.tx.start()

    def _send(self):
        deadline = time.monotonic() + 15
        while not bound(self.to_ip, netns=self.netns):
            if not self.running or time.monotonic() > deadline:
                return
            time.sleep(0.002)
        self.listening_at = time.monotonic()
        for i in range(self.n):
            cid = f"sync{i}-{time.monotonic_ns()}"
            req = (f"MESSAGE sip:bob@{self.to_ip}:5060 SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP {self.me};branch=z9hG4bK{cid};rport\r\n"
                   f"From: <sip:caller@{self.me}>;tag={cid}\r\n"
                   f"To: <sip:bob@{self.to_ip}:5060>\r\n"
                   f"Call-ID: {cid}\r\nCSeq: 1 MESSAGE\r\n"
                   f"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
            self.sent[cid] = time.monotonic()
            self.s.sendto(req.encode(), (self.to_ip, 5060))
            time.sleep(self.gap)

    def _recv(self):
        while self.running:
            try:
                data = self.s.recv(65535).decode(errors="replace")
            except (socket.timeout, OSError):
                continue
            m = re.search(r"^Call-ID:\s*(\S+)", data, re.M | re.I)
            code = int(data[8:11]) if data.startswith("SIP/2.0 ") else 0
            if m and code >= 200 and m.group(1) not in self.final:
                self.final[m.group(1)] = (time.monotonic(), code)

    def done(self):
        return len(self.final) == self.n

    def waits(self):
        """Seconds from each request to its final reply, in sending
        order."""
        return [self.final[c][0] - t for c, t in
                sorted(self.sent.items(), key=lambda x: x[1])
                if c in self.final]

    def codes(self):
        return sorted(code for _, code in self.final.values())

    def close(self):
        self.running = False
        self.tx.join(16)
        self.rx.join(2)
        self.s.close()


@pytest.fixture
def client():
    made = []

    def make(*a, **kw):
        c = Client(*a, **kw)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def proxy(procs, d, ip, notify, pairs=PAIRS, extra=None, netns=None):
    """One proxy of the pool on ip, asking notify for dmq's node list."""
    defines = {"WITH_DMQ": None, "DMQ_SERVER": f'"{dmq_addr(ip)}"',
               "DMQ_NOTIFY": f'"{notify}"'}
    defines.update(extra or {})
    return Kamailio(procs, d, pairs, defines=defines,
                    listen=f"udp:{ip}:5060", netns=netns)


def record(logdir, line):
    with open(logdir.parent / "pool_agreement.txt", "a") as f:
        f.write(line + "\n")


@pytest.mark.timeout(60)
def test_requests_at_start_wait_for_the_pool(procs, logdir, client):
    """The pool moved to the backup (an operator's switchover on one
    proxy); a proxy restarts, and requests reach it as soon as its SIP port
    listens: each waits (ha_wait) until the pool's answer is adopted after
    its confirming probe, then goes to the backup. Without the sync they
    would go to the primary, which still answers its probes."""
    pri = Peer(procs, logdir, "primary", *PRI)
    bak = Peer(procs, logdir, "backup", *BAK)
    kams = start_pool(procs, logdir)
    kams[0].rpc("ha_pair.switchover", PAIR, "backup")
    assert kams[0].wait(lambda: all_on(kams, "backup"), 2) is not None
    version = show(kams[0])["version"]
    procs.stop(kams[2].proc)
    d = logdir / "proxy2-again"
    d.mkdir()
    c = client(PROXIES[2], 10)
    again = proxy(procs, d, PROXIES[2], dmq_addr(PROXIES[0]))
    assert again.wait(c.done, 5) is not None, (c.sent, c.final)
    assert c.codes() == [200] * 10, c.final
    # every one went to the pool's member, none to the old one
    assert bak.received("MESSAGE ") == 10
    assert pri.received("MESSAGE ") == 0
    p = show(again)
    assert (p["active"], p["last_switchover_reason"], p["version"],
            p["syncing"]) == ("backup", "peer", version, "no"), p
    # they waited for the sync (not for a hunt: the pair never hunted)
    assert again.stat("waited") >= 1
    assert again.stat("wait_timeouts") == 0
    assert again.stat("pairs_synced") == 1
    w = c.waits()
    record(logdir, f"restarted proxy, requests from the moment its SIP port "
                   f"listened: all 10 on the pool's member, waited median "
                   f"{statistics.median(w) * 1000:.0f} ms, worst "
                   f"{max(w) * 1000:.0f} ms (sync, confirming probe)")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("pool,timeout_ms", [("alone", 1000),
                                             ("silent", 1000),
                                             ("alone", 0)])
def test_no_answer_delays_start_by_sync_timeout_at_most(
        procs, logdir, client, pool, timeout_ms):
    """A pool of one (dmq's node list has only this proxy) or a silent
    notification peer: nobody answers the sync. The first request waits
    until sync_timeout at most and goes to the primary (docs/ha_pair.md, How it decides); with
    sync_timeout 0 nothing waits at all."""
    pri = Peer(procs, logdir, "primary", *PRI)
    Peer(procs, logdir, "backup", *BAK)
    silent = None
    notify = dmq_addr(PROXIES[0])
    if pool == "silent":
        # a bound socket that never answers (no ICMP error either)
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.23", 5060))
        notify = dmq_addr("127.0.0.23")
    try:
        c = client(PROXIES[0], 1)
        kam = proxy(procs, logdir, PROXIES[0], notify,
                    extra={"SYNC_TIMEOUT": timeout_ms})
        assert kam.wait(c.done, 5) is not None, (c.sent, c.final)
    finally:
        if silent is not None:
            silent.close()
    assert c.codes() == [200]
    assert pri.received("MESSAGE ") == 1
    waited = c.waits()[0]
    p = show(kam)
    assert (p["active"], p["last_switchover_reason"], p["syncing"]) == (
        "primary", "start", "no"), p
    if timeout_ms:
        # it waited for the sync, which ended at its timeout
        assert kam.stat("waited") == 1
        assert waited < timeout_ms / 1000 + 0.3, waited
    else:
        assert kam.stat("waited") == 0
        assert waited < 0.2, waited
    record(logdir, f"no answer to the sync ({pool}, sync_timeout "
                   f"{timeout_ms} ms): the first request, sent as the SIP "
                   f"port listened, answered after {waited * 1000:.0f} ms")


NPAIRS = 2000


def many(check):
    return pairs_xml([(f"p{i:04d}", "sip:127.0.0.2:5060",
                       "sip:127.0.0.3:5060",
                       {"oos-check": check, "oos-force": "2s"})
                      for i in range(NPAIRS)])


def actives(kam):
    """{pair: its active member} of the NPAIRS pairs at kam."""
    return {n: p["active"] for n, p in
            kam.listed(f"p{k:02d}" for k in range(NPAIRS // 100)).items()}


def on_backup(kam):
    """How many of the NPAIRS pairs kam has on the backup: its statistic
    pairs_on_backup, one kamcmd call (listing the 2,000 pairs takes 20,
    about 0.4 s a proxy under load)."""
    return kam.stat("pairs_on_backup")


def tm_current(kam):
    """How many transactions kam's tm holds now (tm.stats' current)."""
    m = re.search(r"current: (\d+)", kam.rpc("tm.stats").stdout)
    assert m, kam.rpc("tm.stats").stdout
    return int(m.group(1))


def differing(again, pool):
    """How many pairs again has on another member than the proxies of
    pool, which agree among themselves (None while they do not)."""
    views = [actives(k) for k in pool]
    if any(v != views[0] for v in views[1:]):
        return None
    mine = actives(again)
    return sum(mine.get(n) != a for n, a in views[0].items())


@pytest.mark.timeout(120)
def test_sync_of_2000_pairs_in_batches(procs, logdir):
    """2,000 pairs, all on the backup in the pool (their primary was dead
    when the pool started: 2,000 switchovers at once on each proxy, sent to
    the pool as batches of changes); the primary comes back and a proxy
    restarts:
    the pool's answers bring every pair to the backup, in batches that stay
    under 16 KB (on 6.0 with its default msg_recv_max_size, 32 KB).
    oos-check 2 s finds the dead primary soon; then every proxy reloads the
    pairs with oos-check 30 s, so that 6,000 probes every 2 s do not
    overload the sipp backup (its silence would move pairs in the pool).
    oos-force 2 s: the restarted proxy's 4,000 start probes and 2,000
    claims come at once, and a loaded sipp may answer some late; a claim
    refused so is caught up by the other peer's answer or the periodic
    broadcast (sync_interval 2 s here), counted in peer_changes_refused."""
    # no message log: sipp writing 6,000 probes to its file at the start
    # falls behind under load and drops answers (pairs then hunt)
    Peer(procs, logdir, "backup", *BAK, trace=False)
    extra = {"SYNC_INTERVAL": 2000}
    if KAMAILIO_VERSION >= (6, 0):
        extra["MSG_RECV_MAX_SIZE"] = 32767  # 6.0's default, not the tests'
    kams = start_pool(procs, logdir, pairs=many("2s"), extra=extra)
    assert kams[0].wait(lambda: all(on_backup(k) == NPAIRS for k in kams),
                        20, step=0.5) is not None, [on_backup(k)
                                                     for k in kams]
    # the start's 2,000 switchovers on each proxy went to the pool as
    # batches of changes: tm holds a few hundred transactions at most (one
    # message a change held 3,600 on each proxy, 53 MB of its 64 MB of
    # shared memory, and a loaded run ran out)
    held = [tm_current(k) for k in kams]
    assert max(held) < 1000, held
    for k in kams:
        k.pairs.write_text(many("30s"))
        k.rpc("ha_pair.reload")
    # (a pair that lost a probe to the load meanwhile hunts back to the
    # backup: the primary is still dead)
    assert kams[0].wait(lambda: all(on_backup(k) == NPAIRS for k in kams),
                        20, step=0.5) is not None, [on_backup(k)
                                                     for k in kams]
    # alive again, as before
    Peer(procs, logdir, "primary", *PRI, trace=False)
    procs.stop(kams[2].proc)
    d = logdir / "proxy2-again"
    d.mkdir()
    sent = [k.stat("peer_batches_sent") for k in kams[:2]]
    t0 = time.monotonic()
    again = proxy(procs, d, PROXIES[2], dmq_addr(PROXIES[0]),
                  pairs=many("30s"), extra=extra)
    # the pool's member of every pair: the backup, but for the pairs where
    # a backup answer lost to the load (4,000 start probes and 2,000
    # claims hit the sipp backup at once) made a proxy hunt and find the
    # primary, alive again; the restarted proxy must then take the primary
    # from the pool too
    # looked at cheaply (pairs_on_backup of each) until the counts agree,
    # then pair by pair until the views do (at once, unless a pair still
    # moves)
    assert again.wait(lambda: len({on_backup(k) for k in kams[:2] + [again]})
                      == 1, 20, step=0.2) is not None, \
        [on_backup(k) for k in kams[:2] + [again]]
    assert again.wait(lambda: differing(again, kams[:2]) == 0,
                      max(2.0, 20 - (time.monotonic() - t0)),
                      step=0.2) is not None, differing(again, kams[:2])
    took = time.monotonic() - t0
    t1 = time.monotonic()
    differing(again, kams[:2])  # timed: how long one look takes
    poll = time.monotonic() - t1
    moved = NPAIRS - on_backup(again)
    # the sync is what took them to the backup (this proxy starts on the
    # primary): most stayed there. A pair moves when a proxy hunts because
    # the sipp backup answered a probe late or not at all: with its
    # message log on, runs saw 0 to 55 moved, then 416 and 777 in full
    # suites under load, 208 with stress-ng (the log's writes made it
    # drop answers under the start's 6,000 probes); without the log, none
    # of the runs in docs/reliability.md. A quarter is the bound since
    # 2026-12-01: three quarters on the backup show the sync carried them
    assert moved < NPAIRS // 4, moved
    for k, s in zip(kams[:2], sent):
        # each answered with batches of many states (the sync answer and
        # the periodic broadcasts meanwhile), each under the limit
        n = k.stat("peer_batches_sent") - s
        assert NPAIRS // 100 <= n < NPAIRS // 2, n
        assert CHUNK_MAX // 2 < k.stat("peer_batch_max_bytes") <= CHUNK_MAX
    assert again.stat("pairs_synced") == NPAIRS
    assert again.stat("peer_changes_received") >= NPAIRS
    assert "dmq send queue full" not in again.log_text()
    record(logdir, f"restarted proxy with {NPAIRS} pairs: all on the pool's "
                   f"member ({moved} of them on the primary, found by a "
                   f"hunt under load) {took:.1f} s after its start began, "
                   f"looked at every {poll:.1f} s "
                   f"(batches of "
                   f"at most {kams[0].stat('peer_batch_max_bytes')} bytes; "
                   f"{again.stat('peer_changes_refused')} claims refused "
                   f"on the way, the member late under load)")


CUT = """
table inet hacut {
  chain out {
    type filter hook output priority 0; policy accept;
    ip saddr 127.0.0.22 ip daddr { 127.0.0.1, 127.0.0.21 } counter drop
    ip saddr { 127.0.0.1, 127.0.0.21 } ip daddr 127.0.0.22 counter drop
  }
}
"""


@pytest.fixture
def poolns():
    """A network namespace of the test's own (loopback up) for the whole
    pool, where nftables can cut one proxy off."""
    name = f"hasync{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo",
                        "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name])


@pytest.mark.timeout(60)
def test_cut_off_proxy_catches_up(procs, logdir, poolns):
    """Proxy 127.0.0.22 is cut off from the other two (nftables drops
    every packet between them, members still reachable); the pool moves to
    the backup meanwhile. The cut lasts longer than the KDMQ transactions
    (TM_FR_TIMER 1 s), so no retransmission of the change is left to
    arrive. Once healed, the next periodic broadcast (sync_interval 500 ms)
    brings the cut proxy to the backup, after its confirming probe."""
    Peer(procs, logdir, "primary", *PRI, netns=poolns)
    Peer(procs, logdir, "backup", *BAK, netns=poolns)
    interval = 0.5
    kams = start_pool(procs, logdir, netns=poolns,
                      extra={"SYNC_INTERVAL": int(interval * 1000),
                             "TM_FR_TIMER": 1000})
    assert all_on(kams, "primary")
    nft = ["ip", "netns", "exec", poolns, "nft"]
    subprocess.run(nft + ["-f", "-"], input=CUT, text=True, check=True)
    kams[0].rpc("ha_pair.switchover", PAIR, "backup")
    assert kams[0].wait(lambda: all_on(kams[:2], "backup"), 2) is not None
    version = show(kams[0])["version"]
    time.sleep(2.0)  # the cut: longer than a KDMQ transaction lives
    assert show(kams[2])["active"] == "primary"  # it was cut off
    dropped = subprocess.run(nft + ["list", "table", "inet", "hacut"],
                             capture_output=True, text=True).stdout
    assert re.search(r"counter packets [1-9]", dropped), dropped
    received = kams[2].stat("peer_changes_received")
    subprocess.run(nft + ["delete", "table", "inet", "hacut"], check=True)
    t0 = time.monotonic()
    took = kams[2].wait(lambda: show(kams[2])["active"] == "backup", 3,
                        step=0.01)
    assert took is not None, show(kams[2])
    took = time.monotonic() - t0
    p = show(kams[2])
    assert (p["last_switchover_reason"], p["version"]) == ("peer",
                                                           version), p
    assert kams[2].stat("peer_changes_received") > received
    # the next broadcast after the heal, and the confirming probe
    assert took < interval + 0.3, took
    record(logdir, f"cut-off proxy on the pool's member {took * 1000:.0f} ms "
                   f"after the cut healed (sync_interval "
                   f"{interval * 1000:.0f} ms)")
