/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Launching a program under a token (the parent side), and process handles
 * with pidfds. The child side is launch-child.c. */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launch-internal.h"
#include "launch-timing.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define CHILD_STACK (64 * 1024)
#define DEFAULT_TIMEOUT_MS 5000
/* After SIGKILL, how long a child may take to die before the launch gives
 * up waiting for it (a task in uninterruptible sleep on a hung file system). */
#define KILL_GRACE_MS 1000

/* What the child uses, in one mapping per launching thread: the plan and
 * the program's path at the bottom, the stack above them. The parent keeps
 * it until the child has exec'd or exited; a child that could not be reaped
 * keeps its mapping until it is gone (see quarantine_add()). */
struct launch_area {
        struct apid__plan plan;
        char program[4096];
        uint64_t bset_absent;   /* the bounding-set hint, kept between launches */
        int bset_known;
        uint32_t released;      /* the child's CLONE_CHILD_CLEARTID word */
};
#define AREA_SIZE (((sizeof(struct launch_area) + 4095) & ~(size_t)4095) + CHILD_STACK)

struct apid_launch_attr {
        struct { int src, dst; } fds[APID__MAX_FDS];
        int n_fds;
        char *cwd;
        int pdeathsig;
        int tty_fd;             /* -1: none */
        uint32_t timeout_ms;    /* 0: DEFAULT_TIMEOUT_MS */
        int cgroup2_fd;         /* -1: none; else the child is cloned into it */
        int cgroup1_fds[APID__MAX_CGROUPS]; /* v1 cgroups the child joins */
        int n_cgroup1;
};

struct apid_process {
        pid_t pid;
        int pidfd;
        int reaped;
        int status; /* as waitpid() gives it */
};

APID_EXPORT int apid_launch_attr_new(apid_launch_attr **out)
{
        apid_launch_attr *a;

        if (!out)
                return apid__fail(APID_EINVAL, 0, "apid_launch_attr_new: out is NULL");
        a = calloc(1, sizeof(*a));
        if (!a)
                return apid__fail_oom();
        a->tty_fd = -1;
        a->cgroup2_fd = -1;
        *out = a;
        return APID_OK;
}

APID_EXPORT void apid_launch_attr_free(apid_launch_attr *a)
{
        if (!a)
                return;
        free(a->cwd);
        free(a);
}

APID_EXPORT int apid_launch_attr_pass_fd(apid_launch_attr *a, int parent_fd, int child_fd)
{
        int i;

        if (!a || parent_fd < 0 || child_fd < 0 || child_fd > 1023)
                return apid__fail(APID_EINVAL, 0, "pass fd %d as %d: descriptors are 0..1023", parent_fd, child_fd);
        if (fcntl(parent_fd, F_GETFD) < 0)
                return apid__fail(APID_EINVAL, errno, "pass fd %d: not an open descriptor", parent_fd);
        for (i = 0; i < a->n_fds; i++)
                if (a->fds[i].dst == child_fd)
                        return apid__fail(APID_EINVAL, 0, "pass fd %d as %d: %d is already given", parent_fd, child_fd,
                                          child_fd);
        if (a->n_fds == APID__MAX_FDS - 3)
                return apid__fail(APID_ERANGE, 0, "pass fd %d: at most %d descriptors", parent_fd, APID__MAX_FDS - 3);
        a->fds[a->n_fds].src = parent_fd;
        a->fds[a->n_fds].dst = child_fd;
        a->n_fds++;
        return APID_OK;
}

APID_EXPORT int apid_launch_attr_set_cwd(apid_launch_attr *a, const char *dir)
{
        char *copy = NULL;

        if (!a || (dir && dir[0] != '/'))
                return apid__fail(APID_EINVAL, 0, "working directory '%s': must be an absolute path", dir ? dir : "");
        if (dir && !(copy = strdup(dir)))
                return apid__fail_oom();
        free(a->cwd);
        a->cwd = copy;
        return APID_OK;
}

APID_EXPORT int apid_launch_attr_set_parent_death_signal(apid_launch_attr *a, int signal)
{
        if (!a || signal < 0 || signal >= NSIG)
                return apid__fail(APID_EINVAL, 0, "parent death signal %d: not a signal", signal);
        a->pdeathsig = signal;
        return APID_OK;
}

APID_EXPORT int apid_launch_attr_set_terminal(apid_launch_attr *a, int tty_fd)
{
        if (!a || tty_fd < -1)
                return apid__fail(APID_EINVAL, 0, "terminal %d: give a descriptor, or -1 for none", tty_fd);
        if (tty_fd >= 0 && fcntl(tty_fd, F_GETFD) < 0)
                return apid__fail(APID_EINVAL, errno, "terminal %d: not an open descriptor", tty_fd);
        if (tty_fd >= 0 && !isatty(tty_fd))
                return apid__fail(APID_EINVAL, ENOTTY, "terminal %d: not a terminal", tty_fd);
        a->tty_fd = tty_fd;
        return APID_OK;
}

APID_EXPORT int apid_launch_attr_set_timeout(apid_launch_attr *a, uint32_t timeout_ms)
{
        if (!a || timeout_ms > 3600000)
                return apid__fail(APID_EINVAL, 0, "launch timeout %u ms: at most 3600000 (0: the default, %d)",
                                  timeout_ms, DEFAULT_TIMEOUT_MS);
        a->timeout_ms = timeout_ms;
        return APID_OK;
}

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

APID_EXPORT int apid_launch_attr_add_cgroup(apid_launch_attr *a, int dirfd)
{
        struct statfs fs;
        struct stat st;
        int i;

        if (!a || dirfd < 0)
                return apid__fail(APID_EINVAL, 0, "cgroup %d: give an open descriptor of a cgroup directory", dirfd);
        if (fstat(dirfd, &st) < 0 || fstatfs(dirfd, &fs) < 0)
                return apid__fail(APID_EINVAL, errno, "cgroup %d: not an open descriptor", dirfd);
        if (!S_ISDIR(st.st_mode) || (fs.f_type != CGROUP_SUPER_MAGIC && fs.f_type != CGROUP2_SUPER_MAGIC))
                return apid__fail(APID_EINVAL, ENOTDIR, "cgroup %d: not a directory of a cgroup file system", dirfd);
        /* clone3() takes no O_PATH descriptor as its cgroup (EBADF). */
        if (fcntl(dirfd, F_GETFL) & O_PATH)
                return apid__fail(APID_EINVAL, EBADF, "cgroup %d: an O_PATH descriptor; open the directory with "
                                  "O_RDONLY | O_DIRECTORY", dirfd);
        if (fs.f_type == CGROUP2_SUPER_MAGIC) {
                if (a->cgroup2_fd >= 0)
                        return apid__fail(APID_EINVAL, 0, "cgroup %d: cgroup v2 descriptor %d is already given "
                                          "(a process is in one cgroup v2 at a time)", dirfd, a->cgroup2_fd);
                a->cgroup2_fd = dirfd;
                return APID_OK;
        }
        for (i = 0; i < a->n_cgroup1; i++)
                if (a->cgroup1_fds[i] == dirfd)
                        return APID_OK;
        if (a->n_cgroup1 == APID__MAX_CGROUPS)
                return apid__fail(APID_ERANGE, 0, "cgroup %d: at most %d cgroup v1 hierarchies", dirfd,
                                  APID__MAX_CGROUPS);
        a->cgroup1_fds[a->n_cgroup1++] = dirfd;
        return APID_OK;
}

/* The v1 cgroups' cgroup.procs, opened here (the child may only make raw
 * system calls, and opening by path from it would race with the caller). */
static int plan_cgroups(struct apid__plan *plan, const apid_launch_attr *attr)
{
        int i, n = attr ? attr->n_cgroup1 : 0;

        plan->cgroup2_fd = attr && !plan->in_place && apid__clone3_available() ? attr->cgroup2_fd : -1;
        /* Without clone3 here (or without a clone: apid_launch_exec()), the
         * v2 cgroup is joined like the v1 ones. */
        for (i = 0; i < n + (attr && attr->cgroup2_fd >= 0 && plan->cgroup2_fd < 0); i++) {
                int dir = i < n ? attr->cgroup1_fds[i] : attr->cgroup2_fd;
                int fd = openat(dir, "cgroup.procs", O_WRONLY | O_CLOEXEC);

                if (fd < 0)
                        return apid__fail(errno == EACCES || errno == EPERM ? APID_EPERM : APID_ESYS, errno,
                                          "cgroup %d: cannot open its cgroup.procs: %s (removed?)", dir,
                                          strerror(errno));
                plan->cgroup_procs[plan->n_cgroup_procs++] = fd;
        }
        return APID_OK;
}

static void close_cgroups(struct apid__plan *plan)
{
        while (plan->n_cgroup_procs > 0)
                close(plan->cgroup_procs[--plan->n_cgroup_procs]);
}

/* A program name without '/' is looked up in the token's PATH. */
static int resolve_program(const struct apid_token *t, const char *name, char *out, size_t size)
{
        const char *path = APID__DEFAULT_PATH;
        size_t i;

        struct stat st;

        if (strchr(name, '/')) {
                if (name[0] != '/')
                        return apid__fail(APID_EINVAL, 0, "program %s: give an absolute path or a bare name", name);
                if ((size_t)snprintf(out, size, "%s", name) >= size)
                        return apid__fail(APID_EINVAL, ENAMETOOLONG, "program %.64s...: path too long", name);
                return APID_OK;
        }
        for (i = 0; i < t->n_env; i++)
                if (strncmp(t->env[i], "PATH=", 5) == 0)
                        path = t->env[i] + 5;
        while (*path) {
                size_t len = strcspn(path, ":");

                /* Only absolute entries (the child changes directory before
                 * execve), and only regular files. */
                if (len && path[0] == '/' && (size_t)snprintf(out, size, "%.*s/%s", (int)len, path, name) < size &&
                    stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
                        return APID_OK;
                path += len + (path[len] == ':');
        }
        return apid__fail(APID_ENOTFOUND, ENOENT, "program %s: not found in PATH", name);
}

/* The child's area: one per launching thread, kept for its next launch
 * (the child is done with it once it has exec'd or exited: the parent waits
 * for that), unmapped when the thread exits. */
static pthread_key_t area_key;
static pthread_once_t area_once = PTHREAD_ONCE_INIT;

static void area_release(void *area)
{
        munmap(area, AREA_SIZE);
}

static void area_key_init(void)
{
        pthread_key_create(&area_key, area_release);
}

static struct launch_area *child_area(void)
{
        void *area;

        pthread_once(&area_once, area_key_init);
        area = pthread_getspecific(area_key);
        if (area)
                return area;
        area = mmap(NULL, AREA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (area == MAP_FAILED)
                return NULL;
        if (pthread_setspecific(area_key, area) != 0) {
                munmap(area, AREA_SIZE);
                return NULL;
        }
        return area;
}

/* A child that could not be reaped may still be inside the kernel using its
 * area: leave the mapping to it, and take a new one next time. */
static void abandon_area(void)
{
        pthread_setspecific(area_key, NULL);
}

/* The children that outlived their deadline and the grace time after SIGKILL
 * (a task in uninterruptible sleep on a hung file system, say), each with the
 * area it may still be using and its pidfd: kept, process-wide, until the
 * child is gone; every later launch looks (quarantine_sweep()). A pidfd polls
 * readable once the process has exited, which is after it released the
 * memory it shared with us (exit_mm() comes before the exit notification):
 * then the area is unmapped and the zombie reaped, unless the caller's own
 * SIGCHLD handling reaped it first. Bounded; past the bound an area is left
 * mapped as before (32 launch children stuck in the kernel at once). */
#define MAX_QUARANTINED 32
static struct {
        int pidfd;
        void *area;
} quarantine[MAX_QUARANTINED];
static int n_quarantined;
static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;

/* Takes the pidfd (closed once the child is reaped) if it returns 0. */
static int quarantine_add(int pidfd, void *area)
{
        int r = -1;

        pthread_mutex_lock(&quarantine_lock);
        if (n_quarantined < MAX_QUARANTINED) {
                quarantine[n_quarantined].pidfd = pidfd;
                quarantine[n_quarantined].area = area;
                n_quarantined++;
                r = 0;
        }
        pthread_mutex_unlock(&quarantine_lock);
        return r;
}

/* Never waits: a child still in the kernel stays for the next launch. A
 * sweep already running in another thread is enough. */
static void quarantine_sweep(void)
{
        int i = 0;

        if (pthread_mutex_trylock(&quarantine_lock) != 0)
                return;
        while (i < n_quarantined) {
                struct pollfd pfd = { quarantine[i].pidfd, POLLIN, 0 };
                siginfo_t info;

                if (poll(&pfd, 1, 0) != 1) {
                        i++;
                        continue;
                }
                /* ECHILD: the caller reaped it; gone either way. */
                while (waitid((idtype_t)P_PIDFD, (id_t)quarantine[i].pidfd, &info, WEXITED | WNOHANG) < 0 &&
                       errno == EINTR)
                        ;
                munmap(quarantine[i].area, AREA_SIZE);
                close(quarantine[i].pidfd);
                quarantine[i] = quarantine[--n_quarantined];
        }
        pthread_mutex_unlock(&quarantine_lock);
}

/* The child's last act, when a step failed (plan->failed_* say which): a raw
 * exit (no libc or sanitizer exit handler may run in this child). */
__attribute__((no_sanitize("address", "undefined"))) static int child_main(void *arg)
{
        struct apid__plan *p = arg;

        APID__STAMP(C_START);
        apid__child_steps(p, 1, 1);
        syscall(SYS_exit_group, 127);
        return 127;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until the child has left our memory, by execve or by exiting, or
 * until the deadline; 1 if it has. It was cloned with CLONE_CHILD_CLEARTID on
 * *word: the kernel zeroes the word and wakes its futex when the child lets go
 * of the memory it shares with us (mm_release(), from execve's exec_mmap()
 * or from exit_mm(): the moment glibc's vfork-based posix_spawn returns at),
 * whoever else holds what. The wake is the kernel's, on a shared futex (no
 * FUTEX_PRIVATE_FLAG), so the wait is too. */
static int wait_released(volatile uint32_t *word, int64_t deadline)
{
        while (__atomic_load_n(word, __ATOMIC_ACQUIRE) != 0) {
                int64_t left = deadline - now_ms();
                struct timespec ts;

                if (left <= 0)
                        return __atomic_load_n(word, __ATOMIC_ACQUIRE) == 0;
                ts.tv_sec = (time_t)(left / 1000);
                ts.tv_nsec = (long)(left % 1000) * 1000000;
                /* EAGAIN: already zero; EINTR, ETIMEDOUT: looked at above. */
                syscall(SYS_futex, word, FUTEX_WAIT, 1, &ts, NULL, 0);
        }
        return 1;
}

/* Wait until the process of pidfd has exited (its pidfd polls readable),
 * or until the deadline; 1 if it has. */
static int wait_exited(int pidfd, int64_t deadline)
{
        for (;;) {
                struct pollfd pfd = { pidfd, POLLIN, 0 };
                int64_t left = deadline - now_ms();

                if (poll(&pfd, 1, left > 0 ? (int)left : 0) == 1)
                        return 1;
                if (left <= 0)
                        return 0;
        }
}

/* Kill a child that missed its deadline and reap it; 0 if reaped, -1 if it
 * did not die within the grace time (left to the caller's SIGCHLD handling). */
static int kill_and_reap(int pidfd)
{
        struct pollfd pfd = { pidfd, POLLIN, 0 };
        siginfo_t info;

        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        if (poll(&pfd, 1, KILL_GRACE_MS) != 1)
                return -1;
        while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0 && errno == EINTR)
                ;
        return 0;
}

/* Fill the plan's descriptors: stdio and what the caller passes. A terminal
 * reaches the worker only through apid_launch_attr_set_terminal(). */
static int plan_fds(struct apid__plan *plan, const apid_launch_attr *attr, int *devnull)
{
        int tty = attr ? attr->tty_fd : -1, i;

        /* stdin, stdout, stderr: inherited (or the terminal) unless the caller maps them. */
        for (i = 0; i < 3; i++) {
                plan->fds[plan->n_fds].src = tty >= 0 ? tty : i;
                plan->fds[plan->n_fds].dst = i;
                plan->n_fds++;
        }
        for (i = 0; attr && i < attr->n_fds; i++) {
                int j, slot = plan->n_fds;

                for (j = 0; j < 3; j++)
                        if (plan->fds[j].dst == attr->fds[i].dst)
                                slot = j;
                plan->fds[slot].src = attr->fds[i].src;
                plan->fds[slot].dst = attr->fds[i].dst;
                if (slot == plan->n_fds)
                        plan->n_fds++;
        }
        /* Stdio closed in the caller is /dev/null in the worker (a closed 0, 1 or
         * 2 would make its first open() its stdout); a passed descriptor closed
         * since it was given is an error. A terminal on 0, 1 or 2 that the caller
         * did not give as the terminal is /dev/null too (a worker could read
         * what is typed next, or change its modes); one passed as 3 or above is
         * an error. */
        for (i = 0; i < plan->n_fds; i++) {
                int src = plan->fds[i].src, dst = plan->fds[i].dst, closed, terminal = 0;

                /* Without a terminal given, one call tells all three: a
                 * terminal, open but no terminal (ENOTTY), closed (EBADF). */
                if (tty < 0) {
                        terminal = isatty(src);
                        closed = !terminal && errno == EBADF;
                } else
                        closed = fcntl(src, F_GETFD) < 0;

                if (!closed && !terminal)
                        continue;
                if (dst > 2 && closed)
                        return apid__fail(APID_EINVAL, EBADF, "launch: descriptor %d (for the worker's %d) is closed",
                                          src, dst);
                if (dst > 2)
                        return apid__fail(APID_EINVAL, ENOTTY,
                                          "launch: descriptor %d (for the worker's %d) is a terminal; give a "
                                          "terminal with apid_launch_attr_set_terminal()", src, dst);
                if (closed && src != dst)
                        return apid__fail(APID_EINVAL, EBADF, "launch: descriptor %d (for the worker's %d) is closed",
                                          src, dst);
                if (*devnull < 0)
                        *devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (*devnull < 0)
                        return apid__fail(APID_ESYS, errno, "launch: /dev/null: %s", strerror(errno));
                plan->fds[i].src = *devnull;
        }
        for (i = 0; i < plan->n_fds; i++)
                if (plan->fds[i].dst > plan->max_dst)
                        plan->max_dst = plan->fds[i].dst;
        plan->controlling_tty = tty >= 0;
        return APID_OK;
}

/* Start the child and wait, at most until the deadline, for its execve (or
 * its exit after a failed step). The child runs on the area with CLONE_VM but
 * without CLONE_VFORK: a child the pool stops (it runs as the pool from
 * setresuid() on) cannot hold the launching thread. */
static int start_child(struct launch_area *area, const char *path, uint32_t timeout_ms, apid_process *proc)
{
        struct apid__plan *plan = &area->plan;
        int pidfd = -1, released, failed, err;
        int64_t deadline;
        sigset_t all, old;
        pid_t pid;

        /* Cleared by the kernel when the child execs or exits (wait_released()). */
        area->released = 1;
        /* No signal handler may run in the child before it resets them; and
         * none in this thread while it shares its memory (and errno) with the
         * child. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        deadline = now_ms() + timeout_ms;
        APID__STAMP(P_CLONE);
        if (plan->cgroup2_fd >= 0)
                pid = apid__clone3_into_cgroup(child_main, plan, (char *)area + AREA_SIZE - CHILD_STACK, CHILD_STACK,
                                               plan->cgroup2_fd, &pidfd, &area->released);
        else
                pid = clone(child_main, (char *)area + AREA_SIZE,
                            CLONE_VM | CLONE_PIDFD | CLONE_CHILD_CLEARTID | SIGCHLD, plan, &pidfd, NULL,
                            &area->released);
        err = errno;
        if (pid < 0) {
                pthread_sigmask(SIG_SETMASK, &old, NULL);
                if (plan->cgroup2_fd >= 0)
                        return apid__fail(err == EACCES || err == EPERM ? APID_EPERM : APID_ESYS, err,
                                          "clone3(CLONE_INTO_CGROUP, cgroup %d): %s%s", plan->cgroup2_fd,
                                          strerror(err), err == ENOSYS ? " (Linux 5.7 or later)" : "");
                return apid__fail(APID_ESYS, err, "clone: %s", strerror(err));
        }
        released = wait_released(&area->released, deadline);
        APID__STAMP(P_EOF);
        /* A step failed: the child has let go of our memory on its way out,
         * and is reaped once it has exited, still within the deadline. */
        failed = plan->failed_step != APID__STEP_NONE;
        if (released && failed)
                released = wait_exited(pidfd, deadline);
        if (!released) {
                if (kill_and_reap(pidfd) < 0) {
                        abandon_area();
                        if (quarantine_add(pidfd, area) == 0)
                                pidfd = -1;
                }
                pthread_sigmask(SIG_SETMASK, &old, NULL);
                if (pidfd >= 0)
                        close(pidfd);
                if (failed)
                        return apid__fail(APID_ESYS, ETIMEDOUT,
                                          "launch %s: the child failed but did not exit within %u ms (stopped?); "
                                          "killed", path, timeout_ms);
                return apid__fail(APID_ESYS, ETIMEDOUT,
                                  "launch %s: the child had not reached execve after %u ms (stopped by the pool, or "
                                  "stuck in the kernel); killed", path, timeout_ms);
        }
        if (failed) {
                siginfo_t info;

                while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0 && errno == EINTR)
                        ;
                pthread_sigmask(SIG_SETMASK, &old, NULL);
                close(pidfd);
                return apid__step_fail(plan);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        proc->pid = pid;
        proc->pidfd = pidfd;
        return APID_OK;
}

/* The plan both kinds of launch share: the program, the token's steps, the
 * directory, the descriptors and the cgroups. */
static int plan_launch(const apid_token *t, const apid_launch_attr *attr, const char *path, const char *const *argv,
                       int in_place, struct apid__plan *plan, char *program, size_t size, int *devnull)
{
        int r = resolve_program(t, path, program, size);

        if (r < 0)
                return r;
        APID__STAMP(P_RESOLVE);
        r = apid__token_plan(t, plan);
        if (r < 0)
                return r;
        APID__STAMP(P_PLAN);
        plan->in_place = in_place;
        plan->path = program;
        plan->argv = (char *const *)argv;
        plan->envp = t->env;
        plan->new_session = 1;
        /* Never the caller's directory: the one asked for, else the profile, else the root. */
        plan->cwd = attr && attr->cwd ? attr->cwd : t->profile ? t->profile : "/";
        plan->cwd_fallback = attr && attr->cwd ? NULL : "/";
        plan->pdeathsig = attr ? attr->pdeathsig : 0;
        r = plan_fds(plan, attr, devnull);
        APID__STAMP(P_FDS);
        if (r == APID_OK)
                r = plan_cgroups(plan, attr);
        APID__STAMP(P_CGROUPS);
        return r;
}

/* No clone, no parent waiting: the caller becomes the worker, as setpriv(1)
 * and env(1) do (issue 17: `apppoolctl run` without a terminal). The steps
 * are the child's (launch-child.c), run here up to the execve. */
APID_EXPORT int apid_launch_exec(const apid_token *t, const apid_launch_attr *attr, const char *path,
                                 const char *const *argv)
{
        static struct apid__plan plan; /* 3 KiB; the process is single-threaded */
        static char program[4096];
        int devnull = -1, r, n;
        sigset_t all;

        if (!t || !path || !argv || !argv[0])
                return apid__fail(APID_EINVAL, 0, "apid_launch_exec: NULL argument (argv needs argv[0])");
        n = apid__thread_count();
        if (n != 1)
                return apid__fail(APID_EINVAL, 0,
                                  "apid_launch_exec: the process has %d threads; credentials are per thread on "
                                  "Linux, so exec in place before starting threads (or use apid_launch())", n);
        /* The worker leads a session of its own, and setsid() fails for a
         * process group leader (a shell's job): checked before any step. */
        if (getpgid(0) == getpid())
                return apid__fail(APID_EBUSY, EPERM,
                                  "apid_launch_exec: pid %d leads its process group, so it cannot start the "
                                  "worker's session (setsid); fork first, or use apid_launch()", (int)getpid());
        r = apid__privileged_enough("launch");
        if (r < 0)
                return r;
        memset(&plan, 0, sizeof(plan));
        r = plan_launch(t, attr, path, argv, 1, &plan, program, sizeof(program), &devnull);
        if (r < 0) {
                if (devnull >= 0)
                        close(devnull);
                close_cgroups(&plan);
                return r;
        }
        /* The parent-death signal is the caller's parent's. */
        plan.parent = getppid();
        fflush(NULL);
        /* No handler of the caller's may run once the steps have begun; the
         * last step before execve clears the mask. */
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        apid__child_steps(&plan, 1, 1);
        /* A step failed: the process is half the worker's; it cannot return. */
        apid__step_fail(&plan);
        dprintf(2, "%s: %s\n", program_invocation_short_name, apid_error_message());
        _exit(127);
}

APID_EXPORT int apid_launch(const apid_token *t, const apid_launch_attr *attr, const char *path,
                            const char *const *argv, apid_process **out)
{
        struct launch_area *area;
        struct apid__plan *plan;
        apid_process *proc;
        int devnull = -1, r;

        if (!t || !path || !argv || !argv[0] || !out)
                return apid__fail(APID_EINVAL, 0, "apid_launch: NULL argument (argv needs argv[0])");
        APID__STAMP(P_ENTER);
        r = apid__privileged_enough("launch");
        if (r < 0)
                return r;
        APID__STAMP(P_PRIV);
        area = child_area();
        if (!area)
                return apid__fail_oom();
        APID__STAMP(P_AREA);
        plan = &area->plan;
        r = plan_launch(t, attr, path, argv, 0, plan, area->program, sizeof(area->program), &devnull);
        plan->bset_absent = area->bset_absent;
        plan->bset_known = area->bset_known;
        proc = r == APID_OK ? calloc(1, sizeof(*proc)) : NULL;
        if (r == APID_OK && !proc)
                r = apid__fail_oom();
        APID__STAMP(P_ALLOC);
        if (r == APID_OK)
                r = start_child(area, path, attr && attr->timeout_ms ? attr->timeout_ms : DEFAULT_TIMEOUT_MS, proc);
        APID__STAMP(P_DONE);
        if (r == APID_OK) {
                /* The child has exec'd: done with the plan. */
                area->bset_absent = plan->bset_absent;
                area->bset_known = plan->bset_known;
        }
        if (devnull >= 0)
                close(devnull);
        /* After the launch: a new area never takes the address of one still
         * quarantined (a test looks for its unmapping). */
        quarantine_sweep();
        close_cgroups(plan);
        APID__STAMP(P_END);
        if (r < 0) {
                free(proc);
                return r;
        }
        *out = proc;
        return APID_OK;
}

APID_EXPORT int apid_process_get_pid(const apid_process *p)
{
        return p ? p->pid : -1;
}

APID_EXPORT int apid_process_get_fd(const apid_process *p)
{
        return p ? p->pidfd : -1;
}

APID_EXPORT int apid_process_signal(apid_process *p, int signal)
{
        if (!p)
                return apid__fail(APID_EINVAL, 0, "apid_process_signal: process is NULL");
        if (p->reaped)
                return apid__fail(APID_ESYS, ESRCH, "signal %d to pid %d: it has exited", signal, p->pid);
        if (syscall(SYS_pidfd_send_signal, p->pidfd, signal, NULL, 0) < 0)
                return apid__fail(errno == EPERM ? APID_EPERM : APID_ESYS, errno, "signal %d to pid %d: %s", signal,
                                  p->pid, strerror(errno));
        return APID_OK;
}

APID_EXPORT int apid_process_wait(apid_process *p, int timeout_ms)
{
        siginfo_t info;
        int r;

        if (!p)
                return apid__fail(APID_EINVAL, 0, "apid_process_wait: process is NULL");
        if (p->reaped)
                return APID_OK;
        APID__STAMP(W_ENTER);
        if (timeout_ms >= 0) {
                struct pollfd pfd = { p->pidfd, POLLIN, 0 };

                do
                        r = poll(&pfd, 1, timeout_ms);
                while (r < 0 && errno == EINTR);
                if (r < 0)
                        return apid__fail(APID_ESYS, errno, "poll pid %d: %s", p->pid, strerror(errno));
                if (r == 0)
                        return apid__fail(APID_EBUSY, 0, "pid %d: still running after %d ms", p->pid, timeout_ms);
        }
        APID__STAMP(W_POLL);
        memset(&info, 0, sizeof(info));
        while ((r = waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &info, WEXITED)) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return apid__fail(APID_ESYS, errno, "waitid pid %d: %s", p->pid, strerror(errno));
        APID__STAMP(W_REAPED);
        p->reaped = 1;
        p->status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8
                    : (info.si_status & 0x7f) | (info.si_code == CLD_DUMPED ? 0x80 : 0);
        return APID_OK;
}

APID_EXPORT int apid_process_exit_code(const apid_process *p)
{
        return p && p->reaped && WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}

APID_EXPORT int apid_process_term_signal(const apid_process *p)
{
        return p && p->reaped && WIFSIGNALED(p->status) ? WTERMSIG(p->status) : 0;
}

APID_EXPORT void apid_process_free(apid_process *p)
{
        if (!p)
                return;
        if (!p->reaped) {
                struct apid__error_state err;

                /* A free never replaces the caller's last error. */
                apid__error_save(&err);
                syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
                if (apid_process_wait(p, -1) < 0)
                        p->reaped = 1; /* nothing more can be done: do not wait again */
                apid__error_restore(&err);
        }
        close(p->pidfd);
        free(p);
        APID__STAMP(F_END);
        APID__TIMING_COMMIT();
}

#ifdef APID_LAUNCH_TIMING
/* ---- the timing build (launch-timing.h) ---- */
#define TIMING_MAX 20000
volatile uint64_t apid__timing_now[APID__T_COUNT];
static uint32_t timing_delta[APID__T_COUNT][TIMING_MAX];
static int timing_n;
#define TIMING_NAME(n) #n,
static const char *const timing_names[] = { APID__TIMING_POINTS(TIMING_NAME) };

void apid__timing_commit(void)
{
        int i;

        if (timing_n == TIMING_MAX)
                return;
        for (i = 1; i < APID__T_COUNT; i++)
                timing_delta[i][timing_n] = (uint32_t)(apid__timing_now[i] - apid__timing_now[i - 1]);
        timing_delta[0][timing_n] = (uint32_t)(apid__timing_now[APID__T_F_END] - apid__timing_now[0]);
        timing_n++;
}

static int timing_cmp(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return x < y ? -1 : x > y;
}

__attribute__((destructor)) static void timing_print(void)
{
        double sum = 0;
        int i;

        if (timing_n == 0)
                return;
        fprintf(stderr, "launch timing: %d launches; median us of each step (from the previous point)\n", timing_n);
        for (i = 0; i < APID__T_COUNT; i++) {
                double med;

                qsort(timing_delta[i], (size_t)timing_n, sizeof(uint32_t), timing_cmp);
                med = timing_delta[i][timing_n / 2] / 1000.0;
                if (i > 0)
                        sum += med;
                fprintf(stderr, "  %-16s %8.1f%s\n", timing_names[i], med,
                        i == 0 ? "  (whole: launch, wait, free)" : "");
        }
        fprintf(stderr, "  %-16s %8.1f\n", "sum of medians", sum);
}
#endif
