# SPDX-License-Identifier: GPL-2.0-or-later
"""make deb: the Debian package of the module. Its fields and files are
what an operator expects, lintian finds no error, and the module it ships
loads by its bare name (mpath on a dpkg-deb -x copy) into Debian's kamailio
with the example config it ships. Nothing is installed on the host (that is
make test-deb-install)."""

import re
import subprocess
from pathlib import Path

import pytest

from conftest import KAMAILIO_TARGET, SANITIZE, TOP, Kamailio, Peer, pairs_xml

PKG = "kamailio-ha-pair-module"

pytestmark = pytest.mark.skipif(
    SANITIZE, reason="make deb packages the plain build, not SANITIZE=1")


def arch(q):
    return subprocess.run(["dpkg-architecture", f"-q{q}"], capture_output=True,
                          text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def deb():
    r = subprocess.run(["make", "-s", "-C", str(TOP), "deb",
                        f"KAMAILIO={KAMAILIO_TARGET}"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    path = Path(r.stdout.strip().splitlines()[-1])
    assert path.is_file() and path.parent == TOP / "build" / "deb", path
    return path


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", str(deb), name],
                          capture_output=True, text=True,
                          check=True).stdout.strip()


def kamailio_version():
    """The Debian version of the kamailio the package is for: the installed
    package's (5.6), Debian 13's whose source make deps built (6.0)."""
    return subprocess.run(["make", "-s", "-C", str(TOP),
                           "deb-kamailio-version",
                           f"KAMAILIO={KAMAILIO_TARGET}"],
                          capture_output=True, text=True,
                          check=True).stdout.strip()


def test_deb_fields(deb):
    kver = kamailio_version()
    if KAMAILIO_TARGET == "5.6":
        assert kver == subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "kamailio"],
            capture_output=True, text=True, check=True).stdout.strip()
    else:
        assert kver.startswith(KAMAILIO_TARGET + "."), kver
    assert field(deb, "Package") == PKG
    assert field(deb, "Architecture") == arch("DEB_HOST_ARCH")
    assert field(deb, "Section") == "net"
    assert field(deb, "Maintainer")
    assert field(deb, "Description")
    # the exact kamailio it was built against, and libxml2 by shlibs
    deps = [d.strip() for d in field(deb, "Depends").split(",")]
    assert f"kamailio (= {kver})" in deps, deps
    assert any(d.startswith("libxml2") for d in deps), deps
    version = field(deb, "Version")
    assert version.endswith("+kamailio" + kver.split(":")[-1]
                            .replace("-", ".")), version
    assert deb.name == f"{PKG}_{version}_{arch('DEB_HOST_ARCH')}.deb"


def test_deb_files(deb):
    out = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True,
                         text=True, check=True).stdout
    files = {}
    for line in out.splitlines():
        mode, owner, _, _, _, path = line.split(None, 5)
        if not mode.startswith("d"):
            files[path.lstrip(".")] = (mode, owner)
    moddir = f"/usr/lib/{arch('DEB_HOST_MULTIARCH')}/kamailio/modules"
    doc = f"/usr/share/doc/{PKG}"
    ex = "/usr/share/doc/kamailio/examples/ha_pair"
    expected = {f"{moddir}/ha_pair.so", f"{doc}/copyright",
                f"{doc}/changelog.gz", f"{doc}/README.md",
                f"{doc}/NEWS.Debian.gz"}
    expected |= {f"{doc}/{p.name}" for p in (TOP / "docs").glob("*.md")}
    expected |= {f"{doc}/img/{p.name}"
                 for p in (TOP / "docs" / "img").glob("*.png")}
    expected |= {f"{ex}/{n}" for n in (
        "kamailio.cfg", "kamailio-kemi.cfg", "ha_pair.lua", "ha_pairs.xml",
        "ha_pairs.xsd")}
    expected |= {f"{ex}/{p.name}" for p in (TOP / "config").glob("*.json")}
    # the example pool (config/pool: node files including ../kamailio.cfg)
    expected |= {f"{ex}/pool/{p.name}" for p in (TOP / "config" / "pool")
                 .iterdir()}
    assert set(files) == expected
    for path, (mode, owner) in files.items():
        assert owner == "root/root", path
        assert mode == "-rw-r--r--", path


def test_deb_lintian(deb):
    r = subprocess.run(["lintian", "--fail-on", "error", str(deb)],
                       capture_output=True, text=True, timeout=300)
    errors = [l for l in r.stdout.splitlines() if l.startswith("E:")]
    assert r.returncode == 0 and not errors, r.stdout + r.stderr


@pytest.mark.skipif(
    KAMAILIO_TARGET != "5.6",
    reason="the 6.0 package is for Debian 13's kamailio package, which this "
           "Debian 12 host does not have: static checks only")
def test_deb_module_loads_by_bare_name(deb, procs, logdir):
    root = logdir / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    multiarch = arch("DEB_HOST_MULTIARCH")
    system = Path(f"/usr/lib/{multiarch}/kamailio/modules")
    assert not (system / "ha_pair.so").exists(), \
        "an ha_pair.so is installed system-wide: this test cannot tell them apart"
    moddir = root / f"usr/lib/{multiarch}/kamailio/modules"
    # the example config the package ships, with the module it ships
    cfg = root / "usr/share/doc/kamailio/examples/ha_pair/kamailio.cfg"
    Peer(procs, logdir, "primary", "127.0.0.2")
    kam = Kamailio(procs, logdir, pairs_xml([(
        "sipserver1", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060", {})]),
        cfg=cfg, defines={"HA_PAIR_SO": '"ha_pair.so"',
                          "MPATH": f'"{moddir}:{system}"'})
    assert kam.wait(lambda: kam.show("sipserver1")["members"][0]["state"]
                    == "up", 5) is not None
    assert kam.show("sipserver1")["active"] == "primary"
    # it is the packaged file that kamailio loaded
    maps = Path(f"/proc/{kam.proc.pid}/maps").read_text()
    assert str(moddir / "ha_pair.so") in maps
    assert re.search(r"/ha_pair\.so$", maps, re.M)
