#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build tests/launch/child32.c with lib/launch/child.c for i386 (-m32) and run
# it: see child32.c for what it proves. Skips (77) where -m32 cannot link
# (Debian: gcc-multilib) or the kernel cannot run i386 programs.
# Usage: child32.sh CC SOURCE_ROOT BUILD_INCLUDE_DIR
set -u
cc=$1 src=$2 inc=$3
dir=$(mktemp -d /tmp/apid-child32-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
if ! $cc -m32 -x c -o "$dir/probe" - <<'C' 2>/dev/null; then
int main(void) { return 0; }
C
        echo "SKIP: $cc -m32 cannot link (install gcc-multilib)"
        exit 77
fi
if ! "$dir/probe"; then
        echo "SKIP: this kernel does not run i386 programs"
        exit 77
fi
$cc -m32 -std=gnu11 -O1 -Wall -Werror -D_GNU_SOURCE -I"$src/include" -I"$inc" -I"$src/lib" -I"$src/lib/launch" \
        -o "$dir/child32" "$src/tests/launch/child32.c" "$src/lib/launch/child.c" || exit 1
chmod 755 "$dir" "$dir/child32"
"$dir/child32"
