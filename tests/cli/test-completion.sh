#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The bash completion of apppoolctl, through bash itself: source the file (with
# bash-completion's library when it is installed, as an interactive shell
# would have it), set COMP_WORDS and COMP_CWORD as readline does, call the
# function and read COMPREPLY. Pool names come from a scratch registry with
# real pools, and follow it when a pool is deleted.
# Usage: test-completion.sh APPPOOLCTL COMPLETION_FILE
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$(realpath "$1") file=$2
export APPPOOLID_STATE_DIR
APPPOOLID_STATE_DIR=$(mktemp -d)
trap 'rm -rf "$APPPOOLID_STATE_DIR"' EXIT
# 'apppoolctl' as a user types it: the built one first in PATH.
bindir=$(mktemp -d -p "$APPPOOLID_STATE_DIR")
ln -s "$ctl" "$bindir/apppoolctl"
export PATH=$bindir:$PATH

# Twice: with bash-completion's library, and (APID_BARE=1) without it, as in
# a shell that sources the file alone.
if [ -z "${APID_BARE:-}" ] && [ -r /usr/share/bash-completion/bash_completion ]; then
        . /usr/share/bash-completion/bash_completion
fi
. "$file"
check "the function is registered for apppoolctl" "complete -F _apppoolctl apppoolctl" "$(complete -p apppoolctl)"

comp() { # comp WORD...: complete the last word; prints COMPREPLY, sorted, one a line
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _apppoolctl apppoolctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
        printf '%s\n' "${COMPREPLY[@]}" | sort -u | sed '/^$/d'
}
lines() { printf '%s\n' "$@"; }

apppoolctl pool add Blog Bingo 'Default App' > /dev/null || { echo "FAIL: pool add"; exit 1; }

commands=$(apppoolctl --help | awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 }' | sort)
check "every command of --help" "$commands" "$(comp apppoolctl '' | grep -v '^-')"
check "a command from its start" "pool" "$(comp apppoolctl po)"
check "pool verbs" "$(lines add delete list set show)" "$(comp apppoolctl pool '')"
check "pool show: the registry's pools" "$(lines Bingo Blog)" "$(comp apppoolctl pool show B)"
check "a name with a space is quoted" 'Default\ App' "$(comp apppoolctl pool delete D)"
check "run: the pool first" "Blog" "$(comp apppoolctl run Blo)"
check "token show: a pool" "$(lines Bingo Blog)" "$(comp apppoolctl token show B)"
check "grant options" "$(lines --continue --dry-run)" "$(comp apppoolctl grant /srv --c; comp apppoolctl grant /srv --dr)"
check "grant --journal" "--journal" "$(comp apppoolctl grant /srv --jo)"
check "run options" "$(lines --no-seccomp --no-shared-group)" "$(comp apppoolctl run Blog --no)"
check "--cap: capability names" "net_bind_service" "$(comp apppoolctl run Blog --cap net_bind)"
check "after --: a program" "mktemp" "$(comp apppoolctl run Blog -- mktem)"
check "registry settings" "$(lines idRangeSize idRangeStart)" "$(comp apppoolctl registry get idR)"
check "grant: a pool's trustee" "$(lines 'IIS\ AppPool\\Bingo:' 'IIS\ AppPool\\Blog:')" \
        "$(comp apppoolctl grant /srv 'IIS AppPool\B')"
mkdir "$APPPOOLID_STATE_DIR/www"
check "grant: the path is a file name" "$APPPOOLID_STATE_DIR/www" "$(comp apppoolctl grant "$APPPOOLID_STATE_DIR/ww")"
check "--journal: a file name" "$APPPOOLID_STATE_DIR/www" "$(comp apppoolctl grant /srv --journal "$APPPOOLID_STATE_DIR/ww")"

# The names follow the registry.
apppoolctl pool delete Bingo --remove-profile > /dev/null
check "a deleted pool is gone" "Blog" "$(comp apppoolctl pool show B)"
if [ -z "${APID_BARE:-}" ]; then
        out=$(APID_BARE=1 bash "$0" "$1" "$2")
        check "the same without bash-completion's library" "0" "$?" || true
        case $out in *" 0 failed") ;; *) echo "$out" | sed 's/^/without bash-completion: /' ;; esac
fi
finish
