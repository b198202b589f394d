/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The inheritance probe: prints, as "key=value" lines on stdout, every piece
 * of process state a Linux child can inherit, as seen from inside a worker.
 * tests/test-inherit.c runs it in a deliberately dirty parent and under a
 * default token, and compares both dumps with tests/launch/inherited-state.tsv
 * (which docs/security.md#inherited-state mirrors).
 *
 * Only ordinary queries: /proc/self files (personality included), getrlimit, sigaction queries,
 * prctl(PR_GET_*), sched_get*, getpriority, ioprio_get. A query that the
 * worker's system-call filter refuses prints "denied" instead of a value, so
 * the probe never dies of the filter. It installs no signal handler and opens
 * nothing it does not close, so what it reports is what it was given.
 * Values that differ from run to run (pipe inodes, pids) are reduced to
 * their kind. Usage: probe [SECRET_KEY_DESCRIPTION] */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

static int denied(int err)
{
        return err == EPERM || err == ENOSYS || err == EACCES;
}

/* "key=value" for a long-returning query; "denied" when the filter refused it. */
static void print_query(const char *key, long r, int err)
{
        if (r < 0)
                printf("%s=%s\n", key, denied(err) ? "denied" : strerror(err));
        else
                printf("%s=%ld\n", key, r);
}

/* The value of "Field:" in /proc/self/status, whitespace squeezed. */
static void status_field(const char *key, const char *field)
{
        char line[512], *v;
        size_t n = strlen(field);
        FILE *f = fopen("/proc/self/status", "re");
        int found = 0;

        while (f && fgets(line, sizeof(line), f)) {
                if (strncmp(line, field, n) != 0 || line[n] != ':')
                        continue;
                v = line + n + 1;
                v += strspn(v, " \t");
                v[strcspn(v, "\n")] = '\0';
                for (size_t end = strlen(v); end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'); end--)
                        v[end - 1] = '\0';
                for (char *p = v; *p; p++)
                        if (*p == '\t')
                                *p = ' ';
                printf("%s=%s\n", key, v);
                found = 1;
        }
        if (f)
                fclose(f);
        if (!found)
                printf("%s=%s\n", key, f ? "absent" : "denied");
}

/* A small /proc/self file's first line. */
static void proc_line(const char *key, const char *path)
{
        char line[512] = "";
        FILE *f = fopen(path, "re");

        if (!f) {
                printf("%s=%s\n", key, errno == ENOENT ? "absent" : denied(errno) ? "denied" : strerror(errno));
                return;
        }
        if (!fgets(line, sizeof(line), f))
                line[0] = '\0';
        fclose(f);
        line[strcspn(line, "\n")] = '\0';
        printf("%s=%s\n", key, line);
}

static void proc_link(const char *key, const char *path)
{
        char target[4096];
        ssize_t n = readlink(path, target, sizeof(target) - 1);

        if (n < 0) {
                printf("%s=%s\n", key, denied(errno) ? "denied" : strerror(errno));
                return;
        }
        target[n] = '\0';
        printf("%s=%s\n", key, target);
}

/* Open descriptors, each reduced to its kind: tty, pipe, socket, /dev/null, a path. */
static void descriptors(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int fds[1024], n = 0, i, self;
        char list[4096] = "";

        if (!d) {
                printf("fds=denied\n");
                return;
        }
        self = dirfd(d);
        while ((de = readdir(d)) && n < 1024) {
                if (de->d_name[0] == '.' || atoi(de->d_name) == self)
                        continue;
                fds[n++] = atoi(de->d_name);
        }
        closedir(d);
        for (i = 1; i < n; i++) /* insertion sort: readdir's order is the kernel's */
                for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
                        int t = fds[j];

                        fds[j] = fds[j - 1];
                        fds[j - 1] = t;
                }
        for (i = 0; i < n; i++)
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i ? "," : "", fds[i]);
        printf("fds=%s\n", list);
        for (i = 0; i < n && fds[i] <= 2; i++) {
                char path[64], target[4096];
                ssize_t len;

                snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
                len = readlink(path, target, sizeof(target) - 1);
                target[len > 0 ? len : 0] = '\0';
                printf("fd.%d=%s\n", fds[i],
                       isatty(fds[i])                   ? "tty"
                       : strncmp(target, "pipe:", 5) == 0 ? "pipe"
                       : strncmp(target, "socket:", 7) == 0 ? "socket"
                                                          : target);
        }
}

static void session_and_tty(void)
{
        char buf[1024], *p;
        FILE *f = fopen("/proc/self/stat", "re");
        int tty_nr = -1, fd;

        /* pid (comm) state ppid pgrp session tty_nr ...; comm may hold spaces. */
        if (f && fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
                sscanf(p + 2, "%*c %*d %*d %*d %d", &tty_nr);
        if (f)
                fclose(f);
        printf("ctty=%s\n", tty_nr < 0 ? "denied" : tty_nr == 0 ? "none" : "yes");
        printf("session_leader=%d\n", getsid(0) == getpid());
        printf("pgrp_leader=%d\n", getpgrp() == getpid());
        fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        printf("dev_tty=%s\n", fd >= 0 ? "opens" : errno == ENXIO ? "ENXIO" : strerror(errno));
        if (fd >= 0)
                close(fd);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the environment, sorted; values are not printed (secrets). */
static void environment(void)
{
        char *names[256], out[4096] = "";
        int n = 0, i;

        for (char **e = environ; *e && n < 256; e++) {
                names[n] = strndup(*e, strcspn(*e, "="));
                if (names[n])
                        n++;
        }
        qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
        for (i = 0; i < n; i++) {
                snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "", names[i]);
                free(names[i]);
        }
        printf("env.names=%s\n", out);
}

static void limits(void)
{
        static const struct {
                const char *name;
                int resource;
        } r[] = {
                { "AS", RLIMIT_AS },           { "CORE", RLIMIT_CORE },         { "CPU", RLIMIT_CPU },
                { "DATA", RLIMIT_DATA },       { "FSIZE", RLIMIT_FSIZE },       { "LOCKS", RLIMIT_LOCKS },
                { "MEMLOCK", RLIMIT_MEMLOCK }, { "MSGQUEUE", RLIMIT_MSGQUEUE }, { "NICE", RLIMIT_NICE },
                { "NOFILE", RLIMIT_NOFILE },   { "NPROC", RLIMIT_NPROC },       { "RSS", RLIMIT_RSS },
                { "RTPRIO", RLIMIT_RTPRIO },   { "RTTIME", RLIMIT_RTTIME },     { "SIGPENDING", RLIMIT_SIGPENDING },
                { "STACK", RLIMIT_STACK },
        };

        for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
                struct rlimit rl;
                char soft[32], hard[32];

                if (getrlimit(r[i].resource, &rl) < 0) {
                        printf("rlimit.%s=%s\n", r[i].name, denied(errno) ? "denied" : strerror(errno));
                        continue;
                }
                snprintf(soft, sizeof(soft), rl.rlim_cur == RLIM_INFINITY ? "unlimited" : "%llu",
                         (unsigned long long)rl.rlim_cur);
                snprintf(hard, sizeof(hard), rl.rlim_max == RLIM_INFINITY ? "unlimited" : "%llu",
                         (unsigned long long)rl.rlim_max);
                printf("rlimit.%s=%s/%s\n", r[i].name, soft, hard);
        }
}

/* Ignored signals and those with a handler, by sigaction queries (the
 * kernel's view is also in SigIgn/SigCgt of /proc/self/status). */
static void signals(void)
{
        char ign[512] = "", cgt[512] = "";
        sigset_t mask;
        int sig;

        for (sig = 1; sig < NSIG; sig++) {
                struct sigaction sa;

                if (sigaction(sig, NULL, &sa) < 0)
                        continue;
                if (sa.sa_handler == SIG_IGN)
                        snprintf(ign + strlen(ign), sizeof(ign) - strlen(ign), "%s%d", ign[0] ? "," : "", sig);
                else if (sa.sa_handler != SIG_DFL)
                        snprintf(cgt + strlen(cgt), sizeof(cgt) - strlen(cgt), "%s%d", cgt[0] ? "," : "", sig);
        }
        printf("signal.ignored=%s\n", ign[0] ? ign : "none");
        printf("signal.handled=%s\n", cgt[0] ? cgt : "none");
        if (sigprocmask(SIG_SETMASK, NULL, &mask) == 0) {
                char blk[512] = "";

                for (sig = 1; sig < NSIG; sig++)
                        if (sigismember(&mask, sig) == 1)
                                snprintf(blk + strlen(blk), sizeof(blk) - strlen(blk), "%s%d", blk[0] ? "," : "",
                                         sig);
                printf("signal.blocked=%s\n", blk[0] ? blk : "none");
        } else {
                printf("signal.blocked=denied\n");
        }
        status_field("signal.pending", "SigPnd");
        status_field("signal.shared_pending", "ShdPnd");
}

static void timers(void)
{
        static const struct {
                const char *name;
                int which;
        } t[] = { { "real", ITIMER_REAL }, { "virtual", ITIMER_VIRTUAL }, { "prof", ITIMER_PROF } };

        for (size_t i = 0; i < 3; i++) {
                struct itimerval v;

                if (getitimer(t[i].which, &v) < 0)
                        printf("itimer.%s=denied\n", t[i].name);
                else
                        printf("itimer.%s=%s\n", t[i].name,
                               v.it_value.tv_sec || v.it_value.tv_usec || v.it_interval.tv_sec ||
                                               v.it_interval.tv_usec
                                       ? "armed"
                                       : "off");
        }
}

static void scheduling(void)
{
        cpu_set_t set;
        long r;
        int err;

        errno = 0;
        r = getpriority(PRIO_PROCESS, 0);
        if (r == -1 && errno)
                print_query("nice", -1, errno);
        else
                printf("nice=%ld\n", r);
        r = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
        err = errno;
        if (r < 0)
                print_query("ioprio", r, err);
        else
                printf("ioprio=class%ld/%ld\n", r >> 13, r & 0xff);
        r = sched_getscheduler(0);
        err = errno;
        if (r < 0)
                print_query("sched.policy", r, err);
        else
                printf("sched.policy=%ld%s\n", r & ~(long)SCHED_RESET_ON_FORK,
                       (r & SCHED_RESET_ON_FORK) ? "+reset_on_fork" : "");
        CPU_ZERO(&set);
        if (sched_getaffinity(0, sizeof(set), &set) < 0) {
                printf("cpu.affinity=denied\n");
        } else {
                char list[1024] = "";

                for (int c = 0; c < CPU_SETSIZE; c++)
                        if (CPU_ISSET(c, &set))
                                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d",
                                         list[0] ? "," : "", c);
                printf("cpu.affinity=%s\n", list);
        }
        r = syscall(SYS_get_mempolicy, &err, NULL, 0, NULL, 0);
        if (r < 0)
                print_query("mempolicy", r, errno);
        else
                printf("mempolicy=%d\n", err);
}

static void prctls(void)
{
        long r;

        /* The kernel's own view, a file: not subject to the filter's view of
         * personality(), which a worker may not be allowed to call. */
        proc_line("personality", "/proc/self/personality");
        r = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
        if (r < 0)
                print_query("securebits", r, errno);
        else
                printf("securebits=0x%lx\n", r);
        print_query("no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), errno);
        print_query("dumpable", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), errno);
        {
                int sig = -1;
                long q = prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);

                print_query("pdeathsig", q < 0 ? q : sig, errno);
        }
        print_query("keepcaps", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), errno);
        {
                int sub = -1;
                long q = prctl(PR_GET_CHILD_SUBREAPER, &sub, 0, 0, 0);

                print_query("child_subreaper", q < 0 ? q : sub, errno);
        }
        print_query("timerslack_ns", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), errno);
        print_query("thp_disable", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0), errno);
        print_query("mce_kill", prctl(PR_MCE_KILL_GET, 0, 0, 0, 0), errno);
#ifndef PR_GET_MDWE
#define PR_GET_MDWE 66
#endif
        {
                long q = prctl(PR_GET_MDWE, 0, 0, 0, 0);

                if (q < 0 && errno == EINVAL)
                        printf("mdwe=absent\n");
                else
                        print_query("mdwe", q, errno);
        }
}

static void capabilities(void)
{
        status_field("cap.inheritable", "CapInh");
        status_field("cap.permitted", "CapPrm");
        status_field("cap.effective", "CapEff");
        status_field("cap.bounding", "CapBnd");
        status_field("cap.ambient", "CapAmb");
}

static void namespaces(void)
{
        static const char *const ns[] = { "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts" };

        for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
                char key[32], path[64];

                snprintf(key, sizeof(key), "ns.%s", ns[i]);
                snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
                proc_link(key, path);
        }
}

/* Whether the key the parent put in its session keyring is visible: a key
 * is listed in /proc/keys when its holder possesses it (through its session
 * keyring) or may view it. */
static void keyrings(const char *secret)
{
        char line[512];
        int found = 0;
        FILE *f = fopen("/proc/keys", "re");

        if (!f) {
                printf("keys.parent_secret=%s\n", errno == ENOENT ? "absent" : "denied");
                return;
        }
        while (fgets(line, sizeof(line), f)) {
                if (secret && strstr(line, secret))
                        found = 1;
        }
        fclose(f);
        printf("keys.parent_secret=%s\n", !secret ? "unknown" : found ? "visible" : "absent");
}

static void io_uring(void)
{
        /* entries=0 is refused with EINVAL before anything is made: a probe
         * of whether io_uring_setup is reachable, without a ring. */
        long r = syscall(SYS_io_uring_setup, 0, NULL);
        int err = errno;

        if (r >= 0)
                close((int)r);
        printf("io_uring=%s\n", r >= 0 || err == EINVAL || err == EFAULT ? "reachable"
                                : denied(err)                          ? "denied"
                                                                       : strerror(err));
}

int main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOFBF, 1 << 16);
        status_field("ids.uid", "Uid");
        status_field("ids.gid", "Gid");
        status_field("ids.groups", "Groups");
        descriptors();
        session_and_tty();
        proc_link("cwd", "/proc/self/cwd");
        proc_link("root", "/proc/self/root");
        status_field("umask", "Umask");
        environment();
        limits();
        signals();
        timers();
        scheduling();
        prctls();
        capabilities();
        status_field("no_new_privs.status", "NoNewPrivs");
        status_field("seccomp", "Seccomp");
        status_field("seccomp.filters", "Seccomp_filters");
        status_field("tracer", "TracerPid");
        keyrings(argc > 1 ? argv[1] : NULL);
        proc_line("cgroup", "/proc/self/cgroup");
        namespaces();
        proc_line("oom_score_adj", "/proc/self/oom_score_adj");
        proc_line("coredump_filter", "/proc/self/coredump_filter");
        proc_line("loginuid", "/proc/self/loginuid");
        proc_line("sessionid", "/proc/self/sessionid");
        proc_line("lsm.label", "/proc/self/attr/current");
        io_uring();
        return fflush(stdout) == 0 ? 0 : 1;
}
