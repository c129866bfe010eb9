# SPDX-License-Identifier: GPL-2.0-or-later
"""Probes decide, transactions wait: a failed transaction is a reason to
probe its member, never a verdict by itself, and the transaction waits for
the verdict suspended in tm (no worker held).

The primary is a real SIP server (tests/e2e/bad_member.cfg, Debian's
kamailio) that answers every request with 200 except those it is told to
ignore (X-Test: ignore) or to refuse (X-Test: 503, with Retry-After: 7);
the backup's SIP port is closed, as a real standby's is. Legitimate
callers (faults.Caller) send alongside. Figures go to
tests/e2e/logs/evidence.txt."""

import re
import time

import pytest

from conftest import Kamailio, Peer, bad_member, pairs_xml
from harness import note
from faults import Caller, Watch, failed, stop_all_callers

NOTES = "evidence.txt"  # tests/e2e/logs/: figures of each run

CHECK_MS, FORCE_MS = 1000, 500
PAIR = ("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
        {"oos-check": f"{CHECK_MS}ms", "oos-force": f"{FORCE_MS}ms"})
PAIRS = pairs_xml([PAIR])
PROXY = ("127.0.0.1", 5060)


@pytest.fixture(autouse=True)
def _callers():
    yield
    stop_all_callers()


def start(procs, logdir, defines=None, pairs=PAIRS):
    member = bad_member(procs, logdir)
    kam = Kamailio(procs, logdir, pairs, defines=defines)
    # the backup's start probe went unanswered; the primary answers
    assert kam.wait(lambda: [m["state"] for m in
                             kam.show("sipserver1")["members"]]
                    == ["up", "down"], 3) is not None
    return member, kam


def test_bad_requests_move_nothing(procs, logdir, uacs):
    """Requests the primary ignores or answers 503, alongside legitimate
    traffic: each is a reason to probe, the probe is answered, nothing
    moves; the bad requests get the member's own failure and nobody else
    notices."""
    member, kam = start(procs, logdir)
    caller = Caller(period=0.05)  # 20 legitimate requests a second
    watch = Watch(kam)
    bad = uacs("127.0.0.11")
    results = []
    for i in range(12):
        kind = "ignore" if i % 2 == 0 else "503"
        cid = f"bad{i}-{kind}"
        t0 = bad.request("MESSAGE", cid, headers=[f"X-Test: {kind}"])
        code, text, t1 = bad.final(cid, "MESSAGE", 6)
        results.append((kind, code, text, None if t1 is None else t1 - t0))
        time.sleep(max(0.0, t0 + 1.0 - time.monotonic()))
    caller.stop()
    seen = watch.stop()
    recs = caller.records({})
    p = kam.show("sipserver1")
    st = kam.stats()
    note(logdir, NOTES,
         f"{len(recs)} legitimate requests, {len(failed(recs))} "
         f"failed; bad requests: "
         + ", ".join(f"{k}->{c} in {t * 1000:.0f} ms"
                     if t is not None else f"{k}->none"
                     for k, c, _, t in results)
         + f"; states seen {sorted(seen)}; stats {st}")
    assert failed(recs) == [], failed(recs)[:5]
    assert seen == {("CHECK", "primary")}, seen
    assert (p["switchovers"], p["state"], p["active"]) == (
        "0", "CHECK", "primary"), p
    for kind, code, text, took in results:
        if kind == "ignore":
            # tm's fr_timer (1 s in the example config), then one probe
            assert code == 408, (kind, code, text)
        else:
            assert code == 503, (kind, code, text)
            assert " 503 Member Busy\r\n" in text.split("\n")[0] + "\n", text
            assert re.search(r"^Retry-After: 7\r?$", text, re.M), text
    # each bad request asked for a verdict, and the probes were answered;
    # most waited for it (one whose verdict was already in, a probe
    # answered in that very millisecond, is answered without waiting)
    assert 1 <= st["waited"] <= 12 and st["wait_timeouts"] == 0, st
    assert st["verify_probes"] >= 1 and st["verify_alive"] >= 1, st
    assert st["verify_silent"] == 0 and st["waiting"] == 0, st
    assert int(p["verify_alive"]) >= 1 and p["waiting"] == "0", p


def test_request_too_big_for_udp_is_no_evidence(procs, logdir, uacs):
    """A request this proxy cannot forward over UDP (too big for a
    datagram once its Via is added): its sender gets an error, the member
    is not probed for it, the pair does not move."""
    # (on Kamailio 6.x the harness raises msg_recv_max_size, 32 KB by
    # default, so that the request reaches tm at all)
    member, kam = start(procs, logdir)
    caller = Caller(period=0.05)
    before = kam.stats()
    big = uacs("127.0.0.12")
    # 65,507 bytes is the most a UDP datagram carries; this one arrives
    # whole and is too big only with the proxy's Via added
    t0 = big.request("MESSAGE", "huge1", pad=65200, body="")
    code, text, t1 = big.final("huge1", "MESSAGE", 8)
    time.sleep(0.3)
    caller.stop()
    recs = caller.records({})
    after = kam.stats()
    p = kam.show("sipserver1")
    log = kam.log_text()
    note(logdir, NOTES, f"huge request -> {code} in "
                 f"{(t1 - t0) * 1000 if t1 else -1:.0f} ms; "
                 f"{len(failed(recs))} of {len(recs)} others failed")
    # it reached the proxy and tm tried to send it (so the test proves
    # what it claims)
    assert "sending request on branch 0 failed" in log, log[-2000:]
    assert code is not None and code >= 400, (code, text)
    assert failed(recs) == []
    assert after["verify_probes"] == before["verify_probes"], (before, after)
    assert after["waited"] == before["waited"]
    assert (p["switchovers"], p["state"], p["active"]) == (
        "0", "CHECK", "primary"), p


def test_forged_request_from_closed_standby(procs, logdir, uacs):
    """member_trust confirm is the default: a forged UDP request from the
    closed standby's address costs one probe, no switchover, and no
    legitimate request fails."""
    member, kam = start(procs, logdir)
    caller = Caller(period=0.05)
    watch = Watch(kam)
    forger = uacs("127.0.0.3", 5060)
    for i in range(5):
        forger.request("MESSAGE", f"forged{i}",
                       ruri="sip:someone@127.0.0.1:5060")
    time.sleep(FORCE_MS / 1000 + 0.5)
    caller.stop()
    seen = watch.stop()
    recs = caller.records({})
    p = kam.show("sipserver1")
    note(logdir, NOTES, f"5 forged requests: states seen {sorted(seen)}, "
                 f"claims_unconfirmed {p['claims_unconfirmed']}, "
                 f"{len(failed(recs))} of {len(recs)} legitimate failed")
    assert seen == {("CHECK", "primary")}, seen
    assert p["switchovers"] == "0" and int(p["claims_unconfirmed"]) >= 1, p
    assert failed(recs) == []


def hunting(procs, logdir, max_wait=8000):
    """Two sipp members, both frozen once up: the pair hunts (FORCE); a
    request may wait max_wait ms (MAX_WAIT). Returns (primary, backup,
    kamailio)."""
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS, defines={"MAX_WAIT": max_wait})
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("sipserver1")["members"]), 3) \
        is not None
    pri.freeze()
    bak.freeze()
    assert kam.wait(lambda: kam.show("sipserver1")["state"] == "FORCE",
                    CHECK_MS * 2 / 1000 + 1) is not None
    return pri, bak, kam


def test_hunt_holds_bye_and_invite_until_member_found(procs, logdir, uacs):
    """Both members silent: a new INVITE and an in-dialog BYE arrive while
    the pair hunts; they wait (the INVITE gets 100 Trying) and both reach
    the member the hunt finds."""
    pri, bak, kam = hunting(procs, logdir)
    inv, bye = uacs("127.0.0.13"), uacs("127.0.0.14")
    t_inv = inv.request("INVITE", "hunt-invite",
                        ruri="sip:bob@127.0.0.1:5060", body="")
    t_bye = bye.request("BYE", "hunt-bye", ruri="sip:bob@127.0.0.2:5060",
                        to_tag="callee1", body="")
    assert kam.wait(lambda: kam.show("sipserver1")["waiting"] == "2", 2) \
        is not None, \
        kam.show("sipserver1")
    assert kam.wait(lambda: inv.got("hunt-invite", 100), 2) is not None
    assert inv.final("hunt-invite", "INVITE", 0.01)[0] is None
    t_resume = time.monotonic()
    bak.resume()
    ci, _, ti = inv.final("hunt-invite", "INVITE", 6)
    cb, _, tb = bye.final("hunt-bye", "BYE", 6)
    p = kam.show("sipserver1")
    note(logdir, NOTES,
         f"INVITE -> {ci} {ti - t_inv:.2f} s after sent, BYE -> {cb} "
         f"{tb - t_bye:.2f} s after sent; backup resumed "
         f"{t_resume - t_inv:.2f} s after the INVITE")
    assert (ci, cb) == (200, 200)
    assert (p["state"], p["active"], p["waiting"]) == ("CHECK", "backup",
                                                        "0"), p
    assert bak.received("INVITE sip:bob@") == 1
    assert bak.received("BYE sip:bob@127.0.0.2") == 1
    assert ti >= t_resume and tb >= t_resume
    # ACK the 200, end the call
    inv.request("ACK", "hunt-invite", ruri="sip:bob@127.0.0.3:5060",
                to_tag="x", body="")


def test_cancel_ends_a_waiting_invite_at_once(procs, logdir, uacs):
    """An INVITE waiting during a hunt is ended by its CANCEL at once."""
    pri, bak, kam = hunting(procs, logdir)
    u = uacs("127.0.0.13")
    u.request("INVITE", "cancel-me", ruri="sip:bob@127.0.0.1:5060",
              branch="z9hG4bKcancelme", body="")
    assert kam.wait(lambda: u.got("cancel-me", 100), 2) is not None
    assert kam.show("sipserver1")["waiting"] == "1"
    t0 = u.request("CANCEL", "cancel-me", ruri="sip:bob@127.0.0.1:5060",
                   branch="z9hG4bKcancelme", body="")
    cc, _, tc = u.final("cancel-me", "CANCEL", 2)
    ci, _, ti = u.final("cancel-me", "INVITE", 2)
    note(logdir, NOTES, f"CANCEL -> {cc}, INVITE -> {ci} "
                 f"{(ti - t0) * 1000 if ti else -1:.0f} ms after the CANCEL")
    assert (cc, ci) == (200, 487)
    assert ti - t0 < 0.3
    assert kam.wait(lambda: kam.show("sipserver1")["waiting"] == "0", 2) \
        is not None
    u.request("ACK", "cancel-me", ruri="sip:bob@127.0.0.1:5060",
              branch="z9hG4bKcancelme", body="")
    # nothing reached the members
    bak.resume()
    pri.resume()
    time.sleep(0.3)
    assert bak.received("INVITE sip:bob@") == 0
    assert pri.received("INVITE sip:bob@") == 0


def shm_used(kam):
    out = kam.rpc("core.shmmem").stdout
    return int(re.search(r"used: (\d+)", out).group(1))


def test_total_outage_caps_waits_and_spares_other_pairs(procs, logdir,
                                                        uacs):
    """Both members of one pair silent: more waiting transactions than the
    proxy has SIP workers (4), capped per pair, each answered 503 at the
    bound, while another pair's traffic flows undelayed; shared memory
    comes back once tm's wait timer has passed."""
    cap, bound_ms, n = 10, 2000, 16
    pairs = pairs_xml([
        PAIR,
        ("other", "sip:127.0.0.4:5060", "sip:127.0.0.5:5060",
         {"oos-check": f"{CHECK_MS}ms", "oos-force": f"{FORCE_MS}ms"})])
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    opri = Peer(procs, logdir, "other-primary", "127.0.0.4")
    Peer(procs, logdir, "other-backup", "127.0.0.5")
    kam = Kamailio(procs, logdir, pairs,
                   defines={"MAX_WAIT": bound_ms, "MAX_WAITING": cap})
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("sipserver1")["members"]), 3) \
        is not None
    # warm up (tm, the caller's first transactions), then measure
    warm = Caller(ip="127.0.0.15", ruri="sip:fm@127.0.0.4:5060", period=0.05)
    time.sleep(1.0)
    warm.stop()
    time.sleep(0.5)
    shm0 = shm_used(kam)
    pri.freeze()
    bak.freeze()
    assert kam.wait(lambda: kam.show("sipserver1")["state"] == "FORCE",
                    CHECK_MS * 2 / 1000 + 1) is not None
    caller = Caller(ruri="sip:fm@127.0.0.4:5060", period=0.02)
    time.sleep(0.3)
    t_burst = time.monotonic()
    us = [uacs("127.0.0.20", 6000 + i) for i in range(n)]
    sent = [u.request("MESSAGE", f"outage{i}",
                      ruri="sip:alice@127.0.0.2:5060")
            for i, u in enumerate(us)]
    assert kam.wait(lambda: kam.show("sipserver1")["waiting"] == str(cap),
                    1) is not None, kam.show("sipserver1")
    finals = [u.final(f"outage{i}", "MESSAGE", bound_ms / 1000 + 3)
              for i, u in enumerate(us)]
    t_end = time.monotonic()
    time.sleep(0.5)
    caller.stop()
    lat = caller.latencies(since=t_burst, until=t_end)
    recs = caller.records({})
    took = sorted((t - s) for s, (c, _, t) in zip(sent, finals) if t)
    p = kam.show("sipserver1")
    st = kam.stats()
    p99 = lat[int(len(lat) * 0.99) - 1] if lat else None
    note(logdir, NOTES, f"{n} requests on a dead pair: codes "
                 f"{sorted(c for c, _, _ in finals)}; answered after "
                 f"{[round(x * 1000) for x in took]} ms; other pair: "
                 f"{len(lat)} requests during the outage, p99 "
                 f"{p99 * 1000 if p99 else -1:.1f} ms, max "
                 f"{max(lat) * 1000 if lat else -1:.1f} ms; stats {st}")
    assert [c for c, _, _ in finals] == [503] * n
    assert all(re.search(r"^Retry-After: \d+\r?$", text, re.M)
               for _, text, _ in finals)
    # over the cap: at once; the others at the bound (tm's timer: 62.5 ms
    # ticks)
    assert len([x for x in took if x < 0.3]) == n - cap, took
    at_bound = [x for x in took if x >= 0.3]
    assert len(at_bound) == cap
    assert all(bound_ms / 1000 - 0.1 <= x <= bound_ms / 1000 + 0.4
               for x in at_bound), at_bound
    assert (st["wait_rejected"], st["wait_timeouts"]) == (n - cap, cap), st
    assert (p["waiting"], p["wait_timeouts"], p["wait_rejected"]) == (
        "0", str(cap), str(n - cap)), p
    # the other pair's callers never noticed
    assert failed(recs) == [] and len(lat) >= 50
    assert p99 < 0.05, lat[-10:]
    assert opri.received("MESSAGE sip:fm@") >= len(lat)
    # memory: back once tm's wait timer (5 s) has let the transactions go
    time.sleep(5.5)
    shm1 = shm_used(kam)
    note(logdir, NOTES, f"shm used {shm0} before, {shm1} after "
                 f"({shm1 - shm0:+d} bytes)")
    assert abs(shm1 - shm0) < 64 * 1024, (shm0, shm1)


def malformed(i, ip, port):
    """A request broken in one of several ways (the proxy's parser or the
    member's refuse it; none is a reason to move the pair)."""
    me = f"{ip}:{port}"
    good = (f"MESSAGE sip:alice@127.0.0.1:5060 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {me};branch=z9hG4bKmal{i};rport\r\n"
            f"From: <sip:m@{me}>;tag=m{i}\r\nTo: <sip:alice@127.0.0.1>\r\n"
            f"Call-ID: mal{i}\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
            f"Content-Length: 0\r\n\r\n")
    kinds = [
        lambda: good.replace(f"Call-ID: mal{i}\r\n", ""),
        lambda: good.replace("CSeq: 1 MESSAGE", "CSeq: x MESSAGE"),
        lambda: good.replace("SIP/2.0\r\n", "SIP/9.9\r\n", 1),
        lambda: good[:len(good) // 2],
        lambda: good.replace("Content-Length: 0", "Content-Length: 500"),
        lambda: good.replace("Max-Forwards: 70", "Max-Forwards: 0"),
        lambda: good.replace("sip:alice@127.0.0.1:5060", "sip:@@@:x", 1),
        lambda: good.replace("To: <sip:alice@127.0.0.1>",
                             "To: \xff\xfe<<<"),
        lambda: good.replace("Via: SIP/2.0/UDP", "Via: SIP/2.0/XYZ"),
        lambda: "\x00" * 50 + good,
    ]
    return kinds[i % len(kinds)]().encode("latin-1", errors="replace")


def test_hostile_traffic_alongside_legitimate(procs, logdir, uacs):
    """Hundreds of bad requests in 10 s — ignored by the member, refused
    with 503, or malformed — alongside 20 legitimate requests a second:
    nobody but their senders notices, the pair never moves."""
    member, kam = start(procs, logdir)
    caller = Caller(period=0.05)
    watch = Watch(kam)
    senders = [uacs("127.0.0.16", 7000 + i) for i in range(10)]
    sent = {"ignore": [], "503": [], "malformed": 0}
    t_end = time.monotonic() + 10
    i = 0
    while time.monotonic() < t_end:
        u = senders[i % len(senders)]
        kind = ("ignore", "503", "malformed")[i % 3]
        if kind == "malformed":
            u.s.sendto(malformed(i, u.ip, u.port), PROXY)
            sent["malformed"] += 1
        else:
            cid = f"hostile{i}"
            u.request("MESSAGE", cid, headers=[f"X-Test: {kind}"])
            sent[kind].append((u, cid))
        i += 1
        time.sleep(0.033)  # 30 bad requests a second
    finals = {k: [(c, u.final(c, "MESSAGE", 4)) for u, c in v]
              for k, v in sent.items() if k != "malformed"}
    got = {k: [f[0] for _, f in v] for k, v in finals.items()}
    odd = [(c, (f[1] or "").split("\r\n")[0]) for k, v in finals.items()
           for c, f in v if f[0] != {"ignore": 408, "503": 503}[k]]
    caller.stop()
    seen = watch.stop()
    recs = caller.records({})
    p = kam.show("sipserver1")
    st = kam.stats()
    note(logdir, NOTES,
         f"{len(sent['ignore'])} ignored, {len(sent['503'])} refused, "
         f"{sent['malformed']} malformed requests; answers "
         f"ignored {sorted(set(got['ignore']))}, refused "
         f"{sorted(set(got['503']))}; {len(recs)} legitimate, "
         f"{len(failed(recs))} failed; states seen {sorted(seen)}; "
         f"verify_probes {st['verify_probes']}, waited {st['waited']},"
         f" probes_sent {st['probes_sent']}; unexpected answers to "
         f"{odd}")
    assert failed(recs) == [], failed(recs)[:5]
    assert seen == {("CHECK", "primary")}, seen
    assert p["switchovers"] == "0", p
    assert set(got["ignore"]) == {408}, got["ignore"]
    assert set(got["503"]) == {503}, got["503"]
    # each bad request waited for the verdict of a probe, unless one had
    # just been answered when it failed (then its failure stands at once);
    # one probe in flight per member: the verifications shared them
    bad = len(sent["ignore"]) + len(sent["503"])
    assert bad * 0.9 <= st["waited"] <= bad, st
    assert st["probes_sent"] < bad + 40, st
    assert st["wait_timeouts"] == 0 and st["verify_silent"] == 0, st
    assert kam.wait(lambda: kam.show("sipserver1")["waiting"] == "0", 2) is not None


def both_frozen(procs, logdir, defines):
    """A pair whose two members are frozen, hunting (FORCE)."""
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS, defines=defines)
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("sipserver1")["members"]), 3) is not None
    pri.freeze()
    bak.freeze()
    assert kam.wait(lambda: kam.show("sipserver1")["state"] == "FORCE",
                    CHECK_MS * 2 / 1000 + 1) is not None
    return kam


def test_waiting_off_refuses_at_once(procs, logdir, uacs):
    """max_waiting 0: nothing waits; a request during a hunt gets the
    script's 503 (with its Retry-After) at once."""
    kam = both_frozen(procs, logdir, {"MAX_WAITING": 0})
    u = uacs("127.0.0.11")
    t0 = u.request("MESSAGE", "nowait1")
    code, text, t1 = u.final("nowait1", "MESSAGE", 3)
    assert code == 503, text
    assert t1 - t0 < 0.3, t1 - t0
    assert re.search(r"^Retry-After: 5\r?$", text, re.M), text
    st = kam.stats()
    assert (st["waited"], st["waiting"], st["wait_rejected"]) == (0, 0, 0), st


def test_retry_after_zero_at_the_bound(procs, logdir, uacs):
    """retry_after 0: the 503 the module sends at the bound carries no
    Retry-After; 7 gives Retry-After: 7."""
    for ra, want in ((0, None), (7, "7")):
        d = logdir / f"retry-after-{ra}"
        d.mkdir()
        kam = both_frozen(procs, d, {"MAX_WAIT": 600, "RETRY_AFTER_S": ra})
        u = uacs("127.0.0.11", 5071 + ra)
        t0 = u.request("MESSAGE", f"ra{ra}")
        code, text, t1 = u.final(f"ra{ra}", "MESSAGE", 3)
        assert code == 503, text
        assert 0.5 <= t1 - t0 <= 1.1, t1 - t0  # the bound, tm's 16 Hz ticks
        got = re.search(r"^Retry-After: *(\S+)\r?$", text, re.M)
        assert (got.group(1) if got else None) == want, text
        assert kam.stats()["wait_timeouts"] == 1
        procs.stop_all()
