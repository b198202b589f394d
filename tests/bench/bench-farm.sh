#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Farm benchmarks (docs/farm.md), one run: N pools (default 10000) as LDIF,
# made with the library's SIDs and the documented uid derivation;
# registry import --ldif of them; registry export --ldif (time, size);
# slapadd and slapd start; registry publish (built with -Dldap) into an
# empty suffix (every entry added) and again (every entry read back, equal); getpwnam/getpwuid of pool accounts through our NSS
# module ("files apppoolid") and through nslcd ("files ldap", the host has
# no registry) and through SSSD ("files sss": once cold, every getpwnam a
# cache miss that asks slapd, then warm, from SSSD's memory cache), if SSSD
# is installed. Private mount and network namespaces: nothing on the system
# changes. Usage: bench-farm.sh BUILDDIR [POOLS] [ROUNDS]
set -eu
build=$(realpath "$1") pools=${2:-10000} rounds=${3:-3}
src=$(realpath "$(dirname "$0")/../..")
[ "$(id -u)" = 0 ] || { echo "needs root (namespaces)"; exit 1; }
exec unshare --mount --net --propagation private bash -s "$build" "$pools" "$rounds" "$src" <<'INNER'
set -eu
build=$1 pools=$2 rounds=$3 src=$4
ctl=$build/examples/apppoolctl base=dc=farm,dc=test
tmp=$(mktemp -d /tmp/apid-bench-farm-XXXXXX)
chmod 755 "$tmp"
stop() {
        local f d=()
        for f in "$tmp/slapd.pid" /run/nslcd/nslcd.pid /run/sssd.pid; do [ -f "$f" ] && d+=("$(cat "$f")"); done
        kill "${d[@]}" 2>/dev/null
        for f in "${d[@]}"; do while kill -0 "$f" 2>/dev/null; do sleep 0.05; done; done
        rm -rf "$tmp"
}
trap stop EXIT
ip link set lo up
mkdir "$tmp/run" "$tmp/lib" "$tmp/db" "$tmp/db2"
mount --bind "$tmp/run" /run && mkdir -p /run/nslcd && chown nslcd:nslcd /run/nslcd
mount --bind "$tmp/lib" /var/lib
unset APPPOOLID_STATE_DIR
export LD_LIBRARY_PATH=$build/lib
ms() { /usr/bin/python3 -c "import sys; print('%.0f ms' % ((float(sys.argv[2]) - float(sys.argv[1])) * 1000))" "$@"; }
t() { date +%s.%N; }

seq -f 'pool%g' 1 "$pools" > "$tmp/names"
xargs -a "$tmp/names" "$ctl" sid > "$tmp/sids"
/usr/bin/python3 - "$tmp/names" "$tmp/sids" "$base" > "$tmp/pools.ldif" <<'PY'
import hashlib, math, struct, sys
names = open(sys.argv[1]).read().split()
sids = open(sys.argv[2]).read().split()
base = sys.argv[3]
first, size = 1879048192, 16777216
used = set()
def candidate(sid):  # docs/identities.md: the first free one of the probe sequence
    p = sid.split('-')
    sub = [int(x) for x in p[3:]]
    b = bytes([1, len(sub)]) + int(p[2]).to_bytes(6, 'big') + b''.join(struct.pack('<I', s) for s in sub)
    d = hashlib.sha1(b).digest()
    h0, h1 = int.from_bytes(d[0:8], 'little'), int.from_bytes(d[8:16], 'little')
    start, step = h0 % size, 1 + h1 % (size - 1)
    while math.gcd(step, size) != 1:
        step = step + 1 if step + 1 < size else 1
    i = 0
    while first + (start + i * step) % size in used:
        i += 1
    used.add(first + (start + i * step) % size)
    return first + (start + i * step) % size
for n, s in zip(names, sids):
    u = candidate(s)
    print(f"dn: uid=apppool-{n},ou=People,{base}\nobjectClass: account\nobjectClass: posixAccount\n"
          f"objectClass: sambaIdmapEntry\nuid: apppool-{n}\ncn: IIS APPPOOL\\{n}\ngecos: IIS APPPOOL\\{n}\n"
          f"uidNumber: {u}\ngidNumber: {u}\nhomeDirectory: /nonexistent\nloginShell: /usr/sbin/nologin\n"
          f"sambaSID: {s}\n\ndn: cn=apppool-{n},ou=Group,{base}\nobjectClass: posixGroup\ncn: apppool-{n}\n"
          f"gidNumber: {u}\n")
PY
a=$(t); "$ctl" registry import --ldif "$tmp/pools.ldif"; b=$(t)
echo "registry import --ldif, $pools pools: $(ms "$a" "$b")"
a=$(t); "$ctl" registry export --ldif --base $base > "$tmp/export.ldif"; b=$(t)
echo "registry export --ldif, $pools pools: $(ms "$a" "$b"), $(stat -c %s "$tmp/export.ldif") bytes"
cat > "$tmp/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include $src/data/apppoolid-sid.schema
pidfile $tmp/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
sizelimit unlimited
database mdb
maxsize 1073741824
suffix "$base"
directory $tmp/db
index objectClass,uid,uidNumber,gidNumber,cn,memberUid,sambaSID eq
rootdn "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"
access to * by * read
database mdb
maxsize 1073741824
suffix "dc=empty,dc=test"
directory $tmp/db2
index objectClass,uid,uidNumber,gidNumber,cn,memberUid,sambaSID eq
rootdn "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"
access to * by * read
CONF
printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: farm\no: farm\n\ndn: ou=People,%s\nobjectClass: organizationalUnit\nou: People\n\ndn: ou=Group,%s\nobjectClass: organizationalUnit\nou: Group\n' \
        $base $base $base > "$tmp/base.ldif"
slapadd -q -f "$tmp/slapd.conf" -l "$tmp/base.ldif"
sed 's/dc=farm,dc=test/dc=empty,dc=test/; s/^dc: farm/dc: empty/' "$tmp/base.ldif" | slapadd -q -f "$tmp/slapd.conf" -b dc=empty,dc=test
a=$(t); slapadd -q -f "$tmp/slapd.conf" -l "$tmp/export.ldif"; b=$(t)
echo "slapadd of the export ($(grep -c '^dn' "$tmp/export.ldif") entries): $(ms "$a" "$b")"
ldapi="ldapi://$(printf %s "$tmp/ldapi" | sed 's|/|%2F|g')"
a=$(t); slapd -f "$tmp/slapd.conf" -h "ldap://127.0.0.1:3890/ $ldapi"
until ldapsearch -LLL -x -H ldap://127.0.0.1:3890/ -b $base -s base dn >/dev/null 2>&1; do sleep 0.01; done; b=$(t)
echo "slapd start until it answers: $(ms "$a" "$b")"
if ! "$ctl" registry publish 2>&1 | grep -q 'without LDAP'; then
        a=$(t); out=$("$ctl" registry publish "$ldapi" --base dc=empty,dc=test | tail -n 1); b=$(t)
        echo "registry publish into an empty suffix: $(ms "$a" "$b") ($out)"
        a=$(t); out=$("$ctl" registry publish "$ldapi" --base $base); b=$(t)
        echo "registry publish, all up to date: $(ms "$a" "$b") ($out)"
fi
printf 'uid nslcd\ngid nslcd\nuri ldap://127.0.0.1:3890/\nbase %s\n' $base > "$tmp/nslcd.conf"
chown root:nslcd "$tmp/nslcd.conf"; chmod 640 "$tmp/nslcd.conf"
mount --bind "$tmp/nslcd.conf" /etc/nslcd.conf
nslcd
until [ -S /run/nslcd/socket ]; do sleep 0.01; done
sample=$(shuf -n 1000 --random-source=<(yes) "$tmp/names" | sed 's/^/apppool-/')
sed -E 's/^(passwd|group):.*$/\1: files apppoolid/' /etc/nsswitch.conf > "$tmp/ns-ours"
sed -E 's/^(passwd|group):.*$/\1: files ldap/' /etc/nsswitch.conf > "$tmp/ns-ldap"
mount --bind "$tmp/ns-ours" /etc/nsswitch.conf
echo "libnss_apppoolid (files apppoolid): $("$build/tests/bench/bench-getpw" "$rounds" $sample)"
umount /etc/nsswitch.conf; mount --bind "$tmp/ns-ldap" /etc/nsswitch.conf
echo "nslcd (files ldap):                 $("$build/tests/bench/bench-getpw" "$rounds" $sample)"
if [ -x /usr/sbin/sssd ]; then
        mkdir -p "$tmp/sssd" "$tmp/sssd-log" /var/lib/sss/db /var/lib/sss/mc /var/lib/sss/pipes/private \
                /var/lib/sss/pubconf /var/lib/sss/gpo_cache /var/lib/sss/secrets
        printf '[sssd]\nservices = nss\ndomains = farm\n[domain/farm]\nid_provider = ldap\nldap_uri = ldap://127.0.0.1:3890/\nldap_search_base = %s\nldap_schema = rfc2307\nldap_id_mapping = false\nldap_user_objectsid = sambaSID\nldap_group_objectsid = sambaSID\n' \
                $base > "$tmp/sssd/sssd.conf"
        chmod 600 "$tmp/sssd/sssd.conf"
        mount --bind "$tmp/sssd" /etc/sssd; mount --bind "$tmp/sssd-log" /var/log/sssd
        sssd -D --logger=files
        until [ -S /var/lib/sss/pipes/nss ]; do sleep 0.01; done
        sed -E 's/^(passwd|group):.*$/\1: files sss/' /etc/nsswitch.conf > "$tmp/ns-sss"
        umount /etc/nsswitch.conf; mount --bind "$tmp/ns-sss" /etc/nsswitch.conf
        echo "sssd cold (files sss):              $("$build/tests/bench/bench-getpw" 1 $sample) (getpwnam: misses, LDAP)"
        echo "sssd warm (memory cache):           $("$build/tests/bench/bench-getpw" "$rounds" $sample)"
else
        echo "sssd: not installed (.ci/deps installs sssd-common sssd-ldap libnss-sss)"
fi
INNER
