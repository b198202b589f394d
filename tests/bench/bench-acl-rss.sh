#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (not a test): peak RSS of a walk of 1,000,000 files (1000
# directories of 1000) for `grant -R` (first apply, then a re-apply) and
# `acl save -R`, from /usr/bin/time -v. Target (issue 16): under 64 MiB.
# Building the tree takes minutes; run it once.
# Usage: bench-acl-rss.sh BUILDDIR [DIRS] [FILES_PER_DIR] [WORKDIR]
set -eu
build=$(realpath "$1") dirs=${2:-1000} per=${3:-1000} work=${4:-/var/tmp}
ctl=$build/examples/apppoolctl
tmp=$(mktemp -d "$work/apid-bench-rss-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export APPPOOLID_STATE_DIR=$tmp/state
"$ctl" pool add bench >/dev/null
/usr/bin/python3 - "$tmp/t" "$dirs" "$per" <<'PY'
import os, sys
base, dirs, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(dirs):
    p = os.path.join(base, "d%04d" % d)
    os.makedirs(p)
    for f in range(per):
        os.close(os.open(os.path.join(p, "f%04d" % f), os.O_CREAT | os.O_WRONLY, 0o644))
PY
rss() { # label, command...
        local label=$1; shift
        /usr/bin/time -v -o "$tmp/time" "$@" > "$tmp/out" 2>&1 || { echo "$label: failed"; tail -3 "$tmp/out"; }
        printf '%-34s max RSS %7d KiB  %s s  [%s]\n' "$label" "$(awk '/Maximum resident/ {print $6}' "$tmp/time")" \
                "$(awk -F': ' '/Elapsed/ {print $2}' "$tmp/time")" "$(tail -1 "$tmp/out")"
}
echo "tree: $((dirs * per + dirs + 1)) paths"
rss "grant -R (first apply)" "$ctl" grant "$tmp/t" 'IIS AppPool\bench:(OI)(CI)RX' -R --quiet
rss "grant -R (re-apply)" "$ctl" grant "$tmp/t" 'IIS AppPool\bench:(OI)(CI)RX' -R --quiet
rss "acl save -R" "$ctl" acl save "$tmp/t" "$tmp/saved.acl" -R
rss "getfacl -R (reference)" sh -c "getfacl -R '$tmp/t' > '$tmp/getfacl.acl' 2>/dev/null; echo done"
