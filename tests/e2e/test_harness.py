# SPDX-License-Identifier: GPL-2.0-or-later
"""The harness itself (issue 12, item 9; tightened by issue 21, item 4):
the Kamailio 5.6 TLS double-free line turns a failure into a skip only on
5.6, only in test_tls_member.py, only for q_malloc's exact report from tls,
and only in the log of a kamailio of the test that did not end clean (a
failed assertion with that line somewhere in the logs stays a failure).
Checked on the predicate, and on pytest's own verdict of inner test files
(pytester)."""

import json
import shutil
import sys

import pytest

from conftest import KAMAILIO_VERSION, LOGS, tls_bug_skip_reason

pytest_plugins = ("pytester",)

BUG = ("13(1234) : <core> [core/mem/q_malloc.c:522]: qm_free(): BUG: "
       "freeing already freed pointer (0x7f1d2c3b4a50), called from tls: "
       "tls_init.c: ser_free(285), first free tls: tls_init.c: "
       "ser_free(285) - ignoring")


def write_log(tmp_path, text, name="kamailio.log"):
    f = tmp_path / name
    f.write_text("0(1) INFO: <core> [main.c:1]: something\n" + text + "\n")
    return f


def unclean(log, how="exited with status 1"):
    """A line of harness.Procs.unclean() for a kamailio logging to log."""
    return f"/usr/sbin/kamailio (pid 1234, log {log}): {how}"


def test_predicate_only_5_6_tls_file_unclean_process_log(tmp_path):
    log = write_log(tmp_path, BUG)
    tls = "test_tls_member.py"
    reason = tls_bug_skip_reason((5, 6, 3), tls, [unclean(log)])
    assert reason is not None and "double free" in reason
    assert "called from tls: tls_init.c" in reason  # the line is shown
    assert "did not end clean" in reason
    assert tls_bug_skip_reason(
        (5, 6, 3), tls, [unclean(log, "killed by SIGABRT")]) is not None
    # any other version, any other file: a failure stays a failure
    assert tls_bug_skip_reason((6, 0, 1), tls, [unclean(log)]) is None
    assert tls_bug_skip_reason((5, 7, 0), tls, [unclean(log)]) is None
    for other in ("test_failover.py", "test_tcp_member.py",
                  "test_tls_member.py.bak", "xtest_tls_member.py"):
        assert tls_bug_skip_reason((5, 6, 3), other,
                                   [unclean(log)]) is None, other
    # the line in a log, but every kamailio ended clean (an assertion
    # failed): a failure
    assert tls_bug_skip_reason((5, 6, 3), tls, []) is None
    # the kamailio that did not end clean is another one than the one
    # whose log has the line
    clean = write_log(tmp_path, "", "member.log")
    assert tls_bug_skip_reason((5, 6, 3), tls, [unclean(clean)]) is None
    # another report (another module's double free, another BUG line), or
    # no such line at all: a failure
    for text in (BUG.replace("called from tls: ", "called from tm: "),
                 BUG.replace("BUG: freeing already freed",
                             "BUG: freeing never allocated"),
                 "ERROR: tls [tls_server.c:1]: connection lost", ""):
        other = write_log(tmp_path, text, "other.log")
        assert tls_bug_skip_reason((5, 6, 3), tls,
                                   [unclean(other)]) is None, text
    # a log that is not there, a line that names none
    assert tls_bug_skip_reason((5, 6, 3), tls,
                               [unclean(tmp_path / "missing.log")]) is None
    assert tls_bug_skip_reason((5, 6, 3), tls, ["something else"]) is None


INNER = '''
import shutil

from conftest import LOGS


def logdir(name):
    d = LOGS / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_{name}_assertion():
    (logdir("test_{name}_assertion") / "kamailio.log").write_text(
        {bug!r} + "\\n")
    assert False, "a real failure of this test"


def test_{name}_crash(procs):
    d = logdir("test_{name}_crash")
    log = d / "kamailio.log"
    log.write_text({bug!r} + "\\n")
    p = procs.start([shutil.which("sh"), "-c", "exit 1"], log, cwd=d,
                    watch=True)
    assert p.wait(10) == 1
'''


@pytest.fixture
def inner_logs():
    names = [f"test_harness_inner_{f}_{t}" for f in ("tls", "other")
             for t in ("assertion", "crash")]
    yield names
    for n in names:
        shutil.rmtree(LOGS / n, ignore_errors=True)


def test_hook_skips_only_a_tls_file_crash_with_the_line(pytester, inner_logs,
                                                        monkeypatch):
    """Two inner test files, each with a test that fails an assertion with
    the double-free line in its log and one whose kamailio stand-in exits
    with an error with the line in its log (the teardown's check fails):
    in test_tls_member.py the second is skipped on 5.6 with the reason
    (an error on 6.0); everything else fails."""
    pytester.makepyfile(test_tls_member=INNER.format(
        name="harness_inner_tls", bug=BUG))
    pytester.makepyfile(test_other=INNER.format(
        name="harness_inner_other", bug=BUG))
    # in a full run the real test_tls_member is imported already (other
    # files import from it): the inner run imports its own under that name
    monkeypatch.delitem(sys.modules, "test_tls_member", raising=False)
    # the harness's conftest (already imported) is this run's plugin
    r = pytester.runpytest_inprocess("-p", "conftest", "-rfEs",
                                     "-p", "no:cacheprovider")
    on_5_6 = tuple(KAMAILIO_VERSION[:2]) == (5, 6)
    outcomes = r.parseoutcomes()
    assert outcomes.get("failed") == 2, r.outlines
    assert outcomes.get("errors", outcomes.get("error", 0)) == \
        (1 if on_5_6 else 2), r.outlines
    assert outcomes.get("skipped", 0) == (1 if on_5_6 else 0), r.outlines
    failed = [o for o in r.outlines if o.startswith("FAILED ")]
    assert any("test_other.py::test_harness_inner_other_assertion" in o
               for o in failed), r.outlines
    assert any("test_tls_member.py::test_harness_inner_tls_assertion" in o
               for o in failed), r.outlines
    errors = [o for o in r.outlines if o.startswith("ERROR ")]
    assert any("test_other.py::test_harness_inner_other_crash" in o
               for o in errors), r.outlines
    if on_5_6:
        r.stdout.fnmatch_lines(["SKIPPED * Kamailio 5.6 tls + OpenSSL 3 "
                                "double free*did not end clean*called from "
                                "tls: *"])
    else:
        assert any("test_tls_member.py::test_harness_inner_tls_crash" in o
                   for o in errors), r.outlines


def test_unclean_ends_are_named(tmp_path):
    """harness.Procs.unclean() (issue 21, item 1): a watched process that
    dies by a signal (its core's back trace shown when the core pattern
    puts one in its folder), exits non-zero, or has to be killed at its
    stop is named; one that exits 0, one exempt, one refused at start
    with a status (may_fail) and one still running are not."""
    from harness import Procs, core_glob
    p = Procs()
    p.STOP_WAIT = 1.0
    p.STOP_GRACE = 1.0
    sh = shutil.which("sh")

    def start(name, script, **kw):
        d = tmp_path / name
        d.mkdir()
        return p.start([sh, "-c", script], d / "out.log", cwd=d,
                       watch=True, **kw)

    segv = start("segv", "kill -SEGV $$")
    status = start("status", "exit 3")
    hung = start("hung", "trap '' TERM; while :; do sleep 0.05; done")
    clean = start("clean", "exit 0")
    refused = start("refused", "exit 255", may_fail=True)
    kept = start("exempt", "kill -SEGV $$")
    running = start("running", "sleep 30")
    p.exempt(kept, "killed on purpose")
    for q in (segv, status, clean, refused, kept):
        q.wait(10)
    p.stop(hung)
    try:
        out = p.unclean()
    finally:
        p.stop_all()
    text = "\n".join(out)
    assert len(out) == 3, text
    assert f"pid {segv.pid}" in text and "killed by SIGSEGV" in text
    assert "exited with status 3" in text
    assert f"pid {hung.pid}" in text and "s after SIGTERM: killed" \
        in text
    for q in (clean, refused, kept, running):
        assert f"pid {q.pid}," not in text, text
    if core_glob(tmp_path) is not None:
        # the core pattern puts cores in the process's folder (a fresh
        # Debian's "core"): it is named, with its back trace
        assert list((tmp_path / "segv").glob("core*")), text
        assert "core " in text and "#0 " in text, text


WAIT_INNER = '''
from conftest import LOGS, wait_until


def test_harness_inner_wait(procs):
    d = LOGS / "test_harness_inner_wait"
    d.mkdir(parents=True, exist_ok=True)
    log = d / "kamailio.log"
    log.write_text("".join(f"log line {{i}}\\n" for i in range(100)))
    procs.kamailio_logs.append(log)
    state = {{"active": "primary", "waiting": 3}}
    assert wait_until(lambda: state["active"] == "backup", 0.2) is not None
'''


def test_failure_says_what_was_expected_seen_and_where(pytester, monkeypatch):
    """Issue 21, item 5: a test whose wait times out fails with the wait's
    place, bound and condition, what the condition saw (the values of its
    parts), where its logs are, and the tail of its kamailio log, all
    above pytest's closing summary line; with HA_WAIT_RECORD set the wait
    is recorded (test, place, null for a timeout, bound) for make
    test-repeat."""
    record = pytester.path / "waits.jsonl"
    monkeypatch.setenv("HA_WAIT_RECORD", str(record))
    pytester.makepyfile(test_inner_wait=WAIT_INNER.format())
    try:
        r = pytester.runpytest_inprocess("-p", "conftest", "-rfs",
                                         "-p", "no:cacheprovider")
    finally:
        shutil.rmtree(LOGS / "test_harness_inner_wait", ignore_errors=True)
    assert r.parseoutcomes().get("failed") == 1, r.outlines
    out = r.outlines
    summary = max(i for i, o in enumerate(out) if "1 failed" in o)
    r.stdout.fnmatch_lines([
        "*ha_pair: waits that timed out*",
        "test_inner_wait.py:11: waited 0.2 s for: "
        "state['active'] == 'backup'",
        "    seen: assert 'primary' == 'backup'",
        "*ha_pair: where the logs are*",
        # the tests' log folder, wherever HA_E2E_LOGS puts it (make
        # test-repeat: tests/e2e/logs-<version>)
        f"logs: {LOGS}/test_harness_inner_wait/ (kamailio.log)",
        "*ha_pair: last lines of */kamailio.log*",
        "log line 75",
        "log line 99",
    ])
    # all of it above the closing summary line, the last line
    assert max(i for i, o in enumerate(out) if o == "log line 99") < summary
    assert summary == len(out) - 1, out[-3:]
    assert not any(o == "log line 74" for o in out), out
    lines = [json.loads(x) for x in record.read_text().splitlines()]
    assert lines == [{"test": "test_inner_wait.py::test_harness_inner_wait",
                      "where": "test_inner_wait.py:11", "took": None,
                      "bound": 0.2}], lines
