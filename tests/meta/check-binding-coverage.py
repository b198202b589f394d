#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every exported symbol has a binding in Python and in C#, or is in the
allow-list (bindings/not-bound.txt) with the reason it is not bound.

A symbol counts as bound in Python when bindings/python/apppoolid/_native.py
declares its signature for ctypes (a function called without argtypes would
get its arguments converted by guesswork) and the package calls it
(`lib.apid_x` in another module of the package). In C# when AppPoolId.cs
declares it (`extern ... apid_x(`) and calls it on another line. A binding
that names a function the library does not export fails too (P/Invoke and
ctypes would only fail when it is called), and so does an allow-list entry
that is stale: for a symbol no longer exported, or one that is now bound.

Usage: check-binding-coverage.py SYMBOL_FILE BINDINGS_DIR
"""
import os
import re
import sys

NAME = r"apid_[a-z0-9_]+"
BINDINGS = ("python", "csharp")


def exported(sym_file):
    text = re.sub(r"/\*.*?\*/", "", open(sym_file, encoding="utf-8").read(), flags=re.S)
    return set(re.findall(rf"^\s*({NAME})\s*;", text, flags=re.M))


def python_bound(pkg):
    native = open(os.path.join(pkg, "_native.py"), encoding="utf-8").read()
    declared = set(re.findall(rf'^\s*\("({NAME})",', native, flags=re.M))
    used = set()
    for name in os.listdir(pkg):
        if name.endswith(".py") and name != "_native.py":
            used |= set(re.findall(rf"\blib\.({NAME})\b", open(os.path.join(pkg, name), encoding="utf-8").read()))
    return declared, used


def csharp_bound(source):
    declared, used = set(), set()
    for line in open(source, encoding="utf-8"):
        line = line.split("//")[0]
        if re.search(r"\bextern\b", line):
            declared |= set(re.findall(rf"\b({NAME})\s*\(", line))
        else:  # a call, or a method group (Native.apid_sid_equal passed as a Func)
            used |= set(re.findall(rf"\b({NAME})\s*\(", line))
            used |= set(re.findall(rf"\bNative\.({NAME})\b", line))
    return declared, used


def allow_list(path):
    """SYMBOL BINDING REASON... lines; BINDING is python, csharp or both."""
    allowed = {b: {} for b in BINDINGS}
    problems = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.split("#")[0].strip()
        if not line:
            continue
        fields = line.split(None, 2)
        if len(fields) < 3 or fields[1] not in BINDINGS + ("both",) or not re.fullmatch(NAME, fields[0]):
            problems.append(f"{path}:{n}: want 'SYMBOL python|csharp|both REASON': {line}")
            continue
        for b in BINDINGS if fields[1] == "both" else (fields[1],):
            if fields[0] in allowed[b]:
                problems.append(f"{path}:{n}: {fields[0]} is listed twice for {b}")
            allowed[b][fields[0]] = fields[2]
    return allowed, problems


def main():
    sym_file, bindings = sys.argv[1:3]
    symbols = exported(sym_file)
    if len(symbols) < 100:
        print(f"FAIL: only {len(symbols)} symbols read from {sym_file}")
        return 1
    allowed, problems = allow_list(os.path.join(bindings, "not-bound.txt"))
    found = {"python": python_bound(os.path.join(bindings, "python", "apppoolid")),
             "csharp": csharp_bound(os.path.join(bindings, "csharp", "AppPoolId.cs"))}
    where = {"python": "bindings/python/apppoolid", "csharp": "bindings/csharp/AppPoolId.cs"}
    for b in BINDINGS:
        declared, used = found[b]
        bound = declared & used
        for s in sorted(symbols - bound - set(allowed[b])):
            what = "declared but never called" if s in declared else \
                "called but its signature is not declared" if s in used else "not bound"
            problems.append(f"{s}: exported, {what} in {where[b]}: bind it, or list it in "
                            f"bindings/not-bound.txt with the reason")
        for s in sorted((declared | used) - symbols):
            problems.append(f"{s}: {where[b]} names it, but lib/apppoolid.sym does not export it")
        for s in sorted(set(allowed[b]) - symbols):
            problems.append(f"{s}: in bindings/not-bound.txt for {b}, but not exported (stale entry)")
        for s in sorted(set(allowed[b]) & bound):
            problems.append(f"{s}: in bindings/not-bound.txt for {b}, but bound there now (stale entry)")
    for p in problems:
        print("FAIL:", p)
    counts = ", ".join(f"{b}: {len(symbols & found[b][0] & found[b][1])} bound, "
                       f"{len(set(allowed[b]) & symbols)} listed as not bound" for b in BINDINGS)
    print(f"{len(symbols)} exported symbols: {counts}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
