#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Readers never write (issue 17): every read-only command runs under strace,
# and no call that writes, syncs, renames, links, unlinks, truncates, chmods
# or chowns may touch a path or descriptor under the state directory; then
# the same commands run with the state directory bind-mounted read-only in a
# private mount namespace, and must still work. Needs root (skips otherwise).
# Usage: test-readers-nowrite.sh APPPOOLCTL
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$1
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v strace >/dev/null || { echo "SKIP: strace not installed"; exit 77; }
tmp=$(mktemp -d /tmp/apid-nowrite-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
state=$tmp/state
export APPPOOLID_STATE_DIR=$state
"$ctl" pool add web >/dev/null
"$ctl" pool add api >/dev/null
"$ctl" pool set web processModel.identityType=NetworkService >/dev/null
uid=$("$ctl" pool show --json api | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
readers=(
        "pool show web"
        "pool show --json api"
        "pool list"
        "lookup IIS_APPPOOL\\api"
        "identity $uid"
        "identity apppool-api"
        "registry get idRangeStart"
        "registry export $tmp/export.ini"
        "token show api"
        "token show web"
        "run api -- /bin/true"
        "run web -- /bin/true"
)
calls=write,pwrite64,pwritev,pwritev2,writev,fsync,fdatasync,sync_file_range,rename,renameat,renameat2
calls=$calls,chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown,unlink,unlinkat,link,linkat,truncate,ftruncate
calls=$calls,mkdir,mkdirat,symlink,symlinkat,mknod,mknodat
for cmd in "${readers[@]}"; do
        # "IIS_APPPOOL\api" stands for the name with its space (word splitting).
        read -r -a argv <<<"$cmd"
        argv=("${argv[@]//IIS_APPPOOL/IIS APPPOOL}")
        strace -f -y -qq -e trace="$calls" -o "$tmp/trace" "$ctl" "${argv[@]}" >/dev/null
        check "$cmd: status" 0 $?
        # -y prints every descriptor with its path: nothing of the state directory may appear.
        check "$cmd: writes under the state directory" "" "$(grep -F "$state" "$tmp/trace")"
        # Opening for writing or creating counts too.
        strace -f -y -qq -e trace=open,openat,openat2 -o "$tmp/trace" "$ctl" "${argv[@]}" >/dev/null
        check "$cmd: opens for writing" "" "$(grep -F "$state" "$tmp/trace" | grep -E 'O_(WRONLY|RDWR|CREAT|TRUNC)')"
done
# run of an ApplicationPoolIdentity pool, with the launch settings current,
# reads them and neither opens the registry nor loads SQLite (issue 17);
# web (NetworkService) is read from the registry.
strace -f -qq -e trace=open,openat,openat2 -o "$tmp/trace" "$ctl" run api -- /bin/true >/dev/null
check "run api: reads the launch settings" 1 "$(grep -v ENOENT "$tmp/trace" | grep -cF "$state/launch-settings\"")"
check "run api: reads the generation announced" 1 "$(grep -v ENOENT "$tmp/trace" | grep -cF "$state/launch-settings.pending\"")"
check "run api: opens no registry, loads no SQLite" "" "$(grep -v ENOENT "$tmp/trace" | grep -E 'registry\.db|libsqlite3')"
strace -f -qq -e trace=open,openat,openat2 -o "$tmp/trace" "$ctl" run web -- /bin/true >/dev/null
check "run web: the registry answers" 1 "$(grep -v ENOENT "$tmp/trace" | grep -c 'registry\.db"')"
# The strace filter works: a writer is seen.
strace -f -y -qq -e trace="$calls" -o "$tmp/trace" "$ctl" pool set api processModel.maxProcesses=2 >/dev/null
check "a writer is seen" 1 "$(grep -qF "$state" "$tmp/trace" && echo 1)"

# The same readers with the state directory read-only: all work.
before=$(cd "$state" && stat -c '%n %s %Y %a %u:%g' * | sort)
ro_out=$(unshare -m bash -c '
        mount --make-rprivate / && mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 99
        shift; ctl=$1; shift
        for cmd in "$@"; do
                read -r -a argv <<<"$cmd"
                argv=("${argv[@]//IIS_APPPOOL/IIS APPPOOL}")
                "$ctl" "${argv[@]}" >/dev/null 2>&1 || echo "failed: $cmd"
        done' - "$state" "$ctl" "${readers[@]}")
check "readers on a read-only state directory" "" "$ro_out"
check "state files unchanged (size, mtime, mode, owner)" "$before" "$(cd "$state" && stat -c '%n %s %Y %a %u:%g' * | sort)"
finish
