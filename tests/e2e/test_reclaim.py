# SPDX-License-Identifier: GPL-2.0-or-later
"""Reclamation of replaced tables is safe by construction: a process that
reads a table has it pinned, and no reload, however many and however long
ago, frees it under the reader.

A SIP worker is stopped by gdb in the middle of ha_route() (inside
ha_table_by_addr(), with the running table in hand). Meanwhile the pairs
file is reloaded four times (the pair's member changes), with more than
the retire grace (5 s) and the prober's reaping pass in between. The
stopped worker's table must still be on the retired list, its member URI
intact; let go, the worker routes the request by that table (to the old
member), and the table is freed once the worker is done. Before pinning,
the table was freed 5 s after the swap, whatever still read it.

A second test runs reloads back to back while requests and RPCs read the
tables, and checks that nothing crashed (the harness's crash check) and
that every request and RPC was answered."""

import subprocess
import threading
import time

import pytest

from conftest import (Kamailio, Peer, pairs_xml, parse_kamcmd, send_request)

OLD = pairs_xml([("px", "sip:127.0.0.2:5060", "sip:127.0.0.3:5060", {})])
NEW = pairs_xml([("px", "sip:127.0.0.4:5060", "sip:127.0.0.3:5060", {})])
NEW2 = pairs_xml([("px", "sip:127.0.0.4:5060", "sip:127.0.0.3:5060",
                   {"oos-check": "2s"})])
# more than HA_RETIRE_GRACE_MS (5 s) and the prober's reaping pass (1 s)
PAST_GRACE_S = 7

GDB_SCRIPT = r"""
set pagination off
set confirm off
handle all nostop noprint pass
break ha_table_by_addr
shell touch {ready}
continue
python
import os, time
t = gdb.parse_and_eval("t")
gen = int(t["gen"])
open("{hit}", "w").write(str(gen))
deadline = time.time() + 60
while not os.path.exists("{go}") and time.time() < deadline:
    time.sleep(0.05)
r = gdb.parse_and_eval("_ha_store->retired")
kept = 0
while int(r) != 0:
    if int(r) == int(t):
        kept = 1
    r = r["next"]
try:
    m = t["pairs"][0]["m"][0]["uri"]
    uri = m["s"].string(length=int(m["len"]))
except Exception as e:
    uri = "unreadable: %s" % e
print("RESULT kept=%d gen=%d uri=%s" % (kept, gen, uri))
end
delete
detach
quit
"""


def worker_pid(kam):
    """The only UDP receiver (children=1)."""
    ps = parse_kamcmd(kam.rpc("core.psx").stdout)
    pids = [int(p["PID"]) for p in ps if "receiver child=" in p["DSC"]
            and "udp" in p["DSC"]]
    assert len(pids) == 1, ps
    return pids[0]


def retired_tables(pid):
    """gdb's look at the store's retired list (attaches for a moment)."""
    r = subprocess.run(
        ["gdb", "-p", str(pid), "-batch", "-ex",
         "print _ha_store->retired == 0"],
        capture_output=True, text=True, timeout=30)
    assert "$1 = " in r.stdout, r.stdout + r.stderr
    return 0 if "$1 = 1" in r.stdout else 1


def reload(kam, text):
    kam.pairs.write_text(text)
    out = kam.rpc("ha_pair.reload").stdout
    assert "pairs" in out, out


@pytest.mark.timeout(120)
def test_pinned_table_outlives_reloads(procs, logdir):
    peers = {ip: Peer(procs, logdir, ip, ip)
             for ip in ("127.0.0.2", "127.0.0.3", "127.0.0.4")}
    kam = Kamailio(procs, logdir, OLD, defines={"CHILDREN": 1})
    assert kam.wait(lambda: kam.show("px")["members"][0]["state"] == "up", 5)
    pid = worker_pid(kam)
    ready, hit, go = (logdir / n for n in ("gdb-ready", "gdb-hit", "gdb-go"))
    script = logdir / "pin.gdb"
    script.write_text(GDB_SCRIPT.format(ready=ready, hit=hit, go=go))
    gdb = procs.start(["gdb", "-p", str(pid), "-batch", "-x", str(script)],
                      logdir / "gdb.out")
    assert kam.wait(ready.exists, 30), (logdir / "gdb.out").read_text()

    code = []
    req = threading.Thread(target=lambda: code.append(send_request(
        procs, logdir, "127.0.0.10", 5090, user="pinned",
        ruri_host="127.0.0.2:5060", timeout=40)))
    req.start()
    assert kam.wait(hit.exists, 10), (logdir / "gdb.out").read_text()
    time.sleep(0.2)  # the file is written, then closed
    gen = int(hit.read_text())

    # the worker is stopped with table gen in hand: replace it, wait past
    # the grace and the reaping, and reload again (the freed memory of
    # those tables is reused)
    reload(kam, NEW)
    reload(kam, NEW2)
    time.sleep(PAST_GRACE_S)
    reload(kam, NEW)
    reload(kam, NEW2)
    go.touch()
    gdb.wait(30)
    out = (logdir / "gdb.out").read_text()
    assert f"RESULT kept=1 gen={gen} uri=sip:127.0.0.2:5060" in out, out

    # let go, the worker finishes the request with the table it had
    req.join(50)
    assert code == [200]
    assert peers["127.0.0.2"].received("MESSAGE sip:pinned@") == 1
    assert peers["127.0.0.4"].received("MESSAGE sip:pinned@") == 0
    # and once it is done, the table goes (after the last reload's grace)
    assert kam.wait(lambda: retired_tables(pid) == 0, 20, step=0.5) \
        is not None
    # the running table routes to a member of its own (the primary, or the
    # backup: the stopped worker held up the probes' replies meanwhile)
    assert send_request(procs, logdir, "127.0.0.10", 5091, user="after",
                        ruri_host="127.0.0.4:5060") == 200
    assert kam.wait(lambda: sum(peers[ip].received("MESSAGE sip:after@")
                                for ip in ("127.0.0.3", "127.0.0.4")) == 1, 5)
    assert peers["127.0.0.2"].received("MESSAGE sip:after@") == 0


def rpc_loop(kam, stop, errors, counts, *args):
    while not stop.is_set():
        r = kam.rpc(*args, check=False)
        counts[args[0]] = counts.get(args[0], 0) + 1
        if r.returncode != 0:
            errors.append(f"{args}: {r.stdout}{r.stderr}")


@pytest.mark.timeout(120)
def test_reloads_back_to_back_while_tables_are_read(procs, logdir):
    for ip in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        Peer(procs, logdir, ip, ip)
    kam = Kamailio(procs, logdir, OLD)
    assert kam.wait(lambda: kam.show("px")["members"][0]["state"] == "up", 5)
    stop = threading.Event()
    errors, counts = [], {}
    readers = [threading.Thread(target=rpc_loop,
                                args=(kam, stop, errors, counts, *a))
               for a in (("ha_pair.list",), ("ha_pair.show", "px"),
                         ("ha_pair.probe", "px"))]
    for th in readers:
        th.start()
    codes = []

    def requests():
        port = 5100
        while not stop.is_set():
            codes.append(send_request(procs, logdir, "127.0.0.10", port,
                                      user="load", ruri_host="127.0.0.9"))
            port = 5100 + (port - 5099) % 50

    sender = threading.Thread(target=requests)
    sender.start()
    t0 = time.monotonic()
    reloads = 0
    # 10 s of reloads alternating three files, then past the grace so the
    # prober frees the tables while readers still run
    while time.monotonic() - t0 < 10:
        kam.pairs.write_text((OLD, NEW, NEW2)[reloads % 3])
        r = kam.rpc("ha_pair.reload", check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        reloads += 1
    time.sleep(PAST_GRACE_S)
    stop.set()
    for th in readers + [sender]:
        th.join(30)
    assert not errors, errors[:5]
    assert reloads > 100 and len(codes) > 20, (reloads, len(codes), counts)
    # every request was answered (by a member: the pair always has one)
    assert set(codes) == {200}, codes
    assert "exited by a signal" not in kam.log_text()
