#!/bin/bash
# How long a writer waits while another process's NSS answers slowly.
# Process S adds pools with every getpw*/getgr* call delayed by DELAY ms (the
# LD_PRELOAD shim, in S only); process F adds N pools meanwhile and the
# latency of each of F's `pool add` is reported (median and max, ms), with
# and without S running.
# Usage: bench-slow-nss.sh APPPOOLCTL NSS_SHIM [N] [DELAY]
set -u
ctl=$1 shim=$2 n=${3:-20} delay=${4:-50}
tmp=$(mktemp -d /tmp/apid-bench-slow-XXXXXX)
trap 'kill "$slow" 2>/dev/null; rm -rf "$tmp"' EXIT
export APPPOOLID_STATE_DIR=$tmp/state
"$ctl" pool add seed >/dev/null
run_fast() {
        local i t0 t1
        for i in $(seq "$n"); do
                t0=$(date +%s%N)
                "$ctl" pool add "fast$1-$i" >/dev/null || echo "fast add failed" >&2
                t1=$(date +%s%N)
                echo $(( (t1 - t0) / 1000000 ))
        done | sort -n | awk '{a[NR]=$1} END {printf "median %d ms, max %d ms (%d adds)\n", a[int((NR+1)/2)], a[NR], NR}'
}
echo "alone:                  $(run_fast a)"
writer() { local i=0; while :; do i=$((i + 1)); LD_PRELOAD=$shim APID_SHIM_DELAY_MS=$1 "$ctl" pool add "$2-$i" >/dev/null 2>&1; done; }
writer 0 busy &
slow=$!
sleep 1
echo "with a 0 ms NSS writer: $(run_fast c)"
kill "$slow"; wait "$slow" 2>/dev/null
writer "$delay" slow &
slow=$!
sleep 1
echo "with a ${delay} ms NSS writer: $(run_fast b)"
kill "$slow"; wait "$slow" 2>/dev/null
