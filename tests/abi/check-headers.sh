#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The public headers compile cleanly as C99 -pedantic, as gnu89 and as C++.
# Usage: check-headers.sh SRC_INCLUDEDIR GENERATED_INCLUDEDIR
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <apppoolid.h>\nint main(void) { return apid_version_number() == 0; }\n' > "$tmp/t.c"
cp "$tmp/t.c" "$tmp/t.cc"
status=0
for std in c99 c11 gnu89; do
        if ! cc -std=$std -pedantic -Wall -Wextra -Werror -I"$1" -I"$2" -c "$tmp/t.c" -o "$tmp/t.o"; then
                echo "FAIL: headers do not compile as $std"; status=1
        fi
done
if command -v c++ >/dev/null; then
        if ! c++ -std=c++11 -pedantic -Wall -Wextra -Werror -I"$1" -I"$2" -c "$tmp/t.cc" -o "$tmp/t.o"; then
                echo "FAIL: headers do not compile as C++"; status=1
        fi
else
        echo "FAIL: no C++ compiler (install g++)"; status=1
fi
[ $status -eq 0 ] && echo "headers compile as c99, c11, gnu89 (all -pedantic -Werror) and C++11"
exit $status
