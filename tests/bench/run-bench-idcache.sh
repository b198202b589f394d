#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# In-process lookups with POOLS pools, cache against SQLite (bench-idcache),
# on a private state directory in /dev/shm (removed after).
# Usage: run-bench-idcache.sh BUILDDIR [POOLS] [ITERATIONS] [THREADS]
set -eu
build=$(realpath "$1") pools=${2:-10000} iterations=${3:-2000000} threads=${4:-8}
dir=$(mktemp -d -p /dev/shm apid-bench-idcache-XXXXXX)
trap 'rm -rf "$dir" "$dir.import"' EXIT
"$build/tests/bench/bench-idcache" "$dir" "$pools" "$iterations" "$threads"
