# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn bench.py's results into docs/benchmarks.md and its plots."""

import json
import shutil
import statistics
import subprocess
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
IMG = TOP / "docs" / "img"


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return None
    i = min(len(xs) - 1, max(0, int(round(q * (len(xs) - 1)))))
    return xs[i]


def fmt(v, nd=0):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def cost_figures(res):
    c = res.get("cost", {})
    cg = c.get("callgrind", {})
    tp = c.get("tp", {})
    out = {}
    ca = c.get("callgrind_alloc", {})
    for alloc, modes in cg.items():
        base = statistics.mean(modes["static"])
        for m, v in modes.items():
            out[("cg", alloc, m)] = (statistics.mean(v),
                                     statistics.mean(v) / base)
        if alloc in ca:
            nb = base - statistics.mean(ca[alloc]["static"])
            for m, v in modes.items():
                x = statistics.mean(v) - statistics.mean(ca[alloc][m])
                out[("cgx", alloc, m)] = (x, x / nb)
    if tp:
        base = statistics.median(r["cpu_us_per_req"] for r in tp["static"])
        for m, runs in tp.items():
            med = statistics.median(r["cpu_us_per_req"] for r in runs)
            out[("tp", m)] = (med, med / base)
    return out


def switch_rows(res):
    rows = []
    for key, v in res.get("switch", {}).items():
        if key == "healthy":
            continue
        t = [x for x in v["times"] if x is not None]
        missing = len(v["times"]) - len(t)
        bound = v.get("bound")
        within = (sum(1 for x in t if x <= bound) if bound else None)
        rows.append((key, len(v["times"]), pct(t, 0), pct(t, 0.5),
                     pct(t, 0.95), max(t) if t else None, bound, within,
                     missing))
    return rows


def plot_switch(res, work):
    """CDF of switch times per setting, log scale, to docs/img."""
    if not shutil.which("gnuplot"):
        return None
    data = []
    for key, v in res.get("switch", {}).items():
        if key == "healthy":
            continue
        t = sorted(x for x in v["times"] if x is not None)
        if not t:
            continue
        f = work / ("cdf_" + "".join(ch if ch.isalnum() else "_"
                                     for ch in key) + ".dat")
        # 0 ms (a switch within the traffic's own 5 ms spacing) cannot sit
        # on a log scale: drawn at 0.5 ms
        f.write_text("".join(f"{max(x, 0.5) / 1000} "
                             f"{(i + 1) / len(v['times'])}\n"
                             for i, x in enumerate(t)))
        data.append((key, f))
    if not data:
        return None
    IMG.mkdir(parents=True, exist_ok=True)
    png = IMG / "bench_switch.png"
    plots = ", ".join(f"'{f}' using 1:2 with steps lw 2 title '{k}'"
                      for k, f in data)
    script = f"""
set terminal pngcairo size 1000,560 font 'sans,10' noenhanced
set output '{png}'
set title 'Time from a member failing to the first request at the other member ({res["profile"]} run)'
set xlabel 'seconds (log scale)'
set ylabel 'share of trials'
set logscale x
set xrange [0.0004:60]
set yrange [0:1.02]
set grid
set key outside right
plot {plots}
"""
    (work / "switch.gp").write_text(script)
    subprocess.run(["gnuplot", str(work / "switch.gp")], check=True)
    return png


VERSIONS_BEGIN = "<!-- cost by Kamailio version (make bench-cost) -->"
VERSIONS_END = "<!-- end of cost by Kamailio version -->"
MODES = ("static", "ha_route", "ds_select_dst")
# how the script of each mode picks the destination (tests/bench/bench.cfg)
MODE_LABELS = {
    "static": "`$du = \"sip:...\"`",
    "ha_route": "`if(!ha_route())`",
    "ds_select_dst": "`if(!ds_select_dst(\"1\", \"8\"))`",
    "ha_route_rc": "`ha_route(); if($rc < 0)`",
}


def versions_section(costs):
    """The table of instructions per request (callgrind, tlsf) by Kamailio
    version, from costs/cost-VERSION.json (each written by a bench run of
    that version); "" when there is none."""
    runs = []
    for f in sorted(Path(costs).glob("cost-*.json")) if costs else []:
        try:
            runs.append(json.loads(f.read_text()))
        except (OSError, ValueError):
            continue
    if not runs:
        return ""
    rows = []
    for d in runs:
        for key, request in (("callgrind", "MESSAGE"),
                             ("callgrind_options", "OPTIONS")):
            cg, ca = d.get(key), d.get(key + "_alloc", {})
            if not cg:
                continue
            # the median of the starts' means (bench_callgrind())
            base = statistics.median(cg["static"])
            basex = base - statistics.median(ca["static"]) if ca else None
            for mode in MODES + ("ha_route_rc",):
                if mode not in cg:
                    continue
                v = statistics.median(cg[mode])
                x = v - statistics.median(ca[mode]) if ca else None
                rows.append((d["target"], request, MODE_LABELS[mode], fmt(v),
                             f"{(v / base - 1) * 100:+.2f} %", fmt(x),
                             f"{(x / basex - 1) * 100:+.2f} %" if ca
                             else "-"))
    L = [VERSIONS_BEGIN,
         "\n### Cost per request by Kamailio version\n",
         "The same callgrind measurement (tlsf, windows of "
         f"{runs[0]['cg_n']:,} requests, the median of "
         f"{max(len(v) for v in runs[0]['callgrind'].values())} starts of "
         "kamailio for each mode) with each supported Kamailio: 5.6 "
         "is Debian 12's package, 6.0 is Debian 13's source package built "
         "by `make KAMAILIO=6.0 deps` with Debian's compile flags. Made "
         "with `make bench-cost` and `make KAMAILIO=6.0 bench-cost` (each "
         "about eight minutes); each version's row is from its own latest run "
         "(" + "; ".join(f"{d['target']}: {d['machine']['kamailio']}, "
                         f"{d['started']}" for d in runs) + ").\n",
         table(["kamailio", "request", "destination chosen by",
                "instructions / request", "vs static $du",
                "without the allocator", "vs static"], rows),
         VERSIONS_END + "\n"]
    return "\n".join(L)


def put_versions(text, costs):
    """text with its version table replaced by the current one (inserted
    before section 4, or at the end, when it has none)."""
    sec = versions_section(costs)
    if not sec:
        return text
    i, j = text.find(VERSIONS_BEGIN), text.find(VERSIONS_END)
    if i >= 0 and j > i:
        return text[:i] + sec + text[j + len(VERSIONS_END) + 1:]
    k = text.find("\n## 4.")
    if k >= 0:
        return text[:k + 1] + sec + "\n" + text[k + 1:]
    return text.rstrip("\n") + "\n\n" + sec


def render(res, work, costs=None):
    m = res["machine"]
    L = []
    L.append("# ha_pair benchmarks: against Kamailio's dispatcher\n")
    L.append("Generated by `tests/bench/bench.py` from one run on one "
             "machine; every number below comes from that run. "
             "Reproduce with:\n")
    cmd = {"quick": "make bench", "long": "make bench-long"}.get(
        res["profile"], res["command"])
    L.append(f"```\n{cmd}\n```\n")
    L.append(f"(`{res['command']}`, profile `{res['profile']}`, "
             f"{res['seconds']} s, started {res['started']}).\n")
    L.append(table(["machine", ""], [
        ("CPU", f"{m['cpu']} ({m['cores']} cores)"),
        ("kernel", m["kernel"]),
        ("kamailio", f"{m['kamailio']} "
                     f"({m.get('kamailio_bin', '/usr/sbin/kamailio')})"),
        ("sipp", f"Debian sip-tester {m['sipp']}"),
        ("valgrind", m["valgrind"]),
        ("memory allocator", "tlsf (`-x tlsf -X tlsf`) unless a table says "
                             "qm (Debian's default, a debugging allocator)"),
    ]))
    L.append("\nTimes are taken outside kamailio: when a SIP server (sipp's "
             "message trace, or optresp's kernel time stamps) received a "
             "message, and when the harness froze or killed a process. "
             "Kamailio forwards statelessly (`forward()`) in every "
             "configuration, from `tests/bench/bench.cfg`; only the line "
             "that picks the destination differs.\n")

    cf = cost_figures(res)
    goals = check(res)
    if goals:
        L.append("\n## Goals\n")
        L.append("\n".join(f"- {g}" for g in goals) + "\n")

    if res.get("cost"):
        c = res["cost"]
        L.append("\n## 1. Cost per request\n")
        if c.get("callgrind"):
            L.append("Instructions the SIP worker executes per request "
                     "(receiving the MESSAGE, choosing the destination, "
                     "forwarding it, and forwarding its 200 back), from "
                     "`valgrind --tool=callgrind`: counters zeroed after a "
                     "warm-up, dumped after each window of "
                     f"{res.get('cg_n', '')} requests; the mean of the "
                     "windows. Repeatable to a few instructions.\n")
            rows = []
            for alloc in c["callgrind"]:
                for mode in ("static", "ha_route", "ds_select_dst"):
                    v, r = cf[("cg", alloc, mode)]
                    x, rx = cf.get(("cgx", alloc, mode), (None, None))
                    rows.append((alloc, f"`{mode}`", fmt(v),
                                 f"{(r - 1) * 100:+.2f} %", fmt(x),
                                 f"{(rx - 1) * 100:+.2f} %" if rx else "-"))
            L.append(table(["allocator", "destination chosen by",
                            "instructions / request", "vs static $du",
                            "without the allocator", "vs static"], rows))
            L.append("\nWith Debian's default allocator (qm, built for "
                     "debugging) most instructions are `qm_malloc` walking "
                     "its free lists, whose length depends on each "
                     "process's heap history rather than on the function "
                     "called: the totals swing by a factor of two between "
                     "configurations and say nothing about ha_route() or "
                     "ds_select_dst(). The columns without the allocator "
                     "(`qm_malloc`, `qm_free`, `tlsf_malloc`, `tlsf_free`, "
                     "inclusive) compare the rest. The goal is judged on "
                     "tlsf, the allocator to run in production.\n")
        if c.get("tp"):
            L.append(f"\nCPU per request at a fixed rate: {c['n']:,} "
                     f"requests at {c['rate']:,}/s from sipp, CPU time of "
                     "all kamailio processes (from /proc/PID/schedstat) "
                     "over the run divided by the requests answered; "
                     f"{len(c['tp']['static'])} rounds, interleaved; the "
                     "median. Wall-clock CPU on a shared 2-core machine is "
                     "noisy: the callgrind table is the precise one.\n")
            rows = []
            for mode, runs in c["tp"].items():
                med, r = cf[("tp", mode)]
                rows.append((f"`{mode}`", sum(x["ok"] for x in runs),
                             sum(x["failed"] for x in runs),
                             " / ".join(f"{x['cpu_us_per_req']:.1f}"
                                        for x in runs),
                             f"{med:.1f}", f"{(r - 1) * 100:+.1f} %"))
            L.append(table(["mode", "answered", "failed",
                            "µs CPU / request, each round", "median",
                            "vs static"], rows))

    if res.get("growth"):
        g = res["growth"]
        L.append("\n## 4. Cost per request as pairs grow\n")
        L.append("Instructions per request (callgrind, tlsf) of "
                 "`ha_route(\"$rU\")` (pair named by the R-URI user) and of "
                 "`ha_route()` finding the pair by the R-URI's domain, with "
                 "the pair in the middle of the table. Hash lookups: the "
                 "count must not grow with the number of pairs.\n")
        rows = []
        for kind, by_n in g.items():
            ns = sorted(by_n, key=int)
            base = statistics.mean(by_n[ns[0]])
            for n in ns:
                v = statistics.mean(by_n[n])
                rows.append((f"`{kind}`", fmt(int(n)), fmt(v),
                             f"{(v / base - 1) * 100:+.2f} %"))
        L.append(table(["lookup", "pairs", "instructions / request",
                        "vs the smallest table"], rows))

    if res.get("switch"):
        L.append("\n## 2. Time to switch\n")
        L.append("Independent pairs (each its own two sipp servers), a "
                 "request to each pair every 10 ms (20 ms for the 5 s "
                 "settings, 5 ms for 200 ms / 100 ms and passive). At a "
                 "random moment within one probe period, the harness "
                 "freezes the active member (SIGSTOP), kills it (TCP: the "
                 "port then refuses connections), or sends a request from "
                 "the standby's own address (passive). The figure is the "
                 "time from that moment to the first request that arrives "
                 "at the other member. `-` in `missed`: every trial "
                 "switched within its observation window.\n")
        rows = [(f"{k}", n, fmt(a, 0), fmt(b, 0), fmt(c, 0), fmt(d, 0),
                 fmt(bd), f"{w}/{n - miss}" if w is not None else "-",
                 miss or "-")
                for k, n, a, b, c, d, bd, w, miss in switch_rows(res)]
        L.append(table(["setting", "trials", "min ms", "median ms",
                        "p95 ms", "max ms", "bound ms",
                        "within bound", "missed"], rows))
        png = plot_switch(res, work)
        if png:
            L.append(f"\n![switch times](img/{png.name})\n")
        h = res["switch"].get("healthy")
        if h:
            L.append(f"\nHealthy run at 200 ms / 100 ms: {h['pairs']} pairs "
                     f"for {h['seconds']} s with traffic. Requests at the "
                     f"primaries: {h['at_primaries']:,}; at the backups: "
                     f"{h['at_backups']}; switchovers: {h['switchovers']}; "
                     f"probes at the primaries: {h['probes_primaries']:,}, "
                     f"at the backups: {h['probes_backups']} (the start-up "
                     f"probe of each backup is one).\n")
        L.append("\nThe ha_pair bound is 2 × oos-check + oos-force "
                 "([ha_pair.md](ha_pair.md), How it decides). Dispatcher marks a destination down only when a "
                 "ping's transaction ends without an answer, after tm's "
                 "`fr_timer`, and pings every `ds_ping_interval` (1 s, its "
                 "minimum): its time to switch is about fr_timer + up to "
                 "one interval, and with tm's default fr_timer (30 s) about "
                 "half a minute. Dispatcher has no passive switchover.\n")

    if res.get("scale"):
        L.append("\n## 3. Probing at scale\n")
        L.append("Members spread over 4 ports on each of two loopback "
                 "addresses by user part (`sip:m123@127.0.0.2:5201`), "
                 "answered by `tests/bench/optresp.c` (a minimal SIP "
                 "server: sipp tracing 10,000-20,000 messages a second "
                 "takes a core of its own on this machine). oos-check 1 s "
                 "(ha_pair) or `ds_ping_interval` 1 (dispatcher). CPU over "
                 f"{res['scale_seconds']} s after 5 s of start-up, from "
                 "/proc/PID/schedstat: of "
                 "the probing process (ha_pair's prober; dispatcher's "
                 "pings are sent by the `timer` process) and of all "
                 "kamailio processes (replies are taken in by the SIP "
                 "workers in both). Regularity: the spacing between two "
                 "probes of one member, seen at the server, against 1 s. "
                 "False switchovers: `ha_pair:switchovers`, or the "
                 "destinations dispatcher marked down (its "
                 "`dispatcher:dst-down` event, counted in the config). "
                 "Shared memory per pair: `core.shmmem` used after start-up "
                 "against the 10-pair run; the last column is what is in use "
                 "after the run (dispatcher's pings are tm transactions, "
                 "kept for tm's wait timer after their reply; both ran with "
                 "`-m 2048`, since 20,000 pings a second do not fit in "
                 "Kamailio's default 64 MB).\n")
        rows = []
        base = {}
        for key, v in res["scale"].items():
            sysname = key.split()[0]
            if key.split()[1] == "10":
                base[sysname] = v["shm_used"]
        for key, v in res["scale"].items():
            sysname = key.split()[0]
            n = v["pairs"]
            per = "-"
            if n > 10 and sysname in base:
                per = fmt((v["shm_used"] - base[sysname]) / (n - 10))
            rows.append((key, fmt(v["members_probed"]),
                         fmt(v["probes_per_s"], 0),
                         f"{v['prober_cpu_pct']:.2f}",
                         f"{v['total_cpu_pct']:.1f}",
                         f"{v['share_within_10ms'] * 100:.2f} %",
                         f"{v['share_within_1ms'] * 100:.2f} %",
                         fmt(v["dev_p99_ms"]), v["false_switchovers"], per,
                         f"{v.get('shm_used_end', 0) / 2**20:,.0f} MB"))
        L.append(table(["run", "members probed", "probes/s",
                        "probing process % of a core",
                        "all kamailio % CPU", "spacing within 10 ms",
                        "within 1 ms", "p99 deviation ms",
                        "false switchovers", "shm bytes / pair",
                        "shm used after"], rows))
    L.append("\n## Method notes\n")
    L.append("- `make bench` runs the `quick` profile (all settings; the "
             "5 s / 5 s and dispatcher-default settings with fewer trials, "
             "a 45 s healthy run); `make bench-long` runs them in full "
             "(30 trials each, a 5-minute healthy run).\n"
             "- `make test` runs a 10-second smoke of this harness "
             "(`--profile smoke`): it checks the harness works, not the "
             "numbers.\n"
             "- The raw results of the run are in "
             "`build/bench/results-<profile>.json`; every process's log is "
             "under `build/bench/`.\n")
    return put_versions("\n".join(L), costs)


def check(res):
    """The issue's goals against this run's figures, one line each."""
    out = []
    cf = cost_figures(res)
    for alloc in res.get("cost", {}).get("callgrind", {}):
        if alloc != "tlsf":
            continue  # see the note on qm in the report
        _, r_ha = cf[("cg", alloc, "ha_route")]
        _, r_ds = cf[("cg", alloc, "ds_select_dst")]
        out.append(f"{'met' if r_ha < 1.02 and r_ha < r_ds else 'MISSED'}: "
                   f"ha_route() adds under 2 % over static $du and costs "
                   f"less than ds_select_dst ({alloc}): "
                   f"{(r_ha - 1) * 100:+.2f} % vs {(r_ds - 1) * 100:+.2f} %")
    for kind, by_n in res.get("growth", {}).items():
        ns = sorted(by_n, key=int)
        lo = statistics.mean(by_n[ns[0]])
        hi = max(statistics.mean(by_n[n]) for n in ns)
        out.append(f"{'met' if hi / lo < 1.02 else 'MISSED'}: "
                   f"ha_route {kind} flat from {ns[0]} to {ns[-1]} pairs "
                   f"(largest {(hi / lo - 1) * 100:+.2f} %)")
    for key, n, mn, med, p95, mx, bound, within, miss in switch_rows(res):
        if bound:
            ok = miss == 0 and within == n
            out.append(f"{'met' if ok else 'MISSED'}: {key}: every switch "
                       f"within {bound} ms (max {fmt(mx, 0)} ms, "
                       f"{miss} missed)")
    h = res.get("switch", {}).get("healthy")
    if h:
        ok = h["switchovers"] == 0 and h["at_backups"] == 0
        out.append(f"{'met' if ok else 'MISSED'}: no false switchover at "
                   f"200 ms / 100 ms in {h['seconds']} s "
                   f"({h['switchovers']} switchovers)")
    for key, v in res.get("scale", {}).items():
        if key.startswith("ha 10000") and "standby" not in key:
            ok = v["prober_cpu_pct"] < 10 and v["false_switchovers"] == 0
            out.append(f"{'met' if ok else 'MISSED'}: 10,000 pairs at 1 s "
                       f"under 10 % of a core with no false switchover "
                       f"({v['prober_cpu_pct']:.2f} %, "
                       f"{v['false_switchovers']} false)")
    return out
