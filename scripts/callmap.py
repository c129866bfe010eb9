#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The module's file-to-file call map: which .c of modules/ha_pair calls
(or takes the address of) functions of which other .c, written into
docs/design.md between its call-map markers.

    scripts/callmap.py            print the map
    scripts/callmap.py --write    write it into docs/design.md
    scripts/callmap.py --self-test  check the checks on made-up files
    scripts/callmap.py --check    fail (exit 1) when the written map is
                                  stale, when files call each other in a
                                  cycle (other than the state machine's
                                  own ha_fsm*.c), or when a file calls a
                                  function that its owner's own header
                                  does not declare

A function's owner is the .c that defines it; its own header is the .h of
the same name (ha_pair_mod.c's is ha_pair.h; a group of files ha_X*.c
has ha_X.h and its internal ha_X_int.h too). make test runs --check."""

import re
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
MOD = TOP / "modules" / "ha_pair"
DOC = TOP / "docs" / "design.md"

BEGIN = "<!-- call map: scripts/callmap.py --write -->"
END = "<!-- end of call map -->"
# the one cycle allowed: the state machine's three files
FSM = {"ha_fsm.c", "ha_fsm_req.c", "ha_fsm_pool.c"}


def code_of(text):
    """C text without comments, strings and character constants."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)
    return re.sub(r"'(?:\\.|[^'\\\n])*'", "''", text)


def definitions(code):
    """Names of the functions a .c defines with external linkage."""
    out = set()
    for m in re.finditer(r"^([A-Za-z_][\w \t\*]*?)\b(\w+)\s*\(([^;{}]*?)\)"
                         r"\s*\{", code, re.M | re.S):
        if not re.search(r"\bstatic\b", m.group(1)):
            out.add(m.group(2))
    return out


def declarations(code):
    """Names of the functions a header declares (prototypes, and static
    inline functions, which belong to the header itself)."""
    return set(re.findall(r"\b(\w+)\s*\([^;{}()]*(?:\([^;{}()]*\)[^;{}()]*)*"
                          r"\)\s*(?:HA_PRINTF\([^)]*\)\s*)?;", code))


def own_headers(c):
    """The headers whose declarations of c's functions count as c's own."""
    name = c[:-2]
    hs = {name + ".h"}
    if c == "ha_pair_mod.c":
        hs.add("ha_pair.h")
    m = re.match(r"(ha_[a-z]+)", name)
    if m:
        # a group of files (ha_fsm.c, ha_fsm_req.c, ha_fsm_pool.c): its
        # header and its internal one
        hs |= {m.group(1) + ".h", m.group(1) + "_int.h"}
    return hs


def build():
    files = sorted(p.name for p in MOD.glob("ha_*.c"))
    code = {f: code_of((MOD / f).read_text()) for f in files}
    owner = {}
    for f in files:
        for fn in definitions(code[f]):
            owner[fn] = f
    hdecl = {h.name: declarations(code_of(h.read_text()))
             for h in MOD.glob("ha_*.h")}
    calls, wrong = {}, []
    for f in files:
        used = set(re.findall(r"\b(\w+)\b", code[f]))
        to = {}
        for fn in sorted(used):
            o = owner.get(fn)
            if o is None or o == f:
                continue
            to.setdefault(o, []).append(fn)
            if not any(fn in hdecl.get(h, ()) for h in own_headers(o)):
                where = [h for h, d in sorted(hdecl.items()) if fn in d]
                wrong.append(f"{f} uses {fn}() of {o}, declared in "
                             f"{', '.join(where) or 'no header'}, not in "
                             f"{' or '.join(sorted(own_headers(o) & set(hdecl)))}")
        calls[f] = to
    return files, calls, wrong


def cycles(files, calls):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    n = [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in calls.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in files:
        if v not in index:
            visit(v)
    return out


def render(files, calls):
    rows = ["| file | calls functions of |", "|---|---|"]
    for f in files:
        to = calls.get(f, {})
        rows.append(f"| `{f}` | " + (", ".join(
            f"`{o}` ({len(fns)})" for o, fns in sorted(to.items()))
            or "nothing of another file") + " |")
    return "\n".join(
        [BEGIN, "", "Generated by `scripts/callmap.py --write` from the "
         "sources (each `.c`, then the other files whose functions it calls "
         "or takes the address of, with how many of them); `make test` "
         "fails when it is stale, when files call each other in a cycle "
         "other than the state machine's own (`ha_fsm*.c`), or when a file "
         "uses a function its owner's own header does not declare.", ""]
        + rows + ["", END])


def self_test():
    """The checks fail on a cycle, a stale map and a call around the
    owner's header, and pass without them (a module of made-up files)."""
    import subprocess
    import tempfile
    global MOD, DOC
    with tempfile.TemporaryDirectory() as d:
        MOD, DOC = Path(d), Path(d) / "design.md"
        files = {
            "ha_a.c": '#include "ha_a.h"\n#include "ha_b.h"\n'
                      'int ha_a_f(void)\n{\n\treturn ha_b_f();\n}\n',
            "ha_a.h": "int ha_a_f(void);\n",
            "ha_b.c": '#include "ha_b.h"\n'
                      'int ha_b_f(void)\n{\n\treturn 1;\n}\n',
            "ha_b.h": "int ha_b_f(void);\n",
            "ha_fsm.c": "int ha_fsm_f(void)\n{\n\treturn ha_fsm_req_f();"
                        "\n}\n",
            "ha_fsm_req.c": "int ha_fsm_req_f(void)\n{\n\treturn "
                            "ha_fsm_f();\n}\n",
            "ha_fsm.h": "int ha_fsm_f(void);\nint ha_fsm_req_f(void);\n",
        }
        for n, t in files.items():
            (MOD / n).write_text(t)
        DOC.write_text("# design\n")

        def check():
            return main(["--check"], quiet=True)

        assert check() == 1, "a missing map must fail"
        main(["--write"], quiet=True)
        assert check() == 0, "a fresh map, the state machine's cycle only"
        (MOD / "ha_b.c").write_text(
            '#include "ha_b.h"\n#include "ha_a.h"\n'
            'int ha_b_f(void)\n{\n\treturn ha_a_f();\n}\n')
        main(["--write"], quiet=True)
        assert check() == 1, "a cycle must fail"
        (MOD / "ha_b.c").write_text(files["ha_b.c"] + "int ha_b_g(void)\n"
                                    "{\n\treturn ha_fsm_f();\n}\n")
        assert check() == 1, "a stale map must fail"
        main(["--write"], quiet=True)
        assert check() == 0
        (MOD / "ha_a.h").write_text("int ha_a_f(void);\nint ha_b_g(void);\n")
        (MOD / "ha_a.c").write_text(files["ha_a.c"] + "int ha_a_g(void)\n"
                                    "{\n\treturn ha_b_g();\n}\n")
        main(["--write"], quiet=True)
        assert check() == 1, "a call around the owner's header must fail"
    print("callmap: self-test passed (a cycle, a stale map and a call "
          "around its owner's header each fail the check)")
    return 0


def main(argv=None, quiet=False):
    argv = sys.argv[1:] if argv is None else argv
    if "--self-test" in argv:
        return self_test()
    files, calls, wrong = build()
    text = render(files, calls)
    bad = []
    for comp in cycles(files, calls):
        if not set(comp) <= FSM:
            bad.append("a cycle of calls: " + " <-> ".join(comp))
    bad += wrong
    if "--write" in argv:
        doc = DOC.read_text()
        if BEGIN in doc and END in doc:
            doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END)
                                                      + len(END):]
        else:
            doc = doc.rstrip("\n") + "\n\n## Call map\n\n" + text + "\n"
        DOC.write_text(doc)
    elif "--check" in argv:
        doc = DOC.read_text()
        if BEGIN not in doc or END not in doc or \
                doc[doc.index(BEGIN):doc.index(END) + len(END)] != text:
            bad.append("docs/design.md's call map is stale: run "
                       "scripts/callmap.py --write")
    elif not quiet:
        print(text)
    for b in bad if not quiet else ():
        print(f"callmap: {b}", file=sys.stderr)
    if not bad and "--check" in argv and not quiet:
        print(f"callmap: {len(files)} files, no cycle but the state "
              f"machine's, every call through its owner's header")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
