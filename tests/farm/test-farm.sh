#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A web farm on a real directory (issue 11, docs/farm.md): slapd (throwaway
# config, mdb, in a network namespace of its own) and two "hosts" (farmlib.sh),
# each with its own state directory, nsswitch.conf ("files apppoolid ldap")
# and nslcd. Nothing of the machine is changed.
# Usage: test-farm.sh APPPOOLCTL NSS_MODULE_DIR STATEDIR SCHEMA_DIR (data/) ldap|noldap
# (ldap: apppoolctl has registry publish, meson -Dldap)
set -u
if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (namespaces, slapd, nslcd, real launches)"
        exit 77
fi
ctl=$(realpath "$1") moddir=$(realpath "$2") statedir=$3 schemadir=$(realpath "$4") ldap=${5:-noldap}
for tool in slapd slapadd slaptest slappasswd ldapadd ldapmodify ldapsearch nslcd ip unshare nsenter getfacl; do
        command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (.ci/deps installs it)"; exit 1; }
done
case $statedir in /var/lib/*) ;; *) echo "FAIL: statedir $statedir is not under /var/lib"; exit 1 ;; esac
. "$(dirname "$0")/farmlib.sh"
farm_start 1 2
farm_nslcd 1
farm_nslcd 2

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
if [ "$ldap" = ldap ]; then
        # registry publish (libldap, SASL EXTERNAL over ldapi as root, the
        # rootdn): what ldapadd loaded from the export is already up to date.
        publish() { on 1 "$ctl" registry publish "$ldapi" --base $base "$@"; }
        check "publish after ldapadd: nothing to change" "nothing to change: the 13 entries in $ldapi are up to date" "$(publish 2>&1)"
        on 1 "$ctl" pool add late >/dev/null || exit 1
        check "publish late" "added uid=apppool-late,ou=People,$base
added cn=apppool-late,ou=Group,$base
modified cn=iis_iusrs,ou=Group,$base
published to $ldapi: 2 added, 1 modified, 12 unchanged" "$(publish 2>&1)"
        check "publish again: nothing to change" "nothing to change: the 15 entries in $ldapi are up to date" "$(publish 2>&1)"
        # What differs is put back; what others added to a multi-valued
        # attribute stays (nothing of the directory's is deleted).
        printf 'dn: uid=apppool-web,ou=People,%s\nchangetype: modify\nreplace: loginShell\nloginShell: /bin/bash\n\ndn: cn=iis_iusrs,ou=Group,%s\nchangetype: modify\nadd: memberUid\nmemberUid: someone\n' \
                $base $base | ldapmodify -Q -Y EXTERNAL -H "$ldapi" >/dev/null; check "tamper" 0 $?
        check "publish repairs" "modified uid=apppool-web,ou=People,$base
published to $ldapi: 0 added, 1 modified, 14 unchanged" "$(publish 2>&1)"
        check "web's shell back" "/usr/sbin/nologin" "$(on 2 getent passwd apppool-web | cut -d: -f7)"
        check "a member added by others stays" 1 "$(on 2 getent group iis_iusrs | cut -d: -f4 | tr , '\n' | grep -cx someone)"
        # A simple bind, its DN and password from a file only root can read.
        printf 'dn: cn=publisher,%s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: publisher\nuserPassword: %s\n' \
                $base "$(slappasswd -s 'pass word')" | ldap_add; check "add publisher" 0 $?
        printf 'cn=publisher,%s\npass word\n' $base > "$tmp/bind"
        chmod 644 "$tmp/bind"
        check "a bind file others can read is refused" "apppoolctl: --bind-file $tmp/bind: must be a regular file of yours that only you can read (it is mode 0644, owner 0): chmod 600
2" "$(publish --bind-file "$tmp/bind" 2>&1; echo "$?")"
        chmod 600 "$tmp/bind"
        on 1 "$ctl" pool add later >/dev/null || exit 1
        check "publish with --bind-file" "published to $ldapi: 2 added, 1 modified, 14 unchanged" "$(publish --bind-file "$tmp/bind" 2>&1 | tail -n 1)"
        check "later on host 2" "$(uid_of 1 later | cut -d' ' -f2)" "$(on 2 getent passwd apppool-later | cut -d: -f3)"
        printf 'cn=publisher,%s\nwrong\n' $base > "$tmp/bind"
        check "a wrong password" "apppoolctl: registry publish $ldapi: simple bind as cn=publisher,$base: Invalid credentials
1" \
                "$(publish --bind-file "$tmp/bind" 2>&1; echo "$?")"
        # Over ldap:// a password would cross the network in clear: StartTLS
        # first, and this slapd has no TLS.
        printf 'cn=publisher,%s\npass word\n' $base > "$tmp/bind"
        out=$(on 1 "$ctl" registry publish ldap://169.254.213.1/ --base $base --bind-file "$tmp/bind" 2>&1); r=$?
        check "no StartTLS, no bind" "1 1" "$r $(grep -c '^apppoolctl: registry publish ldap://169.254.213.1/: StartTLS (required on ldap://; or use ldaps:// or ldapi://): ' <<< "$out")"
else
        echo "(apppoolctl built without LDAP: registry publish not tested; the entries go in with ldapadd)"
        on 1 "$ctl" pool add late >/dev/null || exit 1
        on 1 "$ctl" registry export --ldif --base $base | grep -A20 '^dn: uid=apppool-late,' | sed '/^$/,$d' > "$tmp/late.ldif"
        printf '\n' >> "$tmp/late.ldif"
        on 1 "$ctl" registry export --ldif --base $base | grep -A5 '^dn: cn=apppool-late,' | sed '/^$/,$d' >> "$tmp/late.ldif"
        ldap_add -f "$tmp/late.ldif"; check "publish late" 0 $?
fi
late=$(uid_of 1 late)
check "late on host 2" "apppool-late:$(cut -d' ' -f2 <<< "$late")" "$(on 2 getent passwd apppool-late | cut -d: -f1,3)"

# ---- a collision on one host only: a local account on late's uid there; the
# import refuses (naming the line) rather than let host 2 diverge ----
lateuid=$(cut -d' ' -f2 <<< "$late")
{ cat /etc/passwd; echo "intruder:x:$lateuid:$lateuid::/nonexistent:/usr/sbin/nologin"; } > "$tmp/passwd2"
nsenter -t ${hostpid[2]} -m mount --bind "$tmp/passwd2" /etc/passwd || exit 1
ldapsearch -LLL -Q -Y EXTERNAL -H "$ldapi" -b $base > "$tmp/search2.ldif"
on 2 "$ctl" registry import --ldif "$tmp/search2.ldif" 2>"$tmp/err"; check "local collision refused" 1 $?
check "local collision message" 1 "$(grep -c "^apppoolctl: import $tmp/search2.ldif, line [0-9]*: .*uid $lateuid" "$tmp/err")"
check "local collision: nothing imported" "" "$(on 2 "$ctl" pool list | grep '"late"')"
nsenter -t ${hostpid[2]} -m umount /etc/passwd || exit 1

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
