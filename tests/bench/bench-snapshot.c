/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark: the snapshot reader (lib/store/snapshot.c) in process, by user
 * name, uid and SID, on a snapshot the library wrote: mapped once (what a
 * context's cache would hold), and opened, checked and mapped per lookup (what
 * the NSS module does). Not a test; run by run-bench-lookup.sh.
 * Usage: bench-snapshot SNAPSHOT ITERATIONS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "store/snapshot.h"

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        struct apid__snap s;
        struct apid__snap_user u;
        long iterations = argc > 2 ? atol(argv[2]) : 1000000;
        uint32_t n, i, *uids;
        const char **names, **sids;
        double t, by_name, by_uid, by_sid, per_open;
        long k;

        if (argc < 2 || apid__snap_open(argv[1], 0, APID__NSS_MAX_SNAPSHOT, &s, NULL) < 0) {
                fprintf(stderr, "usage: bench-snapshot SNAPSHOT [ITERATIONS] (a snapshot this user may trust)\n");
                return 1;
        }
        n = s.h->n_users;
        names = calloc(n, sizeof(*names));
        sids = calloc(n, sizeof(*sids));
        uids = calloc(n, sizeof(*uids));
        if (!n || !names || !sids || !uids)
                return 1;
        for (i = 0; i < n; i++) {
                if (apid__snap_user_at(&s, i, &u) < 0)
                        return 1;
                names[i] = u.name;
                sids[i] = u.sid;
                uids[i] = u.uid;
        }
#define RUN(result, call)                                                                   \
        t = now();                                                                          \
        for (k = 0; k < iterations; k++) {                                                  \
                i = (uint32_t)((k * 7919) % n);                                             \
                if (call != 0) {                                                            \
                        fprintf(stderr, "lookup %u failed\n", i);                           \
                        return 1;                                                           \
                }                                                                           \
        }                                                                                   \
        result = (double)iterations / (now() - t)
        RUN(by_name, apid__snap_find_user(&s, APID__SNAP_BY_NAME, names[i], 0, &u));
        RUN(by_uid, apid__snap_find_user(&s, APID__SNAP_BY_UID, NULL, uids[i], &u));
        RUN(by_sid, apid__snap_find_user(&s, APID__SNAP_BY_SID, sids[i], 0, &u));
        {
                struct apid__snap o;
                long per = iterations / 10;

                t = now();
                for (k = 0; k < per; k++) {
                        if (apid__snap_open(argv[1], 0, APID__NSS_MAX_SNAPSHOT, &o, NULL) < 0 ||
                            apid__snap_find_user(&o, APID__SNAP_BY_NAME, names[(k * 7919) % n], 0, &u) < 0)
                                return 1;
                        apid__snap_close(&o);
                }
                per_open = (double)per / (now() - t);
        }
        printf("snapshot: %u users, %zu bytes, generation %llu\n", n, s.size, (unsigned long long)s.h->generation);
        printf("%-58s %12.0f /s\n", "snapshot reader, mapped once: by user name", by_name);
        printf("%-58s %12.0f /s\n", "snapshot reader, mapped once: by uid", by_uid);
        printf("%-58s %12.0f /s\n", "snapshot reader, mapped once: by SID", by_sid);
        printf("%-58s %12.0f /s\n", "snapshot reader, open + check + map per lookup: by name", per_open);
        apid__snap_close(&s);
        return 0;
}
