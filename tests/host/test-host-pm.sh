#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The example host's IIS process model, each setting with small intervals,
# with real processes and curl: on-demand start (the first connection is
# served) and processModel.idleTimeout; pings (a worker stopped with SIGSTOP
# is replaced); recycling by requests, private and virtual memory and time
# of day, each overlapping and logged with its reason; maxProcesses and
# queueLength (ss shows the backlog); every key's validation. Then the status
# page: /status.json parsed and compared with ps and apppoolctl, every value
# escaped (a pool and a site named to break HTML), and the page rendered by
# headless Chromium: its DOM holds the pools and the live pids ps shows, and
# a phone-sized screenshot is not blank.
# Needs root. Usage: test-host-pm.sh APPPOOL_HOST APPPOOL_WORKER APPPOOLCTL
set -u
. "$(dirname "$0")/../cli/testlib.sh"
host=$(realpath "$1") worker=$(realpath "$2") ctl=$(realpath "$3")
here=$(realpath "$(dirname "$0")")
[ "$(id -u)" = 0 ] || { echo "SKIP: the host runs workers as other uids: needs root"; exit 77; }
command -v curl >/dev/null || { echo "curl is needed (Debian package curl)"; exit 1; }
tmp=$(mktemp -d /tmp/apid-host-pm-XXXXXX)
chmod 755 "$tmp"
export APPPOOLID_STATE_DIR=$tmp/state APPPOOL_WORKER=$worker
py=/usr/bin/python3
hpid=
cleanup() { [ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# until SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds.
until_ok() {
        local end=$((SECONDS + $1)); shift
        until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done
}
# until_sh SECONDS 'SHELL CONDITION': the condition (with its $(...)) is
# evaluated again at each try; until_ok's arguments are expanded only once.
until_sh() {
        local end=$((SECONDS + $1)); shift
        until eval "$1"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done
}
logged() { grep -q -- "$1" "$tmp/log"; }
code() { curl -s -m 10 -o /dev/null -w '%{http_code}' "$@"; }

# Validation: each bad value stops the host with an error naming it.
pv=$(port)
while IFS='|' read -r key value expect; do
        printf '[pool V]\n%s = %s\n[site V]\npool = V\nroot = %s/www/v\nlisten = 127.0.0.1:%s\n' \
                "$key" "$value" "$tmp" "$pv" > "$tmp/bad.ini"
        [ "$key" = status ] && printf '[host]\nstatus = %s\n[site V]\npool = V\nroot = %s/www/v\nlisten = 127.0.0.1:%s\n' \
                "$value" "$tmp" "$pv" > "$tmp/bad.ini"
        out=$("$host" --config "$tmp/bad.ini" 2>&1); rc=$?
        check "bad $key = '$value': refused" "1 1" "$rc $(echo "$out" | grep -c -- "$key = '$value': $expect")"
done <<'BAD'
startMode|Sometimes|expected OnDemand or AlwaysRunning
processModel.idleTimeout|00:61:00|expected a time span
processModel.idleTimeout|-5|expected a time span
processModel.pingingEnabled|yes|expected true or false
processModel.pingInterval|0|expected a time span, HH:MM:SS or seconds, 1 s
processModel.pingResponseTime|1.2|expected a time span
processModel.pingResponseTime|00:00:03:04|expected a time span
processModel.maxProcesses|0|expected a number of workers, 1 to 64
processModel.maxProcesses|65|expected a number of workers, 1 to 64
queueLength|9|expected a listen backlog, 10 to 65535
queueLength|70000|expected a listen backlog
recycling.periodicRestart.requests|-1|expected a number of requests
recycling.periodicRestart.memory|12MB|expected a size in KB
recycling.periodicRestart.privateMemory|4294967296|expected a size in KB
recycling.periodicRestart.schedule|03:00:00,25:00:00|'25:00:00' is not a time of day
recycling.periodicRestart.schedule|3 pm|'3 pm' is not a time of day
status|0.0.0.0:8080|expected 127.x.y.z:PORT
status|192.168.1.1:80|expected 127.x.y.z:PORT
status|127.0.0.1:0|expected 127.x.y.z:PORT
BAD
check "no host state was created by a bad configuration" 0 "$([ -e "$tmp/state" ] && echo 1 || echo 0)"

# The host: a pool per setting.
pb=$(port) pq=$(port) pi=$(port) pa=$(port) pp=$(port) pr=$(port) ph=$(port) pv=$(port) pk=$(port) px=$(port) ps=$(port)
sched=$(date -d '+15 seconds' +%H:%M:%S)
weird_pool="O'Brien {ü} \$~!"
# (and a byte that is not UTF-8: U+FFFD in the page and in the JSON)
weird_base='<script>alert("x")</script> & '\''q'\'' </td>'
weird_site="$weird_base"$'\xff'
mkdir -p "$tmp/bin"; chmod 755 "$tmp/bin"
printf '#!/bin/sh\nexec %s "$@"\n' "$worker" > "$tmp/bin/swap.sh"; chmod 755 "$tmp/bin/swap.sh"
cp "$tmp/bin/swap.sh" "$tmp/bin/swap.good"
cat > "$tmp/host.ini" <<INI
[host]
shutdown_timeout = 5
startup_timeout = 8
header_timeout = 3
idle_timeout = 2
status = 127.0.0.1:$ps
[pool Idle]
processModel.idleTimeout = 00:00:03
[pool Garden]
startMode = AlwaysRunning
processModel.maxProcesses = 3
queueLength = 77
[pool Ping]
startMode = AlwaysRunning
processModel.pingInterval = 1
processModel.pingResponseTime = 00:00:03
[pool Requests]
startMode = AlwaysRunning
recycling.periodicRestart.requests = 5
[pool Broken]
[pool Retry]
startMode = AlwaysRunning
recycling.periodicRestart.requests = 3
[pool HogP]
startMode = AlwaysRunning
recycling.periodicRestart.privateMemory = 40000
[pool HogV]
startMode = AlwaysRunning
recycling.periodicRestart.memory = 600000
[pool Sched]
startMode = AlwaysRunning
recycling.periodicRestart.schedule = 23:59:59,$sched
[pool $weird_pool]
startMode = AlwaysRunning
[site I]
pool = Idle
root = $tmp/www/i
listen = 127.0.0.1:$pi
[site A]
pool = Garden
root = $tmp/www/a
listen = 127.0.0.1:$pa
[site P]
pool = Ping
root = $tmp/www/p
listen = 127.0.0.1:$pp
[site R]
pool = Requests
root = $tmp/www/r
listen = 127.0.0.1:$pr
[site B]
pool = Broken
root = $tmp/www/b
listen = 127.0.0.1:$pb
program = $tmp/bin/missing
[site Q]
pool = Retry
root = $tmp/www/q
listen = 127.0.0.1:$pq
program = $tmp/bin/swap.sh
[site H]
pool = HogP
root = $tmp/www/h
listen = 127.0.0.1:$ph
program = $here/hog.py
[site V]
pool = HogV
root = $tmp/www/v
listen = 127.0.0.1:$pv
program = $here/hog.py
[site K]
pool = Sched
root = $tmp/www/k
listen = 127.0.0.1:$pk
[site $weird_site]
pool = $weird_pool
root = $tmp/www/x
listen = 127.0.0.1:$px
INI
"$host" --config "$tmp/host.ini" 2> "$tmp/log" &
hpid=$!
until_ok 20 curl -sf -o /dev/null "http://127.0.0.1:$ps/status.json"; check "status page up" 0 $?
uid_of() { "$ctl" pool show --json "$1" | $py -c 'import json,sys; print(json.load(sys.stdin)["uid"])'; }
# pid of the workers of a pool (by its uid), among the host's children.
pool_pids() { local u; u=$(uid_of "$1"); ps -o pid=,uid= --ppid "$hpid" | awk -v u="$u" '$2 == u {print $1}' | sort -n | tr '\n' ' '; }
site_pid() { ps -o pid=,args= --ppid "$hpid" | awk -v r="$tmp/www/$1" '$NF == r {print $1}' | sort -n | tr '\n' ' ' | sed 's/ $//'; }
until_sh 20 'test -n "$(site_pid k)"'
oldk=$(site_pid k) # (the schedule's worker, before its time)

# maxProcesses (a web garden of 3) and queueLength (the listen backlog).
until_sh 10 'test "$(site_pid a | wc -w)" = 3'; check "maxProcesses = 3: three workers" 3 "$(site_pid a | wc -w)"
check "maxProcesses default: one worker" 1 "$(site_pid r | wc -w)"
check "queueLength = 77: the backlog" 77 "$(ss -Hltn "sport = :$pa" | awk '{print $3}')"
check "queueLength default: 1000" 1000 "$(ss -Hltn "sport = :$pr" | awk '{print $3}')"

# On demand: no worker until the first connection, which is served; idle
# after idleTimeout (3 s); the next connection starts it again.
check "OnDemand: no worker before a connection" "" "$(site_pid i)"
check "OnDemand: status.json says idle" "idle 0" "$(curl -s "http://127.0.0.1:$ps/status.json" |
        $py -c 'import json,sys; p=[p for p in json.load(sys.stdin)["pools"] if p["name"]=="Idle"][0]; print(p["state"], len(p["workers"]))')"
check "OnDemand: the first connection is served" 200 "$(code "http://127.0.0.1:$pi/")"
logged "pool Idle started on demand: a connection to site I"; check "OnDemand: started on demand (logged)" 0 $?
first=$(site_pid i)
check "OnDemand: a worker now" 1 "$(echo "$first" | wc -w)"
t0=$SECONDS
until_ok 15 logged "pool Idle idle for 3 s (processModel.idleTimeout)"; check "idleTimeout: the idle pool stops" 0 $?
check "idleTimeout: not before 3 s" 1 "$([ $((SECONDS - t0)) -ge 2 ] && echo 1 || echo "$((SECONDS - t0)) s")"
until_sh 10 'test -z "$(site_pid i)"'; check "idleTimeout: its worker is gone" "" "$(site_pid i)"
check "idle: a new connection is served" "200 200" "$(code "http://127.0.0.1:$pi/") $(code "http://127.0.0.1:$pi/index.html")"
second=$(site_pid i)
check "idle: started again, a new worker" 1 "$([ -n "$second" ] && [ "$second" != "$first" ] && echo 1 || echo "$first/$second")"

# On demand, a program that cannot be launched: the connection waits in the
# queue, and the host tries again after startup_timeout (8 s), not at once.
check "OnDemand, no program: the connection waits" 000 "$(code -m 2 "http://127.0.0.1:$pb/")"
until_ok 10 logged "pool Broken: cannot start on demand; its connections wait, and it is tried again in 8 s"
check "OnDemand, no program: logged" 0 $?
sleep 2 # two ticks: no second attempt
check "OnDemand, no program: no launch loop" 1 "$(grep -c "site B: cannot start a worker" "$tmp/log")"

# Pings: a worker stopped with SIGSTOP does not answer; within
# pingResponseTime (3 s) after a ping it is killed and replaced.
hung=$(site_pid p)
kill -STOP "$hung"
until_ok 20 logged "pool Ping: worker pid $hung did not answer a ping within 3 s"; check "ping: the hung worker is found" 0 $?
until_sh 10 'test -n "$(site_pid p)" -a "$(site_pid p)" != "$hung"'
check "ping: replaced" 1 "$([ -n "$(site_pid p)" ] && [ "$(site_pid p)" != "$hung" ] && echo 1 || echo "$(site_pid p)")"
check "ping: the hung worker is gone" 1 "$(kill -0 "$hung" 2>/dev/null && echo 0 || echo 1)"
check "ping: the new worker serves" 200 "$(code "http://127.0.0.1:$pp/")"
answered=$(site_pid p)
sleep 4 # four ping intervals, over a response time: a worker that answers is kept
check "ping: a worker that answers is kept" "$answered" "$(site_pid p)"

# requests = 5: the fifth request recycles; no request fails meanwhile.
# (8 requests: the new worker serves fewer than 5, so one recycle.)
old=$(site_pid r)
codes=$(for i in $(seq 8); do code "http://127.0.0.1:$pr/"; echo; sleep 0.2; done | sort -u | tr '\n' ' ')
check "requests: every answer 200 across the recycle" "200 " "$codes"
until_ok 15 logged "pool Requests recycled (requests: pid $old served [5-9] requests, limit 5)"
check "requests: recycled, logged with its reason" 0 $?
until_sh 10 'test "$(site_pid r)" != "$old"'; check "requests: a new worker" 1 "$([ "$(site_pid r)" != "$old" ] && echo 1 || echo 0)"
# Overlapping: the new worker started before the pool was recycled, the old
# one exited after.
line() { grep -n -- "$1" "$tmp/log" | head -1 | cut -d: -f1; }
until_ok 10 logged "worker exited: site R, pid $old,"
started=$(grep -n "worker started: site R, pool Requests, pid" "$tmp/log" | sed -n 2p | cut -d: -f1)
rec=$(line "pool Requests recycled (requests: pid $old")
exited=$(line "worker exited: site R, pid $old,")
check "requests: overlapping (new started < recycled < old exited)" 1 \
        "$([ -n "$started" ] && [ -n "$exited" ] && [ "$started" -lt "$rec" ] && [ "$rec" -lt "$exited" ] && echo 1 || echo "$started $rec $exited")"

# A recycle by measurement whose new worker cannot start: the old worker
# keeps serving, and the host waits startup_timeout (8 s) before it tries
# again (not once a second); once the program is fixed, it succeeds.
oldq=$(site_pid q)
printf '#!/bin/sh\nexit 3\n' > "$tmp/bin/swap.sh"
for i in 1 2 3; do code "http://127.0.0.1:$pq/" > /dev/null; done
until_ok 15 logged "pool Retry: recycle (requests: pid $oldq served 3 requests, limit 3) failed: new worker pid [0-9]* exited (status 3)"
check "failed recycle by requests: logged" 0 $?
check "failed recycle: the old worker serves" "200 $oldq" "$(code "http://127.0.0.1:$pq/") $(site_pid q)"
sleep 3 # three ticks: no new attempt within the back-off
check "failed recycle: no retry at once" 1 "$(grep -c "pool Retry: recycle (requests" "$tmp/log")"
cp "$tmp/bin/swap.good" "$tmp/bin/swap.sh"
until_ok 20 logged "pool Retry recycled (requests: pid $oldq served"; check "failed recycle: retried after the back-off" 0 $?
check "failed recycle: a new worker" 1 "$([ "$(site_pid q)" != "$oldq" ] && echo 1 || echo 0)"

# privateMemory (40000 KB) and memory (virtual, 600000 KB): the hog grows.
oldh=$(site_pid h) oldv=$(site_pid v)
check "privateMemory: the hog grows" 200 "$(code "http://127.0.0.1:$ph/grow")"
check "memory: the hog maps 1 GiB" 200 "$(code "http://127.0.0.1:$pv/vgrow")"
until_ok 15 logged "pool HogP recycled (privateMemory: pid $oldh uses [0-9]* KB, limit 40000 KB)"
check "privateMemory: recycled, logged with the measurement" 0 $?
until_ok 15 logged "pool HogV recycled (memory: pid $oldv uses [0-9]* KB of virtual memory, limit 600000 KB)"
check "memory: recycled, logged with the measurement" 0 $?
until_sh 10 'test "$(site_pid h)" != "$oldh" -a "$(site_pid v)" != "$oldv"'
check "memory: new workers serve" "200 200" "$(code "http://127.0.0.1:$ph/") $(code "http://127.0.0.1:$pv/")"
logged "pool HogV recycled (privateMemory"; check "memory: a virtual mapping is not private memory" 1 $?

# schedule: the time of day 15 s after the configuration was written.
until_ok 30 logged "pool Sched recycled (schedule: $sched)"; check "schedule: recycled at $sched" 0 $?
until_sh 10 'test "$(site_pid k)" != "$oldk"'; check "schedule: a new worker" 1 "$([ "$(site_pid k)" != "$oldk" ] && echo 1 || echo 0)"
check "schedule: once" 1 "$(grep -c "pool Sched recycled" "$tmp/log")"
check "requests: once" 1 "$(grep -c "pool Requests recycled" "$tmp/log")"

# The status page. Wait for quiet (no retiring worker), then compare.
children() { ps -o pid= --ppid "$hpid" | tr -d ' ' | sort -n | tr '\n' ' '; }
jpids() { curl -s "http://127.0.0.1:$ps/status.json" > "$tmp/status.json" &&
        $py -c 'import json,sys; print(" ".join(sorted((str(w["pid"]) for p in json.load(open(sys.argv[1]))["pools"] for w in p["workers"]), key=int)) + " ")' "$tmp/status.json"; }
until_sh 15 'test "$(jpids)" = "$(children)"'; check "status.json: the workers ps shows" "$(children)" "$(jpids)"
check "status.json: every pool" "Broken Garden HogP HogV Idle O'Brien {ü} \$~! Ping Requests Retry Sched" \
        "$($py -c 'import json,sys; print(" ".join(sorted(p["name"] for p in json.load(open(sys.argv[1]))["pools"])))' "$tmp/status.json")"
for pool in Garden Ping Requests "$weird_pool"; do
        want=$("$ctl" pool show --json "$pool" | $py -c 'import json,sys; j=json.load(sys.stdin); print(j["uid"], j["sid"])')
        got=$($py -c 'import json,sys; p=[p for p in json.load(open(sys.argv[1]))["pools"] if p["name"]==sys.argv[2]][0]; print(p["uid"], p["sid"], p["account"])' "$tmp/status.json" "$pool")
        check "status.json: $pool's uid, SID and account" "$want IIS APPPOOL\\$pool" "$got"
        check "status.json: $pool's workers run as its uid" "$(pool_pids "$pool")" "$($py -c 'import json,sys; p=[p for p in json.load(open(sys.argv[1]))["pools"] if p["name"]==sys.argv[2]][0]; print("".join(str(w["pid"]) + " " for w in sorted(p["workers"], key=lambda w: w["pid"])))' "$tmp/status.json" "$pool")"
done
field() { $py -c 'import json,sys; p=[p for p in json.load(open(sys.argv[1]))["pools"] if p["name"]==sys.argv[2]][0]; print(eval(sys.argv[3]))' "$tmp/status.json" "$@"; }
check "status.json: the last recycle and why" "True" "$(field Requests 'p["last_recycle"]["reason"].startswith("requests: pid ")')"
check "status.json: a pool never recycled" "None" "$(field Garden 'p["last_recycle"]')"
check "status.json: restarts after the hung worker" "True" "$(field Ping 'p["restarts"] >= 1 and p["rapid_fail"]["failures"] >= 1 and not p["rapid_fail"]["tripped"]')"
check "status.json: workers' requests, uptime, memory" "True" \
        "$(field Requests 'all(w["requests"] >= 0 and w["uptime"] >= 0 and w["private_kb"] > 0 and w["virtual_kb"] > w["private_kb"] and w["state"] == "ready" for w in p["workers"])')"
check "status.json: requests counted" "True" "$(field Idle 'sum(w["requests"] for w in p["workers"]) == 2 or p["state"] == "idle"')"
check "status.json: a site name kept exactly, not UTF-8 as U+FFFD" "$weird_base"$'\xef\xbf\xbd' \
        "$(field "$weird_pool" 'p["workers"][0]["site"]')"
check "status.json: no raw < in the document" 0 "$(grep -c '<' "$tmp/status.json")"
curl -s "http://127.0.0.1:$ps/" > "$tmp/status.html"
check "status page: the site name escaped" 1 "$(grep -c '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; &lt;/td&gt;' "$tmp/status.html")"
check "status page: no script element" 0 "$(grep -ci '<script' "$tmp/status.html")"
check "status page: viewport for phones" 1 "$(grep -c '<meta name="viewport" content="width=device-width, initial-scale=1">' "$tmp/status.html")"
check "status page: unknown path" 404 "$(code "http://127.0.0.1:$ps/nothing")"
check "status page: POST" 405 "$(code -X POST "http://127.0.0.1:$ps/")"
check "status page: no script may run (CSP)" 1 "$(curl -s -D - -o /dev/null "http://127.0.0.1:$ps/" | grep -c "^Content-Security-Policy: default-src 'none'")"
check "status page: loopback only" "127.0.0.1:$ps" "$(ss -Hltn "sport = :$ps" | awk '{print $4}')"

# Headless Chromium from Debian: the DOM holds the pools and the live pids.
chrome=$(command -v chromium || true)
if [ -z "$chrome" ]; then
        echo "chromium is missing (Debian package chromium): the browser checks are skipped"
        [ "$fail" -eq 0 ] && { echo "SKIP: $pass passed, browser checks not run"; exit 77; }
else
        browse() {
                timeout 90 "$chrome" --headless --no-sandbox --disable-gpu --disable-background-networking \
                        --disable-dev-shm-usage --no-first-run --user-data-dir="$tmp/chrome" "$@" 2>> "$tmp/chrome.log"
        }
        for attempt in 1 2 3; do
                before=$(children)
                browse --dump-dom "http://127.0.0.1:$ps/" > "$tmp/dom.html"
                after=$(children)
                [ "$before" = "$after" ] && break
        done
        dom_pids=$(grep -o '<td class="pid n" data-label="PID">[0-9]*</td>' "$tmp/dom.html" | grep -o '>[0-9]*<' | tr -d '<>' | sort -n | tr '\n' ' ')
        check "chromium: the DOM's pids are ps's" "$after" "$dom_pids"
        for pool in Idle Garden Ping Requests HogP HogV Sched; do
                check "chromium: pool $pool in the DOM" 1 "$(grep -c "<h2>$pool</h2>" "$tmp/dom.html")"
        done
        check "chromium: the odd pool in the DOM" 1 "$(grep -cF "<h2>O'Brien {ü} \$~!</h2>" "$tmp/dom.html")"
        check "chromium: the site name is text, not markup" 1 "$(grep -cF '&lt;script&gt;alert("x")&lt;/script&gt; &amp;' "$tmp/dom.html")"
        check "chromium: no script element in the DOM" 0 "$(grep -ci '<script' "$tmp/dom.html")"
        check "chromium: the uid in the DOM" 1 "$(grep -c "<dd class=\"uid\">$(uid_of Garden)</dd>" "$tmp/dom.html")"
        [ -n "${APID_KEEP_SHOT:-}" ] && trap 'cp "$tmp/shot.png" "$APID_KEEP_SHOT"; cleanup' EXIT
        browse --screenshot="$tmp/shot.png" --window-size=412,915 --hide-scrollbars "http://127.0.0.1:$ps/" > /dev/null
        read -r w h colours inked < <($py "$here/png-check.py" "$tmp/shot.png" 2>&1)
        echo "screenshot: ${w}x$h, $(stat -c %s "$tmp/shot.png") bytes, $colours colours, $inked per mille inked"
        check "chromium: a phone-sized screenshot" "412x915" "${w}x${h}"
        check "chromium: the screenshot is not blank" 1 "$([ "${colours:-0}" -ge 16 ] && [ "${inked:-0}" -ge 20 ] && echo 1 || echo "$colours $inked")"
fi

# SIGTERM: nothing left.
all=$(children)
kill -TERM "$hpid"
timeout 15 tail --pid="$hpid" -f /dev/null
check "host exited" 1 "$(kill -0 "$hpid" 2>/dev/null && echo 0 || echo 1)"
wait "$hpid"
check "host exit status (0; under ASan, no leak)" 0 $?
hpid=
check "no worker left" "" "$(for p in $all; do kill -0 "$p" 2>/dev/null && echo "$p"; done)"
if [ "$fail" -ne 0 ]; then echo "--- host log"; cat "$tmp/log"; tail -5 "$tmp/chrome.log" 2>/dev/null; fi
finish
