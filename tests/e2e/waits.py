# SPDX-License-Identifier: GPL-2.0-or-later
"""What the end-to-end tests' waits (harness.wait_until(), Kamailio.wait())
measured, for two readers:

- make test-repeat: with HA_WAIT_RECORD naming a file, every wait appends
  one JSON line (the test, the line of the test that waited, the seconds
  it took or null when it timed out, its bound), so the repeat table can
  show how close each test runs to its limits;
- a failing test's report: a wait that timed out keeps what its condition
  was and what it saw (the lambda's body evaluated once more as an
  assertion, with pytest's own assertion rewriting, so the values of its
  parts are shown); conftest.py adds that to the report of a test that
  fails.

conftest.py installs on_wait() in harness.WAIT_HOOKS."""

import ast
import copy
import json
import os
import sys
import threading
from pathlib import Path

# frames of these files are the harness, not the test that waited
_HARNESS_FILES = {"harness.py", "conftest.py", "waits.py"}
_lock = threading.Lock()
_timed_out = []  # this test's waits that timed out: (where, text)
_trees = {}  # file name -> its parsed source (ast), or None


def where():
    """file:line of the test code that waited (the first frame outside the
    harness)."""
    f = sys._getframe(1)
    while f is not None and Path(f.f_code.co_filename).name in _HARNESS_FILES:
        f = f.f_back
    if f is None:
        return "?"
    return f"{Path(f.f_code.co_filename).name}:{f.f_lineno}"


def _lambda_node(code):
    """The ast.Lambda that compiled to code, or None."""
    name = code.co_filename
    if name not in _trees:
        try:
            _trees[name] = ast.parse(Path(name).read_text(), name)
        except (OSError, SyntaxError, ValueError):
            _trees[name] = None
    tree = _trees[name]
    if tree is None:
        return None
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)
             and n.lineno == code.co_firstlineno]
    if len(found) > 1:
        # several lambdas start on that line: the one whose body starts
        # where the code's first located instruction does
        starts = [(ln, col) for ln, _, col, _ in code.co_positions()
                  if ln is not None and col is not None]
        first = min(starts) if starts else None
        match = [n for n in found
                 if (n.body.lineno, n.body.col_offset) == first]
        found = match or found
    return found[0] if found else None


def condition(pred):
    """The text of what pred waits for: a lambda's body as written, else
    pred's repr."""
    code = getattr(pred, "__code__", None)
    node = _lambda_node(code) if code is not None else None
    if node is None:
        return repr(pred)
    return ast.unparse(node.body)


def seen(pred):
    """What pred's condition sees now, with the values of its parts, as
    pytest shows a failed assert: its lambda's body run once more as
    `assert <body>` in the lambda's own globals and closure. None when pred
    is no argument-less lambda or pytest's rewriting is not at hand."""
    code = getattr(pred, "__code__", None)
    node = _lambda_node(code) if code is not None else None
    if node is None or node.args.args or node.args.posonlyargs:
        return None
    try:
        from _pytest.assertion.rewrite import rewrite_asserts
    except ImportError:
        return None
    mod = ast.Module(body=[ast.Assert(test=copy.deepcopy(node.body))],
                     type_ignores=[])
    ast.copy_location(mod.body[0], node.body)
    ast.fix_missing_locations(mod)
    try:
        rewrite_asserts(mod, b"", code.co_filename, None)
        compiled = compile(mod, code.co_filename, "exec")
    except Exception as e:  # noqa: BLE001 (an explanation, never a failure)
        return f"(not evaluated: {type(e).__name__}: {e})"
    ns = dict(pred.__globals__)
    for name, cell in zip(code.co_freevars, pred.__closure__ or ()):
        try:
            ns[name] = cell.cell_contents
        except ValueError:
            pass
    try:
        exec(compiled, ns)
    except AssertionError as e:
        return str(e).strip()
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {e}"
    return "(true on a last look just after the bound: it came late)"


def on_wait(pred, took, bound):
    """harness.WAIT_HOOKS' entry: record the wait; keep what a timed-out
    one saw."""
    at = where()
    record = os.environ.get("HA_WAIT_RECORD")
    if record:
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]
        line = json.dumps({"test": test, "where": at, "took": took,
                           "bound": bound})
        with _lock, open(record, "a") as f:
            f.write(line + "\n")
    if took is None:
        text = f"{at}: waited {bound:g} s for: {condition(pred)}"
        s = seen(pred)
        if s is not None:
            text += "\n    seen: " + s.replace("\n", "\n    ")
        with _lock:
            _timed_out.append(text)


def reset():
    """A test starts: forget the waits of the one before."""
    with _lock:
        _timed_out.clear()


def timed_out():
    """This test's waits that timed out, each a text (where, bound,
    condition, what it saw)."""
    with _lock:
        return list(_timed_out)
