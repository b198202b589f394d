/* Launching a program under a token (the parent side), and process handles
 * with pidfds. The child side is launch-child.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch-internal.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define CHILD_STACK (64 * 1024)

struct apid_launch_attr {
        struct { int src, dst; } fds[APID__MAX_FDS];
        int n_fds;
        char *cwd;
        int pdeathsig;
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

/* The child's stack: one per launching thread, kept for its next launch
 * (the child is done with it once clone() returns: CLONE_VFORK), unmapped
 * when the thread exits. */
static pthread_key_t stack_key;
static pthread_once_t stack_once = PTHREAD_ONCE_INIT;

static void stack_release(void *stack)
{
        munmap(stack, CHILD_STACK);
}

static void stack_key_init(void)
{
        pthread_key_create(&stack_key, stack_release);
}

static void *child_stack(void)
{
        void *stack;

        pthread_once(&stack_once, stack_key_init);
        stack = pthread_getspecific(stack_key);
        if (stack)
                return stack;
        stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
                return NULL;
        if (pthread_setspecific(stack_key, stack) != 0) {
                munmap(stack, CHILD_STACK);
                return NULL;
        }
        return stack;
}

static int child_main(void *arg)
{
        struct apid__plan *p = arg;

        apid__child_steps(p, 1, 1);
        /* The parent reads the step and errno from the shared plan. A raw exit:
         * no libc (or sanitizer) exit handler may run in this child. */
        syscall(SYS_exit_group, 127);
        return 127;
}

APID_EXPORT int apid_launch(const apid_token *t, const apid_launch_attr *attr, const char *path,
                            const char *const *argv, apid_process **out)
{
        struct apid__plan plan;
        char program[4096];
        sigset_t all, old;
        apid_process *proc;
        void *stack;
        int pidfd = -1, devnull = -1, i, r;
        pid_t pid;

        if (!t || !path || !argv || !argv[0] || !out)
                return apid__fail(APID_EINVAL, 0, "apid_launch: NULL argument (argv needs argv[0])");
        r = apid__privileged_enough("launch");
        if (r < 0)
                return r;
        r = resolve_program(t, path, program, sizeof(program));
        if (r < 0)
                return r;
        r = apid__token_plan(t, &plan);
        if (r < 0)
                return r;
        plan.path = program;
        plan.argv = (char *const *)argv;
        plan.envp = t->env;
        plan.new_session = 1;
        /* stdin, stdout, stderr: inherited unless the caller maps them. */
        for (i = 0; i < 3; i++) {
                plan.fds[plan.n_fds].src = i;
                plan.fds[plan.n_fds].dst = i;
                plan.n_fds++;
        }
        if (attr) {
                for (i = 0; i < attr->n_fds; i++) {
                        int j, slot = plan.n_fds;

                        for (j = 0; j < 3; j++)
                                if (plan.fds[j].dst == attr->fds[i].dst)
                                        slot = j;
                        plan.fds[slot].src = attr->fds[i].src;
                        plan.fds[slot].dst = attr->fds[i].dst;
                        if (slot == plan.n_fds)
                                plan.n_fds++;
                }
                plan.cwd = attr->cwd;
                plan.pdeathsig = attr->pdeathsig;
        }
        /* Stdio closed in the caller is /dev/null in the worker (a closed 0, 1 or
         * 2 would make its first open() its stdout); a passed descriptor closed
         * since it was given is an error. */
        for (i = 0; i < plan.n_fds; i++) {
                if (fcntl(plan.fds[i].src, F_GETFD) >= 0)
                        continue;
                if (plan.fds[i].src != plan.fds[i].dst || plan.fds[i].dst > 2) {
                        r = apid__fail(APID_EINVAL, EBADF, "launch: descriptor %d (for the worker's %d) is closed",
                                       plan.fds[i].src, plan.fds[i].dst);
                        goto close_null;
                }
                if (devnull < 0)
                        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (devnull < 0) {
                        r = apid__fail(APID_ESYS, errno, "launch: /dev/null: %s", strerror(errno));
                        goto close_null;
                }
                plan.fds[i].src = devnull;
        }
        for (i = 0; i < plan.n_fds; i++)
                if (plan.fds[i].dst > plan.max_dst)
                        plan.max_dst = plan.fds[i].dst;
        proc = calloc(1, sizeof(*proc));
        stack = child_stack();
        if (!proc || !stack) {
                free(proc);
                r = apid__fail_oom();
                goto close_null;
        }
        /* No signal handler may run in the child before it resets them. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pid = clone(child_main, (char *)stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &plan,
                    &pidfd);
        r = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (devnull >= 0)
                close(devnull);
        if (pid < 0) {
                free(proc);
                return apid__fail(APID_ESYS, r, "clone: %s", strerror(r));
        }
        if (plan.failed_step) {
                siginfo_t info;

                /* The child exited at once; reap it and report its step. */
                while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0 && errno == EINTR)
                        ;
                close(pidfd);
                free(proc);
                return apid__step_fail(&plan);
        }
        proc->pid = pid;
        proc->pidfd = pidfd;
        *out = proc;
        return APID_OK;
close_null:
        if (devnull >= 0)
                close(devnull);
        return r;
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
        memset(&info, 0, sizeof(info));
        while ((r = waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &info, WEXITED)) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return apid__fail(APID_ESYS, errno, "waitid pid %d: %s", p->pid, strerror(errno));
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
                syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
                if (apid_process_wait(p, -1) < 0)
                        p->reaped = 1; /* nothing more can be done: do not wait again */
        }
        close(p->pidfd);
        free(p);
}
