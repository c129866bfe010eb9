# SPDX-License-Identifier: GPL-2.0-or-later
"""make run's live status (scripts/run.sh): on a terminal one line per pair
redrawn in place with a line of history per change; into a pipe only the
changes; a simulated member that exits is named plainly. And
scripts/ha_status: every pair as a table from a running kamailio."""

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import SANITIZE, TOP, Kamailio, Peer, pairs_xml, require_free

RUN = TOP / "scripts" / "run.sh"
TIME = re.compile(r"^\d\d:\d\d:\d\d  ", re.M)

pytestmark = pytest.mark.skipif(
    SANITIZE, reason="make run starts kamailio without the sanitizer runtimes")


def wait_for(pred, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return None


def pids_of(text):
    """The PIDs make run printed for its sipps and kamailio."""
    # "(pid N)" after each sipp, "pid N," for kamailio
    return [int(p) for p in re.findall(r"\bpid (\d+)\b", text)]


def kill_pids(pids):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_run_into_a_pipe_prints_changes_only(procs, logdir):
    for ip in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        require_free(ip, 5060)
    out = logdir / "run.out"
    p = procs.start(["bash", str(RUN)], out, cwd=TOP)
    text = lambda: out.read_text(errors="replace")  # noqa: E731
    started = []
    try:
        assert wait_for(lambda: "Ctrl-C here stops" in text(), 15), text()
        started = pids_of(text())
        pri_pid = started[0]
        time.sleep(4)  # four refreshes: one line, not four
        hist = TIME.findall(text())
        assert len(hist) == 1, text()
        assert re.search(r"sipserver1 CHECK active=primary primary up "
                         r"backup up switchovers 0", text()), text()
        os.kill(pri_pid, signal.SIGKILL)
        assert wait_for(lambda: f"simulated primary (sipp, pid {pri_pid}) "
                        f"has exited" in text(), 5), text()
        assert wait_for(lambda: re.search(
            r"active=backup primary down backup up switchovers 1", text()),
            8), text()
        time.sleep(3)
        lines = [l for l in text().splitlines() if TIME.match(l + "\n")]
        # start, the exit, the switchover (FORCE in between, at most)
        assert 3 <= len(lines) <= 5, lines
        assert "\033[" not in text()
    finally:
        procs.stop(p, signal.SIGINT)
        kill_pids(started)


def test_run_on_a_terminal_redraws_in_place(procs, logdir):
    if not shutil.which("tmux"):
        pytest.fail("tmux is missing (make deps installs it)")
    for ip in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        require_free(ip, 5060)
    sess = f"ha_pair_run_{os.getpid()}"
    sock = str(logdir / "tmux.sock")
    tmux = ["tmux", "-S", sock]
    subprocess.run(tmux + ["new-session", "-d", "-s", sess, "-x", "220",
                           "-y", "150", f"cd {TOP} && bash {RUN}"], check=True)
    screen = lambda: subprocess.run(  # noqa: E731
        tmux + ["capture-pane", "-p", "-t", sess], capture_output=True,
        text=True).stdout
    # with the scrollback: the PIDs, printed first, may have scrolled off
    # the pane (ha_pair.list's reply fills most of it)
    scrollback = lambda: subprocess.run(  # noqa: E731
        tmux + ["capture-pane", "-p", "-S", "-", "-t", sess],
        capture_output=True, text=True).stdout
    started = []
    try:
        assert wait_for(lambda: "Ctrl-C here stops" in screen(), 15), screen()
        started = pids_of(scrollback())
        assert len(started) == 3, scrollback()
        time.sleep(4)
        s = screen()
        rows = [l for l in s.splitlines()
                if "sipserver1" in l and TIME.match(l + "\n")]
        # one history line (the start) and the live line below it (with
        # the round-trip times): not a line per second
        assert len(rows) == 2, s
        assert re.search(r"primary up +\d+ms", rows[1]), s
        os.kill(started[0], signal.SIGKILL)
        assert wait_for(lambda: "has exited" in screen(), 5), screen()
        assert wait_for(lambda: "switchovers 1" in screen(), 8), screen()
        time.sleep(2)
        s = screen()
        live = [l for l in s.splitlines()
                if "sipserver1" in l and TIME.match(l + "\n")][-1]
        assert "active=backup" in live and "switchovers 1" in live, s
        # the live line is the last line of output
        assert s.rstrip().splitlines()[-1] == live, s
    finally:
        subprocess.run(tmux + ["send-keys", "-t", sess, "C-c"])
        time.sleep(1)
        subprocess.run(tmux + ["kill-server"], capture_output=True)
        kill_pids(started)
        # whatever make run started and the PIDs above missed (its kamailio
        # uses the control socket run/kamailio_ctl of this tree)
        r = subprocess.run(["pgrep", "-f", f"{TOP}/run/"],
                           capture_output=True, text=True)
        kill_pids([int(p) for p in r.stdout.split()])


def test_ha_status_table(procs, logdir):
    Peer(procs, logdir, "primary", "127.0.0.2")
    kam = Kamailio(procs, logdir, pairs_xml([
        ("sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
         {"oos-check": "1s", "oos-force": "500ms"}),
        ("sipserver2", "sip:127.0.0.3:5060", "sip:127.0.0.2:5060",
         {"oos-check": "1s", "oos-force": "500ms"})]))
    assert kam.wait(lambda: kam.show("sipserver2")["active"] == "backup",
                    4) is not None
    r = subprocess.run([str(TOP / "scripts" / "ha_status"), "-s",
                        f"unix:{kam.ctl}"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:5] == ["PAIR", "STATE", "ACTIVE", "PRIMARY",
                                    "BACKUP"], r.stdout
    rows = {l.split()[0]: l.split() for l in lines[1:]}
    assert rows["sipserver1"][:4] == ["sipserver1", "CHECK", "primary", "up"]
    assert rows["sipserver2"][:3] == ["sipserver2", "CHECK", "backup"]
    assert "probe" in r.stdout or "start" in r.stdout
    # a socket with nobody behind it: said plainly, non-zero
    r = subprocess.run([str(TOP / "scripts" / "ha_status"), "-s",
                        f"unix:{logdir}/nothing"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode != 0 and "no answer from" in r.stderr
