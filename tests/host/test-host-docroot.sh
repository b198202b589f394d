#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The host (root) grants each site's pool (OI)(CI)RX on its document root and
# creates a missing one: the path to it must be one no pool can redirect.
# The attack, run for real: PoolA owns its site directory (sites/a, as a
# deploy might give it), its document root is sites/a/app/html; the pool
# swaps app for a link to victim/ (standing in for another site's tree,
# /var/www) whose html/ holds a secret. Without the check the host granted
# PoolA read on victim/html and its worker served the secret; now the host
# refuses to start, naming the directory, and changes no ACL. A pool owning
# the document root's own parent (nothing above) still works, and a missing
# root is created under it, its first page not through a link the pool made.
# Needs root. Usage: test-host-docroot.sh APPPOOL_HOST APPPOOL_WORKER APPPOOLCTL
set -u
. "$(dirname "$0")/../cli/testlib.sh"
host=$(realpath "$1") worker=$(realpath "$2") ctl=$(realpath "$3")
[ "$(id -u)" = 0 ] || { echo "SKIP: the host runs workers as other uids: needs root"; exit 77; }
command -v curl >/dev/null || { echo "curl is needed (Debian package curl)"; exit 1; }
tmp=$(mktemp -d /tmp/apid-hostroot-XXXXXX)
chmod 755 "$tmp"
export APPPOOLID_STATE_DIR=$tmp/state APPPOOL_WORKER=$worker
hpid=
cleanup() { [ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
"$ctl" pool add PoolA >/dev/null
uid=$("$ctl" pool show --json PoolA | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
as_pool() { setpriv --reuid="$uid" --regid="$uid" --clear-groups sh -c "$1"; }

# Start the host on a config; wait until it serves or exits. 0: it serves.
start() {
        local p=$1
        "$host" --config "$tmp/host.ini" 2> "$tmp/log" &
        hpid=$!
        for i in $(seq 100); do
                curl -s -o /dev/null "http://127.0.0.1:$p/" && return 0
                kill -0 "$hpid" 2>/dev/null || { wait "$hpid"; hpid=; return 1; }
                sleep 0.1
        done
        return 2
}
stop() { [ -n "$hpid" ] && { kill -TERM "$hpid"; wait "$hpid"; hpid=; }; }
config() {
        cat > "$tmp/host.ini" <<INI
[pool PoolA]
[site A]
pool = PoolA
root = $1
listen = 127.0.0.1:$2
workers = 1
INI
}

mkdir -p "$tmp/sites/a/app/html" "$tmp/victim/html"
echo "secret of the victim" > "$tmp/victim/html/secret.txt"
chmod 711 "$tmp/victim" # others may pass through, as through /var/www
chown "$uid:$uid" "$tmp/sites/a"
acl_before=$(getfacl -R -p "$tmp/victim" 2>/dev/null)
as_pool "mv $tmp/sites/a/app $tmp/sites/a/old && ln -s $tmp/victim $tmp/sites/a/app"
pa=$(port)
config "$tmp/sites/a/app/html" "$pa"
start "$pa"; check "host refuses the redirected root" 1 $?
if [ -n "$hpid" ]; then
        check "secret not served" "" "$(curl -s "http://127.0.0.1:$pa/secret.txt")"
        stop
fi
check "no ACL changed behind the link" "$acl_before" "$(getfacl -R -p "$tmp/victim" 2>/dev/null)"
grep -qF "site A: document root $tmp/sites/a/app/html: directory $tmp/sites/a is owned by uid $uid (mode 0755): whoever owns a directory on the way can redirect the grant" "$tmp/log"
found=$?
check "the refusal names the directory" 0 $found
[ $found -eq 0 ] || cat "$tmp/log"

# A link of root's own on the way is followed (as the kernel would).
rm "$tmp/sites/a/app"
mkdir "$tmp/www"; ln -s "$tmp/www" "$tmp/www-link"
pa=$(port)
config "$tmp/www-link/b" "$pa"
start "$pa"; check "root's own link, missing root created" 0 $?
check "first page" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/")"
stop

# The pool may own the document root's parent itself: nothing above it is
# the pool's, and the root is created there, its page not through a link.
pa=$(port)
config "$tmp/sites/a/html" "$pa"
start "$pa"; check "pool-owned parent" 0 $?
check "pool-owned parent serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/")"
check "root made by root" "0" "$(stat -c %u "$tmp/sites/a/html")"
stop

finish
