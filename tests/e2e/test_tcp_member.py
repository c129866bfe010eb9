# SPDX-License-Identifier: GPL-2.0-or-later
"""A member over TCP: probed over a connection, and when it goes away a
refused connect counts as "no answer" at once, not at the deadline; a
connection lost before the answer costs the probe one resend, not the
pair a switchover."""

import socket
import struct
import time

from conftest import Kamailio, Peer, pairs_xml, send_request
from harness import Served, member, note

CHECK_MS, FORCE_MS = 2000, 1000
PRI = "sip:127.0.0.2:5062;transport=tcp"
PAIRS = pairs_xml([("tcppair", PRI, "sip:127.0.0.3:5060",
                    {"oos-check": f"{CHECK_MS}ms",
                     "oos-force": f"{FORCE_MS}ms"})])


def test_tcp_refused_counts_at_once(procs, logdir):
    pri = Peer(procs, logdir, "primary-tcp", "127.0.0.2", port=5062,
               transport="t1")
    bak = Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, PAIRS,
                   defines={"WITH_TCP": None,
                            "LISTEN_TCP": "tcp:127.0.0.1:5060"})
    assert kam.wait(lambda: kam.show("tcppair")["members"][0]["state"]
                    == "up", 3) is not None
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="t1") == 200
    assert pri.received("MESSAGE sip:t1@") == 1

    # the primary's process dies just after it answered a probe, so the
    # next probe is about oos-check away: a refused connect is seen then,
    # while waiting for the deadline would take another oos-check
    sent = int(kam.show("tcppair")["members"][0]["probes_sent"])
    assert kam.wait(lambda: int(kam.show("tcppair")["members"][0]
                                ["probes_sent"]) > sent, 3, step=0.005) \
        is not None
    pri.kill()
    took = kam.wait(lambda: kam.show("tcppair")["active"] == "backup", 6,
                    step=0.01)
    assert took is not None, kam.show("tcppair")
    note(logdir, "switch_times.txt",
         f"tcp refused -> backup: {took * 1000:.0f} ms "
         f"(oos-check {CHECK_MS})\n")
    assert took <= CHECK_MS / 1000.0 + 0.3, took
    p = kam.show("tcppair")
    assert p["members"][0]["state"] == "down"
    assert int(p["members"][0]["probes_unanswered"]) >= 1
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="t2") == 200
    assert bak.received("MESSAGE sip:t2@") == 1


def test_tcp_member_without_tcp_listen_stops_startup(procs, logdir):
    kam = Kamailio(procs, logdir, PAIRS, expect_start=False)
    assert kam.proc.wait(10) != 0
    assert ("pair 'tcppair' primary: no listen socket to probe it from "
            "(tcp over IPv4)") in kam.log_text()


class ResettingListener(Served):
    """A TCP port that accepts every connection and resets it at once
    (SO_LINGER 0): the connect succeeds, so msg_send() returns success,
    and the failure arrives later, inside kamailio's tcp_main."""

    def __init__(self, ip, port):
        self.resets = 0
        self.serve(ip, port, tcp=True, timeout=0.2)

    def handle(self, c, addr):
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        c.close()
        self.resets += 1


def test_tcp_reset_after_connect_counts_at_once(procs, logdir):
    """The failure is learnt after the send returned: counted when tcp_main
    drops the connection, long before the probe's deadline."""
    rst = ResettingListener("127.0.0.2", 5062)
    try:
        Peer(procs, logdir, "backup", "127.0.0.3")
        t0 = time.monotonic()
        kam = Kamailio(procs, logdir, PAIRS,
                       defines={"WITH_TCP": None,
                                "LISTEN_TCP": "tcp:127.0.0.1:5060"})
        took = kam.wait(lambda: kam.show("tcppair")["active"] == "backup", 5,
                        step=0.01)
        assert took is not None
        took = time.monotonic() - t0
        p = kam.show("tcppair")
        note(logdir, "switch_times.txt",
             f"tcp reset after connect -> backup: {took * 1000:.0f} ms "
             f"after start (oos-check {CHECK_MS})\n")
        assert rst.resets >= 1
        assert p["last_switchover_reason"] == "probe"
        assert p["members"][0]["state"] == "down"
        # the deadline of the first probe is oos-check after start
        assert took < CHECK_MS / 1000.0 / 2, took
    finally:
        rst.close()


def test_tcp_lost_connection_is_sent_once_more(procs, logdir,
                                               dropping_member):
    """The TCP side of test_tls_member.py's
    test_tls_lost_connection_is_sent_once_more (one code path for both:
    the prober watches tcp_main's connection, whatever runs over it): the
    primary loses the first connection after it took the probe; the probe
    goes once more, on a new connection, and is answered."""
    pri = dropping_member("127.0.0.2", 5062, drop=1)
    dropping_member("127.0.0.3", 5062, drop=0)
    pairs = pairs_xml([("tcppair", PRI, "sip:127.0.0.3:5062;transport=tcp",
                        {"oos-check": "1s", "oos-force": "500ms"})])
    kam = Kamailio(procs, logdir, pairs,
                   defines={"WITH_TCP": None,
                            "LISTEN_TCP": "tcp:127.0.0.1:5060"})
    assert kam.wait(lambda: member(kam.show("tcppair"), "primary")["state"]
                    == "up", 3) is not None, kam.show("tcppair")
    assert kam.wait(lambda: int(member(kam.show("tcppair"), "primary")
                                ["probes_sent"]) >= 3, 4) is not None
    p = kam.show("tcppair")
    pm = member(p, "primary")
    assert (p["active"], p["switchovers"]) == ("primary", "0"), p
    assert (pm["probes_unanswered"], pm["probes_resent"]) == ("0", "1"), pm
    assert len(pri.conns) == 2 and len(pri.conns[0]) == 1, pri.conns
    assert pri.conns[0][0][1] != pri.conns[1][0][1], pri.conns
