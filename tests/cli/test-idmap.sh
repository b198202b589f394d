#!/bin/bash
# The idmap layer end to end: the NSS resolver (a large group, a failing
# source), NSS never under the registry lock (a slow source), and the farm
# case (a second host whose NSS serves the first host's accounts).
# Usage: test-idmap.sh APPPOOLCTL NSS_SHIM
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$1
shim=$2
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
        echo "SKIP: needs root and unshare (private mount namespaces for /etc/passwd and /etc/group)"
        exit 77
fi
tmp=$(mktemp -d /tmp/apid-idmap-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }
# in_ns PASSWD GROUP CMD...: run CMD with those files as /etc/passwd and
# /etc/group, in a private mount namespace (the host's files are untouched).
in_ns() {
        local pw=$1 gr=$2
        shift 2
        unshare --mount --propagation private sh -c \
                'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && shift 2 && exec "$@"' \
                in_ns "$pw" "$gr" "$@"
}
show() { APPPOOLID_STATE_DIR=$1 "$ctl" pool show --json "$2" | json "$3"; }

# 1. A group of 5,000 members on a pool's first-choice id: its entry does not
# fit a 4 KiB buffer (ERANGE), and the id must still count as taken.
APPPOOLID_STATE_DIR=$tmp/s1 "$ctl" pool add big >/dev/null
first=$(show "$tmp/s1" big "['uid']")
cp /etc/passwd "$tmp/passwd"
{ cat /etc/group; printf 'biggrp:x:%s:' "$first"; seq -f 'member%g' 1 5000 | paste -sd,; } > "$tmp/group.big"
check "big group is large" 1 "$(( $(tail -1 "$tmp/group.big" | wc -c) > 40000 ))"
check "big group resolves" "biggrp:x:$first" "$(in_ns "$tmp/passwd" "$tmp/group.big" getent group "$first" | cut -d: -f1-3)"
APPPOOLID_STATE_DIR=$tmp/s2 in_ns "$tmp/passwd" "$tmp/group.big" "$ctl" pool add big >/dev/null
second=$(show "$tmp/s2" big "['uid']")
check "large group's gid not taken" 1 "$(( second != first ))"
check "large group: next candidate" 1 "$(show "$tmp/s2" big "['uidProbe']")"

# 2. A source that fails (EIO from getpwuid_r/getgrgid_r) is an error, not "free".
if [ -n "$shim" ] && [ -f "$shim" ]; then
        out=$(APPPOOLID_STATE_DIR=$tmp/s3 LD_PRELOAD=$shim APID_SHIM_ERRNO=5 "$ctl" pool add web 2>&1)
        check "failing NSS: refused" 1 $?
        check "failing NSS: message" 1 "$(grep -c 'NSS lookup failed: Input/output error' <<< "$out")"
        check "failing NSS: nothing added" "" "$(APPPOOLID_STATE_DIR=$tmp/s3 "$ctl" pool list 2>/dev/null)"
fi

# 3. NSS is never asked while the registry's write transaction is open: a
# writer whose NSS hangs (held by the shim until released) does not stop
# another process's pool add.
if [ -n "$shim" ] && [ -f "$shim" ]; then
        APPPOOLID_STATE_DIR=$tmp/s4 "$ctl" pool add seed >/dev/null
        touch "$tmp/hold"
        APPPOOLID_STATE_DIR=$tmp/s4 LD_PRELOAD=$shim APID_SHIM_NAME=apppool-slow APID_SHIM_MARK=$tmp/mark \
                APID_SHIM_HOLD=$tmp/hold "$ctl" pool add slow >/dev/null 2>&1 &
        slow=$!
        timeout 60 sh -c 'while [ ! -e "$1" ]; do sleep 0.02; done' wait-mark "$tmp/mark"
        check "slow writer is in NSS" 0 $?
        out=$(APPPOOLID_STATE_DIR=$tmp/s4 timeout 60 "$ctl" pool add fast 2>&1)
        check "other writer not blocked by a hung NSS" "0 " "$? $(grep -o 'busy\|locked' <<< "$out")"
        check "slow writer still held" 0 "$(kill -0 "$slow" 2>/dev/null; echo $?)"
        rm -f "$tmp/hold"
        wait "$slow"
        check "slow writer done" 0 $?
        check "both added" "fast seed slow" "$(APPPOOLID_STATE_DIR=$tmp/s4 "$ctl" pool list | sed 's/^APPPOOL "\(.*\)" (.*$/\1/' | tr '\n' ' ' | sed 's/ $//')"
fi

# 4. The farm without a directory server: host 2's NSS serves host 1's
# accounts as files entries (what nslcd would serve from LDAP). The same pool
# names give the same users, uids and gids, and an import is accepted; a
# foreign account on a pool's first choice moves it on both hosts alike.
pools=(web DefaultAppPool 'a b' moved)
APPPOOLID_STATE_DIR=$tmp/s0 "$ctl" pool add moved >/dev/null
taken=$(show "$tmp/s0" moved "['uid']")
{ cat /etc/passwd; echo "intruder:x:$taken:$taken:someone else:/nonexistent:/usr/sbin/nologin"; } > "$tmp/passwd.1"
{ cat /etc/group; echo "intruder:x:$taken:"; } > "$tmp/group.1"
add_all() { for p in "${pools[@]}"; do APPPOOLID_STATE_DIR=$1 "$ctl" pool add "$p" >/dev/null || echo "add $p failed"; done; }
ids() { for p in "${pools[@]}"; do show "$1" "$p" "['user'],d['uid'],d['gid'],d['uidProbe']"; done; }
export -f add_all show json; export ctl
in_ns "$tmp/passwd.1" "$tmp/group.1" bash -c "pools=(web DefaultAppPool 'a b' moved); $(declare -f add_all); add_all $tmp/h1"
host1=$(ids "$tmp/h1")
check "host 1: foreign account moves the pool" 1 "$(show "$tmp/h1" moved "['uidProbe']")"
# Host 2's NSS: its own files, the same foreign account, and host 1's pools.
cp "$tmp/passwd.1" "$tmp/passwd.2"
cp "$tmp/group.1" "$tmp/group.2"
for p in "${pools[@]}"; do
        show "$tmp/h1" "$p" "['user'],d['uid'],d['gid'],d['name']" | tr -d "()',\\\\" | {
                read -r u uid gid name
                echo "$u:x:$uid:$gid:IIS APPPOOL\\$(show "$tmp/h1" "$p" "['name']"):/nonexistent:/usr/sbin/nologin" >> "$tmp/passwd.2"
                echo "$u:x:$gid:" >> "$tmp/group.2"
        }
done
check "host 2 serves host 1's web" "apppool-web" "$(in_ns "$tmp/passwd.2" "$tmp/group.2" getent passwd "$(show "$tmp/h1" web "['uid']")" | cut -d: -f1)"
in_ns "$tmp/passwd.2" "$tmp/group.2" bash -c "pools=(web DefaultAppPool 'a b' moved); $(declare -f add_all); add_all $tmp/h2"
check "farm: pool add gives host 1's names and ids" "$host1" "$(ids "$tmp/h2")"
APPPOOLID_STATE_DIR=$tmp/h1 "$ctl" registry export "$tmp/h1.export" >/dev/null
out=$(APPPOOLID_STATE_DIR=$tmp/h3 in_ns "$tmp/passwd.2" "$tmp/group.2" "$ctl" registry import "$tmp/h1.export" 2>&1)
check "farm: registry import accepted" "0 " "$? $(grep -v '^registry' <<< "$out")"
check "farm: import gives host 1's names and ids" "$host1" "$(ids "$tmp/h3")"
# A foreign account (another user, or a pool's gecos for another pool) on
# host 1's uid is still refused by import.
sed "s/^apppool-web:x:\([0-9]*\):\([0-9]*\):[^:]*:/apppool-web:x:\1:\2:IIS APPPOOL\\\\other:/" "$tmp/passwd.2" > "$tmp/passwd.3"
out=$(APPPOOLID_STATE_DIR=$tmp/h4 in_ns "$tmp/passwd.3" "$tmp/group.2" "$ctl" registry import "$tmp/h1.export" 2>&1)
check "farm: another identity's account refused" 1 "$(grep -c 'already a user or group on this host\|belongs to an existing account' <<< "$out")"

finish
