/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-pool resource limits through cgroups (see cgroup.h): IIS's <cpu>,
 * recycling.periodicRestart.privateMemory and our process-count limit mapped
 * to cgroup v2 or v1 files. The hierarchies are found the way systemd's
 * cg_get_path()/cg_pid_get_path() do (read, not copied): the host's own cgroup
 * in /proc/self/cgroup, the mount points in /proc/self/mountinfo; pool
 * cgroups go below the host's own (delegation: with systemd, Delegate=yes). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "config.h"

enum { H_V2, H_MEMORY, H_PIDS, H_CPU, H_CPUACCT, H_N };
static const char *const controller[H_N] = { "", "memory", "pids", "cpu", "cpuacct" };

struct pool_cgroups {
        int used;
        int fd[H_N];            /* O_DIRECTORY of the pool's cgroup in each hierarchy, -1: none */
        int v2[H_N];            /* that hierarchy is the unified one */
        char path[H_N][PATH_MAX];
        struct pool_limits limits;
        uint64_t oom_kills;     /* counted so far (memory.events or memory.oom_control) */
        uint64_t window_usage;  /* CPU µs at the start of the KillW3wp window */
        time_t window_start;
        int cpu_kills;          /* workers killed for KillW3wp, not yet reported */
};

static struct pool_cgroups pcg[MAX_POOLS];
static int atexit_done;
static void teardown_all(void);
static void (*say)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The mount point of a hierarchy (v2: fstype cgroup2; v1: a "cgroup" mount
 * whose super options name the controller) and the host's path in it. */
static int find_hierarchy(int h, char *mount, size_t msize, char *own, size_t osize)
{
        char line[4096];
        FILE *f = fopen("/proc/self/mountinfo", "re");
        int found = 0;

        if (!f)
                return -1;
        while (!found && fgets(line, sizeof(line), f)) {
                char *dash = strstr(line, " - "), mnt[PATH_MAX], fstype[64], super[1024];
                char *opt, *save = NULL;

                if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
                    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
                        continue;
                if (h == H_V2) {
                        found = strcmp(fstype, "cgroup2") == 0;
                } else if (strcmp(fstype, "cgroup") == 0) {
                        for (opt = strtok_r(super, ",", &save); opt && !found; opt = strtok_r(NULL, ",", &save))
                                found = strcmp(opt, controller[h]) == 0;
                }
                if (found)
                        snprintf(mount, msize, "%s", mnt);
        }
        fclose(f);
        if (!found)
                return -1;
        /* "4:memory:/a/b" (v1, the controller among the names), "0::/a/b" (v2). */
        f = fopen("/proc/self/cgroup", "re");
        if (!f)
                return -1;
        found = 0;
        while (!found && fgets(line, sizeof(line), f)) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *opt, *save = NULL;

                if (!c2)
                        continue;
                *c2 = '\0';
                line[strcspn(line, "\n")] = '\0';
                c2[1 + strcspn(c2 + 1, "\n")] = '\0';
                if (h == H_V2)
                        found = c1 == line + 1 && line[0] == '0' && c2 == c1 + 1;
                else
                        for (opt = strtok_r(c1 + 1, ",", &save); opt && !found; opt = strtok_r(NULL, ",", &save))
                                found = strcmp(opt, controller[h]) == 0;
                if (found)
                        snprintf(own, osize, "%s", strcmp(c2 + 1, "/") == 0 ? "" : c2 + 1);
        }
        fclose(f);
        return found ? 0 : -1;
}

static int write_file(int dirfd, const char *file, const char *value)
{
        int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC), r = 0;

        if (fd < 0)
                return -1;
        if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
                r = -1;
        if (close(fd) < 0 && r == 0)
                r = -1;
        return r;
}

static int read_file(int dirfd, const char *file, char *buf, size_t size)
{
        int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -1;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        return 0;
}

/* "key value" in a flat-keyed file (memory.events, memory.oom_control, cpu.stat). */
static int read_key(int dirfd, const char *file, const char *key, uint64_t *out)
{
        char buf[4096], *line;
        size_t len = strlen(key);

        if (read_file(dirfd, file, buf, sizeof(buf)) < 0)
                return -1;
        for (line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, key, len) == 0 && line[len] == ' ')
                        return (*out = strtoull(line + len + 1, NULL, 10)), 0;
        return -1;
}

/* Does the unified hierarchy offer the controller to the host's cgroup? */
static int v2_has(const char *mount, const char *own, const char *name)
{
        char path[PATH_MAX], buf[512], *tok, *save = NULL;
        int fd;

        if ((size_t)snprintf(path, sizeof(path), "%s%s", mount, own) >= sizeof(path))
                return 0;
        fd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        if (read_file(fd, "cgroup.controllers", buf, sizeof(buf)) < 0) {
                close(fd);
                return 0;
        }
        close(fd);
        for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
                if (strcmp(tok, name) == 0)
                        return 1;
        return 0;
}

/* The directory below the host's cgroup that holds the pools' cgroups:
 * "apppoolid" for a host on the default state directory, "apppoolid-" and 8
 * hex digits of the state directory's path for any other (limits_instance()).
 * Pool user names are the same for every registry (they follow from the pool
 * name), so two hosts on two state directories started from one cgroup (a
 * shell, a test runner) would otherwise share apppoolid/apppool-x, and one
 * host's teardown (cgroup.kill) would kill the other's workers. */
static char top_name[32] = "apppoolid";

void limits_instance(const char *state_dir, const char *default_state_dir)
{
        uint32_t h = 2166136261u; /* FNV-1a: a name, not a secret */
        const unsigned char *c;

        if (!state_dir || (default_state_dir && strcmp(state_dir, default_state_dir) == 0)) {
                snprintf(top_name, sizeof(top_name), "apppoolid");
                return;
        }
        for (c = (const unsigned char *)state_dir; *c; c++)
                h = (h ^ *c) * 16777619u;
        snprintf(top_name, sizeof(top_name), "apppoolid-%08" PRIx32, h);
}

const char *limits_top_name(void)
{
        return top_name;
}

/* mkdir -p below the host's cgroup: top_name, then the pool. A directory
 * left by a host that was killed is taken over (its processes died with it:
 * PDEATHSIG; limits_teardown() clears what is left). */
static int make_dir(struct pool_cgroups *c, int h, const char *mount, const char *own, const char *name)
{
        char top[PATH_MAX];

        if ((size_t)snprintf(top, sizeof(top), "%s%s/%s", mount, own, top_name) >= sizeof(top))
                errno = ENAMETOOLONG;
        else if (mkdir(top, 0755) == 0 || errno == EEXIST)
                errno = 0;
        if (errno) {
                say("cgroup %s: %s", top, strerror(errno));
                return -1;
        }
        if ((size_t)snprintf(c->path[h], sizeof(c->path[h]), "%s/%s", top, name) >= sizeof(c->path[h]) ||
            (mkdir(c->path[h], 0755) < 0 && errno != EEXIST)) {
                say("cgroup %s: %s", c->path[h], strerror(errno));
                return -1;
        }
        c->fd[h] = open(c->path[h], O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (c->fd[h] < 0) {
                say("cgroup %s: %s", c->path[h], strerror(errno));
                return -1;
        }
        return 0;
}

/* v2 controllers are enabled top-down: in the host's cgroup (it may hold
 * processes only if it is the root or the controllers are already on: a
 * delegated subtree, systemd's Delegate=yes) and in top_name. */
static int v2_enable(const char *mount, const char *own, const char *name)
{
        char path[PATH_MAX], change[64];
        int i;

        snprintf(change, sizeof(change), "+%s", name);
        for (i = 0; i < 2; i++) {
                int fd;

                if ((size_t)snprintf(path, sizeof(path), "%s%s%s%s", mount, own, i ? "/" : "", i ? top_name : "") >=
                    sizeof(path))
                        return -1;
                fd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
                if (fd < 0 || write_file(fd, "cgroup.subtree_control", change) < 0) {
                        say("cgroup %s: cannot enable the %s controller below it: %s%s", path, name, strerror(errno),
                            errno == EBUSY ? " (the host's cgroup holds processes: delegate a subtree to it)" : "");
                        if (fd >= 0)
                                close(fd);
                        return -1;
                }
                close(fd);
        }
        return 0;
}

static int set(struct pool_cgroups *c, int h, const char *file, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int set(struct pool_cgroups *c, int h, const char *file, const char *fmt, ...)
{
        char value[64];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(value, sizeof(value), fmt, ap);
        va_end(ap);
        if (write_file(c->fd[h], file, value) < 0) {
                say("cgroup %s/%s = %s: %s", c->path[h], file, value, strerror(errno));
                return -1;
        }
        return 0;
}

/* Pick the hierarchy of a controller (v2 if it has it, else v1), make the
 * pool's directory there. */
static int use(struct pool_cgroups *c, int h, const char *name)
{
        char v2mount[PATH_MAX], v2own[PATH_MAX], mount[PATH_MAX], own[PATH_MAX];

        if (find_hierarchy(H_V2, v2mount, sizeof(v2mount), v2own, sizeof(v2own)) == 0 &&
            v2_has(v2mount, v2own, controller[h])) {
                c->v2[h] = 1;
                if (c->fd[H_V2] < 0 && make_dir(c, H_V2, v2mount, v2own, name) < 0)
                        return -1;
                return v2_enable(v2mount, v2own, controller[h]);
        }
        if (find_hierarchy(h, mount, sizeof(mount), own, sizeof(own)) < 0) {
                say("cgroup: no %s controller, neither in cgroup v2 nor mounted as v1", controller[h]);
                return -1;
        }
        return make_dir(c, h, mount, own, name);
}

/* recycling.periodicRestart.privateMemory is IIS's recycle threshold: the
 * host measures private memory once a second and recycles overlapping
 * (host.c, pm_*). The cgroup holds the kernel's backstop above it, twice the
 * threshold and at least 256 MiB more, so that the measurement recycles a
 * worker that grows at a normal pace, and one that grows faster than it can
 * see is killed by the kernel in its own cgroup rather than taking memory
 * from the other pools. */
static unsigned long long memory_backstop(uint64_t kb)
{
        unsigned long long b = (unsigned long long)kb * 1024, twice = 2 * b, plus = b + (256ULL << 20);

        return twice > plus ? twice : plus;
}

static int apply(struct pool_cgroups *c)
{
        const struct pool_limits *l = &c->limits;
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        int h;

        if (l->private_memory) {
                unsigned long long bytes = memory_backstop(l->private_memory);

                h = c->v2[H_MEMORY] ? H_V2 : H_MEMORY;
                if (c->v2[H_MEMORY]) {
                        if (set(c, h, "memory.max", "%llu", bytes) < 0)
                                return -1;
                        /* Swap would let a worker grow past the limit on disk. */
                        if (faccessat(c->fd[h], "memory.swap.max", F_OK, 0) == 0 && set(c, h, "memory.swap.max", "0") < 0)
                                return -1;
                } else {
                        if (set(c, h, "memory.limit_in_bytes", "%llu", bytes) < 0)
                                return -1;
                        if (faccessat(c->fd[h], "memory.memsw.limit_in_bytes", F_OK, 0) == 0 &&
                            set(c, h, "memory.memsw.limit_in_bytes", "%llu", bytes) < 0)
                                return -1;
                }
        }
        if (l->pids_max && set(c, c->v2[H_PIDS] ? H_V2 : H_PIDS, "pids.max", "%u", l->pids_max) < 0)
                return -1;
        if (l->cpu_limit && l->cpu_action == CPU_THROTTLE) {
                /* limit/100000 of all CPUs, per 100 ms period. */
                unsigned long long quota = (unsigned long long)l->cpu_limit * (unsigned long long)(ncpu > 0 ? ncpu : 1);

                if (quota < 1000)
                        quota = 1000; /* the kernel's least quota */
                if (c->v2[H_CPU] ? set(c, H_V2, "cpu.max", "%llu 100000", quota) < 0
                                 : set(c, H_CPU, "cpu.cfs_period_us", "100000") < 0 ||
                                           set(c, H_CPU, "cpu.cfs_quota_us", "%llu", quota) < 0)
                        return -1;
        }
        if (l->cpu_limit && l->cpu_action == CPU_THROTTLE_UNDER_LOAD) {
                /* Approximated: a share of the CPU when it is contended (100% = the default weight). */
                unsigned long long weight = (unsigned long long)l->cpu_limit * 100 / 100000;

                if (c->v2[H_CPU] ? set(c, H_V2, "cpu.weight", "%llu", weight ? weight : 1) < 0
                                 : set(c, H_CPU, "cpu.shares", "%llu", weight * 1024 / 100 > 2 ? weight * 1024 / 100 : 2) < 0)
                        return -1;
        }
        return 0;
}

/* The pool's CPU time so far, in µs: cpu.stat in cgroup v2 (there in every
 * cgroup, with or without the cpu controller), else cpuacct.usage (ns). */
static int cpu_usage(const struct pool_cgroups *c, uint64_t *us)
{
        if (c->fd[H_V2] >= 0)
                return read_key(c->fd[H_V2], "cpu.stat", "usage_usec", us);
        if (c->fd[H_CPUACCT] >= 0) {
                char buf[64];

                if (read_file(c->fd[H_CPUACCT], "cpuacct.usage", buf, sizeof(buf)) < 0)
                        return -1;
                *us = strtoull(buf, NULL, 10) / 1000;
                return 0;
        }
        return -1;
}

static int oom_kills(const struct pool_cgroups *c, uint64_t *n)
{
        if (!c->limits.private_memory)
                return -1;
        if (c->v2[H_MEMORY])
                return read_key(c->fd[H_V2], "memory.events", "oom_kill", n);
        return read_key(c->fd[H_MEMORY], "memory.oom_control", "oom_kill", n);
}

int limits_setup(int p, const char *name, const struct pool_limits *l,
                 void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2))))
{
        struct pool_cgroups *c = &pcg[p];
        char mount[PATH_MAX], own[PATH_MAX];
        int h, kill_w3wp = l->cpu_limit && l->cpu_action == CPU_KILL_W3WP && l->reset_interval;

        say = log;
        memset(c, 0, sizeof(*c));
        for (h = 0; h < H_N; h++)
                c->fd[h] = -1;
        c->limits = *l;
        if (!l->private_memory && !l->pids_max && !(l->cpu_limit && l->cpu_action != CPU_NO_ACTION) && !l->freeze)
                return 0;
        c->used = 1;
        if (!atexit_done && atexit(teardown_all) == 0)
                atexit_done = 1;
        /* The unified hierarchy always when it is there: the worker is born in
         * it (CLONE_INTO_CGROUP), and it measures and ends the pool. */
        if (find_hierarchy(H_V2, mount, sizeof(mount), own, sizeof(own)) == 0) {
                if (make_dir(c, H_V2, mount, own, name) < 0)
                        return -1;
        } else if (l->freeze) {
                say("cgroups of %s: processModel.idleTimeoutAction = Suspend needs cgroup v2 (the unified hierarchy, for "
                    "cgroup.freeze): none is mounted; use Terminate", name);
                return -1;
        }
        /* The freezer is in every v2 cgroup since Linux 5.2. A cgroup left
         * frozen by a host that was killed is thawed: new workers are born in it. */
        if (c->fd[H_V2] >= 0 && faccessat(c->fd[H_V2], "cgroup.freeze", F_OK, 0) == 0) {
                if (write_file(c->fd[H_V2], "cgroup.freeze", "0") < 0) {
                        say("cgroup %s/cgroup.freeze = 0: %s", c->path[H_V2], strerror(errno));
                        return -1;
                }
        } else if (l->freeze) {
                say("cgroups of %s: processModel.idleTimeoutAction = Suspend needs cgroup.freeze (cgroup v2, Linux 5.2 or "
                    "later), which %s lacks; use Terminate", name, c->path[H_V2]);
                return -1;
        }
        if (l->private_memory && use(c, H_MEMORY, name) < 0)
                return -1;
        if (l->pids_max && use(c, H_PIDS, name) < 0)
                return -1;
        if (l->cpu_limit && (l->cpu_action == CPU_THROTTLE || l->cpu_action == CPU_THROTTLE_UNDER_LOAD) &&
            use(c, H_CPU, name) < 0)
                return -1;
        if (kill_w3wp && c->fd[H_V2] < 0 && use(c, H_CPUACCT, name) < 0)
                return -1;
        if (apply(c) < 0)
                return -1;
        if (oom_kills(c, &c->oom_kills) < 0)
                c->oom_kills = 0;
        c->window_start = time(NULL);
        if (kill_w3wp && cpu_usage(c, &c->window_usage) < 0) {
                say("cgroup: cannot read the CPU use of pool %s (cpu.stat, cpuacct.usage): %s", name, strerror(errno));
                return -1;
        }
        for (h = 0; h < H_N; h++)
                if (c->fd[h] >= 0 && (h == H_V2 || !c->v2[h]))
                        say("limits of %s: cgroup %s", name, c->path[h]);
        return 0;
}

int limits_freeze(int p, int on)
{
        struct pool_cgroups *c = &pcg[p];

        if (!c->used || c->fd[H_V2] < 0) {
                errno = ENOENT;
                return -1;
        }
        return write_file(c->fd[H_V2], "cgroup.freeze", on ? "1" : "0");
}

int limits_attach(int p, apid_launch_attr *attr)
{
        struct pool_cgroups *c = &pcg[p];
        int h, r;

        if (!c->used)
                return APID_OK;
        for (h = 0; h < H_N; h++)
                if (c->fd[h] >= 0 && (r = apid_launch_attr_add_cgroup(attr, c->fd[h])) != APID_OK)
                        return r;
        return APID_OK;
}

const char *limits_exit_reason(int p, int sig, int *failure)
{
        static char why[256];
        struct pool_cgroups *c = &pcg[p];
        uint64_t n;

        *failure = 1;
        if (!c->used || sig != SIGKILL)
                return NULL;
        if (c->cpu_kills > 0) {
                c->cpu_kills--;
                *failure = 0;
                return "killed by the host: cpu.limit exceeded (cpu.action KillW3wp)";
        }
        if (oom_kills(c, &n) == 0 && n > c->oom_kills) {
                c->oom_kills++;
                snprintf(why, sizeof(why), "killed by the kernel's OOM killer in the pool's cgroup: its memory limit, "
                         "%llu KB (the backstop above recycling.periodicRestart.privateMemory = %llu KB)",
                         memory_backstop(c->limits.private_memory) / 1024, (unsigned long long)c->limits.private_memory);
                return why;
        }
        return NULL;
}

int limits_tick(int p, time_t now, char *why, size_t size)
{
        struct pool_cgroups *c = &pcg[p];
        const struct pool_limits *l = &c->limits;
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        uint64_t usage, used, allowed;
        time_t window = now - c->window_start;
        double cpus = ncpu > 0 ? (double)ncpu : 1.0;

        if (!c->used || !l->cpu_limit || l->cpu_action != CPU_KILL_W3WP || !l->reset_interval ||
            window < (time_t)l->reset_interval)
                return 0;
        if (cpu_usage(c, &usage) < 0)
                return 0;
        used = usage - c->window_usage;
        /* limit/100000 of all CPUs over the window, in µs. */
        allowed = (uint64_t)((double)l->cpu_limit / 100000.0 * cpus * (double)window * 1e6);
        c->window_usage = usage;
        c->window_start = now;
        if (used <= allowed)
                return 0;
        snprintf(why, size, "CPU use %.1f%% of all CPUs over %ld s, above cpu.limit %.3f%% (cpu.action KillW3wp)",
                 (double)used * 100.0 / (cpus * (double)window * 1e6), (long)window, l->cpu_limit / 1000.0);
        return 1;
}

void limits_note_cpu_kill(int p)
{
        pcg[p].cpu_kills++;
}

/* SIGKILL everything in the cgroup until it is empty (stray children of a
 * worker): cgroup.kill where the kernel has it (5.14) and the cgroup is to
 * go (last), else each process in cgroup.procs. */
static void empty_cgroup(int dirfd, int last)
{
        int round;

        /* Only when the cgroup is done with: on Linux 6.18 a child cloned into
         * a cgroup after a write to its cgroup.kill is killed at birth. */
        if (last && write_file(dirfd, "cgroup.kill", "1") == 0)
                return;
        for (round = 0; round < 50; round++) {
                char buf[65536], *s;
                int any = 0;

                if (read_file(dirfd, "cgroup.procs", buf, sizeof(buf)) < 0)
                        return;
                for (s = buf; *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : s + strlen(s)) {
                        pid_t pid = (pid_t)strtol(s, NULL, 10);

                        if (pid > 0 && kill(pid, SIGKILL) == 0)
                                any = 1;
                }
                if (!any)
                        return;
                usleep(10000); /* the dying leave the cgroup */
        }
}

static void teardown_all(void)
{
        int p;

        for (p = 0; p < MAX_POOLS; p++)
                limits_teardown(p);
}

void limits_kill_rest(int p)
{
        struct pool_cgroups *c = &pcg[p];
        int h;

        for (h = 0; c->used && h < H_N; h++)
                if (c->fd[h] >= 0) {
                        empty_cgroup(c->fd[h], 0);
                        return; /* every hierarchy holds the same processes */
                }
}

void limits_teardown(int p)
{
        struct pool_cgroups *c = &pcg[p];
        int h, tries;

        if (!c->used)
                return;
        for (h = 0; h < H_N; h++) {
                if (c->fd[h] < 0)
                        continue;
                empty_cgroup(c->fd[h], 1);
                close(c->fd[h]);
                c->fd[h] = -1;
                /* A killed process leaves its cgroup when it has exited, a moment after the signal. */
                for (tries = 0; rmdir(c->path[h]) < 0 && errno == EBUSY && tries < 200; tries++)
                        usleep(10000);
                if (access(c->path[h], F_OK) == 0)
                        say("cgroup %s: cannot remove it: %s", c->path[h], strerror(errno));
                else {
                        /* apppoolid/ too, once no pool is left in it. */
                        char *slash = strrchr(c->path[h], '/');

                        *slash = '\0';
                        rmdir(c->path[h]);
                }
        }
        c->used = 0;
}
