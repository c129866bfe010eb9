#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make test-repeat: run end-to-end tests again and again, pinned to two
CPUs with stress-ng busy on one of them (or without load), and print per
test: runs, passes, failures, and its slowest wait against its bound.

    repeat.py [--runs N] [--load | --no-load] [--out FILE] [pytest args]

Each run is one pytest over the given tests (all of tests/e2e when none)
with a JUnit report and a record of every wait (HA_WAIT_RECORD, see
tests/e2e/waits.py) under build/repeat/<stamp>/run-NN/. The tests log to
tests/e2e/logs-<version> (HA_E2E_LOGS: another folder), so that a 5.6
and a 6.0 repeat can run at once; the logs of a test that failed are
copied to its run's folder, since the next run overwrites them. The
table goes to stdout and to FILE (markdown, default
build/repeat/<stamp>/table.md): docs/reliability.md's repeat tables are
such files. Not part of make test."""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
E2E = TOP / "tests" / "e2e"
# the tests' logs: a folder per Kamailio version, so that a 5.6 and a 6.0
# repeat can run at once (each in its own network namespace) without
# overwriting each other's (tests/e2e/conftest.py reads HA_E2E_LOGS)
LOGS = Path(os.environ.get("HA_E2E_LOGS") or
            E2E / f"logs-{os.environ.get('HA_KAMAILIO', '5.6')}")
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")


def cpus():
    """The two CPUs the tests are pinned to: the first two this process
    may use (a one-CPU machine: that one twice)."""
    mine = sorted(os.sched_getaffinity(0))
    return (mine + mine)[:2]


def start_load(cpu, folder):
    """stress-ng busy on one CPU, in its own process group; None when
    stress-ng is missing (make deps installs it)."""
    exe = shutil.which("stress-ng")
    if exe is None:
        sys.exit("repeat: stress-ng is missing: run 'make deps'")
    log = open(folder / "stress-ng.log", "w")
    p = subprocess.Popen([exe, "--cpu", "1", "--taskset", str(cpu),
                          "--timeout", "0"], stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    time.sleep(0.5)
    if p.poll() is not None:
        sys.exit(f"repeat: stress-ng did not start: see {log.name}")
    return p


def stop(p, sig=signal.SIGTERM, grace=10):
    """Stop a process group we started, by its PID: sig, then KILL after
    grace seconds."""
    if p is None or p.poll() is not None:
        return
    os.killpg(p.pid, sig)
    try:
        p.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(5)


class Stopped(Exception):
    pass


def on_signal(signum, frame):
    raise Stopped(signal.Signals(signum).name)


def run_pytest(cmd, env, log):
    """Run one pytest in a session of its own; when this repeat is
    stopped (SIGTERM, SIGINT), pytest gets SIGINT, so that its fixtures
    stop what the test started, and is killed if it has not ended 60 s
    later. Returns its exit status."""
    # SIGINT back to its default: a job started in the background by a
    # shell without job control has it ignored, and pytest would inherit
    # that (and never stop on it)
    p = subprocess.Popen(cmd, cwd=E2E, env=env, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                          signal.SIG_DFL))
    try:
        return p.wait()
    except Stopped:
        stop(p, signal.SIGINT, 60)
        raise


def outcomes(junit):
    """{test id: (outcome, message)} of one run's JUnit report (outcome:
    passed, failed, error or skipped)."""
    out = {}
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return out
    for case in root.iter("testcase"):
        path = case.get("classname", "").replace(".", "/") + ".py"
        tid = f"{Path(path).name}::{case.get('name')}"
        result, msg = "passed", ""
        for tag in ("failure", "error", "skipped"):
            el = case.find(tag)
            if el is not None:
                result = "failed" if tag == "failure" else tag
                msg = (el.get("message") or "").splitlines()[0][:200] \
                    if el.get("message") else ""
                break
        # a teardown error after a pass is the test's failure
        if tid in out and out[tid][0] != "passed":
            continue
        out[tid] = (result, msg)
    return out


def waits(record):
    """[(test id, where, took or None, bound)] of one run's waits."""
    out = []
    if not record.exists():
        return out
    for line in record.read_text().splitlines():
        try:
            w = json.loads(line)
        except ValueError:
            continue
        out.append((w["test"], w["where"], w["took"], w["bound"]))
    return out


def slowest(ws):
    """The wait of ws that came closest to its bound (a timeout counts as
    its whole bound and more), as (ratio, took, bound, where)."""
    best = None
    for _, where, took, bound in ws:
        if not bound:
            continue
        ratio = 1.0 + 1e-9 if took is None else took / bound
        if best is None or ratio > best[0]:
            best = (ratio, took, bound, where)
    return best


def fmt_wait(w):
    if w is None:
        return "-"
    ratio, took, bound, where = w
    if took is None:
        return f"timed out / {bound:g} s ({where})"
    return f"{took:.2f} / {bound:g} s ({ratio:.0%}, {where})"


def by_file(results, all_waits):
    """results and waits with each test id replaced by its file: one row
    a file (its runs: each test's outcomes together)."""
    res, ws = {}, []
    for tid, rs in results.items():
        res.setdefault(tid.split("::")[0], []).extend(rs)
    for tid, where, took, bound in all_waits:
        ws.append((tid.split("::")[0], where, took, bound))
    return res, ws


def table(results, all_waits, runs, load, version):
    """The markdown table of a repeat: one row a test."""
    lines = [f"Kamailio {version}, {runs} runs, "
             f"{'stress-ng --cpu 1 on one of the two CPUs' if load else 'no load'}"
             f" (taskset to two CPUs)", "",
             "| test | runs | passed | failed | skipped | slowest wait / bound |",
             "|---|---|---|---|---|---|"]
    for tid in sorted(results):
        rs = results[tid]
        n = len(rs)
        c = {k: sum(1 for r, _ in rs if r == k)
             for k in ("passed", "failed", "error", "skipped")}
        ws = [w for w in all_waits if w[0] == tid]
        lines.append(f"| `{tid}` | {n} | {c['passed']} | "
                     f"{c['failed'] + c['error']} | {c['skipped']} | "
                     f"{fmt_wait(slowest(ws))} |")
    return "\n".join(lines) + "\n"


def table_of(folder, load, per_file=False):
    """Print the table of a repeat's folder from its runs' reports (per
    test, or per_file)."""
    results, all_waits, failures = {}, [], []
    runs = sorted(d for d in folder.glob("run-*") if
                  (d / "junit.xml").exists() and not (d / "stopped").exists())
    for rdir in runs:
        for tid, (res, msg) in outcomes(rdir / "junit.xml").items():
            results.setdefault(tid, []).append((res, msg))
            if res in ("failed", "error"):
                failures.append((rdir.name, tid, msg))
        all_waits += waits(rdir / "waits.jsonl")
    version = folder / "version"
    if per_file:
        results, all_waits = by_file(results, all_waits)
    print(table(results, all_waits, len(runs), load,
                version.read_text().strip() if version.exists()
                else kamailio_version()))
    for r, t, m in failures:
        print(f"- {r}: `{t}`: {m}")
    return 0


def kamailio_version():
    return os.environ.get("HA_KAMAILIO", "5.6")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--load", dest="load", action="store_true", default=True)
    g.add_argument("--no-load", dest="load", action="store_false")
    ap.add_argument("--out", help="the markdown table's file")
    ap.add_argument("--stop-on-failure", action="store_true",
                    help="stop after the first run with a failure")
    ap.add_argument("--by-file", action="store_true",
                    help="with --table-of: one row a test file (its tests' "
                    "outcomes together)")
    ap.add_argument("--table-of", metavar="DIR",
                    help="print the table of an earlier repeat's folder "
                    "(build/repeat/<stamp>; one stopped early too) and "
                    "run nothing")
    args, pytest_args = ap.parse_known_args()
    if args.table_of:
        return table_of(Path(args.table_of), args.load, args.by_file)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = TOP / "build" / "repeat" / stamp
    folder.mkdir(parents=True)
    (folder / "version").write_text(kamailio_version() + "\n")
    out = Path(args.out) if args.out else folder / "table.md"
    pin = cpus()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    load = start_load(pin[1], folder) if args.load else None
    results, all_waits, failures = {}, [], []
    completed = 0
    try:
        for run in range(1, args.runs + 1):
            rdir = folder / f"run-{run:02d}"
            rdir.mkdir()
            env = dict(os.environ, HA_WAIT_RECORD=str(rdir / "waits.jsonl"),
                       HA_E2E_LOGS=str(LOGS))
            cmd = (["taskset", "-c", ",".join(map(str, sorted(set(pin)))),
                    PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    f"--junitxml={rdir / 'junit.xml'}"] + pytest_args)
            t0 = time.monotonic()
            with open(rdir / "pytest.log", "w") as log:
                rc = run_pytest(cmd, env, log)
            took = time.monotonic() - t0
            completed += 1
            got = outcomes(rdir / "junit.xml")
            all_waits += waits(rdir / "waits.jsonl")
            bad = []
            for tid, (res, msg) in got.items():
                results.setdefault(tid, []).append((res, msg))
                if res in ("failed", "error"):
                    bad.append(tid)
                    name = tid.split("::", 1)[1]
                    if (LOGS / name).exists():
                        shutil.copytree(LOGS / name, rdir / name,
                                        dirs_exist_ok=True)
                    failures.append((run, tid, msg, rdir))
            print(f"repeat: run {run}/{args.runs}: {len(got)} tests, "
                  f"{len(bad)} failed, {took:.0f} s (exit {rc})"
                  + "".join(f"\n  FAILED {t} (logs {rdir / t.split('::')[1]})"
                            for t in bad), flush=True)
            if not got:
                print(f"repeat: run {run} reported no test: see "
                      f"{rdir / 'pytest.log'}", flush=True)
            # the table so far, in case the repeat is stopped early
            out.write_text(table(results, all_waits, run, args.load,
                                 kamailio_version()))
            if bad and args.stop_on_failure:
                break
    except Stopped as e:
        # the interrupted run is not counted (nor by --table-of)
        (rdir / "stopped").write_text(f"{e}\n")
        print(f"repeat: stopped ({e}) during run {run}; the table has the "
              f"runs before it", flush=True)
    finally:
        stop(load)
    text = table(results, all_waits, completed, args.load,
                 kamailio_version())
    if failures:
        text += "\nFailures:\n\n" + "".join(
            f"- run {r}: `{t}`: {m} (logs: {d})\n"
            for r, t, m, d in failures)
    out.write_text(text)
    print(text)
    print(f"repeat: table in {out}; runs under {folder}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
