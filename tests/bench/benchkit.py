#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What the benchmarks start and read (bench.py, wait.py): their folders,
kamailio with bench.cfg, sipp servers and clients and what they counted or
received, the pairs file and dispatcher's list. Every process started is
stopped by PID (harness.Procs)."""

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "tests"))
from kamenv import KAMAILIO, KAMAILIO_TARGET, KAMCMD, MODULE  # noqa: E402
import harness  # noqa: E402 (processes and ports: with the e2e tests)
from harness import cpu_seconds, group_pids, port_free  # noqa: E402

BENCH = TOP / "tests" / "bench"
# each version's own working folder (5.6's where it always was)
WORK = TOP / "build" / ("bench" if KAMAILIO_TARGET == "5.6"
                        else f"{KAMAILIO_TARGET}/bench")
# the callgrind figures of every version, side by side
COSTS = TOP / "build" / "bench"
CFG = BENCH / "bench.cfg"
PROXY = ("127.0.0.1", 5060)


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------- processes

class Procs(harness.Procs):
    """harness.Procs, with time for a kamailio under valgrind to write its
    figures on the way out."""

    STOP_WAIT = 10.0


def require_free(ip, port, proto="udp", grace=5.0):
    """Stop the benchmark, saying why, when another program holds
    ip:port (harness.require_free)."""
    try:
        harness.require_free(ip, port, proto, grace)
    except harness.PortTaken as e:
        sys.exit(f"bench: {e}")


def group_cpu(pgid):
    return sum(t for t in (cpu_seconds(p) for p in group_pids(pgid)) if t)


class Kamailio:
    def __init__(self, procs, wd, defines, valgrind=None, alloc=None,
                 listen_tcp=False, timeout=60, shm_mb=None, cfg=CFG):
        self.wd = wd
        self.ctl = wd / "ctl"
        if self.ctl.exists():
            self.ctl.unlink()
        require_free(*PROXY)
        args = [KAMAILIO, "-f", str(cfg), "-DD", "-E",
                "-A", f'CTL_SOCKET="unix:{self.ctl}"',
                "-A", f'HA_PAIR_SO="{MODULE}"']
        if listen_tcp:
            args += ["-A", "LISTEN_TCP=tcp:127.0.0.1:5060"]
        if alloc:
            args += ["-x", alloc, "-X", alloc]
        if shm_mb:
            args += ["-m", str(shm_mb)]
        for k, v in defines.items():
            args += ["-A", k if v is None else f"{k}={v}"]
        if valgrind:
            args = valgrind + args
        self.log = wd / "kamailio.log"
        self.proc = procs.start(args, self.log, cwd=wd)
        deadline = time.time() + timeout
        while not self.ctl.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                sys.exit("bench: kamailio did not start:\n"
                         + self.log.read_text(errors="replace")[-3000:])
            time.sleep(0.1)
        # the socket file is there from its bind(), a moment before ctl
        # listens on it (seconds under valgrind on a loaded machine): a
        # connect in between is refused
        while True:
            r = subprocess.run([KAMCMD, "-s", f"unix:{self.ctl}",
                                "core.version"], capture_output=True,
                               text=True, timeout=60)
            if r.returncode == 0 and "ERROR" not in r.stdout + r.stderr:
                break
            if self.proc.poll() is not None or time.time() > deadline:
                sys.exit("bench: kamailio does not answer on its ctl "
                         f"socket: {r.stdout}{r.stderr}\n"
                         + self.log.read_text(errors="replace")[-3000:])
            time.sleep(0.1)

    def rpc(self, *args, timeout=60):
        r = subprocess.run([KAMCMD, "-s", f"unix:{self.ctl}"]
                           + [str(a) for a in args], capture_output=True,
                           text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"kamcmd {args}: {r.stdout}{r.stderr}")
        return r.stdout

    def pid_of(self, what):
        """PID of the kamailio process whose description starts with
        what (core.psx)."""
        out = self.rpc("core.psx")
        for m in re.finditer(r"PID: (\d+)\s+DSC: ([^\n]*)", out):
            if m.group(2).startswith(what):
                return int(m.group(1))
        raise RuntimeError(f"no kamailio process '{what}' in:\n{out}")

    def shm_used(self):
        out = self.rpc("core.shmmem")
        return int(re.search(r"used: (\d+)", out).group(1))

    def wait_idle(self, pid, quiet=0.02, step=1.0, timeout=600):
        """Wait until pid uses (almost) no CPU for one step."""
        deadline = time.time() + timeout
        prev = cpu_seconds(pid)
        while time.time() < deadline:
            time.sleep(step)
            cur = cpu_seconds(pid)
            if cur - prev <= quiet:
                return
            prev = cur
        raise RuntimeError(f"process {pid} never went idle")


def sipp_server(procs, wd, name, ip, port, transport="u1", trace=True,
                scenario="uas.xml"):
    proto = "udp" if transport == "u1" else "tcp"
    require_free(ip, port, proto)
    msgs = wd / f"{name}.msgs"
    args = ["sipp", "-sf", str(BENCH / scenario), "-i", ip, "-p", str(port),
            "-t", transport, "-nostdin", "-max_recv_loops", "10000"]
    if trace:
        args += ["-trace_msg", "-message_file", str(msgs)]
    p = procs.start(args, wd / f"{name}.out", cwd=wd)
    p.stop_sig = signal.SIGKILL  # its trace is written as it goes
    deadline = time.time() + 5
    while port_free(ip, port, proto) and p.poll() is None:
        if time.time() > deadline:
            break
        time.sleep(0.02)
    if p.poll() is not None:
        sys.exit(f"bench: sipp {name} did not start: see {wd}/{name}.out")
    p.msgs = msgs
    return p


def sipp_client(procs, wd, name, scenario, n, rate, user="svc",
                ruri_host="127.0.0.1", src=("127.0.0.9", 6000), inf=None,
                transport="u1"):
    args = ["sipp", "-sf", str(BENCH / scenario), "-i", src[0],
            "-p", str(src[1]), "-t", transport, "-nostdin", "-s", user,
            "-key", "ruri_host", ruri_host, "-r", str(rate), "-l", "100000",
            "-timeout", "600s", "-max_recv_loops", "10000"]
    if n:
        args += ["-m", str(n)]
    if inf:
        args += ["-inf", str(inf)]
    args.append(f"{PROXY[0]}:{PROXY[1]}")
    return procs.start(args, wd / f"{name}.out", cwd=wd)


def sipp_counts(out_file):
    text = Path(out_file).read_text(errors="replace")
    ok = re.findall(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", text)
    bad = re.findall(r"Failed call\s+\|\s+\d+\s+\|\s+(\d+)", text)
    return (int(ok[-1]) if ok else 0, int(bad[-1]) if bad else 0)


def arrivals(msgs_file, method):
    """(wall time, first line) of each request of method a sipp received."""
    out = []
    try:
        text = Path(msgs_file).read_text(errors="replace")
    except FileNotFoundError:
        return out
    for m in re.finditer(
            r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{6})\n"
            r"(?:UDP|TCP) message received[^\n]*\n\n(" + method + r" [^\n]*)",
            text, re.M):
        t = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
        out.append((t + int(m.group(2)) / 1e6, m.group(3)))
    return out


def pairs_file(path, pairs, oos_check, oos_force, domains=False):
    """pairs: list of (name, primary uri, backup uri)"""
    lines = ["<ha_pairs>"]
    for name, pri, bak in pairs:
        lines.append(f'<pair name="{name}" oos-check="{oos_check}" '
                     f'oos-force="{oos_force}">')
        lines.append(f'<primary uri="{pri}"/><backup uri="{bak}"/>')
        if domains:
            lines.append(f"<domain>{name}.bench</domain>")
        lines.append("</pair>")
    lines.append("</ha_pairs>")
    path.write_text("\n".join(lines) + "\n")


def ds_file(path, sets):
    """sets: list of (set id, primary uri, backup uri); the primary has the
    higher priority, so algorithm 8 picks it while it is up."""
    lines = []
    for sid, pri, bak in sets:
        lines.append(f"{sid} {pri} 0 10")
        lines.append(f"{sid} {bak} 0 5")
    path.write_text("\n".join(lines) + "\n")


def clean_dir(wd):
    """wd, emptied (made when missing)."""
    if wd.exists():
        shutil.rmtree(wd)
    wd.mkdir(parents=True)
    return wd
