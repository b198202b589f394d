/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark: in-process identity lookups (issue 17) by POSIX user name, uid
 * and SID, and apid_pool_open + apid_pool_get_identity, through the lookup
 * cache (the mapped snapshot, lib/lookup.c) and through the old path
 * (SQLite per lookup: a context made with APPPOOLID_LOOKUP_CACHE=0), in the
 * same run, with the ratio. Goal: >= 1,000,000 lookups/s with 10,000 pools.
 *
 * Usage: bench-idcache STATE_DIR [POOLS] [ITERATIONS] [THREADS]
 * An empty STATE_DIR is filled with POOLS pools in one registry import
 * (pool add one by one takes minutes at 10,000). Linked with the library's
 * objects to compute the import's uids as pool add would. Not a test: it
 * measures, it does not check (run it with tests/bench/run-bench-idcache.sh). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "idmap/idmap.h"

#define RANGE_START 1879048192u
#define RANGE_SIZE 16777216u

struct pool {
        char name[32], user[33], sid[APID_SID_MAX_STRING + 1];
        uint32_t uid;
        apid_sid *sid_bin;
};

static struct pool *pools;
static int n_pools;

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
        fprintf(stderr, "%s: %s\n", what, apid_error_message());
        exit(1);
}

/* An export file with n pools, uids chosen as pool add chooses them
 * (candidate 0, or the next one free when two SIDs meet). */
static void make_import(const char *path, int n)
{
        FILE *f = fopen(path, "w");
        uint32_t *used = calloc((size_t)n, sizeof(*used));
        int i, j;

        if (!f || !used) {
                perror(path);
                exit(1);
        }
        fprintf(f, "apppoolid-export 1\nsetting\tidRangeStart\t%u\nsetting\tidRangeSize\t%u\n", RANGE_START,
                RANGE_SIZE);
        for (i = 0; i < n; i++) {
                char name[32], user[33];
                char *text = NULL;
                apid_sid *sid = NULL;
                uint32_t uid = 0, probe;

                snprintf(name, sizeof(name), "Pool%d", i);
                if (apid_sid_for_pool(name, &sid) < 0 || apid_sid_to_string(sid, &text) < 0 ||
                    apid__pool_user_name(name, sid, 0, user) < 0)
                        die(name);
                for (probe = 0;; probe++) {
                        uid = apid__idmap_candidate(sid, RANGE_START, RANGE_SIZE, probe);
                        for (j = 0; j < i && used[j] != uid; j++)
                                ;
                        if (j == i)
                                break;
                }
                used[i] = uid;
                fprintf(f, "account\t%u\t%s\t%s\t0\t%u\n", uid, text, user, probe);
                apid_sid_free(sid);
                free(text);
        }
        for (i = 0; i < n; i++)
                fprintf(f, "pool\tPool%d\t%u\n", i, used[i]);
        fclose(f);
        free(used);
}

static apid_ctx *context(const char *dir, int cache)
{
        apid_ctx *ctx = NULL;

        if (!cache)
                setenv("APPPOOLID_LOOKUP_CACHE", "0", 1);
        if (apid_ctx_new(&ctx) < 0 || apid_ctx_set_state_dir(ctx, dir) < 0)
                die("context");
        unsetenv("APPPOOLID_LOOKUP_CACHE");
        return ctx;
}

enum kind { BY_USER, BY_UID, BY_SID, BY_POOL, N_KINDS };
static const char *const kind_names[] = {
        "apid_identity_from_user(\"apppool-poolN\")",
        "apid_identity_from_uid(uid)",
        "apid_identity_from_sid(S-1-5-82-...)",
        "apid_pool_open(\"PoolN\") + apid_pool_get_identity",
};

/* One lookup of pool p; the answer is checked (a benchmark of wrong
 * answers would be worthless). */
static void lookup(apid_ctx *ctx, enum kind k, const struct pool *p)
{
        apid_identity *id = NULL;
        apid_pool *pool = NULL;
        int r;

        switch (k) {
        case BY_USER: r = apid_identity_from_user(ctx, p->user, &id); break;
        case BY_UID: r = apid_identity_from_uid(ctx, p->uid, &id); break;
        case BY_SID: r = apid_identity_from_sid(ctx, p->sid_bin, &id); break;
        default:
                r = apid_pool_open(ctx, p->name, &pool);
                if (r == APID_OK)
                        r = apid_pool_get_identity(pool, &id);
                apid_pool_free(pool);
        }
        if (r != APID_OK)
                die(p->name);
        if (apid_identity_get_uid(id) != p->uid || strcmp(apid_identity_get_user(id), p->user) != 0) {
                fprintf(stderr, "%s: wrong answer (uid %u)\n", p->name, apid_identity_get_uid(id));
                exit(1);
        }
        apid_identity_free(id);
}

/* Pools visited in a stride over the registry, so no scan is lucky. */
static double run(apid_ctx *ctx, enum kind k, int iterations, int offset)
{
        double t = now();
        int i;

        for (i = 0; i < iterations; i++)
                lookup(ctx, k, &pools[((long)(i + offset) * 7919) % n_pools]);
        return iterations / (now() - t);
}

struct thread_arg {
        apid_ctx *ctx;
        enum kind k;
        int iterations, offset;
        double rate;
};

static void *thread_main(void *p)
{
        struct thread_arg *a = p;

        a->rate = run(a->ctx, a->k, a->iterations, a->offset);
        return NULL;
}

int main(int argc, char **argv)
{
        const char *dir = argc > 1 ? argv[1] : NULL;
        int iterations = argc > 3 ? atoi(argv[3]) : 2000000;
        int threads = argc > 4 ? atoi(argv[4]) : 8;
        int old_iterations, i;
        apid_ctx *old_ctx, *new_ctx;
        char path[4200];
        struct stat st;
        double t;

        n_pools = argc > 2 ? atoi(argv[2]) : 10000;
        if (!dir || n_pools <= 0 || iterations <= 0 || threads <= 0) {
                fprintf(stderr, "usage: bench-idcache STATE_DIR [POOLS] [ITERATIONS] [THREADS]\n");
                return 2;
        }
        snprintf(path, sizeof(path), "%s/registry.db", dir);
        if (stat(path, &st) < 0) {
                apid_ctx *ctx = context(dir, 1);

                snprintf(path, sizeof(path), "%s.import", dir);
                make_import(path, n_pools);
                t = now();
                if (apid_registry_import(ctx, path) < 0)
                        die("import");
                fprintf(stderr, "imported %d pools in %.1f s\n", n_pools, now() - t);
                unlink(path);
                apid_ctx_unref(ctx);
        }
        old_ctx = context(dir, 0);
        new_ctx = context(dir, 1);
        /* What each pool should be, from the old path. */
        pools = calloc((size_t)n_pools, sizeof(*pools));
        for (i = 0; i < n_pools; i++) {
                struct pool *p = &pools[i];
                apid_identity *id = NULL;
                char *text = NULL;

                snprintf(p->name, sizeof(p->name), "Pool%d", i);
                snprintf(p->user, sizeof(p->user), "apppool-pool%d", i);
                if (apid_identity_from_user(old_ctx, p->user, &id) < 0 ||
                    apid_sid_dup(apid_identity_get_sid(id), &p->sid_bin) < 0 ||
                    apid_sid_to_string(p->sid_bin, &text) < 0)
                        die(p->user);
                p->uid = apid_identity_get_uid(id);
                snprintf(p->sid, sizeof(p->sid), "%s", text);
                free(text);
                apid_identity_free(id);
        }
        old_iterations = iterations / 100 > 20000 ? 20000 : iterations / 100 > 2000 ? iterations / 100 : 2000;
        printf("pools: %d; lookups: %d (cache), %d (SQLite); %d threads for the threaded line\n", n_pools,
               iterations, old_iterations, threads);
        printf("%-52s %14s %14s %14s %8s\n", "lookup", "SQLite /s", "cold cache /s", "cache /s", "ratio");
        for (i = 0; i < N_KINDS; i++) {
                double old_rate, cold, warm;

                old_rate = run(old_ctx, (enum kind)i, old_iterations, 0);
                /* a new snapshot generation: every entry is built again */
                apid_ctx_unref(new_ctx);
                new_ctx = context(dir, 1);
                cold = run(new_ctx, (enum kind)i, n_pools, 0); /* each pool once: every lookup builds */
                warm = run(new_ctx, (enum kind)i, iterations, 1);
                printf("%-52s %14.0f %14.0f %14.0f %7.0fx\n", kind_names[i], old_rate, cold, warm, warm / old_rate);
        }
        {
                pthread_t *tid = calloc((size_t)threads, sizeof(*tid));
                struct thread_arg *args = calloc((size_t)threads, sizeof(*args));
                double total;

                t = now();
                for (i = 0; i < threads; i++) {
                        args[i] = (struct thread_arg){ new_ctx, BY_UID, iterations / threads, i * 997, 0 };
                        pthread_create(&tid[i], NULL, thread_main, &args[i]);
                }
                for (i = 0; i < threads; i++)
                        pthread_join(tid[i], NULL);
                total = (double)(iterations / threads) * threads / (now() - t);
                printf("%-52s %14s %14s %14.0f\n", "apid_identity_from_uid, threads together", "", "", total);
                free(tid);
                free(args);
        }
        printf("goal: >= 1000000 /s with 10000 pools (cache column)\n");
        for (i = 0; i < n_pools; i++)
                apid_sid_free(pools[i].sid_bin);
        free(pools);
        apid_ctx_unref(old_ctx);
        apid_ctx_unref(new_ctx);
        return 0;
}
