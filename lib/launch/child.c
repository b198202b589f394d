/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The child side of a launch: what runs between clone() and execve(). It
 * shares memory with the parent (CLONE_VM, while the parent waits for its
 * execve or exit; see launch.c) and may run in a process whose other threads
 * hold locks, so it is async-signal-safe: raw system calls only (glibc's
 * set*id wrappers broadcast to all threads and take locks), no malloc, no
 * stdio, no libc function a sanitizer intercepts. apid_token_apply_self()
 * runs the same steps in the calling process, and apid_launch_exec() runs
 * them there up to its execve. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launch-internal.h"
#include "launch-timing.h"

/* The kernel's struct sigaction and sigset size below are those of x86-64,
 * arm64, riscv and the other architectures with the generic layout. */
#if defined(__mips__) || defined(__alpha__) || defined(__sparc__) || defined(__hppa__)
#error "launch-child.c: this architecture's kernel sigaction layout is not handled"
#endif

/* 32-bit uids, gids and groups. On i386 and 32-bit Arm, SYS_setresuid and
 * friends are the old calls with 16-bit ids: a pool's uid (above 65535)
 * would lose its high bits and the worker would run as another user
 * (tests/launch/child32.c). The *32 calls exist exactly there. */
#ifdef SYS_setresuid32
#define SYS_SETRESUID SYS_setresuid32
#define SYS_SETRESGID SYS_setresgid32
#define SYS_SETGROUPS SYS_setgroups32
#else
#define SYS_SETRESUID SYS_setresuid
#define SYS_SETRESGID SYS_setresgid
#define SYS_SETGROUPS SYS_setgroups
#endif

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE 2
#endif

/* The child runs beside its parent thread in the same memory: keep the
 * sanitizers' per-thread state (which it would share) out of it. */
#if defined(__GNUC__) && (__GNUC__ >= 8 || defined(__clang__))
#define CHILD_CODE __attribute__((no_sanitize("address", "undefined")))
#else
#define CHILD_CODE
#endif

CHILD_CODE static int failed(struct apid__plan *p, int step, int arg)
{
        p->failed_errno = errno;
        p->failed_arg = arg;
        p->failed_step = step;
        return -1;
}

CHILD_CODE static int set_fds(struct apid__plan *p)
{
        int tmp[APID__MAX_FDS], i, fd;

        /* Every source above every target first, so that no dup3()
         * overwrites a source still to be read; then put each in place. A
         * descriptor already in place (stdio, usually) only loses its
         * close-on-exec flag: no other target is its number. */
        for (i = 0; i < p->n_fds; i++) {
                if (p->fds[i].src == p->fds[i].dst)
                        continue;
                tmp[i] = (int)syscall(SYS_fcntl, p->fds[i].src, F_DUPFD_CLOEXEC, p->max_dst + 1);
                if (tmp[i] < 0)
                        return failed(p, APID__STEP_FDS, p->fds[i].src);
        }
        for (i = 0; i < p->n_fds; i++)
                if (p->fds[i].src == p->fds[i].dst ? syscall(SYS_fcntl, p->fds[i].dst, F_SETFD, 0) < 0
                                                   : syscall(SYS_dup3, tmp[i], p->fds[i].dst, 0) < 0)
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

CHILD_CODE static int drop_caps(struct apid__plan *p)
{
        struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct data[2];
        int c;

        /* Nothing to keep, and nothing left: setresuid() from root cleared
         * the permitted and effective sets, and the inheritable one is empty
         * (as it is for root, unless a launcher set it). The ambient set,
         * which the kernel keeps within permitted and inheritable at all
         * times, is then empty too: capset() and the ambient clear would be
         * two credential changes (prepare_creds/commit_creds) that change
         * nothing. A read is not one. */
        memset(data, 0, sizeof(data));
        if (!p->keep_caps && syscall(SYS_capget, &hdr, data) == 0 &&
            !(data[0].effective | data[0].permitted | data[0].inheritable | data[1].effective | data[1].permitted |
              data[1].inheritable))
                return 0;
        hdr.version = _LINUX_CAPABILITY_VERSION_3;
        hdr.pid = 0;
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

/* A fresh anonymous session keyring, so that no key of the caller's session
 * is possessed by the worker (possession needs no permission). ENOSYS: a
 * kernel without keys has nothing to inherit; EPERM comes only from a seccomp
 * filter of the caller's (joining an anonymous keyring needs no privilege),
 * under which no key could have been added to the session either. */
CHILD_CODE static int new_session_keyring(struct apid__plan *p)
{
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL, 0, 0, 0) < 0 && errno != ENOSYS && errno != EPERM)
                return failed(p, APID__STEP_KEYRING, -1);
        return 0;
}

/* Every capability the worker does not keep, out of the bounding set. A
 * drop is a credential change (prepare_creds/commit_creds: some 0.4 us, over
 * 1 us where security modules hook it) and there are 41; a read is not. A
 * launcher confined by its service (the host's unit keeps 9) inherits a
 * bounding set without most of them: the capabilities that the last launch
 * from this area found missing (bset_absent) are read first and dropped only
 * if there, the others dropped at once. The hint decides only what is read:
 * every capability not kept is either read as absent or dropped (a launching
 * thread's bounding set only shrinks, but in a new user namespace it is full
 * again: the read sees that). Without a hint, every one is read. */
CHILD_CODE static int drop_bounding_set(struct apid__plan *p)
{
        uint64_t absent = 0;
        int i;

        for (i = 0; i <= p->last_cap; i++) {
                if ((p->keep_caps >> i) & 1)
                        continue;
                if ((!p->bset_known || ((p->bset_absent >> i) & 1)) &&
                    syscall(SYS_prctl, PR_CAPBSET_READ, i, 0, 0, 0) == 0) {
                        absent |= UINT64_C(1) << i;
                        continue;
                }
                if (syscall(SYS_prctl, PR_CAPBSET_DROP, i, 0, 0, 0) < 0)
                        return failed(p, APID__STEP_BOUNDING, i);
        }
        p->bset_absent = absent;
        p->bset_known = 1;
        return 0;
}

CHILD_CODE static int enter_cwd(struct apid__plan *p)
{
        if (!p->cwd || syscall(SYS_chdir, p->cwd) == 0)
                return 0;
        /* A default directory (the profile) that is not there, or that the pool
         * cannot reach (a state directory closed to pools): the root. */
        if (p->cwd_fallback && (errno == ENOENT || errno == ENOTDIR || errno == EACCES) &&
            syscall(SYS_chdir, p->cwd_fallback) == 0)
                return 0;
        return failed(p, APID__STEP_CHDIR, -1);
}

/* The v1 cgroups (and a v2 one where clone3 could not be used): "0" is the
 * writing process itself, whatever its pid in the file's pid namespace. First
 * of all, while the child is still the caller's: it cannot be refused for
 * lack of privilege, and nothing the pool does escapes the limits. */
CHILD_CODE static int join_cgroups(struct apid__plan *p)
{
        int i;

        for (i = 0; i < p->n_cgroup_procs; i++)
                if (syscall(SYS_write, p->cgroup_procs[i], "0", 1) != 1)
                        return failed(p, APID__STEP_CGROUP, p->cgroup_procs[i]);
        return 0;
}

/* A process that execs in place (apid_launch_exec()) keeps across execve
 * what a child of clone() starts without: its armed interval timers (a
 * SIGALRM would reach the worker), its signals pending (a blocked SIGTERM
 * would kill the worker once its mask is cleared), its child-subreaper mark,
 * and a Yama ptracer exception. Cleared, so that the worker starts as a
 * launched one does (tests/test-inherit.c compares both). */
/* Every catchable signal's disposition set to handler (SIG_DFL or SIG_IGN),
 * through the kernel's struct sigaction (neither needs a restorer). */
CHILD_CODE static void set_all_dispositions(void (*handler)(int))
{
        int sig;

        for (sig = 1; sig < NSIG; sig++) {
                struct {
                        void (*handler)(int);
                        unsigned long flags;
                        void (*restorer)(void);
                        uint64_t mask;
                } sa = { handler, 0, NULL, 0 };

                if (sig != SIGKILL && sig != SIGSTOP)
                        syscall(SYS_rt_sigaction, sig, &sa, NULL, sizeof(sa.mask));
        }
}

CHILD_CODE static void forget_caller_state(void)
{
        struct { long interval_sec, interval_usec, value_sec, value_usec; } off = { 0, 0, 0, 0 };

        syscall(SYS_setitimer, 0 /* ITIMER_REAL */, &off, NULL);
        syscall(SYS_setitimer, 1 /* ITIMER_VIRTUAL */, &off, NULL);
        syscall(SYS_setitimer, 2 /* ITIMER_PROF */, &off, NULL);
        syscall(SYS_prctl, PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        syscall(SYS_prctl, PR_SET_PTRACER, 0, 0, 0, 0); /* EINVAL without Yama: nothing to clear */
        /* Ignoring a signal discards its pending instances, private and
         * shared (POSIX; kernel/signal.c do_sigaction()); the caller of the
         * steps has every signal blocked, so none is delivered meanwhile,
         * and the loop below sets the defaults. */
        set_all_dispositions(SIG_IGN);
}

CHILD_CODE int apid__child_steps(struct apid__plan *p, int exec, int fds_and_session)
{
        const struct apid_token *t = p->token;
        /* The kernel's sigset: _NSIG / 8 bytes (8 on every architecture
         * handled here, whatever sizeof(unsigned long) is; liburing passes
         * the same), with room to spare. */
        uint64_t empty[2] = { 0, 0 };
        unsigned long bits;
        int i;

        if (join_cgroups(p) < 0)
                return -1;
        APID__STAMP(C_CGROUP);
        if (fds_and_session) {
                if (p->in_place)
                        forget_caller_state();
                /* Default dispositions: a parent that ignores SIGPIPE must not
                 * pass that on (execve keeps SIG_IGN). */
                set_all_dispositions(SIG_DFL);
                APID__STAMP(C_SIGNALS);
                if (p->new_session && syscall(SYS_setsid) < 0)
                        return failed(p, APID__STEP_SETSID, -1);
                APID__STAMP(C_SETSID);
                if (set_fds(p) < 0)
                        return -1;
                /* A terminal only when the caller gave one: it is fd 0 now, and
                 * becomes the new session's controlling terminal. */
                if (p->controlling_tty && syscall(SYS_ioctl, 0, TIOCSCTTY, 0) < 0)
                        return failed(p, APID__STEP_CTTY, 0);
        }
        APID__STAMP(C_FDS);
        /* Before the identity change, while the keyring is still root's to make. */
        if (new_session_keyring(p) < 0)
                return -1;
        APID__STAMP(C_KEYRING);
        /* The plain Linux personality: a launcher's ADDR_NO_RANDOMIZE (setarch
         * -R, a debugger) or READ_IMPLIES_EXEC would survive execve and turn
         * off the worker's ASLR or make its heap executable. */
        if (syscall(SYS_personality, PER_LINUX) < 0)
                return failed(p, APID__STEP_PERSONALITY, -1);
        APID__STAMP(C_PERSONALITY);
        for (i = 0; i < t->n_rlimits; i++) {
                struct rlimit64 { uint64_t cur, max; } rl = { t->rlimits[i].soft, t->rlimits[i].hard };

                if (syscall(SYS_prlimit64, 0, t->rlimits[i].resource, &rl, NULL) < 0)
                        return failed(p, APID__STEP_RLIMIT, t->rlimits[i].resource);
        }
        APID__STAMP(C_RLIMIT);
        /* Groups, then gid, while still root (CERT POS36-C). */
        if (syscall(SYS_SETGROUPS, (size_t)p->n_groups, p->groups) < 0)
                return failed(p, APID__STEP_SETGROUPS, p->n_groups);
        APID__STAMP(C_SETGROUPS);
        if (syscall(SYS_SETRESGID, p->gid, p->gid, p->gid) < 0)
                return failed(p, APID__STEP_SETRESGID, (int)p->gid);
        APID__STAMP(C_SETRESGID);
        /* The bounding set and securebits need CAP_SETPCAP: before the uid. */
        if (drop_bounding_set(p) < 0)
                return -1;
        APID__STAMP(C_BOUNDING);
        bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED;
        if (p->keep_caps)
                bits |= SECBIT_KEEP_CAPS; /* cleared by execve; the ambient set carries the caps */
        else
                bits |= SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
        if (syscall(SYS_prctl, PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
                return failed(p, APID__STEP_SECUREBITS, (int)bits);
        APID__STAMP(C_SECUREBITS);
        if (syscall(SYS_SETRESUID, p->uid, p->uid, p->uid) < 0)
                return failed(p, APID__STEP_SETRESUID, (int)p->uid);
        APID__STAMP(C_SETRESUID);
        if (drop_caps(p) < 0)
                return -1;
        APID__STAMP(C_CAPS);
        if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return failed(p, APID__STEP_NO_NEW_PRIVS, -1);
        APID__STAMP(C_NNP);
        if (enter_cwd(p) < 0)
                return -1;
        syscall(SYS_umask, t->umask);
        APID__STAMP(C_CWD);
        /* After the credential change, which clears the parent-death signal. */
        if (p->pdeathsig) {
                if (syscall(SYS_prctl, PR_SET_PDEATHSIG, p->pdeathsig, 0, 0, 0) < 0)
                        return failed(p, APID__STEP_PDEATHSIG, p->pdeathsig);
                if (syscall(SYS_getppid) != p->parent) {
                        errno = ESRCH;
                        return failed(p, APID__STEP_PARENT_GONE, -1);
                }
        }
        APID__STAMP(C_PDEATH);
        /* Last, so the filter need not allow any of the above. */
        if (t->seccomp && t->bpf) {
                struct sock_fprog prog = { (unsigned short)t->bpf_len, t->bpf };

                if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                        return failed(p, APID__STEP_SECCOMP, -1);
        }
        APID__STAMP(C_SECCOMP);
        if (!exec)
                return 0;
        if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, empty, NULL, (size_t)(_NSIG / 8)) < 0)
                return failed(p, APID__STEP_SIGMASK, -1);
        APID__STAMP(C_SIGMASK);
        syscall(SYS_execve, p->path, p->argv, p->envp);
        return failed(p, APID__STEP_EXECVE, -1);
}
