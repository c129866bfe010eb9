# SPDX-License-Identifier: GPL-2.0-or-later
"""make install into a DESTDIR: the module loads by its bare name from the
module folder Debian's kamailio searches; make uninstall removes it all."""

import subprocess
from pathlib import Path

from conftest import TOP, Kamailio, Peer, pairs_xml


def test_install_and_load_by_bare_name(procs, logdir):
    dest = logdir / "dest"
    r = subprocess.run(["make", "-s", "-C", str(TOP), "install",
                        f"DESTDIR={dest}", "PREFIX=/usr/local"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    arch = subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"],
                          capture_output=True, text=True).stdout.strip()
    moddir = dest / f"usr/lib/{arch}/kamailio/modules"
    assert (moddir / "ha_pair.so").is_file()
    # PREFIX moves the docs and shared files only
    assert (dest / "usr/local/share/doc/kamailio-ha-pair/ha_pair.md").is_file()
    assert (dest / "usr/local/share/kamailio-ha-pair/ha_pairs.xsd").is_file()
    assert not (dest / "usr/local/lib").exists()

    Peer(procs, logdir, "primary", "127.0.0.2")
    kam = Kamailio(procs, logdir, pairs_xml([(
        "sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060", {})]),
        defines={"HA_PAIR_SO": '"ha_pair.so"',
                 "MPATH": f'"{moddir}:/usr/lib/{arch}/kamailio/modules"'})
    # the only ha_pair.so on the module path is the installed one
    system = Path(f"/usr/lib/{arch}/kamailio/modules/ha_pair.so")
    assert not system.exists(), \
        "an ha_pair.so is installed system-wide: this test cannot tell them apart"
    assert kam.show("sipserver1")["active"] == "primary"

    r = subprocess.run(["make", "-s", "-C", str(TOP), "uninstall",
                        f"DESTDIR={dest}", "PREFIX=/usr/local"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    left = [p for p in dest.rglob("*") if p.is_file()]
    assert left == []
