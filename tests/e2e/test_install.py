# SPDX-License-Identifier: GPL-2.0-or-later
"""make install into a DESTDIR: the module loads by its bare name from the
module folder of the kamailio under test (Debian's for 5.6, the private
prefix's for 6.0); make uninstall removes it all."""

import subprocess
from pathlib import Path

from conftest import (KAMAILIO_MODDIR, KAMAILIO_TARGET, TOP, Kamailio, Peer,
                      pairs_xml)


def test_install_and_load_by_bare_name(procs, logdir):
    dest = logdir / "dest"
    make = ["make", "-s", "--no-print-directory", "-C", str(TOP),
            f"KAMAILIO={KAMAILIO_TARGET}", f"DESTDIR={dest}",
            "PREFIX=/usr/local"]
    r = subprocess.run(make + ["install"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    # into that kamailio's own module folder (under DESTDIR), no other
    moddir = dest / KAMAILIO_MODDIR.relative_to("/")
    assert (moddir / "ha_pair.so").is_file()
    assert [p for p in dest.rglob("ha_pair.so")] == [moddir / "ha_pair.so"]
    # PREFIX moves the docs and shared files only
    assert (dest / "usr/local/share/doc/kamailio-ha-pair/ha_pair.md").is_file()
    assert (dest / "usr/local/share/kamailio-ha-pair/ha_pairs.xsd").is_file()
    assert not (dest / "usr/local/lib").exists()

    Peer(procs, logdir, "primary", "127.0.0.2")
    kam = Kamailio(procs, logdir, pairs_xml([(
        "sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060", {})]),
        defines={"HA_PAIR_SO": '"ha_pair.so"',
                 "MPATH": f'"{moddir}:{KAMAILIO_MODDIR}"'})
    # the only ha_pair.so on the module path is the installed one
    installed = Path(KAMAILIO_MODDIR) / "ha_pair.so"
    assert not installed.exists(), \
        (f"{installed} exists (make install without DESTDIR?): this test "
         f"cannot tell it from the one it installed")
    assert kam.show("sipserver1")["active"] == "primary"

    r = subprocess.run(make + ["uninstall"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    left = [p for p in dest.rglob("*") if p.is_file()]
    assert left == []
