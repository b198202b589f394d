/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The child side of a launch: what runs between clone() and execve(). It
 * shares memory with the parent (CLONE_VM | CLONE_VFORK) and may run in a
 * process whose other threads hold locks, so it is async-signal-safe: raw
 * system calls only (glibc's set*id wrappers broadcast to all threads and
 * take locks), no malloc, no stdio. apid_token_apply_self() runs the same
 * steps in the calling process. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launch-internal.h"

/* The kernel's struct sigaction and sigset size below are those of x86-64,
 * arm64, riscv and the other architectures with the generic layout. */
#if defined(__mips__) || defined(__alpha__) || defined(__sparc__) || defined(__hppa__)
#error "launch-child.c: this architecture's kernel sigaction layout is not handled"
#endif

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE 2
#endif

static int failed(struct apid__plan *p, int step, int arg)
{
        p->failed_errno = errno;
        p->failed_arg = arg;
        p->failed_step = step;
        return -1;
}

static int set_fds(struct apid__plan *p)
{
        int tmp[APID__MAX_FDS], i, fd;

        /* Duplicate every source above every target first, so that no dup3()
         * overwrites a source still to be read; then put each in place. */
        for (i = 0; i < p->n_fds; i++) {
                tmp[i] = (int)syscall(SYS_fcntl, p->fds[i].src, F_DUPFD_CLOEXEC, p->max_dst + 1);
                if (tmp[i] < 0)
                        return failed(p, APID__STEP_FDS, p->fds[i].src);
        }
        for (i = 0; i < p->n_fds; i++)
                if (syscall(SYS_dup3, tmp[i], p->fds[i].dst, 0) < 0)
                        return failed(p, APID__STEP_FDS, p->fds[i].dst);
        /* Close everything else: above the targets in one call, and the gaps. */
        if (syscall(SYS_close_range, (unsigned)p->max_dst + 1, ~0U, 0) < 0)
                return failed(p, APID__STEP_FDS, -1);
        for (fd = 0; fd <= p->max_dst; fd++) {
                int wanted = 0;

                for (i = 0; i < p->n_fds; i++)
                        wanted |= p->fds[i].dst == fd;
                if (!wanted)
                        syscall(SYS_close, fd);
        }
        return 0;
}

static int drop_caps(struct apid__plan *p)
{
        struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct data[2];
        int c;

        memset(data, 0, sizeof(data));
        data[0].effective = data[0].permitted = data[0].inheritable = (uint32_t)p->keep_caps;
        data[1].effective = data[1].permitted = data[1].inheritable = (uint32_t)(p->keep_caps >> 32);
        if (syscall(SYS_capset, &hdr, data) < 0)
                return failed(p, APID__STEP_CAPSET, -1);
        if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return failed(p, APID__STEP_AMBIENT, -1);
        for (c = 0; c <= p->last_cap; c++)
                if ((p->keep_caps >> c) & 1)
                        if (syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
                                return failed(p, APID__STEP_AMBIENT, c);
        /* KEEP_CAPS was only for the uid change (execve would clear it; a
         * process applying a token to itself has no execve). */
        if (p->keep_caps && syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return failed(p, APID__STEP_SECUREBITS, -1);
        return 0;
}

int apid__child_steps(struct apid__plan *p, int exec, int fds_and_session)
{
        const struct apid_token *t = p->token;
        unsigned long bits;
        sigset_t empty;
        int i, sig;

        if (fds_and_session) {
                /* Default dispositions: a parent that ignores SIGPIPE must not
                 * pass that on (execve keeps SIG_IGN). */
                for (sig = 1; sig < NSIG; sig++) {
                        /* The kernel's struct sigaction; SIG_DFL needs no restorer. */
                        struct {
                                void (*handler)(int);
                                unsigned long flags;
                                void (*restorer)(void);
                                uint64_t mask;
                        } sa = { SIG_DFL, 0, NULL, 0 };

                        if (sig != SIGKILL && sig != SIGSTOP)
                                syscall(SYS_rt_sigaction, sig, &sa, NULL, sizeof(sa.mask));
                }
                if (p->new_session && syscall(SYS_setsid) < 0)
                        return failed(p, APID__STEP_SETSID, -1);
                if (set_fds(p) < 0)
                        return -1;
        }
        for (i = 0; i < t->n_rlimits; i++) {
                struct rlimit64 { uint64_t cur, max; } rl = { t->rlimits[i].soft, t->rlimits[i].hard };

                if (syscall(SYS_prlimit64, 0, t->rlimits[i].resource, &rl, NULL) < 0)
                        return failed(p, APID__STEP_RLIMIT, t->rlimits[i].resource);
        }
        /* Groups, then gid, while still root (CERT POS36-C). */
        if (syscall(SYS_setgroups, (size_t)p->n_groups, p->groups) < 0)
                return failed(p, APID__STEP_SETGROUPS, p->n_groups);
        if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
                return failed(p, APID__STEP_SETRESGID, (int)p->gid);
        /* The bounding set and securebits need CAP_SETPCAP: before the uid. */
        for (i = 0; i <= p->last_cap; i++)
                if (!((p->keep_caps >> i) & 1) && syscall(SYS_prctl, PR_CAPBSET_DROP, i, 0, 0, 0) < 0)
                        return failed(p, APID__STEP_BOUNDING, i);
        bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED;
        if (p->keep_caps)
                bits |= SECBIT_KEEP_CAPS; /* cleared by execve; the ambient set carries the caps */
        else
                bits |= SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
        if (syscall(SYS_prctl, PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
                return failed(p, APID__STEP_SECUREBITS, (int)bits);
        if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
                return failed(p, APID__STEP_SETRESUID, (int)p->uid);
        if (drop_caps(p) < 0)
                return -1;
        if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return failed(p, APID__STEP_NO_NEW_PRIVS, -1);
        if (p->cwd && syscall(SYS_chdir, p->cwd) < 0)
                return failed(p, APID__STEP_CHDIR, -1);
        syscall(SYS_umask, t->umask);
        /* After the credential change, which clears the parent-death signal. */
        if (p->pdeathsig) {
                if (syscall(SYS_prctl, PR_SET_PDEATHSIG, p->pdeathsig, 0, 0, 0) < 0)
                        return failed(p, APID__STEP_PDEATHSIG, p->pdeathsig);
                if (syscall(SYS_getppid) != p->parent) {
                        errno = ESRCH;
                        return failed(p, APID__STEP_PARENT_GONE, -1);
                }
        }
        /* Last, so the filter need not allow any of the above. */
        if (t->seccomp && t->bpf) {
                struct sock_fprog prog = { (unsigned short)t->bpf_len, t->bpf };

                if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                        return failed(p, APID__STEP_SECCOMP, -1);
        }
        if (!exec)
                return 0;
        sigemptyset(&empty);
        if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, sizeof(unsigned long)) < 0)
                return failed(p, APID__STEP_SIGMASK, -1);
        syscall(SYS_execve, p->path, p->argv, p->envp);
        return failed(p, APID__STEP_EXECVE, -1);
}
