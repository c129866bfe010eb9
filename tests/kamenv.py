# SPDX-License-Identifier: GPL-2.0-or-later
"""The Kamailio the tests and benchmarks run: its binary, kamcmd, its own
module folder and ha_pair built for it, as `make env` prints them.

make test / make bench pass them as environment variables (KAMAILIO_BIN,
KAMCMD, KAMAILIO_MODDIR, HA_PAIR_SO); run by hand (python3 -m pytest ...)
they come from `make -s env` of the target in HA_KAMAILIO (5.6 when unset).
No path of one version is written here."""

import os
import re
import subprocess
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
NAMES = ("KAMAILIO_BIN", "KAMCMD", "KAMAILIO_MODDIR", "HA_PAIR_SO")


def load():
    """{name: Path} for NAMES, plus "target" (5.6 or 6.0, what the Makefile
    calls it) and "version" (the binary's own version, a tuple of ints)."""
    env = {n: os.environ.get(n) for n in NAMES}
    target = os.environ.get("HA_KAMAILIO") or "5.6"
    if not all(env.values()):
        r = subprocess.run(["make", "-s", "--no-print-directory", "-C",
                            str(TOP), "env", f"KAMAILIO={target}"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise SystemExit(f"make env (KAMAILIO={target}) failed: "
                             f"{r.stderr.strip()}")
        for line in r.stdout.splitlines():
            k, _, v = line.partition("=")
            if k in NAMES:
                env[k] = v
    out = {k: Path(v) for k, v in env.items()}
    r = subprocess.run([str(out["KAMAILIO_BIN"]), "-v"], capture_output=True,
                       text=True, timeout=30)
    m = re.search(r"version: \S+ (\d+)\.(\d+)\.(\d+)", r.stdout + r.stderr)
    if not m:
        raise SystemExit(f"{out['KAMAILIO_BIN']} -v: no version in "
                         f"{(r.stdout + r.stderr)[:300]!r}")
    out["version"] = tuple(int(x) for x in m.groups())
    out["target"] = (os.environ.get("HA_KAMAILIO")
                     or f"{out['version'][0]}.{out['version'][1]}")
    return out


# what the tests and benchmarks use, read once on import
_ENV = load()
KAMAILIO = str(_ENV["KAMAILIO_BIN"])
KAMCMD = str(_ENV["KAMCMD"])
KAMAILIO_MODDIR = _ENV["KAMAILIO_MODDIR"]  # that kamailio's own modules
MODULE = _ENV["HA_PAIR_SO"]  # ha_pair built for it
KAMAILIO_VERSION = _ENV["version"]  # (major, minor, patch)
KAMAILIO_TARGET = _ENV["target"]  # 5.6 or 6.0, as make calls it
