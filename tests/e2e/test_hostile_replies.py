"""Hostile input on the proxy's port: a reply carrying the token of the
probe in flight but sent from another address, replies with stale or
malformed tokens, and garbage datagrams change nothing: the frozen primary
is still found out, on time, and nothing crashes."""

import re
import socket
import threading
import time

from conftest import Kamailio, Peer, pairs_xml

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


def last_token(peer):
    branches = re.findall(r"branch=z9hG4bKhap\.1\.0\.0\.([0-9a-f]+)",
                          peer.msgs.read_text(errors="replace"))
    return int(branches[-1], 16)


def test_forged_replies_change_nothing(procs, logdir):
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS)
    assert kam.wait(lambda: int(kam.show("sipserver1")["members"][0]
                                ["probes_sent"]) >= 2, 3)
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
