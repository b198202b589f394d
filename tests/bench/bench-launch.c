/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark (not a test): launches per second of a trivial program under a
 * default token (identity change, no capabilities, no_new_privs, seccomp),
 * against plain posix_spawn of the same program (no identity change) and
 * against setpriv with the equivalent flags, in the same run. Needs root.
 * Usage: bench-launch [LAUNCHES]
 * BENCH_NO_SECCOMP=1: the token without its filter. BENCH_BOUNDING_SET=unit:
 * first drop this process's bounding set to that of the host's systemd unit
 * (examples/host/apppool-host.service.in), as a launcher it confines has.
 * The rounds give throughput, which the machine's load moves by tens of
 * percent from run to run; the last lines alternate the two launches one by
 * one and give percentiles of each launch's time (launch to reaped), so that
 * both see the same load.
 * The floor: a hand-rolled launch that does only what the default token must
 * (clone(CLONE_VM | CLONE_VFORK) as posix_spawn, the bounding set dropped one
 * capability at a time, setgroups, setresgid, setresuid, no_new_privs, the
 * same seccomp program, execve) and nothing else, run beside both: the least
 * any launch with those duties costs on this machine.
 * Where the time goes, step by step: a build with the stamps of
 * lib/launch/launch-timing.h (meson setup build-timing -Ddocs=disabled
 * -Dc_args=-DAPID_LAUNCH_TIMING), whose library prints the median of each
 * step of the parent and of the child to stderr when the process exits. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <apppoolid.h>

#include "filter.h"

extern char **environ;

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static void spawn_one(char *const *argv)
{
        pid_t pid;
        int status;

        if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0 || waitpid(pid, &status, 0) != pid ||
            !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "%s failed\n", argv[0]);
                exit(1);
        }
}

static void launch_one(const apid_token *t, const char *const *argv)
{
        apid_process *p = NULL;

        if (apid_launch(t, NULL, argv[0], argv, &p) != APID_OK || apid_process_wait(p, -1) != APID_OK ||
            apid_process_exit_code(p) != 0) {
                fprintf(stderr, "apid_launch: %s\n", apid_error_message());
                exit(1);
        }
        apid_process_free(p);
}

/* The floor's child: raw system calls only (it shares the parent's memory). */
struct floor {
        struct sock_fprog prog;
        unsigned uid, gid;
        int last_cap;
        char *const *argv;
        char stack[64 * 1024] __attribute__((aligned(16)));
};

static struct floor fl;

static int floor_child(void *arg)
{
        const struct floor *f = arg;
        int c;

        for (c = 0; c <= f->last_cap; c++)
                if (syscall(SYS_prctl, PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                        syscall(SYS_exit, 126);
        if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, f->gid, f->gid, f->gid) < 0 ||
            syscall(SYS_setresuid, f->uid, f->uid, f->uid) < 0 || syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &f->prog) < 0)
                syscall(SYS_exit, 126);
        syscall(SYS_execve, f->argv[0], f->argv, environ);
        syscall(SYS_exit, 127);
        return 127;
}

static void floor_one(void)
{
        int status;
        pid_t pid = clone(floor_child, fl.stack + sizeof(fl.stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &fl);

        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "floor launch failed\n");
                exit(1);
        }
}

static int floor_init(const apid_identity *id, char *const *argv)
{
        struct sock_filter *p = NULL;
        size_t n = 0;
        FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");

        if (!f || fscanf(f, "%d", &fl.last_cap) != 1 || apid__filter_build(NULL, 0, &p, &n) != APID_OK)
                return -1;
        fclose(f);
        fl.prog.len = (unsigned short)n;
        fl.prog.filter = p;
        fl.uid = apid_identity_get_uid(id);
        fl.gid = apid_identity_get_gid(id);
        fl.argv = argv;
        return 0;
}

static double run_floor(int n)
{
        double t = now();
        int i;

        for (i = 0; i < n; i++)
                floor_one();
        return n / (now() - t);
}

/* n of each, alternated; prints the 10th percentile and the median, in us. */
static void run_interleaved(int n, const apid_token *t, const char *const *true_argv, char *const *spawn_argv)
{
        double *a = calloc((size_t)n, sizeof(double)), *s = calloc((size_t)n, sizeof(double)),
               *f = calloc((size_t)n, sizeof(double));
        int i;

        if (!a || !s || !f)
                exit(1);
        for (i = 0; i < n; i++) {
                double t0 = now();

                launch_one(t, true_argv);
                a[i] = (now() - t0) * 1e6;
                t0 = now();
                spawn_one(spawn_argv);
                s[i] = (now() - t0) * 1e6;
                t0 = now();
                floor_one();
                f[i] = (now() - t0) * 1e6;
        }
        qsort(a, (size_t)n, sizeof(double), cmp_double);
        qsort(s, (size_t)n, sizeof(double), cmp_double);
        qsort(f, (size_t)n, sizeof(double), cmp_double);
        printf("interleaved, %d of each, us per launch (p10 / median): posix_spawn %.0f / %.0f, floor %.0f / %.0f, "
               "apid_launch %.0f / %.0f\n", n, s[n / 10], s[n / 2], f[n / 10], f[n / 2], a[n / 10], a[n / 2]);
        printf("interleaved time ratio (p10 / median): apid_launch/posix_spawn %.2fx / %.2fx, floor/posix_spawn "
               "%.2fx / %.2fx, apid_launch/floor %.2fx / %.2fx\n", a[n / 10] / s[n / 10], a[n / 2] / s[n / 2],
               f[n / 10] / s[n / 10], f[n / 2] / s[n / 2], a[n / 10] / f[n / 10], a[n / 2] / f[n / 2]);
        free(a);
        free(s);
        free(f);
}

static double run_spawn(int n, char *const *argv)
{
        double t = now();
        int i;

        for (i = 0; i < n; i++)
                spawn_one(argv);
        return n / (now() - t);
}

int main(int argc, char **argv)
{
        int n = argc > 1 ? atoi(argv[1]) : 2000, i, round;
        char dir[] = "/tmp/apid-bench-launch-XXXXXX", uidarg[64], gidarg[64];
        apid_ctx *ctx = NULL;
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        apid_token *t = NULL;
        const char *true_argv[] = { "/bin/true", NULL };
        double best_apid = 0, best_spawn = 0, best_setpriv = 0, best_floor = 0;

        if (geteuid() != 0) {
                fprintf(stderr, "bench-launch needs root\n");
                return 1;
        }
        if (getenv("BENCH_BOUNDING_SET") && strcmp(getenv("BENCH_BOUNDING_SET"), "unit") == 0) {
                /* CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER KILL SETGID SETUID SETPCAP NET_BIND_SERVICE */
                const unsigned long long unit = 0x5efULL;
                int c;

                for (c = 0; c < 64; c++)
                        if (!((unit >> c) & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
                                perror("PR_CAPBSET_DROP");
                                return 1;
                        }
                printf("bounding set: the host unit's (CapabilityBoundingSet=, 9 capabilities)\n");
        }
        if (!mkdtemp(dir) || apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, dir) != APID_OK ||
            apid_pool_create(ctx, "bench", &pool) != APID_OK || apid_pool_get_identity(pool, &id) != APID_OK ||
            apid_token_new(id, &t) != APID_OK || (getenv("BENCH_NO_SECCOMP") && apid_token_set_seccomp(t, 0))) {
                fprintf(stderr, "%s\n", apid_error_message());
                return 1;
        }
        snprintf(uidarg, sizeof(uidarg), "--reuid=%u", apid_identity_get_uid(id));
        snprintf(gidarg, sizeof(gidarg), "--regid=%u", apid_identity_get_gid(id));
        char *spawn_argv[] = { (char *)"/bin/true", NULL };
        char *setpriv_argv[] = { (char *)"/usr/bin/setpriv", uidarg, gidarg, (char *)"--clear-groups",
                                 (char *)"--inh-caps=-all", (char *)"--ambient-caps=-all",
                                 (char *)"--bounding-set=-all", (char *)"--no-new-privs", (char *)"--reset-env",
                                 (char *)"/bin/true", NULL };

        if (floor_init(id, spawn_argv) < 0) {
                fprintf(stderr, "the floor: cannot read cap_last_cap or build the filter\n");
                return 1;
        }

        /* Three rounds, interleaved, best of each: the machine's noise hits all alike. */
        for (round = 0; round < 3; round++) {
                double t0 = now(), r;

                for (i = 0; i < n; i++)
                        launch_one(t, true_argv);
                r = n / (now() - t0);
                best_apid = r > best_apid ? r : best_apid;
                r = run_spawn(n, spawn_argv);
                best_spawn = r > best_spawn ? r : best_spawn;
                r = run_floor(n);
                best_floor = r > best_floor ? r : best_floor;
                r = run_spawn(n / 2, setpriv_argv);
                best_setpriv = r > best_setpriv ? r : best_setpriv;
        }
        printf("launches of /bin/true, best of 3 rounds of %d\n", n);
        printf("apid_launch, default token (uid change, no caps, NNP, seccomp) %8.0f /s\n", best_apid);
        printf("posix_spawn, no identity change                               %8.0f /s\n", best_spawn);
        printf("floor: clone, bset drops, set*id, NNP, the same filter, exec    %8.0f /s\n", best_floor);
        printf("setpriv --reuid --regid --clear-groups ... --no-new-privs      %8.0f /s\n", best_setpriv);
        printf("posix_spawn / apid_launch time ratio: apid takes %.2fx the time of posix_spawn (target <= 1.15)\n",
               best_spawn / best_apid);
        printf("time ratios: floor/posix_spawn %.2fx, apid_launch/floor %.2fx\n", best_spawn / best_floor,
               best_floor / best_apid);
        printf("apid_launch / setpriv speed ratio:    %.2fx (target >= 2.5)\n", best_apid / best_setpriv);
        run_interleaved(n, t, true_argv, spawn_argv);
        apid_token_free(t);
        apid_identity_free(id);
        apid_pool_free(pool);
        apid_ctx_unref(ctx);
        return 0;
}
