/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the store's connections (lib/store/registry.c): readers on
 * read-only connections cached in their context and writers in the same
 * process. SQLite shares one -shm mapping per process and file; a reader's
 * read-only one made every writer of the process fail ("attempt to write a
 * readonly database") until the process-wide gate closed idle readers
 * before a write. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <apppoolid.h>

static char dir[64];

static apid_ctx *new_ctx(void)
{
        apid_ctx *ctx = NULL;

        assert_int_equal(apid_ctx_new(&ctx), APID_OK);
        assert_int_equal(apid_ctx_set_state_dir(ctx, dir), APID_OK);
        return ctx;
}

static int setup(void **state)
{
        apid_ctx *ctx;

        (void)state;
        snprintf(dir, sizeof(dir), "/tmp/apid-store-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        ctx = new_ctx();
        assert_int_equal(apid_pool_create(ctx, "seed", NULL), APID_OK);
        apid_ctx_unref(ctx);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];

        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static int open_ok(apid_ctx *ctx, const char *name)
{
        apid_pool *pool = NULL;
        int r = apid_pool_open(ctx, name, &pool);

        apid_pool_free(pool);
        return r;
}

/* A context reads (its read-only connection stays open), another writes,
 * the first reads again and sees the change. */
static void reader_then_writer_in_one_process(void **state)
{
        apid_ctx *reader = new_ctx(), *writer = new_ctx();

        (void)state;
        assert_int_equal(open_ok(reader, "seed"), APID_OK);
        assert_int_equal(open_ok(reader, "later"), APID_ENOTFOUND);
        assert_int_equal(apid_pool_create(writer, "later", NULL), APID_OK);
        assert_int_equal(open_ok(reader, "later"), APID_OK);
        /* The same context reading and writing in turn. */
        assert_int_equal(apid_pool_create(reader, "later2", NULL), APID_OK);
        assert_int_equal(open_ok(reader, "later2"), APID_OK);
        assert_int_equal(open_ok(writer, "later2"), APID_OK);
        apid_ctx_unref(reader);
        apid_ctx_unref(writer);
}

struct worker {
        int write, failures, n;
        char message[256];
};

static void *work(void *arg)
{
        struct worker *w = arg;
        apid_ctx *ctx = new_ctx();
        int i, r;

        for (i = 0; i < w->n; i++) {
                char name[32];

                if (w->write) {
                        snprintf(name, sizeof(name), "t%d", i);
                        r = apid_pool_create(ctx, name, NULL);
                } else {
                        apid_pool_list *list = NULL;

                        r = open_ok(ctx, "seed");
                        if (r == APID_OK)
                                r = apid_pool_list_new(ctx, &list);
                        apid_pool_list_free(list);
                }
                if (r != APID_OK && !w->failures++)
                        snprintf(w->message, sizeof(w->message), "%d: %s", r, apid_error_message());
        }
        apid_ctx_unref(ctx);
        return NULL;
}

/* 4 reader threads and 2 writer threads, each with its own context, in one
 * process: every call succeeds. */
static void readers_and_writers_in_threads(void **state)
{
        struct worker w[6] = { { .n = 150 }, { .n = 150 }, { .n = 150 }, { .n = 150 },
                               { .write = 1, .n = 20 }, { .write = 1, .n = 20 } };
        pthread_t t[6];
        int i;

        (void)state;
        for (i = 0; i < 6; i++)
                assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
        for (i = 0; i < 6; i++)
                pthread_join(t[i], NULL);
        /* The second writer finds the first's pools: EEXISTS is its answer. */
        for (i = 0; i < 4; i++)
                if (w[i].failures)
                        fail_msg("reader %d: %d failures, first %s", i, w[i].failures, w[i].message);
        if (w[4].failures + w[5].failures > 20)
                fail_msg("writers: %d failures, first %s %s", w[4].failures + w[5].failures, w[4].message,
                         w[5].message);
}

/* A child of a process that holds a cached reader reads on its own
 * connections, and the parent writes after it. (A child that writes after
 * its parent read: child_writes_after_parent_read below.) */
static void after_fork(void **state)
{
        apid_ctx *ctx = new_ctx();
        pid_t pid;
        int status;

        (void)state;
        assert_int_equal(open_ok(ctx, "seed"), APID_OK);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int r = open_ok(ctx, "seed");

                if (r == APID_OK)
                        r = open_ok(ctx, "seed");
                if (r != APID_OK)
                        fprintf(stderr, "child: %d %s\n", r, apid_error_message());
                _exit(r == APID_OK ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(apid_pool_create(ctx, "parent", NULL), APID_OK);
        assert_int_equal(open_ok(ctx, "parent"), APID_OK);
        apid_ctx_unref(ctx);
}

struct looker {
        apid_ctx *ctx; /* shared by all the threads: the context is thread-safe */
        uint32_t uid;
        int n, failures;
        char message[256];
};

static void *look(void *arg)
{
        struct looker *l = arg;
        int i;

        for (i = 0; i < l->n; i++) {
                apid_pool *pool = NULL;
                apid_identity *id = NULL, *by_user = NULL;
                int r = apid_pool_open(l->ctx, "seed", &pool);

                if (r == APID_OK)
                        r = apid_pool_get_identity(pool, &id);
                if (r == APID_OK)
                        r = apid_identity_from_user(l->ctx, "apppool-seed", &by_user);
                if (r == APID_OK && (apid_identity_get_uid(id) != l->uid || apid_identity_get_uid(by_user) != l->uid))
                        r = APID_EINVAL;
                if (r != APID_OK && !l->failures++)
                        snprintf(l->message, sizeof(l->message), "%d: %s", r, apid_error_message());
                apid_identity_free(by_user);
                apid_identity_free(id);
                apid_pool_free(pool);
        }
        return NULL;
}

/* Lookups from 8 threads (one context, and one each) while another process
 * writes: every lookup answers the same identity. The ThreadSanitizer build
 * in CI (.ci/test) runs this. */
static void lookups_in_threads_while_a_process_writes(void **state)
{
        struct looker l[8];
        pthread_t t[8];
        apid_ctx *shared = new_ctx();
        apid_pool *seed = NULL;
        apid_identity *id = NULL;
        uint32_t uid;
        pid_t pid;
        int i, status;

        (void)state;
        assert_int_equal(apid_pool_open(shared, "seed", &seed), APID_OK);
        assert_int_equal(apid_pool_get_identity(seed, &id), APID_OK);
        uid = apid_identity_get_uid(id);
        apid_identity_free(id);
        apid_pool_free(seed);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                apid_ctx *ctx = new_ctx();
                char name[32];
                int r = APID_OK;

                for (i = 0; i < 40 && r == APID_OK; i++) {
                        snprintf(name, sizeof(name), "w%d", i);
                        r = apid_pool_create(ctx, name, NULL);
                        if (r == APID_OK && i % 3 == 0)
                                r = apid_pool_delete(ctx, name, APID_POOL_DELETE_KEEP_PROFILE);
                }
                if (r != APID_OK)
                        fprintf(stderr, "writer: %d %s\n", r, apid_error_message());
                _exit(r == APID_OK ? 0 : 1);
        }
        for (i = 0; i < 8; i++) {
                l[i] = (struct looker){ .ctx = i % 2 ? shared : NULL, .uid = uid, .n = 60 };
                if (!l[i].ctx)
                        l[i].ctx = new_ctx();
                assert_int_equal(pthread_create(&t[i], NULL, look, &l[i]), 0);
        }
        for (i = 0; i < 8; i++)
                pthread_join(t[i], NULL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        for (i = 0; i < 8; i++) {
                if (l[i].failures)
                        fail_msg("thread %d: %d failures, first %s", i, l[i].failures, l[i].message);
                if (l[i].ctx != shared)
                        apid_ctx_unref(l[i].ctx);
        }
        apid_ctx_unref(shared);
}

/* A child of a process that wrote and read (a writer's and a reader's
 * connections cached) writes, on the inherited contexts and on its own:
 * SQLite connections must not cross fork(), so the child's contexts open
 * their own (lib/context.c drops the parent's, lib/store/registry.c closes the
 * parent's idle readers in the child). */
static void child_writes_after_parent_read(void **state)
{
        apid_ctx *ctx = new_ctx(), *reader = new_ctx();
        pid_t pid;
        int status;

        (void)state;
        assert_int_equal(open_ok(reader, "seed"), APID_OK);
        assert_int_equal(apid_pool_create(ctx, "before", NULL), APID_OK);
        assert_int_equal(open_ok(ctx, "seed"), APID_OK);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                apid_ctx *own = new_ctx();
                /* It reads on the inherited context, then writes on it and
                 * on a context of its own. */
                int r = open_ok(ctx, "seed");

                if (r == APID_OK)
                        r = apid_pool_create(ctx, "child", NULL);
                if (r == APID_OK)
                        r = apid_pool_create(own, "child2", NULL);
                if (r == APID_OK)
                        r = open_ok(ctx, "child2");
                apid_ctx_unref(own);
                if (r != APID_OK)
                        fprintf(stderr, "child: %d %s\n", r, apid_error_message());
                _exit(r == APID_OK ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(open_ok(ctx, "child"), APID_OK);
        assert_int_equal(apid_pool_create(ctx, "parent", NULL), APID_OK);
        assert_int_equal(open_ok(reader, "parent"), APID_OK);
        apid_ctx_unref(reader);
        apid_ctx_unref(ctx);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(reader_then_writer_in_one_process, setup, teardown),
                cmocka_unit_test_setup_teardown(readers_and_writers_in_threads, setup, teardown),
                cmocka_unit_test_setup_teardown(after_fork, setup, teardown),
                cmocka_unit_test_setup_teardown(lookups_in_threads_while_a_process_writes, setup, teardown),
                cmocka_unit_test_setup_teardown(child_writes_after_parent_read, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
