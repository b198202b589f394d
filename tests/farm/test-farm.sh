#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A web farm on a real directory (issue 11, docs/farm.md): slapd (throwaway
# config, mdb, in a network namespace of its own) and two "hosts", each a
# network namespace joined to slapd's by a veth pair the test makes
# (link-local addresses, inside those namespaces only) plus a private mount
# namespace with its own /var/lib (state directory), /run, nsswitch.conf
# ("files apppoolid ldap") and nslcd. Nothing of the machine is changed.
# Usage: test-farm.sh APPPOOLCTL NSS_MODULE_DIR STATEDIR SCHEMA_DIR (data/)
set -u
if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (namespaces, slapd, nslcd, real launches)"
        exit 77
fi
ctl=$(realpath "$1") moddir=$(realpath "$2") statedir=$3 schemadir=$(realpath "$4")
for tool in slapd slapadd slaptest ldapadd ldapsearch nslcd ip unshare nsenter getfacl; do
        command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (.ci/deps installs it)"; exit 1; }
done
case $statedir in /var/lib/*) ;; *) echo "FAIL: statedir $statedir is not under /var/lib"; exit 1 ;; esac
. "$(dirname "$0")/../cli/testlib.sh"
base=dc=farm,dc=test
tmp=$(mktemp -d /tmp/apid-farm-XXXXXX)
pids=()
cleanup() {
        [ -f "$tmp/slapd.pid" ] && kill "$(cat "$tmp/slapd.pid")" 2>/dev/null
        for h in 1 2; do [ -f "$tmp/h$h/run/nslcd/nslcd.pid" ] && kill "$(cat "$tmp/h$h/run/nslcd/nslcd.pid")" 2>/dev/null; done
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
# Every wait is bounded: 20 s for anything (a busy machine), then a failure.
wait_for() { local i; for i in $(seq 200); do eval "$1" && return 0; sleep 0.1; done; echo "FAIL: timed out: $1"; exit 1; }

# ---- namespaces: one holder process each (sleep in the new namespaces) ----
netns_of() { readlink "/proc/$1/ns/net"; }
me=$(netns_of $$)
unshare --net sleep 600 & spid=$!; pids+=($spid)
unshare --net --mount --propagation private sleep 600 & h1=$!; pids+=($h1)
unshare --net --mount --propagation private sleep 600 & h2=$!; pids+=($h2)
for p in $spid $h1 $h2; do wait_for "[ \"\$(netns_of $p)\" != \"$me\" ]"; done
ip link add fa1 netns $spid type veth peer name fb1 netns $h1 || exit 1
ip link add fa2 netns $spid type veth peer name fb2 netns $h2 || exit 1
nsenter -t $spid -n sh -c 'ip link set lo up && ip addr add 169.254.213.1/30 dev fa1 && ip link set fa1 up &&
        ip addr add 169.254.213.5/30 dev fa2 && ip link set fa2 up' || exit 1
nsenter -t $h1 -n sh -c 'ip link set lo up && ip addr add 169.254.213.2/30 dev fb1 && ip link set fb1 up' || exit 1
nsenter -t $h2 -n sh -c 'ip link set lo up && ip addr add 169.254.213.6/30 dev fb2 && ip link set fb2 up' || exit 1

# ---- slapd: throwaway cn=config (mdb, sizelimit unlimited); root over ldapi
# (SASL EXTERNAL) is the rootdn ----
mkdir -p "$tmp/db" "$tmp/shared"
chmod 755 "$tmp"
ldapi="ldapi://$(printf %s "$tmp/ldapi" | sed 's|/|%2F|g')"
# The schema in both shipped forms: the .schema file must pass slaptest with
# slapd.conf, and slapd runs from a cn=config built with the LDIF form.
printf 'include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\ninclude /etc/ldap/schema/nis.schema\ninclude %s\n' \
        "$schemadir/apppoolid-sid.schema" > "$tmp/check.conf"
slaptest -u -f "$tmp/check.conf" >/dev/null 2>&1; check "apppoolid-sid.schema loads" 0 $?
mkdir -p "$tmp/slapd.d"
{
        printf 'dn: cn=config\nobjectClass: olcGlobal\ncn: config\nolcPidFile: %s\nolcSizeLimit: unlimited\n\n' "$tmp/slapd.pid"
        printf 'dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\nolcModulePath: /usr/lib/ldap\nolcModuleLoad: back_mdb\n\n'
        printf 'dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n'
        for f in /etc/ldap/schema/core.ldif /etc/ldap/schema/cosine.ldif /etc/ldap/schema/nis.ldif \
                "$schemadir/apppoolid-sid.ldif"; do
                cat "$f"; printf '\n'
        done
        printf 'dn: olcDatabase={-1}frontend,cn=config\nobjectClass: olcDatabaseConfig\nobjectClass: olcFrontendConfig\nolcDatabase: {-1}frontend\nolcSizeLimit: unlimited\nolcAccess: to * by * read\n\n'
        printf 'dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\nolcDatabase: {0}config\nolcAccess: to * by * none\n\n'
        printf 'dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\nobjectClass: olcMdbConfig\nolcDatabase: {1}mdb\nolcSuffix: %s\nolcRootDN: gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth\nolcDbDirectory: %s\nolcDbMaxSize: 104857600\nolcDbIndex: objectClass,uid,uidNumber,gidNumber,memberUid eq\nolcDbIndex: sambaSID eq\nolcSizeLimit: unlimited\nolcAccess: to * by * read\n' \
                $base "$tmp/db"
} > "$tmp/config.ldif"
slapadd -q -n 0 -F "$tmp/slapd.d" -l "$tmp/config.ldif" || { echo "FAIL: cn=config with apppoolid-sid.ldif"; exit 1; }
printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: farm\no: farm\n\ndn: ou=People,%s\nobjectClass: organizationalUnit\nou: People\n\ndn: ou=Group,%s\nobjectClass: organizationalUnit\nou: Group\n' \
        $base $base $base > "$tmp/base.ldif"
slapadd -q -F "$tmp/slapd.d" -n 1 -l "$tmp/base.ldif" || exit 1
nsenter -t $spid -n slapd -F "$tmp/slapd.d" -h "ldap://169.254.213.1/ ldap://169.254.213.5/ $ldapi" || exit 1
wait_for "ldapsearch -LLL -Q -Y EXTERNAL -H '$ldapi' -b $base -s base dn >/dev/null 2>&1"
ldap_add() { ldapadd -Q -Y EXTERNAL -H "$ldapi" "$@" >/dev/null; }

# ---- the hosts ----
sed -E 's/^(passwd|group):.*$/\1: files apppoolid ldap/' /etc/nsswitch.conf > "$tmp/nsswitch.conf"
for h in 1 2; do
        pid=$(eval echo \$h$h)
        addr=$([ $h = 1 ] && echo 169.254.213.1 || echo 169.254.213.5)
        mkdir -p "$tmp/h$h/run" "$tmp/h$h/lib"
        printf 'uid nslcd\ngid nslcd\nuri ldap://%s/\nbase %s\nbase passwd ou=People,%s\nbase group ou=Group,%s\n' \
                $addr $base $base $base > "$tmp/h$h/nslcd.conf"
        chown root:nslcd "$tmp/h$h/nslcd.conf"; chmod 640 "$tmp/h$h/nslcd.conf"
        nsenter -t $pid -m sh -c "mount --bind '$tmp/h$h/run' /run && mkdir -p /run/nslcd && chown nslcd:nslcd /run/nslcd &&
                mount --bind '$tmp/h$h/lib' /var/lib && mkdir -m 755 -p '$statedir' &&
                mount --bind '$tmp/nsswitch.conf' /etc/nsswitch.conf &&
                mount --bind '$tmp/h$h/nslcd.conf' /etc/nslcd.conf && mount --bind '$tmp/shared' /mnt" || exit 1
        nsenter -t $pid -m -n nslcd || exit 1
        wait_for "[ -S '$tmp/h$h/run/nslcd/socket' ]"
done
# Run a command on host N, as its processes would run (the module in LD_LIBRARY_PATH).
on() { local pid; pid=$(eval echo \$h$1); shift; nsenter -t "$pid" -m -n env -u APPPOOLID_STATE_DIR LD_LIBRARY_PATH="$moddir" "$@"; }
uid_of() { on "$1" "$ctl" pool show --json "$2" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["user"], d["uid"], d["gid"], d["sid"])'; }

# ---- host 1 creates pools and publishes them ----
pools=(web other 'Ünïcode Pool' 'Café #1 (a)' svc)
on 1 "$ctl" pool add "${pools[@]}" >/dev/null || exit 1
on 1 "$ctl" pool set svc processModel.identityType=LocalService >/dev/null || exit 1
on 1 "$ctl" registry set sharedGroup iis_iusrs || exit 1
on 1 "$ctl" registry export --ldif --base $base "$tmp/h1.ldif" || exit 1
ldap_add -f "$tmp/h1.ldif" || exit 1
# 5 pools and their groups, LocalService and its group, the shared group.
check "published entries" 13 "$(ldapsearch -LLL -Q -Y EXTERNAL -H "$ldapi" -b $base '(|(objectClass=posixAccount)(objectClass=posixGroup))' dn | grep -c '^dn')"
check "host 2 resolves host 1's pool through nslcd" "IIS APPPOOL\\web" "$(on 2 getent passwd apppool-web | cut -d: -f5)"

# ---- host 2, from an empty state directory: the same pools, then the import ----
check "host 2 starts empty" "" "$(on 2 "$ctl" pool list)"
on 2 "$ctl" pool add "${pools[@]}" >/dev/null 2>"$tmp/err"; check "host 2 pool add" 0 $?
on 2 "$ctl" pool set svc processModel.identityType=LocalService >/dev/null
on 2 "$ctl" registry set sharedGroup iis_iusrs
ldapsearch -LLL -Q -Y EXTERNAL -H "$ldapi" -b $base > "$tmp/search.ldif"
on 2 "$ctl" registry import --ldif "$tmp/search.ldif" 2>"$tmp/err"; check "host 2 import" "0 " "$? $(cat "$tmp/err")"
for p in "${pools[@]}"; do
        check "pool '$p': user uid gid SID" "$(uid_of 1 "$p")" "$(uid_of 2 "$p")"
done
# The directory's record of each pool is what host 2 has: user, uid, gid, SID.
while read -r user uid gid sid; do
        check "directory has $user" "$user $uid $gid $sid" "$(ldapsearch -LLL -Q -Y EXTERNAL -H "$ldapi" -b "ou=People,$base" \
                "(sambaSID=$sid)" uid uidNumber gidNumber sambaSID | /usr/bin/python3 -c '
import sys
d = dict(l.split(": ", 1) for l in sys.stdin.read().splitlines() if ": " in l)
print(d.get("uid"), d.get("uidNumber"), d.get("gidNumber"), d.get("sambaSID"))')"
done < <(for p in "${pools[@]}"; do [ "$p" = svc ] || uid_of 2 "$p"; done)
check "directory's LocalService is host 2's" "$(on 2 getent passwd apppool-localservice | cut -d: -f3)" \
        "$(ldapsearch -LLL -Q -Y EXTERNAL -H "$ldapi" -b "ou=People,$base" '(sambaSID=S-1-5-19)' uidNumber | sed -n 's/^uidNumber: //p')"
webuid=$(uid_of 1 web | cut -d' ' -f2)
check "getent on host 2" "apppool-web:*:$webuid:$webuid:IIS APPPOOL\\web" "$(on 2 getent passwd "$webuid" | cut -d: -f1-5)"
check "id on host 2" "uid=$webuid(apppool-web) gid=$webuid(apppool-web)" "$(on 2 id apppool-web | cut -d' ' -f1-2)"
check "shared group on host 2" "$(on 1 getent group iis_iusrs | cut -d: -f3)" "$(on 2 getent group iis_iusrs | cut -d: -f3)"
on 2 id -G apppool-web | grep -qw "$(on 1 getent group iis_iusrs | cut -d: -f3)"; check "web in the shared group on host 2" 0 $?

# ---- a file on shared storage (/mnt: a bind mount standing in for NFS) ----
chmod 700 "$tmp/shared"
# F, not M: on a directory, POSIX w is create, delete and rename (the library
# maps M to r-x there; docs/acl.md).
on 1 "$ctl" grant /mnt 'IIS AppPool\web:(OI)(CI)F' >/dev/null || exit 1
on 1 "$ctl" run web -- /bin/sh -c 'echo from-host-1 > /mnt/page'; check "host 1 worker writes" 0 $?
check "ls -l on host 2" "apppool-web apppool-web" "$(on 2 ls -l /mnt/page | awk '{print $3, $4}')"
check "host 2 same pool reads" from-host-1 "$(on 2 "$ctl" run web -- /bin/cat /mnt/page 2>&1)"
check "host 2 other pool cannot" "/bin/cat: /mnt/page: Permission denied" "$(on 2 "$ctl" run other -- /bin/cat /mnt/page 2>&1)"
check "host 2 ACL by name" "group:apppool-web:rwx" "$(on 2 getfacl -cp /mnt 2>/dev/null | grep '^group:apppool-web')"

# ---- a pool added and published later shows on host 2, nothing restarted ----
on 1 "$ctl" pool add late >/dev/null || exit 1
on 1 "$ctl" registry export --ldif --base $base | grep -A20 '^dn: uid=apppool-late,' | sed '/^$/,$d' > "$tmp/late.ldif"
printf '\n' >> "$tmp/late.ldif"
on 1 "$ctl" registry export --ldif --base $base | grep -A5 '^dn: cn=apppool-late,' | sed '/^$/,$d' >> "$tmp/late.ldif"
ldap_add -f "$tmp/late.ldif"; check "publish late" 0 $?
late=$(uid_of 1 late)
check "late on host 2" "apppool-late:$(cut -d' ' -f2 <<< "$late")" "$(on 2 getent passwd apppool-late | cut -d: -f1,3)"

# ---- a collision on one host only: a local account on late's uid there; the
# import refuses (naming the line) rather than let host 2 diverge ----
lateuid=$(cut -d' ' -f2 <<< "$late")
{ cat /etc/passwd; echo "intruder:x:$lateuid:$lateuid::/nonexistent:/usr/sbin/nologin"; } > "$tmp/passwd2"
nsenter -t $h2 -m mount --bind "$tmp/passwd2" /etc/passwd || exit 1
ldapsearch -LLL -Q -Y EXTERNAL -H "$ldapi" -b $base > "$tmp/search2.ldif"
on 2 "$ctl" registry import --ldif "$tmp/search2.ldif" 2>"$tmp/err"; check "local collision refused" 1 $?
check "local collision message" 1 "$(grep -c "^apppoolctl: import $tmp/search2.ldif, line [0-9]*: .*uid $lateuid" "$tmp/err")"
check "local collision: nothing imported" "" "$(on 2 "$ctl" pool list | grep '"late"')"
nsenter -t $h2 -m umount /etc/passwd || exit 1

# ---- a foreign account on a pool's first-choice uid moves it on both hosts ----
mkdir -m 755 "$tmp/scratch"
first=$(APPPOOLID_STATE_DIR=$tmp/scratch "$ctl" pool add collide >/dev/null && APPPOOLID_STATE_DIR=$tmp/scratch "$ctl" pool show --json collide | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
printf 'dn: uid=foreign,ou=People,%s\nobjectClass: account\nobjectClass: posixAccount\nuid: foreign\ncn: someone else\nuidNumber: %s\ngidNumber: %s\nhomeDirectory: /home/foreign\n' \
        $base "$first" "$first" | ldap_add; check "plant foreign" 0 $?
on 1 "$ctl" pool add collide >/dev/null 2>"$tmp/err1"
on 2 "$ctl" pool add collide >/dev/null 2>"$tmp/err2"
c1=$(uid_of 1 collide | cut -d' ' -f2) c2=$(uid_of 2 collide | cut -d' ' -f2)
check "moved on host 1" 1 "$([ "$c1" != "$first" ] && echo 1)"
check "host 2 alike" "$c1" "$c2"
check "host 1 says so" 1 "$(grep -c "uid $c1 is candidate 1, not the first choice $first" "$tmp/err1")"
check "host 2 says so" 1 "$(grep -c "uid $c2 is candidate 1, not the first choice $first" "$tmp/err2")"
finish
