/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context's lookup cache (lib/lookup.c, issue 17): lookups answered
 * from the mapped snapshot without SQLite; another process's writes seen
 * after its publication; this process's writes seen at once, even when the
 * snapshot could not be published; a deleted pool gone; a corrupt,
 * truncated or stale snapshot answered by SQLite instead; 8 threads looking
 * up while another process writes, never a wrong answer.
 *
 * SQLite use is counted: this binary defines sqlite3_prepare_v2(), which
 * the dynamic linker binds the library's calls to (the executable comes
 * first in the lookup order), passing through to libsqlite3.
 * argv[1]: apppoolctl, for the writes of "another process". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "testutil.h"
#include "testutil-state.h"

static const char *apppoolctl;
static unsigned prepares; /* __atomic */

int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n, sqlite3_stmt **st, const char **tail)
{
        static int (*next)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);

        if (!next)
                *(void **)&next = dlsym(RTLD_NEXT, "sqlite3_prepare_v2"); /* POSIX dlsym idiom */
        __atomic_add_fetch(&prepares, 1, __ATOMIC_RELAXED);
        return next(db, sql, n, st, tail);
}

static unsigned sql_count(void)
{
        return __atomic_load_n(&prepares, __ATOMIC_RELAXED);
}

static int64_t coarse_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Another process's change is seen by lookups that start a tick of the
 * coarse clock after it (lib/lookup.c): wait for the clock to leave the
 * tick read before the change was started. A condition, not a sleep. */
static void wait_tick_after(int64_t before)
{
        while (coarse_now() == before)
                sched_yield();
}

/* Run apppoolctl ARGS... on dir in a child process; its exit status. */
/* apppoolctl ARGS... with APPPOOLID_STATE_DIR=dir, its output to /dev/null.
 * Through posix_spawn, with the environment built before: the test's other
 * threads may hold allocator or libc locks at the fork, and a forked child
 * that called malloc or setenv before exec could wait on them for ever (it
 * hung once under ASan in CI). */
static int ctl(const char *dir, ...)
{
        const char *argv[16] = { apppoolctl };
        char **envp, var[PATH_MAX + 32];
        posix_spawn_file_actions_t fa;
        size_t n_env = 0, k = 0;
        va_list ap;
        int n = 1, status;
        pid_t pid;

        va_start(ap, dir);
        while (n < 15 && (argv[n] = va_arg(ap, const char *)) != NULL)
                n++;
        va_end(ap);
        argv[n] = NULL;
        snprintf(var, sizeof(var), "APPPOOLID_STATE_DIR=%s", dir);
        while (environ[n_env])
                n_env++;
        envp = calloc(n_env + 2, sizeof(*envp));
        assert_non_null(envp);
        for (size_t i = 0; i < n_env; i++)
                if (strncmp(environ[i], "APPPOOLID_STATE_DIR=", 20) != 0)
                        envp[k++] = environ[i];
        envp[k] = var;
        assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
        assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0), 0);
        assert_int_equal(posix_spawn(&pid, apppoolctl, &fa, NULL, (char *const *)argv, envp), 0);
        posix_spawn_file_actions_destroy(&fa);
        free(envp);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

struct expect {
        char name[32], user[33], sid[APID_SID_MAX_STRING + 1];
        uint32_t uid;
};

static void expect_of(apid_ctx *ctx, const char *name, struct expect *e)
{
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        char *sid;

        assert_int_equal(apid_pool_open(ctx, name, &pool), APID_OK);
        assert_int_equal(apid_pool_get_identity(pool, &id), APID_OK);
        snprintf(e->name, sizeof(e->name), "%s", name);
        snprintf(e->user, sizeof(e->user), "%s", apid_identity_get_user(id));
        sid = sid_string(apid_identity_get_sid(id));
        snprintf(e->sid, sizeof(e->sid), "%s", sid);
        apid_free(sid);
        e->uid = apid_identity_get_uid(id);
        apid_identity_free(id);
        apid_pool_free(pool);
}

/* Look e up by user, uid, SID, and open it: each the status st, and when
 * found, e's identity. how: 0 user, 1 uid, 2 SID, 3 pool, -1 all four. */
static int lookup_one(apid_ctx *ctx, const struct expect *e, int how, apid_identity **out)
{
        apid_sid *sid = NULL;
        apid_pool *pool = NULL;
        int r;

        switch (how) {
        case 0: return apid_identity_from_user(ctx, e->user, out);
        case 1: return apid_identity_from_uid(ctx, e->uid, out);
        case 2:
                if (apid_sid_parse(e->sid, &sid) != APID_OK)
                        return APID_EINVAL;
                r = apid_identity_from_sid(ctx, sid, out);
                apid_sid_free(sid);
                return r;
        default:
                r = apid_pool_open(ctx, e->name, &pool);
                if (r == APID_OK)
                        r = apid_pool_get_identity(pool, out);
                apid_pool_free(pool);
                return r;
        }
}

/* 1 if id is e's identity. */
static int is(const apid_identity *id, const struct expect *e)
{
        char *sid = NULL;
        int ok;

        if (apid_sid_to_string(apid_identity_get_sid(id), &sid) != APID_OK)
                return 0;
        ok = apid_identity_get_uid(id) == e->uid && apid_identity_get_gid(id) == e->uid &&
             strcmp(apid_identity_get_user(id), e->user) == 0 && strcmp(sid, e->sid) == 0 &&
             strcmp(apid_identity_get_pool_name(id), e->name) == 0;
        apid_free(sid);
        return ok;
}

static void assert_found(apid_ctx *ctx, const struct expect *e)
{
        int how;

        for (how = 0; how < 4; how++) {
                apid_identity *id = NULL;
                int r = lookup_one(ctx, e, how, &id);

                if (r != APID_OK)
                        fail_msg("%s by %d: %s", e->name, how, apid_error_message());
                assert_true(is(id, e));
                apid_identity_free(id);
        }
}

static void assert_gone(apid_ctx *ctx, const struct expect *e)
{
        int how;

        for (how = 0; how < 4; how++) {
                apid_identity *id = NULL;

                assert_int_equal(lookup_one(ctx, e, how, &id), APID_ENOTFOUND);
                assert_null(id);
        }
}

static void make_pools(struct fixture *f, int n, struct expect *e)
{
        char name[32];
        int i;

        for (i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "Cache%d", i);
                assert_int_equal(apid_pool_create(f->ctx, name, NULL), APID_OK);
        }
        for (i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "Cache%d", i);
                expect_of(f->ctx, name, &e[i]);
        }
}

/* Warm lookups go to SQLite not once; the same identity object is shared. */
static void test_hit(void **state)
{
        struct fixture *f = *state;
        struct expect e[5];
        apid_identity *a = NULL, *b = NULL;
        unsigned before;
        int i;

        make_pools(f, 5, e);
        for (i = 0; i < 5; i++)
                assert_found(f->ctx, &e[i]); /* builds each entry */
        before = sql_count();
        for (i = 0; i < 5; i++)
                assert_found(f->ctx, &e[i]);
        assert_int_equal(sql_count(), before);
        /* "IIS APPPOOL\Cache1" goes through the pool, from the cache too */
        assert_int_equal(apid_identity_from_user(f->ctx, "IIS APPPOOL\\cache1", &a), APID_OK);
        assert_true(is(a, &e[1]));
        assert_int_equal(apid_identity_from_uid(f->ctx, e[1].uid, &b), APID_OK);
        assert_ptr_equal(a, b);
        apid_identity_free(a);
        apid_identity_free(b);
        assert_int_equal(sql_count(), before);
}

/* The old path, asked for by APPPOOLID_LOOKUP_CACHE=0, gives the same. */
static void test_cache_off(void **state)
{
        struct fixture *f = *state;
        struct expect e[2];
        apid_ctx *off = NULL;
        unsigned before;

        make_pools(f, 2, e);
        setenv("APPPOOLID_LOOKUP_CACHE", "0", 1);
        assert_int_equal(apid_ctx_new(&off), APID_OK);
        unsetenv("APPPOOLID_LOOKUP_CACHE");
        assert_int_equal(apid_ctx_set_state_dir(off, f->dir), APID_OK);
        assert_found(off, &e[0]);
        before = sql_count();
        assert_found(off, &e[1]);
        assert_true(sql_count() > before);
        apid_ctx_unref(off);
}

/* Another process deletes a pool and changes another's profile setting:
 * lookups one tick later say so, with no stale identity. */
static void test_other_process(void **state)
{
        struct fixture *f = *state;
        struct expect e[3];
        apid_identity *id = NULL;
        int64_t t0;

        make_pools(f, 3, e);
        assert_found(f->ctx, &e[0]);
        assert_found(f->ctx, &e[1]);
        assert_int_equal(apid_identity_from_user(f->ctx, e[2].user, &id), APID_OK);
        assert_null(apid_identity_get_profile_dir(id));
        apid_identity_free(id);
        t0 = coarse_now();
        assert_int_equal(ctl(f->dir, "pool", "delete", "--keep-profile", "Cache1", NULL), 0);
        assert_int_equal(ctl(f->dir, "pool", "set", "Cache2", "processModel.loadUserProfile=true", NULL), 0);
        assert_int_equal(ctl(f->dir, "pool", "add", "Cache3", NULL), 0);
        wait_tick_after(t0);
        assert_gone(f->ctx, &e[1]);
        assert_found(f->ctx, &e[0]);
        assert_int_equal(apid_identity_from_user(f->ctx, e[2].user, &id), APID_OK);
        assert_non_null(apid_identity_get_profile_dir(id));
        apid_identity_free(id);
        {
                struct expect n;

                expect_of(f->ctx, "Cache3", &n);
                assert_found(f->ctx, &n);
        }
}

/* This process's writes are seen at once, through this context or another,
 * with no clock tick in between. */
static void test_same_process(void **state)
{
        struct fixture *f = *state;
        struct expect e[3];
        apid_ctx *other = NULL;
        apid_pool *pool = NULL;

        make_pools(f, 3, e);
        assert_int_equal(apid_ctx_new(&other), APID_OK);
        assert_int_equal(apid_ctx_set_state_dir(other, f->dir), APID_OK);
        assert_found(f->ctx, &e[0]);
        assert_found(f->ctx, &e[1]);
        assert_int_equal(apid_pool_delete(f->ctx, "Cache0", APID_POOL_DELETE_KEEP_PROFILE), APID_OK);
        assert_gone(f->ctx, &e[0]);
        assert_int_equal(apid_pool_delete(other, "Cache1", APID_POOL_DELETE_KEEP_PROFILE), APID_OK);
        assert_gone(f->ctx, &e[1]);
        /* a handle opened from the cache and changed: its own settings count */
        assert_int_equal(apid_pool_open(f->ctx, "Cache2", &pool), APID_OK);
        assert_int_equal(apid_pool_set(pool, "processModel.loadUserProfile", "true"), APID_OK);
        {
                apid_identity *id = NULL;

                assert_int_equal(apid_pool_get_identity(pool, &id), APID_OK);
                assert_non_null(apid_identity_get_profile_dir(id));
                apid_identity_free(id);
        }
        apid_pool_free(pool);
        apid_ctx_unref(other);
}

/* The snapshot cannot be published (its lock is a directory): the write
 * commits all the same, and this process does not answer from the snapshot
 * that still lists the deleted pool. */
static void test_publish_failed(void **state)
{
        struct fixture *f = *state;
        struct expect e[2];
        char lock[300];

        make_pools(f, 2, e);
        assert_found(f->ctx, &e[0]);
        snprintf(lock, sizeof(lock), "%s/nss-snapshot.lock", f->dir);
        assert_int_equal(unlink(lock), 0);
        assert_int_equal(mkdir(lock, 0700), 0);
        assert_int_equal(apid_pool_delete(f->ctx, "Cache0", APID_POOL_DELETE_KEEP_PROFILE), APID_OK);
        assert_gone(f->ctx, &e[0]);
        assert_found(f->ctx, &e[1]);
        assert_int_equal(rmdir(lock), 0);
}

static void replace_snapshot(const char *dir, const void *data, size_t size)
{
        char path[300], tmp[310];
        int fd;

        snprintf(path, sizeof(path), "%s/nss-snapshot", dir);
        snprintf(tmp, sizeof(tmp), "%s.test", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, size), (ssize_t)size);
        close(fd);
        assert_int_equal(rename(tmp, path), 0);
}

static void *read_snapshot(const char *dir, size_t *size)
{
        char path[300];
        struct stat st;
        void *data;
        int fd;

        snprintf(path, sizeof(path), "%s/nss-snapshot", dir);
        fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        data = malloc((size_t)st.st_size);
        assert_non_null(data);
        assert_int_equal(read(fd, data, (size_t)st.st_size), st.st_size);
        close(fd);
        *size = (size_t)st.st_size;
        return data;
}

/* Truncated, corrupt (a flipped byte in the header, garbage) and absent
 * snapshots: every lookup is answered right, by SQLite. */
static void test_corrupt(void **state)
{
        struct fixture *f = *state;
        struct expect e[3];
        size_t size;
        unsigned char *good, *bad;
        char path[300];
        int64_t t0;

        make_pools(f, 3, e);
        good = read_snapshot(f->dir, &size);
        bad = malloc(size);
        assert_non_null(bad);
        for (int round = 0; round < 4; round++) {
                size_t n = size;

                memcpy(bad, good, size);
                if (round == 0)
                        n = size / 2; /* truncated */
                else if (round == 1)
                        bad[20] ^= 1; /* the header's check fails */
                else if (round == 2)
                        memset(bad + 88, 0xff, size - 89); /* a valid header, garbage records and strings */
                t0 = coarse_now();
                if (round == 3) {
                        snprintf(path, sizeof(path), "%s/nss-snapshot", f->dir);
                        assert_int_equal(unlink(path), 0);
                } else {
                        replace_snapshot(f->dir, bad, n);
                }
                wait_tick_after(t0);
                for (int i = 0; i < 3; i++)
                        assert_found(f->ctx, &e[i]);
        }
        /* and with the good one back, from the cache again */
        replace_snapshot(f->dir, good, size);
        t0 = coarse_now();
        wait_tick_after(t0);
        assert_found(f->ctx, &e[0]);
        {
                unsigned before = sql_count();

                assert_found(f->ctx, &e[0]);
                assert_int_equal(sql_count(), before);
        }
        free(good);
        free(bad);
}

/* A writer killed between COMMIT and publication leaves the previous
 * snapshot: another process deleted a pool, and the snapshot that still
 * lists it is put back. A context of this process (which committed nothing
 * since) sees the registry's newer generation and answers from SQLite. */
static void test_stale_generation(void **state)
{
        struct fixture *f = *state;
        struct expect e[2];
        apid_ctx *fresh = NULL;
        size_t size;
        void *old;

        make_pools(f, 2, e);
        old = read_snapshot(f->dir, &size);
        assert_int_equal(ctl(f->dir, "pool", "delete", "--keep-profile", "Cache0", NULL), 0);
        replace_snapshot(f->dir, old, size);
        free(old);
        assert_int_equal(apid_ctx_new(&fresh), APID_OK);
        assert_int_equal(apid_ctx_set_state_dir(fresh, f->dir), APID_OK);
        assert_found(fresh, &e[1]);
        /* the registry's generation is not the snapshot's: nothing of it is
         * kept, every lookup asks SQLite until a newer one is published */
        {
                unsigned before = sql_count();

                assert_found(fresh, &e[1]);
                assert_true(sql_count() > before);
        }
        assert_gone(fresh, &e[0]);
        apid_ctx_unref(fresh);
}

/* A child after fork() uses the parent's context, its mapping and entries
 * included: its lookups are right, its own write is seen at once in it,
 * and in the parent a tick later. */
static void test_fork(void **state)
{
        struct fixture *f = *state;
        struct expect e[2];
        int64_t t0;
        int status;
        pid_t pid;

        make_pools(f, 2, e);
        assert_found(f->ctx, &e[0]);
        assert_found(f->ctx, &e[1]);
        t0 = coarse_now();
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                apid_identity *id = NULL;
                int ok = lookup_one(f->ctx, &e[0], 1, &id) == APID_OK && is(id, &e[0]);

                apid_identity_free(id);
                ok = ok && apid_pool_delete(f->ctx, "Cache1", APID_POOL_DELETE_KEEP_PROFILE) == APID_OK;
                ok = ok && lookup_one(f->ctx, &e[1], 0, &id) == APID_ENOTFOUND;
                _exit(ok ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        wait_tick_after(t0);
        assert_gone(f->ctx, &e[1]);
        assert_found(f->ctx, &e[0]);
}

/* ---- 8 threads while another process writes ---- */

#define N_STABLE 6
#define N_CHURN 4

struct shared {
        apid_ctx *ctx;
        struct expect stable[N_STABLE];
        struct expect churn[N_CHURN];
        int done;   /* __atomic */
        int wrong;  /* __atomic */
        unsigned long lookups; /* __atomic */
};

static void *looker(void *arg)
{
        struct shared *s = arg;
        unsigned seed = (unsigned)(uintptr_t)pthread_self();
        int rounds = 0;

        while (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE) || rounds < 50) {
                int how = (int)(rand_r(&seed) % 4), churn = rand_r(&seed) % 3 == 0;
                const struct expect *e = churn ? &s->churn[rand_r(&seed) % N_CHURN]
                                               : &s->stable[rand_r(&seed) % N_STABLE];
                apid_identity *id = NULL;
                int r = lookup_one(s->ctx, e, how, &id);

                /* a stable pool is always found; a churning one is found as
                 * itself or not at all */
                if ((r == APID_OK && !is(id, e)) || (r != APID_OK && (!churn || r != APID_ENOTFOUND)))
                        __atomic_add_fetch(&s->wrong, 1, __ATOMIC_RELAXED);
                apid_identity_free(id);
                __atomic_add_fetch(&s->lookups, 1, __ATOMIC_RELAXED);
                rounds++;
        }
        return NULL;
}

static void test_threads_while_writing(void **state)
{
        struct fixture *f = *state;
        struct shared s;
        pthread_t t[8];
        char name[32];
        int i, round;

        memset(&s, 0, sizeof(s));
        s.ctx = f->ctx;
        for (i = 0; i < N_STABLE; i++) {
                snprintf(name, sizeof(name), "Stable%d", i);
                assert_int_equal(apid_pool_create(f->ctx, name, NULL), APID_OK);
                expect_of(f->ctx, name, &s.stable[i]);
        }
        for (i = 0; i < N_CHURN; i++) {
                snprintf(name, sizeof(name), "Churn%d", i);
                assert_int_equal(apid_pool_create(f->ctx, name, NULL), APID_OK);
                expect_of(f->ctx, name, &s.churn[i]);
        }
        for (i = 0; i < 8; i++)
                assert_int_equal(pthread_create(&t[i], NULL, looker, &s), 0);
        /* another process deletes and adds the churning pools back */
        for (round = 0; round < 3; round++)
                for (i = 0; i < N_CHURN; i++) {
                        snprintf(name, sizeof(name), "Churn%d", i);
                        assert_int_equal(round % 2 ? ctl(f->dir, "pool", "add", name, NULL)
                                                   : ctl(f->dir, "pool", "delete", "--keep-profile", name, NULL), 0);
                }
        __atomic_store_n(&s.done, 1, __ATOMIC_RELEASE);
        for (i = 0; i < 8; i++)
                pthread_join(t[i], NULL);
        assert_int_equal(s.wrong, 0);
        assert_true(s.lookups >= 8 * 50);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_hit, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_cache_off, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_other_process, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_same_process, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_publish_failed, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_corrupt, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_stale_generation, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_fork, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_threads_while_writing, fixture_setup, fixture_teardown),
        };

        if (argc < 2) {
                fprintf(stderr, "usage: test-lookup APPPOOLCTL\n");
                return 1;
        }
        apppoolctl = argv[1];
        return cmocka_run_group_tests(tests, NULL, NULL);
}
