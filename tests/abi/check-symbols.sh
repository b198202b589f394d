#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The version script, the APID_EXPORT declarations in include/ and the dynamic
# symbols of the built library must name the same set, and every exported
# symbol must carry a version node (objdump -T).
# Usage: check-symbols.sh LIBRARY SYMFILE INCLUDEDIR [GENERATED_INCLUDEDIR]
set -eu
lib=$1 sym=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sed -e 's|/\*.*\*/||g' "$sym" | grep -oE '^\s*apid_[a-z0-9_]+;' | tr -d ' \t;' | sort > "$tmp/script"
cat $(find "$@" -name '*.h') | perl -0777 -pe 's{/\*.*?\*/}{}gs' | tr '\n' ' ' | sed 's/;/;\n/g' | grep 'APID_EXPORT' |
        grep -oE 'apid_[a-z0-9_]+\s*\(' | tr -d ' (' | sort -u > "$tmp/headers"
nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | grep -v '^APPPOOLID_' | sort -u > "$tmp/library"

status=0
if ! diff -u --label 'version script' --label 'headers (APID_EXPORT)' "$tmp/script" "$tmp/headers"; then
        echo "FAIL: the version script and the headers disagree"; status=1
fi
if ! diff -u --label 'version script' --label "exported by $lib" "$tmp/script" "$tmp/library"; then
        echo "FAIL: the version script and the library's dynamic symbols disagree"; status=1
fi
unversioned=$(objdump -T "$lib" | awk '$NF ~ /^apid_/ && $(NF-1) !~ /^APPPOOLID_[0-9]+\.[0-9]+$/ {print $NF}')
if [ -n "$unversioned" ]; then
        echo "FAIL: exported without a version node: $unversioned"; status=1
fi
echo "$(wc -l < "$tmp/script") symbols, every one in the version script, the headers and the library with a version node"
exit $status
