#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The NSS snapshot is published after COMMIT, with the registry's generation
# (issue 17):
# - a writer killed (SIGKILL, by the kill-at-publish shim) between COMMIT and
#   publication leaves the previous snapshot, which never holds an account
#   the registry lacks; the next writer publishes one that holds both;
# - 15 rounds of 6 writers killed with kill -9 at random moments leave no
#   temporary file, and after the next writer the snapshot is the registry's;
# - format 3: deltas over a complete base, compacted past 128 changes.
# Usage: test-publish.sh APPPOOLCTL SHIM
set -u
. "$(dirname "$0")/../cli/testlib.sh"
ctl=$1
shim=$2
tmp=$(mktemp -d /tmp/apid-publish-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
state=$tmp/state
export APPPOOLID_STATE_DIR=$state
# ASan wants to be first in the preload list; the shim does not mind.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# Users of the live pools in the registry, and the registry's generation.
registry_users() {
        /usr/bin/python3 - "$state/registry.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(" ".join(sorted(r[0] for r in db.execute(
    "SELECT a.user FROM accounts a JOIN pools p ON p.uid = a.uid"))))
PY
}
registry_generation() {
        /usr/bin/python3 - "$state/registry.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(db.execute("SELECT value FROM config WHERE name = 'nss.generation'").fetchone()[0])
PY
}
snap=$(dirname "$0")/snapshot.py
snapshot_users() { /usr/bin/python3 "$snap" users "$state/nss-snapshot"; }
snapshot_generation() { /usr/bin/python3 "$snap" generation "$state/nss-snapshot"; }
snapshot_base() { /usr/bin/python3 "$snap" base "$state/nss-snapshot"; }
# Anything but the registry, the launch settings, the head, its lock and
# the one base the head needs (a complete head is its own base, linked under both names).
litter() {
        local need
        need=$(snapshot_base)
        [ "$need" = 0 ] && need=$(snapshot_generation)
        (cd "$state" && ls | grep -vxE "registry\\.db(-wal|-shm)?|launch-settings(\\.pending)?|nss-snapshot(\\.lock)?|nss-snapshot\\.base-$need" | paste -sd' ')
}

"$ctl" pool add web >/dev/null
check "generation published" "$(registry_generation)" "$(snapshot_generation)"
gen=$(snapshot_generation)

# Killed between COMMIT and publication.
LD_PRELOAD=$shim APID_TEST_KILL_AT_PUBLISH=1 "$ctl" pool add api >/dev/null 2>&1
check "writer killed by SIGKILL" 137 $?
check "the change is committed" "apppool-api apppool-web" "$(registry_users)"
check "the old snapshot stays" "apppool-web" "$(snapshot_users)"
check "... with its generation" "$gen" "$(snapshot_generation)"
check "registry one generation ahead" "$((gen + 1))" "$(registry_generation)"
# A failed write (a bad value) publishes nothing and changes nothing.
"$ctl" pool set web processModel.idleTimeout=99 2>/dev/null
check "failed write refused" 1 $?
check "failed write published nothing" "$gen" "$(snapshot_generation)"
# Killed while deleting: the deleted pool's account stays reserved in the
# registry (rows are never deleted), so the old snapshot holds nothing the
# registry lacks.
LD_PRELOAD=$shim APID_TEST_KILL_AT_PUBLISH=1 "$ctl" pool delete web --keep-profile >/dev/null 2>&1
check "deleting writer killed" 137 $?
"$ctl" pool add next >/dev/null
check "next writer repairs" "apppool-api apppool-next" "$(snapshot_users)"
check "next writer's generation" "$(registry_generation)" "$(snapshot_generation)"
check "no litter after kills" "" "$(litter)"

# 15 rounds of 6 writers, killed at random moments.
for round in $(seq 1 15); do
        pids=()
        for w in 1 2 3 4 5 6; do
                "$ctl" pool add "r${round}w$w" >/dev/null 2>&1 &
                pids+=($!)
        done
        # A random moment within a writer's life (a few ms to ~100 ms): not
        # a synchronisation, the point is to land anywhere in the write.
        sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
        kill -9 "${pids[@]}" 2>/dev/null
        wait "${pids[@]}" 2>/dev/null
        # Readers at this point never see what the registry lacks.
        missing=$(comm -23 <(snapshot_users | tr ' ' '\n') <(registry_users | tr ' ' '\n'))
        [ -z "$missing" ] || check "round $round: snapshot holds only registry accounts" "" "$missing"
done
check "rounds: no temporary file left" "" "$(litter)"
"$ctl" pool add final >/dev/null
check "rounds: the next writer publishes the registry" "$(registry_users)" "$(snapshot_users)"
check "rounds: generations agree" "$(registry_generation)" "$(snapshot_generation)"
check "rounds: no litter" "" "$(litter)"

# Format 3: a write publishes a delta over the last complete snapshot; past
# 128 changes since it, the next write publishes a complete one again, and
# the base the deltas needed goes.
"$ctl" pool add delta1 >/dev/null
base=$(snapshot_base)
[ "$base" -gt 0 ]; check "one pool add publishes a delta" 0 $?
check "delta: the registry's users" "$(registry_users)" "$(snapshot_users)"
"$ctl" pool delete delta1 --keep-profile >/dev/null
check "delta: a deleted pool is gone" "$(registry_users)" "$(snapshot_users)"
check "delta: over the same base" "$base" "$(snapshot_base)"
"$ctl" pool add $(seq 1 130 | sed 's/^/bulk/') >/dev/null # one write each
[ "$(snapshot_base)" -gt "$base" ]; check "130 changes: a new complete base" 0 $?
check "compacted: the registry's users" "$(registry_users)" "$(snapshot_users)"
check "compacted: the old base removed" "" "$(litter)"
"$ctl" registry set sharedGroup apppool-users >/dev/null
check "a registry setting: a complete snapshot" 0 "$(snapshot_base)"
"$ctl" pool add delta2 >/dev/null
check "the next write: a delta over it" "$(( $(registry_generation) - 1 ))" "$(snapshot_base)"
check "delta: the registry's users" "$(registry_users)" "$(snapshot_users)"
check "no litter at the end" "" "$(litter)"
finish
