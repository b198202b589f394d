#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark: the cost of one `pool add` with 100 pools and with 10,000 (issue
# 17: within 1.5x), median of 7, in the same run. Each registry is filled
# first, then 7 more pools are added one at a time, each timed.
# Usage: bench-pool-add.sh APPPOOLCTL [SMALL] [LARGE]
set -eu
ctl=$1 small=${2:-100} large=${3:-10000}
tmp=$(mktemp -d /tmp/apid-bench-add-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
median_ms() { # STATE_DIR: fill, then time 7 single adds
        export APPPOOLID_STATE_DIR=$1
        seq 1 "$2" | sed 's/^/Fill/' | xargs -n 500 "$ctl" pool add >/dev/null
        for i in 1 2 3 4 5 6 7; do
                s=$(date +%s%N)
                "$ctl" pool add "Timed$i" >/dev/null
                echo $(( ($(date +%s%N) - s) / 1000 ))
        done | sort -n | sed -n 4p
}
a=$(median_ms "$tmp/small" "$small")
b=$(median_ms "$tmp/large" "$large")
printf 'pool add, median of 7, %6d pools: %8.2f ms\n' "$small" "$(echo "$a / 1000" | bc -l)"
printf 'pool add, median of 7, %6d pools: %8.2f ms\n' "$large" "$(echo "$b / 1000" | bc -l)"
printf 'ratio %d / %d pools: %.2f (goal <= 1.5)\n' "$large" "$small" "$(echo "$b / $a" | bc -l)"
