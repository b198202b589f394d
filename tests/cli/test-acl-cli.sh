#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# apppoolctl grant/deny/remove/reset and acl show/save/restore, checked with getfacl.
# Usage: test-acl-cli.sh APPPOOLCTL
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$(command -v "$1" || echo "$1"); [[ $ctl = /* ]] || ctl=$PWD/$ctl
tmp=$(mktemp -d /tmp/apid-aclcli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export APPPOOLID_STATE_DIR=$tmp/state
mkdir -p "$tmp/www/img" && echo hi > "$tmp/www/index.html" && echo x > "$tmp/www/img/a.png"
"$ctl" pool add DefaultAppPool >/dev/null
uid=$("$ctl" pool show --json DefaultAppPool | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')

# The seed's own example, icacls-style, recursive.
out=$("$ctl" grant "$tmp/www" 'IIS AppPool\DefaultAppPool:(OI)(CI)RX' -R)
check "grant summary" "Successfully processed 4 files (4 changed); Failed processing 0 files" "$(tail -1 <<< "$out")"
# IIS AppPool\X is the pool's group entry (gid == uid), whatever its identity type.
check "grant file" "group:$uid:r-x" "$(getfacl -cnp "$tmp/www/img/a.png" 2>/dev/null | grep "^group:$uid:")"
check "grant default" "default:group:$uid:r-x" "$(getfacl -cnp "$tmp/www/img" 2>/dev/null | grep "^default:group:$uid:")"
check "re-apply" "Successfully processed 4 files (0 changed); Failed processing 0 files" \
        "$("$ctl" grant "$tmp/www" 'IIS AppPool\DefaultAppPool:(OI)(CI)RX' -R)"

# JSON: one object per event, then a summary.
check "json summary" '{"summary":{"changed":0,"unchanged":4,"skipped":0,"failed":0,"approximated":0,"dryRun":false}}' \
        "$("$ctl" grant "$tmp/www" 'IIS AppPool\DefaultAppPool:(OI)(CI)RX' -R --json | tail -1)"
check "json approximated" '"approximated"' \
        "$("$ctl" grant "$tmp/www" 'IIS AppPool\DefaultAppPool:M' --json --dry-run | head -1 | grep -o '"approximated"')"

# Strict refuses what POSIX cannot express; nothing changes.
before=$(getfacl -R -n "$tmp/www" 2>/dev/null)
"$ctl" grant "$tmp/www" 'IIS AppPool\DefaultAppPool:F' --strict >/dev/null 2>"$tmp/err"; check "strict status" 1 $?
grep -q '(strict)' "$tmp/err"; check "strict message" 0 $?
"$ctl" grant "$tmp/www" 'IIS AppPool\DefaultAppPool:(OI)(CI' 2>"$tmp/err" >/dev/null; check "bad spec status" 1 $?
check "bad spec message" "apppoolctl: ACL spec 'IIS AppPool\\DefaultAppPool:(OI)(CI': a '(' without its ')' at character 32" "$(cat "$tmp/err")"
"$ctl" grant "$tmp/missing" 'IIS AppPool\DefaultAppPool:R' >/dev/null 2>&1; check "missing path" 1 $?
"$ctl" grant "$tmp/www" >/dev/null 2>&1; check "no spec" 2 $?
check "nothing changed" "$before" "$(getfacl -R -n "$tmp/www" 2>/dev/null)"

# save, remove, restore.
"$ctl" acl save "$tmp/www" "$tmp/saved.acl" -R; check "save" 0 $?
grep -q "^# file: ${tmp#/}/www/img/a.png$" "$tmp/saved.acl"; check "save format" 0 $?
"$ctl" remove "$tmp/www" 'IIS AppPool\DefaultAppPool' -R --quiet >/dev/null
check "removed" "" "$(getfacl -cnp "$tmp/www/index.html" 2>/dev/null | grep ":$uid:")"
"$ctl" acl restore "$tmp/saved.acl" --base /; check "restore" 0 $?
check "restored" "$before" "$(getfacl -R -n "$tmp/www" 2>/dev/null)"
check "acl show" "group:$uid:r-x" "$("$ctl" acl show "$tmp/www/index.html" | grep "^group:$uid:")"

# deny and reset.
"$ctl" deny "$tmp/www/index.html" 'IIS AppPool\DefaultAppPool:R' >/dev/null
check "deny" "user:$uid:--x group:$uid:--x" "$(getfacl -cnp "$tmp/www/index.html" 2>/dev/null | grep ":$uid:" | cut -f1 | paste -sd" ")"
"$ctl" reset "$tmp/www/img" -R >/dev/null; check "reset status" 0 $?
check "reset to parent default (as a new file: no x)" "group:$uid:r--" "$(getfacl -cnp "$tmp/www/img/a.png" 2>/dev/null | grep "^group:$uid:" | cut -f1)"

# Issue 10, item 10: a hard link a pool planted (fs.protected_hardlinks=0) in
# its own directory to a root-only file. The sysctl is global, not per
# namespace: root plants the link here, as the pool could with it at 0.
mkdir "$tmp/pooldir" && chown "$uid:$uid" "$tmp/pooldir" && echo mine > "$tmp/pooldir/own.txt"
chown "$uid:$uid" "$tmp/pooldir/own.txt"
echo secret > "$tmp/rootonly" && chmod 600 "$tmp/rootonly" && ln "$tmp/rootonly" "$tmp/pooldir/planted"
secret_before=$(getfacl -cnp "$tmp/rootonly" 2>/dev/null)
out=$("$ctl" grant "$tmp/pooldir" 'IIS AppPool\DefaultAppPool:(OI)(CI)RX' -R)
check "hard link skipped" "skipped: planted: hard link (2 links) owned by uid 0, not by the owner of the tree (uid $uid) and of its directory: left alone (--follow-hardlinks to edit it)" \
        "$(grep '^skipped:' <<< "$out")"
check "skipped counted" "Successfully processed 2 files (2 changed, 1 skipped); Failed processing 0 files" "$(tail -1 <<< "$out")"
check "root file untouched" "$secret_before" "$(getfacl -cnp "$tmp/rootonly" 2>/dev/null)"
check "own file granted" "group:$uid:r-x" "$(getfacl -cnp "$tmp/pooldir/own.txt" 2>/dev/null | grep "^group:$uid:")"
check "json skipped" '"skipped":1' "$("$ctl" grant "$tmp/pooldir" 'IIS AppPool\DefaultAppPool:RX' -R --json | tail -1 | grep -o '"skipped":1')"
"$ctl" remove "$tmp/pooldir" 'IIS AppPool\DefaultAppPool' -R --quiet >/dev/null
check "remove leaves it too" "$secret_before" "$(getfacl -cnp "$tmp/rootonly" 2>/dev/null)"
"$ctl" grant "$tmp/pooldir" 'IIS AppPool\DefaultAppPool:RX' -R --follow-hardlinks >/dev/null
check "followed when asked" "group:$uid:r-x" "$(getfacl -cnp "$tmp/rootonly" 2>/dev/null | grep "^group:$uid:")"

# A pool's link on the way: a real worker of the pool replaces a directory
# of its own tree with a link to a root-only tree holding an entry of the
# same name. The administrator's recursive grant below it used to follow the
# link (only the last component was not followed) and give the pool that
# tree; an ACL restore with its base there wrote the saved ACLs into it. Now
# both refuse a link on the way that is not root's; root's links still lead.
chmod 711 "$tmp"
mkdir -p "$tmp/victim/data" && echo secret > "$tmp/victim/data/key" && chmod 600 "$tmp/victim/data/key"
chmod 700 "$tmp/victim/data"
mkdir -p "$tmp/pooldir/app/data" && chown -R "$uid:$uid" "$tmp/pooldir/app"
"$ctl" run DefaultAppPool -- /bin/sh -c "cd $tmp/pooldir && mv app app.old && ln -s $tmp/victim app" </dev/null
check "the pool planted its link" "$tmp/victim" "$(readlink "$tmp/pooldir/app")"
victim_before=$(getfacl -R -cnp "$tmp/victim" 2>/dev/null)
"$ctl" grant "$tmp/pooldir/app/data" 'IIS AppPool\DefaultAppPool:(OI)(CI)RX' -R >/dev/null 2>"$tmp/err"
check "grant through the pool's link: refused" 1 $?
check "grant through the pool's link: says which link" "apppoolctl: ACL edit of $tmp/pooldir/app: symbolic link $tmp/pooldir/app is owned by uid $uid: a link on the way must belong to root, or its owner could point the path anywhere; name what it leads to instead" "$(cat "$tmp/err")"
printf '# file: data\nuser::rwx\ngroup::---\ngroup:%s:rwx\nmask::rwx\nother::---\n\n' "$uid" > "$tmp/planted.acl"
"$ctl" acl restore "$tmp/planted.acl" --base "$tmp/pooldir/app" >/dev/null 2>"$tmp/err"
check "restore based on the pool's link: refused" 1 $?
check "the tree behind the link untouched" "$victim_before" "$(getfacl -R -cnp "$tmp/victim" 2>/dev/null)"
ln -s "$tmp/victim" "$tmp/rootlink"
"$ctl" grant "$tmp/rootlink/data" 'IIS AppPool\DefaultAppPool:R' >/dev/null; check "root's own link is followed" 0 $?
check "... to what it names" "group:$uid:r--" "$(getfacl -cnp "$tmp/victim/data" 2>/dev/null | grep "^group:$uid:")"
(cd "$tmp/pooldir" && "$ctl" remove app.old/data 'IIS AppPool\DefaultAppPool' >/dev/null); check "a relative path still works" 0 $?

# Issue 16: conformance with getfacl/setfacl, checked by their own output, on
# a tree of hostile names and bits. getfacl writes '\\' for a backslash (our
# reader knew only \134) and '# flags:' lines (setfacl --restore clears the
# bits of a block without one, so our save must write them).
h=$tmp/hostile
mkdir -p "$h/t/d/sub"
long=$(printf 'L%.0s' {1..255})
for n in 'back\slash' "$(printf 'nl\nx')" "$(printf 'cr\rx')" "$(printf 'tab\tx')" ' lead space' 'trail space ' \
        '-lead' "$(printf 'bad\xff\xfe')" "$long" 'plain'; do
        echo x > "$h/t/$n"
done
echo x > "$h/t/d/sub/$(printf 'in\\\\dir\nz')"
chmod 4755 "$h/t/-lead"; chmod 2755 "$h/t/plain"; chmod 3775 "$h/t/d"; chmod 1777 "$h/t/d/sub"
setfacl -m u:4000123:rw,u:daemon:r,g:4000124:r,g:daemon:rw "$h/t/back\\slash" "$h/t/$long"
setfacl -m u:4000125:rx "$h/t/-lead" "$h/t/$(printf 'bad\xff\xfe')"
setfacl -d -m u:4000123:rx,g:daemon:r,u:daemon:rwx "$h/t/d"
setfacl -m u:4000126:rwx "$h/t/d/sub"
ref=$(cd "$h" && getfacl -R t 2>/dev/null; echo .)
check "getfacl escapes a backslash as \\\\" 1 "$(grep -c '^# file: t/back\\\\slash$' <<< "$ref")"
(cd "$h" && getfacl -R t > "$tmp/getfacl.acl" 2>/dev/null)
setfacl -R -b "$h/t"
check "wiped" 0 "$(cd "$h" && getfacl -R t 2>/dev/null | grep -c '4000123')"
"$ctl" acl restore "$tmp/getfacl.acl" --base "$h"; check "restore getfacl's output" 0 $?
check "getfacl -> restore -> getfacl" "$ref" "$(cd "$h" && getfacl -R t 2>/dev/null; echo .)"
(cd "$h" && "$ctl" acl save t "$tmp/ours.acl" -R); check "save hostile" 0 $?
setfacl -R -b "$h/t"
(cd "$h" && setfacl --restore="$tmp/ours.acl"); check "setfacl --restore reads our save" 0 $?
check "save -> setfacl --restore -> getfacl" "$ref" "$(cd "$h" && getfacl -R t 2>/dev/null; echo .)"
# Our restore applies neither owners nor flags (docs/acl.md): setuid is never
# set from a file.
chmod u-s "$h/t/-lead"; chown daemon "$h/t/plain"
"$ctl" acl restore "$tmp/getfacl.acl" --base "$h"; check "restore again" 0 $?
check "setuid not restored" "-rwxr-xr-x" "$(stat -c %A "$h/t/-lead")"
check "owner not restored" "daemon" "$(stat -c %U "$h/t/plain")"

# --max-depth: a directory below the limit is edited, not entered, and reported.
mkdir -p "$tmp/deep/a/b" && : > "$tmp/deep/a/b/f"
"$ctl" grant "$tmp/deep" 'IIS AppPool\DefaultAppPool:R' -R --max-depth 1 >/dev/null 2>"$tmp/err"; check "max-depth status" 1 $?
check "max-depth message" "apppoolctl: a/b: depth: nested deeper than the limit of 1 directory levels; not entered" \
        "$(cat "$tmp/err")"
check "max-depth: not entered" "" "$(getfacl -cnp "$tmp/deep/a/b/f" 2>/dev/null | grep "^group:$uid:")"
check "max-depth: edited" "group:$uid:r--" "$(getfacl -cnp "$tmp/deep/a/b" 2>/dev/null | grep "^group:$uid:")"
"$ctl" grant "$tmp/deep" 'IIS AppPool\DefaultAppPool:R' -R --max-depth 2 >/dev/null; check "max-depth 2" 0 $?
check "max-depth 2: entered" "group:$uid:r--" "$(getfacl -cnp "$tmp/deep/a/b/f" 2>/dev/null | grep "^group:$uid:")"
"$ctl" grant "$tmp/deep" 'IIS AppPool\DefaultAppPool:R' -R --max-depth x >/dev/null 2>&1; check "max-depth x" 2 $?
"$ctl" grant "$tmp/deep" 'IIS AppPool\DefaultAppPool:R' -R --max-depth 0 >/dev/null 2>&1; check "max-depth 0" 1 $?

# acl save/show --max-depth: a directory below the limit fails the save
# (a save never leaves part of the tree out) and the file stays as it was.
echo old > "$tmp/depth.acl"
"$ctl" acl save "$tmp/deep" "$tmp/depth.acl" -R --max-depth 1 2>"$tmp/err"; check "save max-depth 1" 1 $?
check "save max-depth message" "apppoolctl: ${tmp#/}/deep/a/b: depth: nested deeper than the limit of 1 directory levels; not entered" \
        "$(cat "$tmp/err")"
check "save max-depth: file kept" "old" "$(cat "$tmp/depth.acl")"
"$ctl" acl save "$tmp/deep" "$tmp/depth.acl" -R --max-depth 2; check "save max-depth 2" 0 $?
check "save max-depth 2: bottom saved" "# file: ${tmp#/}/deep/a/b/f" "$(grep '/deep/a/b/f$' "$tmp/depth.acl")"
"$ctl" acl show "$tmp/deep" -R --max-depth 1 >/dev/null 2>&1; check "show max-depth 1" 1 $?
check "show max-depth 2" "# file: ${tmp#/}/deep/a/b/f" "$("$ctl" acl show "$tmp/deep" -R --max-depth 2 | grep '/deep/a/b/f$')"
"$ctl" acl save "$tmp/deep" "$tmp/depth.acl" -R --max-depth x 2>/dev/null; check "save max-depth x" 2 $?
"$ctl" acl save "$tmp/deep" "$tmp/depth.acl" -R --max-depth 4097 2>"$tmp/err"; check "save max-depth 4097" 1 $?
check "save max-depth 4097 message" "apppoolctl: ACL walk depth 4097: not between 1 and 4096" "$(cat "$tmp/err")"
"$ctl" acl restore "$tmp/depth.acl" --max-depth 1 2>/dev/null; check "restore takes no max-depth" 2 $?

finish
