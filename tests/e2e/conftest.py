# SPDX-License-Identifier: GPL-2.0-or-later
"""End-to-end harness: kamailio with ha_pair, real sipp peers, kamcmd.
The kamailio (Debian 12's 5.6, or the 6.0 built under build/6.0), its
kamcmd and ha_pair built for it are those `make env` names (make test
passes them; tests/kamenv.py). Every process a test starts is stopped by
PID when it ends."""

import datetime
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import sys

import pytest

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "tests"))
from kamenv import (KAMAILIO, KAMAILIO_MODDIR, KAMAILIO_TARGET,  # noqa
                    KAMAILIO_VERSION, KAMCMD, MODULE)
from faults import ProbedMember, Uac  # noqa: E402 (one SIP reply builder)
import harness  # noqa: E402 (processes, ports, waits: with the benchmarks)
import poolseal  # noqa: E402 (the pool's signed envelope)
import waits  # noqa: E402 (what waits measured; what a timed-out one saw)
# the tests import these from here
from harness import (Procs, listening, parse_kamcmd, port_free,  # noqa
                     wait_until)

CFG = TOP / "config" / "kamailio.cfg"
SIPP = TOP / "tests" / "sipp"
# every test's logs, in a folder named after it (HA_E2E_LOGS: another
# folder, for runs of two Kamailio versions at once: make test-repeat)
LOGS = Path(os.environ.get("HA_E2E_LOGS") or TOP / "tests" / "e2e" / "logs")
BAD_MEMBER_CFG = TOP / "tests" / "e2e" / "bad_member.cfg"
# the /etc/hosts of hosts_netns: ha-primary.test at {ip}
HOSTS = "127.0.0.1 localhost\n{ip} ha-primary.test\n"
# make SANITIZE=1 test: the module is built with AddressSanitizer and
# UndefinedBehaviorSanitizer (gcc's runtimes), which must be loaded first
# into Debian's kamailio, that is not built with them
SANITIZE = os.environ.get("HA_SANITIZE") == "1"
SAN_RUNTIMES = ("libasan.so.8", "libubsan.so.1")
SAN_REPORT_GLOBS = ("sanitizer.*",)


def sanitizer_env(logdir):
    """The environment kamailio runs in when SANITIZE: the runtimes
    preloaded, reports written as files into logdir (checked by the procs
    fixture). Kamailio's exit is not leak-clean and its pkg/shm allocators
    are its own (invisible to ASan): no leak detection here. The log path
    is quoted: a test's folder may have spaces (parametrized names), which
    the sanitizers' option parser takes as separators."""
    env = dict(os.environ)
    env["LD_PRELOAD"] = ":".join(SAN_RUNTIMES)
    env["ASAN_OPTIONS"] = ":".join([
        "detect_leaks=0", "abort_on_error=0", "halt_on_error=1",
        "handle_segv=1", "allow_user_segv_handler=1",
        "detect_odr_violation=0", f"log_path='{logdir}/sanitizer'"])
    env["UBSAN_OPTIONS"] = ":".join([
        "print_stacktrace=1", "halt_on_error=0",
        f"log_path='{logdir}/sanitizer'"])
    return env


def sanitizer_reports(logdir, logs=()):
    """The sanitizer reports of a test: report files in logdir, and report
    lines that reached a kamailio log instead."""
    found = []
    for g in SAN_REPORT_GLOBS:
        for f in sorted(logdir.glob(g)):
            text = f.read_text(errors="replace").strip()
            if text:
                found.append(f"{f}: {text[:2000]}")
    for log in logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        for marker in ("ERROR: AddressSanitizer", "runtime error:"):
            i = text.find(marker)
            if i >= 0:
                line = text[text.rfind("\n", 0, i) + 1:text.find("\n", i)]
                found.append(f"{log}: {line[-500:]}")
    return found


def require_free(ip, port, proto="udp", grace=3.0):
    """Fail the test, saying so plainly, when another program holds
    ip:port (harness.require_free)."""
    try:
        harness.require_free(ip, port, proto, grace)
    except harness.PortTaken as e:
        pytest.fail(str(e))


class Peer:
    """A simulated SIP server (sipp) that logs every message it gets."""

    def __init__(self, procs, logdir, name, ip, port=5060, scenario="peer.xml",
                 transport="u1", netns=None, trace=True):
        """trace False: no log of the messages (received() then refuses):
        sipp writes each one to its file, which slows a member that has
        thousands of probes to answer at once (test_pool_sync's 2,000
        pairs) until it drops some under load."""
        self.procs, self.name, self.ip, self.port = procs, name, ip, port
        self.trace = trace
        self.msgs = logdir / f"peer-{name}-messages.log"
        if self.msgs.exists():
            self.msgs.unlink()
        proto = "udp" if transport == "u1" else "tcp"
        if not netns:
            require_free(ip, port, proto)
        args = ["sipp", "-sf", str(SIPP / scenario), "-i", ip, "-p", str(port),
                "-t", transport, "-nostdin", "-trace_err", "-error_file",
                str(logdir / f"peer-{name}-errors.log")]
        if trace:
            args += ["-trace_msg", "-message_file", str(self.msgs)]
        for attempt in range(3):
            self.proc = procs.start(args, logdir / f"peer-{name}.out",
                                    netns=netns, cwd=logdir)
            # it is there once its port is bound (in netns too)
            deadline = time.time() + 5
            while (time.time() < deadline and self.proc.poll() is None
                   and not listening(ip, port, proto, netns)):
                time.sleep(0.02)
            if self.proc.poll() is None:
                break
            # it could not bind: a port let go late; try again shortly
            time.sleep(0.5)
        else:
            raise RuntimeError(f"sipp {name} exited: see {logdir}")

    def freeze(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self):
        self.procs.stop(self.proc, signal.SIGKILL)

    def received(self, pattern):
        """How many requests whose first line matches pattern it got."""
        assert self.trace, f"sipp {self.name} keeps no log of its messages"
        try:
            text = self.msgs.read_text(errors="replace")
        except FileNotFoundError:
            return 0
        return len(re.findall(r"^" + pattern, text, re.M))


class Kamailio:
    """The kamailio under test with the example config and ha_pair."""

    def __init__(self, procs, logdir, pairs_xml, defines=None, netns=None,
                 listen="udp:127.0.0.1:5060", expect_start=True, cfg=CFG,
                 pairs_file=None, wrapper=()):
        """pairs_file: use that path as it is (pairs_xml is then not
        written); wrapper: a command prefix (e.g. setpriv ...); listen
        None: no LISTEN given (cfg sets its own, e.g. config/pool's node
        files)."""
        self.procs, self.logdir = procs, logdir
        if pairs_file is not None:
            self.pairs = Path(pairs_file)
        else:
            self.pairs = logdir / "ha_pairs.xml"
            self.pairs.write_text(pairs_xml)
        self.ctl = logdir / "ctl"
        if len(str(self.ctl)) > 100:
            # a unix socket's path holds 107 bytes at most (ctl refuses
            # to start with a longer one): a deep checkout, a long test
            # name or HA_E2E_LOGS would fail the test for nothing
            short = Path("/tmp") / ("ha-ctl-" + hashlib.sha1(
                str(logdir).encode()).hexdigest()[:12])
            short.mkdir(exist_ok=True)
            self.ctl = short / "ctl"
        if self.ctl.exists():
            self.ctl.unlink()
        self.log = logdir / "kamailio.log"
        if not netns and listen is not None:
            m = re.match(r"udp:\[?([^\]]+?)\]?:(\d+)$", listen)
            if m:
                require_free(m.group(1), int(m.group(2)))
        defines = dict(defines or {})
        defines.setdefault("HA_PAIR_SO", f'"{MODULE}"')
        # the pool's key (used with WITH_DMQ only): the same in every
        # proxy of a test, unless the test gives its own file
        if "POOL_SECRET_FILE" not in defines:
            keys = poolseal.write_keys(logdir / "pool.keys",
                                       poolseal.TEST_KEY)
            defines["POOL_SECRET_FILE"] = f'"{keys}"'
        # 6.x drops UDP datagrams of msg_recv_max_size (32,767) or more in
        # the core; 5.6 reads up to 64 KB. The tests' big messages must
        # reach the proxy's script and ha_pair on both (config/kamailio.cfg
        # sets it from this define; docs/ha_pair.md, Supported versions)
        if KAMAILIO_VERSION >= (6, 0):
            defines.setdefault("MSG_RECV_MAX_SIZE", 65535)
        # -w: its working folder, where a crash leaves its core (a fresh
        # Debian's core_pattern "core"; harness.Procs.unclean() looks)
        args = list(wrapper) + [KAMAILIO, "-f", str(cfg), "-DD", "-E", "-e",
                "-w", str(logdir),
                "-A", f'PAIRS_FILE="{self.pairs}"',
                "-A", f'CTL_SOCKET="unix:{self.ctl}"']
        if listen is not None:
            args += ["-A", f"LISTEN={listen}"]
        for k, v in defines.items():
            args += ["-A", f"{k}={v}" if v is not None else k]
        # it must end clean (exit 0, no core) unless the test kills it on
        # purpose (crash(), a SIGKILL); one that may be refused at start
        # (expect_start False) may exit non-zero, never by a signal
        self.proc = procs.start(args, self.log, netns=netns, cwd=logdir,
                                env=sanitizer_env(logdir) if SANITIZE
                                else None, watch=True,
                                may_fail=not expect_start, exe=KAMAILIO)
        procs.kamailio_logs.append(self.log)
        if expect_start:
            deadline = time.time() + 10
            while not self.ctl.exists():
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("kamailio did not start:\n"
                                       + self.log.read_text()[-3000:])
                time.sleep(0.05)

    def rpc(self, *args, check=True):
        r = subprocess.run([KAMCMD, "-s", f"unix:{self.ctl}"]
                           + [str(a) for a in args],
                           capture_output=True, text=True, timeout=10)
        if check and r.returncode != 0:
            raise RuntimeError(f"kamcmd {args}: {r.stdout}{r.stderr}")
        return r

    def show(self, name):
        return parse_kamcmd(self.rpc("ha_pair.show", name).stdout)[0]

    def listed(self, prefixes):
        """{name: pair} of the pairs ha_pair.list gives for each name
        prefix: many pairs are asked for a prefix at a time, since ctl
        answers a few hundred at most."""
        out = {}
        for pre in prefixes:
            for p in parse_kamcmd(self.rpc("ha_pair.list", pre).stdout):
                out[p["name"]] = p
        return out

    def wait(self, pred, timeout, step=0.02):
        """wait_until(pred, timeout, step)."""
        return wait_until(pred, timeout, step)

    def stats(self):
        """Every ha_pair statistic: {name: value}."""
        out = self.rpc("stats.get_statistics", "ha_pair:").stdout
        return {k: int(v) for k, v in re.findall(r"ha_pair:(\w+) = (\d+)",
                                                 out)}

    def stat(self, name):
        out = self.rpc("stats.get_statistics", "ha_pair:").stdout
        m = re.search(rf"ha_pair:{name} = (\d+)", out)
        return int(m.group(1)) if m else None

    def log_text(self):
        return self.log.read_text(errors="replace")

    def crash(self):
        """SIGKILL to the whole kamailio (its process group: the main
        process and every child), as a machine that dies: nothing it holds
        is answered or let go. On purpose: exempt from the clean end the
        procs fixture checks."""
        self.procs.exempt(self.proc, "crash() on purpose")
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(5)


class UdpMember(harness.Served):
    """A promoted member on a UDP address (a real socket): it sends a
    request to the proxy from its own address and port, and answers the
    proxy's OPTIONS with 200, as a serving member does. (A sipp cannot both
    send a request and answer probes on the same port.) far: where its
    requests are addressed (the pair's outbound traffic)."""

    def __init__(self, ip, port, answers=True, far="127.0.0.5:5060"):
        self.far = far
        self.answers = answers  # False: a forger (it cannot answer)
        self.ip, self.port = ip, port
        self.options = 0
        self.codes = []
        self.serve(ip, port)

    def handle(self, data, addr):
        text = data.decode(errors="replace")
        if text.startswith("OPTIONS "):
            self.options += 1
            if self.answers:
                self.s.sendto(ProbedMember.reply(text, 200).encode(), addr)
        elif text.startswith("SIP/2.0 "):
            self.codes.append(int(text[8:11]))

    def send(self, user, proxy=("127.0.0.1", 5060)):
        me = f"{self.ip}:{self.port}"
        FAR = self.far
        req = (f"MESSAGE sip:{user}@{FAR} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {me};branch=z9hG4bK-{user};rport\r\n"
               f"Max-Forwards: 70\r\n"
               f"From: <sip:member@{me}>;tag={user}\r\n"
               f"To: <sip:{user}@{FAR}>\r\n"
               f"Call-ID: {user}@{self.ip}\r\n"
               f"CSeq: 1 MESSAGE\r\n"
               f"Content-Length: 0\r\n\r\n")
        self.s.sendto(req.encode(), proxy)


@pytest.fixture
def udp_member():
    made = []

    def make(ip, port, answers=True):
        m = UdpMember(ip, port, answers)
        made.append(m)
        return m
    yield make
    for m in made:
        m.close()


def send_request(procs, logdir, src_ip, src_port, method="MESSAGE",
                 user="alice", ruri_host="127.0.0.1:5060",
                 proxy="127.0.0.1:5060", netns=None, timeout=8, headers=(),
                 transport="u1"):
    """Send one request with sipp from src_ip:src_port (over transport,
    sipp's -t: u1 UDP, t1 TCP), with extra header lines; return the status
    code of the final reply (None when none came)."""
    tag = f"req-{method}-{src_ip}-{src_port}-{time.monotonic_ns()}"
    msgs = logdir / f"{tag}.log"
    sf = logdir / f"request-{tag}.xml"
    extra = "".join(f"      {h}\n" for h in headers)
    sf.write_text((SIPP / "request.xml").read_text()
                  .replace("@METHOD@", method)
                  .replace("      @HEADERS@\n", extra))
    args = ["sipp", "-sf", str(sf), "-i", src_ip,
            "-p", str(src_port), "-m", "1", "-nostdin", "-s", user,
            "-key", "ruri_host", ruri_host, "-t", transport,
            "-trace_msg", "-message_file", str(msgs), "-timeout",
            f"{timeout}s", "-timeout_error", proxy]
    p = procs.start(args, logdir / f"{tag}.out", netns=netns, cwd=logdir)
    try:
        p.wait(timeout + 5)
    except subprocess.TimeoutExpired:
        procs.stop(p, signal.SIGKILL)
    try:
        text = msgs.read_text(errors="replace")
    except FileNotFoundError:
        return None
    codes = [int(c) for c in re.findall(r"^SIP/2\.0 (\d{3})", text, re.M)
             if int(c) >= 200]
    return codes[-1] if codes else None


def pairs_xml(pairs):
    """pairs: list of (name, primary_uri, backup_uri, attrs dict), each
    optionally followed by a list of the pair's domains; the attrs key
    "domains" (a list) gives domains too."""
    out = ["<ha_pairs>"]
    for name, pri, bak, attrs, *more in pairs:
        a = "".join(f' {k}="{v}"' for k, v in attrs.items()
                    if k != "domains")
        out.append(f'  <pair name="{name}"{a}>')
        out.append(f'    <primary uri="{pri}"/>')
        out.append(f'    <backup uri="{bak}"/>')
        domains = list(attrs.get("domains", ())) + list(more[0] if more
                                                        else ())
        out += [f"    <domain>{d}</domain>" for d in domains]
        out.append("  </pair>")
    out.append("</ha_pairs>")
    return "\n".join(out) + "\n"


def check_kamailio_logs(p):
    """Whatever a test checked, a crashed kamailio process (of Procs p)
    fails it, and so does a sanitizer report (SANITIZE). Run after every
    test: by the procs fixture, and by a module's own fixture where one
    kamailio serves several tests (test_rpc_bad_args.py). A kamailio that
    has ended must have ended clean (harness.Procs.unclean(): by itself,
    status 0, no core; its main process as much as its children), unless
    the test killed it on purpose."""
    unclean = p.unclean()
    if unclean:
        pytest.fail("a kamailio did not end clean:\n" + "\n".join(unclean),
                    pytrace=False)
    for log in p.kamailio_logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        # str.find, not a regex: logged garbage makes very long lines
        i = text.find("exited by a signal")
        if i >= 0:
            line = text[text.rfind("\n", 0, i) + 1:text.find("\n", i)]
            pytest.fail(f"a kamailio process crashed: {line[-300:]} ({log})")
    if SANITIZE:
        dirs = sorted({log.parent for log in p.kamailio_logs})
        found = []
        for d in dirs:
            found += sanitizer_reports(d, [log for log in p.kamailio_logs
                                           if log.parent == d])
        if found:
            pytest.fail("sanitizer report(s):\n" + "\n".join(found))


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.stop_all()
    check_kamailio_logs(p)


@pytest.fixture
def dnsns():
    """A network namespace of the test's own, with its loopback up, whose
    /etc/resolv.conf (bind-mounted by ip netns exec from /etc/netns/<name>/)
    names a DNS server on 127.0.0.1:53 in it, that the test starts. The
    host's resolv.conf is never touched."""
    with harness.netns("hastall", etc={
            "resolv.conf": "nameserver 127.0.0.1\noptions timeout:10 "
                           "attempts:1\n",
            "hosts": "127.0.0.1 localhost\n"}) as name:
        yield name


@pytest.fixture
def netns():
    """A network namespace of the test's own (its name has this process's
    id), with its loopback up: every 127.x address is there, apart from the
    host's, and nftables rules made there touch nothing else. Deleted at
    teardown."""
    with harness.netns("hatest") as name:
        yield name


def dnsmasq(procs, logdir, ns, records):
    """Debian's dnsmasq on 127.0.0.1:53 in the network namespace ns (the
    dnsns fixture's), answering only from records (its options, e.g.
    --srv-host=..., --host-record=...), every query logged to
    logdir/dnsmasq.log; returns once it is up."""
    args = ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
            "--conf-file=/dev/null", "--listen-address=127.0.0.1",
            "--bind-interfaces", "--port=53", "--user=root",
            # (a TTL of 0, the default, makes Kamailio's DNS cache drop an
            # SRV answer at once and fall back to the A record)
            "--local-ttl=30",
            f"--pid-file={logdir / 'dnsmasq.pid'}", "--log-queries",
            "--log-facility=-"] + list(records)
    log = logdir / "dnsmasq.log"
    p = procs.start(args, log, netns=ns)
    deadline = time.time() + 5
    while "started" not in (log.read_text() if log.exists() else ""):
        assert p.poll() is None and time.time() < deadline, log.read_text()
        time.sleep(0.05)
    return p


# A pool of ha_pair proxies behind one name, as clients find it by DNS
# (RFC 3263): _sip._udp.pool.<POOL_DOMAIN> has one SRV record per proxy
# (equal priority and weight, port 5060), each target with the A record of
# one proxy's address
POOL_DOMAIN = "ha-pool.test"
POOL_IPS = ("127.0.0.11", "127.0.0.12", "127.0.0.13")
POOL_URI = f"sip:pool.{POOL_DOMAIN}"
EDGE_CFG = TOP / "tests" / "e2e" / "edge_proxy.cfg"


def pool_records(domain=POOL_DOMAIN, ips=POOL_IPS):
    recs = []
    for i, ip in enumerate(ips, 1):
        recs += [f"--srv-host=_sip._udp.pool.{domain},p{i}.{domain},5060,"
                 f"10,10", f"--host-record=p{i}.{domain},{ip}"]
    return recs


@pytest.fixture
def dns_pool(dnsns, procs, logdir):
    """The dnsns namespace with a DNS server serving the pool's SRV and A
    records (pool_records()): its name, for Kamailio(netns=...), Peer and
    edge_proxy. (Named first among a test's fixtures, the namespace goes
    after the processes in it have been stopped.)"""
    dnsmasq(procs, logdir, dnsns, pool_records())
    return dnsns


def dmq_addr(ip, transport="udp"):
    return f"sip:{ip}:5060" + (";transport=tcp" if transport == "tcp"
                                else "")


def active_nodes(kam):
    """How many nodes (itself included) kam's dmq lists as active."""
    out = kam.rpc("dmq.list_nodes", check=False).stdout
    return len(re.findall(r"status: active", out))


def start_pool(procs, logdir, ips, pairs, dmq=True, transport="udp",
               extra=None, netns=None, kemi=False):
    """Proxies (config/kamailio.cfg) on ips:5060, each in a folder of its
    own under logdir; with dmq (WITH_DMQ, over transport), each names the
    first as its notification address, and the first names the second (a
    fixed node list); kemi: with config/kamailio-kemi.cfg and
    config/ha_pair.lua. Returns them once every one of them knows every
    other as an active dmq node."""
    kams = []
    for i, ip in enumerate(ips):
        d = logdir / f"proxy{i}"
        d.mkdir()
        defines = {}
        if dmq:
            other = ips[1 if i == 0 else 0]
            defines = {"WITH_DMQ": None,
                       "DMQ_SERVER": f'"{dmq_addr(ip, transport)}"',
                       "DMQ_NOTIFY": f'"{dmq_addr(other, transport)}"'}
            if transport == "tcp":
                defines.update({"WITH_TCP": None,
                                "LISTEN_TCP": f"tcp:{ip}:5060"})
        defines.update(extra or {})
        cfg = {}
        if kemi:
            defines["LUA_SCRIPT"] = f'"{TOP / "config" / "ha_pair.lua"}"'
            cfg = {"cfg": TOP / "config" / "kamailio-kemi.cfg"}
        kams.append(Kamailio(procs, d, pairs, defines=defines,
                             listen=f"udp:{ip}:5060", netns=netns, **cfg))
    if dmq:
        for k in kams:
            assert k.wait(lambda: active_nodes(k) == len(ips), 15,
                          step=0.1) is not None, \
                k.rpc("dmq.list_nodes").stdout
    return kams


def edge_proxy(procs, logdir, name, netns, listen="udp:127.0.0.1:5060",
               pool=POOL_URI, fr_ms=500, srv_lb=False):
    """A Kamailio client of the pool (tests/e2e/edge_proxy.cfg): every new
    request to the pool's FQDN, SRV target after SRV target on failure
    (DNS failover, destination blocklist, tm fr_timer fr_ms), in-dialog
    ones along the route set; OPTIONS to itself answered. netns: the
    dns_pool namespace (its resolv.conf names the test's DNS server)."""
    d = logdir / name
    d.mkdir()
    defines = {"POOL": f'"{pool}"', "FR_MS": fr_ms}
    if srv_lb:
        defines["WITH_SRV_LB"] = None
    return Kamailio(procs, d, "", cfg=EDGE_CFG, listen=listen, netns=netns,
                    defines=defines)


SIPP_ENTRY = re.compile(
    r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n"
    r"\w+ message (received|sent)[^\n]*\n\n(.*?)(?=^-{20,} \d{4}-|\Z)",
    re.M | re.S)


def sipp_messages(path):
    """The messages of a sipp -trace_msg log: [(time.time() of the entry,
    "received" or "sent", text)] in order."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return []
    return [(datetime.datetime.strptime(
        m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp(), m.group(2),
        m.group(3)) for m in SIPP_ENTRY.finditer(text)]


def sip_header(text, name):
    """The first value of header name in a SIP message's text, or None."""
    m = re.search(rf"^{name}:[ \t]*(.*?)\r?$", text, re.M | re.I)
    return m.group(1) if m else None


def sipp_uac(procs, logdir, name, scenario, target, src=("127.0.0.10", 5090),
             rate=20, count=1, hold_ms=0, keys=None, netns=None,
             timeout=60):
    """sipp as a caller: scenario (a path) sent to target ("ip:port")
    from src, rate per second, count in all, each held hold_ms (-d), with
    -key name value for keys; every message traced to
    logdir/<name>-messages.log (sipp_messages()). Returns (process,
    that log's path)."""
    msgs = logdir / f"{name}-messages.log"
    args = ["sipp", "-sf", str(scenario), "-i", src[0], "-p", str(src[1]),
            "-r", str(rate), "-m", str(count), "-d", str(hold_ms), "-nostdin",
            "-trace_msg", "-message_file", str(msgs), "-trace_err",
            "-error_file", str(logdir / f"{name}-errors.log"),
            "-recv_timeout", "10000", "-timeout", f"{timeout}s",
            "-timeout_error"]
    for k, v in (keys or {}).items():
        args += ["-key", k, str(v)]
    return procs.start(args + [target], logdir / f"{name}.out", netns=netns,
                       cwd=logdir), msgs


@pytest.fixture
def uacs():
    made = []

    def make(ip, port=5070):
        u = Uac(ip, port)
        made.append(u)
        return u
    yield make
    for u in made:
        u.close()


def bad_member(procs, logdir, ip="127.0.0.2"):
    """A real SIP server as a pair member (bad_member.cfg, Debian's
    kamailio): 200 to every request but those marked X-Test: ignore or
    X-Test: 503 (answered 503 with Retry-After: 7)."""
    d = logdir / f"member-{ip}"
    d.mkdir()
    return Kamailio(procs, d, "", cfg=BAD_MEMBER_CFG, listen=f"udp:{ip}:5060")


@pytest.fixture
def pki(logdir):
    """tlskit.make_pki: a CA with certificates for primary, backup and
    proxy, and a rogue CA with one."""
    from tlskit import make_pki
    return make_pki(logdir)


@pytest.fixture
def dropping_member():
    """make(ip, port, cert=None, drop=1): a tlskit.DroppingMember (over TLS
    with cert, else TCP) that loses its first `drop` connections (None:
    all) before it answers; closed when the test ends."""
    from tlskit import DroppingMember
    made = []

    def make(ip, port, cert=None, drop=1):
        require_free(ip, port, "tcp")
        m = DroppingMember(ip, port, cert, drop)
        made.append(m)
        return m
    yield make
    for m in made:
        m.close()


@pytest.fixture
def hosts_netns():
    """A network namespace of the test's own whose /etc/hosts (a file the
    test may rewrite: the second item) names ha-primary.test, at 127.0.0.2
    first."""
    with harness.netns("hadns", etc={"hosts": HOSTS.format(ip="127.0.0.2")}
                       ) as name:
        yield name, harness.netns_etc(name) / "hosts"


@pytest.fixture
def logdir(request):
    d = LOGS / request.node.name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


@pytest.fixture(scope="session", autouse=True)
def _built():
    if not MODULE.exists():
        pytest.exit(f"{MODULE} is missing: run 'make test' (it builds)", 2)
    flavour = MODULE.parent / ".flavour"
    built_san = (flavour.exists()
                 and flavour.read_text().strip() == "sanitize=1")
    if built_san != SANITIZE:
        pytest.exit(f"{MODULE} was built {'with' if built_san else 'without'}"
                    f" sanitizers but HA_SANITIZE is "
                    f"{'1' if SANITIZE else 'not 1'}: run 'make test' or "
                    f"'make SANITIZE=1 test' (they rebuild)", 2)


# Kamailio 5.6's tls module with OpenSSL 3 keeps OpenSSL's per-thread
# state (its error queue) in shared memory made by the main process, so
# every process of a 5.6 kamailio shares one (docs/reliability.md, "Members
# over TLS"; later Kamailio resets it in each process, tls_threads_mode 2,
# 6.0's default; 5.6.3 has no such setting). Two things follow: a process
# now and then frees OpenSSL's memory twice (q_malloc reports it and
# ignores it: kamailio issues #3205, #3635, #4055), and a healthy TLS
# connection is now and then dropped because a process reads another
# one's error. The dropped connection no longer fails a test: a probe
# whose connection is lost is sent once more (ha_fsm_conn_lost()). The
# double free is reported in runs where nothing failed at all, so its line
# in a log explains no assertion: a failed check stays a failure, whatever
# the logs say, unless a kamailio of the test did not end clean (crashed,
# or exited with an error: the teardown's check, or seen when the check
# failed) and its own log has q_malloc's report of that free from tls, on
# 5.6, in the TLS tests' file: such a process may abort over the freed
# memory, and that is Kamailio's. Reported as skipped, with the log line;
# on 6.0 (tls_threads_mode=2) it is a failure.
KAMAILIO_TLS_BUG = re.compile(
    r"BUG: freeing already freed pointer \(0x[0-9a-f]+\), "
    r"called from tls: ")
KAMAILIO_TLS_BUG_FILE = "test_tls_member.py"
# how check_kamailio_logs() names a process that did not end clean
UNCLEAN_LOG = re.compile(r"\(pid \d+, log (.+?)\): ")


def tls_bug_skip_reason(version, test_file, unclean):
    """Why a failure of a test of test_file (a file name) is the Kamailio
    5.6 TLS double free and not ha_pair's: the reason (with the log line),
    or None when it must stay a failure. unclean: the test's processes
    that did not end clean so far (harness.Procs.unclean()'s lines, which
    name each one's log). Only on 5.6, in test_tls_member.py, when one of
    them has q_malloc's exact report from tls in its own log.
    tests/e2e/test_harness.py checks it."""
    if tuple(version[:2]) != (5, 6) or test_file != KAMAILIO_TLS_BUG_FILE:
        return None
    for line in unclean:
        m = UNCLEAN_LOG.search(line)
        log = Path(m.group(1)) if m else None
        text = log.read_text(errors="replace") if log and log.exists() else ""
        m = KAMAILIO_TLS_BUG.search(text)
        if m:
            i = m.start()
            bug = text[text.rfind("\n", 0, i) + 1:text.find("\n", i)]
            return (f"Kamailio 5.6 tls + OpenSSL 3 double free (not ha_pair; "
                    f"kamailio issue #3635) in {log.name}, whose kamailio "
                    f"did not end clean: {bug.strip()[-160:]}")
    return None


harness.WAIT_HOOKS.append(waits.on_wait)

# a failing test's report ends with the last lines of each kamailio log of
# its own (above pytest's closing summary line, which CI reads)
LOG_TAIL_LINES = 25
LOG_TAIL_WIDTH = 240


def log_tail(log, lines=LOG_TAIL_LINES, width=LOG_TAIL_WIDTH):
    """The last lines of a log, each cut to width characters."""
    try:
        with open(log, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode(errors="replace")
    except OSError as e:
        return f"({e})"
    out = []
    for line in text.splitlines()[-lines:]:
        out.append(line if len(line) <= width else line[:width] + " [...]")
    return "\n".join(out)


def failure_sections(item):
    """What a failing test's report gets besides pytest's own message:
    the waits that timed out (their condition and what it saw), where the
    logs are, and the tail of each kamailio log the test started."""
    out = []
    timed_out = waits.timed_out()
    if timed_out:
        out.append(("waits that timed out", "\n".join(timed_out)))
    d = LOGS / item.name
    procs_ = item.funcargs.get("procs") if hasattr(item, "funcargs") else None
    logs = list(getattr(procs_, "kamailio_logs", []) or [])
    where = f"logs: {d}/" if d.exists() else "logs: (none kept)"
    if d.exists():
        where += " (" + ", ".join(sorted(f.name for f in d.iterdir())) + ")"
    out.append(("where the logs are", where))
    for log in logs[:4]:
        if Path(log).exists():
            out.append((f"last lines of {log}", log_tail(log)))
    return out


def pytest_runtest_setup(item):
    waits.reset()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    # the call (a process that crashed took a connection with it), or the
    # teardown's check that no kamailio process crashed
    if rep.when not in ("call", "teardown") or not rep.failed:
        return
    name = Path(str(item.fspath)).name
    procs = (item.funcargs or {}).get("procs")
    # (unclean() reads cores: only where it matters)
    if (tuple(KAMAILIO_VERSION[:2]) == (5, 6) and name == KAMAILIO_TLS_BUG_FILE
            and isinstance(procs, harness.Procs)):
        reason = tls_bug_skip_reason(KAMAILIO_VERSION, name, procs.unclean())
        if reason is not None:
            # reported as skipped with its reason: make test's closing
            # lines list every skip (pytest.ini: -rfEsx)
            rep.outcome = "skipped"
            rep.longrepr = (str(item.fspath), item.location[1] or 0,
                            f"Skipped: {reason}")
            return
    # a failure: what it waited for and saw, its logs
    for title, text in failure_sections(item):
        rep.sections.append((f"ha_pair: {title}", text))


@pytest.fixture
def probed_member():
    """make(ip, port=5060, code=200, delay=0.0): a faults.ProbedMember,
    closed when the test ends."""
    made = []

    def make(ip, port=5060, **kw):
        require_free(ip, port)
        m = ProbedMember(ip, port, **kw)
        made.append(m)
        return m
    yield make
    for m in made:
        m.close()
