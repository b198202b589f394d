#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# apppoolctl run and token show. Needs root (skips otherwise).
# Usage: test-run-cli.sh APPPOOLCTL
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$1
[ "$(id -u)" = 0 ] || { echo "SKIP: run needs root"; exit 77; }
tmp=$(mktemp -d /tmp/apid-runcli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export APPPOOLID_STATE_DIR=$tmp/state
"$ctl" pool add web >/dev/null
uid=$("$ctl" pool show --json web | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
check "run id" "uid=$uid gid=$uid groups=$uid" "$("$ctl" run web -- id)"
"$ctl" run web -- sh -c 'exit 7'; check "exit status passed through" 7 $?
"$ctl" run web -- sh -c 'kill -TERM $$'; check "signal passed through" 143 $?
check "step error" "apppoolctl: execve(/nonexistent): No such file or directory" "$("$ctl" run web -- /nonexistent 2>&1)"
"$ctl" run web -- /nonexistent 2>/dev/null; check "step error status" 1 $?
check "chdir error" "apppoolctl: chdir(/root): Permission denied" "$("$ctl" run web --cwd /root -- true 2>&1)"
check "kept cap" "CapAmb:	0000000000000400" "$("$ctl" run web --cap net_bind_service -- grep CapAmb /proc/self/status)"
check "no caps" "CapEff:	0000000000000000" "$("$ctl" run web -- grep CapEff /proc/self/status)"
check "env" "FOO=bar" "$("$ctl" run web --env FOO=bar -- env | grep FOO)"
check "clean env" "" "$(SECRET=1 "$ctl" run web -- env | grep SECRET)"
"$ctl" run web --cap cap_fly -- true 2>/dev/null; check "bad cap" 1 $?
"$ctl" run nosuch -- true 2>/dev/null; check "no pool" 1 $?
"$ctl" run web 2>/dev/null; check "no program" 2 $?
"$ctl" token show web | grep -q '^no_new_privs: yes$'; check "token show" 0 $?
"$ctl" token show web | grep -q "^uid: $uid$"; check "token show uid" 0 $?
finish
