#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""How long a request waits in a real failover, and what the same failover
costs without waiting.

    tests/bench/wait.py [--trials N] [--rate R] [--out docs/benchmarks.md]

The example config (config/kamailio.cfg: tm, ha_failover(), ha_wait()) in
front of two sipp members, oos-check 1 s, oos-force 500 ms; a caller sends
a MESSAGE every 1/R s and records, per request, its final reply and when it
came. In each trial the active member is frozen (SIGSTOP) at a random
moment of the probe period (and, in a second set, the other member too,
for --gap seconds); the pair finds the other member, and every request that
was sent to the frozen member or arrived while the pair hunted is
"affected". Each with the example config as it is
(transactions wait), and with WITHOUT_WAIT (the script answers 503 at once
while the pair hunts, as before ha_wait(); ha_failover() still retries what
the frozen member left). The Markdown section goes into --out between the
markers <!-- wait:begin --> and <!-- wait:end --> (tests/bench/report.py
keeps it when make bench rewrites the rest). Every process started is
stopped by PID.
"""

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "tests" / "e2e"))
sys.path.insert(0, str(TOP / "tests"))  # harness, for faults

from faults import Caller  # noqa: E402

import benchkit  # noqa: E402

CFG = TOP / "config" / "kamailio.cfg"
WORK = benchkit.WORK / "wait"
CHECK_MS, FORCE_MS = 1000, 500
BEGIN, END = "<!-- wait:begin -->", "<!-- wait:end -->"


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100.0 * (len(xs) - 1))))]


def trial(procs, wd, wait, rate, seed, gap=None):
    """gap: the backup is frozen too, at the same moment, and resumed gap
    seconds later (the pair hunts until then)."""
    rnd = random.Random(seed)
    wd.mkdir(parents=True, exist_ok=True)
    pairs = wd / "ha_pairs.xml"
    pairs.write_text(
        '<ha_pairs>\n  <pair name="sipserver1" '
        f'oos-check="{CHECK_MS}ms" oos-force="{FORCE_MS}ms">\n'
        '    <primary uri="sip:127.0.0.2:5060"/>\n'
        '    <backup uri="sip:127.0.0.3:5060"/>\n  </pair>\n</ha_pairs>\n')
    pri = benchkit.sipp_server(procs, wd, "primary", "127.0.0.2", 5060,
                            trace=False, scenario="uas.xml")
    bak = benchkit.sipp_server(procs, wd, "backup", "127.0.0.3", 5060,
                            trace=False, scenario="uas.xml")
    defines = {"PAIRS_FILE": f'"{pairs}"', "OOS_CHECK": CHECK_MS,
               "OOS_FORCE": FORCE_MS}
    if not wait:
        defines["WITHOUT_WAIT"] = None
    kam = benchkit.Kamailio(procs, wd, defines, cfg=CFG)
    time.sleep(1.5)
    caller = Caller(ip="127.0.0.10", port=5091, period=1.0 / rate,
                    ruri="sip:svc@127.0.0.1:5060", answer_within=5.0)
    time.sleep(2.0 + rnd.random() * CHECK_MS / 1000.0)
    t_freeze = time.monotonic()
    pri.send_signal(19)  # SIGSTOP
    if gap is not None:
        bak.send_signal(19)
        time.sleep(gap)
        bak.send_signal(18)
    # until the pair is on the backup, then 2 s more
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        if "active: backup" in kam.rpc("ha_pair.show", "sipserver1"):
            break
        time.sleep(0.02)
    t_switch = time.monotonic()
    time.sleep(2.0)
    caller.stop()
    pri.send_signal(18)  # SIGCONT, so that it can be stopped
    with caller.lock:
        sent = dict(caller.sent)
        codes = dict(caller.codes)
        answered = dict(caller.answered)
    # affected: sent from 1.2 s (tm's fr_timer + a tick) before the freeze
    # (the requests at the frozen member) until the switch
    aff = [s for s, t in sent.items() if t_freeze - 1.2 <= t <= t_switch]
    normal = [answered[s] - sent[s] for s, t in sent.items()
              if t > t_switch + 0.5 and s in answered]
    waits = [answered[s] - sent[s] for s in aff
             if codes.get(s) == 200 and answered[s] - sent[s] > 0.05]
    out = dict(switch_ms=round((t_switch - t_freeze) * 1000),
               sent=len(sent), affected=len(aff),
               ok=sum(1 for s in aff if codes.get(s) == 200),
               refused=sum(1 for s in aff if codes.get(s) == 503),
               other=sum(1 for s in aff if codes.get(s) not in (200, 503)),
               waits=[round(w * 1000, 1) for w in waits],
               normal_p50_ms=round((pct(normal, 50) or 0) * 1000, 2))
    procs.stop_all()
    return out


def rows(res, key_wait, key_nowait, L):
    for key, label in ((key_wait, "transactions wait (`ha_wait()`, "
                                  "`ha_failover()` suspends)"),
                       (key_nowait, "no waiting (`WITHOUT_WAIT`: 503 at once "
                                    "during the hunt, as before)")):
        rs = res[key]
        waits = [w for r in rs for w in r["waits"]]
        L.append(f"| {label} | {sum(r['affected'] for r in rs)} | "
                 f"{sum(r['ok'] for r in rs)} | "
                 f"{sum(r['refused'] for r in rs)} | "
                 f"{sum(r['other'] for r in rs)} | "
                 f"{pct(waits, 50) or 0:.0f} ms | {pct(waits, 99) or 0:.0f} ms "
                 f"| {max(waits) if waits else 0:.0f} ms |")


def render(res):
    head = ["| | affected requests | answered 200 | 503 | no answer / other "
            "| wait of those answered after waiting: median | p99 | max |",
            "|---|---|---|---|---|---|---|---|"]
    L = [BEGIN, "", "## 5. Waiting in a failover", "",
         f"`{res['command']}` — {res['started']}; the example config "
         f"(`config/kamailio.cfg`, tm) with oos-check {CHECK_MS} ms, "
         f"oos-force {FORCE_MS} ms, tm's `fr_timer` 1 s (`FR_MS`), a caller "
         f"sending {res['rate']} MESSAGE/s, {res['trials']} trials of each "
         "row. *Affected* requests: those sent from 1.2 s before the failure "
         "(the ones at the frozen member when it stopped, which only tm's "
         "`fr_timer` can end) until the pair was on the other member.", "",
         "**The active member frozen**, at a random moment of the probe "
         "period; the other member answers:", ""] + head
    rows(res, "wait", "nowait", L)
    sw = [r["switch_ms"] for r in res["wait"] + res["nowait"]]
    L += ["", f"Freeze to switch (RPC polling): median "
          f"{statistics.median(sw):.0f} ms, max {max(sw)} ms.", "",
          f"**Both members frozen**, the backup back {res['gap']} s later "
          "(the pair hunts meanwhile):", ""] + head
    rows(res, "wait_gap", "nowait_gap", L)
    sw = [r["switch_ms"] for r in res["wait_gap"] + res["nowait_gap"]]
    L += ["", f"Freeze to switch: median {statistics.median(sw):.0f} ms, "
          f"max {max(sw)} ms.", "",
          "What it means. A request at the frozen member waits tm's "
          "`fr_timer` (1 s) for its failure in any case; `ha_failover()` "
          "then waits for the verdict instead of taking the failure as one: "
          "the verification probe (or the probe already in flight) ends "
          "within oos-force, so those requests are answered up to oos-force "
          "later than when a failure alone moved the pair (before this "
          "release) — the price of one bad request never moving a pair. "
          "While the pair hunts, requests wait for the member it finds "
          "instead of being refused: in the second table the requests that "
          "arrived during the hunt got 503 without waiting, and 200 with "
          "it, each waiting at most the bound (`max_wait`, here "
          f"2 × oos-force + 200 ms = {2 * FORCE_MS + 200} ms).", "", END]
    return "\n".join(L) + "\n"


def write(out, section):
    text = out.read_text() if out.exists() else ""
    if BEGIN in text and END in text:
        a = text.index(BEGIN)
        b = text.index(END) + len(END) + 1
        text = text[:a] + section + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    out.write_text(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--gap", type=float, default=1.5,
                    help="seconds both members stay frozen (second table)")
    ap.add_argument("--out")
    a = ap.parse_args()
    res = dict(command=" ".join(["tests/bench/wait.py"] + sys.argv[1:]),
               started=time.strftime("%Y-%m-%d %H:%M:%S %Z"), rate=a.rate,
               trials=a.trials, gap=a.gap, wait=[], nowait=[], wait_gap=[],
               nowait_gap=[])
    for i in range(a.trials):
        for key, wait, gap in (("wait", True, None), ("nowait", False, None),
                               ("wait_gap", True, a.gap),
                               ("nowait_gap", False, a.gap)):
            with benchkit.Procs() as procs:
                r = trial(procs, WORK / f"{key}-{i}", wait, a.rate, i, gap)
            benchkit.log(f"wait: trial {i} {key}: {r}")
            res[key].append(r)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "results.json").write_text(json.dumps(res, indent=1))
    section = render(res)
    print(section)
    if a.out:
        write(Path(a.out), section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
