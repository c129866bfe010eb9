# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers of the fault matrix: a caller that sends one request through the
proxy every 100 ms and records what it got, and which member got it (from
the sipp peers' message logs)."""

import os
import re
import socket
import subprocess
import threading
import time
from collections import Counter

from harness import Served, note

MSG = ("MESSAGE {ruri} SIP/2.0\r\n"
       "Via: SIP/2.0/UDP {ip}:{port};branch=z9hG4bK{cid};rport\r\n"
       "From: <sip:caller@{ip}:{port}>;tag={cid}\r\n"
       "To: <{ruri}>\r\n"
       "Call-ID: {cid}\r\n"
       "CSeq: 1 MESSAGE\r\n"
       "Max-Forwards: 70\r\n"
       "Content-Type: text/plain\r\n"
       "Content-Length: 5\r\n\r\nhello")


class Caller:
    """Sends a MESSAGE to the proxy every `period` s from ip:port (its own
    thread) and records, per request, the send time and the final code (or
    None: no final reply within `answer_within` s)."""

    def __init__(self, ip="127.0.0.10", port=5091, proxy=("127.0.0.1", 5060),
                 ruri="sip:fm@127.0.0.1:5060", period=0.1, name="fm",
                 answer_within=5.0):
        self.ip, self.port, self.proxy, self.ruri = ip, port, proxy, ruri
        self.period, self.answer_within = period, answer_within
        self.tag = f"{name}{os.getpid()}x{time.monotonic_ns() % 10**9}"
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, port))
        self.sock.settimeout(0.05)
        self.sent = {}    # seq -> monotonic send time
        self.codes = {}   # seq -> final code
        self.answered = {}  # seq -> monotonic time of the final reply
        self.lock = threading.Lock()
        self.running = True
        self.seq = 0
        Caller.live.append(self)
        self.tx = threading.Thread(target=self._send, daemon=True)
        self.rx = threading.Thread(target=self._recv, daemon=True)
        self.rx.start()
        self.tx.start()

    def cid(self, seq):
        return f"{self.tag}-{seq}"

    def _send(self):
        nxt = time.monotonic()
        while self.running:
            seq = self.seq
            self.seq += 1
            m = MSG.format(ruri=self.ruri, ip=self.ip, port=self.port,
                           cid=self.cid(seq))
            with self.lock:
                self.sent[seq] = time.monotonic()
            try:
                self.sock.sendto(m.encode(), self.proxy)
            except OSError:
                pass
            nxt += self.period
            time.sleep(max(0.0, nxt - time.monotonic()))

    def _recv(self):
        pat = re.compile(rb"^SIP/2\.0 (\d{3})")
        cidpat = re.compile(rb"\r\nCall-ID: *" + self.tag.encode()
                            + rb"-(\d+)")
        while self.running or time.monotonic() < self._until:
            try:
                data = self.sock.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            m, c = pat.match(data), cidpat.search(data)
            if m and c and int(m.group(1)) >= 200:
                with self.lock:
                    self.codes.setdefault(int(c.group(1)), int(m.group(1)))
                    self.answered.setdefault(int(c.group(1)),
                                             time.monotonic())

    _until = 0.0
    live = []  # callers not stopped yet (stop_all() ends them)

    def stop(self, wait=True):
        """Stop sending; wait for the answers still due."""
        if self in Caller.live:
            Caller.live.remove(self)
        if not self.running:
            return
        self._until = time.monotonic() + (self.answer_within if wait else 0)
        self.running = False
        self.tx.join(2)
        self.rx.join(self.answer_within + 2)
        self.sock.close()

    def records(self, peers):
        """[(seq, send time, code, [peers that got it], [peers that got its
        first branch])]: a request that tm retried (ha_failover()) reaches
        a second member on a later branch (Via branch ...1, ...2)."""
        got, first = {}, {}
        cid = re.compile(r"^Call-ID: *" + re.escape(self.tag) + r"-(\d+)",
                         re.M)
        via = re.compile(r"^Via: [^\n]*;branch=z9hG4bK[^;\s]*\.(\d+)\s*$",
                         re.M)
        for name, peer in peers.items():
            try:
                text = peer.msgs.read_text(errors="replace")
            except FileNotFoundError:
                text = ""
            for block in text.split("\n-----------------------------------"):
                if "message received" not in block:
                    continue
                c = cid.search(block)
                if not c:
                    continue
                s = int(c.group(1))
                got.setdefault(s, set()).add(name)
                v = via.search(block)
                if v and v.group(1) == "0":
                    first.setdefault(s, set()).add(name)
        with self.lock:
            return [(s, t, self.codes.get(s), sorted(got.get(s, ())),
                     sorted(first.get(s, ())))
                    for s, t in sorted(self.sent.items())]

    def latencies(self, since=None, until=None):
        """Seconds from send to final reply of the requests sent in
        [since, until] (monotonic; None: no bound) that got one."""
        with self.lock:
            return sorted(self.answered[s] - t for s, t in self.sent.items()
                          if s in self.answered
                          and (since is None or t >= since)
                          and (until is None or t <= until))

    def summary(self, peers, t0=None):
        recs = self.records(peers)
        codes = Counter(str(r[2]) for r in recs)
        where = Counter("+".join(r[3]) or "-" for r in recs)
        return (f"{len(recs)} requests, final codes "
                f"{dict(sorted(codes.items()))}, reached {dict(where)}")


def stop_all_callers():
    for c in list(Caller.live):
        c.stop(wait=False)


def failed(recs):
    """The requests whose caller got no 200."""
    return [r for r in recs if r[2] != 200]


def report(logdir, line):
    """One line of the fault matrix's results (tests/e2e/logs)."""
    note(logdir, "fault_matrix.txt", line)
    print(line)


class Netns:
    """A named network namespace joined to this one by a veth pair:
    here HERE_IP on <name>a, there THERE_IP on <name>b.

    Loopback addresses only, also on the veth: Linux takes 127.0.0.0/8 for
    this host (a local route of lo), so each side gets a more specific
    route to the other end's address through the veth in its local table,
    and route_localnet on the veth lets 127.x packets cross it. Deleting
    the veth removes both."""

    HERE_IP, THERE_IP = "127.18.0.1", "127.18.0.2"

    def __init__(self, name):
        self.name = name
        self.here, self.there = f"{name[:10]}a", f"{name[:10]}b"
        run = self.run_here
        run("ip", "netns", "add", name)
        try:
            run("ip", "link", "add", self.here, "type", "veth", "peer", "name",
                self.there, "netns", name)
            run("sysctl", "-qw", f"net.ipv4.conf.{self.here}.route_localnet=1")
            run("ip", "addr", "add", f"{self.HERE_IP}/30", "dev", self.here)
            run("ip", "link", "set", self.here, "up")
            run("ip", "route", "add", f"{self.THERE_IP}/32", "dev", self.here,
                "table", "local")
            self.run("sysctl", "-qw",
                     f"net.ipv4.conf.{self.there}.route_localnet=1")
            self.run("ip", "addr", "add", f"{self.THERE_IP}/30", "dev",
                     self.there)
            self.run("ip", "link", "set", self.there, "up")
            self.run("ip", "link", "set", "lo", "up")
            self.run("ip", "route", "add", f"{self.HERE_IP}/32", "dev",
                     self.there, "table", "local")
        except Exception:
            self.close()
            raise

    @staticmethod
    def run_here(*args, input=None):
        return subprocess.run(list(args), input=input, text=True, check=True,
                              capture_output=True).stdout

    def run(self, *args, input=None):
        return self.run_here("ip", "netns", "exec", self.name, *args,
                             input=input)

    def close(self):
        subprocess.run(["ip", "link", "del", self.here], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class ProbedMember(Served):
    """A pair member on a real UDP socket that keeps what each probe
    showed on arrival: [(monotonic time, source (ip, port), Call-ID,
    From header)] in `probes`. It answers every OPTIONS with `code` (None:
    silent, as a dead member) `delay` s after it arrived (0: at once);
    `replied` counts the answers it sent. Both may change while it runs."""

    def __init__(self, ip, port=5060, code=200, delay=0.0):
        self.code, self.delay = code, delay
        self.probes = []
        self.replied = 0
        self.lock = threading.Lock()
        self.timers = []
        self.serve(ip, port)

    @staticmethod
    def _header(text, name):
        m = re.search(rf"^{name}:[ \t]*(.*?)\r?$", text, re.M | re.I)
        return m.group(1) if m else None

    def handle(self, data, addr):
        now = time.monotonic()
        text = data.decode(errors="replace")
        if not text.startswith("OPTIONS "):
            return
        with self.lock:
            self.probes.append((now, addr, self._header(text, "Call-ID"),
                                self._header(text, "From")))
        code = self.code
        if code is None:
            return
        reply = self.reply(text, code).encode()
        if self.delay > 0:
            t = threading.Timer(self.delay, self._send, (reply, addr))
            self.timers.append(t)
            t.start()
        else:
            self._send(reply, addr)

    def _send(self, reply, addr):
        try:
            self.s.sendto(reply, addr)
        except OSError:
            return
        with self.lock:
            self.replied += 1

    @staticmethod
    def reply(req, code):
        keep = []
        for line in req.split("\r\n")[1:]:
            if not line:
                break
            name = line.split(":", 1)[0].strip().lower()
            if name in ("via", "from", "call-id", "cseq"):
                keep.append(line)
            elif name == "to":
                keep.append(line + ";tag=member")
        return (f"SIP/2.0 {code} Member Says\r\n" + "\r\n".join(keep)
                + "\r\nContent-Length: 0\r\n\r\n")

    def firsts(self):
        """[(time, source, Call-ID)] of each probe's first transmission
        (a retransmission has its probe's Call-ID)."""
        seen, out = set(), []
        with self.lock:
            for t, addr, cid, _ in self.probes:
                if cid not in seen:
                    seen.add(cid)
                    out.append((t, addr, cid))
        return out

    def close(self):
        for t in self.timers:
            t.cancel()
        Served.close(self)


def sip_request(text, src, proxy=("127.0.0.1", 5060), timeout=5.0):
    """Send one SIP request (text, lines ending in CRLF) over UDP from
    src (ip, port) to the proxy; return the code of its final reply, or
    None when none came within timeout s."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(src)
        s.settimeout(0.1)
        s.sendto(text.encode(), proxy)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = s.recv(65535)
            except socket.timeout:
                continue
            m = re.match(rb"SIP/2\.0 (\d{3})", data)
            if m and int(m.group(1)) >= 200:
                return int(m.group(1))
        return None
    finally:
        s.close()


class Uac(Served):
    """A raw SIP client on a UDP address: sends requests and keeps every
    reply it gets, with its arrival time."""

    def __init__(self, ip, port=5070, proxy=("127.0.0.1", 5060)):
        self.ip, self.port, self.proxy = ip, port, proxy
        self.replies = []  # (monotonic time, text)
        self.lock = threading.Lock()
        self.serve(ip, port, sndbuf=1 << 20)

    def handle(self, data, addr):
        with self.lock:
            self.replies.append((time.monotonic(),
                                 data.decode(errors="replace")))

    def request(self, method, cid, ruri="sip:alice@127.0.0.1:5060",
                headers=(), to_tag=None, branch=None, cseq=1, body="hello",
                pad=0):
        """Send a request; returns its send time. pad: a header of that
        many bytes (X-Pad)."""
        me = f"{self.ip}:{self.port}"
        branch = branch or f"z9hG4bK{cid}"
        to = f"<{ruri}>" + (f";tag={to_tag}" if to_tag else "")
        lines = [f"{method} {ruri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {me};branch={branch};rport",
                 f"From: <sip:caller@{me}>;tag=f{cid}", f"To: {to}",
                 f"Call-ID: {cid}", f"CSeq: {cseq} {method}",
                 "Max-Forwards: 70", f"Contact: <sip:caller@{me}>"]
        lines += list(headers)
        if pad:
            lines.append("X-Pad: " + "x" * pad)
        if body:
            lines += ["Content-Type: text/plain",
                      f"Content-Length: {len(body)}", "", body]
        else:
            lines += ["Content-Length: 0", "", ""]
        t = time.monotonic()
        self.s.sendto("\r\n".join(lines).encode(), self.proxy)
        return t

    def final(self, cid, method, timeout):
        """(code, text, arrival time) of the first final reply to cid's
        method, or (None, None, None) after timeout seconds."""
        deadline = time.monotonic() + timeout
        pat = re.compile(r"^SIP/2\.0 (\d{3})")
        while time.monotonic() < deadline:
            with self.lock:
                for t, text in self.replies:
                    m = pat.match(text)
                    if (m and int(m.group(1)) >= 200
                            and re.search(rf"^Call-ID: *{re.escape(cid)}\r?$",
                                          text, re.M)
                            and re.search(rf"^CSeq: *\d+ {method}\r?$", text,
                                          re.M)):
                        return int(m.group(1)), text, t
            time.sleep(0.005)
        return None, None, None

    def got(self, cid, code):
        with self.lock:
            return any(text.startswith(f"SIP/2.0 {code} ")
                       and f"Call-ID: {cid}" in text
                       for _, text in self.replies)


class Watch:
    """Polls ha_pair.show every 20 ms in a thread: every (state, active)
    seen, and the time it was first seen."""

    def __init__(self, kam, name="sipserver1"):
        self.kam, self.name = kam, name
        self.seen = {}
        self.running = True
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        while self.running:
            try:
                p = self.kam.show(self.name)
                self.seen.setdefault((p["state"], p["active"]),
                                     time.monotonic())
            except Exception:
                pass
            time.sleep(0.02)

    def stop(self):
        self.running = False
        self.t.join(3)
        return set(self.seen)
