# SPDX-License-Identifier: GPL-2.0-or-later
"""Members over TLS (sip:IP:5061;transport=tls), as the original product
offers: probes, routing, switchover on a frozen or killed member, passive
switchover from the backup over TLS, and a failed TLS handshake counted as
"no answer". The members are real TLS peers: Debian's kamailio with its tls
module (tls_member.cfg, answering every request with 200; sipp in Debian
has no TLS). Certificates are made here with openssl; the proxy verifies
the members' certificates against the test's CA."""

import os
import random
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import KAMAILIO, Kamailio, Peer, pairs_xml, send_request

MEMBER_CFG = Path(__file__).resolve().parent / "tls_member.cfg"
PRI = "sip:127.0.0.2:5061;transport=tls"
BAK = "sip:127.0.0.3:5061;transport=tls"
CLIENT = ("127.0.0.10", 5090)


def pairs(check_ms, force_ms):
    return pairs_xml([("tlspair", PRI, BAK,
                       {"oos-check": f"{check_ms}ms",
                        "oos-force": f"{force_ms}ms"})])


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True,
                   timeout=30)


def make_ca(d, name):
    key, crt = d / f"{name}.key", d / f"{name}.crt"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
            "-out", str(crt), "-days", "2", "-subj", f"/CN=ha_pair test {name}")
    return key, crt


def make_cert(d, name, ca_key, ca_crt):
    key, csr, crt = d / f"{name}.key", d / f"{name}.csr", d / f"{name}.crt"
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(csr), "-subj",
            f"/CN={name}")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey",
            str(ca_key), "-CAcreateserial", "-out", str(crt), "-days", "2")
    return key, crt


def tls_cfg(path, key, crt, ca=None, client_certs=False):
    """A tls module file: this side's certificate as a server; as a client
    it verifies the peer's certificate against ca (when given). With
    client_certs, as a server it requires a client certificate from ca."""
    verify = (f"verify_certificate = yes\nrequire_certificate = yes\n"
              f"ca_list = {ca}\n")
    no = "verify_certificate = no\nrequire_certificate = no\n"
    path.write_text(f"[server:default]\nmethod = TLSv1.2+\n"
                    f"{verify if client_certs else no}"
                    f"private_key = {key}\ncertificate = {crt}\n\n"
                    f"[client:default]\nmethod = TLSv1.2+\n"
                    f"{verify if ca else no}")
    return path


@pytest.fixture
def pki(logdir):
    """The pair's CA with a certificate per member and one for the proxy,
    and a rogue CA the proxy does not trust, with a certificate."""
    ca_key, ca_crt = make_ca(logdir, "ca")
    rogue_key, rogue_crt = make_ca(logdir, "rogue-ca")
    p = {"ca": ca_crt}
    for name in ("primary", "backup", "proxy"):
        p[name] = make_cert(logdir, name, ca_key, ca_crt)
    p["rogue"] = make_cert(logdir, "rogue", rogue_key, rogue_crt)
    return p


def tls_ready(ip, port):
    """Does ip:port complete a TLS handshake? (kamailio listens before its
    TLS workers are up: a connection taken then fails its handshake)"""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((ip, port), timeout=0.5) as raw:
            with ctx.wrap_socket(raw):
                return True
    except (OSError, ssl.SSLError):
        return False


class TlsMember:
    """A pair member: Debian's kamailio answering 200 over TLS on ip:port.
    Its processes form one process group (frozen and killed together)."""

    def __init__(self, procs, logdir, name, ip, cert, port=5061):
        self.procs, self.ip, self.port = procs, ip, port
        self.log = logdir / f"member-{name}.log"
        cfg = tls_cfg(logdir / f"tls-{name}.cfg", *cert)
        self.proc = procs.start(
            [KAMAILIO, "-f", str(MEMBER_CFG), "-DD", "-E", "-m", "32",
             "-M", "4", "-A", f"LISTEN=tls:{ip}:{port}",
             "-A", f'TLS_CFG="{cfg}"'], self.log, cwd=logdir)
        deadline = time.time() + 10
        while not tls_ready(ip, port):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"TLS member {name} did not start:\n"
                                   + self.log.read_text()[-2000:])
            time.sleep(0.05)

    def freeze(self):
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)

    def received(self, what):
        """How many requests it got whose method and R-URI start so
        (e.g. "OPTIONS sip:127.0.0.2"), and over TLS."""
        text = self.log.read_text(errors="replace")
        return sum(1 for line in text.splitlines()
                   if f"member got {what}" in line and line.endswith(
                       "over tls"))


def start_proxy(procs, logdir, pki, check_ms, force_ms, defines=None,
                client_certs=False, pairs_text=None):
    cfg = tls_cfg(logdir / "tls-proxy.cfg", *pki["proxy"], ca=pki["ca"],
                  client_certs=client_certs)
    d = {"WITH_TLS": None, "TLS_CFG": f'"{cfg}"',
         "LISTEN_TLS": "tls:127.0.0.1:5061"}
    d.update(defines or {})
    return Kamailio(procs, logdir, pairs_text or pairs(check_ms, force_ms),
                    defines=d)


def tls_request(pki, src_ip, user, cert=None):
    """Send one MESSAGE (for 127.0.0.5:5060) to the proxy over TLS from
    src_ip, presenting cert (key, crt) when given; return the reply's
    bytes (b"" when the connection failed or closed without one)."""
    ctx = ssl.create_default_context(cafile=str(pki["ca"]))
    ctx.check_hostname = False  # the proxy's certificate names no host
    if cert:
        ctx.load_cert_chain(str(cert[1]), str(cert[0]))
    reply = b""
    try:
        raw = socket.create_connection(("127.0.0.1", 5061), timeout=5,
                                       source_address=(src_ip, 0))
        with ctx.wrap_socket(raw) as s:
            port = s.getsockname()[1]
            s.sendall((f"MESSAGE sip:{user}@127.0.0.5:5060 SIP/2.0\r\n"
                       f"Via: SIP/2.0/TLS {src_ip}:{port};"
                       f"branch=z9hG4bK-{user};rport\r\n"
                       f"Max-Forwards: 70\r\n"
                       f"From: <sip:pair@{src_ip}>;tag={user}\r\n"
                       f"To: <sip:{user}@127.0.0.5:5060>\r\n"
                       f"Call-ID: {user}@{src_ip}\r\nCSeq: 1 MESSAGE\r\n"
                       f"Content-Length: 0\r\n\r\n").encode())
            while b"\r\n\r\n" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
    except (OSError, ssl.SSLError):
        pass
    return reply


def note(logdir, line):
    with open(logdir.parent / "switch_times.txt", "a") as f:
        f.write(line + "\n")


def member(p, role):
    return next(m for m in p["members"] if m["role"] == role)


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
    note(logdir, f"tls: frozen primary -> backup: {took * 1000:.0f} ms "
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
    note(logdir, f"tls: killed primary -> backup: {took * 1000:.0f} ms "
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


class BadTlsPeer:
    """Something on a member's TLS port that is not a TLS server: it
    accepts, and either closes the connection as the handshake begins
    ("closes") or reads and never answers ("silent")."""

    def __init__(self, ip, port, mode):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind((ip, port))
        self.s.listen(16)
        self.s.settimeout(0.1)
        self.mode, self.conns, self.held = mode, 0, []
        self.running = True
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while self.running:
            try:
                c, _ = self.s.accept()
            except (socket.timeout, OSError):
                continue
            self.conns += 1
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
        self.running = False
        self.t.join(2)
        for c in self.held:
            c.close()
        self.s.close()


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
    note(logdir, f"tls handshake {how}: switch to the backup "
                 f"{after * 1000:.0f} ms after kamailio was up "
                 f"({took * 1000:.0f} ms after it was started; oos-check "
                 f"{check})")
    p = kam.show("tlspair")
    assert p["last_switchover_reason"] == "probe"
    assert member(p, "primary")["state"] == "down"
    assert int(member(p, "primary")["probes_unanswered"]) >= 1
    assert member(p, "primary")["last_code"] == "0"
    if how == "silent":
        assert check / 1000 - 0.2 <= took <= check / 1000 + 1.0, took
    else:
        # well before the first probe's deadline
        assert took <= 1.0, took
    if how == "untrusted":
        assert pri.received("OPTIONS") == 0
    else:
        assert bad_peers[0].conns >= 1


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
