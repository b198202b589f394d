#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every source file says its license: an SPDX-License-Identifier line naming
LGPL-2.1-or-later (the license of COPYING and of meson.build's project())
within its first five lines (after a shebang, an XML root or a man page's
title line).

Which files: every file of the source tree (git's list of tracked and
untracked-but-not-ignored files in a git checkout, else a walk), except
- documentation and texts that are not code: *.md, COPYING, CHANGELOG.md;
- data: tests/fuzz/corpora/ (fuzzer inputs), tests/abi/*.abi (the recorded ABI
  baseline), tests/vectors.tsv (test vectors);
- py.typed (PEP 561's marker, empty by convention);
- .gitignore and files under hidden directories (.git, caches) but .ci/;
- build directories (any directory holding meson-private/ or meson-info/).
Everything else, of any type, needs the line: a new kind of file is checked
until it is listed here (docs/abi.md is not the place; this docstring is).

Usage: check-spdx.py SOURCE_ROOT
"""
import os
import re
import subprocess
import sys

LICENSE = "LGPL-2.1-or-later"
LINE = re.compile(r"SPDX-License-Identifier:\s*(\S+)")
EXCLUDED_NAMES = {"COPYING", ".gitignore", "py.typed"}
EXCLUDED_SUFFIXES = (".md", ".abi")
EXCLUDED_PATHS = ("tests/fuzz/corpora/", "tests/vectors.tsv")


def source_files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                             capture_output=True, check=True).stdout
        files = [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(root):
            rel = os.path.relpath(d, root)
            dirs[:] = [x for x in dirs
                       if not (x.startswith(".") and x != ".ci")
                       and not os.path.isdir(os.path.join(d, x, "meson-private"))
                       and not os.path.isdir(os.path.join(d, x, "meson-info"))]
            files += [os.path.normpath(os.path.join(rel, n)) for n in names]
    for f in sorted(files):
        parts = f.split("/")
        if any(p.startswith(".") and p != ".ci" for p in parts[:-1]):
            continue
        if parts[-1] in EXCLUDED_NAMES or f.endswith(EXCLUDED_SUFFIXES) or f.startswith(EXCLUDED_PATHS):
            continue
        if "__pycache__" in parts or f.endswith(".pyc"):
            continue
        if os.path.isfile(os.path.join(root, f)):
            yield f


def main():
    root = sys.argv[1]
    checked = 0
    bad = []
    for f in source_files(root):
        checked += 1
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
            head = [fh.readline() for _ in range(5)]
        found = [m.group(1) for m in map(LINE.search, head) if m]
        if not found:
            bad.append(f"{f}: no SPDX-License-Identifier line in its first 5 lines")
        elif found[0].rstrip("*/->").strip() != LICENSE:
            bad.append(f"{f}: SPDX-License-Identifier {found[0]}, not {LICENSE}")
    for b in bad:
        print("FAIL:", b)
    if checked < 50:
        print(f"FAIL: only {checked} files found under {root}")
        return 1
    if bad:
        return 1
    print(f"{checked} files, each with SPDX-License-Identifier: {LICENSE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
