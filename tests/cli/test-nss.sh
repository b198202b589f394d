#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libnss_apppoolid end to end: getent, id, ls -l and ps show pool identities
# by name. Runs in a private mount namespace where /var/lib is a fresh tmpfs
# and /etc/nsswitch.conf names "apppoolid", so the system is not touched.
# Usage: test-nss.sh APPPOOLCTL NSS_MODULE_DIR STATEDIR
set -u
ctl=$(realpath "$1") moddir=$(realpath "$2") statedir=$3
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v setpriv >/dev/null; then
        echo "SKIP: needs root, unshare and setpriv (a mount namespace to enable the module safely)"
        exit 77
fi
case $statedir in /var/lib/*) ;; *) echo "SKIP: statedir $statedir is not under /var/lib"; exit 77 ;; esac

snap=$(realpath "$(dirname "$0")/../store/snapshot.py")
exec unshare --mount --propagation private bash -s "$ctl" "$moddir" "$statedir" "$snap" <<'INNER'
set -u
ctl=$1 moddir=$2 statedir=$3 snap=$4
pass=0 fail=0
check() {
        if [ "$2" == "$3" ]; then pass=$((pass + 1)); else
                fail=$((fail + 1)); printf 'FAIL %s\n  expected: %s\n  actual:   %s\n' "$1" "$2" "$3"; fi
}
tmp=$(mktemp -d /tmp/apid-nss-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mount -t tmpfs tmpfs /var/lib || { echo "cannot mount a tmpfs on /var/lib"; exit 1; }
sed -E 's/^(passwd|group):(.*)$/\1:\2 apppoolid/' /etc/nsswitch.conf > "$tmp/nsswitch.conf"
mount --bind "$tmp/nsswitch.conf" /etc/nsswitch.conf
export LD_LIBRARY_PATH=$moddir
unset APPPOOLID_STATE_DIR

# Nothing yet: fast "not found".
getent passwd apppool-web >/dev/null; check "absent registry" 2 $?

"$ctl" pool add DefaultAppPool web >/dev/null || exit 1
uid=$("$ctl" pool show --json web | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')

check "getent passwd name" "apppool-web:*:$uid:$uid:IIS APPPOOL\\web:/nonexistent:/usr/sbin/nologin" \
        "$(getent passwd apppool-web)"
check "getent passwd uid" "apppool-web" "$(getent passwd "$uid" | cut -d: -f1)"
check "getent passwd account name" "apppool-web" "$(getent passwd 'IIS AppPool\WEB' | cut -d: -f1)"
check "getent group" "apppool-web:*:$uid:" "$(getent group apppool-web)"
check "id" "uid=$uid(apppool-web) gid=$uid(apppool-web) groups=$uid(apppool-web)" "$(id apppool-web)"
touch "$tmp/file" && chown apppool-web "$tmp/file"
check "ls -l" "apppool-web" "$(ls -l "$tmp/file" | awk '{print $3}')"
setpriv --reuid="$uid" --regid="$uid" --clear-groups sleep 5 &
sleeper=$!
sleep 0.2
check "ps" "apppool-web" "$(ps -o user:32= -p $sleeper | tr -d ' ')"
kill $sleeper
check "enumeration" 2 "$(getent passwd | grep -c '^apppool-')"

# The pool's group: every worker carries it (the pool SID, injected); getfacl
# and getent show IIS AppPool\X's entries by name; no account is its member,
# so a login as the shared NetworkService account gets no pool's group.
"$ctl" pool add ns1 >/dev/null && "$ctl" pool set ns1 processModel.identityType=NetworkService >/dev/null
nsgid=$(getent group apppool-ns1 | cut -d: -f3)
check "getent group account name" "apppool-ns1:*:$nsgid:" "$(getent group 'IIS AppPool\NS1')"
touch "$tmp/g" && "$ctl" grant "$tmp/g" 'IIS AppPool\ns1:R' >/dev/null
check "getfacl by name" "group:apppool-ns1:r--" "$(getfacl -cp "$tmp/g" 2>/dev/null | grep '^group:apppool')"
id -G apppool-networkservice | grep -qw "$nsgid"; check "the shared account is no member" 1 $?
"$ctl" run ns1 -- id -G | grep -qw "$nsgid"; check "the worker carries it" 0 $?
"$ctl" pool delete ns1 --keep-profile >/dev/null

# A uid that an existing account holds is skipped; pool show says so.
first=$(APPPOOLID_STATE_DIR=$tmp/scratch "$ctl" pool add api >/dev/null &&
        APPPOOLID_STATE_DIR=$tmp/scratch "$ctl" pool show --json api |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
cp /etc/passwd "$tmp/passwd" && echo "squatter:x:$first:$first::/:/usr/sbin/nologin" >> "$tmp/passwd"
mount --bind "$tmp/passwd" /etc/passwd
"$ctl" pool add api >/dev/null
check "skips an existing account's uid" 1 "$("$ctl" pool show --json api | /usr/bin/python3 -c \
        "import json,sys; d=json.load(sys.stdin); print(int(d['uid'] != $first and d['uidProbe'] >= 1))")"
"$ctl" pool show api | grep -q 'not the first choice'; check "pool show says not first choice" 0 $?
umount /etc/passwd

# The shared group lists every pool.
"$ctl" registry set sharedGroup apppool-users
check "shared group members" "apppool-api,apppool-defaultapppool,apppool-web" \
        "$(getent group apppool-users | cut -d: -f4 | tr ',' '\n' | sort | paste -sd,)"
id -G apppool-web | grep -qw "$(getent group apppool-users | cut -d: -f3)"; check "id shows the shared group" 0 $?

# Deleted pools disappear from NSS.
"$ctl" pool delete web --keep-profile >/dev/null
getent passwd apppool-web >/dev/null; check "deleted pool gone" 2 $?

# The module trusts nothing: a snapshot others can write is ignored, and so
# are lines that try to claim root or a system id.
chmod 666 "$statedir/nss-snapshot"
getent passwd apppool-defaultapppool >/dev/null; check "world-writable snapshot ignored" 2 $?
chmod 644 "$statedir/nss-snapshot"
# A snapshot forged with a valid header (lib/store/snapshot.h): a record
# claiming uid 0, then a system uid, is refused, whatever the index says.
# (the head and the base it may need: set-uid forges the record where it is)
mkdir "$tmp/snapshot.good" && cp "$statedir"/nss-snapshot* "$tmp/snapshot.good/"
/usr/bin/python3 "$snap" set-uid "$statedir/nss-snapshot" apppool-defaultapppool 0
getent passwd apppool-defaultapppool >/dev/null; check "uid 0 record ignored" 2 $?
getent passwd 0 | grep -q '^root:'; check "root still root" 0 $?
cp "$tmp"/snapshot.good/* "$statedir/"
/usr/bin/python3 "$snap" set-uid "$statedir/nss-snapshot" apppool-defaultapppool 100
getent passwd apppool-defaultapppool >/dev/null; check "system uid record ignored" 2 $?
# A snapshot cut short (its header's size no longer matches) is refused whole.
cp "$tmp"/snapshot.good/* "$statedir/"
truncate -s -8 "$statedir/nss-snapshot"
getent passwd apppool-defaultapppool >/dev/null; check "truncated snapshot ignored" 2 $?
cp "$tmp"/snapshot.good/* "$statedir/"
getent passwd apppool-defaultapppool >/dev/null; check "good snapshot back" 0 $?

# An import cannot make the module answer a name another source owns or
# could own (issue 15: "getent passwd sshd" answered a pool's account).
for name in root sshd; do
        APPPOOLID_STATE_DIR=$tmp/farm-$name "$ctl" pool add "squat$name" >/dev/null
        APPPOOLID_STATE_DIR=$tmp/farm-$name "$ctl" registry export "$tmp/farm.tsv"
        awk -F '\t' -v OFS='\t' -v n="$name" '$1 == "account" { $4 = n } 1' "$tmp/farm.tsv" > "$tmp/squat.tsv"
        grep -q "	$name	" "$tmp/squat.tsv"; check "squat file names $name" 0 $?
        "$ctl" registry import "$tmp/squat.tsv" 2>/dev/null
        check "import of a pool account named $name refused" 1 $?
        [ "$name" = root ] && { getent passwd "$(awk -F '\t' '$1 == "pool" { print $3 }' "$tmp/farm.tsv")" |
                grep -q '^root:'; check "no second root" 1 $?; }
done
getent passwd sshd | grep -q 'IIS APPPOOL'; check "sshd is not a pool's" 1 $?

# The module never blocks: a FIFO in the snapshot's place (issue 15) is not
# opened for reading, every lookup answers at once.
rm -f "$statedir/nss-snapshot" && mkfifo -m 644 "$statedir/nss-snapshot"
timeout 20 getent passwd apppool-defaultapppool >/dev/null; check "FIFO snapshot: getent passwd returns" 2 $?
timeout 20 getent group 70000 >/dev/null; check "FIFO snapshot: getent group returns" 2 $?
timeout 20 id root >/dev/null; check "FIFO snapshot: id root returns" 0 $?
rm -f "$statedir/nss-snapshot"

# Lines of any size the writer produces: 700 pools in the shared group give
# a member list longer than 8 KiB (11,922 bytes in the issue).
for i in $(seq 1 700); do echo "add many$i"; done > "$tmp/many.txt"
while read -r _ name; do "$ctl" pool add "$name" >/dev/null || break; done < "$tmp/many.txt"
line=$(timeout 20 getent group apppool-users)
check "700 pools: getent group works" 0 $?
check "700 pools: group line longer than 8 KiB" 1 "$(( ${#line} > 8192 ))"
check "700 pools: every member listed" 1 "$(( $(tr ',' '\n' <<< "${line##*:}" | grep -c '^apppool-many') == 700 ))"
gid=$(cut -d: -f3 <<< "$line")
check "700 pools: by gid too" "$line" "$(getent group "$gid")"
check "700 pools: enumeration has it" 1 "$(getent group | grep -c '^apppool-users:')"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
INNER
