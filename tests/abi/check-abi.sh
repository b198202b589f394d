#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Compare the built library's ABI with the committed baseline (abidiff).
# Added symbols pass; any other change (a removed symbol, a changed parameter
# or return type) fails. To record a new baseline (a reviewed act, noted in
# CHANGELOG.md): check-abi.sh --update LIBRARY BASELINE SRC_INCLUDEDIR GENERATED_INCLUDEDIR
set -u
update=0
[ "${1:-}" = --update ] && { update=1; shift; }
lib=$1 baseline=$2 inc=$3 geninc=$4
if ! command -v abidiff >/dev/null; then
        echo "abidiff not found (Debian package abigail-tools)"
        [ -n "${CI:-}" ] && exit 1
        exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Types defined in our public headers or in the system headers they include
# (stdint.h) are public; types defined only in lib/ (the structs behind the
# opaque handles) are private and may change freely.
mkdir -p "$tmp/headers"
cp -r "$inc"/. "$geninc"/. "$tmp/headers/"
hdirs=(--headers-dir "$tmp/headers" --headers-dir /usr/include)
if [ $update -eq 1 ]; then
        abidw "${hdirs[@]}" --drop-private-types --no-show-locs --no-corpus-path --no-comp-dir-path \
                --out-file "$baseline" "$lib" && echo "baseline written to $baseline"
        exit $?
fi
# abidiff's status is a bit field: 1 error, 2 usage error, 4 ABI change, 8 incompatible change.
abidiff "${hdirs[@]/--headers-dir/--headers-dir2}" --no-added-syms "$baseline" "$lib"
rc=$?
if (( rc != 0 )); then
        echo "FAIL: the ABI differs from $baseline other than by added symbols (abidiff status $rc)"
        exit 1
fi
added=$(abidiff "${hdirs[@]/--headers-dir/--headers-dir2}" "$baseline" "$lib" | grep -c "^  \[A\]")
echo "ABI compatible with $baseline ($added symbols added since)"
exit 0
