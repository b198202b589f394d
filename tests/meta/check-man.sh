#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The man pages are clean and apppoolctl(8) is complete.
#   1. groff -ww -z (every warning on) and mandoc -T lint print nothing for
#      any page. One mandoc warning is let through: "skipping paragraph macro",
#      which scdoc's output always gives (it opens a paragraph after every
#      heading); it changes nothing in the rendering.
#   2. every command that 'apppoolctl --help' lists has its own subsection in
#      apppoolctl(8), and every long option that 'apppoolctl COMMAND --help'
#      prints appears in the page.
# Usage: check-man.sh APPPOOLCTL PAGE...   (the generated pages; apppoolctl.8 among them)
set -u
apppoolctl=$1
shift
status=0
fail() { echo "FAIL: $*"; status=1; }

command -v groff >/dev/null || { echo "groff is missing (Debian: groff-base)"; exit 77; }
command -v mandoc >/dev/null || { echo "mandoc is missing (Debian: mandoc)"; exit 77; }

ctl_page=
for page in "$@"; do
        [ -s "$page" ] || { fail "$page is missing or empty"; continue; }
        out=$(groff -ww -z -man "$page" 2>&1) || fail "groff -ww failed on $page"
        [ -z "$out" ] || fail "groff -ww on $page: $out"
        out=$(mandoc -T lint -W warning "$page" 2>&1 | grep -v 'WARNING: skipping paragraph macro')
        [ -z "$out" ] || fail "mandoc -T lint on $page: $out"
        case $page in */apppoolctl.8) ctl_page=$page ;; esac
done
[ -n "$ctl_page" ] || { fail "apppoolctl.8 is not among the pages"; exit 1; }

# The page's text as a reader sees it, with its subsection headings.
text=$(MANWIDTH=200 mandoc -T utf8 "$ctl_page" | sed 's/.\x08//g')
sections=$(grep -E '^\.SS ' "$ctl_page" | sed -E 's/^\.SS "?([^"]*)"?$/\1/')
commands=$("$apppoolctl" --help | awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 }')
[ "$(echo "$commands" | wc -w)" -ge 10 ] || fail "apppoolctl --help lists too few commands: $commands"
checked=0
for c in $commands; do
        # A subsection may document several commands ("grant, deny, remove, reset").
        echo "$sections" | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -qx -- "$c" ||
                fail "apppoolctl $c has no subsection in apppoolctl(8)"
        for opt in $("$apppoolctl" "$c" --help 2>&1 | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
                grep -qF -- "$opt" <<< "$text" || fail "apppoolctl $c $opt is not in apppoolctl(8)"
                checked=$((checked + 1))
        done
done
[ $status -eq 0 ] && echo "$# pages clean (groff -ww, mandoc -T lint); apppoolctl(8) documents $(echo "$commands" | wc -w) commands and $checked options"
exit $status
