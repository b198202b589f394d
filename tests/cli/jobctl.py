# SPDX-License-Identifier: LGPL-2.1-or-later
"""^Z in `apppoolctl run` on a terminal, as an administrator's shell sees it.

A pty stands for the administrator's terminal; a small job-control "shell"
(the session leader on it) runs `apppoolctl run POOL -- sh -c ...` as a
foreground job. ^Z typed on the terminal must stop the job (run, not only the
worker behind it) so that the shell gets the terminal back; `fg` (terminal
to the job, SIGCONT) must resume it, and the worker then reads what is typed
and exits with its status. Prints the transcript; exit status 0 when all of
that happened, 1 otherwise (a job that never stops is reported after 10 s).
Usage: jobctl.py APPPOOLCTL POOL"""
import os
import pty
import select
import signal
import sys
import time

ctl, pool = sys.argv[1], sys.argv[2]
WORKER = 'echo ready; read line; echo "got $line"; exit 5'

pid, master = pty.fork()
if pid == 0:
    # The shell: ignores the job-control signals as shells do.
    for sig in (signal.SIGTTOU, signal.SIGTTIN, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)
        os.tcsetpgrp(0, os.getpgrp())
        for sig in (signal.SIGTTOU, signal.SIGTTIN, signal.SIGTSTP):
            signal.signal(sig, signal.SIG_DFL)
        os.execv(ctl, [ctl, 'run', pool, '--', '/bin/sh', '-c', WORKER])
    # As a shell does, in both processes: whichever runs first makes the
    # group. Once the child has exec'd, the kernel refuses the parent's
    # setpgid (EACCES): the child's own call has done it by then.
    try:
        os.setpgid(job, job)
    except PermissionError:
        pass
    os.tcsetpgrp(0, job)
    _, st = os.waitpid(job, os.WUNTRACED)
    if not os.WIFSTOPPED(st):
        print('shell: job ended before it stopped (%#x)' % st, flush=True)
        os._exit(1)
    os.tcsetpgrp(0, os.getpgrp())
    print('shell: job stopped by signal %d' % os.WSTOPSIG(st), flush=True)
    # fg
    os.tcsetpgrp(0, job)
    os.killpg(job, signal.SIGCONT)
    print('shell: fg', flush=True)
    _, st = os.waitpid(job, os.WUNTRACED)
    os.tcsetpgrp(0, os.getpgrp())
    print('shell: job status %s' % (os.WEXITSTATUS(st) if os.WIFEXITED(st) else 'not exited %#x' % st), flush=True)
    os._exit(0)

seen = b''


def wait_for(text, timeout=10.0):
    global seen
    end = time.monotonic() + timeout
    while text not in seen:
        left = end - time.monotonic()
        if left <= 0 or not select.select([master], [], [], left)[0]:
            return False
        try:
            data = os.read(master, 4096)
        except OSError:
            return False
        if not data:
            return False
        seen += data
    return True


ok = wait_for(b'ready')
if ok:
    os.write(master, b'\x1a')   # ^Z
    ok = wait_for(b'shell: job stopped by signal %d' % signal.SIGTSTP) and wait_for(b'shell: fg')
if ok:
    os.write(master, b'hello\r')
    ok = wait_for(b'got hello') and wait_for(b'shell: job status 5')
if not ok:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
sys.stdout.write(seen.decode(errors='replace').replace('\r', ''))
os.waitpid(pid, 0)
sys.exit(0 if ok else 1)
