#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The rename-swap attack on a recursive grant (issue 16): a pool that can
# write inside a tree swaps its files, directories and symbolic links to
# outside the tree (renameat2 RENAME_EXCHANGE) for the whole run, while its
# administrator runs grant -R and remove -R over the tree, again and again.
# Every run must complete (exit 0, "Failed processing 0 files"), report each
# entry it left alone and why, and never change anything outside the tree.
# Usage: test-acl-race.sh APPPOOLCTL ACL-SWAPPER [RUNS]
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$(command -v "$1" || echo "$1"); [[ $ctl = /* ]] || ctl=$PWD/$ctl
swapper=$(command -v "$2" || echo "$2"); [[ $swapper = /* ]] || swapper=$PWD/$swapper
runs=${3:-20}
tmp=$(mktemp -d /tmp/apid-aclrace-XXXXXX)
spid=
cleanup() {
        [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp"
export APPPOOLID_STATE_DIR=$tmp/state
"$ctl" pool add attacker reader >/dev/null
uid_of() { "$ctl" pool show --json "$1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])'; }
auid=$(uid_of attacker) ruid=$(uid_of reader)

# Outside the tree: a file and a directory the links point to.
mkdir -p "$tmp/outside/dir" && echo secret > "$tmp/outside/canary" && echo x > "$tmp/outside/dir/inner"
chmod 600 "$tmp/outside/canary"
outside_before=$(getfacl -R -n -p "$tmp/outside" 2>/dev/null)

# The tree, the attacker's own (it may write everywhere in it).
pairs=()
for k in 0 1 2 3 4 5 6 7; do
        mkdir -p "$tmp/tree/d$k/s"
        for f in $(seq 0 29); do : > "$tmp/tree/d$k/f$f"; done
        for f in $(seq 0 9); do : > "$tmp/tree/d$k/s/g$f"; done
        ln -s "$tmp/outside/canary" "$tmp/tree/lf$k"
        ln -s "$tmp/outside/dir" "$tmp/tree/ld$k"
        ln -s "$tmp/outside/dir" "$tmp/tree/d$k/ls"
        ln -s "$tmp/outside" "$tmp/tree/lt$k"
        pairs+=("d$k/f0" "lf$k"        # file <-> link to a file outside
                "d$k/s" "d$k/ls"       # directory <-> link to a directory outside
                "d$k/f1" "d$k/s"       # file <-> directory
                "d$k/s/g0" "ld$k"      # a file deeper down <-> link
                "d$k" "lt$k")          # a top-level directory <-> link
done
chown -R -h "$auid:$auid" "$tmp/tree"

"$swapper" "$auid" "$auid" "$tmp/tree" "${pairs[@]}" > "$tmp/swaps" &
spid=$!
for _ in $(seq 1 600); do grep -q ready "$tmp/swaps" && break; sleep 0.1; done
check "swapper running" "ready" "$(head -1 "$tmp/swaps")"

summary_re='^Successfully processed [0-9]+ files \([0-9]+ changed(, [0-9]+ skipped)?\); Failed processing 0 files$'
skip_re='^(processed file: .+|skipped: [^:]+: (symbolic link|changed type during the walk; left alone|changed during the walk: .*; left alone))$'
bad=0 incomplete=0 raced=0 i=0
# At least RUNS runs, and more (up to 200) until a run has met a swap.
while [ $i -lt "$runs" ] || { [ $raced -eq 0 ] && [ $i -lt 200 ]; }; do
        if [ $((i % 2)) -eq 0 ]; then
                "$ctl" grant "$tmp/tree" 'IIS AppPool\reader:(OI)(CI)RX' -R > "$tmp/out" 2>&1
        else
                "$ctl" remove "$tmp/tree" 'IIS AppPool\reader' -R > "$tmp/out" 2>&1
        fi
        status=$?
        if [ $status -ne 0 ] || ! tail -1 "$tmp/out" | grep -Eq "$summary_re"; then
                incomplete=$((incomplete + 1))
                echo "run $i: exit $status:"; tail -3 "$tmp/out"
        fi
        # Every other line is a changed entry, or a skipped one, named, with why.
        n=$(head -n -1 "$tmp/out" | grep -Evc "$skip_re")
        if [ "$n" -ne 0 ]; then
                bad=$((bad + 1))
                echo "run $i: unexpected lines:"; head -n -1 "$tmp/out" | grep -Ev "$skip_re" | head -3
        fi
        # ... and the summary counts exactly those lines.
        listed=$(grep -c '^skipped: ' "$tmp/out")
        counted=$(tail -1 "$tmp/out" | sed -n 's/.*changed, \([0-9]*\) skipped).*/\1/p')
        if [ "${counted:-0}" -ne "$listed" ]; then
                bad=$((bad + 1))
                echo "run $i: $listed skipped lines, summary says ${counted:-0}"
        fi
        raced=$((raced + $(grep -c 'changed during the walk\|changed type during the walk' "$tmp/out")))
        i=$((i + 1))
done
kill "$spid"; wait "$spid"; spid=
echo "$i runs, $raced entries skipped as changed during the walk; swapper: $(tail -1 "$tmp/swaps")"
check "every run completed" 0 "$incomplete"
check "every skipped entry reported with why, and counted" 0 "$bad"
check "the runs met the swaps" 1 "$((raced > 0))"
check "nothing outside the tree changed" "$outside_before" "$(getfacl -R -n -p "$tmp/outside" 2>/dev/null)"

# Without the swaps, a last grant reaches every file and directory of the tree.
"$ctl" grant "$tmp/tree" 'IIS AppPool\reader:(OI)(CI)RX' -R > "$tmp/out" 2>&1
check "last run" 0 $?
entries=$(find "$tmp/tree" -type f -o -type d | wc -l)
granted=$(getfacl -R -n -p "$tmp/tree" 2>/dev/null | grep -c "^group:$ruid:r-x")
check "every entry granted" "$entries" "$granted"
check "outside still unchanged" "$outside_before" "$(getfacl -R -n -p "$tmp/outside" 2>/dev/null)"
finish
