#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end tests of the built apppoolctl: output, JSON, exit statuses, messages.
# Usage: test-apppoolctl.sh APPPOOLCTL VECTORS_TSV
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$1
vectors=$2


# Every Windows-printed vector, through the command line.
while IFS=$'\t' read -r kind name sid _; do
        case $kind in
        pool) check "sid $name" "$sid" "$("$ctl" sid "$name")" ;;
        service) check "sid --service $name" "$sid" "$("$ctl" sid --service "$name")" ;;
        esac
done < <(grep -v '^#' "$vectors")

dap=S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415
ti=S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464

# Several names, one line each, in order; case does not matter.
check "two names" "$dap"$'\n'"$dap" "$("$ctl" sid DefaultAppPool defaultapppool)"
check "json" '{"name":"DefaultAppPool","account":"IIS APPPOOL\\DefaultAppPool","sid":"'$dap'"}' \
        "$("$ctl" sid --json DefaultAppPool)"
check "json service" '{"name":"TrustedInstaller","account":"NT SERVICE\\TrustedInstaller","sid":"'$ti'"}' \
        "$("$ctl" sid --service --json TrustedInstaller)"
check "json quotes" '"name":"a\"b"' "$("$ctl" sid --service --json 'a"b' 2>/dev/null | grep -o '"name":"a\\"b"')"

# Bad input: exit 1, the library's message on stderr, nothing on stdout (all or nothing).
out=$("$ctl" sid DefaultAppPool 'a/b' 2>/tmp/apppoolctl-err.$$); rc=$?
check "bad name status" 1 "$rc"
check "bad name stdout" "" "$out"
check "bad name message" "apppoolctl: pool name 'a/b': character '/' is not allowed" "$(cat /tmp/apppoolctl-err.$$)"
"$ctl" sid '' >/dev/null 2>/tmp/apppoolctl-err.$$; rc=$?
check "empty name status" 1 "$rc"
check "empty name message" "apppoolctl: pool name '': must not be empty" "$(cat /tmp/apppoolctl-err.$$)"
"$ctl" sid --service 'a\b' >/dev/null 2>/tmp/apppoolctl-err.$$; rc=$?
check "bad service status" 1 "$rc"
check "bad service message" "apppoolctl: service name 'a\\b': character '\\' is not allowed" "$(cat /tmp/apppoolctl-err.$$)"
rm -f /tmp/apppoolctl-err.$$

# Usage errors: exit 2.
"$ctl" >/dev/null 2>&1; check "no command" 2 $?
"$ctl" frobnicate >/dev/null 2>&1; check "unknown command" 2 $?
"$ctl" sid >/dev/null 2>&1; check "sid without name" 2 $?
"$ctl" sid --bogus x >/dev/null 2>&1; check "bad option" 2 $?

# Help and version.
"$ctl" --help | grep -q '^Usage: apppoolctl'; check "help" 0 $?
"$ctl" sid --help | grep -q 'sid \[--service\]'; check "sid help" 0 $?
check "version" 1 "$("$ctl" --version | grep -c '^apppoolctl [0-9]*\.[0-9]*\.[0-9]* (libapppoolid [0-9.]*)$')"

# lookup: both ways.
check "lookup names" $'NT AUTHORITY\\SYSTEM\tS-1-5-18\nBUILTIN\\IIS_IUSRS\tS-1-5-32-568\nIIS APPPOOL\\DefaultAppPool\t'$dap \
        "$("$ctl" lookup system S-1-5-32-568 'IIS AppPool\DefaultAppPool')"
check "lookup json" '{"name":"S-1-5-20","account":"NT AUTHORITY\\NETWORK SERVICE","sid":"S-1-5-20"}' \
        "$("$ctl" lookup --json S-1-5-20)"
"$ctl" lookup nobody >/dev/null 2>&1; check "lookup unknown" 1 $?
check "lookup bad sid" "apppoolctl: SID 'S-1-5-x': the sub-authority at position 7 must be a decimal number below 2^32 without leading zeros" \
        "$("$ctl" lookup S-1-5-x 2>&1)"

finish
