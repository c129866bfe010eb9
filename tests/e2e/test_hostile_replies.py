# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile input on the proxy's port: a reply carrying the token of the
probe in flight but sent from another address, replies with stale or
malformed tokens, and garbage datagrams change nothing: the frozen primary
is still found out, on time, and nothing crashes.

The huge datagrams (60 KB, up to 65,000 bytes) must reach ha_pair to prove
anything: Kamailio 5.6 reads UDP datagrams up to 64 KB, but 6.x drops those
of msg_recv_max_size (32,767 by default) or more in the core, before any
module sees them. On 6.x the proxy runs with msg_recv_max_size 65,535 (the
harness sets it for every test; named here too), and every test checks
that the core dropped none for its size."""

import re
import socket
import threading
import time

from conftest import (KAMAILIO_VERSION, Kamailio, Peer, pairs_xml, require_free,
                      wait_until)
from harness import note

CHECK_MS, FORCE_MS = 1000, 500
PAIRS = pairs_xml([("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": f"{CHECK_MS}ms",
                     "oos-force": f"{FORCE_MS}ms"})])

REPLY = ("SIP/2.0 200 OK\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKhap.{branch};rport\r\n"
         "From: <sip:ha_pair@127.0.0.1>;tag=hap{tok}\r\n"
         "To: <sip:127.0.0.2:5060>;tag=forged\r\n"
         "Call-ID: hap.{branch}@127.0.0.1\r\n"
         "CSeq: 1 OPTIONS\r\n"
         "Content-Length: 0\r\n\r\n")


# 6.x: the core passes datagrams up to 64 KB on to the modules, as 5.6 does
DEFINES = {"MSG_RECV_MAX_SIZE": 65535} if KAMAILIO_VERSION >= (6, 0) else {}
# what 6.x logs for a datagram it drops for its size
TOO_LARGE = "read message too large"


def rx_queue(port, ip="127.0.0.1"):
    """Bytes waiting in the receive queue of the UDP socket bound to
    ip:port (this network namespace's /proc/net/udp), 0 when none is."""
    want = "%08X:%04X" % (int.from_bytes(socket.inet_aton(ip), "little"),
                          port)
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want:
                return int(fields[4].split(":")[1], 16)
    return 0


def last_token(peer):
    branches = re.findall(r"branch=z9hG4bKhap\.1\.0\.0\.([0-9a-f]+)",
                          peer.msgs.read_text(errors="replace"))
    return int(branches[-1], 16)


def test_forged_replies_change_nothing(procs, logdir):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS, defines=DEFINES)
    assert kam.wait(lambda: int(kam.show("sipserver1")["members"][0]
                                ["probes_sent"]) >= 2, 3) is not None
    time.sleep(0.05)
    tok = last_token(pri)
    pri.freeze()

    stop = threading.Event()
    sent = [0]

    def attack():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.9", 5060))  # not a member's address
        junk = [b"\x00\xff" * 40, b"SIP/2.0 200\r\n\r\n", b"",
                b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKhap."
                b"zz.qq\r\n\r\n", b"A" * 60000]
        while not stop.is_set():
            # the tokens of the probes now and next, and stale ones
            for t in range(tok - 3, tok + 4):
                for m in (REPLY.format(branch=f"1.0.0.{t:x}", tok=f"{t:x}"),
                          REPLY.format(branch=f"1.0.1.{t:x}", tok=f"{t:x}"),
                          REPLY.format(branch=f"2.0.0.{t:x}", tok=f"{t:x}"),
                          REPLY.format(branch=f"1.ffff.0.{t:x}",
                                       tok=f"{t:x}")):
                    s.sendto(m.encode(), ("127.0.0.1", 5060))
                    sent[0] += 1
            for j in junk:
                s.sendto(j, ("127.0.0.1", 5060))
                sent[0] += 1
            time.sleep(0.02)
        s.close()

    th = threading.Thread(target=attack)
    th.start()
    try:
        t0 = time.monotonic()
        took = kam.wait(lambda: kam.show("sipserver1")["active"] == "backup",
                        5, step=0.02)
    finally:
        stop.set()
        th.join(5)
    assert sent[0] > 100
    assert took is not None, kam.show("sipserver1")
    assert took <= (2 * CHECK_MS + FORCE_MS + 300) / 1000.0
    p = kam.show("sipserver1")
    # the forged "200 OK"s were never taken for the primary's answers
    assert p["members"][0]["state"] == "down"
    assert p["members"][0]["last_code"] == "200"  # its real, earlier answer
    assert int(p["switchovers"]) == 1
    assert time.monotonic() - t0 < 10
    assert TOO_LARGE not in kam.log_text()


def test_forged_failures_and_huge_replies_change_nothing(procs, logdir):
    """The primary answers; meanwhile a foreign address sends, for the
    tokens now and next, forged 503s (the pair takes only 2xx as alive:
    were a forged 503 taken, the primary would be down at once) and
    replies with huge headers or thousands of Vias. The pair stays as it
    is: no switchover, the primary up, probing on."""
    pairs = pairs_xml([("sipserver1", "sip:127.0.0.2:5060",
                        "sip:127.0.0.3:5060",
                        {"oos-check": "500ms", "oos-force": "300ms",
                         "alive-codes": "2xx"})])
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, pairs, defines=DEFINES)
    assert kam.wait(lambda: int(kam.show("sipserver1")["members"][0]
                                ["probes_sent"]) >= 2, 3) is not None
    sent0 = int(kam.show("sipserver1")["members"][0]["probes_sent"])
    stop = threading.Event()
    sent = [0]

    def attack():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.9", 5060))
        while not stop.is_set():
            tok = last_token(pri)
            for t in range(tok - 1, tok + 3):
                base = REPLY.format(branch=f"1.0.0.{t:x}", tok=f"{t:x}")
                fail = base.replace("200 OK", "503 Service Unavailable")
                huge = base.replace("CSeq:", "X-Junk: " + "A" * 60000
                                    + "\r\nCSeq:")
                vias = base.replace(
                    "From:", "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n"
                    * 2000 + "From:")
                for m in (fail, huge, vias):
                    # never more than 128 KB waiting in the proxy's socket
                    # (its buffer holds a few hundred KB): a flood that
                    # fills it makes the kernel drop the members' genuine
                    # answers with the junk, before any module sees them
                    # (one run in five under stress-ng at 40 MB/s, and
                    # still, rarely, at 13 MB/s beside other test jobs): a
                    # flood's volume (docs/reliability.md, section 7), not
                    # what this test is about: what the replies say
                    while rx_queue(5060) > 128 * 1024 and not stop.is_set():
                        time.sleep(0.002)
                    try:
                        s.sendto(m.encode()[:65000], ("127.0.0.1", 5060))
                        sent[0] += 1
                    except OSError:
                        pass
            # at most about 400 a second, 13 MB/s of 60 KB datagrams
            time.sleep(0.03)
        s.close()

    th = threading.Thread(target=attack)
    t0 = time.monotonic()
    th.start()
    try:
        # 4 s of it, and at least 600 sent: a proxy slowed by a loaded
        # machine drains its socket slower, and the flood waits for it
        time.sleep(4.0)
        wait_until(lambda: sent[0] >= 600, 8)
    finally:
        stop.set()
        th.join(5)
    took = time.monotonic() - t0
    p = kam.show("sipserver1")
    primary = p["members"][0]
    note(logdir, "hostile.txt",
         f"forged 503s and huge replies: {sent[0]} sent in {took:.1f} s; "
         f"state {p['state']} {p['active']}, switchovers "
         f"{p['switchovers']}, primary {primary['state']} "
         f"last_code {primary['last_code']}\n")
    assert sent[0] >= 600, (sent[0], took)
    assert (p["state"], p["active"], p["switchovers"]) == \
        ("CHECK", "primary", "0"), p
    assert (primary["state"], primary["last_code"]) == ("up", "200"), p
    assert primary["probes_unanswered"] == "0", p
    # probing went on at its pace: about 8 probes in 4 s
    assert int(primary["probes_sent"]) >= sent0 + 6, p
    # the huge replies reached the modules (none dropped by the core)
    assert TOO_LARGE not in kam.log_text()


class Forger:
    """Holds a member's own address and port (its sipp killed): gets every
    probe sent to the member and answers each with a 200 OK whose Via
    branch carries tokens(seen, token) (the probe's own token is
    token; seen: the tokens of earlier probes, oldest first)."""

    BRANCH = re.compile(r"branch=z9hG4bKhap\.([0-9a-f]+\.[0-9a-f]+\.[0-9a-f]+)"
                        r"\.([0-9a-f]+)")

    def __init__(self, ip, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, port))
        self.sock.settimeout(0.05)
        self.tokens = lambda seen, token: [token]
        self.seen, self.probes, self.replies = [], 0, []
        self.lock = threading.Lock()  # one probe answered at a time
        self.stop = threading.Event()
        self.th = threading.Thread(target=self.run)
        self.th.start()

    def reply(self, req, token):
        head = req.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
        h = {}
        for line in head:
            h.setdefault(line.partition(":")[0].strip().lower(), line)
        via = self.BRANCH.sub(lambda m: f"branch=z9hG4bKhap.{m.group(1)}."
                              f"{token:x}", h["via"])
        return "\r\n".join(["SIP/2.0 200 OK", via, h["from"],
                            h["to"] + ";tag=forger", h["call-id"], h["cseq"],
                            "Content-Length: 0", "", ""]).encode()

    def run(self):
        while not self.stop.is_set():
            try:
                data, src = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            req = data.decode(errors="replace")
            m = self.BRANCH.search(req)
            if not req.startswith("OPTIONS ") or not m:
                continue
            token = int(m.group(2), 16)
            with self.lock:
                self.probes += 1
                for t in self.tokens(list(self.seen), token):
                    self.sock.sendto(self.reply(req, t), src)
                    self.replies.append((token, t))
                if token not in self.seen:
                    self.seen.append(token)

    def answer_with(self, tokens):
        """From now on tokens(seen, token); returns how many replies were
        sent before."""
        with self.lock:
            self.tokens = tokens
            return len(self.replies)

    def close(self):
        self.stop.set()
        self.th.join(5)
        self.sock.close()


def test_member_address_with_wrong_or_stale_tokens(procs, logdir):
    """The primary's own address and port, held by a forger that sees every
    probe. First it answers each with the probe's token: the primary stays
    up (a control: these replies are taken). Then it answers each with the
    tokens of earlier probes (stale) and with tokens no probe in flight
    has (the next ones, far ones), never the right one: none is taken for
    an answer, the primary is found down and the pair switches, on time."""
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS, defines=DEFINES)

    def primary():
        return kam.show("sipserver1")["members"][0]
    assert kam.wait(lambda: primary()["state"] == "up", 3) is not None
    pri.kill()
    require_free("127.0.0.2", 5060)
    forger = Forger("127.0.0.2", 5060)
    try:
        # the control: three probes answered with their own tokens
        sent0 = int(primary()["probes_sent"])
        assert kam.wait(lambda: int(primary()["probes_sent"]) >= sent0 + 3
                        and primary()["last_result"] == "up", 5) \
            is not None, primary()
        p = kam.show("sipserver1")
        assert (p["active"], p["switchovers"]) == ("primary", "0"), p
        assert primary()["probes_unanswered"] == "0", p
        assert forger.probes >= 3

        # then never the right token (a retransmission carries the token
        # of its first copy, which is then among the seen)
        def forged(seen, token):
            stale = [t for t in seen if t != token][-3:]
            return stale + [token + 1, token + 2, token ^ 0x10000,
                            (token + 0x7fffffff) & 0xffffffff]
        n_control = forger.answer_with(forged)
        t0 = time.monotonic()
        took = kam.wait(lambda: kam.show("sipserver1")["active"] == "backup",
                        5, step=0.02)
    finally:
        forger.close()
    assert took is not None, kam.show("sipserver1")
    assert took <= (2 * CHECK_MS + FORCE_MS + 300) / 1000.0, took
    p = kam.show("sipserver1")
    assert p["members"][0]["state"] == "down", p
    assert (p["switchovers"], p["last_switchover_reason"]) == ("1", "probe")
    assert int(p["members"][0]["probes_unanswered"]) >= 1, p
    # what the forger sent meanwhile: stale and wrong tokens, never the
    # probe's own (the control's replies, before, all carried it)
    forged_replies = forger.replies[n_control:]
    assert all(t == tok for tok, t in forger.replies[:n_control])
    assert forged_replies and all(t != tok for tok, t in forged_replies)
    assert any(t < tok for tok, t in forged_replies), forged_replies
    assert any(t > tok for tok, t in forged_replies), forged_replies
    assert time.monotonic() - t0 < 10
