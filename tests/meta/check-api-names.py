#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every apid_ name that a public header or a page of docs/ mentions exists.

A name exists when the preprocessed public header declares it (a function, a
type, an enum value, a struct tag or a macro), or when it is a Doxygen group
(@defgroup apid_sid). A prose mention of the bare prefix ("the apid_ prefix")
is not a name. This catches a comment or a page that names a function which
was renamed or never written (identity.h once pointed at
apid_ctx_set_uid_range()).

Usage: check-api-names.py CC SRC_INCLUDEDIR GENERATED_INCLUDEDIR DOCDIR [FILE...]
(every DOCDIR/*.md, and each FILE)
"""
import glob
import os
import re
import subprocess
import sys

NAME = re.compile(r"\bapid_[A-Za-z0-9_]*[A-Za-z0-9]")


def main():
    cc, src_inc, gen_inc, docdir, *docs = sys.argv[1:]
    docs = sorted(glob.glob(os.path.join(docdir, "*.md"))) + docs
    # -dD keeps the macro definitions; comments are gone, so only real
    # declarations are left to read names from.
    pre = subprocess.run(cc.split() + ["-E", "-dD", "-I", src_inc, "-I", gen_inc, "-x", "c", "-"],
                         input="#include <apppoolid.h>\n", capture_output=True, text=True, check=True).stdout
    declared = set(NAME.findall(pre))
    headers = []
    for line in pre.splitlines():
        m = re.match(r'# \d+ "([^"]+)"', line)
        if m and m.group(1).startswith((src_inc, gen_inc)) and m.group(1) not in headers:
            headers.append(m.group(1))
    for h in headers:
        declared |= set(re.findall(r"@defgroup\s+(apid_\w+)", open(h, encoding="utf-8").read()))
    if len(declared) < 100:
        print(f"FAIL: only {len(declared)} declared names found; is the preprocessor output right?")
        return 1
    missing = 0
    mentioned = 0
    for path in headers + docs:
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            for name in NAME.findall(line):
                mentioned += 1
                if name not in declared:
                    print(f"FAIL: {path}:{n}: {name} is not declared by any public header")
                    missing += 1
    if missing:
        return 1
    print(f"{mentioned} mentions of apid_ names in {len(headers)} headers and {len(docs)} pages: all declared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
