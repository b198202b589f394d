#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The pool's identity in every worker's token, through apppoolctl: two pools
# share NetworkService, a file is granted to IIS AppPool\A; only A's worker
# reads it (apppoolctl run), also after A's identity type changes; token show
# names the pool group. Needs root (skips otherwise).
# Usage: test-inject-cli.sh APPPOOLCTL
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$1
[ "$(id -u)" = 0 ] || { echo "SKIP: run needs root"; exit 77; }
tmp=$(mktemp -d /tmp/apid-injectcli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 711 "$tmp"
export APPPOOLID_STATE_DIR=$tmp/state
for p in A B; do
        "$ctl" pool add $p >/dev/null
        "$ctl" pool set $p processModel.identityType=NetworkService >/dev/null
done
gid=$("$ctl" pool show --json A | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["poolGid"])')
echo secret > "$tmp/a" && chown 65534:65534 "$tmp/a" && chmod 600 "$tmp/a"
"$ctl" grant "$tmp/a" 'IIS AppPool\A:R' >/dev/null
check "the grant is A's group entry" "group:$gid:r--" "$(getfacl -cnp "$tmp/a" 2>/dev/null | grep "^group:$gid:")"
"$ctl" run A -- cat "$tmp/a" >/dev/null 2>&1; check "A reads its file" 0 $?
"$ctl" run B -- cat "$tmp/a" >/dev/null 2>&1; check "B, also NetworkService, is refused" 1 $?
"$ctl" token show A | grep -q "^pool group: $gid apppool-a (IIS APPPOOL\\\\A), a supplementary group"
check "token show names the pool group" 0 $?
"$ctl" pool set A processModel.identityType=ApplicationPoolIdentity >/dev/null
"$ctl" run A -- cat "$tmp/a" >/dev/null 2>&1; check "A reads it as ApplicationPoolIdentity" 0 $?
"$ctl" run B -- cat "$tmp/a" >/dev/null 2>&1; check "B still refused" 1 $?
"$ctl" pool set A processModel.identityType=NetworkService >/dev/null
"$ctl" run A -- cat "$tmp/a" >/dev/null 2>&1; check "A reads it as NetworkService again" 0 $?
"$ctl" pool show A | grep -q "^pool group:    $gid apppool-a (a supplementary group"
check "pool show names the pool group" 0 $?
check "lookup of the name getfacl shows" "IIS APPPOOL\\A $gid" "$("$ctl" lookup --json apppool-a |
        /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["account"], d["poolGid"])')"
finish
