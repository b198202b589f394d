#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# apppoolctl run and token show. Needs root (skips otherwise).
# Usage: test-run-cli.sh APPPOOLCTL
set -u
. "$(dirname "$0")/testlib.sh"
ctl=$(readlink -f "$1")
[ "$(id -u)" = 0 ] || { echo "SKIP: run needs root"; exit 77; }
tmp=$(mktemp -d /tmp/apid-runcli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export APPPOOLID_STATE_DIR=$tmp/state
"$ctl" pool add web >/dev/null
uid=$("$ctl" pool show --json web | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
check "run id" "uid=$uid gid=$uid groups=$uid" "$("$ctl" run web -- id)"
"$ctl" run web -- sh -c 'exit 7'; check "exit status passed through" 7 $?
"$ctl" run web -- sh -c 'kill -TERM $$'; check "signal passed through" 143 $?
check "step error" "apppoolctl: execve(/nonexistent): No such file or directory" "$("$ctl" run web -- /nonexistent 2>&1)"
# Without a terminal run becomes the worker (exec in place): a step that
# fails after the first has begun exits 127, as env(1) does.
"$ctl" run web -- /nonexistent 2>/dev/null; check "step error status (exec in place)" 127 $?
# A process group leader (a shell's job) cannot setsid(): run launches and waits.
check "step error (launch and wait)" "apppoolctl: execve(/nonexistent): No such file or directory" \
        "$(setsid -w "$ctl" run web -- /nonexistent 2>&1)"
setsid -w "$ctl" run web -- /nonexistent 2>/dev/null; check "step error status (launch and wait)" 1 $?
setsid -w "$ctl" run web -- sh -c 'exit 7'; check "exit status passed through (launch and wait)" 7 $?
check "run id (launch and wait)" "uid=$uid gid=$uid groups=$uid" "$(setsid -w "$ctl" run web -- id)"
"$ctl" run web -- sh -c 'echo $$' >"$tmp/worker-pid" &
run_pid=$!
wait $run_pid
check "exec in place: the worker is run's process" "$run_pid" "$(cat "$tmp/worker-pid")"
check "chdir error" "apppoolctl: chdir(/root): Permission denied" "$("$ctl" run web --cwd /root -- true 2>&1)"
check "kept cap" "CapAmb:	0000000000000400" "$("$ctl" run web --cap net_bind_service -- grep CapAmb /proc/self/status)"
check "no caps" "CapEff:	0000000000000000" "$("$ctl" run web -- grep CapEff /proc/self/status)"
check "env" "FOO=bar" "$("$ctl" run web --env FOO=bar -- env | grep FOO)"
check "clean env" "" "$(SECRET=1 "$ctl" run web -- env | grep SECRET)"
"$ctl" run web --cap cap_fly -- true 2>/dev/null; check "bad cap" 1 $?
"$ctl" run nosuch -- true 2>/dev/null; check "no pool" 1 $?
"$ctl" run web 2>/dev/null; check "no program" 2 $?
"$ctl" token show web | grep -q '^no_new_privs: yes$'; check "token show" 0 $?
"$ctl" token show web | grep -q "^uid: $uid$"; check "token show uid" 0 $?
"$ctl" token show web | grep -q '^seccomp: allow-list; a system call not on it fails with ENOSYS'; check "token show allow-list" 0 $?
"$ctl" token show web | grep -q '^seccomp allow @network-io: accept accept4 bind connect'; check "token show groups" 0 $?
check "no filter" "seccomp: off" "$("$ctl" token show web --no-seccomp | grep '^seccomp')"
# The working directory: never the caller's.
check "cwd is not the caller's" "/" "$(cd "$tmp" && "$ctl" run web -- pwd)"
# Resource limits of a default token, shown by token show.
"$ctl" token show web | grep -q '^rlimit RLIMIT_NPROC: 4096 soft, 4096 hard$'; check "token show rlimit" 0 $?
check "worker rlimit" "4096" "$("$ctl" run web -- sh -c 'ulimit -p')"
# --env-file: values reach the worker, not the command line every pool can read.
printf '# a comment\n\nFOO=bar baz\nSECRET_PW=hunter2=x\n' >"$tmp/env"
check "env-file" "bar baz|hunter2=x" "$("$ctl" run web --env-file "$tmp/env" -- sh -c 'echo "$FOO|$SECRET_PW"')"
check "env-file keeps the secret off the command line" "" \
        "$("$ctl" run web --env-file "$tmp/env" -- sh -c 'tr "\0" " " </proc/$PPID/cmdline' | grep -o hunter2)"
check "--env puts it there while run runs (documented)" "hunter2" \
        "$(setsid -w "$ctl" run web --env SECRET_PW=hunter2 -- sh -c 'tr "\0" " " </proc/$PPID/cmdline' | grep -o hunter2)"
check "--env: gone from the command line once run is the worker" "" \
        "$("$ctl" run web --env SECRET_PW=hunter2 -- sh -c 'tr "\0" " " </proc/$$/cmdline' | grep -o hunter2)"
printf 'GOOD=1\nno equals sign\n' >"$tmp/bad1"
check "env-file bad line" "apppoolctl: run: $tmp/bad1:2: 'no equals sign': expected NAME=VALUE" \
        "$("$ctl" run web --env-file "$tmp/bad1" -- true 2>&1 | head -1)"
printf '1BAD=x\n' >"$tmp/bad2"
check "env-file bad name" "apppoolctl: run: $tmp/bad2:1: '1BAD': a name is letters, digits and _, not starting with a digit" \
        "$("$ctl" run web --env-file "$tmp/bad2" -- true 2>&1 | head -1)"
"$ctl" run web --env-file "$tmp/nonexistent" -- true 2>/dev/null; check "env-file missing" 2 $?
# A terminal: the worker gets a pty of run's own (not run's), as its
# controlling terminal; the exit status comes back through it.
if command -v script >/dev/null; then
        out=$(script -qec "tty; \"$ctl\" run web -- sh -c 'tty; test -t 0 && echo in-tty; (: </dev/tty) && echo ctty; exit 3'" /dev/null </dev/null | tr -d '\r\000\004')
        outer=$(printf '%s\n' "$out" | sed -n 1p)
        # (script may echo its end of input as "^@" or "^D" before a line)
        inner=$(printf '%s\n' "$out" | grep -o '/dev/pts/[0-9]*' | sed -n 2p)
        case "$inner" in /dev/pts/*) ok=1 ;; *) ok=0 ;; esac
        [ "$inner" != "$outer" ] || ok=0
        check "run's own pty for the worker ($outer, $inner)" 1 $ok
        check "tty and controlling tty" "in-tty ctty" "$(printf '%s\n' "$out" | grep -oE '(in-tty|ctty)$' | tr '\n' ' ' | sed 's/ $//')"
        script -qec "\"$ctl\" run web -- sh -c 'exit 3'" /dev/null </dev/null >/dev/null; check "status through the pty" 3 $?
fi
# ^Z on the terminal stops the job (run with its worker), fg resumes it.
out=$(/usr/bin/python3 "$(dirname "$0")/jobctl.py" "$ctl" web 2>&1); r=$?
[ $r = 0 ] || printf '%s\n' "$out"
check "^Z stops run and its worker; fg resumes both" 0 $r
finish
