#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The example host end to end, with curl: two pools, two sites, a crashing
# third site; the kernel (not the host) denies site A a file of site B; ps
# shows each site's workers under its pool's uid; a killed worker restarts;
# rapid-fail protection stops a pool; a malformed request gets 400 and the
# worker lives on; a recycle drops no request; SIGTERM leaves nothing behind.
# And the attacks: paths that try to leave the document root (raw requests,
# not normalised by curl), a worker that tries to truncate and forge the
# host's log, slow and idle clients, oversized heads, smuggled bodies,
# a worker out of descriptors, a recycle whose replacement cannot start.
# Site F serves A's root with a worker that finds no openat2 (ENOSYS), so
# its fallback walk is tested the same way.
# Needs root. Usage: test-host.sh APPPOOL_HOST APPPOOL_WORKER APPPOOLCTL NO_OPENAT2
set -u
. "$(dirname "$0")/../cli/testlib.sh"
# Absolute paths: a worker starts in its profile or /, never in our directory.
host=$(realpath "$1") worker=$(realpath "$2") ctl=$(realpath "$3") no_openat2=$(realpath "$4")
[ "$(id -u)" = 0 ] || { echo "SKIP: the host runs workers as other uids: needs root"; exit 77; }
command -v curl >/dev/null || { echo "curl is needed (Debian package curl)"; exit 1; }
tmp=$(mktemp -d /tmp/apid-host-XXXXXX)
chmod 755 "$tmp"
export APPPOOLID_STATE_DIR=$tmp/state APPPOOL_WORKER=$worker
raw="/usr/bin/python3 $(dirname "$0")/raw.py"
hpid=
cleanup() { [ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pa=$(port) pb=$(port) pc=$(port) pd=$(port) pe=$(port) pf=$(port)
mkdir -p "$tmp/bin"; chmod 755 "$tmp/bin"
# Site D's program: a worker that attacks the host's log through its stderr.
cat > "$tmp/bin/liar.py" <<'PY'
#!/usr/bin/python3
import os, signal
try:
    os.ftruncate(2, 0)
    print("ftruncate(2): done", flush=True)
except OSError as e:
    print("ftruncate(2): " + e.strerror, flush=True)
os.write(2, b"2026-01-01T00:00:00 apppool-host: pool PoolA stopped: forged\n")
os.write(2, b"no newline at the end, then \x1b[2J an escape")
os.write(4, b"READY=1\n")
signal.pause()
PY
# Site E's program: the real worker, with few descriptors (EMFILE test); the
# test swaps it for a failing one to make a recycle's replacement fail.
printf '#!/bin/sh\nulimit -n 24\nexec %s "$@"\n' "$worker" > "$tmp/bin/wrap.sh"
printf '#!/bin/sh\nexec %s %s "$@"\n' "$no_openat2" "$worker" > "$tmp/bin/walk.sh"
chmod 755 "$tmp/bin/liar.py" "$tmp/bin/wrap.sh" "$tmp/bin/walk.sh"
cat > "$tmp/host.ini" <<INI
[host]
shutdown_timeout = 5
header_timeout = 3
idle_timeout = 2
[pool PoolA]
[pool PoolB]
[pool Crashy]
rapid_fail_max_crashes = 3
rapid_fail_interval = 60
startMode = AlwaysRunning
[pool PoolD]
startMode = AlwaysRunning
processModel.pingingEnabled = false
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
[site D]
pool = PoolD
root = $tmp/www/d
listen = 127.0.0.1:$pd
program = $tmp/bin/liar.py
[site E]
pool = PoolE
root = $tmp/www/e
listen = 127.0.0.1:$pe
program = $tmp/bin/wrap.sh
[site F]
pool = PoolA
root = $tmp/www/a
listen = 127.0.0.1:$pf
program = $tmp/bin/walk.sh
INI
mkdir -p "$tmp/www/b"
echo "secret of B" > "$tmp/www/b/secret.txt"
chmod 750 "$tmp/www/b"; chmod 640 "$tmp/www/b/secret.txt"
"$host" --config "$tmp/host.ini" 2> "$tmp/log" &
hpid=$!
for i in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$pa/" && curl -s -o /dev/null "http://127.0.0.1:$pb/" && curl -s -o /dev/null "http://127.0.0.1:$pe/" && break; sleep 0.1; done

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

# Traversal: every form gets 400, 403 or 404, never the file. Links in A's
# root lead to /etc, /proc, the registry's directory and two levels up; the
# kernel (openat2 RESOLVE_BENEATH) refuses to follow them out of the root.
ln -s /etc "$tmp/www/a/etc"; ln -s /proc "$tmp/www/a/proc"; ln -s "$tmp/state" "$tmp/www/a/state"
ln -s ../.. "$tmp/www/a/up"; ln -s index.html "$tmp/www/a/alias.html"
check "a link inside the root is followed" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/alias.html")"
db=${tmp#/}/state/registry.db
n=0
while read -r target; do
        [ -z "$target" ] && continue
        n=$((n + 1))
        got=$($raw req "$pa" "GET $target HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        case $got in 400|403|404) ok=1 ;; *) ok=0 ;; esac
        check "traversal $target -> 400/403/404, no content" 1 "$([ $ok = 1 ] && echo 1 || echo "$got")"
done <<TARGETS
//etc/passwd
/%2Fetc/passwd
/%2fetc/passwd
/../../../../../../etc/passwd
/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd
/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd
/%2E%2e/%2e%2E/%2e%2e/%2e%2e/etc/passwd
/.%2e/.%2e/.%2e/.%2e/etc/passwd
/%2e./%2e./%2e./%2e./etc/passwd
/./etc/passwd
/%2e/etc/passwd
/%C0%AE%C0%AE/%C0%AE%C0%AE/%C0%AE%C0%AE/etc/passwd
/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd
/%c0%af%c0%afetc%c0%afpasswd
/%E0%80%AE%E0%80%AE/%E0%80%AE%E0%80%AE/etc/passwd
/..\\..\\..\\etc\\passwd
/%5C..%5C..%5Cetc%5Cpasswd
/%5c..%5c..%5cetc%5cpasswd
/etc/passwd%00.html
/%00/etc/passwd
/etc/passwd
/etc/shadow
/proc/self/root/etc/passwd
/proc/1/root/etc/passwd
/proc/self/cwd/etc/passwd
/proc/self/fd/0
/up/../../../etc/passwd
/up/up/up/etc/passwd
http://x/etc/passwd
http://127.0.0.1/../../etc/passwd
/$db
//$db
/%2F${db//\//%2F}
/state/registry.db
/state/registry.db-wal
/%252e%252e/%252e%252e/etc/passwd
/..;/..;/etc/passwd
TARGETS
check "traversal forms tried" 1 "$([ "$n" -ge 20 ] && echo 1 || echo "$n")"
# Without openat2 (site F, same root): the same forms are refused, files
# are served, and links are not followed at all.
for i in $(seq 50); do curl -s -m 5 -o /dev/null "http://127.0.0.1:$pf/" && break; sleep 0.1; done
check "no openat2: a file" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pf/index.html")"
check "no openat2: the root" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pf/")"
check "no openat2: an in-root link is refused" 403 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pf/alias.html")"
# (A link met on the way is not a directory to an O_NOFOLLOW walk: 404.)
for t in /etc/passwd:404 /state/registry.db:404 /proc/self/root/etc/passwd:404 /up/etc/passwd:404 \
        //etc/passwd:400 /%2Fetc/passwd:400 /%2e%2e/etc/passwd:400; do
        got=$($raw req "$pf" "GET ${t%:*} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check "no openat2: ${t%:*}" "${t##*:}" "$got"
done

# Heads and bodies: 431 for a head over 8 KiB; a body on GET (length or
# chunked) gets one 4xx and the connection closes, so a second request
# smuggled in the body is never answered.
check "9 KiB head" "431 closed" "$($raw count "$pa" "GET / HTTP/1.1\r\nHost: x\r\nHUGE\r\n\r\n")"
check "GET with a body, smuggled request" "413 closed" \
        "$($raw count "$pa" "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 34\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")"
check "chunked GET, smuggled request" "400 closed" \
        "$($raw count "$pa" "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")"
check "length and chunked" "400 closed" \
        "$($raw count "$pa" "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")"
check "two lengths" "400 closed" "$($raw count "$pa" "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n")"
check "pipelined keep-alive still works" "200 200 closed" \
        "$($raw count "$pa" "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")"

# Timeouts (header_timeout = 3, idle_timeout = 2): a slowloris client that
# never ends its head is cut off; an idle keep-alive connection closes.
slow=$($raw slow "$pa")
check "slowloris closed after the header timeout" 1 "$(/usr/bin/python3 -c "print(int(2.5 <= float('$slow') <= 8))" 2>/dev/null || echo "$slow")"
idle=$($raw idle "$pa")
check "idle keep-alive closed after the idle timeout" 1 "$(/usr/bin/python3 -c "print(int(1.5 <= float('$idle') <= 6))" 2>/dev/null || echo "$idle")"

# EMFILE: site E's worker has 24 descriptors; 60 silent connections exhaust
# them. The worker must not spin on its readable listening socket: its CPU
# time over the 2.5 s stays low, and it serves again afterwards.
epid=$(ps -o pid=,args= --ppid "$hpid" | awk -v r="$tmp/www/e" '$NF == r {print $1; exit}')
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
before=$(cpu "$epid")
$raw hold "$pe" 60 2.5
after=$(cpu "$epid")
hz=$(getconf CLK_TCK)
check "EMFILE: no busy loop (CPU ticks over 2.5 s < 0.4 s)" 1 "$([ $((after - before)) -lt $((hz * 4 / 10)) ] && echo 1 || echo "$((after - before)) ticks")"
for i in $(seq 50); do code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pe/"); [ "$code" = 200 ] && break; sleep 0.1; done
check "EMFILE: serves again" 200 "$code"
grep -q "site E, pool PoolE, pid $epid: " "$tmp/log"; check "EMFILE: nothing logged by the worker" 1 $?

# The log pipe: site D's worker tried to truncate its stderr and to forge
# a host line; the host's log has its lines, prefixed, and nothing else.
dpid=$(ps -o pid=,args= --ppid "$hpid" | awk '/liar.py/ {print $1; exit}')
for i in $(seq 50); do grep -q "pid $dpid: ftruncate" "$tmp/log" && break; sleep 0.1; done
check "log: not truncated" 1 "$(head -1 "$tmp/log" | grep -c "apppool-host: pool .* created")"
check "log: ftruncate refused" 1 "$(grep -c "site D, pool PoolD, pid $dpid: ftruncate(2): Invalid argument" "$tmp/log")"
check "log: the forged line is prefixed" 1 "$(grep -c "apppool-host: site D, pool PoolD, pid $dpid: 2026-01-01T00:00:00 apppool-host: pool PoolA stopped: forged" "$tmp/log")"
check "log: no line starts with the forgery" 0 "$(grep -c '^2026-01-01T00:00:00' "$tmp/log")"
check "log: no escape byte" 0 "$(grep -c $'\x1b' "$tmp/log")"

# A link in A's root to B's file: the kernel says no to pool A, so 403.
ln -s "$tmp/www/b/secret.txt" "$tmp/www/a/stolen.txt"
check "link to another pool's file" 403 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/stolen.txt")"
check "the file itself is fine" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pb/secret.txt")"

# ps: each site's workers run as its pool's uid.
uida=$("$ctl" pool show --json PoolA | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
uidb=$("$ctl" pool show --json PoolB | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
check "ps: PoolA's workers (2 of site A, 1 of site F)" 3 "$(ps -o uid= --ppid "$hpid" | grep -cw "$uida")"
check "ps: site B workers" 1 "$(ps -o uid= --ppid "$hpid" | grep -cw "$uidb")"

# A malformed request gets 400, and the worker lives on.
# (Workers are found as the host's children: another run of this suite may
# have workers of the same pools, so the same uids, at the same time.)
bworkers() { ps -o pid=,uid= --ppid "$hpid" | awk -v u="$uidb" '$2 == u {print $1}' | sort; }
before=$(bworkers)
exec 5<>"/dev/tcp/127.0.0.1/$pb"
printf 'GARBAGE\r\n\r\n' >&5
reply=$(timeout 2 head -1 <&5 | tr -d '\r')
exec 5>&-
check "malformed request" "HTTP/1.1 400 Bad Request" "$reply"
check "worker lives on" "$before" "$(bworkers)"
check "and serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pb/secret.txt")"

# Killing a worker gets it restarted.
victim=$(bworkers | head -1)
kill -KILL "$victim"
for i in $(seq 50); do now=$(bworkers | head -1); [ -n "$now" ] && [ "$now" != "$victim" ] && break; sleep 0.1; done
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

# The flake of old: a connection an old worker accepted, whose request had
# not arrived when the worker was told to stop, was closed unanswered. Now
# the old worker serves it (within the header timeout) after the recycle.
$raw late "$pa" "$tmp/go" > "$tmp/late" &
late=$!
for i in $(seq 100); do lport=$(head -1 "$tmp/late" 2>/dev/null); [ -n "$lport" ] && break; sleep 0.05; done
for i in $(seq 100); do
        owner=$(ss -Htnp state established "( sport = :$pa and dport = :$lport )" | grep -o 'pid=[0-9]*' | head -1)
        [ -n "$owner" ] && break; sleep 0.05
done
owner=${owner#pid=}
n0=$(grep -c "pool PoolA recycled" "$tmp/log")
kill -HUP "$hpid"
for i in $(seq 100); do [ "$(grep -c "pool PoolA recycled" "$tmp/log")" -gt "$n0" ] && break; sleep 0.05; done
check "accepting worker found" 1 "$([ -n "$owner" ] && echo 1 || echo 0)"
check "the old worker is still finishing it" 1 "$(ps -o pid= --ppid "$hpid" | grep -cw "$owner")"
touch "$tmp/go"
wait $late
check "a request that arrives after the stop is answered" "200 closed" "$(tail -1 "$tmp/late")"

# A recycle whose replacement cannot start: the old worker keeps serving,
# and the failure is logged. Then a good recycle replaces it.
eold=$(ps -o pid=,args= --ppid "$hpid" | awk -v r="$tmp/www/e" '$NF == r {print $1; exit}')
cp "$tmp/bin/wrap.sh" "$tmp/bin/wrap.good"
printf '#!/bin/sh\nexit 3\n' > "$tmp/bin/wrap.sh"
kill -HUP "$hpid"
for i in $(seq 100); do grep -q "pool PoolE: recycle (on demand) failed" "$tmp/log" && break; sleep 0.1; done
check "failed recycle logged" 1 "$(grep -c "pool PoolE: recycle (on demand) failed: new worker pid [0-9]* exited (status 3) before it was ready; the old workers keep serving" "$tmp/log")"
check "old worker kept" "$eold" "$(ps -o pid=,args= --ppid "$hpid" | awk -v r="$tmp/www/e" '$NF == r {print $1; exit}')"
check "and serves" 200 "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pe/")"
cp "$tmp/bin/wrap.good" "$tmp/bin/wrap.sh"
n0=$(grep -c "pool PoolE recycled" "$tmp/log")
kill -HUP "$hpid"
for i in $(seq 100); do [ "$(grep -c "pool PoolE recycled" "$tmp/log")" -gt "$n0" ] && break; sleep 0.1; done
check "good recycle replaces it" 1 "$([ "$(grep -c "pool PoolE recycled" "$tmp/log")" -gt "$n0" ] && echo 1 || echo 0)"
for i in $(seq 100); do kill -0 "$eold" 2>/dev/null || break; sleep 0.1; done
check "old worker gone" 1 "$(kill -0 "$eold" 2>/dev/null && echo 0 || echo 1)"

# Status on SIGUSR1.
kill -USR1 "$hpid"; sleep 0.2
grep -q "status: pool PoolA (uid $uida) started" "$tmp/log"; check "status" 0 $?

# SIGTERM: the host exits, and none of its workers remains.
all=$(ps -o pid= --ppid "$hpid" | tr -d ' ')
kill -TERM "$hpid"
timeout 10 tail --pid="$hpid" -f /dev/null
check "host exited" 1 "$(kill -0 "$hpid" 2>/dev/null && echo 0 || echo 1)"
hpid=
check "no worker left" "" "$(for p in $all; do kill -0 "$p" 2>/dev/null && echo "$p"; done)"
grep -q "apppool-host: stopped" "$tmp/log"; check "logged stop" 0 $?

if [ "$fail" -ne 0 ]; then echo "--- host log"; cat "$tmp/log"; fi
finish
