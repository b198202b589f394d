#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The launch settings file and SQLite loaded on demand (issue 17: run):
# - every kind of write publishes launch-settings (mode 0600, root's) with
#   the snapshot's generation; a writer killed between COMMIT and
#   publication leaves the old one, which a reader does not repair and the
#   next writer does;
# - `run` with a current file opens neither registry.db nor libsqlite3, and
#   its worker is the same as with the registry answering;
# - a stale, forged, truncated, group-readable, other-owned, symlinked or
#   FIFO file is ignored: run opens the registry, same result, no hang;
# - libapppoolid has no libsqlite3 in DT_NEEDED, and SQLite that cannot be
#   loaded (a bind mount over it, in a private mount namespace) is an error
#   naming the library, while run with a current file still works.
# Needs root and strace (skips otherwise).
# Usage: test-launch-settings.sh APPPOOLCTL LIBAPPPOOLID SHIM
set -u
. "$(dirname "$0")/../cli/testlib.sh"
ctl=$1 lib=$2 shim=$3
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v strace >/dev/null || { echo "SKIP: strace not installed"; exit 77; }
tmp=$(mktemp -d /tmp/apid-launch-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
state=$tmp/state
export APPPOOLID_STATE_DIR=$state
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
lf=$(dirname "$0")/launchfile.py
sp=$(dirname "$0")/snapshot.py
launch_gen() { /usr/bin/python3 "$lf" generation "$state/launch-settings" 2>/dev/null || echo none; }
snap_gen() { /usr/bin/python3 "$sp" generation "$state/nss-snapshot"; }
registry_gen() {
        /usr/bin/python3 - "$state/registry.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(db.execute("SELECT value FROM config WHERE name = 'nss.generation'").fetchone()[0])
PY
}
published() { # WHAT: the file is current and root's alone
        check "$1: launch-settings generation" "$(snap_gen)" "$(launch_gen)"
        check "$1: snapshot is the registry's" "$(registry_gen)" "$(snap_gen)"
        check "$1: mode and owner" "600 0:0 regular file" "$(stat -c '%a %u:%g %F' "$state/launch-settings")"
}
# What a worker sees: who it is, its limits, caps, seccomp, environment, cwd.
probe='id; grep -E "^(Cap|NoNewPrivs|Seccomp|Groups)" /proc/self/status; ulimit -a; env | sort; pwd'
worker() { "$ctl" run "$1" -- /bin/sh -c "$probe" </dev/null 2>&1; }
# Files run opens under the state directory, and whether it loads SQLite.
opens() {
        strace -f -qq -e trace=open,openat,openat2 -o "$tmp/trace" "$ctl" run "$1" -- /bin/true </dev/null >/dev/null 2>&1
        echo "status $?"
        grep -v ENOENT "$tmp/trace" | grep -oE 'registry\.db|libsqlite3[^"]*|launch-settings("|\.pending)' | tr -d '"' |
                sort -u | paste -sd' '
}

# Every kind of write publishes it.
"$ctl" pool add web >/dev/null
published "pool add"
"$ctl" pool add api >/dev/null
"$ctl" pool set web processModel.loadUserProfile=true >/dev/null
published "pool set"
"$ctl" pool set web processModel.maxProcesses=3 >/dev/null
"$ctl" registry set sharedGroup apppool-users >/dev/null
published "registry set (a complete snapshot)"
"$ctl" pool add gone >/dev/null
"$ctl" pool delete gone --keep-profile >/dev/null
published "pool delete"
check "pool delete: its record gone" "API WEB" "$(/usr/bin/python3 "$lf" keys "$state/launch-settings")"
"$ctl" registry export "$tmp/export.ini" >/dev/null
"$ctl" registry import "$tmp/export.ini" >/dev/null
published "registry import"

# A write rebuilds only the pools it changed, copying the others from the
# previous generation's file: the same records as files built whole (here:
# the file removed before each write, in a second state directory).
writes=("pool add a1" "pool add a2" "pool add a3" "pool set a2 processModel.loadUserProfile=true"
        "pool set a1 processModel.maxProcesses=2" "pool delete a3 --keep-profile" "registry set sharedGroup apppool-users"
        "pool add a4" "pool set a4 failure.rapidFailProtection=false" "pool delete a1 --keep-profile" "pool add a5")
for d in "$tmp/inc" "$tmp/whole"; do
        for w in "${writes[@]}"; do
                [ "$d" = "$tmp/whole" ] && rm -f "$d/launch-settings"
                read -r -a argv <<<"$w"
                APPPOOLID_STATE_DIR=$d "$ctl" "${argv[@]}" >/dev/null 2>&1
        done
done
inc=$(/usr/bin/python3 "$lf" dump "$tmp/inc/launch-settings" | sed "s|$tmp/inc|DIR|g")
check "incremental: the records of files built whole" "$inc" \
        "$(/usr/bin/python3 "$lf" dump "$tmp/whole/launch-settings" | sed "s|$tmp/whole|DIR|g")"
check "incremental: every pool" "A2 A4 A5" "$(/usr/bin/python3 "$lf" keys "$tmp/inc/launch-settings")"
check "incremental: settings kept" 1 "$(grep -c "^.* A4 a4 apppool-a4 .*failure.rapidFailProtection false" <<<"$inc")"

# run with the file: no registry, no SQLite; the same worker as without.
check "run, file current: opens" "status 0
launch-settings launch-settings.pending" "$(opens web)"
with=$(worker web)
check "worker ran as the pool" 1 "$(grep -c "^uid=$("$ctl" pool show --json web | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])') " <<<"$with")"
check "token show with the file" "$("$ctl" token show web)" "$(APPPOOLID_LOOKUP_CACHE=0 "$ctl" token show web)"
cp -p "$state/launch-settings" "$tmp/good"
restore() { rm -f "$state/launch-settings"; cp -p "$tmp/good" "$state/launch-settings"; }
rm "$state/launch-settings"
check "run, no file: opens the registry" "status 0
launch-settings.pending libsqlite3.so.0 registry.db" "$(opens web)"
check "run, no file: the same worker" "$with" "$(worker web)"
check "run, cache off: the same worker" "$with" "$(APPPOOLID_LOOKUP_CACHE=0 worker web)"

# Refused files: each time the registry answers, the same.
refused() { # WHAT
        check "$1: run opens the registry" "status 0
launch-settings launch-settings.pending libsqlite3.so.0 registry.db" "$(timeout 20 bash -c "$(declare -f opens); tmp=$tmp ctl=$ctl opens web")"
        check "$1: the same worker" "$with" "$(timeout 20 bash -c "$(declare -f worker); probe='$probe' ctl=$ctl worker web")"
        restore
}
restore
/usr/bin/python3 "$lf" set-generation "$state/launch-settings" $(( $(snap_gen) - 1 ))
refused "stale generation"
/usr/bin/python3 "$lf" set-uid "$state/launch-settings" WEB 70000
refused "forged record (uid not the snapshot's)"
truncate -s -8 "$state/launch-settings"
refused "truncated"
head -c 40 "$tmp/good" >"$state/launch-settings"
refused "shorter than its header"
printf 'X' | dd of="$state/launch-settings" bs=1 seek=3 conv=notrunc status=none
refused "bad magic"
chmod 640 "$state/launch-settings"
refused "group-readable"
chown nobody "$state/launch-settings"
refused "owned by nobody"
rm "$state/launch-settings"; cp -p "$tmp/good" "$tmp/elsewhere"; ln -s "$tmp/elsewhere" "$state/launch-settings"
refused "a symlink to a good copy"
rm "$state/launch-settings"; mkfifo -m 600 "$state/launch-settings"
refused "a FIFO (no hang)"
check "the file is as restored" "$(cmp "$tmp/good" "$state/launch-settings" && echo same)" same

# Killed between COMMIT and publication: the old file stays; a reader does
# not repair it; the next writer does.
gen=$(launch_gen)
LD_PRELOAD=$shim APID_TEST_KILL_AT_PUBLISH=1 "$ctl" pool set web processModel.maxProcesses=4 >/dev/null 2>&1
check "writer killed by SIGKILL" 137 $?
check "killed: the registry one ahead" "$((gen + 1))" "$(registry_gen)"
check "killed: the old file stays" "$gen" "$(launch_gen)"
before=$(stat -c '%i %s %Y' "$state/launch-settings" "$state/nss-snapshot")
"$ctl" run web -- /bin/true && "$ctl" pool show web >/dev/null
check "killed: readers repair nothing" "$before" "$(stat -c '%i %s %Y' "$state/launch-settings" "$state/nss-snapshot")"
# ... and do not trust it: the writer announced its generation before its
# COMMIT, so the old file is not taken (a review found run launching with
# the settings of before the change).
check "killed: run asks the registry" "status 0
launch-settings.pending libsqlite3.so.0 registry.db" "$(opens web)"
check "killed: the committed change is what a launch gets" \
        "$(APPPOOLID_LOOKUP_CACHE=0 "$ctl" token show web)" "$("$ctl" token show web)"
"$ctl" pool add next >/dev/null
published "the next writer repairs"
check "repaired: the killed writer's change is in the worker's limits" \
        "$(APPPOOLID_LOOKUP_CACHE=0 "$ctl" token show web)" "$("$ctl" token show web)"

# A pool deleted while older files come back (a restore, or files of the
# generation before): not launched from the old file.
"$ctl" pool add gone >/dev/null
cp -p "$state/launch-settings" "$tmp/old-launch"; cp -p "$state/nss-snapshot" "$tmp/old-snap"
"$ctl" pool delete gone --keep-profile >/dev/null
cp -p "$tmp/old-launch" "$state/launch-settings"; cp -p "$tmp/old-snap" "$state/nss-snapshot"
check "an older file: a deleted pool does not open" "" "$("$ctl" token show gone 2>/dev/null)"
"$ctl" pool add again >/dev/null
published "after older files, the next writer"

# One pool whose record cannot be built (its account row gone: a damaged
# registry) is left out of the file; every other write goes on (a review
# found every full rebuild refused, naming that unrelated pool).
"$ctl" pool add broken >/dev/null
/usr/bin/python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM accounts WHERE uid = (SELECT uid FROM pools WHERE key = ?)", ("broken",))
db.commit()' "$state/registry.db"
rm "$state/launch-settings"
out=$("$ctl" pool add after-broken 2>&1); code=$?
check "a broken pool: the next write succeeds" "0" "$code"
check "a broken pool: nothing said of it" "" "$(echo "$out" | grep -i broken | grep -vi after-broken)"
published "a broken pool: the file"
check "a broken pool: others still launch from the file" "status 0
launch-settings launch-settings.pending" "$(opens web)"
"$ctl" pool delete after-broken --keep-profile >/dev/null

# SQLite on demand.
check "libapppoolid: no libsqlite3 in DT_NEEDED" "" "$(readelf -d "$lib" | grep -F 'NEEDED' | grep -F libsqlite3)"
check "libapppoolid: the DT_NEEDED test sees libraries" 1 "$(readelf -d "$lib" | grep -F NEEDED | grep -c libacl)"
real=$(readlink -f "$(/sbin/ldconfig -p | awk '/libsqlite3\.so\.0 .*x86-64|libsqlite3\.so\.0 \(/ {print $NF; exit}')")
[ -f "$real" ]; check "the system's libsqlite3 found ($real)" 0 $?
unusable=$(unshare -m bash -c '
        mount --make-rprivate / && mount --bind /dev/null "$1" || exit 99
        shift; ctl=$1
        "$ctl" pool list 2>&1; echo "status $?"
        "$ctl" run web -- /bin/true; echo "run status $?"' - "$real" "$ctl")
check "no SQLite: pool list fails" 1 "$(grep -c '^status 1$' <<<"$unusable")"
check "no SQLite: the message names the library and dlerror()" 1 \
        "$(grep -cE 'libsqlite3\.so\.0.*could not be loaded.*: .*libsqlite3\.so\.0: .*(too short|invalid ELF)' <<<"$unusable")"
check "no SQLite: run with a current file works" 1 "$(grep -c '^run status 0$' <<<"$unusable")"
finish
