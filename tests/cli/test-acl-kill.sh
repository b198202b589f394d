#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# kill -9 in the middle of `grant -R --journal`, at several points, then
# `acl restore` of the journal: the tree's ACLs are exactly those of before
# (getfacl -R, byte for byte). The tree starts varied (named and numeric
# entries, default ACLs, setgid, hostile names) so a restore that writes a
# generic ACL would show. The kill point is set by the grant's own output:
# its stdout is a one-page pipe that the driver reads N "processed file"
# lines from, then kills; the grant cannot run ahead of the driver by more
# than the pipe and its stdio buffer, so it is killed mid-run whatever the
# speed of the machine (checked: killed by SIGKILL, tree partly changed).
# Usage: test-acl-kill.sh APPPOOLCTL
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$(command -v "$1" || echo "$1"); [[ $ctl = /* ]] || ctl=$PWD/$ctl
tmp=$(mktemp -d /tmp/apid-aclkill-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export APPPOOLID_STATE_DIR=$tmp/state
"$ctl" pool add KillPool >/dev/null || { echo "pool add failed"; exit 1; }
t=$tmp/tree

/usr/bin/python3 - "$t" <<'PY'
import os, sys
base = sys.argv[1]
for d in range(12):
    p = os.path.join(base, "d%02d" % d)
    os.makedirs(p)
    for f in range(60):
        os.close(os.open(os.path.join(p, "f%02d" % f), os.O_CREAT | os.O_WRONLY, 0o640))
for name in ("with space", "back\\slash", "new\nline", "-lead"):
    os.close(os.open(os.path.join(base, "d00", name), os.O_CREAT | os.O_WRONLY, 0o600))
PY
setfacl -m u:1:r,g:4:rw "$t"/d01/f0* "$t/d00/back\\slash"
setfacl -m u:4000000001:rwx "$t"/d02/f1*
setfacl -m d:u:2:rx,d:g:4:r "$t/d03" "$t/d04"
setfacl -m g:4:rx "$t/d05"
chmod g+s "$t/d06"; chmod 700 "$t/d07"
snap() { (cd "$tmp" && getfacl -R tree 2>/dev/null; echo .); }
before=$(snap)
total=$(grep -c '^# file:' <<< "$before")

# Run the grant; kill -9 it after N lines of its output (0: let it finish).
# Prints the grant's wait status.
grant_killed_after() {
        /usr/bin/python3 - "$1" "$ctl" "$t" "$tmp/journal" <<'PY'
import fcntl, os, signal, subprocess, sys
n, ctl, tree, journal = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ: one page
p = subprocess.Popen([ctl, "grant", tree, "IIS AppPool\\KillPool:(OI)(CI)M", "-R", "--journal", journal],
                     stdout=w, stderr=subprocess.DEVNULL)
os.close(w)
f = os.fdopen(r, "rb")
got = 0
while n and got < n and f.readline():
    got += 1
if n:
    p.send_signal(signal.SIGKILL)
    print(p.wait())
else:
    f.read()
    print(p.wait())
PY
}

for n in 1 40 200 400; do
        status=$(grant_killed_after "$n")
        check "killed after $n lines: by SIGKILL" "-9" "$status"
        after=$(snap)
        [ "$after" != "$before" ]; check "killed after $n lines: the tree was partly changed" 0 $?
        blocks=$(grep -c '^# file:' "$tmp/journal")
        [ "$blocks" -ge 1 ] && [ "$blocks" -lt "$total" ]; check "killed after $n lines: journal partial ($blocks of $total)" 0 $?
        "$ctl" acl restore "$tmp/journal" --base / >/dev/null 2>"$tmp/err"
        check "killed after $n lines: restore" "0 " "$? $(cat "$tmp/err")"
        check "killed after $n lines: ACLs of before, byte for byte" "$before" "$(snap)"
done
# The whole run, then its journal: the same.
check "complete run" 0 "$(grant_killed_after 0)"
full=$(snap)
[ "$full" != "$before" ]; check "complete run changed the tree" 0 $?
"$ctl" acl restore "$tmp/journal" --base / >/dev/null; check "complete run: restore" 0 $?
check "complete run: ACLs of before, byte for byte" "$before" "$(snap)"
# Killed, then run again: the second run finishes the tree (paths done are
# left alone), to exactly what one uninterrupted run gives.
check "killed before a second run" "-9" "$(grant_killed_after 200)"
out=$("$ctl" grant "$t" 'IIS AppPool\KillPool:(OI)(CI)M' -R --quiet | tail -1)
changed=$(sed -n 's/.*(\([0-9]*\) changed).*/\1/p' <<< "$out")
[ "$changed" -ge 1 ] && [ "$changed" -lt "$total" ]; check "second run changed only the rest ($changed of $total)" 0 $?
check "second run: as one uninterrupted run" "$full" "$(snap)"
finish
