#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (not a test): a recursive grant on a tree of 100,000 files in 100
# directories, apppoolctl against setfacl -R on an identical tree in the same
# run, then a re-apply. Checks that both trees end with the same ACLs.
# Usage: bench-acl.sh BUILDDIR [DIRS] [FILES_PER_DIR] [WORKDIR]
set -eu
build=$(realpath "$1") dirs=${2:-100} per=${3:-1000} work=${4:-/var/tmp}
ctl=$build/examples/apppoolctl
tmp=$(mktemp -d "$work/apid-bench-acl-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export APPPOOLID_STATE_DIR=$tmp/state
"$ctl" pool add bench >/dev/null
# IIS AppPool\bench is the pool's group entry (gid == uid: docs/acl.md).
uid=$("$ctl" pool show --json bench | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')

/usr/bin/python3 - "$tmp" "$dirs" "$per" <<'PY'
import os, sys
base, dirs, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for tree in ("theirs", "ours"):
    for d in range(dirs):
        p = os.path.join(base, tree, "d%03d" % d)
        os.makedirs(p)
        for f in range(per):
            os.close(os.open(os.path.join(p, "f%04d" % f), os.O_CREAT | os.O_WRONLY, 0o644))
PY
sync
now() { date +%s.%N; }
t0=$(now); setfacl -R -m "g:$uid:rx,d:g:$uid:rx" "$tmp/theirs"; t1=$(now)
"$ctl" grant "$tmp/ours" 'IIS AppPool\bench:(OI)(CI)RX' -R --quiet > "$tmp/out1"; t2=$(now)
"$ctl" grant "$tmp/ours" 'IIS AppPool\bench:(OI)(CI)RX' -R --quiet > "$tmp/out2"; t3=$(now)
setfacl -R -m "g:$uid:rx,d:g:$uid:rx" "$tmp/theirs"; t4=$(now)

(cd "$tmp/theirs" && getfacl -R -n . 2>/dev/null) > "$tmp/theirs.acl"
(cd "$tmp/ours" && getfacl -R -n . 2>/dev/null) > "$tmp/ours.acl"
if cmp -s "$tmp/theirs.acl" "$tmp/ours.acl"; then same=yes; else same=NO; diff "$tmp/theirs.acl" "$tmp/ours.acl" | head; fi

/usr/bin/python3 - "$t0" "$t1" "$t2" "$t3" "$t4" "$dirs" "$per" "$same" "$(tail -1 "$tmp/out1")" "$(tail -1 "$tmp/out2")" <<'PY'
import sys
t0, t1, t2, t3, t4 = map(float, sys.argv[1:6])
dirs, per, same, out1, out2 = int(sys.argv[6]), int(sys.argv[7]), sys.argv[8], sys.argv[9], sys.argv[10]
setfacl, ours, reapply, setfacl2 = t1 - t0, t2 - t1, t3 - t2, t4 - t3
n = dirs * per + dirs + 1
print(f"tree: {dirs} directories x {per} files = {n} paths")
print(f"setfacl -R -m g:GID:rx,d:g:GID:rx        {setfacl:8.3f} s  {n / setfacl:10.0f} paths/s")
print(f"apppoolctl grant -R (OI)(CI)RX (first)   {ours:8.3f} s  {n / ours:10.0f} paths/s   [{out1}]")
print(f"apppoolctl grant -R (OI)(CI)RX (again)   {reapply:8.3f} s  {n / reapply:10.0f} paths/s   [{out2}]")
print(f"setfacl -R again (for reference)         {setfacl2:8.3f} s")
print(f"same ACLs on both trees (getfacl -R):    {same}")
print(f"ratio setfacl / apppoolctl, first apply: {setfacl / ours:.2f}x   (target >= 1.5)")
print(f"ratio first / re-apply:                  {ours / reapply:.2f}x   (target >= 3)")
PY
