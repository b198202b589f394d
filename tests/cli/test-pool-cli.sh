#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# apppoolctl pool/identity/registry end to end, on a private state directory.
# Usage: test-pool-cli.sh APPPOOLCTL
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$1
export APPPOOLID_STATE_DIR=$(mktemp -d /tmp/apid-cli-XXXXXX)
trap 'rm -rf "$APPPOOLID_STATE_DIR" /tmp/apid-cli-out.$$ /tmp/apid-cli-err.$$' EXIT
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }
dap=S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415

check "add" 'APPPOOL object "DefaultAppPool" added' "$("$ctl" pool add DefaultAppPool | cut -d' ' -f1-4)"
"$ctl" pool add web 'Classic .NET AppPool' >/dev/null; check "add two" 0 $?
check "list" $'Classic .NET AppPool\nDefaultAppPool\nweb' "$("$ctl" pool list | sed 's/^APPPOOL "\(.*\)" (.*$/\1/')"
check "list json" 3 "$("$ctl" pool list --json | json '.__len__()')"

# pool show --json: the keys the issue names, the real values.
out=$("$ctl" pool show --json defaultapppool)
check "show name" DefaultAppPool "$(json "['name']" <<< "$out")"
check "show sid" "$dap" "$(json "['sid']" <<< "$out")"
check "show account" 'IIS APPPOOL\DefaultAppPool' "$(json "['account']" <<< "$out")"
check "show user" apppool-defaultapppool "$(json "['user']" <<< "$out")"
uid=$(json "['uid']" <<< "$out")
check "show uid in range" 1 "$(( uid >= 1879048192 && uid < 1879048192 + 16777216 ))"
check "show gid" "$uid" "$(json "['gid']" <<< "$out")"
check "show profile" None "$(json "['profile']" <<< "$out")"
check "show text uid" "uid:           $uid" "$("$ctl" pool show DefaultAppPool | grep '^uid:')"

# identity lookups, four ways.
check "identity by uid" DefaultAppPool "$("$ctl" identity --json "$uid" | json "['name']")"
check "identity by user" "$uid" "$("$ctl" identity --json apppool-defaultapppool | json "['uid']")"
check "identity by sid" "$uid" "$("$ctl" identity --json "$dap" | json "['uid']")"
check "identity by account" "$uid" "$("$ctl" identity --json 'IIS AppPool\DEFAULTAPPPOOL' | json "['uid']")"

# set, appcmd style and key=value; bad values change nothing.
"$ctl" pool set web /processModel.maxProcesses:3 failure.rapidFailProtectionMaxCrashes=7 >/dev/null
check "set" "3 7" "$("$ctl" pool show --json web | json "['settings']['processModel.maxProcesses']+' '+d['settings']['failure.rapidFailProtectionMaxCrashes']")"
"$ctl" pool set web processModel.maxProcesses=5 processModel.idleTimeout=99 >/dev/null 2>/tmp/apid-cli-err.$$
check "set bad status" 1 $?
check "set bad message" "apppoolctl: processModel.idleTimeout '99': not a time span [d.]hh:mm:ss" "$(cat /tmp/apid-cli-err.$$)"
check "set bad changed nothing" 3 "$("$ctl" pool show --json web | json "['settings']['processModel.maxProcesses']")"

# Errors: exit 1 with the library's message.
"$ctl" pool show nosuchpool >/dev/null 2>/tmp/apid-cli-err.$$; check "show missing status" 1 $?
check "show missing message" "apppoolctl: pool 'nosuchpool': no such pool" "$(cat /tmp/apid-cli-err.$$)"
"$ctl" pool add WEB >/dev/null 2>/tmp/apid-cli-err.$$; check "add duplicate" 1 $?
check "add duplicate message" "apppoolctl: pool 'WEB': already exists (as 'web')" "$(cat /tmp/apid-cli-err.$$)"
"$ctl" pool add ok 'a|b' >/dev/null 2>&1; check "add bad status" 1 $?
"$ctl" pool show ok >/dev/null 2>&1; check "add bad added nothing" 1 $?
"$ctl" pool delete web >/dev/null 2>&1; check "delete needs a profile choice" 2 $?

# export from this host, import on another: the same uid.
"$ctl" registry export "$APPPOOLID_STATE_DIR/farm.tsv"; check "export" 0 $?
other=$(mktemp -d /tmp/apid-cli-XXXXXX)
APPPOOLID_STATE_DIR=$other "$ctl" registry import "$APPPOOLID_STATE_DIR/farm.tsv"; check "import" 0 $?
check "imported uid" "$uid" "$(APPPOOLID_STATE_DIR=$other "$ctl" pool show --json DefaultAppPool | json "['uid']")"
rm -rf "$other"

# registry settings and the principal.
check "registry get" 1879048192 "$("$ctl" registry get idRangeStart)"
"$ctl" registry set idRangeStart 12 2>/dev/null; check "registry set bad" 1 $?
check "principal" "$(hostname)" "$(KRB5_CONFIG=/nonexistent "$ctl" registry principal)"

# delete
check "delete" 'APPPOOL object "web" deleted' "$("$ctl" pool delete web --remove-profile)"
"$ctl" pool show web >/dev/null 2>&1; check "deleted" 1 $?

finish
