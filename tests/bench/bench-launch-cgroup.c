/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark (not a test): what a cgroup costs a launch. Launches per second of
 * /bin/true under a default token, interleaved in rounds (best of 3): no
 * cgroup; into a cgroup v2 (clone3 with CLONE_INTO_CGROUP); into v1 memory,
 * pids and cpu cgroups (the child writes cgroup.procs); both. The cgroups are
 * made below the bench's own and removed. Needs root.
 * Usage: bench-launch-cgroup [LAUNCHES] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <apppoolid.h>

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Our cgroup in a hierarchy (NULL: v2), from /proc/self/cgroup and mountinfo. */
static int make(const char *controller, char *path, size_t size)
{
        char line[4096], mount[512] = "", own[1024] = "";
        FILE *f = fopen("/proc/self/mountinfo", "re");

        while (f && fgets(line, sizeof(line), f)) {
                char mnt[512], fs[64], super[1024], *dash = strstr(line, " - ");

                if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
                    sscanf(dash + 3, "%63s %*s %1023s", fs, super) != 2)
                        continue;
                if ((!controller && strcmp(fs, "cgroup2") == 0) ||
                    (controller && strcmp(fs, "cgroup") == 0 && strstr(super, controller))) {
                        snprintf(mount, sizeof(mount), "%s", mnt);
                        break;
                }
        }
        if (f)
                fclose(f);
        f = fopen("/proc/self/cgroup", "re");
        while (f && fgets(line, sizeof(line), f)) {
                char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;

                if (!b)
                        continue;
                *b++ = '\0';
                b[strcspn(b, "\n")] = '\0';
                if ((!controller && a[1] == '\0') || (controller && strcmp(a + 1, controller) == 0))
                        snprintf(own, sizeof(own), "%s", strcmp(b, "/") == 0 ? "" : b);
        }
        if (f)
                fclose(f);
        if (!mount[0])
                return -1;
        snprintf(path, size, "%s%s/apid-bench-%d", mount, own, (int)getpid());
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -1;
        return open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
}

static double rate(apid_token *t, const int *cg, int n_cg, int n)
{
        const char *argv[] = { "/bin/true", NULL };
        double t0 = now();
        int i, j;

        for (i = 0; i < n; i++) {
                apid_launch_attr *attr = NULL;
                apid_process *p = NULL;

                if (apid_launch_attr_new(&attr) != APID_OK)
                        exit(1);
                for (j = 0; j < n_cg; j++)
                        if (apid_launch_attr_add_cgroup(attr, cg[j]) != APID_OK)
                                exit(1);
                if (apid_launch(t, attr, argv[0], argv, &p) != APID_OK || apid_process_wait(p, -1) != APID_OK ||
                    apid_process_exit_code(p) != 0) {
                        fprintf(stderr, "apid_launch: %s\n", apid_error_message());
                        exit(1);
                }
                apid_process_free(p);
                apid_launch_attr_free(attr);
        }
        return n / (now() - t0);
}

int main(int argc, char **argv)
{
        static const char *const names[] = { NULL, "memory", "pids", "cpu" };
        int n = argc > 1 ? atoi(argv[1]) : 1000, i, round, fds[4], n_v1 = 0;
        char dir[] = "/tmp/apid-bench-cgroup-XXXXXX", paths[4][2048];
        double best[4] = { 0, 0, 0, 0 };
        apid_ctx *ctx = NULL;
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        apid_token *t = NULL;

        if (geteuid() != 0) {
                fprintf(stderr, "bench-launch-cgroup needs root\n");
                return 1;
        }
        if (!mkdtemp(dir) || apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, dir) != APID_OK ||
            apid_pool_create(ctx, "bench", &pool) != APID_OK || apid_pool_get_identity(pool, &id) != APID_OK ||
            apid_token_new(id, &t) != APID_OK) {
                fprintf(stderr, "%s\n", apid_error_message());
                return 1;
        }
        for (i = 0; i < 4; i++) {
                fds[i] = make(names[i], paths[i], sizeof(paths[i]));
                if (fds[i] < 0) {
                        fprintf(stderr, "cgroup %s: not available\n", names[i] ? names[i] : "v2");
                        return 1;
                }
                n_v1 += i > 0;
        }
        for (round = 0; round < 3; round++) {
                double r[4];

                r[0] = rate(t, NULL, 0, n);
                r[1] = rate(t, fds, 1, n);
                r[2] = rate(t, fds + 1, n_v1, n);
                r[3] = rate(t, fds, 1 + n_v1, n);
                for (i = 0; i < 4; i++)
                        best[i] = r[i] > best[i] ? r[i] : best[i];
        }
        printf("launches of /bin/true under a default token, best of 3 rounds of %d\n", n);
        printf("no cgroup                                         %8.0f /s\n", best[0]);
        printf("cgroup v2 (clone3, CLONE_INTO_CGROUP)             %8.0f /s  (%.2fx the time)\n", best[1],
               best[0] / best[1]);
        printf("cgroup v1 memory, pids, cpu (child writes procs)  %8.0f /s  (%.2fx the time)\n", best[2],
               best[0] / best[2]);
        printf("both                                              %8.0f /s  (%.2fx the time)\n", best[3],
               best[0] / best[3]);
        for (i = 0; i < 4; i++) {
                close(fds[i]);
                if (rmdir(paths[i]) < 0)
                        fprintf(stderr, "rmdir %s: %s\n", paths[i], strerror(errno));
        }
        apid_token_free(t);
        apid_identity_free(id);
        apid_pool_free(pool);
        apid_ctx_unref(ctx);
        return 0;
}
