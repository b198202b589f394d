#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# apppool-host.service: systemd-analyze verify accepts it (offline: no
# running systemd is needed), and the capabilities it keeps are enough. The
# host is run here as the unit runs it, as root under no_new_privs with only
# the unit's CapabilityBoundingSet (setpriv): its worker must serve a page as
# the pool's uid. Run again without CAP_SETUID, CAP_SETGID or CAP_SETPCAP in
# turn, the host must fail to start workers: the check can tell a set that
# is too small.
# Needs root. Usage: test-unit.sh UNIT APPPOOL_HOST APPPOOL_WORKER [MAN_PAGE...]
set -u
. "$(dirname "$0")/../cli/testlib.sh"
unit=$1 host=$(realpath "$2") worker=$(realpath "$3")
shift 3
[ "$(id -u)" = 0 ] || { echo "SKIP: the host runs workers as other uids: needs root"; exit 77; }
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze is missing (Debian package systemd)"; exit 77; }
command -v curl >/dev/null || { echo "curl is needed (Debian package curl)"; exit 1; }
tmp=$(mktemp -d /tmp/apid-unit-XXXXXX)
chmod 755 "$tmp"
hpid=
cleanup() { [ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# verify checks that ExecStart's program exists and, unless told not to, that
# the Documentation= man pages do: point it at the built host and pages.
sed "s|^ExecStart=[^ ]*|ExecStart=$host|" "$unit" > "$tmp/apppool-host.service"
man_opt=--man=no
if [ $# -gt 0 ]; then
        for page in "$@"; do
                mkdir -p "$tmp/man/man${page##*.}"
                cp "$page" "$tmp/man/man${page##*.}/"
        done
        man_opt=--man=yes
fi
out=$(MANPATH=$tmp/man systemd-analyze verify $man_opt "$tmp/apppool-host.service" 2>&1)
check "systemd-analyze verify $man_opt" "0 ''" "$? '$out'"

caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
check "the unit keeps CAP_SETUID" 1 "$(echo "$caps" | grep -cw CAP_SETUID)"
grep -qx 'NoNewPrivileges=yes' "$unit"; check "the unit sets NoNewPrivileges" 0 $?
setpriv_caps() { # CAP_A CAP_B... -> -all,+a,+b
        local s=-all c
        for c in "$@"; do s+=",+$(echo "${c#CAP_}" | tr 'A-Z' 'a-z')"; done
        echo "$s"
}

export APPPOOLID_STATE_DIR=$tmp/state APPPOOL_WORKER=$worker
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/host.ini" <<INI
[pool UnitPool]
startMode = AlwaysRunning
[site U]
pool = UnitPool
root = $tmp/www
listen = 127.0.0.1:$port
INI
mkdir -m 750 "$tmp/www"
echo "served under the unit's capabilities" > "$tmp/www/page.txt"
chmod 640 "$tmp/www/page.txt"

# shellcheck disable=SC2086
setpriv --bounding-set="$(setpriv_caps $caps)" --no-new-privs "$host" --config "$tmp/host.ini" 2> "$tmp/log" &
hpid=$!
for _ in $(seq 100); do
        [ "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/page.txt")" = 200 ] && break
        kill -0 "$hpid" 2>/dev/null || break
        sleep 0.1
done
check "served with the unit's capabilities" "served under the unit's capabilities" \
        "$(curl -s --max-time 10 "http://127.0.0.1:$port/page.txt")"
check "the host has exactly the unit's set" "$(setpriv --bounding-set="$(setpriv_caps $caps)" grep CapBnd /proc/self/status)" \
        "$(grep CapBnd "/proc/$hpid/status")"
check "the host runs under no_new_privs" "NoNewPrivs:	1" "$(grep NoNewPrivs "/proc/$hpid/status")"
uid=$(awk '/worker started/ { sub(/.*uid /, ""); print; exit }' "$tmp/log")
check "ps: the worker runs as the pool" "$uid" "$(ps -o uid= --ppid "$hpid" | tr -d ' ')"
[ "${uid:-0}" -ge 65536 ]; check "the pool's uid is not root's" 0 $?
kill -TERM "$hpid"
wait "$hpid"
check "SIGTERM: the host exits 0" 0 $?
hpid=

# Without any one of the identity-changing capabilities, the same host
# cannot start its worker: the check can tell a set that is too small.
for cap in CAP_SETUID CAP_SETGID CAP_SETPCAP; do
        # shellcheck disable=SC2086
        setpriv --bounding-set="$(setpriv_caps $(echo "$caps" | sed "s/\b$cap\b//"))" --no-new-privs \
                "$host" --config "$tmp/host.ini" 2> "$tmp/log-$cap" &
        hpid=$!
        for _ in $(seq 100); do
                grep -q 'cannot start a worker' "$tmp/log-$cap" && break
                sleep 0.1
        done
        grep -q "cannot start a worker: .*lacks $cap" "$tmp/log-$cap" || cat "$tmp/log-$cap"
        check "without $cap: no worker (the launch refuses)" 0 $?
        kill -TERM "$hpid"
        wait "$hpid"
        hpid=
done
finish
