#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The host's administrator control socket (appcmd start|stop|recycle|list
# apppool), end to end with a real host, real workers and curl:
#  - a pool that crashes until rapid-fail protection stops it answers 503;
#    start clears its failures and it serves 200 again;
#  - stop: its worker stops (SIGTERM, status 0), 503; start: 200; the same
#    for an OnDemand pool (its next connection starts it);
#  - recycle: a new worker pid, the old one gone; list, the status page and
#    SIGUSR1 show each pool's state and why it is stopped;
#  - the attack: a process running as a pool's uid cannot reach the socket
#    (0600, in a 0700 directory), and when the socket is made reachable, its
#    "stop" of another pool is refused by SO_PEERCRED and changes nothing;
#  - bad input (unknown command, unknown pool, over-long, NUL or control
#    bytes in a name, list with an argument) is refused and changes nothing;
#  - a client that connects and sends nothing (or 16 of them) does not stall
#    the host: other pools serve, list from another client answers, the
#    silent one is closed after 5 s; a full set answers "busy";
#  - a bad [host] control (relative, in a world-writable directory, another
#    host's live socket) stops the host at start, saying why.
# Needs root. Usage: test-host-control.sh APPPOOL_HOST APPPOOL_WORKER
set -u
. "$(dirname "$0")/../cli/testlib.sh"
host=$(realpath "$1") worker=$(realpath "$2")
[ "$(id -u)" = 0 ] || { echo "SKIP: the host runs workers as other uids: needs root"; exit 77; }
command -v curl >/dev/null || { echo "curl is needed (Debian package curl)"; exit 1; }
command -v setpriv >/dev/null || { echo "setpriv is needed (Debian package util-linux)"; exit 1; }
tmp=$(mktemp -d /tmp/apid-host-ctl-XXXXXX)
chmod 755 "$tmp"
export APPPOOLID_STATE_DIR=$tmp/state APPPOOL_WORKER=$worker
py=/usr/bin/python3
hpid= kids=
cleanup() {
        for k in $kids; do kill "$k" 2>/dev/null; done
        [ -n "$hpid" ] && kill -TERM "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
until_sh() {
        local end=$((SECONDS + $1)); shift
        until eval "$1"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done
}
logged() { grep -q -- "$1" "$tmp/log"; }
code() { curl -s -m 10 -o /dev/null -w '%{http_code}' "$@"; }
sock=$tmp/state/host/control
ctl() { "$host" --control "$sock" "$@"; }
# pool_field POOL EXPR: a value of the pool in status.json (p: the pool).
pool_field() {
        curl -s "http://127.0.0.1:$ps/status.json" |
                $py -c 'import json,sys; p=[p for p in json.load(sys.stdin)["pools"] if p["name"]==sys.argv[1]][0]; v=eval(sys.argv[2]); print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$1" "$2"
}
# The pids of a pool's workers that are not retiring.
live() { pool_field "$1" '" ".join(str(w["pid"]) for w in p["workers"] if w["state"] != "retiring")'; }
state() { ctl list | grep "^APPPOOL \"$1\" " | sed 's/.*(state:\([A-Za-z]*\),.*/\1/'; }

# A bad [host] control stops the host before anything else, saying why.
pb=$(port)
mkdir -p "$tmp/ww" && chmod 1777 "$tmp/ww"
# A root-only directory under one a pool owns: the pool could rename it away
# and put its own in its place after the check.
mkdir -p "$tmp/pw/inner" && chmod 700 "$tmp/pw/inner" && chown 65534 "$tmp/pw"
while IFS='|' read -r value expect; do
        printf '[host]\ncontrol = %s\n[pool V]\n[site V]\npool = V\nroot = %s/www/v\nlisten = 127.0.0.1:%s\n' \
                "$value" "$tmp" "$pb" > "$tmp/bad.ini"
        out=$("$host" --config "$tmp/bad.ini" 2>&1); rc=$?
        check "control = '$value': refused, saying why" "1 1" "$rc $(echo "$out" | grep -cF -- "$expect")"
done <<BAD
relative/control|[host] control = 'relative/control': expected an absolute path of at most 107 bytes
/$(head -c 120 /dev/zero | tr '\0' x)|expected an absolute path of at most 107 bytes
$tmp/ww/control|control socket $tmp/ww/control: its directory $tmp/ww is owned by uid 0, mode 1777: it must be one only root can write
$tmp/none/control|control socket $tmp/none/control: its directory $tmp/none: No such file or directory
$tmp/pw/inner/control|control socket $tmp/pw/inner/control: the directory $tmp/pw above it is owned by uid 65534
BAD
check "a world-writable directory: no socket left in it" "" "$(ls "$tmp/ww")"
check "a bad control socket: refused before any pool or ACL (no state created)" 0 "$([ -e "$tmp/state" ] && echo 1 || echo 0)"

pc=$(port) pa=$(port) pl=$(port) po=$(port) ps=$(port)
mkdir -p "$tmp/bin" "$tmp/count"; chmod 755 "$tmp/bin"; chmod 1777 "$tmp/count"
# Exits 1 (a failure) on its first three starts, then is the real worker.
cat > "$tmp/bin/crash3.sh" <<SH
#!/bin/sh
n=\$(cat $tmp/count/n 2>/dev/null || echo 0)
echo \$((n + 1)) > $tmp/count/n
[ "\$n" -ge 3 ] && exec $worker "\$@"
exit 1
SH
chmod 755 "$tmp/bin/crash3.sh"
cat > "$tmp/host.ini" <<INI
[host]
shutdown_timeout = 5
status = 127.0.0.1:$ps
[pool Crashy]
startMode = AlwaysRunning
failure.rapidFailProtectionMaxCrashes = 3
failure.rapidFailProtectionInterval = 00:05:00
[pool Steady]
startMode = AlwaysRunning
[pool Lazy]
[pool Other]
startMode = AlwaysRunning
[site C]
pool = Crashy
root = $tmp/www/c
listen = 127.0.0.1:$pc
program = $tmp/bin/crash3.sh
[site A]
pool = Steady
root = $tmp/www/a
listen = 127.0.0.1:$pa
[site L]
pool = Lazy
root = $tmp/www/l
listen = 127.0.0.1:$pl
[site O]
pool = Other
root = $tmp/www/o
listen = 127.0.0.1:$po
INI
"$host" --config "$tmp/host.ini" 2> "$tmp/log" &
hpid=$!
until_sh 20 'curl -sf -o /dev/null "http://127.0.0.1:$ps/status.json"'; check "status page up" 0 $?
check "the control socket: mode 0600, root's, in a 0700 directory of root's" "socket 600 0 700 0" \
        "$(stat -c '%F %a %u' "$sock" | sed 's/^socket /socket /') $(stat -c '%a %u' "$tmp/state/host")"
logged "control socket $sock (apppool-host --control $sock list)"; check "the socket logged" 0 $?

# Rapid-fail protection stops Crashy (3 failures): 503. start: its failures
# are forgotten, its fourth worker is the real one, 200.
until_sh 20 'logged "pool Crashy stopped: rapid-fail protection, 3 failures in 300 s"'
check "Crashy: stopped by rapid-fail protection" 0 $?
check "Crashy: 503" 503 "$(code "http://127.0.0.1:$pc/")"
check "list: Crashy stopped, and why" \
        'APPPOOL "Crashy" (state:Stopped,startMode:AlwaysRunning,workers:0,activity:none,stoppedBy:rapid-fail protection, 3 failures in 300 s)' \
        "$(ctl list | grep '"Crashy"')"
check "status.json: Crashy stopped, tripped, why" "stopped True rapid-fail protection, 3 failures in 300 s 3" \
        "$(pool_field Crashy 'p["state"], p["rapid_fail"]["tripped"], p["stopped_by"], p["rapid_fail"]["failures"]')"
out=$(ctl start Crashy); rc=$?
check "start Crashy: answered, exit 0" "0 pool 'Crashy' started: workers starting: 1" "$rc $out"
until_sh 20 'test "$(code "http://127.0.0.1:$pc/")" = 200'; check "Crashy: 200 after start" 200 "$(code "http://127.0.0.1:$pc/")"
check "status.json: Crashy running, its failures forgotten" "running False None 0" \
        "$(pool_field Crashy 'p["state"], p["rapid_fail"]["tripped"], p["stopped_by"], p["rapid_fail"]["failures"]')"
logged "pool Crashy started by an administrator (control socket, uid 0); it was stopped: rapid-fail protection, 3 failures in 300 s"
check "start logged, with the reason it was stopped" 0 $?
out=$(ctl start Crashy 2>&1); rc=$?
check "start a started pool: refused, exit 1" "1 apppool-host: pool 'Crashy' is already started" "$rc $out"

# stop: the worker stops (SIGTERM: status 0), the pool answers 503; start: 200.
until_sh 20 'test -n "$(live Steady)"'
wa=$(live Steady)
check "Steady serves" 200 "$(code "http://127.0.0.1:$pa/")"
out=$(ctl stop apppool /apppool.name:Steady); rc=$?
check "stop (appcmd's grammar): answered, exit 0" "0 pool 'Steady' stopped: workers told to stop (SIGTERM): 1" "$rc $out"
check "Steady: 503 once stopped" 503 "$(code "http://127.0.0.1:$pa/")"
until_sh 10 'logged "worker exited: site A, pid $wa, status 0"'; check "stop: the worker exited gracefully (status 0)" 0 $?
check "Steady: still 503, no worker" "503 " "$(code "http://127.0.0.1:$pa/") $(live Steady)"
check "list: Steady stopped by an administrator" \
        "APPPOOL \"Steady\" (state:Stopped,startMode:AlwaysRunning,workers:0,activity:none,stoppedBy:an administrator's stop command (control socket, uid 0))" \
        "$(ctl list | grep '"Steady"')"
check "status.json: Steady stopped, not tripped" "stopped False" "$(pool_field Steady 'p["state"], p["rapid_fail"]["tripped"]')"
check "status page (HTML): stopped by" 1 "$(curl -s "http://127.0.0.1:$ps/" | grep -c "<dd class=\"stop-why\">an administrator&#39;s stop command (control socket, uid 0)</dd>")"
kill -USR1 "$hpid"
until_sh 10 "logged \"status: pool Steady (uid [0-9]*) stopped (an administrator's stop command (control socket, uid 0)); workers: none\""
check "SIGUSR1: Steady stopped, and why" 0 $?
out=$(ctl stop Steady 2>&1); rc=$?
check "stop a stopped pool: refused, exit 1" "1 apppool-host: pool 'Steady' is already stopped: an administrator's stop command (control socket, uid 0)" "$rc $out"
out=$(ctl recycle Steady 2>&1); rc=$?
check "recycle a stopped pool: refused, exit 1" "1 apppool-host: pool 'Steady' is stopped (an administrator's stop command (control socket, uid 0)): start it first" "$rc $out"
check "start Steady" 0 "$(ctl start Steady >/dev/null; echo $?)"
until_sh 20 'test "$(code "http://127.0.0.1:$pa/")" = 200'; check "Steady: 200 after start" 200 "$(code "http://127.0.0.1:$pa/")"
check "Steady: a new worker" 1 "$(w=$(live Steady); [ -n "$w" ] && [ "$w" != "$wa" ] && echo 1 || echo "$wa/$w")"

# An OnDemand pool: stop, 503, start, and the next connection starts it.
check "Lazy: 200 (started on demand)" 200 "$(code "http://127.0.0.1:$pl/")"
check "stop Lazy" 0 "$(ctl stop Lazy >/dev/null; echo $?)"
check "Lazy: 503" 503 "$(code "http://127.0.0.1:$pl/")"
check "start Lazy: OnDemand" "pool 'Lazy' started (startMode OnDemand: its workers start at the next connection)" "$(ctl start Lazy)"
check "Lazy: list says Started, idle" 'APPPOOL "Lazy" (state:Started,startMode:OnDemand,workers:0,activity:idle)' "$(ctl list | grep '"Lazy"')"
check "Lazy: 200 again" 200 "$(code "http://127.0.0.1:$pl/")"

# recycle: a new pid serves, the old one exits.
until_sh 10 'test "$(live Steady | wc -w)" = 1'
old=$(live Steady)
check "recycle: answered" "pool 'Steady' recycling: new workers start, the old ones stop once they are ready" "$(ctl recycle Steady)"
until_sh 20 'test -n "$(live Steady)" -a "$(live Steady)" != "$old"'
new=$(live Steady)
check "recycle: a new worker pid" 1 "$([ -n "$new" ] && [ "$new" != "$old" ] && echo 1 || echo "$old/$new")"
until_sh 10 'logged "worker exited: site A, pid $old, status 0"'; check "recycle: the old worker exited gracefully" 0 $?
logged "pool Steady recycled (an administrator (control socket, uid 0))"; check "recycle: logged" 0 $?
check "recycle: the new worker serves" 200 "$(code "http://127.0.0.1:$pa/")"

# list: every pool, a line each.
check "list: every pool" "$(printf '%s\n' \
        'APPPOOL "Crashy" (state:Started,startMode:AlwaysRunning,workers:1,activity:running)' \
        'APPPOOL "Steady" (state:Started,startMode:AlwaysRunning,workers:1,activity:running)' \
        'APPPOOL "Other" (state:Started,startMode:AlwaysRunning,workers:1,activity:running)' \
        'APPPOOL "Lazy" (state:Started,startMode:OnDemand,workers:1,activity:running)')" "$(ctl list apppool)"
check "list: case-insensitive pool names (IIS's)" 0 "$(ctl recycle steady >/dev/null; echo $?)"
until_sh 20 'test "$(grep -c "pool Steady recycled" "$tmp/log")" = 2'; check "the case-insensitive recycle done" 0 $?

# Bad input: refused, exit 1, a clear message; nothing changes.
before=$(ctl list)
long=$(head -c 200 /dev/zero | tr '\0' x)
while IFS='|' read -r args expect; do
        eval "set -- $args"
        out=$(ctl "$@" 2>&1); rc=$?
        check "bad: $args" "1 apppool-host: $expect" "$rc $out"
done <<BAD
frob Steady|unknown command 'frob' (expected start POOL, stop POOL, recycle POOL or list)
stop Nope|no pool named 'Nope' in this host (its pools: 'Crashy', 'Steady', 'Other', 'Lazy')
stop apppool /apppool.name:Nope|no pool named 'Nope' in this host (its pools: 'Crashy', 'Steady', 'Other', 'Lazy')
stop|stop needs a pool name (expected start POOL, stop POOL, recycle POOL or list)
stop $'Ste\tady'|pool name 'Ste\\x09ady': a control byte at offset 3 (no pool has one)
stop $long|pool name '$(head -c 92 /dev/zero | tr '\0' x)...' of 200 bytes: at most 127
list Steady|list takes no argument, not 'Steady'
BAD
check "bad: two pool names: usage, exit 2" 2 "$(ctl stop Steady Other 2>/dev/null; echo $?)"
check "bad: no command: usage, exit 2" 2 "$(ctl 2>/dev/null; echo $?)"
# Raw messages: a NUL in the name, a command longer than 512 bytes.
raw() {
        $py -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(eval(sys.argv[2]))
print(s.recv(65536).decode(), end="")' "$sock" "$1"
}
check "bad: a NUL in the name" "error: pool name 'Steady\\x00Other': a NUL byte at offset 6 (no pool has one)" "$(raw 'b"stop Steady\0Other"')"
check "bad: 4 KiB" "error: a command longer than 512 bytes" "$(raw 'b"stop " + b"x" * 4096')"
check "bad input changed nothing" "$before" "$(ctl list)"
check "bad input: every site still serves" "200 200 200 200" \
        "$(code "http://127.0.0.1:$pc/") $(code "http://127.0.0.1:$pa/") $(code "http://127.0.0.1:$pl/") $(code "http://127.0.0.1:$po/")"

# The attack: a process running as pool Steady's uid (and gid) tries to stop
# pool Other. The socket is 0600 in a 0700 directory: it cannot connect.
puid=$(awk '/^Uid:/ {print $2}' "/proc/$(live Steady)/status")
pgid=$(awk '/^Gid:/ {print $2}' "/proc/$(live Steady)/status")
check "the attacker: Steady's uid, not root" 1 "$([ -n "$puid" ] && [ "$puid" != 0 ] && echo 1 || echo "'$puid'")"
attack() {
        setpriv --reuid="$puid" --regid="$pgid" --clear-groups $py -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect:", e.strerror); sys.exit(0)
try:
    s.send(b"stop Other")
except BrokenPipeError:
    pass # the host answered and closed at once: the answer is still there
try:
    print(s.recv(65536).decode(), end="")
except ConnectionResetError: # (closed with our message unread: the answer waits)
    print(s.recv(65536, socket.MSG_DONTWAIT).decode(), end="")' "$1"
}
check "attack: the socket is out of reach" "connect: Permission denied" "$(attack "$sock")"
# Even when it can reach the socket (a mistake made on purpose here: the
# directory searchable, the socket 0666), SO_PEERCRED refuses it.
chmod 0711 "$tmp/state/host"; chmod 0666 "$sock"
check "attack: a reachable socket: refused by SO_PEERCRED" \
        "error: permission denied: uid $puid may not command this host (only root)" "$(attack "$sock")"
check "attack: list is refused too" "error: permission denied: uid $puid may not command this host (only root)" \
        "$(setpriv --reuid="$puid" --regid="$pgid" --clear-groups "$host" --control "$sock" list 2>&1 | sed 's/^apppool-host: /error: /')"
chmod 0700 "$tmp/state/host"; chmod 0600 "$sock"
logged "control: refused a connection from uid $puid (pid [0-9]*): only root may command the host"
check "attack: the refusal logged" 0 $?
check "attack: Other still started, and serving" "Started 200" "$(state Other) $(code "http://127.0.0.1:$po/")"
logged "pool Other stopped"; check "attack: Other never stopped" 1 $?

# A client that connects and sends nothing: the host goes on (other pools
# serve, list from another client answers); the silent one is closed after
# 5 s. Sixteen of them fill the set: the next connection is told "busy".
silent() {
        $py -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
print("connected", flush=True)
print(s.recv(65536).decode(), end="", flush=True)' "$sock" > "$2" &
        kids="$kids $!"
}
silent_pids=
for i in $(seq 16); do silent "$sock" "$tmp/silent.$i"; silent_pids="$silent_pids $!"; done
until_sh 10 'test "$(cat "$tmp"/silent.* | grep -c connected)" = 16'; check "16 silent clients connected" 0 $?
t0=$SECONDS
check "16 silent clients: the sites still serve" "200 200" "$(code "http://127.0.0.1:$pa/") $(code "http://127.0.0.1:$po/")"
out=$(ctl list 2>&1); rc=$?
check "16 silent clients: the next connection is told busy" "1 apppool-host: busy: too many control connections are open; try again" "$rc $out"
until_sh 15 'test "$(cat "$tmp"/silent.* | grep -c "error: no command within 5 s")" = 16'
check "the silent clients are closed after 5 s" 0 $?
check "not before 4 s" 1 "$([ $((SECONDS - t0)) -ge 4 ] && echo 1 || echo "$((SECONDS - t0)) s")"
wait $silent_pids
check "then list answers" 4 "$(ctl list | grep -c '^APPPOOL ')"
# One silent client held open while others command the host.
silent "$sock" "$tmp/silent.one"
until_sh 10 'grep -q connected "$tmp/silent.one"'
check "a silent client: list still answers" 4 "$(ctl list | grep -c '^APPPOOL ')"
check "... while the silent client is still connected (not after it)" "connected" "$(cat "$tmp/silent.one")"
check "a silent client: stop and start still work" "0 0 503" \
        "$(ctl stop Other >/dev/null; echo -n "$? "; code "http://127.0.0.1:$po/" > "$tmp/code"; ctl start Other >/dev/null; echo "$? $(cat "$tmp/code")")"
until_sh 20 'test "$(code "http://127.0.0.1:$po/")" = 200'; check "Other serves again" 200 "$(code "http://127.0.0.1:$po/")"
# A client that sends its command and never reads: the answer waits in its
# socket; the host goes on.
$py -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(b"list")
print("sent", flush=True)
time.sleep(30)' "$sock" > "$tmp/noread" &
kids="$kids $!"
until_sh 10 'grep -q sent "$tmp/noread"'
check "a client that does not read: list still answers" 4 "$(ctl list | grep -c '^APPPOOL ')"
check "... while that client is still there" 1 "$(kill -0 $! 2>/dev/null && echo 1 || echo 0)"
# A half-open client: it shuts its side without a word; the host closes it.
check "a half-open client: closed, no answer" "eof" "$($py -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.shutdown(socket.SHUT_WR)
s.settimeout(30)
print("eof" if s.recv(100) == b"" else "data")' "$sock")"

# A second host on the same socket is refused (the first one's is live).
pd=$(port)
printf '[host]\ncontrol = %s\n[pool V]\n[site V]\npool = V\nroot = %s/www/v\nlisten = 127.0.0.1:%s\n' "$sock" "$tmp" "$pd" > "$tmp/second.ini"
out=$(APPPOOLID_STATE_DIR=$tmp/state2 "$host" --config "$tmp/second.ini" 2>&1); rc=$?
check "a second host on a live socket: refused" "1 1" "$rc $(echo "$out" | grep -cF "control socket $sock: another host answers on it; set [host] control")"
check "the first host still answers" 4 "$(ctl list | grep -c '^APPPOOL ')"

# SIGTERM: the socket goes with the host.
kill -TERM "$hpid"
timeout 15 tail --pid="$hpid" -f /dev/null
wait "$hpid"
check "host exit status (0; under ASan, no leak)" 0 $?
hpid=
check "the socket is removed at exit" 0 "$([ -e "$sock" ] && echo 1 || echo 0)"
out=$(ctl list 2>&1); rc=$?
check "no host: the client says so, exit 1" "1 1" "$rc $(echo "$out" | grep -c "apppool-host: --control $sock: No such file or directory")"
if [ "$fail" -ne 0 ]; then echo "--- host log"; cat "$tmp/log"; fi
finish
