#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Not a test: run the host suite N times in a row (default 20) and count the
# runs that failed, to show that it does not flake.
# Usage: host-repeat.sh BUILDDIR [N]
set -u
build=$1 n=${2:-20} failed=0
for i in $(seq "$n"); do
        if meson test -C "$build" --suite host --no-rebuild > /dev/null 2>&1; then
                echo "run $i: ok"
        else
                failed=$((failed + 1))
                echo "run $i: FAILED"; grep -E "^FAIL" -A2 "$build/meson-logs/testlog.txt" | head -20
        fi
done
echo "$n runs of the host suite, $failed failed"
[ "$failed" -eq 0 ]
