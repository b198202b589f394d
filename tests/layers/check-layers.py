#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fails when a file of lib/ calls a function of a higher layer.

The layers, top to bottom, are DESIGN.md's "Where the tree is going"; a
file may call its own layer and the layers above it (lower numbers), never
one below. Calls are found by name: every apid_/apid__ function defined in
a lib/ file, called from another. KNOWN lists the upward calls that exist
today (the knots the rebuild is untying); a new one fails the test, and so
does a KNOWN entry that no longer exists (so the list only shrinks).
Usage: check-layers.py LIBDIR
"""
import os
import re
import sys

LAYERS = [
    ("util", ["util/"]),
    ("sid/account", ["sid.c", "account.c"]),
    ("store", ["store/"]),
    ("idmap", ["idmap/"]),
    ("public objects", ["pool.c", "identity.c", "config.c", "ldif.c", "context.c", "profile.c", "version.c",
                        "lookup.c", "launchsettings.c"]),
    ("token/launch", ["token.c", "launch/"]),
    ("acl", ["acl/"]),
    ("nss module", ["nss/"]),
]

# caller file -> callee function: upward calls that exist today.
KNOWN = {
    # The logger and the cached connection live in the context object.
    ("*", "apid__log"),
    ("store/registry.c", "apid__ctx_db"),
    ("store/registry.c", "apid__ctx_lock"),
    ("store/registry.c", "apid__ctx_unlock"),
    ("store/registry.c", "apid_ctx_get_state_dir"),
    # The store writes the snapshot, which needs profile paths.
    ("store/nssfile.c", "apid__profile_path"),
    ("store/nssfile.c", "apid_ctx_get_state_dir"),
}


def layer_of(rel):
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if rel == p or (p.endswith("/") and rel.startswith(p)):
                return i
    return None


def strip(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    return re.sub(r"//[^\n]*", " ", text)


def main(libdir):
    files = {}
    for root, _, names in os.walk(libdir):
        for n in names:
            if n.endswith(".c"):
                path = os.path.join(root, n)
                files[os.path.relpath(path, libdir)] = strip(open(path, encoding="utf-8").read())
    defined = {}
    for rel, text in files.items():
        if rel.startswith("nss/"):
            continue  # the module's own copies are its own
        for m in re.finditer(r"^(?:APID_EXPORT\s+)?(?:[\w\s\*]+?)\b(apid_\w+)\s*\([^;{]*\)\s*\{", text, re.M):
            defined.setdefault(m.group(1), rel)
    bad, seen = [], set()
    unknown = [rel for rel in files if layer_of(rel) is None]
    for rel, text in sorted(files.items()):
        mine = layer_of(rel)
        if mine is None:
            continue
        for m in re.finditer(r"\b(apid_\w+)\s*\(", text):
            fn = m.group(1)
            home = defined.get(fn)
            if home is None or home == rel:
                continue
            theirs = layer_of(home)
            if theirs is None or theirs <= mine:
                continue
            if (rel, fn) in KNOWN or ("*", fn) in KNOWN:
                seen.add((rel, fn) if (rel, fn) in KNOWN else ("*", fn))
                continue
            bad.append("%s (%s) calls %s of %s (%s)" % (rel, LAYERS[mine][0], fn, home, LAYERS[theirs][0]))
    stale = sorted(k for k in KNOWN if k not in seen)
    for b in sorted(set(bad)):
        print("upward call:", b)
    for s in stale:
        print("KNOWN entry no longer needed (remove it):", s)
    for u in unknown:
        print("file in no layer (add it to LAYERS):", u)
    if bad or stale or unknown:
        return 1
    print("layers: %d files, no new upward call" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
