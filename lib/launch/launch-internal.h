/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private declarations of tokens and launches (lib/token.c, lib/launch/launch.c,
 * lib/launch/child.c). */
#ifndef APID_LAUNCH_INTERNAL_H
#define APID_LAUNCH_INTERNAL_H

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "internal.h"

/* A worker's PATH when its token sets none: token.c puts it in the
 * environment, launch.c looks bare program names up in it. */
#define APID__DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

#define APID__MAX_GROUPS 64
#define APID__MAX_RLIMITS 16
#define APID__MAX_FDS 64
/* cgroups a launch puts its worker in: one of cgroup v2, and v1 hierarchies. */
#define APID__MAX_CGROUPS 8

struct apid_token {
        uint32_t uid, gid, shared_gid;
        uint32_t pool_gid;      /* the pool's own group: the pool SID, injected (any identity type) */
        char *pool_group;       /* its name, for describe */
        int keep_shared;
        uint64_t keep_caps;     /* bit n: capability n */
        int seccomp;
        char **deny;            /* extra syscalls to deny */
        size_t n_deny;
        struct sock_filter *bpf; /* built from the deny lists */
        size_t bpf_len;          /* instructions */
        struct { int resource; uint64_t soft, hard; } rlimits[APID__MAX_RLIMITS];
        int n_rlimits;
        uint32_t umask;
        char **env;              /* "NAME=value", NULL-terminated */
        size_t n_env;
        char *user;
        char *account;
        char *profile;           /* the default working directory, or NULL ("/") */
};

/* The steps of the child, in order; a failure is reported as one of them. */
enum apid__step {
        APID__STEP_NONE = 0,
        APID__STEP_CGROUP,      /* first: everything the child does is the pool's */
        APID__STEP_SIGNALS,
        APID__STEP_SETSID,
        APID__STEP_FDS,
        APID__STEP_CTTY,
        APID__STEP_KEYRING,
        APID__STEP_PERSONALITY,
        APID__STEP_RLIMIT,
        APID__STEP_SETGROUPS,
        APID__STEP_SETRESGID,
        APID__STEP_BOUNDING,
        APID__STEP_SECUREBITS,
        APID__STEP_SETRESUID,
        APID__STEP_CAPSET,
        APID__STEP_AMBIENT,
        APID__STEP_NO_NEW_PRIVS,
        APID__STEP_CHDIR,
        APID__STEP_PDEATHSIG,
        APID__STEP_PARENT_GONE,
        APID__STEP_SECCOMP,
        APID__STEP_SIGMASK,
        APID__STEP_EXECVE,
};

/* Everything the child needs, prepared by the parent; the child only reads
 * it, and writes the failure fields, which the parent reads once the child
 * has exited (the memory is shared: CLONE_VM). It lives
 * beside the child's stack, not on the parent's, so that it stays valid for as
 * long as the child may run (see launch.c). */
struct apid__plan {
        uint32_t uid, gid;
        gid_t groups[APID__MAX_GROUPS];
        int n_groups;
        uint64_t keep_caps;
        int last_cap;
        const struct apid_token *token;
        struct { int src, dst; } fds[APID__MAX_FDS];
        int n_fds;
        int max_dst;
        const char *cwd;
        int pdeathsig;
        pid_t parent;
        const char *path;
        char *const *argv;
        char *const *envp;
        int new_session;
        int controlling_tty;     /* fd 0 becomes the controlling terminal (TIOCSCTTY) */
        const char *cwd_fallback; /* entered when cwd is a default that does not exist */
        /* In: capabilities found missing from the launching thread's bounding
         * set by the last launch from the same area, if bset_known (a hint:
         * see drop_bounding_set()). Out: what this launch found. */
        uint64_t bset_absent;
        int bset_known;
        int cgroup_procs[APID__MAX_CGROUPS + 1]; /* cgroup.procs files the child writes "0" to */
        int n_cgroup_procs;
        int cgroup2_fd;          /* cloned into it (clone3), or -1 */
        /* apid_launch_exec(): the steps run in the caller itself, which then
         * execs; what a fresh child would not have (pending signals, armed
         * interval timers, the subreaper mark) is cleared first. */
        int in_place;
        /* results */
        volatile int failed_step;
        volatile int failed_errno;
        volatile int failed_arg;
};

/* launch-child.c: the steps; returns only on failure (or, for the calling
 * process, when exec is not asked for) with plan->failed_* set. */
int apid__child_steps(struct apid__plan *plan, int exec, int fds_and_session);
/* A message for a failed step. */
int apid__step_fail(const struct apid__plan *plan);

/* launch/clone3.c: clone3(CLONE_VM | CLONE_PIDFD | CLONE_CHILD_CLEARTID |
 * CLONE_INTO_CGROUP) running fn(arg) on the stack [stack, stack + stack_size),
 * the kernel zeroing *child_tid when the child execs or exits; -1 with errno
 * (ENOSYS on an architecture without the assembly, or a kernel before 5.7). */
pid_t apid__clone3_into_cgroup(int (*fn)(void *), void *arg, void *stack, size_t stack_size, int cgroup_fd,
                               int *pidfd, uint32_t *child_tid);
/* Whether this build has it (x86-64, arm64). */
int apid__clone3_available(void);

/* token.c */
int apid__token_plan(const struct apid_token *token, struct apid__plan *plan);
int apid__privileged_enough(const char *what);
/* The calling process's thread count (from /proc/self/status), or -1. */
int apid__thread_count(void);

#endif
