#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every code fence in the Markdown pages is closed: README.md once had a
block that closed in the middle, so that the commands after it rendered as
text and a stray fence opened a block to the end of the page. A fence is a
line starting with ``` (or ~~~), optionally indented; the one that closes a
block uses the same character, at least as long, with no info string.

Usage: check-md-fences.py FILE_OR_DIR...   (a directory: every *.md below it,
build directories and hidden directories left out)
"""
import os
import re
import sys

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def pages(args):
    for a in args:
        if os.path.isdir(a):
            for d, dirs, names in os.walk(a):
                dirs[:] = sorted(x for x in dirs if not x.startswith(".")
                                 and not os.path.isdir(os.path.join(d, x, "meson-private")))
                yield from (os.path.join(d, n) for n in sorted(names) if n.endswith(".md"))
        else:
            yield a


def main():
    bad = 0
    n = 0
    for path in pages(sys.argv[1:]):
        n += 1
        opened = None
        for lineno, line in enumerate(open(path, encoding="utf-8"), 1):
            m = FENCE.match(line.rstrip("\n"))
            if not m:
                continue
            fence, info = m.groups()
            if opened is None:
                opened = (fence, lineno)
            elif fence[0] == opened[0][0] and len(fence) >= len(opened[0]) and not info.strip():
                opened = None
        if opened:
            print(f"FAIL: {path}:{opened[1]}: a code block opened here is never closed")
            bad += 1
    if n == 0:
        print("FAIL: no page found")
        return 1
    if not bad:
        print(f"{n} pages, every code block closed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
