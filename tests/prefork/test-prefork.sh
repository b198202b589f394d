#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# examples/prefork end to end, with curl: two pools, two sites, two children
# each. ps shows each site's children under its pool's uid, without
# capabilities and under no_new_privs; a child holds its own site's socket
# and no other descriptor (not the registry, not the other site's socket); a
# file only pool A may read (ACL, mode 0640 root:root) is served to site A;
# a link in A's root to B's file is refused by the kernel (403) while B
# serves it; bad paths, methods and a killed child; SIGTERM ends all.
# Needs root. Usage: test-prefork.sh APPPOOL_PREFORK APPPOOLCTL
set -u
. "$(dirname "$0")/../cli/testlib.sh"
prefork=$1 ctl=$2
[ "$(id -u)" = 0 ] || { echo "SKIP: the children change to the pools' uids: needs root"; exit 77; }
command -v curl >/dev/null || { echo "curl is needed (Debian package curl)"; exit 1; }
tmp=$(mktemp -d /tmp/apid-prefork-XXXXXX)
chmod 755 "$tmp"
export APPPOOLID_STATE_DIR=$tmp/state
ppid_=
cleanup() { [ -n "$ppid_" ] && pkill -KILL -P "$ppid_" 2>/dev/null; [ -n "$ppid_" ] && kill -KILL "$ppid_" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
get() { curl -s --max-time 10 "$@"; }
code() { curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@"; }
pa=$(port) pb=$(port)

"$ctl" pool add PreforkA PreforkB > /dev/null || { echo "FAIL: pool add"; exit 1; }
uida=$("$ctl" pool show --json PreforkA | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
uidb=$("$ctl" pool show --json PreforkB | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
# Roots and files owned by root, mode 0750/0640: no one else but through
# the ACL each pool is granted on its own root.
mkdir -m 750 "$tmp/a" "$tmp/b"
echo "only pool A reads this" > "$tmp/a/a.txt"
echo "<h1>A</h1>" > "$tmp/a/index.html"
echo "only pool B reads this" > "$tmp/b/b.txt"
chmod 640 "$tmp/a/a.txt" "$tmp/a/index.html" "$tmp/b/b.txt"
"$ctl" grant "$tmp/a" 'IIS AppPool\PreforkA:(OI)(CI)RX' -R --quiet > /dev/null
"$ctl" grant "$tmp/b" 'IIS AppPool\PreforkB:(OI)(CI)RX' -R --quiet > /dev/null
ln -s "$tmp/b/b.txt" "$tmp/a/stolen.txt"
mkdir -m 755 "$tmp/a/dir"

"$prefork" -n 2 PreforkA "$pa" "$tmp/a" PreforkB "$pb" "$tmp/b" 2> "$tmp/log" &
ppid_=$!
for _ in $(seq 100); do
        [ "$(code --max-time 2 "http://127.0.0.1:$pa/")" = 200 ] &&
                [ "$(code --max-time 2 "http://127.0.0.1:$pb/b.txt")" = 200 ] && break
        kill -0 "$ppid_" 2>/dev/null || break
        sleep 0.1
done

check "site A: a file only pool A may read" "only pool A reads this" "$(get "http://127.0.0.1:$pa/a.txt")"
check "site A: / is index.html" "<h1>A</h1>" "$(get "http://127.0.0.1:$pa/")"
check "site B: its own file" "only pool B reads this" "$(get "http://127.0.0.1:$pb/b.txt")"
check "root cannot be read by others (the ACL is what serves it)" "" \
        "$(setpriv --reuid=65534 --regid=65534 --clear-groups cat "$tmp/a/a.txt" 2>/dev/null)"
check "site A: a link to B's file is refused by the kernel" 403 "$(code "http://127.0.0.1:$pa/stolen.txt")"
check "site B: B's file directly (not A's, so 403 was the kernel)" 200 "$(code "http://127.0.0.1:$pb/b.txt")"
check "site B: A's file through a path is out of its root" 400 "$(code --path-as-is "http://127.0.0.1:$pb/../a/a.txt")"
check "404" 404 "$(code "http://127.0.0.1:$pa/nothing")"
check "a directory is not a file" 404 "$(code "http://127.0.0.1:$pa/dir")"
check "percent-encoding refused, not misread" 400 "$(code --path-as-is "http://127.0.0.1:$pa/%2e%2e/b/b.txt")"
check "POST" 405 "$(code -X POST "http://127.0.0.1:$pa/a.txt")"
check "HEAD: the length, no body" "Content-Length: 23|" \
        "$(curl -s --max-time 10 --head "http://127.0.0.1:$pa/a.txt" | tr -d '\r' | grep Content-Length)|$(curl -s --max-time 10 -X HEAD "http://127.0.0.1:$pa/a.txt" 2>/dev/null)"
check "HEAD of a missing file: 404, no body" "404|" \
        "$(curl -s --max-time 10 --head -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/nothing")|$(curl -s --max-time 10 -X HEAD "http://127.0.0.1:$pa/nothing" 2>/dev/null)"
check "a garbage request" 400 "$(printf 'hello\r\n\r\n' | curl -s --max-time 10 telnet://127.0.0.1:$pa 2>/dev/null | head -1 | tr -d '\r' | cut -d' ' -f2)"

# ps: the parent is root; each site's children run as its pool.
check "ps: the parent is root" 0 "$(ps -o uid= -p "$ppid_" | tr -d ' ')"
check "ps: site A's children" 2 "$(ps -o uid= --ppid "$ppid_" | grep -cw "$uida")"
check "ps: site B's children" 2 "$(ps -o uid= --ppid "$ppid_" | grep -cw "$uidb")"
check "ps: no other child" 4 "$(ps -o pid= --ppid "$ppid_" | wc -l)"
for pid in $(ps -o pid= --ppid "$ppid_"); do
        st=/proc/$pid/status
        check "child $pid: no capabilities" "CapPrm:0000000000000000 CapEff:0000000000000000 CapBnd:0000000000000000" \
                "$(grep -E '^(CapPrm|CapEff|CapBnd):' "$st" | tr -d '\t' | tr '\n' ' ' | sed 's/ $//')"
        check "child $pid: no_new_privs, seccomp" "NoNewPrivs:	1 Seccomp:	2" "$(grep -E '^(NoNewPrivs|Seccomp):' "$st" | tr '\n' ' ' | sed 's/ $//')"
        # stdin, stdout, stderr, its own site's listener and its document
        # root (opened as the pool), nothing else: not what the shell left
        # open, not the registry, not the other site's socket.
        check "child $pid: five descriptors" 5 "$(ls "/proc/$pid/fd" | wc -l)"
        check "child $pid: its root" 1 "$(ls -l "/proc/$pid/fd" | grep -c -- "-> $tmp/[ab]\$")"
        check "child $pid: no registry open" "" "$(ls -l "/proc/$pid/fd" | grep -E 'registry|state')"
        check "child $pid: one socket" 1 "$(ls -l "/proc/$pid/fd" | grep -c 'socket:')"
done

# A killed child is replaced by a new one of the same pool.
children_a() { ps -o pid=,uid= --ppid "$ppid_" | awk -v u="$uida" '$2 == u { print $1 }'; }
victim=$(children_a | head -1)
kill -KILL "$victim"
for _ in $(seq 100); do
        [ "$(children_a | grep -vcw "$victim")" = 2 ] && break
        sleep 0.1
done
check "a killed child is replaced" 2 "$(children_a | grep -vcw "$victim")"
check "and serves" "only pool A reads this" "$(get "http://127.0.0.1:$pa/a.txt")"

kill -TERM "$ppid_"
wait "$ppid_"
check "SIGTERM: exit 0" 0 $?
check "SIGTERM: no process of pool A left" 0 "$(ps -o pid= -u "$uida" | wc -l)"
check "SIGTERM: no process of pool B left" 0 "$(ps -o pid= -u "$uidb" | wc -l)"
ppid_=
finish
