#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""ha_pair against Kamailio's dispatcher, measured side by side in one run.

    tests/bench/bench.py [--profile smoke|quick|long] [--only a,b] [--out F]
                         [--versions-table F]

Sections (each can be picked with --only):
  cost    instructions per request (callgrind, tlsf and Debian's qm
          allocator) and CPU per request at a fixed rate (sipp), static $du
          against ha_route() against ds_select_dst(..., "8")
  callgrind  the instructions per request of cost only (tlsf): the
          figures of the table by Kamailio version
  growth  instructions per request of ha_route("name") and ha_route() (by
          domain) with 10, 1,000 and 10,000 pairs
  switch  time from freezing (or killing) the active member at a random
          moment to the first request that reaches the other member, seen
          at the members (sipp's message trace), for ha_pair and dispatcher
  scale   1,000 and 10,000 pairs probed at 1 s (and dispatcher with 20,000
          destinations): CPU of the probing process, regularity of probes
          seen at the servers, false switchovers, shared memory per pair

Every time is taken outside kamailio: when sipp or optresp received a
message, or when this script froze a process. Results go to
build/bench/results-PROFILE.json (build/6.0/bench/ for Kamailio 6.0); with
--out, a Markdown report (and PNG plots, with gnuplot) is written there.
The callgrind figures of each Kamailio version are also kept in
build/bench/cost-VERSION.json; --versions-table F writes their table (cost
per request by Kamailio version) into F, in place of the one there.
The kamailio, kamcmd and ha_pair.so are those `make env` names (make
passes them: KAMAILIO_BIN, KAMCMD, HA_PAIR_SO; tests/kamenv.py). Every
process started is stopped by PID.
"""

import argparse
import json
import os
import platform
import random
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# what the benchmarks start and read (it puts tests/ on the path too)
from benchkit import (BENCH, COSTS, PROXY, WORK, Kamailio,  # noqa: E402
                      Procs, arrivals, clean_dir, ds_file, group_cpu, log,
                      pairs_file, require_free, sipp_client, sipp_counts,
                      sipp_server)
from kamenv import (KAMAILIO, KAMAILIO_TARGET,  # noqa: E402
                    KAMAILIO_VERSION, MODULE)
from harness import cpu_seconds  # noqa: E402


PROFILES = {
    # a 10-second run of every part of the harness (make test)
    "smoke": dict(cg_n=0, tp_n=2000, tp_rate=1000, tp_reps=1,
                  growth=[], switch_trials=2, switch_k=2, slow_trials=0,
                  healthy_s=0, scale=[], ds_scale=False,
                  switch_only=["ha 200ms/100ms"]),
    # make bench: every figure, slow settings with fewer trials
    "quick": dict(cg_n=2000, cg_starts=3, tp_n=100000, tp_rate=5000,
                  tp_reps=2,
                  growth=[10, 1000, 10000], switch_trials=30, switch_k=10,
                  slow_trials=10, healthy_s=45, scale=[1000, 10000],
                  ds_scale=True),
    # make bench-long: the slow settings in full, a 5-minute healthy run
    "long": dict(cg_n=4000, tp_n=100000, tp_rate=5000, tp_reps=3,
                 growth=[10, 1000, 10000], switch_trials=30, switch_k=10,
                 slow_trials=30, healthy_s=300, scale=[1000, 10000],
                 ds_scale=True),
}


# ---------------------------------------------------------------- cost

MODES = {
    "static": {"MODE_STATIC": None, "STATIC_DU": '"sip:127.0.0.2:5070"'},
    "ha_route": {"MODE_HA": None},
    "ds_select_dst": {"MODE_DS": None},
}
# measured by make bench-cost only: ha_route() with its result tested
# through $rc (tests/bench/bench.cfg, RC_TEST), the script's own cost
RC_MODES = {"ha_route_rc": {"MODE_HA": None, "RC_TEST": None}}
# the requests bench-cost sends: (result key, sipp scenario)
CG_REQUESTS = (("callgrind", "uac.xml"),
               ("callgrind_options", "uac_options.xml"))


def mode_defines(mode, wd, oos_check=300000, ds_interval=300):
    d = dict(MODES[mode] if mode in MODES else RC_MODES[mode])
    pf, dl = wd / "pairs.xml", wd / "ds.list"
    pairs_file(pf, [("sipserver1", "sip:127.0.0.2:5070",
                     "sip:127.0.0.3:5070")], oos_check, 30000)
    ds_file(dl, [(1, "sip:127.0.0.2:5070", "sip:127.0.0.3:5070")])
    d.update({"PAIRS_FILE": f'"{pf}"', "DS_LIST": f'"{dl}"',
              "OOS_CHECK": oos_check, "OOS_FORCE": 30000,
              "DS_PING_INTERVAL": ds_interval})
    return d


CALLGRIND = ["valgrind", "--tool=callgrind", "--trace-children=yes"]


def callgrind_per_request(wd, defines, alloc, n, user="svc",
                          ruri_host="127.0.0.1", windows=2,
                          scenario="uac.xml"):
    """Instructions the SIP worker spends per request (and its reply):
    callgrind counters zeroed after a warm-up, dumped after n requests."""
    with Procs() as procs:
        sipp_server(procs, wd, "uas-a", "127.0.0.2", 5070, trace=False)
        sipp_server(procs, wd, "uas-b", "127.0.0.3", 5070, trace=False)
        kam = Kamailio(procs, wd, defines, alloc=alloc, timeout=180,
                       valgrind=CALLGRIND + [
                           f"--callgrind-out-file={wd}/cg.%p"])
        worker = kam.pid_of("udp receiver child=0")
        kam.wait_idle(worker)
        c = sipp_client(procs, wd, "warm", scenario, 300, 200, user=user,
                        ruri_host=ruri_host)
        c.wait(120)
        out, alloc = [], []
        tries = 0
        w = 0
        while w < windows:
            kam.wait_idle(worker, quiet=0.01, step=0.5)
            subprocess.run(["callgrind_control", "-z", str(worker)],
                           check=True, capture_output=True, timeout=60)
            # 200/s: kamailio under callgrind on a loaded two-core machine
            # fell behind 400/s (sipp retransmitted, then gave up on a
            # quarter of a window); the count per request does not depend
            # on the rate
            tries += 1
            c = sipp_client(procs, wd, f"win{w}-{tries}", scenario, n, 200,
                            user=user, ruri_host=ruri_host,
                            src=("127.0.0.9", 6001 + tries))
            c.wait(600)
            ok, bad = sipp_counts(wd / f"win{w}-{tries}.out")
            if ok != n:
                # a window with retransmissions counts their work too: it
                # is measured again (the machine was busy), three times
                # at most
                if tries >= windows + 3:
                    sys.exit(f"bench: callgrind window: {ok} of {n} "
                             f"requests answered ({bad} failed), see {wd}")
                log(f"cost: a window lost {bad} of {n} requests (a busy "
                    "machine): measured again")
                continue
            before = set(wd.glob(f"cg.{worker}.*"))
            subprocess.run(["callgrind_control", "-d", str(worker)],
                           check=True, capture_output=True, timeout=60)
            deadline = time.time() + 60
            while not (set(wd.glob(f"cg.{worker}.*")) - before):
                if time.time() > deadline:
                    sys.exit("bench: callgrind wrote no dump")
                time.sleep(0.2)
            dump = sorted(set(wd.glob(f"cg.{worker}.*")) - before)[-1]
            # the file is there before callgrind has written it all: its
            # last line is "totals:" (an early read lost the allocator's
            # lines of the bigger dumps)
            while "\ntotals:" not in dump.read_text()[-200:]:
                if time.time() > deadline:
                    sys.exit(f"bench: callgrind dump {dump} incomplete")
                time.sleep(0.2)
            m = re.search(r"^summary: (\d+)", dump.read_text(), re.M)
            out.append(int(m.group(1)) / n)
            alloc.append(allocator_ir(dump) / n)
            w += 1
    return out, alloc


ALLOC_FUNCS = ("qm_malloc", "qm_free", "tlsf_malloc", "tlsf_free")


def allocator_ir(dump):
    """Instructions spent inside the memory allocator (inclusive)."""
    # from the dump's folder: callgrind_annotate shortens the file names
    # under its working folder, and then lists a function's cost split
    # over two names (dispatcher's dumps lost most of the allocator so)
    r = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                        "--threshold=100", dump.name], capture_output=True,
                       text=True, timeout=120, cwd=dump.parent)
    tot = 0
    for line in r.stdout.splitlines():
        # "???:f" without debugging symbols (Debian's package), "file.c:f"
        # with them (6.0 built here)
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*?:(\w+) ", line)
        if m and m.group(2) in ALLOC_FUNCS:
            tot += int(m.group(1).replace(",", ""))
    return tot


def bench_callgrind(prof, res):
    """The callgrind part of cost alone, tlsf only (the version table): a
    MESSAGE and an OPTIONS, each with every mode and with ha_route()'s
    result tested through $rc."""
    r = res.setdefault("cost", {})
    starts = prof.get("cg_starts", 1)
    # each mode measured from several starts of kamailio, one round of
    # every mode after the other: a start's heap layout moves the
    # allocator's cost by a few hundred instructions either way (the
    # static baseline by 0.26 % between two runs), so the table takes
    # the median of the starts' means
    for key, scenario in CG_REQUESTS:
        for k in range(starts):
            for mode in list(MODES) + list(RC_MODES):
                wd = clean_dir(WORK / "cost" / (f"cg-{key}-{mode}" + (
                    f"-{k + 1}" if k else "")))
                log(f"cost: callgrind {mode}, {scenario}, tlsf allocator, "
                    f"start {k + 1} of {starts}")
                v, a = callgrind_per_request(wd, mode_defines(mode, wd),
                                             "tlsf", prof["cg_n"],
                                             scenario=scenario)
                r.setdefault(key, {}).setdefault("tlsf", {}).setdefault(
                    mode, []).append(statistics.mean(v))
                r.setdefault(key + "_alloc", {}).setdefault(
                    "tlsf", {}).setdefault(mode, []).append(
                        statistics.mean(a))


def bench_cost(prof, res, allocs=("tlsf", "qm"), rate_runs=True):
    r = res.setdefault("cost", {})
    if prof["cg_n"]:
        for alloc in allocs:
            for mode in MODES:
                wd = clean_dir(WORK / "cost" / f"cg-{alloc}-{mode}")
                log(f"cost: callgrind {mode}, {alloc} allocator")
                v, a = callgrind_per_request(wd, mode_defines(mode, wd),
                                             alloc, prof["cg_n"])
                r.setdefault("callgrind", {}).setdefault(alloc, {})[mode] = v
                r.setdefault("callgrind_alloc", {}).setdefault(
                    alloc, {})[mode] = a
    if not rate_runs:
        return
    # CPU per request at a fixed rate, rounds interleaved
    n, rate = prof["tp_n"], prof["tp_rate"]
    r["rate"], r["n"] = rate, n
    for rep in range(prof["tp_reps"]):
        for mode in MODES:
            wd = clean_dir(WORK / "cost" / f"tp-{mode}-{rep}")
            log(f"cost: {n} requests at {rate}/s, {mode} (round {rep + 1})")
            with Procs() as procs:
                sipp_server(procs, wd, "uas-a", "127.0.0.2", 5070,
                            trace=False)
                sipp_server(procs, wd, "uas-b", "127.0.0.3", 5070,
                            trace=False)
                kam = Kamailio(procs, wd, mode_defines(mode, wd),
                               alloc="tlsf")
                time.sleep(0.5)
                pg = kam.proc.pid
                t0, c0 = time.monotonic(), group_cpu(pg)
                c = sipp_client(procs, wd, "load", "uac.xml", n, rate)
                c.wait(n / rate * 3 + 60)
                t1, c1 = time.monotonic(), group_cpu(pg)
                ok, bad = sipp_counts(wd / "load.out")
                r.setdefault("tp", {}).setdefault(mode, []).append(dict(
                    ok=ok, failed=bad, seconds=t1 - t0,
                    cpu_us_per_req=(c1 - c0) * 1e6 / max(ok, 1)))


# ---------------------------------------------------------------- growth

def bench_growth(prof, res):
    r = res.setdefault("growth", {})
    for npairs in prof["growth"]:
        for kind in ("named", "domain"):
            wd = clean_dir(WORK / "growth" / f"{kind}-{npairs}")
            pf = wd / "pairs.xml"
            pairs_file(pf, [(f"p{i}", f"sip:m{2 * i}@127.0.0.2:5070",
                             f"sip:m{2 * i + 1}@127.0.0.3:5070")
                            for i in range(npairs)], "300s", "30s",
                       domains=True)
            d = {"PAIRS_FILE": f'"{pf}"', "DS_LIST": '""',
                 "MODE_HA_NAMED" if kind == "named" else "MODE_HA": None}
            target = f"p{npairs // 2}"
            log(f"growth: ha_route {kind}, {npairs} pairs")
            v, _ = callgrind_per_request(
                wd, d, "tlsf", prof["cg_n"] // 2,
                user=target if kind == "named" else "svc",
                ruri_host="127.0.0.1" if kind == "named"
                else f"{target}.bench")
            r.setdefault(kind, {})[str(npairs)] = v


# ---------------------------------------------------------------- switch

def udp_from(src_ip, src_port, dst, payload):
    """Send one UDP datagram from src_ip:src_port even though a member's
    own server holds that port (raw socket, loopback only)."""
    assert src_ip.startswith("127.") and dst[0].startswith("127.")
    udp_len = 8 + len(payload)
    udp = struct.pack("!HHHH", src_port, dst[1], udp_len, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0, 64,
                     socket.IPPROTO_UDP, 0, socket.inet_aton(src_ip),
                     socket.inet_aton(dst[0]))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        s.sendto(ip + udp, (dst[0], 0))
    finally:
        s.close()


def standby_request(src_ip, src_port, pair, n):
    """An out-of-dialog MESSAGE from a member, for the pair (the R-URI user
    names it for ha_route("$rU")) to somewhere nobody listens."""
    cid = f"passive-{n}-{time.monotonic_ns()}"
    return (f"MESSAGE sip:{pair}@127.0.0.5:5999 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {src_ip}:{src_port};branch=z9hG4bKpass{n}\r\n"
            f"From: <sip:pbx@{src_ip}:{src_port}>;tag=p{n}\r\n"
            f"To: <sip:{pair}@127.0.0.5:5999>\r\n"
            f"Call-ID: {cid}\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
            f"Content-Length: 0\r\n\r\n").encode()


def switch_round(st, k, wd):
    """One round: k independent pairs, each primary frozen (or killed) at
    its own random moment, or a passive request from each standby. Returns
    the switch times in ms (None: no switch seen in the window)."""
    system, transport = st["system"], st.get("transport", "udp")
    tr = "u1" if transport == "udp" else "t1"
    suffix = "" if transport == "udp" else ";transport=tcp"
    base = 5100
    pri = [f"sip:127.0.0.2:{base + i}{suffix}" for i in range(k)]
    bak = [f"sip:127.0.0.3:{base + i}{suffix}" for i in range(k)]
    names = [str(i + 1) for i in range(k)]
    with Procs() as procs:
        ps = [sipp_server(procs, wd, f"pri{i}", "127.0.0.2", base + i, tr)
              for i in range(k)]
        bs = [sipp_server(procs, wd, f"bak{i}", "127.0.0.3", base + i, tr)
              for i in range(k)]
        if system == "ha":
            pf = wd / "pairs.xml"
            pairs_file(pf, list(zip(names, pri, bak)), st["oos_check"],
                       st["oos_force"])
            d = {"MODE_HA_NAMED": None, "PAIRS_FILE": f'"{pf}"',
                 "DS_LIST": '""', "CHILDREN": 2}
        else:
            dl = wd / "ds.list"
            ds_file(dl, list(zip(names, pri, bak)))
            d = {"MODE_DS": None, "DS_BY_USER": None, "DS_LIST": f'"{dl}"',
                 "PAIRS_FILE": '""', "CHILDREN": 2,
                 "DS_PING_INTERVAL": st["ping"], "FR_TIMER": st["fr"]}
        Kamailio(procs, wd, d, alloc="tlsf",
                 listen_tcp=transport == "tcp")
        # ready: every primary answered a probe or a ping
        deadline = time.time() + 15
        while not all(arrivals(p.msgs, "OPTIONS") for p in ps):
            if time.time() > deadline:
                sys.exit(f"bench: primaries not probed, see {wd}")
            time.sleep(0.1)
        inf = wd / "users.csv"
        inf.write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in names))
        per_pair = st.get("rate", 100)
        sipp_client(procs, wd, "traffic", "fire.xml", 0, per_pair * k,
                    ruri_host="127.0.0.1", inf=inf, transport=tr)
        time.sleep(1.0)
        period = st["oos_check_ms"] / 1000 if system == "ha" else st["ping"]
        t0 = time.time() + 0.2
        plan = sorted((t0 + random.uniform(0, period), i) for i in range(k))
        when = {}
        for t, i in plan:
            time.sleep(max(0.0, t - time.time()))
            if st["cause"] == "freeze":
                os.kill(ps[i].pid, signal.SIGSTOP)
            elif st["cause"] == "kill":
                os.kill(ps[i].pid, signal.SIGKILL)
            elif st["cause"] == "passive":
                udp_from("127.0.0.3", base + i, PROXY,
                         standby_request("127.0.0.3", base + i, names[i],
                                         i))
            when[i] = time.time()
        time.sleep(st["window"])
        res = []
        for i in range(k):
            later = [t for t, _ in arrivals(bs[i].msgs, "MESSAGE")
                     if t >= when[i]]
            res.append(round((min(later) - when[i]) * 1000, 1) if later
                       else None)
    return res


def bench_switch(prof, res):
    r = res.setdefault("switch", {})
    trials, k, slow = (prof["switch_trials"], prof["switch_k"],
                       prof["slow_trials"])
    settings = [
        dict(key="ha 5s/5s", system="ha", oos_check="5s", oos_force="5s",
             oos_check_ms=5000, bound=15000, cause="freeze", trials=slow,
             window=16.0, rate=50),
        dict(key="ha 1s/500ms", system="ha", oos_check="1s",
             oos_force="500ms", oos_check_ms=1000, bound=2500,
             cause="freeze", trials=trials, window=3.5),
        dict(key="ha 200ms/100ms", system="ha", oos_check="200ms",
             oos_force="100ms", oos_check_ms=200, bound=500, cause="freeze",
             trials=trials, window=1.5, rate=200),
        dict(key="ds ping 1s, fr_timer 1s", system="ds", ping=1, fr=1000,
             bound=None, cause="freeze", trials=trials, window=5.0),
        dict(key="ds ping 1s, fr_timer 30s (default)", system="ds", ping=1,
             fr=30000, bound=None, cause="freeze", trials=slow,
             window=36.0, rate=50),
        dict(key="ha passive, 1s/500ms", system="ha", oos_check="1s",
             oos_force="500ms", oos_check_ms=1000, bound=None,
             cause="passive", trials=trials, window=1.5, rate=200),
        dict(key="ha TCP refused, 1s/500ms", system="ha", oos_check="1s",
             oos_force="500ms", oos_check_ms=1000, bound=2500, cause="kill",
             transport="tcp", trials=trials, window=3.5),
        dict(key="ds TCP refused, ping 1s, fr_timer 1s", system="ds",
             ping=1, fr=1000, bound=None, cause="kill", transport="tcp",
             trials=trials, window=5.0),
    ]
    for st in settings:
        if not st["trials"] or st["key"] not in prof.get("switch_only",
                                                         [st["key"]]):
            continue
        times = []
        rnd = 0
        while len(times) < st["trials"]:
            kk = min(k, st["trials"] - len(times))
            wd = clean_dir(WORK / "switch" / re.sub(r"\W+", "_", st["key"])
                       / f"round{rnd}")
            log(f"switch: {st['key']}, round {rnd + 1} ({kk} pairs)")
            times += switch_round(st, kk, wd)
            rnd += 1
        r[st["key"]] = dict(times=times, bound=st["bound"],
                            cause=st["cause"])
    if prof["healthy_s"]:
        r["healthy"] = healthy_run(prof["healthy_s"], k)


def healthy_run(seconds, k):
    """ha_pair at 200 ms / 100 ms on k healthy pairs for a while: every
    request must reach a primary; a probe at a backup means a suspicion."""
    wd = clean_dir(WORK / "switch" / "healthy")
    log(f"switch: healthy run, {seconds} s at 200 ms / 100 ms, {k} pairs")
    base = 5100
    names = [str(i + 1) for i in range(k)]
    with Procs() as procs:
        ps = [sipp_server(procs, wd, f"pri{i}", "127.0.0.2", base + i)
              for i in range(k)]
        bs = [sipp_server(procs, wd, f"bak{i}", "127.0.0.3", base + i)
              for i in range(k)]
        pf = wd / "pairs.xml"
        pairs_file(pf, [(n, f"sip:127.0.0.2:{base + i}",
                         f"sip:127.0.0.3:{base + i}")
                        for i, n in enumerate(names)], "200ms", "100ms")
        kam = Kamailio(procs, wd, {"MODE_HA_NAMED": None,
                                   "PAIRS_FILE": f'"{pf}"', "DS_LIST": '""',
                                   "CHILDREN": 2}, alloc="tlsf")
        inf = wd / "users.csv"
        inf.write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in names))
        t0 = time.time() + 1
        sipp_client(procs, wd, "traffic", "fire.xml", 0, 200 * k,
                    inf=inf)
        time.sleep(seconds)
        stats = kam.rpc("stats.get_statistics", "ha_pair:")
        sw = int(re.search(r"ha_pair:switchovers = (\d+)", stats).group(1))
        at_primaries = sum(len([1 for t, _ in arrivals(p.msgs, "MESSAGE")
                                if t >= t0]) for p in ps)
        at_backups = sum(len(arrivals(b.msgs, "MESSAGE")) for b in bs)
        probes_backups = sum(len(arrivals(b.msgs, "OPTIONS")) for b in bs)
        probes_primaries = sum(len(arrivals(p.msgs, "OPTIONS")) for p in ps)
    return dict(seconds=seconds, pairs=k, at_primaries=at_primaries,
                at_backups=at_backups, switchovers=sw,
                probes_primaries=probes_primaries,
                probes_backups=probes_backups)


# ---------------------------------------------------------------- scale

OPTRESP = WORK / "optresp"


def build_optresp():
    src = BENCH / "optresp.c"
    if not OPTRESP.exists() or OPTRESP.stat().st_mtime < src.stat().st_mtime:
        OPTRESP.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                        str(OPTRESP), str(src)], check=True)


NSRV = 4  # responder ports per member address
SCALE_SHM_MB = 2048  # shared memory of kamailio in the scale runs (both)


def scale_run(system, npairs, seconds, probe_standby=False):
    wd = clean_dir(WORK / "scale" / f"{system}-{npairs}"
               f"{'-standby' if probe_standby else ''}")
    members = [(f"sip:m{2 * i}@127.0.0.2:{5200 + i % NSRV}",
                f"sip:m{2 * i + 1}@127.0.0.3:{5200 + i % NSRV}")
               for i in range(npairs)]
    with Procs() as procs:
        resp = []
        for ip in ("127.0.0.2", "127.0.0.3"):
            require_free(ip, 5200)
            out = wd / f"optresp-{ip}.json"
            p = procs.start([str(OPTRESP), "-a", ip, "-p", "5200", "-n",
                             str(NSRV), "-i", "1000", "-o", str(out)],
                            wd / f"optresp-{ip}.out",
                            env=dict(os.environ, OPTRESP_TRACE=str(
                                wd / f"trace-{ip}.txt")))
            resp.append((p, out))
        time.sleep(0.3)
        if system == "ha":
            pf = wd / "pairs.xml"
            pairs_file(pf, [(f"p{i}", a, b)
                            for i, (a, b) in enumerate(members)],
                       "1s", "500ms")
            d = {"MODE_HA_NAMED": None, "PAIRS_FILE": f'"{pf}"',
                 "DS_LIST": '""', "CHILDREN": 2}
            if probe_standby:
                d["PROBE_STANDBY"] = None
        else:
            dl = wd / "ds.list"
            ds_file(dl, [(i + 1, a, b) for i, (a, b) in enumerate(members)])
            d = {"MODE_DS": None, "DS_LIST": f'"{dl}"', "PAIRS_FILE": '""',
                 "CHILDREN": 2, "DS_PING_INTERVAL": 1, "FR_TIMER": 1000}
        # dispatcher's pings are tm transactions, each kept for tm's wait
        # timer (5 s) after its reply: 20,000 a second need ~1 GB of shm
        # (with the default 64 MB tm runs out and most pings are not sent)
        kam = Kamailio(procs, wd, d, alloc="tlsf", timeout=120,
                       shm_mb=SCALE_SHM_MB)
        shm = kam.shm_used()
        prober = kam.pid_of("ha_pair prober" if system == "ha"
                            else "timer")
        time.sleep(5)  # start-up probes settle
        for p, _ in resp:
            os.kill(p.pid, signal.SIGUSR1)
        pg = kam.proc.pid
        t0, c0, g0 = time.monotonic(), cpu_seconds(prober), group_cpu(pg)
        time.sleep(seconds)
        t1, c1, g1 = time.monotonic(), cpu_seconds(prober), group_cpu(pg)
        if system == "ha":
            stats = kam.rpc("stats.get_statistics", "ha_pair:")
            sw = int(re.search(r"ha_pair:switchovers = (\d+)",
                               stats).group(1))
        else:
            # destinations dispatcher marked down (its dst-down event)
            out = kam.rpc("pv.shvGet", "ds_down")
            sw = int(re.search(r"value: (\d+)", out).group(1))
        shm_end = kam.shm_used()
        errors = sum(1 for line in open(kam.log, errors="replace")
                     if " ERROR: " in line)
        for p, _ in resp:
            procs.stop(p)
    seen = [json.loads(out.read_text()) for _, out in resp]
    tot = {k: sum(s[k] for s in seen) for k in
           ("probes", "retransmissions", "intervals", "within_1ms",
            "within_10ms",
            "within_100ms", "members")}
    return dict(pairs=npairs, seconds=t1 - t0,
                prober_cpu_pct=(c1 - c0) / (t1 - t0) * 100,
                total_cpu_pct=(g1 - g0) / (t1 - t0) * 100,
                shm_used=shm, shm_used_end=shm_end, errors=errors,
                false_switchovers=sw,
                probes_per_s=tot["probes"] / (t1 - t0), **{
                    f"share_{w}": tot[w] / max(tot["intervals"], 1)
                    for w in ("within_1ms", "within_10ms", "within_100ms")},
                members_probed=tot["members"],
                retransmissions=tot["retransmissions"],
                dev_p99_ms=max((s["dev_p99_ms"] for s in seen
                                if s["intervals"]), default=None))


def bench_scale(prof, res):
    if not prof["scale"]:
        return
    build_optresp()
    r = res.setdefault("scale", {})
    secs = res["scale_seconds"] = 15
    for n in [10] + prof["scale"]:
        log(f"scale: ha_pair, {n} pairs at 1 s")
        r[f"ha {n}"] = scale_run("ha", n, secs)
    n = prof["scale"][-1]
    log(f"scale: ha_pair, {n} pairs at 1 s, probe_standby")
    r[f"ha {n} probe_standby"] = scale_run("ha", n, secs, True)
    if prof["ds_scale"]:
        for n in [10] + prof["scale"]:
            log(f"scale: dispatcher, {2 * n} destinations at 1 s")
            r[f"ds {n}"] = scale_run("ds", n, secs)


# ---------------------------------------------------------------- report

def machine():
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    if KAMAILIO_TARGET == "5.6":
        ver = "Debian " + subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "kamailio"],
            capture_output=True, text=True).stdout
    else:
        ver = (f"{'.'.join(map(str, KAMAILIO_VERSION))}, Debian 13's source "
               f"built here")
    sipp = subprocess.run(["dpkg-query", "-W", "-f=${Version}",
                           "sip-tester"], capture_output=True,
                          text=True).stdout
    return dict(cpu=cpu, cores=os.cpu_count(), kernel=platform.release(),
                kamailio=ver, kamailio_bin=KAMAILIO, sipp=sipp,
                valgrind=subprocess.run(["valgrind", "--version"],
                                        capture_output=True,
                                        text=True).stdout.strip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="quick", choices=PROFILES)
    ap.add_argument("--only", default="cost,growth,switch,scale")
    ap.add_argument("--out", help="write the Markdown report here")
    ap.add_argument("--versions-table", metavar="F",
                    help="write the table of cost per request by Kamailio "
                         "version into F (its section replaced)")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    if not MODULE.exists():
        sys.exit(f"bench: {MODULE} is missing (make module)")
    random.seed(a.seed)
    prof = PROFILES[a.profile]
    WORK.mkdir(parents=True, exist_ok=True)
    res = dict(profile=a.profile, machine=machine(), cg_n=prof["cg_n"],
               started=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
               command=" ".join(["tests/bench/bench.py"] + sys.argv[1:]))
    t0 = time.monotonic()
    for sec in a.only.split(","):
        {"cost": bench_cost, "callgrind": bench_callgrind,
         "growth": bench_growth, "switch": bench_switch,
         "scale": bench_scale}[sec](prof, res)
    res["seconds"] = round(time.monotonic() - t0)
    out = WORK / f"results-{a.profile}.json"
    out.write_text(json.dumps(res, indent=1))
    log(f"results in {out} ({res['seconds']} s)")
    import report
    if res.get("cost", {}).get("callgrind", {}).get("tlsf"):
        COSTS.mkdir(parents=True, exist_ok=True)
        (COSTS / f"cost-{KAMAILIO_TARGET}.json").write_text(json.dumps(dict(
            target=KAMAILIO_TARGET, machine=res["machine"],
            started=res["started"], cg_n=res["cg_n"],
            **{k: res["cost"][k]["tlsf"] for k in
               ("callgrind", "callgrind_alloc", "callgrind_options",
                "callgrind_options_alloc") if k in res["cost"]}),
            indent=1))
    if a.out:
        text = report.render(res, WORK, COSTS)
        # the sections tests/bench/wait.py wrote, the pool's agreement
        # times (make bench-pool, written by hand from its figures) and the
        # breakdown of ha_route()'s cost (by hand, from make bench-cost's
        # callgrind dumps) stay
        old = Path(a.out).read_text() if Path(a.out).exists() else ""
        for sec in ("wait", "pool", "cost-breakdown"):
            b, e = f"<!-- {sec}:begin -->", f"<!-- {sec}:end -->"
            if b in old and e in old:
                text += ("\n" + old[old.index(b):old.index(e) + len(e)]
                         + "\n")
        Path(a.out).write_text(text)
        log(f"report in {a.out}")
    if a.versions_table:
        f = Path(a.versions_table)
        f.write_text(report.put_versions(
            f.read_text() if f.exists() else "", COSTS))
        log(f"cost by Kamailio version in {f}")
    for line in report.check(res) if a.only != "callgrind" else []:
        print(line)
    if a.profile == "smoke":
        return smoke_check(res)
    return 0


def smoke_check(res):
    """The harness works: every request answered, every switch seen."""
    bad = []
    for mode, runs in res.get("cost", {}).get("tp", {}).items():
        for r in runs:
            if r["failed"] or r["ok"] != res["cost"]["n"]:
                bad.append(f"cost {mode}: {r['ok']} answered, "
                           f"{r['failed']} failed of {res['cost']['n']}")
            if not 0 < r["cpu_us_per_req"] < 10000:
                bad.append(f"cost {mode}: CPU per request "
                           f"{r['cpu_us_per_req']} µs")
    for key, v in res.get("switch", {}).items():
        if not v["times"] or None in v["times"]:
            bad.append(f"switch {key}: a trial saw no switch: {v['times']}")
    for line in bad:
        print(f"bench smoke: FAILED: {line}")
    print(f"bench smoke: {'failed' if bad else 'ok'}: "
          f"{len(res.get('cost', {}).get('tp', {}))} cost modes, "
          f"{sum(len(v['times']) for v in res.get('switch', {}).values())} "
          f"switch trials")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
