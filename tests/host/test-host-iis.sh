#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Where IIS is observable, the example host does what it does, end to end
# with curl, raw sockets and real cgroups:
#  - failure.loadBalancerCapabilities: an OnDemand pool whose worker keeps
#    crashing until rapid-fail protection stops it answers the connection
#    that started it, and every later one, 503 Service Unavailable with a
#    body and "Connection: close" (HttpLevel, IIS's default), from the host,
#    no worker launched; a TcpLevel pool resets its connections;
#    failure.rapidFailProtection = false never stops a pool;
#  - recycling.periodicRestart.time (and its older name recycle_interval):
#    a worker older than that is recycled, overlapping, logged, a new pid;
#  - processModel.idleTimeoutAction = Suspend: after idleTimeout the pool's
#    cgroup v2 is frozen (cgroup.freeze 1, cgroup.events "frozen 1", the
#    worker and its spinning child in it use no CPU); a connection thaws it
#    and the same worker serves it; no cgroup v2: refused at start;
#  - every bad value of each new key stops the host with the line, the key,
#    the value and what was expected.
# Needs root. Usage: test-host-iis.sh APPPOOL_HOST APPPOOL_WORKER
set -u
. "$(dirname "$0")/../cli/testlib.sh"
host=$(realpath "$1") worker=$(realpath "$2")
here=$(realpath "$(dirname "$0")")
[ "$(id -u)" = 0 ] || { echo "SKIP: the host runs workers as other uids: needs root"; exit 77; }
command -v curl >/dev/null || { echo "curl is needed (Debian package curl)"; exit 1; }
v2=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
[ -n "$v2" ] || { echo "SKIP: no cgroup v2 (the unified hierarchy) is mounted: Suspend cannot be tested"; exit 77; }
tmp=$(mktemp -d /tmp/apid-host-iis-XXXXXX)
chmod 755 "$tmp"
export APPPOOLID_STATE_DIR=$tmp/state APPPOOL_WORKER=$worker
py=/usr/bin/python3
hpid=
cleanup() { [ -n "$hpid" ] && kill -TERM "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# until_ok SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds.
until_ok() {
        local end=$((SECONDS + $1)); shift
        until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done
}
logged() { grep -q -- "$1" "$tmp/log"; }
starts() { grep -c "worker started: site $1," "$tmp/log"; }

# Bad values: the host stops, naming the line, the key, the value and what
# was expected; nothing is created.
pv=$(port)
while IFS='|' read -r key value expect; do
        printf '[pool V]\n%s = %s\n[site V]\npool = V\nroot = %s/www/v\nlisten = 127.0.0.1:%s\n' \
                "$key" "$value" "$tmp" "$pv" > "$tmp/bad.ini"
        out=$("$host" --config "$tmp/bad.ini" 2>&1); rc=$?
        check "bad $key = '$value': refused, line, key, value, expected" "1 1" \
                "$rc $(echo "$out" | grep -cF -- "line 2: [pool V] $key = '$value': $expect")"
done <<'BAD'
failure.loadBalancerCapabilities|Http|expected HttpLevel (a 503 answer) or TcpLevel (the connection is reset)
failure.loadBalancerCapabilities|httplevel|expected HttpLevel (a 503 answer) or TcpLevel
failure.loadBalancerCapabilities|2|expected HttpLevel
failure.rapidFailProtection|yes|expected true or false
failure.rapidFailProtectionMaxCrashes|0|expected a number of failures, 1 to 1024
failure.rapidFailProtectionMaxCrashes|1025|expected a number of failures, 1 to 1024
rapid_fail_max_crashes|2000|expected a number of failures, 1 to 1024
failure.rapidFailProtectionInterval|00:00:00|expected a time span, HH:MM:SS or seconds, 1 s to 1 day
recycling.periodicRestart.time|25:00:00|expected a time span, [D.]HH:MM:SS or seconds, 0 (off) to 30 days
recycling.periodicRestart.time|-1|expected a time span, [D.]HH:MM:SS or seconds, 0 (off) to 30 days
recycling.periodicRestart.time|31.00:00:00|expected a time span, [D.]HH:MM:SS or seconds, 0 (off) to 30 days
recycling.periodicRestart.time|29h|expected a time span
recycle_interval|00:00:05|expected seconds, 0 (off) to 30 days
processModel.idleTimeoutAction|Freeze|expected Terminate (stop the workers) or Suspend (freeze them: cgroup v2)
processModel.idleTimeoutAction|suspend|expected Terminate (stop the workers) or Suspend
BAD
printf '[pool V]\nrecycle_interval = 60\nrecycling.periodicRestart.time = 00:01:00\n[site V]\npool = V\nroot = %s/www/v\nlisten = 127.0.0.1:%s\n' \
        "$tmp" "$pv" > "$tmp/bad.ini"
out=$("$host" --config "$tmp/bad.ini" 2>&1); rc=$?
check "recycle_interval and periodicRestart.time both: refused" "1 1" \
        "$rc $(echo "$out" | grep -cF "line 3: [pool V] recycling.periodicRestart.time = '00:01:00': the period is already set by recycle_interval")"
check "no host state was created by a bad configuration" 0 "$([ -e "$tmp/state" ] && echo 1 || echo 0)"

# Suspend without cgroup v2 (unmounted in a private mount namespace): the
# host refuses to start, saying why.
printf '[pool Fz]\nprocessModel.idleTimeoutAction = Suspend\n[site V]\npool = Fz\nroot = %s/www/v\nlisten = 127.0.0.1:%s\n' \
        "$tmp" "$pv" > "$tmp/nov2.ini"
out=$(unshare -m --propagation private sh -c '
        for m in $(awk '\''$0 ~ / - cgroup2 / {print $5}'\'' /proc/self/mountinfo); do umount -l "$m" || exit 9; done
        grep -q " - cgroup2 " /proc/self/mountinfo && exit 9
        exec "$1" --config "$2"' sh "$host" "$tmp/nov2.ini" 2>&1); rc=$?
check "Suspend without cgroup v2: refused" "1 1" \
        "$rc $(echo "$out" | grep -c "processModel.idleTimeoutAction = Suspend needs cgroup v2 (the unified hierarchy, for cgroup.freeze): none is mounted; use Terminate")"
check "Suspend without cgroup v2: the pool named" 1 "$(echo "$out" | grep -c "pool Fz: its cgroups cannot be set up")"
grep -q " - cgroup2 " /proc/self/mountinfo; check "our own cgroup v2 mount untouched" 0 $?

# The host.
pc=$(port) pt=$(port) pu=$(port) pg=$(port) po=$(port) pz=$(port) ps=$(port)
mkdir -p "$tmp/bin" "$tmp/count"; chmod 755 "$tmp/bin"; chmod 1777 "$tmp/count"
# Crashes four times (exit 1 before it is ready), then is the real worker.
cat > "$tmp/bin/crash4.sh" <<SH
#!/bin/sh
n=\$(cat $tmp/count/n 2>/dev/null || echo 0)
echo \$((n + 1)) > $tmp/count/n
[ "\$n" -ge 4 ] && exec $worker "\$@"
exit 1
SH
chmod 755 "$tmp/bin/crash4.sh"
cat > "$tmp/host.ini" <<INI
[host]
shutdown_timeout = 5
header_timeout = 3
idle_timeout = 2
status = 127.0.0.1:$ps
[pool Crashy]
failure.rapidFailProtectionMaxCrashes = 3
failure.rapidFailProtectionInterval = 00:01:00
[pool Reset]
startMode = AlwaysRunning
rapid_fail_max_crashes = 2
failure.loadBalancerCapabilities = TcpLevel
[pool Unprotected]
startMode = AlwaysRunning
failure.rapidFailProtection = false
failure.rapidFailProtectionMaxCrashes = 2
[pool Aged]
startMode = AlwaysRunning
recycling.periodicRestart.time = 00:00:02
[pool AgedOld]
startMode = AlwaysRunning
recycle_interval = 2
[pool Frozen]
processModel.idleTimeout = 00:00:02
processModel.idleTimeoutAction = Suspend
[site C]
pool = Crashy
root = $tmp/www/c
listen = 127.0.0.1:$pc
program = /bin/false
[site T]
pool = Reset
root = $tmp/www/t
listen = 127.0.0.1:$pt
program = /bin/false
[site U]
pool = Unprotected
root = $tmp/www/u
listen = 127.0.0.1:$pu
program = $tmp/bin/crash4.sh
[site G]
pool = Aged
root = $tmp/www/g
listen = 127.0.0.1:$pg
[site O]
pool = AgedOld
root = $tmp/www/o
listen = 127.0.0.1:$po
[site S]
pool = Frozen
root = $tmp/www/s
listen = 127.0.0.1:$pz
program = $here/spin.py
INI
"$host" --config "$tmp/host.ini" 2> "$tmp/log" &
hpid=$!
until_ok 20 curl -sf -o /dev/null "http://127.0.0.1:$ps/status.json"; check "status page up" 0 $?

# HttpLevel: the first connection starts the OnDemand pool, whose worker
# crashes three times: rapid-fail protection stops it, and that very
# connection (waiting in the queue all along) is answered 503 by the host.
code=$(curl -s -m 30 -D "$tmp/h503" -o "$tmp/b503" -w '%{http_code}' "http://127.0.0.1:$pc/")
check "HttpLevel: the waiting connection gets 503" 503 "$code"
until_ok 10 logged "pool Crashy stopped: rapid-fail protection, 3 failures in 60 s; its connections are answered 503 Service Unavailable (failure.loadBalancerCapabilities HttpLevel)"
check "HttpLevel: the stop logged, with loadBalancerCapabilities" 0 $?
check "HttpLevel: exactly 3 workers were started" 3 "$(starts C)"
check "503: status line" 1 "$(grep -c $'^HTTP/1.1 503 Service Unavailable\r$' "$tmp/h503")"
check "503: Connection: close" 1 "$(grep -c $'^Connection: close\r$' "$tmp/h503")"
check "503: Content-Length is the body's" "$(stat -c %s "$tmp/b503")" "$(sed -n 's/^Content-Length: \([0-9]*\)\r$/\1/p' "$tmp/h503")"
check "503: an HTML body" 1 "$(grep -c '<h1>Service Unavailable</h1>' "$tmp/b503")"
codes=$(for i in 1 2 3 4 5; do curl -s -m 10 -o /dev/null -w '%{http_code} ' "http://127.0.0.1:$pc/index.html"; done)
check "HttpLevel: every later request 503" "503 503 503 503 503 " "$codes"
check "HEAD: 503, no body" "503 0" "$(curl -s -m 10 -I -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$pc/")"
# 40 at once (more than fit in one accept batch of the host).
kids=
for i in $(seq 40); do curl -s -m 20 -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$pc/" & kids="$kids $!"; done > "$tmp/many"
wait $kids
check "HttpLevel: 40 concurrent connections, all 503" "40 503" "$(sort | uniq -c < "$tmp/many" | awk '{print $1, $2}')"
# A raw request (the bytes as given): one answer, then the host closes.
check "HttpLevel: a raw request, one 503, then closed by the host" "503 closed" \
        "$($py "$here/raw.py" count "$pc" 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')"
check "HttpLevel: no worker started for the stopped pool" 3 "$(starts C)"
check "status.json: stopped, tripped" "stopped True" "$(curl -s "http://127.0.0.1:$ps/status.json" |
        $py -c 'import json,sys; p=[p for p in json.load(sys.stdin)["pools"] if p["name"]=="Crashy"][0]; print(p["state"], p["rapid_fail"]["tripped"])')"

# TcpLevel: the connection is accepted, then reset, no byte answered.
until_ok 20 logged "pool Reset stopped: rapid-fail protection, 2 failures in 300 s; its connections are answered with a reset (failure.loadBalancerCapabilities TcpLevel)"
check "TcpLevel: the stop logged" 0 $?
tcp() {
        $py -c '
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    print("data" if s.recv(100) else "eof")
except (ConnectionResetError, BrokenPipeError):
    print("reset")
except socket.timeout:
    print("no answer")' "$pt"
}
check "TcpLevel: reset" "reset reset reset" "$(tcp) $(tcp) $(tcp)"
check "TcpLevel: curl gets no HTTP answer" 000 "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pt/")"
check "TcpLevel: no worker started for the stopped pool" 2 "$(starts T)"

# rapidFailProtection = false: four failures (more than MaxCrashes 2), the
# pool is never stopped, and the fifth worker serves.
serves() { [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/")" = 200 ]; }
until_ok 20 serves "$pu"
check "rapidFailProtection false: serves after 4 failures" 200 "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pu/")"
check "rapidFailProtection false: 5 starts" 5 "$(starts U)"
logged "pool Unprotected stopped"; check "rapidFailProtection false: never stopped" 1 $?

# periodicRestart.time = 2 s, and recycle_interval = 2 (its older name): the
# first worker is recycled when it is 2 s old; a new one serves; overlapping.
for s in G:Aged O:AgedOld; do
        site=${s%%:*} pool=${s#*:}
        first=$(grep -m1 -o "worker started: site $site, pool $pool, pid [0-9]*" "$tmp/log" | grep -o '[0-9]*$')
        until_ok 20 logged "pool $pool recycled (time: pid $first has run [0-9]* s, recycling.periodicRestart.time 2 s)"
        check "periodicRestart.time ($pool): recycled, logged with the age" 0 $?
        until_ok 10 logged "worker exited: site $site, pid $first,"
        line() { grep -n -- "$1" "$tmp/log" | head -1 | cut -d: -f1; }
        second=$(grep -o "worker started: site $site, pool $pool, pid [0-9]*" "$tmp/log" | sed -n 2p | grep -o '[0-9]*$')
        started=$(line "worker started: site $site, pool $pool, pid $second,")
        rec=$(line "pool $pool recycled (time: pid $first ")
        exited=$(line "worker exited: site $site, pid $first,")
        check "periodicRestart.time ($pool): a new pid, overlapping (started < recycled < old exited)" 1 \
                "$([ -n "$second" ] && [ "$second" != "$first" ] && [ "$started" -lt "$rec" ] && [ "$rec" -lt "$exited" ] &&
                        echo 1 || echo "$first $second: $started $rec $exited")"
done
check "periodicRestart.time: the new workers serve" "200 200" \
        "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pg/") $(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$po/")"

# Suspend: the first connection starts the pool (its worker keeps a child
# spinning on the CPU); idle for 2 s, the pool's cgroup is frozen.
body=$(curl -s -m 20 "http://127.0.0.1:$pz/")
read -r _ wpid _ spid <<< "$body"
check "Suspend: the worker serves" 1 "$([ -n "$spid" ] && kill -0 "$wpid" && kill -0 "$spid" && echo 1 || echo "$body")"
cg=$(sed -n 's/.*limits of [^ ]*: cgroup \(.*frozen\)$/\1/p' "$tmp/log" | head -1)
check "Suspend: the pool's cgroup v2" 1 "$([ -n "$cg" ] && [ -e "$cg/cgroup.freeze" ] && echo 1 || echo "'$cg'")"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
t0=$(ticks "$spid")
until_ok 30 logged "pool Frozen idle for 2 s (processModel.idleTimeout): suspended, its cgroup frozen (processModel.idleTimeoutAction Suspend)"
check "Suspend: logged" 0 $?
check "Suspend: cgroup.freeze" 1 "$(cat "$cg/cgroup.freeze")"
until_ok 10 grep -qx "frozen 1" "$cg/cgroup.events"; check "Suspend: cgroup.events frozen" 0 $?
check "Suspend: the worker and its child are in the frozen cgroup" "$wpid $spid" \
        "$(grep -x -e "$wpid" -e "$spid" "$cg/cgroup.procs" | sort -n | tr '\n' ' ' | sed 's/ $//')"
check "Suspend: the worker is not terminated" 1 "$(kill -0 "$wpid" && echo 1 || echo 0)"
check "status.json: suspended" suspended "$(curl -s "http://127.0.0.1:$ps/status.json" |
        $py -c 'import json,sys; print([p for p in json.load(sys.stdin)["pools"] if p["name"]=="Frozen"][0]["state"])')"
t1=$(ticks "$spid")
check "Suspend: the spinner ran before the freeze" 1 "$([ "$t1" -gt "$t0" ] && echo 1 || echo "$t0 $t1")"
sleep 1 # a measurement, not a wait: a frozen process gets no tick in it
t2=$(ticks "$spid")
check "Suspend: no CPU while frozen" "$t1" "$t2"
# A connection thaws the pool; the same worker serves it.
check "Suspend: a request is served by the thawed worker" "pid $wpid spinner $spid" "$(curl -s -m 20 "http://127.0.0.1:$pz/")"
# (The host logs once it has thawed the cgroup and handed the connection on:
# the worker may answer first.)
until_ok 10 logged "pool Frozen resumed (cgroup thawed): a connection to site S"; check "Suspend: thawed, logged" 0 $?
check "Suspend: cgroup.freeze after the connection" 0 "$(cat "$cg/cgroup.freeze")"
ran_since() { [ "$(ticks "$spid")" -gt "$1" ]; }
until_ok 10 ran_since "$t2"; check "Suspend: the spinner runs again" 0 $?
echo "spinner ticks: $t0 before, $t1 at the freeze, $t2 a second later, $(ticks "$spid") after the thaw"
check "Suspend: no new worker" 1 "$(starts S)"
# Suspended again after 2 s idle; SIGTERM then thaws it and stops it.
suspensions() { [ "$(grep -c "pool Frozen idle for 2 s (processModel.idleTimeout): suspended" "$tmp/log")" = "$1" ]; }
until_ok 30 suspensions 2
check "Suspend: suspended again" 0 $?
check "Suspend: frozen again" 1 "$(cat "$cg/cgroup.freeze")"

# SIGTERM: every worker stops (the frozen one too, thawed first), nothing left.
all=$(ps -o pid= --ppid "$hpid" | tr '\n' ' ')
kill -TERM "$hpid"
timeout 15 tail --pid="$hpid" -f /dev/null
check "host exited within shutdown_timeout" 1 "$(kill -0 "$hpid" 2>/dev/null && echo 0 || echo 1)"
wait "$hpid"
check "host exit status (0; under ASan, no leak)" 0 $?
hpid=
# (a dead child of a worker may stay a zombie until init reaps it)
alive() { [ -e "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
check "no worker left" "" "$(for p in $all $spid; do alive "$p" && echo "$p"; done)"
check "the pool's cgroup removed" 0 "$([ -e "$cg" ] && echo 1 || echo 0)"
check "frozen worker stopped by SIGTERM, not SIGKILL" 1 "$(grep -c "worker exited: site S, pid $wpid, status 0" "$tmp/log")"
# A stopped pool's worker against the host: the listening socket is shared,
# and so is its O_NONBLOCK (a flag of the open file description). A worker
# that ignores SIGTERM clears it without pause while the host answers the
# stopped pool's connections; the host slept in accept4() until the next
# connection to that site, its status page, every other pool's restarts and
# its SIGTERM on hold (seen: in the first batch of 30 connections). Now its
# accept4() is interrupted: the status page answers after every batch.
# Killing the worker is not enough: a process it forked keeps the socket.
psp=$(port) pev=$(port) pgd=$(port)
cat > "$tmp/bin/blocker.py" <<PY
#!/usr/bin/python3
import fcntl, os, signal, socket, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
try: # one instance stays; the others crash until rapid-fail stops the pool
    s = socket.socket(socket.AF_UNIX)
    s.bind("\0$tmp/blocker")
except OSError:
    sys.exit(1)
os.write(4, b"READY=1\n")
# A child of its own too: the host does not know it, and it keeps the
# socket when the worker is killed.
child = os.fork()
if child:
    open("$tmp/count/blocker-child", "w").write("%d\n" % child)
else: # on SIGUSR1 the child shuts the socket down
    def shut(sig, frame):
        socket.socket(fileno=os.dup(3)).shutdown(socket.SHUT_RDWR)
        open("$tmp/count/blocker-shut", "w").write("shut\n")
    signal.signal(signal.SIGUSR1, shut)
print("clearing O_NONBLOCK", flush=True)
while True:
    fcntl.fcntl(3, fcntl.F_SETFL, 0)
PY
chmod 755 "$tmp/bin/blocker.py"
cat > "$tmp/host2.ini" <<INI
[host]
shutdown_timeout = 2
status = 127.0.0.1:$psp
[pool Blocker]
startMode = AlwaysRunning
rapid_fail_max_crashes = 2
processModel.pingingEnabled = false
[pool Bystander]
[site Blocker]
pool = Blocker
root = $tmp/www/blocker
listen = 127.0.0.1:$pev
workers = 2
program = $tmp/bin/blocker.py
[site Bystander]
pool = Bystander
root = $tmp/www/bystander
listen = 127.0.0.1:$pgd
INI
"$host" --config "$tmp/host2.ini" 2> "$tmp/log2" &
hpid=$!
logged2() { grep -q -- "$1" "$tmp/log2"; }
until_ok 30 logged2 "pool Blocker stopped: rapid-fail protection"; check "blocker: the pool is stopped" 0 $?
until_ok 30 logged2 "clearing O_NONBLOCK"; check "blocker: its worker clears O_NONBLOCK" 0 $?
bpid=$(sed -n 's/.*site Blocker, pool Blocker, pid \([0-9]*\): clearing O_NONBLOCK$/\1/p' "$tmp/log2" | head -1)
until_ok 30 test -s "$tmp/count/blocker-child"; bchild=$(cat "$tmp/count/blocker-child")
# Retired by the stop, it ignores SIGTERM: killed shutdown_timeout (2 s) later
# (it used to live until the host stopped). Its child goes on.
until_ok 30 logged2 "worker exited: site Blocker, pid $bpid, killed by signal 9"
check "blocker: the retired worker that ignores SIGTERM is killed" 0 $?
check "blocker: logged why" 1 "$(grep -c "worker pid $bpid (site Blocker) still runs 2 s after SIGTERM (shutdown_timeout): SIGKILL" "$tmp/log2")"
check "blocker: its child still clears O_NONBLOCK" 1 "$(kill -0 "$bchild" 2>/dev/null && echo 1 || echo 0)"
answered=0
for round in $(seq 20); do
        curls=
        for i in $(seq 30); do curl -s -m 5 -o /dev/null "http://127.0.0.1:$pev/" & curls="$curls $!"; done
        wait $curls # (not the host)
        curl -sf -m 10 -o /dev/null "http://127.0.0.1:$psp/status.json" || break
        answered=$round
done
check "blocker: the host's status page answers after each of 20 batches" 20 "$answered"
check "blocker: another pool's site is served" 200 "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pgd/")"
# The child shuts the shared socket down: a socket that no longer listens is
# readable (EPOLLHUP) for ever, and the host spun on it, accept4() failing
# with EINVAL (a third of a core, seen). Now it stops watching it, saying so.
kill -USR1 "$bchild"
until_ok 30 test -s "$tmp/count/blocker-shut"; check "blocker: the child shut the socket down" 0 $?
until_ok 30 logged2 "site Blocker: its listening socket no longer listens (shut down by a process of pool Blocker): not answered any more"
check "blocker: the host stops watching the socket shut down under it" 0 $?
t0=$(awk '{print $14 + $15}' "/proc/$hpid/stat")
sleep 2 # a measurement, not a wait: the host's CPU time over 2 s
t1=$(awk '{print $14 + $15}' "/proc/$hpid/stat")
check "blocker: the host does not spin (under 20 ticks of CPU in 2 s)" 1 "$([ $((t1 - t0)) -lt 20 ] && echo 1 || echo "$((t1 - t0))")"
kill -TERM "$hpid"
timeout 15 tail --pid="$hpid" -f /dev/null
check "blocker: the host stops on SIGTERM" 1 "$(kill -0 "$hpid" 2>/dev/null && echo 0 || echo 1)"
kill -KILL "$hpid" 2>/dev/null # (still asleep in accept4: the cleanup's wait would hang)
wait "$hpid"
check "blocker: host exit status" 0 $?
hpid=
kill -KILL "$bchild" 2>/dev/null
[ "$fail" -ne 0 ] && { echo "--- second host's log"; cat "$tmp/log2"; }
if [ "$fail" -ne 0 ]; then echo "--- host log"; cat "$tmp/log"; fi
finish
