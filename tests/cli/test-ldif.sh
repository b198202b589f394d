#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# registry export --ldif / import --ldif: RFC 2849 encoding, a round trip to
# a second state directory (same names, uids, SIDs), ldapsearch-style folded
# lines, foreign entries skipped, and refusals that name the line and change
# nothing. Usage: test-ldif.sh APPPOOLCTL
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$1
tmp=$(mktemp -d /tmp/apid-ldif-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -m 755 "$tmp/h1" "$tmp/h2" "$tmp/h3"
h1() { APPPOOLID_STATE_DIR=$tmp/h1 "$ctl" "$@"; }
h2() { APPPOOLID_STATE_DIR=$tmp/h2 "$ctl" "$@"; }
h3() { APPPOOLID_STATE_DIR=$tmp/h3 "$ctl" "$@"; }

h1 pool add web 'Ünïcode Pool' 'Café #1 (a)' svc >/dev/null
h1 pool set svc processModel.identityType=LocalService >/dev/null
h1 pool set web processModel.loadUserProfile=true >/dev/null
h1 registry set sharedGroup iis_iusrs
h1 registry export --ldif --base dc=farm,dc=test --user-ou ou=Users "$tmp/out.ldif"
check "export status" 0 $?
h1 registry export --ldif --base dc=farm,dc=test --user-ou ou=Users > "$tmp/stdout.ldif"
check "stdout = file" "" "$(cmp "$tmp/out.ldif" "$tmp/stdout.ldif")"
ldif=$(cat "$tmp/out.ldif")
webuid=$(h1 pool show --json web | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
# The entry of web, attribute by attribute.
check "web entry" "dn: uid=apppool-web,ou=Users,dc=farm,dc=test
objectClass: account
objectClass: posixAccount
objectClass: sambaIdmapEntry
uid: apppool-web
cn: IIS APPPOOL\\web
gecos: IIS APPPOOL\\web
uidNumber: $webuid
gidNumber: $webuid
homeDirectory: $tmp/h1/profiles/apppool-web
loginShell: /usr/sbin/nologin
sambaSID: $("$ctl" sid web | awk '{print $NF}')" "$(grep -A11 '^dn: uid=apppool-web,' <<< "$ldif")"
# Non-ASCII: base64 (cn), and no gecos (an IA5 attribute); decoded, the name.
cn=$(grep -A5 '^dn: uid=apppool-caf' <<< "$ldif" | sed -n 's/^cn:: //p')
check "base64 cn" 'IIS APPPOOL\Café #1 (a)' "$(base64 -d <<< "$cn")"
check "no non-ASCII gecos" "" "$(grep -A8 '^dn: uid=apppool-caf' <<< "$ldif" | grep '^gecos')"
check "no raw non-ASCII" "" "$(LC_ALL=C grep -n '[^ -~]' <<< "$ldif")"
check "LocalService" "sambaSID: S-1-5-19" "$(grep -A11 '^dn: uid=apppool-localservice,' <<< "$ldif" | grep sambaSID)"
check "shared group" "sambaSID: S-1-5-32-568
description: BUILTIN\\IIS_IUSRS
memberUid: apppool-caf-1-a-2a0c94
memberUid: apppool-ncode-pool-61134c
memberUid: apppool-web" "$(grep -A9 '^dn: cn=iis_iusrs,ou=Group,dc=farm,dc=test' <<< "$ldif" | sed -n '/^sambaSID/,$p')"
check "own group" "gidNumber: $webuid" "$(grep -A3 '^dn: cn=apppool-web,ou=Group' <<< "$ldif" | grep gidNumber)"
# An RFC 2849 special value: a leading space, a leading colon, a trailing space.
h1 registry export --ldif --base 'dc=x, o=: b ' >/dev/null 2>&1; check "odd base accepted" 0 $?
check "dn base64" 1 "$(h1 registry export --ldif --base 'o= lead ' | grep -c '^dn:: ' | awk '{print ($1 > 0)}')"
h1 registry export --ldif --base $'dc=a\nobjectClass: x' >/dev/null 2>"$tmp/err"; check "newline in base" 1 $?
check "newline message" "apppoolctl: LDIF base 'dc=a\\x0AobjectClass: x': control character" "$(cat "$tmp/err")"

# Import on a fresh host, as ldapsearch -LLL would give it back: lines folded (at 40
# columns, to fold many), foreign entries around.
{
        printf 'dn: uid=alice,ou=Users,dc=farm,dc=test\nobjectClass: account\nobjectClass: posixAccount\nuid: alice\ncn: Alice\nuidNumber: 5000\ngidNumber: 5000\nhomeDirectory: /home/alice\n\n'
        grep -v '^#' "$tmp/out.ldif" | /usr/bin/python3 -c '
import sys
for line in sys.stdin.read().split("\n"):
    while len(line) > 40:
        print(line[:40]); line = " " + line[40:]
    print(line)'
} > "$tmp/search.ldif"
check "folded somewhere" 1 "$(grep -c '^ ' "$tmp/search.ldif" | awk '{print ($1 > 0)}')"
h2 registry set sharedGroup iis_iusrs
h2 registry import --ldif "$tmp/search.ldif"; check "import status" 0 $?
ids() { APPPOOLID_STATE_DIR=$1 "$ctl" pool list --json | /usr/bin/python3 -c '
import json,sys
for p in sorted(json.load(sys.stdin), key=lambda p: p["name"]):
    print(p["name"], p["user"] if p["identityType"] == "ApplicationPoolIdentity" else "-", p["uid"] if p["identityType"] == "ApplicationPoolIdentity" else "-", p["sid"])'; }
check "same pools, users, uids, SIDs" "$(ids "$tmp/h1")" "$(ids "$tmp/h2")"
check "second import: nothing new" 0 "$(h2 registry import --ldif "$tmp/search.ldif"; echo $?)"
check "alice skipped" "" "$(h2 pool list | grep -i alice)"

# Refusals: the line of the entry, and nothing written (all or nothing).
cp "$tmp/out.ldif" "$tmp/bad.ldif"
lines=$(wc -l < "$tmp/bad.ldif")
printf '\ndn: uid=apppool-evil,ou=Users,dc=farm,dc=test\nobjectClass: account\nobjectClass: posixAccount\nuid: apppool-evil\ngecos: IIS APPPOOL\\evil\nuidNumber: 1879048200\ngidNumber: 1879048200\nhomeDirectory: /\n' >> "$tmp/bad.ldif"
h3 registry import --ldif "$tmp/bad.ldif" 2>"$tmp/err"; check "bad uid status" 1 $?
check "bad uid names the line" "line $((lines + 2)):" "$(grep -o 'line [0-9]*:' "$tmp/err")"
check "bad uid: nothing imported" "" "$(h3 pool list 2>/dev/null)"
printf 'dn: uid=apppool-web,ou=Users,dc=farm,dc=test\nobjectClass: posixAccount\nuid: apppool-web\ngecos: IIS APPPOOL\\web\nsambaSID: S-1-5-82-1-2-3-4-5\nuidNumber: %s\ngidNumber: %s\n' "$webuid" "$webuid" > "$tmp/sid.ldif"
h3 registry import --ldif "$tmp/sid.ldif" 2>"$tmp/err"; check "wrong SID status" 1 $?
check "wrong SID message" "apppoolctl: import $tmp/sid.ldif, line 1: sambaSID S-1-5-82-1-2-3-4-5 is not the SID of pool 'web' ($("$ctl" sid web | awk '{print $NF}'))" "$(cat "$tmp/err")"
printf 'dn: uid=x\ncn:: ***\n' > "$tmp/b64.ldif"
h3 registry import --ldif "$tmp/b64.ldif" 2>"$tmp/err"; check "bad base64" "apppoolctl: import $tmp/b64.ldif, line 2: bad base64 value (or one holding a NUL byte)" "$(cat "$tmp/err")"
printf 'uid: x\n' > "$tmp/nodn.ldif"
h3 registry import --ldif "$tmp/nodn.ldif" 2>"$tmp/err"; check "no dn" "apppoolctl: import $tmp/nodn.ldif, line 1: an entry must start with dn:" "$(cat "$tmp/err")"
printf 'dn: uid=x\nchangetype: delete\n' > "$tmp/del.ldif"
h3 registry import --ldif "$tmp/del.ldif" 2>"$tmp/err"; check "changetype delete" 1 $?
check "still nothing" "" "$(h3 pool list 2>/dev/null)"
# A gecos with more fields (a directory may add them): the pool is the first.
printf 'dn: uid=apppool-web,ou=People,dc=x\nobjectClass: posixAccount\nuid: apppool-web\ngecos: IIS APPPOOL\\web,room 5\nuidNumber: %s\ngidNumber: %s\n' "$webuid" "$webuid" > "$tmp/fields.ldif"
h3 registry import --ldif "$tmp/fields.ldif"; check "gecos fields" 'APPPOOL "web" (ApplicationPoolIdentity, apppool-web, uid '"$webuid)" "$(h3 pool list)"
h3 registry import --ldif 2>/dev/null; check "usage" 2 $?
finish
