# SPDX-License-Identifier: GPL-2.0-or-later
"""Members over TLS (sip:IP:5061;transport=tls), as the original product
offers: probes, routing, switchover on a frozen or killed member, passive
switchover from the backup over TLS, and a failed TLS handshake counted as
"no answer". The members are real TLS peers: Debian's kamailio with its tls
module (tls_member.cfg, answering every request with 200; sipp in Debian
has no TLS). Certificates are made here with openssl; the proxy verifies
the members' certificates against the test's CA."""

import random
import time

import pytest

from conftest import Kamailio, Peer, pairs_xml, send_request
from harness import Served, member, note
from tlskit import TlsMember, tls_cfg, tls_request

NOTES = "switch_times.txt"  # tests/e2e/logs/: figures of each run

PRI = "sip:127.0.0.2:5061;transport=tls"
BAK = "sip:127.0.0.3:5061;transport=tls"
CLIENT = ("127.0.0.10", 5090)


def pairs(check_ms, force_ms):
    return pairs_xml([("tlspair", PRI, BAK,
                       {"oos-check": f"{check_ms}ms",
                        "oos-force": f"{force_ms}ms"})])


def start_proxy(procs, logdir, pki, check_ms, force_ms, defines=None,
                client_certs=False, pairs_text=None):
    cfg = tls_cfg(logdir / "tls-proxy.cfg", *pki["proxy"], ca=pki["ca"],
                  client_certs=client_certs)
    d = {"WITH_TLS": None, "TLS_CFG": f'"{cfg}"',
         "LISTEN_TLS": "tls:127.0.0.1:5061"}
    d.update(defines or {})
    return Kamailio(procs, logdir, pairs_text or pairs(check_ms, force_ms),
                    defines=d)


def test_tls_probes_routing_and_frozen_primary(procs, logdir, pki):
    check, force = 1000, 500
    pri = TlsMember(procs, logdir, "primary", "127.0.0.2", pki["primary"])
    bak = TlsMember(procs, logdir, "backup", "127.0.0.3", pki["backup"])
    kam = start_proxy(procs, logdir, pki, check, force)
    # probes over TLS: both answer (the backup its start probe), the pair
    # stays on its primary
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("tlspair")["members"]), 3) is not None
    time.sleep(2 * check / 1000)
    p = kam.show("tlspair")
    assert (p["state"], p["active"], p["switchovers"]) == ("CHECK", "primary",
                                                           "0"), p
    assert int(member(p, "primary")["probes_unanswered"]) == 0
    assert pri.received("OPTIONS sip:127.0.0.2:5061") >= 3
    # requests reach the primary over TLS
    assert send_request(procs, logdir, *CLIENT, user="t1") == 200
    assert pri.received("MESSAGE sip:t1@") == 1
    assert bak.received("MESSAGE sip:t1@") == 0

    # frozen (its TCP connection stays up, nothing answers): the deadline
    # says so
    time.sleep(random.uniform(0, check / 1000))
    pri.freeze()
    took = kam.wait(lambda: kam.show("tlspair")["active"] == "backup", 10,
                    step=0.01)
    assert took is not None, kam.show("tlspair")
    bound = (2 * check + force + 300) / 1000
    note(logdir, NOTES, f"tls: frozen primary -> backup: {took * 1000:.0f} ms "
                 f"(oos-check {check}, oos-force {force}, bound "
                 f"{bound * 1000:.0f})")
    assert took <= bound, took
    p = kam.show("tlspair")
    assert p["last_switchover_reason"] == "probe"
    assert member(p, "primary")["state"] == "down"
    assert send_request(procs, logdir, *CLIENT, user="t2") == 200
    assert bak.received("MESSAGE sip:t2@") == 1


def test_tls_killed_primary_counts_at_once(procs, logdir, pki):
    check, force = 2000, 1000
    pri = TlsMember(procs, logdir, "primary", "127.0.0.2", pki["primary"])
    TlsMember(procs, logdir, "backup", "127.0.0.3", pki["backup"])
    kam = start_proxy(procs, logdir, pki, check, force)
    assert kam.wait(lambda: member(kam.show("tlspair"), "primary")["state"]
                    == "up", 3) is not None
    # killed just after it answered a probe: its connection closes, the
    # next probe's connect is refused, and that counts at once (about
    # oos-check from now), not at that probe's deadline (2 x oos-check)
    sent = int(member(kam.show("tlspair"), "primary")["probes_sent"])
    assert kam.wait(lambda: int(member(kam.show("tlspair"), "primary")
                                ["probes_sent"]) > sent, 3, step=0.005) \
        is not None
    time.sleep(0.05)
    pri.kill()
    took = kam.wait(lambda: kam.show("tlspair")["active"] == "backup", 6,
                    step=0.01)
    assert took is not None, kam.show("tlspair")
    note(logdir, NOTES, f"tls: killed primary -> backup: {took * 1000:.0f} ms "
                 f"(oos-check {check})")
    assert took <= check / 1000 + 0.3, took
    assert int(member(kam.show("tlspair"), "primary")
               ["probes_unanswered"]) >= 1


def test_tls_passive_switchover_from_backup(procs, logdir, pki):
    """The promoted backup's own request, over TLS from its address,
    takes the pair at once; under member_trust transport, since a TLS
    connection proves where it comes from."""
    TlsMember(procs, logdir, "primary", "127.0.0.2", pki["primary"])
    bak = TlsMember(procs, logdir, "backup", "127.0.0.3", pki["backup"])
    far = Peer(procs, logdir, "far", "127.0.0.5")
    kam = start_proxy(procs, logdir, pki, 1000, 500,
                      defines={"MEMBER_TRUST": '"transport"'})
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("tlspair")["members"]), 3) is not None
    assert kam.show("tlspair")["active"] == "primary"

    reply = tls_request(pki, "127.0.0.3", "out")
    assert reply.startswith(b"SIP/2.0 200"), reply
    p = kam.show("tlspair")
    assert (p["active"], p["last_switchover_reason"]) == ("backup",
                                                          "passive"), p
    # relayed as the pair's own traffic, and probing follows the backup
    assert far.received("MESSAGE sip:out@") == 1
    n = bak.received("OPTIONS sip:127.0.0.3:5061")
    assert kam.wait(lambda: bak.received("OPTIONS sip:127.0.0.3:5061") > n,
                    2) is not None


class BadTlsPeer(Served):
    """Something on a member's TLS port that is not a TLS server: it
    accepts, and either closes the connection as the handshake begins
    ("closes") or reads and never answers ("silent")."""

    def __init__(self, ip, port, mode):
        self.mode, self.conns, self.held = mode, 0, []
        self.serve(ip, port, tcp=True, timeout=0.1)

    def handle(self, c, addr):
        self.conns += 1
        if self.conns == 1:
            self.first_at = time.monotonic()  # the first probe's connect
        if self.mode == "closes":
            c.settimeout(1)
            try:
                c.recv(4096)  # the ClientHello
            except OSError:
                pass
            c.close()
        else:
            self.held.append(c)

    def close(self):
        Served.close(self)
        for c in self.held:
            c.close()


@pytest.fixture
def bad_peers():
    made = []
    yield made
    for b in made:
        b.close()


@pytest.mark.parametrize("how", ["untrusted", "closes", "silent"])
def test_tls_handshake_failure_is_no_answer(procs, logdir, pki, bad_peers,
                                            how):
    """The primary's TLS handshake fails: its certificate is not from the
    pair's CA (the proxy verifies), or the peer closes the connection
    during the handshake: that is "no answer" at once. A peer that never
    completes the handshake is "no answer" at the probe's deadline."""
    check, force = 3000, 1000
    if how == "untrusted":
        pri = TlsMember(procs, logdir, "primary", "127.0.0.2", pki["rogue"])
    else:
        bad_peers.append(BadTlsPeer("127.0.0.2", 5061, how))
    TlsMember(procs, logdir, "backup", "127.0.0.3", pki["backup"])
    t0 = time.monotonic()
    kam = start_proxy(procs, logdir, pki, check, force)
    # kamailio is "up" when its control socket exists, which is made
    # before the prober starts: the time after that bounds the prober's
    after = kam.wait(lambda: kam.show("tlspair")["active"] == "backup", 6,
                     step=0.01)
    assert after is not None, kam.show("tlspair")
    took = time.monotonic() - t0  # from before kamailio started
    note(logdir, NOTES, f"tls handshake {how}: switch to the backup "
                 f"{after * 1000:.0f} ms after kamailio was up "
                 f"({took * 1000:.0f} ms after it was started; oos-check "
                 f"{check})")
    p = kam.show("tlspair")
    assert p["last_switchover_reason"] == "probe"
    assert member(p, "primary")["state"] == "down"
    assert int(member(p, "primary")["probes_unanswered"]) >= 1
    assert member(p, "primary")["last_code"] == "0"
    # timed from the probe's connect where the peer is the test's own
    # (not from kamailio's start, which a loaded machine slows: a run
    # under load saw 4.10 s from the start for the 3 s deadline); the
    # switch follows its verdict by the backup's handshake and probe
    since_probe = (None if how == "untrusted" else
                   t0 + took - bad_peers[0].first_at)
    if how == "silent":
        # at the probe's deadline (oos-check)
        assert check / 1000 - 0.1 <= since_probe <= check / 1000 + 0.6, \
            since_probe
    elif how == "closes":
        # at once: well before the probe's deadline
        assert since_probe <= 1.0, since_probe
    else:
        # the prober starts after the control socket: well before the
        # first probe's deadline
        assert after <= 1.0, after
    if how == "untrusted":
        assert pri.received("OPTIONS") == 0
    else:
        assert bad_peers[0].conns >= 1


def test_tls_lost_connection_is_sent_once_more(procs, logdir, pki,
                                               dropping_member):
    """The start-up failure of issue 21, provoked on purpose: the primary
    takes the first probe (TLS handshake done, OPTIONS read) and loses its
    connection before it answers, as Kamailio 5.6's TLS sometimes does to a
    healthy connection (docs/reliability.md). The probe goes once more on
    a new connection, as a new request, and is answered there: no
    switchover, nothing unanswered, no new probe counted."""
    pri = dropping_member("127.0.0.2", 5061, pki["primary"], drop=1)
    dropping_member("127.0.0.3", 5061, pki["backup"], drop=0)
    kam = start_proxy(procs, logdir, pki, 1000, 500)
    assert kam.wait(lambda: member(kam.show("tlspair"), "primary")["state"]
                    == "up", 3) is not None, kam.show("tlspair")
    # three more rounds: the new connection carries them (counted as the
    # member took them: a probe counts as sent before it arrives)
    assert kam.wait(lambda: len(pri.requests()) >= 5, 5) is not None, \
        pri.conns
    p = kam.show("tlspair")
    pm = member(p, "primary")
    assert (p["state"], p["active"], p["switchovers"]) == ("CHECK", "primary",
                                                           "0"), p
    assert (pm["probes_unanswered"], pm["probes_resent"]) == ("0", "1"), pm
    assert kam.stat("probes_resent") == 1
    assert kam.stat("probes_unanswered") == 0
    # the lost connection had the first probe; the resend, another request
    # (branch and Call-ID), opened the second, which the next probes reuse
    assert len(pri.conns) == 2, pri.conns
    lost, kept = pri.conns
    assert len(lost) == 1 and len(kept) >= 4, pri.conns
    assert lost[0][0] != kept[0][0] and lost[0][1] != kept[0][1], pri.conns


def test_tls_member_losing_every_connection_is_down_after_one_resend(
        procs, logdir, pki, dropping_member):
    """A primary that takes each probe and loses every connection before
    it answers is counted down at its resend's loss: one resend, well
    before the probe's deadline (oos-check 3 s), as a handshake that
    fails (test_tls_handshake_failure_is_no_answer)."""
    check, force = 3000, 1000
    pri = dropping_member("127.0.0.2", 5061, pki["primary"], drop=None)
    dropping_member("127.0.0.3", 5061, pki["backup"], drop=0)
    t0 = time.monotonic()
    kam = start_proxy(procs, logdir, pki, check, force)
    after = kam.wait(lambda: kam.show("tlspair")["active"] == "backup", 6,
                     step=0.01)
    assert after is not None, kam.show("tlspair")
    took = time.monotonic() - t0
    note(logdir, NOTES, f"tls member losing every connection: switch to the "
                 f"backup {after * 1000:.0f} ms after kamailio was up "
                 f"({took * 1000:.0f} ms after it was started; oos-check "
                 f"{check})")
    p = kam.show("tlspair")
    pm = member(p, "primary")
    assert p["last_switchover_reason"] == "probe"
    assert pm["state"] == "down" and pm["last_code"] == "0", pm
    assert (pm["probes_sent"], pm["probes_resent"],
            pm["probes_unanswered"]) == ("1", "1", "1"), pm
    # one resend and no more: two connections, each lost with its request
    assert [len(c) for c in pri.conns] == [1, 1], pri.conns
    assert took <= 1.0, took


def test_tls_member_without_tls_listen_stops_startup(procs, logdir):
    kam = Kamailio(procs, logdir, pairs(1000, 500),
                   defines={"WITH_TCP": None,
                            "LISTEN_TCP": "tcp:127.0.0.1:5060"},
                   expect_start=False)
    assert kam.proc.wait(10) != 0
    assert ("pair 'tlspair' primary: no listen socket to probe it from "
            "(tls over IPv4)") in kam.log_text()


def test_tls_client_certificate_proves_the_member(procs, logdir, pki):
    """With client certificates required (the proxy's TLS server verifies
    them against the pair's CA), a connection from the backup's address
    without the pair's key gets nowhere; with it, it switches the pair."""
    TlsMember(procs, logdir, "primary", "127.0.0.2", pki["primary"])
    TlsMember(procs, logdir, "backup", "127.0.0.3", pki["backup"])
    far = Peer(procs, logdir, "far", "127.0.0.5")
    kam = start_proxy(procs, logdir, pki, 1000, 500, client_certs=True,
                      defines={"MEMBER_TRUST": '"transport"'})
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("tlspair")["members"]), 3) is not None
    # no certificate, or one from another CA: refused in the handshake
    assert tls_request(pki, "127.0.0.3", "nocert") == b""
    assert tls_request(pki, "127.0.0.3", "rogue", pki["rogue"]) == b""
    p = kam.show("tlspair")
    assert (p["active"], p["switchovers"]) == ("primary", "0"), p
    assert far.received("MESSAGE sip:nocert@") == 0
    assert far.received("MESSAGE sip:rogue@") == 0
    # the backup's own certificate
    assert tls_request(pki, "127.0.0.3", "cert",
                       pki["backup"]).startswith(b"SIP/2.0 200")
    p = kam.show("tlspair")
    assert (p["active"], p["last_switchover_reason"]) == ("backup",
                                                          "passive"), p
    assert far.received("MESSAGE sip:cert@") == 1


def test_sips_members(procs, logdir, pki):
    """sips: URIs are TLS members; without a port, 5061."""
    pri = TlsMember(procs, logdir, "primary", "127.0.0.2", pki["primary"])
    bak = TlsMember(procs, logdir, "backup", "127.0.0.3", pki["backup"])
    text = pairs_xml([("tlspair", "sips:127.0.0.2:5061", "sips:127.0.0.3",
                       {"oos-check": "1s", "oos-force": "500ms"})])
    kam = start_proxy(procs, logdir, pki, 0, 0, pairs_text=text)
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("tlspair")["members"]), 3) is not None
    assert pri.received("OPTIONS sips:127.0.0.2:5061") >= 1
    assert bak.received("OPTIONS sips:127.0.0.3") >= 1
    assert send_request(procs, logdir, *CLIENT, user="s1") == 200
    assert pri.received("MESSAGE sip:s1@") == 1
