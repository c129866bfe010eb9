# SPDX-License-Identifier: GPL-2.0-or-later
"""TLS for the end-to-end tests: certificates made with openssl, the tls
module's file, a pair member that answers over TLS (Debian's kamailio with
tls_member.cfg; sipp in Debian has no TLS), a member stand-in that loses
connections on purpose (over TLS or TCP), and a raw TLS request to the
proxy."""

import os
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

from conftest import KAMAILIO
from faults import ProbedMember
from harness import Served

MEMBER_CFG = Path(__file__).resolve().parent / "tls_member.cfg"


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


def make_pki(logdir):
    """The pair's CA with a certificate per member and one for the proxy,
    and a rogue CA the proxy does not trust, with a certificate (the pki
    fixture)."""
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


class DroppingMember(Served):
    """A member stand-in on ip:port, over TLS with cert (key, crt) or over
    TCP (cert None), that loses connections before it answers, on purpose:
    it takes the first request of a connection (the TLS handshake done,
    the OPTIONS read whole) and closes the connection without an answer,
    for the first `drop` connections (None: every one). Later connections
    are served: each OPTIONS answered 200 on its connection, which stays
    open. What a 5.6 proxy's TLS sometimes does to a healthy connection
    (docs/reliability.md, "Members over TLS"), made certain.

    `conns`: the requests each accepted connection brought, one list per
    connection, in order ([(Call-ID, Via branch)]; a connection dropped in
    its handshake has none)."""

    def __init__(self, ip, port, cert=None, drop=1):
        self.drop = drop
        self.conns = []
        self.lock = threading.Lock()
        self.open = []
        self.ctx = None
        if cert is not None:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(str(cert[1]), str(cert[0]))
        self.serve(ip, port, tcp=True, timeout=0.1)

    def handle(self, c, addr):
        with self.lock:
            n = len(self.conns)
            self.conns.append([])
            self.open.append(c)
        threading.Thread(target=self._conn, args=(c, n), daemon=True).start()

    def _conn(self, c, n):
        dropping = self.drop is None or n < self.drop
        buf = b""
        try:
            c.settimeout(5)
            if self.ctx is not None:
                c = self.ctx.wrap_socket(c, server_side=True)
                with self.lock:
                    self.open.append(c)
            while self.running:
                while b"\r\n\r\n" not in buf:
                    data = c.recv(65535)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                text = head.decode(errors="replace") + "\r\n\r\n"
                cid = ProbedMember._header(text, "Call-ID")
                via = ProbedMember._header(text, "Via") or ""
                branch = via.partition("branch=")[2].split(";")[0]
                with self.lock:
                    self.conns[n].append((cid, branch))
                if dropping:
                    return  # closed below, the request unanswered
                if text.startswith("OPTIONS "):
                    c.sendall(ProbedMember.reply(text, 200).encode())
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def requests(self):
        """Every request taken, in order: [(Call-ID, branch)]."""
        with self.lock:
            return [r for conn in self.conns for r in conn]

    def close(self):
        Served.close(self)
        with self.lock:
            for c in self.open:
                try:
                    c.close()
                except OSError:
                    pass
