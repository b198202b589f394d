#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# apppoolctl doctor: both outcomes on the real code paths. The settings are
# faked only inside private mount namespaces (unshare -m): a file bound over
# /proc/sys/..., a fresh /proc with or without hidepid=, a file bound over
# /etc/nsswitch.conf. Nothing on the machine changes.
# Usage: test-doctor.sh APPPOOLCTL NOSYS
set -u
. "$(dirname "$0")/testlib.sh"

# Inside a private mount namespace: set the scene, then run doctor --json.
if [ "${1:-}" = --inside ]; then
        scene=$2 ctl=$3 tmp=$4
        set -e
        fake() { # fake KEY VALUE: bind a file holding VALUE over /proc/sys/KEY if the kernel has it
                local f=/proc/sys/${1//.//}
                [ -e "$f" ] || return 0
                echo "$2" > "$tmp/sysctl-$1"
                mount --bind "$tmp/sysctl-$1" "$f"
        }
        if [ "$scene" = good ]; then
                mount -t proc -o hidepid=invisible proc /proc
                for k in fs.protected_hardlinks fs.protected_symlinks fs.protected_fifos fs.protected_regular \
                         kernel.yama.ptrace_scope kernel.unprivileged_bpf_disabled kernel.dmesg_restrict; do
                        fake $k 1
                done
                fake fs.suid_dumpable 0
                fake kernel.unprivileged_userns_clone 0
                fake user.max_user_namespaces 0
                fake kernel.io_uring_disabled 2
                printf 'passwd: files apppoolid\ngroup: compat [NOTFOUND=return] apppoolid\n' > "$tmp/nsswitch.conf"
        else
                mount -t proc proc /proc
                for k in fs.protected_hardlinks fs.protected_symlinks fs.protected_fifos fs.protected_regular \
                         kernel.yama.ptrace_scope kernel.unprivileged_bpf_disabled kernel.dmesg_restrict \
                         kernel.io_uring_disabled; do
                        fake $k 0
                done
                fake fs.suid_dumpable 1
                fake kernel.unprivileged_userns_clone 1
                fake user.max_user_namespaces 1000
                printf 'passwd: apppoolid files\ngroup: apppoolid\n' > "$tmp/nsswitch.conf"
        fi
        mount --bind "$tmp/nsswitch.conf" /etc/nsswitch.conf
        set +e
        "$ctl" doctor --json > "$tmp/$scene.json"
        echo $? > "$tmp/$scene.status"
        "$ctl" doctor > "$tmp/$scene.txt"
        exit 0
fi

ctl=$1 nosys=$2
tmp=$(mktemp -d /tmp/apid-doctor-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export APPPOOLID_STATE_DIR=$tmp/state
"$ctl" pool add DefaultAppPool >/dev/null
# status SCENE SETTING: the status doctor gave a setting in SCENE's JSON ("" when not checked).
status() {
        /usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(" ".join(c["status"] for c in d["checks"] if c["setting"] == sys.argv[2]))' "$tmp/$1.json" "$2"
}

# Good: every setting that this kernel has is safe, the state is root's only.
chmod 0755 "$tmp/state" && chmod 0640 "$tmp/state"/registry.db*
unshare -m --propagation private "$0" --inside good "$ctl" "$tmp"
check "good: exit status" 0 "$(cat "$tmp/good.status")"
check "good: nothing weak" 0 "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["weak"])' "$tmp/good.json")"
check "good: hidepid" ok "$(status good proc.hidepid)"
check "good: nsswitch" "ok ok" "$(status good nsswitch.passwd) $(status good nsswitch.group)"
check "good: registry" "ok ok ok" "$(status good registry)"
check "good: text says so" "0 weak" "$(tail -1 "$tmp/good.txt" | grep -o '0 weak')"

# Weak: every setting unsafe, the registry world-readable, the directory world-writable.
chmod 0777 "$tmp/state" && chmod 0644 "$tmp/state"/registry.db*
unshare -m --propagation private "$0" --inside weak "$ctl" "$tmp"
check "weak: exit status" 1 "$(cat "$tmp/weak.status")"
for s in fs.protected_hardlinks fs.protected_symlinks fs.protected_fifos fs.protected_regular fs.suid_dumpable \
         kernel.unprivileged_bpf_disabled kernel.dmesg_restrict proc.hidepid state-dir nsswitch.passwd \
         nsswitch.group; do
        check "weak: $s" weak "$(status weak $s)"
done
check "weak: registry" "weak weak weak" "$(status weak registry)"
[ -e /proc/sys/kernel/yama/ptrace_scope ] && check "weak: ptrace_scope" weak "$(status weak kernel.yama.ptrace_scope)"
[ -e /proc/sys/kernel/io_uring_disabled ] && check "weak: io_uring" weak "$(status weak kernel.io_uring_disabled)"
check "weak: user namespaces" weak \
        "$(status weak kernel.unprivileged_userns_clone)$(status weak user.max_user_namespaces)"
check "weak: every weak one has a reason and a fix" "" "$(/usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(" ".join(c["setting"] for c in d["checks"] if c["status"] == "weak" and not (c["reason"] and c["fix"])))' "$tmp/weak.json")"
check "weak: text gives the reason" "            why: a pool can hard-link a file it does not own (/etc/shadow) into a directory it writes; a later 'grant -R', chown or backup run by root then acts on the original" \
        "$(grep -A1 '^weak *fs.protected_hardlinks = 0$' "$tmp/weak.txt" | tail -1)"
check "weak: text gives the fix" 1 "$(grep -c 'fix: sysctl -w fs.protected_hardlinks=1' "$tmp/weak.txt")"

# The machine itself: valid JSON, and the exit status agrees with it.
"$ctl" doctor --json > "$tmp/host.json"; rc=$?
check "host: JSON and status agree" "$rc" "$(/usr/bin/python3 -c 'import json,sys; print(1 if json.load(open(sys.argv[1]))["weak"] else 0)' "$tmp/host.json")"
check "host: kernel features" "ok ok ok" \
        "$(status host kernel.openat2) $(status host kernel.pidfd_open) $(status host kernel.seccomp_filter)"

# A kernel without openat2, pidfd_open or seccomp, as nosys makes them fail (ENOSYS).
"$nosys" openat2 pidfd_open seccomp -- "$ctl" doctor --json > "$tmp/old.json"
check "old kernel: exit status" 1 $?
check "old kernel: features weak" "weak weak weak" \
        "$(status old kernel.openat2) $(status old kernel.pidfd_open) $(status old kernel.seccomp_filter)"
check "old kernel: says missing" "missing" "$(/usr/bin/python3 -c 'import json,sys
print([c["value"] for c in json.load(open(sys.argv[1]))["checks"] if c["setting"] == "kernel.openat2"][0])' "$tmp/old.json")"

"$ctl" doctor extra >/dev/null 2>&1; check "usage" 2 $?

finish
