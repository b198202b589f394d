# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the shell tests: check NAME EXPECTED ACTUAL, and the closing line.
# Source it: . "$(dirname "$0")/testlib.sh"
pass=0
fail=0
check() {
        if [ "$2" == "$3" ]; then
                pass=$((pass + 1))
        else
                fail=$((fail + 1))
                printf 'FAIL %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3"
        fi
}
# The closing "N passed, N failed" line; the exit status is the verdict.
finish() {
        echo "$pass passed, $fail failed"
        [ "$fail" -eq 0 ]
}
