#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install the build into a scratch root, then build a program outside the tree
# against the installed header with pkg-config, as a user would, and run it.
# Usage: check-install.sh BUILDDIR PROGRAM.c
set -eu
build=$1 program=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

meson install -C "$build" --no-rebuild --destdir "$root" --quiet >/dev/null
pc=$(find "$root" -name apppoolid.pc)
[ -n "$pc" ] || { echo "FAIL: apppoolid.pc was not installed"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
for f in "$libdir/libapppoolid.so.1" "$libdir/libapppoolid.so"; do
        [ -e "$f" ] || { echo "FAIL: $f was not installed"; exit 1; }
done
[ -n "$(find "$root" -path '*/include/apppoolid.h')" ] || { echo "FAIL: apppoolid.h was not installed"; exit 1; }
[ -n "$(find "$root" -path '*/include/apppoolid/version.h')" ] || { echo "FAIL: version.h was not installed"; exit 1; }
[ -n "$(find "$root" -path '*/bin/apppoolctl')" ] || { echo "FAIL: apppoolctl was not installed"; exit 1; }
# What else README.md says an install gives: the unit, the completion, and
# the man pages when scdoc built them.
unitdir=$(/usr/bin/python3 -c 'import json, sys; print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"] == "systemdsystemunitdir"))' \
        "$build/meson-info/intro-buildoptions.json")
if [ "$unitdir" != no ]; then
        [ -n "$(find "$root" -name apppool-host.service)" ] || { echo "FAIL: apppool-host.service was not installed"; exit 1; }
fi
[ -n "$(find "$root" -path '*/bash-completion/completions/apppoolctl')" ] || { echo "FAIL: the bash completion was not installed"; exit 1; }
if [ -e "$build/man/apppoolctl.8" ]; then
        for page in man8/apppoolctl.8 man8/apppool-host.8 man5/apppool-host.ini.5 man8/nss-apppoolid.8 man3/libapppoolid.3; do
                [ -n "$(find "$root" -path "*/man/$page")" ] || { echo "FAIL: $page was not installed"; exit 1; }
        done
fi
soname=$(objdump -p "$libdir/libapppoolid.so.1" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = libapppoolid.so.1 ] || { echo "FAIL: SONAME is '$soname'"; exit 1; }

cp "$program" "$root/hello.c"
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$root
flags=$(pkg-config --cflags --libs apppoolid)
cc -std=c99 -Wall -Wextra -Werror "$root/hello.c" $flags -o "$root/hello"
out=$(LD_LIBRARY_PATH=$libdir "$root/hello" DefaultAppPool)
expect='IIS APPPOOL\DefaultAppPool S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415'
[ "$out" = "$expect" ] || { echo "FAIL: printed '$out'"; exit 1; }
echo "installed SONAME $soname; built $(basename "$program") with: pkg-config --cflags --libs apppoolid -> $flags"
echo "it printed: $out"
