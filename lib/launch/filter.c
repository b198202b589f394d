/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The default seccomp filter of a token: an allow-list, built with
 * libseccomp.
 *
 * A system call that no group below names fails with ENOSYS, as it would on
 * a kernel without it: C libraries and runtimes probe new calls (clone3,
 * faccessat2, close_range, epoll_pwait2...) and fall back on ENOSYS, while
 * EPERM would read as a real refusal. So a call a future kernel adds is
 * closed until someone puts it on a list, and closing it breaks nothing
 * that has a fallback. Calls closed on purpose fail the way the kernel
 * itself refuses them: EPERM where an unprivileged caller, or a host that
 * switched the feature off, gets EPERM (ptrace, mount, keyctl, bpf,
 * io_uring_setup with kernel.io_uring_disabled=2...); ENOSYS where the
 * kernel says "not here" (clone3, whose flags a filter cannot read, so libc
 * falls back to clone(); memfd_secret, as with secretmem off). Names a
 * caller denies (apid_token_deny_syscall) fail with EPERM whatever the
 * lists say. System calls of another architecture (int 0x80 from a 64-bit
 * worker, x32) kill the process.
 *
 * The groups are modelled on systemd's SystemCallFilter=@system-service
 * (src/shared/seccomp-util.c; `systemd-analyze syscall-filter` prints them),
 * without what a worker must not have there: io_uring, the keyring calls,
 * kcmp, userfaultfd, name_to_handle_at, process_vm_readv/writev, setns,
 * unshare and clone3, and with clone() and personality() narrowed by their
 * arguments.
 *
 * libseccomp's program (one comparison per rule, some 460 instructions) is
 * then rewritten into a smaller one with the same answers by
 * filter-compact.c: the kernel JIT-compiles the filter at every launch. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include <seccomp.h>

#include "filter.h"

struct group {
        const char *name;
        const char *const *calls; /* NULL-terminated; names of every architecture */
};

#define CALLS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Names of other architectures' calls (mmap2, socketcall, ugetrlimit...)
 * are kept so that the list means the same everywhere; they are skipped
 * where the architecture lacks them. */
static const struct group groups[] = {
        { "@default", CALLS("arch_prctl", "brk", "cacheflush", "clock_getres", "clock_getres_time64",
                            "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "execve",
                            "exit", "exit_group", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
                            "futex_wake", "get_robust_list",
                            "get_thread_area", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
                            "getgroups", "getgroups32", "getpgid", "getpgrp", "getpid", "getppid", "getrandom",
                            "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "getsid", "gettid",
                            "gettimeofday", "getuid", "getuid32", "membarrier", "mmap", "mmap2", "mprotect", "munmap",
                            "nanosleep", "pause", "prlimit64", "restart_syscall", "riscv_flush_icache", "rseq",
                            "rt_sigreturn", "sched_getaffinity", "sched_yield", "set_robust_list", "set_thread_area",
                            "set_tid_address", "set_tls", "sigreturn", "time", "ugetrlimit", "uretprobe") },
        { "@basic-io", CALLS("_llseek", "close", "close_range", "dup", "dup2", "dup3", "lseek", "pread64", "preadv",
                             "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readv", "write", "writev") },
        { "@file-system", CALLS("access", "chdir", "chmod", "creat", "faccessat", "faccessat2", "fallocate", "fchdir",
                                "fchmod", "fchmodat", "fchmodat2", "fcntl", "fcntl64", "fgetxattr", "flistxattr",
                                "flock", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs",
                                "fstatfs64", "ftruncate", "ftruncate64", "futimesat", "getcwd", "getdents",
                                "getdents64", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
                                "inotify_rm_watch", "lgetxattr", "link", "linkat", "listxattr", "llistxattr",
                                "lremovexattr", "lsetxattr", "lstat", "lstat64", "mkdir", "mkdirat", "mknod", "mknodat",
                                "newfstatat", "oldfstat", "oldlstat", "oldstat", "open", "openat", "openat2", "readdir",
                                "readlink", "readlinkat", "removexattr", "rename", "renameat", "renameat2", "rmdir",
                                "setxattr", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat",
                                "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat",
                                "utimensat_time64", "utimes") },
        { "@file-data", CALLS("arm_fadvise64_64", "copy_file_range", "fadvise64", "fadvise64_64", "readahead",
                              "sendfile", "sendfile64", "splice", "tee", "vmsplice") },
        { "@io-event", CALLS("_newselect", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
                             "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
                             "poll", "ppoll", "ppoll_time64", "pselect6", "pselect6_time64", "select") },
        { "@network-io", CALLS("accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt",
                               "listen", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send",
                               "sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown", "socket", "socketcall",
                               "socketpair") },
        { "@ipc", CALLS("ipc", "memfd_create", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
                        "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl",
                        "msgget", "msgrcv", "msgsnd", "pipe", "pipe2", "semctl", "semget", "semop", "semtimedop",
                        "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget") },
        /* clone() only without namespace flags (see add_clone). */
        { "@process", CALLS("capget", "capset", "clone", "execveat", "fork", "getrusage", "kill", "pidfd_open",
                            "pidfd_send_signal", "prctl", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "setpgid", "setsid",
                            "swapcontext", "tgkill", "times", "tkill", "vfork", "wait4", "waitid", "waitpid") },
        { "@signal", CALLS("rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigsuspend", "rt_sigtimedwait",
                           "rt_sigtimedwait_time64", "sigaction", "sigaltstack", "signal", "signalfd", "signalfd4",
                           "sigpending", "sigprocmask", "sigsuspend") },
        { "@timer", CALLS("alarm", "getitimer", "setitimer", "timer_create", "timer_delete", "timer_getoverrun",
                          "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
                          "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64") },
        { "@memory", CALLS("get_mempolicy", "madvise", "map_shadow_stack", "mlock", "mlock2", "mlockall", "mremap",
                           "mseal", "msync", "munlock", "munlockall", "remap_file_pages") },
        { "@sync", CALLS("fdatasync", "fsync", "sync", "sync_file_range", "sync_file_range2", "syncfs") },
        { "@aio", CALLS("io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
                        "io_setup", "io_submit") },
        /* Without capabilities these only move between ids the worker already has. */
        { "@chown", CALLS("chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32") },
        { "@setuid", CALLS("setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
                           "setgroups32", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
                           "setresuid32", "setreuid", "setreuid32", "setuid", "setuid32") },
        { "@resources", CALLS("getcpu", "getpriority", "ioprio_get", "ioprio_set", "mbind", "migrate_pages",
                              "move_pages", "nice", "sched_get_priority_max", "sched_get_priority_min",
                              "sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
                              "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
                              "sched_setparam", "sched_setscheduler", "set_mempolicy", "set_mempolicy_home_node",
                              "setpriority", "setrlimit") },
        /* personality() only for PER_LINUX and the query (see add_personality). */
        { "@system", CALLS("ioctl", "oldolduname", "olduname", "personality", "sysinfo", "uname") },
        /* A worker may confine itself further (filters only ever stack). */
        { "@sandbox", CALLS("landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "seccomp") },
};
#define N_GROUPS (sizeof(groups) / sizeof(groups[0]))

/* Closed on purpose: the kernel attack surface an unprivileged process
 * still has, and what would let a worker see or reach outside itself. */
static const char *const closed_eperm[] = {
        "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_getfd", "kcmp",
        "mount", "umount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
        "move_mount", "open_tree", "mount_setattr", "unshare", "setns", "swapon", "swapoff", "reboot",
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "bpf", "perf_event_open",
        "keyctl", "add_key", "request_key", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
        "iopl", "ioperm", "acct", "quotactl", "quotactl_fd", "open_by_handle_at", "name_to_handle_at", "syslog",
        "lookup_dcookie", NULL,
};
static const char *const closed_enosys[] = { "clone3", "memfd_secret", NULL };

/* clone()'s namespace flags (CLONE_NEWTIME only exists for clone3 and unshare). */
#define NS_FLAGS                                                                                                  \
        ((uint64_t)(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |     \
                    CLONE_NEWCGROUP))

/* The number to give libseccomp for a name, or __NR_SCMP_ERROR when this
 * architecture has no such call (libseccomp hands out negative pseudo
 * numbers for other architectures' names, mmap2 on x86-64; a rule for one
 * is dead code). Multiplexed calls (socket through socketcall on i386) keep
 * their pseudo number: libseccomp rewrites those. */
static int resolve(const char *name)
{
        if (seccomp_syscall_resolve_name_rewrite(SCMP_ARCH_NATIVE, name) < 0)
                return __NR_SCMP_ERROR;
        return seccomp_syscall_resolve_name(name);
}

/* The caller's deny names, resolved once. */
struct deny {
        int *nr;
        size_t n;
};

static int deny_resolve(char *const *names, size_t n, struct deny *d)
{
        size_t i;

        d->n = 0;
        d->nr = n ? calloc(n, sizeof(int)) : NULL;
        if (n && !d->nr)
                return apid__fail_oom();
        for (i = 0; i < n; i++)
                if ((d->nr[d->n] = resolve(names[i])) != __NR_SCMP_ERROR)
                        d->n++;
        return APID_OK;
}

static int denied(int nr, const struct deny *d)
{
        size_t i;

        for (i = 0; i < d->n; i++)
                if (d->nr[i] == nr)
                        return 1;
        return 0;
}

static int rule(scmp_filter_ctx sc, uint32_t action, int nr, const char *name, unsigned n,
                const struct scmp_arg_cmp *cmp)
{
        int e = seccomp_rule_add_array(sc, action, nr, n, cmp);

        return e < 0 ? apid__fail(APID_ESYS, -e, "seccomp: cannot add a rule for %s: %s", name, strerror(-e))
                     : APID_OK;
}

/* clone(): allowed without namespace flags, EPERM with any (denying unshare
 * and setns alone would leave clone(CLONE_NEWUSER) open). The flags are
 * argument 0, except on s390, where the stack comes first. */
static int add_clone(scmp_filter_ctx sc, int nr)
{
#if defined(__s390__) || defined(__s390x__)
        const unsigned arg = 1;
#else
        const unsigned arg = 0;
#endif
        struct scmp_arg_cmp none = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, NS_FLAGS, 0);
        uint64_t flag;
        int r = rule(sc, SCMP_ACT_ALLOW, nr, "clone", 1, &none);

        for (flag = 1; flag && r == APID_OK; flag <<= 1)
                if (flag & NS_FLAGS) {
                        struct scmp_arg_cmp one = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, flag, flag);

                        r = rule(sc, SCMP_ACT_ERRNO(EPERM), nr, "clone", 1, &one);
                }
        return r;
}

/* personality(): PER_LINUX and the query 0xffffffff only. The kernel reads
 * the persona as an unsigned int, so only the low 32 bits are compared
 * (callers pass the query as -1 as often as 0xffffffff). Anything else
 * (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, another ABI) is left to the
 * default, ENOSYS: "everything but these two values, EPERM" would take a
 * rule per bit, as libseccomp compares an argument once per rule and keeps
 * no order between overlapping rules. */
static int add_personality(scmp_filter_ctx sc, int nr)
{
        const struct scmp_arg_cmp linux_ = SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, PER_LINUX),
                                  query = SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, 0xffffffffu);
        int r = rule(sc, SCMP_ACT_ALLOW, nr, "personality", 1, &linux_);

        return r == APID_OK ? rule(sc, SCMP_ACT_ALLOW, nr, "personality", 1, &query) : r;
}

static int add_list(scmp_filter_ctx sc, uint32_t action, const char *const *names, const struct deny *d)
{
        int r = APID_OK, nr;
        size_t i;

        for (i = 0; names[i] && r == APID_OK; i++) {
                if ((nr = resolve(names[i])) == __NR_SCMP_ERROR || denied(nr, d))
                        continue;
                if (action == SCMP_ACT_ALLOW && strcmp(names[i], "clone") == 0)
                        r = add_clone(sc, nr);
                else if (action == SCMP_ACT_ALLOW && strcmp(names[i], "personality") == 0)
                        r = add_personality(sc, nr);
                else
                        r = rule(sc, action, nr, names[i], 0, NULL);
        }
        return r;
}

static int add_rules(scmp_filter_ctx sc, const struct deny *d)
{
        size_t g, i;
        int r = APID_OK;

        /* A denied name always fails, so it gets no other rule: libseccomp
         * would keep whichever rule came first. */
        for (i = 0; i < d->n && r == APID_OK; i++)
                r = rule(sc, SCMP_ACT_ERRNO(EPERM), d->nr[i], "a denied system call", 0, NULL);
        if (r == APID_OK)
                r = add_list(sc, SCMP_ACT_ERRNO(EPERM), closed_eperm, d);
        /* closed_enosys needs no rule: ENOSYS is the default action (and
         * libseccomp refuses a rule that repeats it). */
        for (g = 0; g < N_GROUPS && r == APID_OK; g++)
                r = add_list(sc, SCMP_ACT_ALLOW, groups[g].calls, d);
        return r;
}

/* libseccomp 2.5 writes the program to a descriptor only: a memfd, read back. */
static int export(scmp_filter_ctx sc, struct sock_filter **out, size_t *len)
{
        struct sock_filter *buf = NULL;
        off_t size = 0;
        int fd, e = 0, r = APID_OK;

        fd = memfd_create("apppoolid-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                e = errno;
        else if ((e = -seccomp_export_bpf(sc, fd)) == 0 &&
                 ((size = lseek(fd, 0, SEEK_END)) <= 0 || size % (off_t)sizeof(struct sock_filter) != 0))
                e = EIO;
        if (e)
                r = apid__fail(APID_ESYS, e, "seccomp: cannot export the filter: %s", strerror(e));
        if (r == APID_OK) {
                buf = malloc((size_t)size);
                if (!buf)
                        r = apid__fail_oom();
                else if (pread(fd, buf, (size_t)size, 0) != size)
                        r = apid__fail(APID_ESYS, errno, "seccomp: cannot read the filter back");
        }
        if (r == APID_OK) {
                *out = buf;
                *len = (size_t)size / sizeof(struct sock_filter);
        } else {
                free(buf);
        }
        if (fd >= 0)
                close(fd);
        return r;
}

static int compile(char *const *deny, size_t n_deny, struct sock_filter **out, size_t *len, int *compacted,
                   int compact);

int apid__filter_compile(char *const *deny, size_t n_deny, struct sock_filter **out, size_t *len, int *compacted)
{
        return compile(deny, n_deny, out, len, compacted, 1);
}

int apid__filter_libseccomp(char *const *deny, size_t n_deny, struct sock_filter **out, size_t *len)
{
        return compile(deny, n_deny, out, len, NULL, 0);
}

static int compile(char *const *deny, size_t n_deny, struct sock_filter **out, size_t *len, int *compacted, int compact)
{
        scmp_filter_ctx sc;
        struct deny d;
        int r = deny_resolve(deny, n_deny, &d);

        if (r < 0)
                return r;
        sc = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
        if (!sc) {
                free(d.nr);
                return apid__fail_oom();
        }
        if (seccomp_attr_set(sc, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0)
                r = apid__fail(APID_ESYS, 0, "seccomp: cannot set the foreign-architecture action");
        /* A binary tree of system call numbers instead of a chain: with some
         * 300 rules, a call is found in about 9 comparisons instead of up to
         * 300, in the worker and when the kernel precomputes its cache of
         * always-allowed calls at every launch. */
        if (r == APID_OK && seccomp_attr_set(sc, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
                r = apid__fail(APID_ESYS, 0, "seccomp: cannot ask libseccomp for a binary tree");
        if (r == APID_OK)
                r = add_rules(sc, &d);
        if (r == APID_OK)
                r = export(sc, out, len);
        if (r == APID_OK && compact) {
                struct sock_filter *small;
                size_t n;
                int ok = apid__filter_compact(*out, *len, seccomp_arch_native(), &small, &n) == 0;

                if (ok) {
                        free(*out);
                        *out = small;
                        *len = n;
                }
                if (compacted)
                        *compacted = ok;
        }
        seccomp_release(sc);
        free(d.nr);
        return r;
}

/* The default program, compiled at build time (lib/launch/gen-default-filter.c
 * writes filter-default.h: apid__prebuilt_bpf, its length, architecture and
 * hash; a length of 0 where none was made, as in a cross build).
 *
 * Why taking it instead of compiling is sound. A seccomp program is a
 * function of the struct seccomp_data the kernel hands it: the AUDIT_ARCH_*
 * value, the system call number and the arguments. It calls no library and
 * asks the kernel nothing, so what it answers depends only on what the
 * numbers mean on its architecture, which is the kernel's ABI and fixed:
 * not on the libseccomp or the kernel that run it. A number the running
 * kernel does not know fails with ENOSYS whether or not the program lets it
 * through. The architecture checks stay in the program: the first
 * instructions compare seccomp_data.arch with the build's AUDIT_ARCH_* (a
 * 32-bit call from a 64-bit worker kills the process), and the x32 range of
 * x86-64 is a run with the same answer, both written by libseccomp and kept
 * by the compaction as they are at run time. So it is taken only where the
 * running architecture is the one it was made for (a library built for
 * i386 and run on x86-64 asks for i386: libseccomp's native architecture
 * is the library's, not the kernel's), which its own second instruction
 * must also name; the build checked it against libseccomp's program by
 * emulation (filter-compact.c; a failed check fails the build) and
 * tests/test-filter-compact.c checks that it is byte for byte what this
 * file compiles at run time. What a different libseccomp at run time could
 * change is only which names it knows: a name the build's libseccomp did
 * not know stays off the list (ENOSYS) until the next build, which closes,
 * never opens. Even so it is taken only under the libseccomp major.minor it
 * was made with: a library left in place across an upgrade of libseccomp
 * (names it now knows, fixes in how rules are written) compiles at run
 * time, as without a build-time program, until it is rebuilt (meson remakes
 * the header when libseccomp changes: lib/meson.build). A token with deny
 * names is compiled at run time, as before. */
#ifndef APID_FILTER_NO_PREBUILT
#include "filter-default.h"
#else
#define APID__PREBUILT_LEN 0
#endif

/* FNV-1a over the instructions, field by field (no padding read). */
uint64_t apid__filter_hash(const struct sock_filter *p, size_t n)
{
        uint64_t h = 0xcbf29ce484222325u;
        size_t i;

        for (i = 0; i < n; i++) {
                const uint32_t v[4] = { p[i].code, p[i].jt, p[i].jf, p[i].k };
                size_t j;

                for (j = 0; j < 4; j++) {
                        h ^= v[j];
                        h *= 0x100000001b3u;
                }
        }
        return h;
}

/* The build's program, when it is usable in this process: 1 and *p, *n. */
int apid__filter_prebuilt(const struct sock_filter **p, size_t *n)
{
#if APID__PREBUILT_LEN > 0
        const struct sock_filter *b = apid__prebuilt_bpf;
        const size_t len = APID__PREBUILT_LEN;
        const struct scmp_version *v = seccomp_version();
        uint32_t arch = seccomp_arch_native();

        if (!v || v->major != APID__PREBUILT_SECCOMP_MAJOR || v->minor != APID__PREBUILT_SECCOMP_MINOR)
                return 0; /* another libseccomp than the build's */
        /* The running architecture, and the program's own check of it
         * (load arch; jeq ARCH), then its integrity: its 80 or so
         * instructions hashed, once per process. */
        if (arch != APID__PREBUILT_ARCH || len > BPF_MAXINSNS ||
            b[0].code != (BPF_LD | BPF_W | BPF_ABS) || b[0].k != offsetof(struct seccomp_data, arch) ||
            b[1].code != (BPF_JMP | BPF_JEQ | BPF_K) || b[1].k != arch ||
            apid__filter_hash(b, len) != APID__PREBUILT_HASH)
                return 0;
        *p = b;
        *n = len;
        return 1;
#else
        (void)p;
        (void)n;
        return 0;
#endif
}

/* The default program is the same for every token: compiled (or taken
 * from the build) once. */
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sock_filter *default_bpf;
static size_t default_len;

static int default_program(void)
{
        const struct sock_filter *pre;
        size_t n;

        if (apid__filter_prebuilt(&pre, &n)) {
                default_bpf = malloc(n * sizeof(*pre));
                if (!default_bpf)
                        return apid__fail_oom();
                memcpy(default_bpf, pre, n * sizeof(*pre));
                default_len = n;
                return APID_OK;
        }
        return apid__filter_compile(NULL, 0, &default_bpf, &default_len, NULL);
}

int apid__filter_build(char *const *deny, size_t n_deny, struct sock_filter **out, size_t *len)
{
        struct sock_filter *copy;
        int r = APID_OK;

        if (n_deny)
                return apid__filter_compile(deny, n_deny, out, len, NULL);
        pthread_mutex_lock(&default_lock);
        if (!default_bpf)
                r = default_program();
        copy = r == APID_OK ? malloc(default_len * sizeof(*copy)) : NULL;
        if (copy) {
                memcpy(copy, default_bpf, default_len * sizeof(*copy));
                *out = copy;
                *len = default_len;
        } else if (r == APID_OK) {
                r = apid__fail_oom();
        }
        pthread_mutex_unlock(&default_lock);
        return r;
}

static void print_names(FILE *f, const char *const *names, const struct deny *d)
{
        size_t i;
        int nr;

        for (i = 0; names[i]; i++)
                if ((nr = resolve(names[i])) != __NR_SCMP_ERROR && !denied(nr, d))
                        fprintf(f, " %s%s", names[i],
                                strcmp(names[i], "clone") == 0           ? "(no namespace flags)"
                                : strcmp(names[i], "personality") == 0 ? "(PER_LINUX or 0xffffffff)"
                                                                       : "");
}

void apid__filter_describe(FILE *f, char *const *deny, size_t n_deny, size_t insns)
{
        struct deny d;
        size_t g, i;

        if (deny_resolve(deny, n_deny, &d) < 0)
                d.n = 0; /* out of memory: the lists as if nothing were denied, then the deny line */
        fprintf(f, "seccomp: allow-list; a system call not on it fails with ENOSYS, another architecture's kills "
                "the process (%zu BPF instructions)\n", insns);
        for (g = 0; g < N_GROUPS; g++) {
                fprintf(f, "seccomp allow %s:", groups[g].name);
                print_names(f, groups[g].calls, &d);
                fputc('\n', f);
        }
        fputs("seccomp closed (EPERM):", f);
        print_names(f, closed_eperm, &d);
        fputs(" clone(namespace flags)\nseccomp closed (ENOSYS, libc falls back):", f);
        print_names(f, closed_enosys, &d);
        fputs(" personality(other)\n", f);
        if (n_deny) {
                fputs("seccomp deny (EPERM):", f);
                for (i = 0; i < n_deny; i++)
                        fprintf(f, " %s", deny[i]);
                fputc('\n', f);
        }
        free(d.nr);
}
