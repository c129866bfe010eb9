#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""How long a request waits in a real failover, and what the same failover
costs without waiting.

    tests/bench/wait.py [--trials N] [--rate R] [--out docs/benchmarks.md]

The example config (config/kamailio.cfg: tm, ha_failover(), ha_wait()) in
front of two sipp members, oos-check 1 s, oos-force 500 ms; a caller sends
a MESSAGE every 1/R s and records, per request, its final reply and when it
came. In each trial the active member is frozen (SIGSTOP) at a random
moment of the probe period; the pair finds the other member, and every
request that was sent to the frozen member or arrived while the pair hunted
is "affected". Run twice per trial: with the example config as it is
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

from faults import Caller  # noqa: E402

import bench  # noqa: E402

CFG = TOP / "config" / "kamailio.cfg"
WORK = bench.WORK / "wait"
CHECK_MS, FORCE_MS = 1000, 500
BEGIN, END = "<!-- wait:begin -->", "<!-- wait:end -->"


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100.0 * (len(xs) - 1))))]


def trial(procs, wd, wait, rate, seed):
    rnd = random.Random(seed)
    wd.mkdir(parents=True, exist_ok=True)
    pairs = wd / "ha_pairs.xml"
    pairs.write_text(
        '<ha_pairs>\n  <pair name="sipserver1" '
        f'oos-check="{CHECK_MS}ms" oos-force="{FORCE_MS}ms">\n'
        '    <primary uri="sip:127.0.0.2:5060"/>\n'
        '    <backup uri="sip:127.0.0.3:5060"/>\n  </pair>\n</ha_pairs>\n')
    pri = bench.sipp_server(procs, wd, "primary", "127.0.0.2", 5060,
                            trace=False, scenario="uas.xml")
    bench.sipp_server(procs, wd, "backup", "127.0.0.3", 5060, trace=False,
                      scenario="uas.xml")
    defines = {"PAIRS_FILE": f'"{pairs}"', "OOS_CHECK": CHECK_MS,
               "OOS_FORCE": FORCE_MS}
    if not wait:
        defines["WITHOUT_WAIT"] = None
    kam = bench.Kamailio(procs, wd, defines, cfg=CFG)
    time.sleep(1.5)
    caller = Caller(ip="127.0.0.10", port=5091, period=1.0 / rate,
                    ruri="sip:svc@127.0.0.1:5060", answer_within=5.0)
    time.sleep(2.0 + rnd.random() * CHECK_MS / 1000.0)
    t_freeze = time.monotonic()
    pri.send_signal(19)  # SIGSTOP
    # until the pair is on the backup, then 2 s more
    deadline = time.monotonic() + 6
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


def render(res):
    L = [BEGIN, "", "## 5. Waiting in a failover", "",
         f"`{res['command']}` — {res['started']}; the example config "
         f"(`config/kamailio.cfg`, tm) with oos-check {CHECK_MS} ms, "
         f"oos-force {FORCE_MS} ms, tm's `fr_timer` 1 s (`FR_MS`), a caller "
         f"sending {res['rate']} MESSAGE/s, the active member frozen at a "
         f"random moment of the probe period, {res['trials']} trials each. "
         "*Affected* requests: those sent from 1.2 s before the freeze "
         "(the ones at the frozen member when it stopped, which only tm's "
         "`fr_timer` can end) until the pair was on the other member.", "",
         "| | affected requests | answered 200 | 503 | no answer / other "
         "| wait of those answered after waiting: median | p99 | max |",
         "|---|---|---|---|---|---|---|---|"]
    for key, label in (("wait", "transactions wait (`ha_wait()`, "
                                "`ha_failover()` suspends)"),
                       ("nowait", "no waiting (`WITHOUT_WAIT`: 503 during "
                                  "the hunt, as before)")):
        rs = res[key]
        waits = [w for r in rs for w in r["waits"]]
        L.append(f"| {label} | {sum(r['affected'] for r in rs)} | "
                 f"{sum(r['ok'] for r in rs)} | "
                 f"{sum(r['refused'] for r in rs)} | "
                 f"{sum(r['other'] for r in rs)} | "
                 f"{pct(waits, 50) or 0:.0f} ms | {pct(waits, 99) or 0:.0f} ms "
                 f"| {max(waits) if waits else 0:.0f} ms |")
    sw = [r["switch_ms"] for r in res["wait"] + res["nowait"]]
    L += ["", f"Time from the freeze to the switch (seen by RPC polling): "
          f"median {statistics.median(sw):.0f} ms, max {max(sw)} ms. A "
          "request that was at the frozen member waits tm's `fr_timer` "
          "(1 s) for its failure, then at most the verification probe "
          "(oos-force) and the hunt; a request that arrives during the hunt "
          "waits until the pair has the other member. Before this release "
          "`ha_failover()` took the first failure as the verdict: the same "
          "requests were retried at once (the wait of the verification "
          "probe is what a wrong switchover used to save), and requests "
          "arriving during the hunt were refused 503 after one 30 ms sleep "
          "of a worker; the `WITHOUT_WAIT` row shows that cost today.", "",
          END]
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
    ap.add_argument("--out")
    a = ap.parse_args()
    res = dict(command=" ".join(["tests/bench/wait.py"] + sys.argv[1:]),
               started=time.strftime("%Y-%m-%d %H:%M:%S %Z"), rate=a.rate,
               trials=a.trials, wait=[], nowait=[])
    for i in range(a.trials):
        for key, wait in (("wait", True), ("nowait", False)):
            with bench.Procs() as procs:
                r = trial(procs, WORK / f"{key}-{i}", wait, a.rate, i)
            bench.log(f"wait: trial {i} {key}: {r}")
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
