#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (not a test): a recursive grant on 100,000 files against
# `setfacl -R -m` with the same effect, a re-apply, and the floor (a program
# that only writes the resulting ACL blob to every path: bench-acl-floor, and
# one that only reads and compares every ACL: bench-acl-floor --read), on
# identical trees in the same run. Checks the trees end with the same ACLs.
# With PROFILE=1, also `strace -c -f` of a first apply and a re-apply on a
# fresh tree (syscall counts and time: where the time goes).
# With OTHER=BUILDDIR2, the first apply and re-apply of that build's
# apppoolctl too, on one more identical tree, in the same run (before/after).
# Usage: bench-acl-apply.sh BUILDDIR [DIRS] [FILES_PER_DIR] [WORKDIR]
set -eu
build=$(realpath "$1") dirs=${2:-100} per=${3:-1000} work=${4:-/var/tmp}
ctl=$build/examples/apppoolctl floor=$build/tests/bench/bench-acl-floor
tmp=$(mktemp -d "$work/apid-bench-apply-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export APPPOOLID_STATE_DIR=$tmp/state
"$ctl" pool add bench >/dev/null
uid=$("$ctl" pool show --json bench | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
trees="theirs ours floor floorfd"
[ "${PROFILE:-0}" = 1 ] && trees="$trees prof"
[ -n "${OTHER:-}" ] && trees="$trees other"
/usr/bin/python3 - "$tmp" "$dirs" "$per" $trees <<'PY'
import os, sys
base, dirs, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for tree in sys.argv[4:]:
    for d in range(dirs):
        p = os.path.join(base, tree, "d%03d" % d)
        os.makedirs(p)
        for f in range(per):
            os.close(os.open(os.path.join(p, "f%04d" % f), os.O_CREAT | os.O_WRONLY, 0o644))
PY
sync
now() { date +%s.%N; }
# CPU seconds (user + system) of a command too: on a shared machine the wall
# time also counts the time spent waiting for a core.
cpu() { local f=$1; shift; /usr/bin/time -f '%U %S' -o "$tmp/cpu.$f" "$@"; }
cpus() { awk '{printf "%.3f", $1 + $2}' "$tmp/cpu.$1"; }
spec='IIS AppPool\bench:(OI)(CI)RX'
t0=$(now); cpu setfacl setfacl -R -m "g:$uid:rx,d:g:$uid:rx" "$tmp/theirs"; t1=$(now)
cpu first "$ctl" grant "$tmp/ours" "$spec" -R --quiet > "$tmp/out1"; t2=$(now)
cpu again "$ctl" grant "$tmp/ours" "$spec" -R --quiet > "$tmp/out2"; t3=$(now)
if [ -n "${OTHER:-}" ]; then
        o0=$(now); "$OTHER/examples/apppoolctl" grant "$tmp/other" "$spec" -R --quiet >/dev/null; o1=$(now)
        "$OTHER/examples/apppoolctl" grant "$tmp/other" "$spec" -R --quiet >/dev/null; o2=$(now)
        /usr/bin/python3 -c "import sys; a,b,c=map(float,sys.argv[1:]); print(f'OTHER build: first apply {b-a:.3f} s, re-apply {c-b:.3f} s')" "$o0" "$o1" "$o2"
fi
fl=$(cpu floor "$floor" "$tmp/ours/d000/f0000" "$tmp/ours/d000" "$tmp/floor" 2)
flfd=$("$floor" --fd "$tmp/ours/d000/f0000" "$tmp/ours/d000" "$tmp/floorfd" 2)
# The read floor: the same walk reading every ACL of the applied tree and
# comparing it (the least a re-apply can do), run right after the re-apply.
flrd=$(cpu floorrd "$floor" --read "$tmp/ours/d000/f0000" "$tmp/ours/d000" "$tmp/ours" 2)
for t in theirs ours floor floorfd; do (cd "$tmp/$t" && getfacl -R -n . 2>/dev/null) > "$tmp/$t.acl"; done
same=yes
for t in ours floor floorfd; do cmp -s "$tmp/theirs.acl" "$tmp/$t.acl" || { same="NO ($t)"; diff "$tmp/theirs.acl" "$tmp/$t.acl" | head -5; }; done
echo "floor (setxattrat):          $fl"
echo "floor (openat+fsetxattr):    $flfd"
echo "read floor (getxattrat):     $flrd"
/usr/bin/python3 - "$t0" "$t1" "$t2" "$t3" "$dirs" "$per" "$same" "$fl" "$flrd" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:5])
dirs, per, same, fl = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7], float(sys.argv[8].split()[4])
rd = float(sys.argv[9].split()[4])
setfacl, ours, reapply = t1 - t0, t2 - t1, t3 - t2
n = dirs * per + dirs + 1
print(f"tree: {n} paths")
print(f"setfacl -R -m g:GID:rx,d:g:GID:rx        {setfacl:8.3f} s")
print(f"apppoolctl grant -R (OI)(CI)RX (first)   {ours:8.3f} s")
print(f"apppoolctl grant -R (OI)(CI)RX (again)   {reapply:8.3f} s")
print(f"floor: one blob write per path           {fl:8.3f} s")
print(f"read floor: one ACL read per path         {rd:8.3f} s")
print(f"same ACLs on all trees (getfacl -R):     {same}")
print(f"ratio setfacl / first apply:             {setfacl / ours:.2f}x   (target >= 2)")
print(f"ratio first apply / re-apply:            {ours / reapply:.2f}x   (target >= 10)")
print(f"first apply / floor:                     {ours / fl:.2f}x")
print(f"re-apply / read floor:                   {reapply / rd:.2f}x")
print(f"write floor / read floor:                {fl / rd:.2f}x   (the best first/re-apply ratio a program")
print(f"                                                  that reads every ACL could show)")
PY
echo "CPU seconds (user+sys): setfacl $(cpus setfacl), first apply $(cpus first), re-apply $(cpus again), floor $(cpus floor), read floor $(cpus floorrd)"
if [ "${PROFILE:-0}" = 1 ]; then
        echo "--- strace -c -f, first apply"
        strace -c -f -o "$tmp/strace1" "$ctl" grant "$tmp/prof" "$spec" -R --quiet >/dev/null; head -14 "$tmp/strace1"
        echo "--- strace -c -f, re-apply"
        strace -c -f -o "$tmp/strace2" "$ctl" grant "$tmp/prof" "$spec" -R --quiet >/dev/null; head -14 "$tmp/strace2"
fi
