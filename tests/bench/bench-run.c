/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark (not a test): `apppoolctl run POOL -- /bin/true` against
 * `setpriv --reuid U --regid G --clear-groups --no-new-privs /bin/true`
 * (issue 17: goal, ratio <= 1.0), in the same run, interleaved, with the
 * median wall time and the mean CPU time (user + system, from wait4, which
 * counts the /bin/true each one waits for). Where run's time goes: the same
 * for `apppoolctl --version` (loading the program and its libraries),
 * `pool show` (+ opening the registry and the lookup) and `token show`
 * (+ the token: the seccomp program). Needs root.
 * Usage: bench-run APPPOOLCTL [RUNS] */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <apppoolid.h>

extern char **environ;

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct series {
        const char *label;
        char **argv;
        double *wall;
        double cpu;
        int n;
};

static void once(struct series *s)
{
        struct rusage ru;
        double t = now();
        int status;
        pid_t pid;

        if (posix_spawn(&pid, s->argv[0], NULL, NULL, s->argv, environ) != 0 || wait4(pid, &status, 0, &ru) != pid ||
            !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "%s: failed\n", s->label);
                exit(1);
        }
        s->wall[s->n++] = now() - t;
        s->cpu += (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                  ru.ru_stime.tv_usec / 1e6;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double median(struct series *s)
{
        qsort(s->wall, (size_t)s->n, sizeof(double), cmp);
        return s->wall[s->n / 2];
}

int main(int argc, char **argv)
{
        int runs = argc > 2 ? atoi(argv[2]) : 200, i, j;
        char dir[] = "/tmp/apid-bench-run-XXXXXX", uidarg[64], gidarg[64];
        apid_ctx *ctx = NULL;
        apid_pool *pool = NULL;
        apid_identity *id = NULL;

        if (argc < 2 || runs <= 0) {
                fprintf(stderr, "usage: bench-run APPPOOLCTL [RUNS]\n");
                return 2;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "bench-run needs root\n");
                return 1;
        }
        if (!mkdtemp(dir) || apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, dir) != APID_OK ||
            apid_pool_create(ctx, "bench", &pool) != APID_OK || apid_pool_get_identity(pool, &id) != APID_OK) {
                fprintf(stderr, "%s\n", apid_error_message());
                return 1;
        }
        setenv("APPPOOLID_STATE_DIR", dir, 1);
        snprintf(uidarg, sizeof(uidarg), "--reuid=%u", apid_identity_get_uid(id));
        snprintf(gidarg, sizeof(gidarg), "--regid=%u", apid_identity_get_gid(id));
        {
                char *ctl = argv[1];
                char *run_argv[] = { ctl, (char *)"run", (char *)"bench", (char *)"--", (char *)"/bin/true", NULL };
                char *setpriv_argv[] = { (char *)"/usr/bin/setpriv", uidarg, gidarg, (char *)"--clear-groups",
                                         (char *)"--no-new-privs", (char *)"/bin/true", NULL };
                char *version_argv[] = { ctl, (char *)"--version", NULL };
                char *show_argv[] = { ctl, (char *)"pool", (char *)"show", (char *)"bench", NULL };
                char *token_argv[] = { ctl, (char *)"token", (char *)"show", (char *)"bench", NULL };
                char *true_argv[] = { (char *)"/bin/true", NULL };
                struct series s[] = {
                        { "apppoolctl run bench -- /bin/true", run_argv, NULL, 0, 0 },
                        { "setpriv --reuid --regid --clear-groups --no-new-privs /bin/true", setpriv_argv, NULL, 0, 0 },
                        { "  apppoolctl --version (load program + libraries)", version_argv, NULL, 0, 0 },
                        { "  apppoolctl pool show bench (+ registry, lookup)", show_argv, NULL, 0, 0 },
                        { "  apppoolctl token show bench (+ token, seccomp program)", token_argv, NULL, 0, 0 },
                        { "  /bin/true", true_argv, NULL, 0, 0 },
                };
                int n = (int)(sizeof(s) / sizeof(s[0]));
                int out = dup(1);

                for (j = 0; j < n; j++)
                        s[j].wall = calloc((size_t)runs, sizeof(double));
                /* the commands' output is not measured */
                if (!freopen("/dev/null", "w", stdout))
                        return 1;
                for (i = 0; i < runs; i++)
                        for (j = 0; j < n; j++)
                                once(&s[j]);
                fflush(stdout);
                dup2(out, 1);
                close(out);
                printf("runs: %d each, interleaved\n%-60s %10s %10s\n", runs, "", "median ms", "CPU ms");
                for (j = 0; j < n; j++)
                        printf("%-60s %10.2f %10.2f\n", s[j].label, median(&s[j]) * 1e3, s[j].cpu / runs * 1e3);
                printf("ratio run / setpriv: %.2f wall (median), %.2f CPU (goal <= 1.0)\n",
                       median(&s[0]) / median(&s[1]), s[0].cpu / s[1].cpu);
                for (j = 0; j < n; j++)
                        free(s[j].wall);
        }
        apid_identity_free(id);
        apid_pool_free(pool);
        apid_ctx_unref(ctx);
        {
                char cmd[128];

                snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
                if (system(cmd) != 0)
                        fprintf(stderr, "could not remove %s\n", dir);
        }
        return 0;
}
