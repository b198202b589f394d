#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# apppoolctl loads libldap only when registry publish runs (issue 17: every
# other command was paying ~1.2 ms CPU for libldap and its ten libraries),
# and says which library or symbol is missing when it cannot. No directory
# server: publish to an ldapi:// socket that does not exist gets as far as
# the bind, with every libldap call but the add/modify/search ones (the
# farm test does those against slapd). The broken installs are mounts in a
# private mount namespace (unshare -m), over the library's real path.
# Usage: test-ldap-load.sh APPPOOLCTL SONAME STUB_LIBRARY
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$(realpath "$1") soname=$2 stub=$(realpath "$3")
if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (unshare -m, mount --bind)"
        exit 77
fi
export APPPOOLID_STATE_DIR=$(mktemp -d /tmp/apid-ldapload-XXXXXX)
trap 'rm -rf "$APPPOOLID_STATE_DIR"' EXIT
"$ctl" pool add web >/dev/null || exit 1
nosock=ldapi://%2Fnonexistent%2Fapppoolid-test.sock

# Not a dependency of the program: nothing of the directory stack in
# DT_NEEDED, and a command other than publish maps none of it.
check "DT_NEEDED: no libldap, liblber, gnutls, sasl2" 0 \
        "$(readelf -d "$ctl" | grep NEEDED | grep -c 'libldap\|liblber\|libgnutls\|libsasl2')"
check "pool list maps no libldap" 0 "$(LD_DEBUG=files "$ctl" pool list 2>&1 >/dev/null | grep -c "file=$soname")"
check "usage errors load nothing" "0 2" \
        "$(out=$(LD_DEBUG=files "$ctl" registry publish http://x 2>&1); echo "$(grep -c "file=$soname" <<< "$out") $(
        "$ctl" registry publish http://x >/dev/null 2>&1; echo $?)")"

# publish loads it (where the loader finds the soname) and uses it: the bind
# fails as it did when apppoolctl linked libldap.
out=$(LD_DEBUG=files "$ctl" registry publish "$nosock" 2>&1); r=$?
lib=$(sed -n "s/.*calling init: \(\/.*\/$soname\)\$/\1/p" <<< "$out" | head -n 1)
check "publish loads $soname" 1 "$([ -f "$lib" ] && echo 1)"
check "publish without a server" "1
apppoolctl: registry publish $nosock: SASL EXTERNAL bind: Can't contact LDAP server" \
        "$(echo $r; grep '^apppoolctl:' <<< "$out")"

# libldap missing (a file that is not a library where it was): the soname
# and the loader's reason, exit 1, before anything is sent anywhere.
if [ -n "$lib" ]; then
        out=$(unshare -m bash -c 'mount --bind /dev/null "$1" && exec "$2" registry publish "$3"' _ \
                "$lib" "$ctl" "$nosock" 2>&1); r=$?
        check "libldap unloadable" "1
apppoolctl: registry publish: cannot load $soname (libldap, OpenLDAP's client library): $lib: file too short" \
                "$(echo $r; echo "$out")"
        # A library that lacks a function: named, with the loader's words.
        out=$(unshare -m bash -c 'mount --bind "$4" "$1" && exec "$2" registry publish "$3"' _ \
                "$lib" "$ctl" "$nosock" "$stub" 2>&1); r=$?
        check "a symbol missing" "1
apppoolctl: registry publish: $soname has no symbol ldap_first_entry: $lib: undefined symbol: ldap_first_entry" \
                "$(echo $r; echo "$out")"
        # Other commands do not care.
        check "pool list without libldap" web "$(unshare -m bash -c 'mount --bind /dev/null "$1" && exec "$2" pool list' _ \
                "$lib" "$ctl" 2>&1 | sed 's/^APPPOOL "\(.*\)" (.*$/\1/')"
fi
finish
