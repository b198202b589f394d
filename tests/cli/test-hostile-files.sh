#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Files named on the command line that are not regular files: a FIFO (open
# for reading waits for a writer, for ever), a socket, a device. Every option
# that reads (or, --journal, writes) a file the caller names must refuse them
# at once, saying what the path is, without reading from it. Each call runs
# under timeout(1): without the check it hangs, and the timeout turns that
# into a failed check (status 124) instead of a hung suite.
# Usage: test-hostile-files.sh APPPOOLCTL APPPOOL-HOST HAVE-LDAP(0|1)
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$(readlink -f "$1")
host=$(readlink -f "$2")
have_ldap=$3
tmp=$(mktemp -d /tmp/apid-hostile-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export APPPOOLID_STATE_DIR=$tmp/state
mkfifo "$tmp/fifo"
/usr/bin/python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/sock"
"$ctl" pool add web >/dev/null || { echo "pool add failed"; exit 1; }
mkdir "$tmp/tree"

# NAME EXPECTED-STATUS EXPECTED-MESSAGE COMMAND...: the command must return
# (not time out) with that status and that last line on stderr.
refused() {
        local name=$1 status=$2 message=$3 out rc
        shift 3
        out=$(timeout 20 "$@" 2>&1 >/dev/null </dev/null)
        rc=$?
        check "$name: returns at once" "$status" "$rc"
        check "$name: says what it is" "$message" "$(printf '%s\n' "$out" | head -n 1)"
}

f=$tmp/fifo
refused "registry import FIFO" 1 "apppoolctl: import $f: is a FIFO, not a regular file" \
        "$ctl" registry import "$f"
refused "registry import --ldif FIFO" 1 "apppoolctl: import $f: is a FIFO, not a regular file" \
        "$ctl" registry import --ldif "$f"
refused "registry export --ldif FIFO" 1 "apppoolctl: export $f: is a FIFO, not a regular file" \
        "$ctl" registry export --ldif "$f"
refused "acl restore FIFO" 1 "apppoolctl: restore $f: is a FIFO, not a regular file" \
        "$ctl" acl restore "$f"
refused "run --env-file FIFO" 2 "apppoolctl: run: --env-file $f: is a FIFO, not a regular file" \
        "$ctl" run web --env-file "$f" -- true
refused "grant --journal FIFO" 1 "apppoolctl: journal $f: is a FIFO, not a regular file" \
        "$ctl" grant "$tmp/tree" 'IIS APPPOOL\web:(R)' --journal "$f"
refused "KRB5_CONFIG FIFO" 1 "apppoolctl: Kerberos configuration $f: is a FIFO, not a regular file" \
        env KRB5_CONFIG="$f" "$ctl" registry principal
refused "apppool-host --config FIFO" 1 "apppool-host: $f: is a FIFO, not a regular file" \
        "$host" --config "$f"
if [ "$have_ldap" = 1 ]; then
        refused "registry publish --bind-file FIFO" 2 "apppoolctl: --bind-file $f: is a FIFO, not a regular file" \
                "$ctl" registry publish ldap://127.0.0.1:1 --bind-file "$f"
fi
# A socket and a device: refused the same way, named for what they are.
refused "registry import socket" 1 "apppoolctl: import $tmp/sock: is a socket, not a regular file" \
        "$ctl" registry import "$tmp/sock"
refused "acl restore device" 1 "apppoolctl: restore /dev/zero: is a character device, not a regular file" \
        "$ctl" acl restore /dev/zero
refused "run --env-file device" 2 "apppoolctl: run: --env-file /dev/zero: is a character device, not a regular file" \
        "$ctl" run web --env-file /dev/zero -- true
refused "registry import directory" 1 "apppoolctl: import $tmp: is a directory, not a regular file" \
        "$ctl" registry import "$tmp"
# Nothing was read from the FIFO: a writer that opens it now finds no reader
# (ENXIO with O_NONBLOCK), so no command above left it open either.
check "FIFO left unread" "no reader" \
      "$(/usr/bin/python3 -c 'import os,sys
try: os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK); print("a reader")
except OSError: print("no reader")' "$f")"
# Regular files still work, through a symbolic link too (only --bind-file
# refuses links).
printf 'FOO=bar\n' >"$tmp/env"
ln -s "$tmp/env" "$tmp/env-link"
check "env-file through a link" "bar" "$(timeout 20 "$ctl" run web --env-file "$tmp/env-link" -- sh -c 'echo "$FOO"')"
"$ctl" registry export "$tmp/export" && timeout 20 "$ctl" registry import "$tmp/export"
check "import of a regular file" 0 $?
finish
