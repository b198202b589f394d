#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Per-pool resource limits through cgroups, end to end with curl. Four pools
# run a misbehaving worker (hog.py below), one pool (Calm) the real worker:
#  - CgMem (recycling.periodicRestart.privateMemory): a worker that allocates
#    past the limit is killed by the kernel's OOM killer in its cgroup, the
#    host says why and starts a new one; Calm serves throughout;
#  - CgFork (linux.pidsMax): a fork bomb stops at the limit (EAGAIN);
#    Calm serves, and its host can still start processes;
#  - CgCpu (cpu.limit, Throttle): two busy processes get about the quota
#    (cpu.stat of the pool's cgroup; loose bounds: a busy machine only
#    lowers the use, the quota caps it), and the kernel throttled them;
#  - CgKill (cpu.limit, KillW3wp, cpu.resetInterval): the host kills the
#    pool's processes once its use over the interval passes the limit, and a
#    new worker serves;
# workers are in their pool's cgroups from birth (cgroup v2 by
# CLONE_INTO_CGROUP, v1 by the launch); bad values are refused with the
# value named; SIGTERM leaves no process and no cgroup directory behind.
# Needs root and cgroups with the memory, pids and cpu controllers (v1 or v2).
# Usage: test-host-limits.sh APPPOOL_HOST APPPOOL_WORKER
set -u
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
expect_in() { case "$1" in *"$2"*) ;; *) fail "expected '$2' in: $1" ;; esac; }
# wait_for WHAT SECONDS COMMAND...: poll the condition, never a bare sleep.
wait_for() {
        local what=$1 end=$((SECONDS + $2))
        shift 2
        until "$@" > /dev/null 2>&1; do
                [ $SECONDS -lt $end ] || fail "timed out waiting for: $what"
                sleep 0.1
        done
}
host=$(realpath "$1") worker=$(realpath "$2")
[ "$(id -u)" = 0 ] || { echo "SKIP: the host runs workers as other uids and makes cgroups: needs root"; exit 77; }
command -v curl >/dev/null || { echo "curl is needed (Debian package curl)"; exit 1; }
grep -qw cgroup2 /proc/self/mountinfo || grep -qE ' - cgroup ' /proc/self/mountinfo ||
        { echo "SKIP: no cgroup file system is mounted"; exit 77; }

# Where a controller lives for us (v2 if the unified hierarchy offers it to
# our cgroup, else its v1 mount), and whether we may make a cgroup there.
v2mnt=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
v2own=$(awk -F: '$1 == "0" && $2 == "" {print $3}' /proc/self/cgroup)
[ "$v2own" = / ] && v2own=
ctl_dir() {
        local c=$1 mnt own
        if [ -n "$v2mnt" ] && grep -qw "$c" "$v2mnt$v2own/cgroup.controllers" 2>/dev/null; then
                echo "$v2mnt$v2own"; return 0
        fi
        mnt=$(awk -v c="$c" '$0 ~ / - cgroup / { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo)
        own=$(awk -F: -v c="$c" '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $3 }' /proc/self/cgroup)
        [ "$own" = / ] && own=
        [ -n "$mnt" ] && echo "$mnt$own"
}
for c in memory pids cpu; do
        d=$(ctl_dir $c) || true
        [ -n "$d" ] || { echo "SKIP: no $c controller (neither in cgroup v2 nor mounted as v1)"; exit 77; }
        probe="$d/apid-limits-probe-$$"
        if ! mkdir "$probe" 2>/dev/null; then
                echo "SKIP: cannot make a cgroup in $d (read-only or not delegated)"; exit 77
        fi
        rmdir "$probe"
done

tmp=$(mktemp -d /tmp/apid-limits-XXXXXX)
chmod 755 "$tmp"
export APPPOOLID_STATE_DIR=$tmp/state APPPOOL_WORKER=$worker
hpid=
h2=
cleanup() {
        [ -n "$h2" ] && kill -KILL "$h2" 2>/dev/null
        [ -n "$hpid" ] && kill -TERM "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pm=$(port) pf=$(port) pc=$(port) pk=$(port) po=$(port)
mkdir -p "$tmp/bin"; chmod 755 "$tmp/bin"
cat > "$tmp/bin/hog.py" <<'PY'
#!/usr/bin/python3
# A misbehaving worker: one request per connection on descriptor 3.
# /pid: its pid; /alloc: grows until the kernel kills it; /fork: forks
# waiting children until fork fails, answers how many; /spin?s=N: two busy
# children for N seconds, then answers.
import os, socket, signal, time
sock = socket.socket(fileno=3)
os.write(4, b"READY=1\n")
os.close(4)
while True:
    conn, _ = sock.accept()
    req = conn.recv(4096).decode("latin-1")
    path = req.split(" ")[1] if " " in req else "/"
    body = "pid %d\n" % os.getpid()
    if path == "/alloc":
        # One allocation, written in one C loop: the worker passes the
        # backstop before the host's once-a-second measurement can see it.
        hoard = b"x" * (1 << 30)
    elif path == "/fork":
        n, err = 0, "none"
        while n < 100000:
            try:
                pid = os.fork()
            except OSError as e:
                err = os.strerror(e.errno)
                break
            if pid == 0:
                signal.pause()
                os._exit(0)
            n += 1
        body = "forks %d: %s\n" % (n, err)
    elif path.startswith("/spin"):
        secs = float(path.split("=")[1])
        kids = []
        for i in range(2):
            pid = os.fork()
            if pid == 0:
                end = time.monotonic() + secs
                while time.monotonic() < end:
                    pass
                os._exit(0)
            kids.append(pid)
        for k in kids:
            os.waitpid(k, 0)
        body = "spun %s\n" % secs
    conn.sendall(("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                  % (len(body), body)).encode())
    conn.close()
PY
chmod 755 "$tmp/bin/hog.py"

# Bad values are refused before anything is made, the value named.
bad() {
        printf '[pool P]\n%s\n[site S]\npool = P\nroot = %s/www/x\nlisten = 127.0.0.1:%s\n' "$1" "$tmp" "$po" > "$tmp/bad.ini"
        out=$("$host" --config "$tmp/bad.ini" 2>&1) && fail "host accepted '$1'"
        expect_in "$out" "$2"
}
bad "cpu.limit = 100001" "cpu.limit = '100001': 0 (off) to 100000"
bad "cpu.action = Kill" "cpu.action = 'Kill': NoAction, KillW3wp, Throttle or ThrottleUnderLoad"
bad "cpu.resetInterval = 25:00:00" "cpu.resetInterval = '25:00:00'"
bad "recycling.periodicRestart.privateMemory = 100" "privateMemory = '100': KB, 0 (off) or 4096"
bad "linux.pidsMax = -1" "linux.pidsMax = '-1'"
[ ! -e "$tmp/state" ] || fail "a refused configuration created state"
ok "bad limits are refused, the value named"

cat > "$tmp/host.ini" <<INI
[host]
shutdown_timeout = 5
[pool CgMem]
recycling.periodicRestart.privateMemory = 65536
rapid_fail_max_crashes = 100
[pool CgFork]
linux.pidsMax = 16
[pool CgCpu]
cpu.limit = 10000
cpu.action = Throttle
[pool CgKill]
cpu.limit = 5000
cpu.action = KillW3wp
cpu.resetInterval = 00:00:02
[pool Calm]
[site M]
pool = CgMem
root = $tmp/www/m
listen = 127.0.0.1:$pm
program = $tmp/bin/hog.py
[site F]
pool = CgFork
root = $tmp/www/f
listen = 127.0.0.1:$pf
program = $tmp/bin/hog.py
[site C]
pool = CgCpu
root = $tmp/www/c
listen = 127.0.0.1:$pc
program = $tmp/bin/hog.py
[site K]
pool = CgKill
root = $tmp/www/k
listen = 127.0.0.1:$pk
program = $tmp/bin/hog.py
[site O]
pool = Calm
root = $tmp/www/o
listen = 127.0.0.1:$po
INI
"$host" --config "$tmp/host.ini" > "$tmp/host.log" 2>&1 &
hpid=$!
get() { curl -s -m 10 "http://127.0.0.1:$1$2"; }
hog_pid() { get "$1" /pid | awk '$1 == "pid" {print $2}'; }
serves_calm() { get "$po" / | grep -q "application pool Calm" || fail "Calm did not serve: $(cat "$tmp/host.log")"; }
for p in $pm $pf $pc $pk; do
        wait_for "site on port $p answers" 20 sh -c "curl -s -m 2 http://127.0.0.1:$p/pid | grep -q pid"
done
wait_for "site O answers" 20 sh -c "curl -s -m 2 http://127.0.0.1:$po/ | grep -q Calm"
grep -q "cgroup" "$tmp/host.log" || fail "the host made no cgroup: $(cat "$tmp/host.log")"

# Each pool's worker is in its pool's cgroups from the start (v2: cloned
# into it; v1 memory: joined by the launch), and in nobody else's.
cgpath() { grep -o "limits of apppool-$1: cgroup [^ ]*" "$tmp/host.log" | awk '{print $NF}'; }
m=$(hog_pid $pm) f=$(hog_pid $pf) c=$(hog_pid $pc) k=$(hog_pid $pk)
[ -n "$m" ] && [ -n "$f" ] && [ -n "$c" ] && [ -n "$k" ] || fail "a hog did not say its pid"
for pair in "cgmem:$m" "cgfork:$f" "cgcpu:$c" "cgkill:$k"; do
        pool=${pair%%:*} pid=${pair#*:}
        dirs=$(cgpath "$pool")
        [ -n "$dirs" ] || fail "no cgroup logged for $pool: $(cat "$tmp/host.log")"
        for d in $dirs; do
                grep -qx "$pid" "$d/cgroup.procs" || fail "pid $pid of $pool is not in $d: $(cat /proc/$pid/cgroup)"
        done
done
# A host on a state directory other than the default names its level after
# it (apppoolid-XXXXXXXX), so that hosts never share a pool's cgroup.
grep -qE "/apppoolid-[0-9a-f]{8}/apppool-cgmem$" /proc/$m/cgroup || fail "CgMem's worker: $(cat /proc/$m/cgroup)"
o=$(grep -o "site O, pool Calm, pid [0-9]*" "$tmp/host.log" | head -1 | awk '{print $NF}')
[ -n "$o" ] && ! grep -q apppoolid "/proc/$o/cgroup" || fail "Calm's worker ${o:-?} is in a pool cgroup"
ok "workers are in their pools' cgroups ($(cgpath cgmem | wc -l) hierarchies for CgMem)"

# Memory: the worker past privateMemory is killed in its cgroup, the host
# says why and starts another; Calm serves meanwhile.
# On a busy machine the host's measurement may still see the worker first
# and recycle it (that is privateMemory doing its job): then the new worker
# tries again, three times at most.
oom() { grep -q "pid $1, killed by signal 9, killed by the kernel's OOM killer in the pool's cgroup" "$tmp/host.log"; }
seen() { oom "$1" || grep -q "privateMemory: pid $1 uses" "$tmp/host.log"; }
for try in 1 2 3; do
        curl -s -m 60 "http://127.0.0.1:$pm/alloc" > /dev/null &
        apid=$!
        serves_calm
        wait_for "the OOM kill (or the recycle) of $m logged" 60 seen "$m"
        wait $apid
        oom "$m" && break
        [ $try -lt 3 ] || fail "CgMem: the host recycled $m three times before the kernel's OOM kill"
        wait_for "CgMem's next worker" 20 sh -c "curl -s -m 2 http://127.0.0.1:$pm/pid | grep -q pid"
        m=$(hog_pid $pm)
done
wait_for "CgMem's new worker" 20 sh -c "curl -s -m 2 http://127.0.0.1:$pm/pid | grep -q pid"
m2=$(hog_pid $pm)
[ -n "$m2" ] && [ "$m2" != "$m" ] || fail "CgMem: no new worker ($m, then '$m2')"
serves_calm
ok "CgMem: worker $m killed at its memory limit (OOM in its cgroup), $m2 serves; Calm unaffected"

# A fork bomb stops at pids.max; Calm serves, and the host still starts workers.
out=$(get $pf /fork)
n=$(echo "$out" | awk '{print $2}' | tr -d :)
expect_in "$out" "Resource temporarily unavailable"
[ "$n" -le 15 ] || fail "CgFork forked $n processes past linux.pidsMax = 16"
pidsdir=$(cgpath cgfork | grep -v "$v2mnt/" | head -1)
[ -n "$v2mnt" ] && grep -qw pids "$v2mnt$v2own/cgroup.controllers" 2>/dev/null && pidsdir=$(cgpath cgfork | head -1)
[ "$(cat "$pidsdir/pids.current")" -le 16 ] || fail "pids.current $(cat "$pidsdir/pids.current") in $pidsdir"
serves_calm
for i in 1 2 3; do serves_calm; done
kill -HUP "$hpid" # every pool recycles: Calm's new worker starts; CgFork's cannot, its old one keeps serving
wait_for "Calm recycled" 30 grep -q "pool Calm recycled" "$tmp/host.log"
serves_calm
ok "CgFork: fork bomb stopped after $n forks (EAGAIN at linux.pidsMax = 16); Calm serves and recycles"

# CPU: two busy processes under Throttle at 10% of all CPUs. The quota caps
# the use whatever the load; a busy machine may keep them below it (then the
# kernel had nothing to throttle, and only the cap is checked).
ncpu=$(nproc)
cpudir=$(cgpath cgcpu | grep "^$v2mnt/" | head -1)
[ -n "$cpudir" ] || cpudir=$(cgpath cgcpu | head -1)
use() { awk '$1 == "usage_usec" {print $2}' "$cpudir/cpu.stat"; }
u0=$(use) t0=$(date +%s%N)
out=$(curl -s -m 30 "http://127.0.0.1:$pc/spin?s=4")
u1=$(use) t1=$(date +%s%N)
expect_in "$out" "spun 4"
read -r ratio verdict < <(awk -v u=$((u1 - u0)) -v t=$(((t1 - t0) / 1000)) -v n="$ncpu" \
        'BEGIN { r = u / t; q = 0.10 * n
                v = (r > q * 1.3 + 0.05 || u == 0) ? "bad" : (r > q * 0.7 ? "at-quota" : "below")
                printf "%.3f %s\n", r, v }')
[ "$verdict" != bad ] || fail "CgCpu used $ratio CPUs over $(((t1 - t0) / 1000000)) ms; the quota is $((ncpu * 10))% of one CPU"
thr=$(cgpath cgcpu | while read -r d; do [ -f "$d/cpu.stat" ] && awk '$1 == "nr_throttled" {print $2}' "$d/cpu.stat"; done | head -1)
[ "$verdict" = below ] || [ "${thr:-0}" -gt 0 ] || fail "CgCpu reached its quota but was never throttled (nr_throttled ${thr:-missing})"
ok "CgCpu: two busy processes used $ratio CPUs (quota $(awk -v n="$ncpu" 'BEGIN{print 0.10*n}'), $verdict), throttled ${thr:-0} times"

# KillW3wp: over the limit for a reset interval, the pool's processes go.
k=$(hog_pid $pk) # (the recycle above replaced it)
curl -s -m 30 "http://127.0.0.1:$pk/spin?s=20" > /dev/null &
spid=$!
wait_for "KillW3wp logged" 20 grep -q "pool CgKill: CPU use .* above cpu.limit 5.000% (cpu.action KillW3wp): killing its workers" "$tmp/host.log"
wait $spid
# The client sees the connection close when the worker dies; the host logs
# the exit when it reaps it, which may come a moment later.
wait_for "CgKill's worker $k reaped, the reason logged" 20 grep -qF \
        "pid $k, killed by signal 9, killed by the host: cpu.limit exceeded (cpu.action KillW3wp)" "$tmp/host.log"
wait_for "CgKill's new worker" 20 sh -c "curl -s -m 2 http://127.0.0.1:$pk/pid | grep -q pid"
k2=$(hog_pid $pk)
[ "$k2" != "$k" ] || fail "CgKill: the same worker $k"
grep -q "pool CgKill stopped" "$tmp/host.log" && fail "KillW3wp counted as a crash"
ok "CgKill: killed for CPU over cpu.resetInterval, worker $k2 serves"

# A second host on another state directory, started from the same cgroup,
# with a pool of the same name (the same user, apppool-cgkill): its cgroups
# are its own, and its teardown (cgroup.kill, rmdir) leaves the first
# host's worker alive.
p2=$(port)
mkdir -p "$tmp/www2"
printf '[pool CgKill]\nlinux.pidsMax = 32\n[site K2]\npool = CgKill\nroot = %s/www2\nlisten = 127.0.0.1:%s\nprogram = %s/bin/hog.py\n' \
        "$tmp" "$p2" "$tmp" > "$tmp/second.ini"
APPPOOLID_STATE_DIR=$tmp/state2 "$host" --config "$tmp/second.ini" 2> "$tmp/second.log" &
h2=$!
wait_for "the second host's worker" 20 sh -c "curl -s -m 2 http://127.0.0.1:$p2/pid | grep -q pid"
k3=$(hog_pid $p2)
second=$(grep -o "limits of apppool-cgkill: cgroup [^ ]*" "$tmp/second.log" | awk '{print $NF}' | head -1)
[ -n "$second" ] && ! cgpath cgkill | grep -qxF "$second" || fail "the second host shares CgKill's cgroup: $second"
kill -TERM "$h2"
# (A zombie until waited for: its state, not kill -0, says it has exited.)
wait_for "the second host to exit" 30 sh -c "[ ! -e /proc/$h2 ] || [ \"\$(cut -d' ' -f3 /proc/$h2/stat)\" = Z ]"
wait "$h2" || fail "the second host exited $?: $(tail -3 "$tmp/second.log")"
[ ! -d "/proc/$k3" ] || fail "the second host's worker $k3 outlived it"
kill -0 "$k2" 2>/dev/null || fail "the second host's teardown killed the first host's worker $k2"
h2=
[ "$(hog_pid $pk)" = "$k2" ] || fail "CgKill's worker $k2 no longer serves"
ok "a second host (another state directory, the same pool) has cgroups of its own; its teardown spares the first's worker $k2"

# SIGTERM: every process ends (the fork bomb's children too), every cgroup goes.
dirs=$(grep -o "limits of apppool-[a-z]*: cgroup [^ ]*" "$tmp/host.log" | awk '{print $NF}')
kill -TERM "$hpid"
wait "$hpid"
code=$?
hpid=
[ "$code" = 0 ] || fail "the host exited $code: $(tail -5 "$tmp/host.log")"
for d in $dirs; do
        [ ! -e "$d" ] || fail "cgroup $d is left behind"
done
for u in $(grep -o "pool Cg[A-Za-z]*, pid [0-9]*, uid [0-9]*" "$tmp/host.log" | awk '{print $NF}' | sort -u); do
        # This run's programs only (the pool's uid is the same in any other
        # run on the machine: pool uids follow from pool names).
        wait_for "no process of uid $u left" 10 sh -c "! pgrep -u $u -f '$tmp/bin/'"
done
ok "SIGTERM: $(echo "$dirs" | wc -l) cgroups removed, no process left"
