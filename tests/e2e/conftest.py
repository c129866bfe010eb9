# SPDX-License-Identifier: GPL-2.0-or-later
"""End-to-end harness: kamailio with ha_pair, real sipp peers, kamcmd.
The kamailio (Debian 12's 5.6, or the 6.0 built under build/6.0), its
kamcmd and ha_pair built for it are those `make env` names (make test
passes them; tests/kamenv.py). Every process a test starts is stopped by
PID when it ends."""

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import sys

import pytest

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "tests"))
import kamenv  # noqa: E402
from faults import ProbedMember  # noqa: E402 (one SIP reply builder)

_ENV = kamenv.load()
KAMAILIO = str(_ENV["KAMAILIO_BIN"])
KAMCMD = str(_ENV["KAMCMD"])
# that kamailio's own module folder (tm.so, tls.so, ...)
KAMAILIO_MODDIR = _ENV["KAMAILIO_MODDIR"]
MODULE = _ENV["HA_PAIR_SO"]
# (major, minor, patch) of KAMAILIO; KAMAILIO_TARGET: 5.6 or 6.0 (make's)
KAMAILIO_VERSION = _ENV["version"]
KAMAILIO_TARGET = _ENV["target"]
CFG = TOP / "config" / "kamailio.cfg"
SIPP = TOP / "tests" / "sipp"
LOGS = TOP / "tests" / "e2e" / "logs"
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


def port_free(ip, port, proto="udp"):
    """Can ip:port be bound? (tells a busy port from a failure of ours)"""
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(fam, kind)
    if kind == socket.SOCK_STREAM:
        # connections of an earlier test in TIME_WAIT do not make it busy
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((ip, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def listening(ip, port, proto="udp", netns=None):
    """Is ip:port bound by some program? In a network namespace, as its
    ss says; here, by trying to bind it."""
    if not netns:
        return not port_free(ip, port, proto)
    addr = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
    r = subprocess.run(["ip", "netns", "exec", netns, "ss",
                        "-Hln" + ("u" if proto == "udp" else "t"), "src",
                        addr], capture_output=True, text=True, timeout=5)
    return bool(r.stdout.strip())


def wait_until(pred, timeout, step=0.02):
    """Poll pred() until true; returns the seconds it took, or None.
    Tests check the result one way: `assert kam.wait(...) is not None`
    (a bare assert would take an instant success, 0.0 s, for a
    failure)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return time.monotonic() - t0
        time.sleep(step)
    return None


def require_free(ip, port, proto="udp", grace=3.0):
    """Fail, saying so plainly, when another program holds ip:port (a
    process of the previous test may take a moment to let it go)."""
    deadline = time.time() + grace
    while not port_free(ip, port, proto) and time.time() < deadline:
        time.sleep(0.05)
    if not port_free(ip, port, proto):
        pytest.fail(f"{proto} port {ip}:{port} is already taken by another "
                    f"program (a kamailio service?): stop it and run again")


def parse_kamcmd(text):
    """kamcmd's print of RPC structs and arrays -> a list of dicts/lists."""
    stack = [([], None)]  # (items, key of this container in its parent)
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == "}":
            items, key = stack.pop()
            if items and all(k is not None for k, _ in items):
                value = dict(items)
            else:
                value = [v for _, v in items]
            stack[-1][0].append((key, value))
        elif line == "{" or line.endswith(": {"):
            stack.append(([], None if line == "{" else line[:-3]))
        elif ":" in line:
            k, _, v = line.partition(":")
            stack[-1][0].append((k, v.strip()))
        else:
            stack[-1][0].append((None, line))
    return [v for _, v in stack[0][0]]


class Procs:
    """Processes of one test, stopped by PID at its end."""

    def __init__(self):
        self.procs = []
        self.kamailio_logs = []

    def start(self, args, log, netns=None, cwd=None, env=None):
        if netns:
            args = ["ip", "netns", "exec", netns] + args
        f = open(log, "ab")
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                             start_new_session=True)
        f.close()
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=5.0):
        if p.poll() is not None:
            return
        for s in (signal.SIGCONT, sig):
            try:
                os.kill(p.pid, s)
            except ProcessLookupError:
                return
        try:
            p.wait(wait)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)

    def stop_all(self):
        for p in reversed(self.procs):
            self.stop(p)
        # whatever the sessions left (kamailio's children) goes too
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


class Peer:
    """A simulated SIP server (sipp) that logs every message it gets."""

    def __init__(self, procs, logdir, name, ip, port=5060, scenario="peer.xml",
                 transport="u1", netns=None):
        self.procs, self.name, self.ip, self.port = procs, name, ip, port
        self.msgs = logdir / f"peer-{name}-messages.log"
        if self.msgs.exists():
            self.msgs.unlink()
        proto = "udp" if transport == "u1" else "tcp"
        if not netns:
            require_free(ip, port, proto)
        args = ["sipp", "-sf", str(SIPP / scenario), "-i", ip, "-p", str(port),
                "-t", transport, "-nostdin", "-trace_msg", "-message_file",
                str(self.msgs), "-trace_err", "-error_file",
                str(logdir / f"peer-{name}-errors.log")]
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
        if self.ctl.exists():
            self.ctl.unlink()
        self.log = logdir / "kamailio.log"
        if not netns and listen is not None:
            m = re.match(r"udp:\[?([^\]]+?)\]?:(\d+)$", listen)
            if m:
                require_free(m.group(1), int(m.group(2)))
        defines = dict(defines or {})
        defines.setdefault("HA_PAIR_SO", f'"{MODULE}"')
        # 6.x drops UDP datagrams of msg_recv_max_size (32,767) or more in
        # the core; 5.6 reads up to 64 KB. The tests' big messages must
        # reach the proxy's script and ha_pair on both (config/kamailio.cfg
        # sets it from this define; docs/ha_pair.md, Supported versions)
        if KAMAILIO_VERSION >= (6, 0):
            defines.setdefault("MSG_RECV_MAX_SIZE", 65535)
        args = list(wrapper) + [KAMAILIO, "-f", str(cfg), "-DD", "-E", "-e",
                "-A", f'PAIRS_FILE="{self.pairs}"',
                "-A", f'CTL_SOCKET="unix:{self.ctl}"']
        if listen is not None:
            args += ["-A", f"LISTEN={listen}"]
        for k, v in defines.items():
            args += ["-A", f"{k}={v}" if v is not None else k]
        self.proc = procs.start(args, self.log, netns=netns, cwd=logdir,
                                env=sanitizer_env(logdir) if SANITIZE
                                else None)
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

    def wait(self, pred, timeout, step=0.02):
        """wait_until(pred, timeout, step)."""
        return wait_until(pred, timeout, step)

    def stat(self, name):
        out = self.rpc("stats.get_statistics", "ha_pair:").stdout
        m = re.search(rf"ha_pair:{name} = (\d+)", out)
        return int(m.group(1)) if m else None

    def log_text(self):
        return self.log.read_text(errors="replace")


class UdpMember:
    """A promoted member on a UDP address (a real socket): it sends a
    request to the proxy from its own address and port, and answers the
    proxy's OPTIONS with 200, as a serving member does. (A sipp cannot both
    send a request and answer probes on the same port.) far: where its
    requests are addressed (the pair's outbound traffic)."""

    def __init__(self, ip, port, answers=True, far="127.0.0.5:5060"):
        self.far = far
        self.answers = answers  # False: a forger (it cannot answer)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((ip, port))
        self.s.settimeout(0.05)
        self.ip, self.port = ip, port
        self.options = 0
        self.codes = []
        self.running = True
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while self.running:
            try:
                data, addr = self.s.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
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

    def close(self):
        self.running = False
        self.t.join(2)
        self.s.close()


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
    """pairs: list of (name, primary_uri, backup_uri, attrs dict)"""
    out = ["<ha_pairs>"]
    for name, pri, bak, attrs in pairs:
        a = "".join(f' {k}="{v}"' for k, v in attrs.items())
        out.append(f'  <pair name="{name}"{a}>')
        out.append(f'    <primary uri="{pri}"/>')
        out.append(f'    <backup uri="{bak}"/>')
        out.append("  </pair>")
    out.append("</ha_pairs>")
    return "\n".join(out) + "\n"


def check_kamailio_logs(p):
    """Whatever a test checked, a crashed kamailio process (of Procs p)
    fails it, and so does a sanitizer report (SANITIZE). Run after every
    test: by the procs fixture, and by a module's own fixture where one
    kamailio serves several tests (test_rpc_bad_args.py)."""
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
    name = f"hastall{os.getpid()}"
    etc = Path("/etc/netns") / name
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "resolv.conf").write_text("nameserver 127.0.0.1\n"
                                     "options timeout:10 attempts:1\n")
    (etc / "hosts").write_text("127.0.0.1 localhost\n")
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set",
                        "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name])
        shutil.rmtree(etc, ignore_errors=True)


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


# Kamailio 5.6's tls module with OpenSSL 3 sometimes frees OpenSSL's memory
# twice (kamailio/kamailio issues #3205, #3635, #4055; fixed from 5.7 by the
# tls_threads_mode setting, which 5.6.3 does not have). The connection it
# happened on is then lost, and a test that needed it fails for a reason
# that is not ha_pair's. Such a failure is reported as skipped, with the
# log line that shows it; any other failure stays a failure. Only on 5.6,
# only in the TLS tests' file, and only for q_malloc's report of that free
# made by the tls module: on 6.0 (tls_threads_mode=2) it is a failure.
KAMAILIO_TLS_BUG = re.compile(
    r"BUG: freeing already freed pointer \(0x[0-9a-f]+\), "
    r"called from tls: ")
KAMAILIO_TLS_BUG_FILE = "test_tls_member.py"


def tls_bug_skip_reason(version, test_file, logs):
    """Why a failure of a test of test_file (a file name) is the Kamailio
    5.6 TLS double free and not ha_pair's: the reason (with the log line),
    or None when it must stay a failure: any version but 5.6, any file but
    test_tls_member.py, no log with q_malloc's exact report from tls.
    logs: the test's log files. tests/e2e/test_harness.py checks it."""
    if tuple(version[:2]) != (5, 6) or test_file != KAMAILIO_TLS_BUG_FILE:
        return None
    for log in logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        m = KAMAILIO_TLS_BUG.search(text)
        if m:
            i = m.start()
            line = text[text.rfind("\n", 0, i) + 1:text.find("\n", i)]
            return (f"Kamailio 5.6 tls + OpenSSL 3 double free (not ha_pair; "
                    f"kamailio issue #3635) in {log.name}: "
                    f"{line.strip()[-160:]}")
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    # the call, or the teardown's check that no kamailio process crashed
    # (the double free may end in an abort of that process)
    if rep.when not in ("call", "teardown") or not rep.failed:
        return
    d = LOGS / item.name
    reason = tls_bug_skip_reason(
        KAMAILIO_VERSION, Path(str(item.fspath)).name,
        sorted(d.glob("*.log")) if d.exists() else [])
    if reason is not None:
        # reported as skipped with its reason: make test's closing lines
        # list every skip (pytest.ini: -rfEsx)
        rep.outcome = "skipped"
        rep.longrepr = (str(item.fspath), item.location[1] or 0,
                        f"Skipped: {reason}")


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
