# SPDX-License-Identifier: GPL-2.0-or-later
"""A bad pairs file: kamailio refuses to start, and says file, line, why."""

import os
import re
import subprocess
import time

import pytest

from conftest import (TOP, Kamailio, Peer, pairs_xml, parse_kamcmd,
                      send_request)

BAD = """<ha_pairs>
  <pair name="sipserver1">
    <primary uri="sip:127.0.0.2:5060"/>
  </pair>
</ha_pairs>
"""


def test_bad_pairs_file_stops_startup(procs, logdir):
    kam = Kamailio(procs, logdir, BAD, expect_start=False)
    try:
        rc = kam.proc.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    assert rc is not None and rc != 0, "kamailio started with a bad file"
    log = kam.log_text()
    assert f"{kam.pairs}:2: " in log, log[-2000:]
    assert "missing <backup>" in log, log[-2000:]
    assert not kam.ctl.exists()


# ---- every malformed file under tests/data/bad ---------------------------

BAD_DIR = TOP / "tests" / "data" / "bad"


def expected_errors():
    """{file: (line, reason)} from the unit test's table (one source of the
    expected messages: tests/unit/test_ha_config_invalid.c, _bad[])."""
    src = (TOP / "tests" / "unit" / "test_ha_config_invalid.c").read_text()
    table = src[src.index("static const bad_case_t _bad[] = {"):
                src.index("#define N_BAD")]
    out = {}
    for m in re.finditer(r'\{"([^"]+)",\s*(\d+),\s*((?:"(?:[^"\\]|\\.)*"'
                         r'\s*)+)\}', table):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(3))
        out[m.group(1)] = (int(m.group(2)), "".join(parts))
    return out


EXPECTED = expected_errors()
BAD_FILES = sorted(p.name for p in BAD_DIR.iterdir())


def test_every_bad_file_has_its_expected_message():
    assert len(BAD_FILES) >= 40
    assert sorted(EXPECTED) == BAD_FILES
    assert all("\\" not in r for _, r in EXPECTED.values())


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_file_refused_at_startup(procs, logdir, name):
    path = BAD_DIR / name
    line, reason = EXPECTED[name]
    kam = Kamailio(procs, logdir, None, pairs_file=path, expect_start=False)
    try:
        rc = kam.proc.wait(10)  # never a hang
    except subprocess.TimeoutExpired:
        rc = None
    log = kam.log_text()
    assert rc is not None and rc != 0, "kamailio started with a bad file"
    assert f"{path}:{line}: " in log, log[-2000:]
    i = log.index(f"{path}:{line}: ")
    assert reason in log[i:log.index("\n", i)], log[i:i + 500]
    assert not kam.ctl.exists()


def pair_states(kam):
    return [(p["name"], p["state"], p["active"], p["switchovers"])
            for p in parse_kamcmd(kam.rpc("ha_pair.list").stdout)]


def test_bad_files_refused_on_reload(procs, logdir):
    """Each bad file in turn on ha_pair.reload: the fault names the file,
    the line and the same reason; the running pairs stay as they were and
    go on routing."""
    good = logdir / "good.xml"
    good.write_text(pairs_xml([("sipserver1", "sip:127.0.0.2:5060",
                                "sip:127.0.0.3:5060", {"oos-check": "1s"})]))
    link = logdir / "pairs.xml"
    link.symlink_to(good)
    pri = Peer(procs, logdir, "primary", "127.0.0.2")
    Peer(procs, logdir, "backup", "127.0.0.3")
    kam = Kamailio(procs, logdir, None, pairs_file=link)
    assert kam.wait(lambda: kam.show("sipserver1")["members"][0]["state"]
                    == "up", 5) is not None
    kam.rpc("ha_pair.switchover", "sipserver1", "backup")
    before = pair_states(kam)
    wrong = []
    for name in BAD_FILES:
        line, reason = EXPECTED[name]
        tmp = logdir / "pairs.tmp"
        tmp.symlink_to(BAD_DIR / name)
        os.replace(tmp, link)
        t0 = time.monotonic()
        r = kam.rpc("ha_pair.reload", check=False)
        out = r.stdout + r.stderr
        took = time.monotonic() - t0
        if (f"error: 500 - {link}:{line}: " not in out or reason not in out
                or took > 5 or pair_states(kam) != before):
            wrong.append((name, out[:300], round(took, 2)))
    assert wrong == []
    # still routing, to the member that was active before
    assert send_request(procs, logdir, "127.0.0.10", 5090, user="r1") == 200
    assert pri.received("MESSAGE sip:r1@") == 0
    # and a good file is taken again
    tmp = logdir / "pairs.tmp"
    tmp.symlink_to(good)
    os.replace(tmp, link)
    assert "kept: 1" in kam.rpc("ha_pair.reload").stdout


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_unreadable_file(procs, logdir):
    """A pairs file kamailio may not read (it runs as nobody here; root
    reads anything): refused at start-up, and on reload with the running
    pairs kept."""
    os.chmod(logdir, 0o777)
    path = logdir / "pairs.xml"
    path.write_text(pairs_xml([("sipserver1", "sip:127.0.0.2:5060",
                                "sip:127.0.0.3:5060", {})]))
    os.chmod(path, 0)
    kam = Kamailio(procs, logdir, None, pairs_file=path, expect_start=False,
                   wrapper=NOBODY)
    assert kam.proc.wait(10) != 0
    assert f"{path}:0: " in kam.log_text()
    assert "Permission denied" in kam.log_text(), kam.log_text()[-2000:]

    os.chmod(path, 0o644)
    kam = Kamailio(procs, logdir, None, pairs_file=path, wrapper=NOBODY)
    before = pair_states(kam)
    os.chmod(path, 0)
    out = kam.rpc("ha_pair.reload", check=False).stdout
    assert f"error: 500 - {path}:0: " in out and "Permission denied" in out, \
        out
    assert pair_states(kam) == before
