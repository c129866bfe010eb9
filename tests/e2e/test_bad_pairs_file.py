"""A bad pairs file: kamailio refuses to start, and says file, line, why."""

import subprocess

from conftest import Kamailio

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
