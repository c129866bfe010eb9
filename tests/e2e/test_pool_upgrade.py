# SPDX-License-Identifier: GPL-2.0-or-later
"""A rolling upgrade of a running pool: one proxy still runs the ha_pair
of before signed pool messages (built here from the repository's history,
OLD_COMMIT, with the example config of that commit), the other the
current one. They cannot talk: the old one answers 400 to the new
envelope, the new one drops the old one's unsigned messages. So
replication pauses, and each stays right on its own by its probes: no
switchover at start, and when the primary dies each finds the backup by
its own probing, once (docs/operations.md, "Upgrading a running pool")."""

import subprocess
import time
from pathlib import Path

import pytest

import conftest
from conftest import KAMAILIO_TARGET, TOP, Kamailio, dmq_addr, pairs_xml

# the last commit of ha_pair without signed pool messages
OLD_COMMIT = "1fa797b9d4e44e2b8e4edadd4a420ea32744f0f2"
PAIR = "p1"
PRI, BAK = ("127.0.0.2", 5060), ("127.0.0.3", 5060)
PROXIES = ["127.0.0.1", "127.0.0.21"]
PAIRS = pairs_xml([(PAIR, "sip:127.0.0.2:5060", "sip:127.0.0.3:5060",
                    {"oos-check": "1s", "oos-force": "500ms"})])


def old_commit():
    """OLD_COMMIT, checked to be in this clone's history."""
    r = subprocess.run(["git", "-C", str(TOP), "rev-parse", "--verify",
                        "--quiet", OLD_COMMIT + "^{commit}"],
                       capture_output=True, text=True)
    assert r.returncode == 0, (
        f"the old ha_pair ({OLD_COMMIT[:7]}) is not in this clone's "
        f"history: a shallow clone? (git fetch --unshallow)")
    return r.stdout.strip()


@pytest.fixture(scope="module")
def old_module():
    """(ha_pair.so, kamailio.cfg) of OLD_COMMIT, built once per Kamailio
    target under build/old/ (its own folder: nothing of the current build
    is touched)."""
    commit = old_commit()
    corepath = (TOP / "build" / "6.0" / "kamailio" / "src"
                if KAMAILIO_TARGET == "6.0" else
                TOP / "build" / "kamailio" / "src")
    d = TOP / "build" / "old" / KAMAILIO_TARGET / commit[:12]
    so = d / "modules" / "ha_pair" / "ha_pair.so"
    if not so.exists():
        d.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(TOP), "archive", commit, "modules/ha_pair",
             "config", "scripts/xsd2c.sh"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(d)], input=archive.stdout,
                       check=True)
        r = subprocess.run(["make", "-j2", "-C", str(d / "modules" /
                                                     "ha_pair"),
                            f"COREPATH={corepath}", f"HA_TOP={d}"],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0 and so.exists(), r.stdout[-3000:] + \
            r.stderr[-3000:]
    return so, d / "config" / "kamailio.cfg"


def test_mixed_pool_converges_by_probes(procs, logdir, udp_member,
                                        old_module):
    old_so, old_cfg = old_module
    primary = udp_member(*PRI)
    udp_member(*BAK)
    kams = []
    for i, (ip, cfg, so) in enumerate(
            [(PROXIES[0], old_cfg, old_so),
             (PROXIES[1], conftest.CFG, conftest.MODULE)]):
        d = logdir / f"proxy{i}"
        d.mkdir()
        other = PROXIES[1 - i]
        kams.append(Kamailio(
            procs, d, PAIRS, cfg=Path(cfg), listen=f"udp:{ip}:5060",
            defines={"HA_PAIR_SO": f'"{so}"', "WITH_DMQ": None,
                     "DMQ_SERVER": f'"{dmq_addr(ip)}"',
                     "DMQ_NOTIFY": f'"{dmq_addr(other)}"'}))
    old, new = kams
    for k in kams:
        # dmq itself works between them: only ha_pair's messages differ
        assert k.wait(lambda: conftest.active_nodes(k) == 2, 15,
                      step=0.1) is not None
    # each sees the other's start-up sync and drops or refuses it
    assert new.wait(lambda: new.stat("peer_rejected_unsigned") >= 1,
                    5) is not None, new.log_text()[-2000:]
    for k in kams:
        assert k.wait(lambda: k.show(PAIR)["syncing"] == "no", 3) \
            is not None
        p = k.show(PAIR)
        assert (p["active"], p["switchovers"]) == ("primary", "0"), p
    # the primary dies: each proxy finds the backup by its own probes
    # (2 x oos-check + oos-force at most), once
    t0 = time.monotonic()
    primary.answers = False
    for k in kams:
        assert k.wait(lambda: k.show(PAIR)["active"] == "backup", 5) \
            is not None, k.show(PAIR)
    took = time.monotonic() - t0
    time.sleep(1.5)  # an oos-check and more: nothing moves again
    for k in kams:
        p = k.show(PAIR)
        assert (p["active"], p["switchovers"],
                p["last_switchover_reason"]) == ("backup", "1", "probe"), p
    # the old one's change broadcast was dropped by the new one, unread
    assert new.stat("peer_changes_received") == 0
    assert new.stat("peer_rejected_unsigned") >= 2
    assert took < 2 * 1.0 + 0.5 + 0.5
