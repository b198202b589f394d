#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run bench-lookup in a private mount namespace: /var/lib is a fresh tmpfs
# (the registry), /etc/nsswitch.conf names apppoolid, and /etc/passwd gets the
# same number of static accounts for the comparison. Nothing on the system changes.
# Usage: run-bench-lookup.sh BUILDDIR [POOLS] [ITERATIONS]
set -eu
build=$(realpath "$1") pools=${2:-1000} iterations=${3:-20000}
[ "$(id -u)" = 0 ] || { echo "needs root (a mount namespace)"; exit 1; }
exec unshare --mount --propagation private bash -s "$build" "$pools" "$iterations" <<'INNER'
set -eu
build=$1 pools=$2 iterations=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mount -t tmpfs tmpfs /var/lib
sed -E 's/^(passwd|group):(.*)$/\1:\2 apppoolid/' /etc/nsswitch.conf > "$tmp/nsswitch.conf"
mount --bind "$tmp/nsswitch.conf" /etc/nsswitch.conf
cp /etc/passwd "$tmp/passwd"
for i in $(seq 0 $((pools - 1))); do echo "static$i:x:$((3000000 + i)):$((3000000 + i))::/:/usr/sbin/nologin"; done >> "$tmp/passwd"
mount --bind "$tmp/passwd" /etc/passwd
unset APPPOOLID_STATE_DIR
export LD_LIBRARY_PATH=$build/lib
names=()
for i in $(seq 0 $((pools - 1))); do names+=("Pool$i"); done
printf '%s\n' "${names[@]}" | xargs -n 200 "$build/examples/apppoolctl" pool add >/dev/null
"$build/tests/bench/bench-lookup" "$pools" "$iterations"
"$build/tests/bench/bench-snapshot" /var/lib/apppoolid/nss-snapshot 2000000
INNER
