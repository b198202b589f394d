#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The farm's lookups through SSSD (issue 11, docs/farm.md): slapd and two
# "hosts" (farmlib.sh): host 1 keeps the registry ("files apppoolid ldap",
# nslcd), host 3 has none and resolves through SSSD alone ("files sss"; the
# LDAP id provider, ldap_id_mapping = false, the SID from sambaSID) with its
# own config, databases, memory cache and /run. What host 3 sees of every
# pool account (getent by name and by id, its group, id, the SID SSSD
# carries) is what host 1 sees. Skips (77) with the reason when SSSD is not
# installed or cannot run here.
# Usage: test-farm-sssd.sh APPPOOLCTL NSS_MODULE_DIR STATEDIR SCHEMA_DIR (data/)
set -u
if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (namespaces, slapd, sssd)"
        exit 77
fi
ctl=$(realpath "$1") moddir=$(realpath "$2") statedir=$3 schemadir=$(realpath "$4")
for tool in slapd slapadd slaptest ldapadd ldapsearch nslcd ip unshare nsenter; do
        command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (.ci/deps installs it)"; exit 1; }
done
for f in /usr/sbin/sssd /usr/libexec/sssd/sssd_nss "$(dpkg-query -L sssd-ldap 2>/dev/null | grep -m1 '/libsss_ldap.so$')" \
        "$(dpkg-query -L libnss-sss 2>/dev/null | grep -m1 '/libnss_sss.so.2$')"; do
        [ -n "$f" ] && [ -e "$f" ] || { echo "SKIP: SSSD is not installed (sssd-common, sssd-ldap, libnss-sss: .ci/deps installs them)"; exit 77; }
done
case $statedir in /var/lib/*) ;; *) echo "FAIL: statedir $statedir is not under /var/lib"; exit 1 ;; esac
. "$(dirname "$0")/farmlib.sh"
farm_start 1 3
farm_nslcd 1
farm_sssd 3

pools=(web other 'Ünïcode Pool' 'Café #1 (a)' svc)
on 1 "$ctl" pool add "${pools[@]}" >/dev/null || exit 1
on 1 "$ctl" pool set svc processModel.identityType=LocalService >/dev/null || exit 1
on 1 "$ctl" registry set sharedGroup iis_iusrs || exit 1
on 1 "$ctl" registry export --ldif --base $base "$tmp/h1.ldif" || exit 1
ldap_add -f "$tmp/h1.ldif" || exit 1

# Every pool's own account (svc runs as LocalService, which has its own).
users=()
for p in "${pools[@]}"; do
        read -r user uid gid sid < <(uid_of 1 "$p")
        users+=("$user")
        check "'$p': getent passwd name through sss" "$(on 1 getent passwd "$user")" "$(on 3 getent passwd "$user")"
        check "'$p': getent passwd uid through sss" "$(on 1 getent passwd "$uid")" "$(on 3 getent passwd "$uid")"
        check "'$p': getent group through sss" "$(on 1 getent group "$gid")" "$(on 3 getent group "$gid")"
        check "'$p': id through sss" "$(on 1 id "$user")" "$(on 3 id "$user")"
        [ "$p" = svc ] && continue
        # The SID, as SSSD carries it (ldap_user_objectsid = sambaSID).
        # sss_nss_getsidbyname(3) of libsss_nss_idmap (libsss-nss-idmap0,
        # which sssd-common needs), through ctypes: no Python binding to install.
        check "'$p': SID through sss" "$sid" "$(on 3 /usr/bin/python3 -c '
import ctypes, sys
lib = ctypes.CDLL("libsss_nss_idmap.so.0")
sid, kind = ctypes.c_char_p(), ctypes.c_int()
err = lib.sss_nss_getsidbyname(sys.argv[1].encode(), ctypes.byref(sid), ctypes.byref(kind))
print(sid.value.decode() if err == 0 else "error %d" % err)' "$user")"
done
# A file of web's on the shared storage shows web's names on host 3.
webuid=$(uid_of 1 web | cut -d' ' -f2)
touch "$tmp/shared/page" && chown "$webuid:$webuid" "$tmp/shared/page"
check "ls -l through sss" "apppool-web apppool-web" "$(on 3 ls -l /mnt/page | awk '{print $3, $4}')"
check "the accounts came from the directory" 1 "$([ -z "$(on 3 getent -s files passwd "${users[0]}")" ] && echo 1)"
check "LocalService through sss" "$(on 1 getent passwd apppool-localservice)" "$(on 3 getent passwd apppool-localservice)"
# Members in any order (SSSD's is its own): sorted.
sorted_group() { local g; g=$(on "$1" getent group iis_iusrs); echo "$(cut -d: -f1,3 <<< "$g"):$(cut -d: -f4 <<< "$g" | tr , '\n' | sort | paste -sd,)"; }
check "shared group and its members through sss" "$(sorted_group 1)" "$(sorted_group 3)"
check "shared group has the pools" 5 "$(sorted_group 3 | cut -d: -f3 | tr , '\n' | grep -c .)"

# A pool added on host 1 and published later shows on host 3, nothing
# restarted (SSSD has never been asked for it, so nothing stale is cached).
on 1 "$ctl" pool add late >/dev/null || exit 1
on 1 "$ctl" registry export --ldif --base $base > "$tmp/all.ldif" || exit 1
for dn in uid=apppool-late,ou=People cn=apppool-late,ou=Group; do
        sed -n "/^dn: $dn,/,/^\$/p" "$tmp/all.ldif"
done > "$tmp/late.ldif"
ldap_add -f "$tmp/late.ldif"; check "publish late" 0 $?
check "late through sss" "$(on 1 getent passwd apppool-late)" "$(on 3 getent passwd apppool-late)"
finish
