#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The example host end to end, with curl: two pools, two sites, a crashing
# third site; the kernel (not the host) denies site A a file of site B; ps
# shows each site's workers under its pool's uid; a killed worker restarts;
# rapid-fail protection stops a pool; a malformed request gets 400 and the
# worker lives on; a recycle drops no request; SIGTERM leaves nothing behind.
# Needs root. Usage: test-host.sh APPPOOL_HOST APPPOOL_WORKER APPPOOLCTL
set -u
. "$(dirname "$0")/../cli/testlib.sh"
host=$1 worker=$2 ctl=$3
[ "$(id -u)" = 0 ] || { echo "SKIP: the host runs workers as other uids: needs root"; exit 77; }
command -v curl >/dev/null || { echo "curl is needed (Debian package curl)"; exit 1; }
tmp=$(mktemp -d /tmp/apid-host-XXXXXX)
chmod 755 "$tmp"
export APPPOOLID_STATE_DIR=$tmp/state APPPOOL_WORKER=$worker
hpid=
cleanup() { [ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pa=$(port) pb=$(port) pc=$(port)
cat > "$tmp/host.ini" <<INI
[host]
shutdown_timeout = 5
[pool PoolA]
[pool PoolB]
[pool Crashy]
rapid_fail_max_crashes = 3
rapid_fail_interval = 60
[site A]
pool = PoolA
root = $tmp/www/a
listen = 127.0.0.1:$pa
workers = 2
[site B]
pool = PoolB
root = $tmp/www/b
listen = 127.0.0.1:$pb
workers = 1
[site C]
pool = Crashy
root = $tmp/www/c
listen = 127.0.0.1:$pc
workers = 1
program = /bin/false
INI
mkdir -p "$tmp/www/b"
echo "secret of B" > "$tmp/www/b/secret.txt"
chmod 750 "$tmp/www/b"; chmod 640 "$tmp/www/b/secret.txt"
"$host" --config "$tmp/host.ini" 2> "$tmp/log" &
hpid=$!
for i in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$pa/" && curl -s -o /dev/null "http://127.0.0.1:$pb/" && break; sleep 0.1; done

# Each site serves its own files.
check "site A page" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/")"
curl -s "http://127.0.0.1:$pa/" | grep -q "Site A"; check "site A content" 0 $?
check "site B file" "secret of B" "$(curl -s "http://127.0.0.1:$pb/secret.txt")"
check "HEAD" "" "$(curl -s -I "http://127.0.0.1:$pb/secret.txt" -o /dev/null -w '' ; curl -s --head "http://127.0.0.1:$pb/secret.txt" | tr -d '\r' | sed -n '/^$/,$p' | tail -n +2)"
check "HEAD length" "Content-Length: 12" "$(curl -s --head "http://127.0.0.1:$pb/secret.txt" | tr -d '\r' | grep Content-Length)"
check "content type" "Content-Type: text/plain; charset=utf-8" "$(curl -s --head "http://127.0.0.1:$pb/secret.txt" | tr -d '\r' | grep Content-Type)"
check "404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/nothing-here")"
check "traversal refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "http://127.0.0.1:$pa/../b/secret.txt")"
check "encoded traversal refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "http://127.0.0.1:$pa/%2e%2e/b/secret.txt")"
check "POST" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$pa/")"
check "keep-alive: two requests, one connection" "200 200" \
        "$(curl -s -o /dev/null -o /dev/null -w '%{http_code} ' "http://127.0.0.1:$pa/" "http://127.0.0.1:$pa/index.html" | sed 's/ $//')"

# A link in A's root to B's file: the kernel says no to pool A, so 403.
ln -s "$tmp/www/b/secret.txt" "$tmp/www/a/stolen.txt"
check "link to another pool's file" 403 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/stolen.txt")"
check "the file itself is fine" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pb/secret.txt")"

# ps: each site's workers run as its pool's uid.
uida=$("$ctl" pool show --json PoolA | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
uidb=$("$ctl" pool show --json PoolB | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
check "ps: site A workers" 2 "$(ps -o uid= --ppid "$hpid" | grep -cw "$uida")"
check "ps: site B workers" 1 "$(ps -o uid= --ppid "$hpid" | grep -cw "$uidb")"

# A malformed request gets 400, and the worker lives on.
before=$(ps -o pid= -u "$uidb" | sort | tr -d ' ')
exec 5<>"/dev/tcp/127.0.0.1/$pb"
printf 'GARBAGE\r\n\r\n' >&5
reply=$(timeout 2 head -1 <&5 | tr -d '\r')
exec 5>&-
check "malformed request" "HTTP/1.1 400 Bad Request" "$reply"
check "worker lives on" "$before" "$(ps -o pid= -u "$uidb" | sort | tr -d ' ')"
check "and serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pb/secret.txt")"

# Killing a worker gets it restarted.
victim=$(ps -o pid= -u "$uidb" | head -1 | tr -d ' ')
kill -KILL "$victim"
for i in $(seq 50); do now=$(ps -o pid= -u "$uidb" | head -1 | tr -d ' '); [ -n "$now" ] && [ "$now" != "$victim" ] && break; sleep 0.1; done
check "restarted" 1 "$([ -n "$now" ] && [ "$now" != "$victim" ] && echo 1 || echo 0)"
check "still serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pb/secret.txt")"

# The crashing site trips rapid-fail protection: pool Crashy stops.
for i in $(seq 50); do grep -q "pool Crashy stopped: rapid-fail protection, 3 failures in 60 s" "$tmp/log" && break; sleep 0.1; done
grep -q "pool Crashy stopped: rapid-fail protection, 3 failures in 60 s" "$tmp/log"; check "rapid-fail" 0 $?
check "no more restarts" 3 "$(grep -c 'worker started: site C' "$tmp/log")"

# Recycle under load: no request fails.
( for i in $(seq 200); do curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$pa/"; done ) > "$tmp/codes" &
loader=$!
sleep 0.2; kill -HUP "$hpid"; sleep 0.3; kill -HUP "$hpid"
wait $loader
check "recycle dropped nothing" "200" "$(sort -u "$tmp/codes" | tr '\n' ' ' | sed 's/ $//')"
grep -q "pool PoolA recycled (on demand)" "$tmp/log"; check "recycled" 0 $?

# Status on SIGUSR1.
kill -USR1 "$hpid"; sleep 0.2
grep -q "status: pool PoolA (uid $uida) started" "$tmp/log"; check "status" 0 $?

# SIGTERM: the host exits, and no process of any pool remains.
kill -TERM "$hpid"
timeout 10 tail --pid="$hpid" -f /dev/null
check "host exited" 1 "$(kill -0 "$hpid" 2>/dev/null && echo 0 || echo 1)"
hpid=
check "no worker left" "" "$(ps -o pid= -u "$uida,$uidb" 2>/dev/null | tr -d ' ')"
grep -q "apppool-host: stopped" "$tmp/log"; check "logged stop" 0 $?

if [ "$fail" -ne 0 ]; then echo "--- host log"; cat "$tmp/log"; fi
finish
