#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (not a test): `apppoolctl acl save -R` against `getfacl -R` (with
# names, the same output) on one tree of 100,000 files in 100 directories,
# each with named user and group entries (ids NSS knows, so both name them),
# in the same run; checks the two outputs are byte for byte the same.
# With OTHER=BUILDDIR2, that build's save is timed too, in the same runs.
# Usage: bench-acl-save.sh BUILDDIR [DIRS] [FILES_PER_DIR] [WORKDIR]
set -eu
build=$(realpath "$1") dirs=${2:-100} per=${3:-1000} work=${4:-/var/tmp}
ctl=$build/examples/apppoolctl
tmp=$(mktemp -d "$work/apid-bench-save-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export APPPOOLID_STATE_DIR=$tmp/state

/usr/bin/python3 - "$tmp/t" "$dirs" "$per" <<'PY'
import os, sys
base, dirs, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(dirs):
    p = os.path.join(base, "d%03d" % d)
    os.makedirs(p)
    for f in range(per):
        os.close(os.open(os.path.join(p, "f%04d" % f), os.O_CREAT | os.O_WRONLY, 0o644))
PY
# Named entries (daemon, bin; adm), one NSS-unknown id, and default ACLs.
setfacl -R -m u:1:rw,u:2:r,g:4:rx,u:4000000001:r,d:u:1:rx "$tmp/t"
sync
now() { date +%s.%N; }
best() { sort -n | head -1; }
for i in 1 2 3; do
        t0=$(now); getfacl -R "$tmp/t" > "$tmp/theirs.acl" 2>/dev/null; t1=$(now)
        "$ctl" acl save "$tmp/t" "$tmp/ours.acl" -R; t2=$(now)
        t3=$(now); getfacl -R -n "$tmp/t" > "$tmp/theirs-n.acl" 2>/dev/null; t4=$(now)
        t5=$(now); [ -n "${OTHER:-}" ] && "$OTHER/examples/apppoolctl" acl save "$tmp/t" "$tmp/other.acl" -R; t6=$(now)
        echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc) $(echo "$t4 - $t3" | bc) $(echo "$t6 - $t5" | bc)"
done > "$tmp/times"
if cmp -s "$tmp/theirs.acl" "$tmp/ours.acl"; then same=yes; else same=NO; diff "$tmp/theirs.acl" "$tmp/ours.acl" | head; fi
/usr/bin/python3 - "$tmp/times" "$dirs" "$per" "$same" <<'PY'
import sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
dirs, per, same = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
g, o, n, other = (min(r[i] for r in rows) for i in range(4))
paths = dirs * per + dirs + 1
print(f"tree: {paths} paths, best of {len(rows)} runs")
print(f"getfacl -R (names)          {g:8.3f} s")
print(f"getfacl -R -n (numbers)     {n:8.3f} s")
print(f"apppoolctl acl save -R      {o:8.3f} s")
if other > 0.05:
    print(f"OTHER build's acl save -R   {other:8.3f} s")
print(f"same output as getfacl -R:  {same}")
print(f"ratio getfacl -R / save:    {g / o:.2f}x   (target >= 2)")
PY
