# SPDX-License-Identifier: GPL-2.0-or-later
"""A slow DNS answer stalls no SIP worker (issue 12, item 1). Members are
given by host name and re-resolved every second; their DNS answers come
3 s late while replies to probes carrying another table generation (which
SIP workers look up under the store's lock) arrive all the time: the
requests the proxy answers meanwhile keep a p99 under 50 ms. Before the
fix, the refresh resolved with the store's lock held, and every worker
that took such a reply waited for DNS behind it.

Runs in a network namespace of its own: its /etc/resolv.conf (bind-mounted
by ip netns exec from /etc/netns/<name>/) names a small DNS server of the
test's, on 127.0.0.1:53 in the namespace, whose answers (TTL 1) can be
delayed; Kamailio's DNS cache is off (WITH_SYSTEM_RESOLVER). The host's
resolv.conf is never touched."""

import json
import subprocess
import sys
import time
from pathlib import Path

from conftest import Kamailio, Peer, listening, pairs_xml, wait_until
from harness import note

NAMES = {"ha-pri.test": "127.0.0.2", "ha-bak.test": "127.0.0.3"}
PAIRS = pairs_xml([("named", "sip:ha-pri.test:5060", "sip:ha-bak.test:5060",
                    {"oos-check": "1s", "oos-force": "300ms"})])
DELAY_S = 3.0

DNS_SERVER = r'''
import os, socket, struct, sys, threading, time
names = dict(a.split("=") for a in sys.argv[2:])
slow = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
log = open(slow + ".log", "a", buffering=1)

def answer(q, addr):
    qid, = struct.unpack("!H", q[:2])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += 1 + q[i]
    qtype, = struct.unpack("!H", q[i + 1:i + 3])
    question = q[12:i + 5]
    name = ".".join(labels).lower()
    ip = names.get(name) if qtype == 1 else None
    delayed = os.path.exists(slow)
    log.write(f"{time.monotonic():.3f} {name} {qtype} delayed={delayed}\n")
    if delayed:
        time.sleep(%(delay)s)
    rr = b""
    if ip:
        rr = (b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 1, 4)
              + socket.inet_aton(ip))
    rcode = 0 if name in names else 3
    hdr = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, 1 if rr else 0, 0, 0)
    s.sendto(hdr + question + rr, addr)

while True:
    q, addr = s.recvfrom(2048)
    threading.Thread(target=answer, args=(q, addr), daemon=True).start()
''' % {"delay": DELAY_S}

CLIENT = r'''
import json, socket, sys, threading, time
seconds = float(sys.argv[1])
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.bind(("127.0.0.20", 5099))
c.settimeout(0.01)
f = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
f.bind(("127.0.0.21", 5099))
sent, lat = {}, []
done = False

def forge():
    # replies to "probes" of a table generation that is not running
    n = 0
    while not done:
        n += 1
        f.sendto((f"SIP/2.0 200 OK\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKhap."
                  f"{0xfff00 + n % 200:x}.0.0.{n:x}\r\n"
                  f"From: <sip:ha_pair@127.0.0.1>;tag=f{n}\r\n"
                  f"To: <sip:x@127.0.0.2>;tag=t{n}\r\n"
                  f"Call-ID: forged{n}\r\nCSeq: 1 OPTIONS\r\n"
                  f"Content-Length: 0\r\n\r\n").encode(),
                 ("127.0.0.1", 5060))
        time.sleep(0.005)

threading.Thread(target=forge, daemon=True).start()
t_end = time.monotonic() + seconds
i = 0
next_send = 0
while time.monotonic() < t_end or (sent and time.monotonic() < t_end + 5):
    now = time.monotonic()
    if now >= next_send and now < t_end:
        i += 1
        cid = f"lat{i}"
        c.sendto((f"OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.20:5099;branch=z9hG4bK-l{i}\r\n"
                  f"Max-Forwards: 70\r\n"
                  f"From: <sip:probe@127.0.0.20>;tag=l{i}\r\n"
                  f"To: <sip:127.0.0.1>\r\nCall-ID: {cid}\r\n"
                  f"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(),
                 ("127.0.0.1", 5060))
        sent[cid] = now
        next_send = now + 0.02
    try:
        data = c.recv(4096).decode(errors="replace")
    except socket.timeout:
        continue
    for line in data.split("\r\n"):
        if line.lower().startswith("call-id:"):
            t0 = sent.pop(line.split(":", 1)[1].strip(), None)
            if t0 is not None and data.startswith("SIP/2.0 200"):
                lat.append(time.monotonic() - t0)
done = True
print(json.dumps({"lat": lat, "lost": len(sent)}))
'''


def test_slow_dns_stalls_no_sip_worker(procs, logdir, dnsns):
    slow = logdir / "slow"
    (logdir / "dns.py").write_text(DNS_SERVER)
    (logdir / "client.py").write_text(CLIENT)
    procs.start([sys.executable, str(logdir / "dns.py"), str(slow)]
                + [f"{k}={v}" for k, v in NAMES.items()],
                logdir / "dns.out", netns=dnsns)
    assert wait_until(lambda: listening("127.0.0.1", 53, "udp", dnsns),
                      5) is not None
    Peer(procs, logdir, "primary", "127.0.0.2", netns=dnsns)
    Peer(procs, logdir, "backup", "127.0.0.3", netns=dnsns)
    kam = Kamailio(procs, logdir, PAIRS, netns=dnsns,
                   defines={"WITH_SYSTEM_RESOLVER": None, "DNS_REFRESH": 1})
    assert kam.wait(lambda: kam.show("named")["members"][0]["state"] == "up",
                    3) is not None, kam.log_text()[-2000:]
    dnslog = Path(str(slow) + ".log")
    # the refresh resolves the names again every second: from now on each
    # answer takes DELAY_S
    slow.write_text("1")
    t0 = time.monotonic()
    while "delayed=True" not in dnslog.read_text():
        assert time.monotonic() - t0 < 3, "no DNS query after the switch"
        time.sleep(0.05)
    r = subprocess.run(["ip", "netns", "exec", dnsns, sys.executable,
                        str(logdir / "client.py"), str(2 * DELAY_S)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    lat = sorted(res["lat"])
    slow.unlink()
    delayed = dnslog.read_text().count("delayed=True")
    # a request not answered within 5 s counts as that long
    lat += [5.0] * res["lost"]
    assert lat, res
    p99 = lat[int(len(lat) * 0.99)]
    note(logdir, "dns_stall.txt",
         f"requests to the proxy while DNS answers took "
         f"{DELAY_S:.0f} s ({delayed} delayed answers) and replies "
         f"of another table generation arrived: {len(lat)}, "
         f"{res['lost']} unanswered in 5 s, median "
         f"{lat[len(lat) // 2] * 1000:.1f} ms, p99 {p99 * 1000:.1f} "
         f"ms, max {lat[-1] * 1000:.1f} ms\n")
    assert delayed >= 2, "the refresh did not ask DNS while it was slow"
    assert len(lat) >= 100, len(lat)
    assert res["lost"] == 0 and p99 < 0.050, \
        f"{res['lost']} unanswered, p99 {p99 * 1000:.0f} ms"
    # the pair kept working: probed, on its primary
    p = kam.show("named")
    assert (p["state"], p["active"]) == ("CHECK", "primary"), p
