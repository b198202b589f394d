#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The example host under load and faults. wrk, 64 connections over two
# sites for 20 s while the test sends 20 recycles (SIGHUP): no failed
# request, no socket error. Then kill -9 of a random worker every 200 ms
# for 10 s: the host restarts them; the failures (only requests in flight
# on a killed worker may fail) are reported. Then the host itself gets
# SIGKILL: no worker survives it (parent-death signal), and a new host
# starts cleanly on the same state and ports.
# Needs root and wrk. Usage: test-host-load.sh APPPOOL_HOST APPPOOL_WORKER
set -u
. "$(dirname "$0")/../cli/testlib.sh"
host=$1 worker=$2
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for t in wrk curl; do command -v $t >/dev/null || { echo "$t is needed (Debian package $t)"; exit 1; }; done
tmp=$(mktemp -d /tmp/apid-host-load-XXXXXX)
chmod 755 "$tmp"
export APPPOOLID_STATE_DIR=$tmp/state APPPOOL_WORKER=$worker
hpid=
cleanup() { [ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pa=$(port) pb=$(port)
cat > "$tmp/host.ini" <<INI
[host]
shutdown_timeout = 5
[pool LoadA]
rapid_fail_max_crashes = 1000
[pool LoadB]
rapid_fail_max_crashes = 1000
[site A]
pool = LoadA
root = $tmp/www/a
listen = 127.0.0.1:$pa
workers = 2
[site B]
pool = LoadB
root = $tmp/www/b
listen = 127.0.0.1:$pb
workers = 2
INI
start_host() {
        "$host" --config "$tmp/host.ini" 2>> "$tmp/log" &
        hpid=$!
        for i in $(seq 100); do
                curl -s -o /dev/null "http://127.0.0.1:$pa/" && curl -s -o /dev/null "http://127.0.0.1:$pb/" && return 0
                sleep 0.1
        done
        return 1
}
workers() { ps -o pid= --ppid "$hpid" | tr -d ' '; }
# "requests errors non2xx" from wrk's report.
summary() {
        awk '/requests in/ {r = $1} /Socket errors/ {gsub(",", ""); e = $4 + $6 + $8 + $10}
             /Non-2xx/ {n = $NF} END {print r + 0, e + 0, n + 0}' "$1"
}
start_host; check "host started" 0 $?

# 20 recycles under load.
wrk -t2 -c32 -d20s "http://127.0.0.1:$pa/" > "$tmp/wrk-a" 2>&1 &
wa=$!
wrk -t2 -c32 -d20s "http://127.0.0.1:$pb/" > "$tmp/wrk-b" 2>&1 &
wb=$!
for i in $(seq 20); do sleep 0.9; kill -HUP "$hpid"; done
wait $wa $wb
read -r ra ea na < <(summary "$tmp/wrk-a")
read -r rb eb nb < <(summary "$tmp/wrk-b")
echo "recycles: $((ra + rb)) requests, $((ea + eb)) socket errors, $((na + nb)) non-2xx"
check "requests served during recycles" 1 "$([ $((ra + rb)) -gt 1000 ] && echo 1 || echo $((ra + rb)))"
check "socket errors during 20 recycles" 0 $((ea + eb))
check "failed requests during 20 recycles" 0 $((na + nb))
# A SIGHUP during a recycle queues one more, so close ones merge.
nrec=$(grep -c "pool LoadA recycled" "$tmp/log")
echo "pool LoadA: $nrec recycles completed for 20 SIGHUPs"
check "recycles completed" 1 "$([ "$nrec" -ge 10 ] && echo 1 || echo "$nrec")"
grep "recycle.*failed" "$tmp/log" | head -3

# kill -9 a random worker every 200 ms for 10 s.
wrk -t2 -c32 -d10s "http://127.0.0.1:$pa/" > "$tmp/wrk-a" 2>&1 &
wa=$!
wrk -t2 -c32 -d10s "http://127.0.0.1:$pb/" > "$tmp/wrk-b" 2>&1 &
wb=$!
kills=0
for i in $(seq 50); do
        victim=$(workers | shuf -n 1)
        [ -n "$victim" ] && kill -KILL "$victim" 2>/dev/null && kills=$((kills + 1))
        sleep 0.2
done
wait $wa $wb
read -r ra ea na < <(summary "$tmp/wrk-a")
read -r rb eb nb < <(summary "$tmp/wrk-b")
echo "kill -9: $kills workers killed; $((ra + rb)) requests, $((ea + eb)) socket errors, $((na + nb)) non-2xx"
for i in $(seq 100); do [ "$(workers | wc -l)" = 4 ] && break; sleep 0.1; done
check "every worker restarted" 4 "$(workers | wc -l)"
check "serves after the kills" "200 200" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/") $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pb/")"
check "kill -9 gave no non-2xx answer" 0 $((na + nb))

# SIGKILL the host: no worker survives; a new host starts on the same ports.
pids=$(workers)
kill -KILL "$hpid"; wait "$hpid" 2>/dev/null
hpid=
for i in $(seq 50); do left=$(for p in $pids; do kill -0 "$p" 2>/dev/null && echo "$p"; done); [ -z "$left" ] && break; sleep 0.1; done
check "no worker survives the host" "" "$left"
start_host; check "a new host starts on the same state and ports" 0 $?
check "and serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/")"
kill -TERM "$hpid"; timeout 10 tail --pid="$hpid" -f /dev/null
check "stops" 1 "$(kill -0 "$hpid" 2>/dev/null && echo 0 || echo 1)"
hpid=
if [ "$fail" -ne 0 ]; then echo "--- host log (last 40 lines)"; tail -40 "$tmp/log"; fi
finish
