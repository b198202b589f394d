/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark: getpwnam_r and getpwuid_r of the given users, through whatever
 * /etc/nsswitch.conf names (bench-farm.sh runs it once with "files
 * apppoolid" and once with "files ldap" through nslcd). Prints microseconds
 * per lookup. Every lookup must succeed (a miss would measure the wrong path).
 * Usage: bench-getpw ROUNDS USER... */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        int rounds = argc > 1 ? atoi(argv[1]) : 1, n = argc - 2, i, k;
        uid_t *uids = calloc((size_t)(n > 0 ? n : 1), sizeof(uid_t));
        struct passwd pw, *res;
        char buf[4096];
        double t, byname, byuid;

        if (n <= 0 || rounds <= 0 || !uids)
                return 2;
        t = now();
        for (k = 0; k < rounds; k++)
                for (i = 0; i < n; i++) {
                        if (getpwnam_r(argv[2 + i], &pw, buf, sizeof(buf), &res) != 0 || !res) {
                                fprintf(stderr, "getpwnam %s: not found\n", argv[2 + i]);
                                return 1;
                        }
                        uids[i] = pw.pw_uid;
                }
        byname = (now() - t) / ((double)rounds * n) * 1e6;
        t = now();
        for (k = 0; k < rounds; k++)
                for (i = 0; i < n; i++)
                        if (getpwuid_r(uids[i], &pw, buf, sizeof(buf), &res) != 0 || !res) {
                                fprintf(stderr, "getpwuid %u: not found\n", (unsigned)uids[i]);
                                return 1;
                        }
        byuid = (now() - t) / ((double)rounds * n) * 1e6;
        printf("getpwnam %.1f us, getpwuid %.1f us (%d users x %d rounds)\n", byname, byuid, n, rounds);
        free(uids);
        return 0;
}
