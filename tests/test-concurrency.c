/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Several processes at once against one registry: no duplicate id, no lost
 * pool, no torn database, and a writer killed in the middle of its work
 * leaves nothing behind. Real processes, a real SQLite file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "testutil.h"
#include "testutil-state.h"

#define WORKERS 8
#define POOLS_PER_WORKER 24

/* Child: create pools w<i>-<n> and a shared set s<n> that every worker races
 * for; delete every third own pool. Report what it kept on fd. */
static int worker(const char *dir, int index, int report)
{
        apid_ctx *ctx = NULL;
        char name[32], line[64];
        int n, kept = 0;

        if (apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, dir) != APID_OK)
                return 10;
        for (n = 0; n < POOLS_PER_WORKER; n++) {
                int r;

                snprintf(name, sizeof(name), "w%d-%d", index, n);
                r = apid_pool_create(ctx, name, NULL);
                if (r != APID_OK) {
                        fprintf(stderr, "worker %d: %s: %s\n", index, name, apid_error_message());
                        return 11;
                }
                snprintf(name, sizeof(name), "s%d", n);
                r = apid_pool_create(ctx, name, NULL);
                if (r != APID_OK && r != APID_EEXISTS) {
                        fprintf(stderr, "worker %d: %s: %s\n", index, name, apid_error_message());
                        return 12;
                }
                if (n % 3 == 0) {
                        snprintf(name, sizeof(name), "w%d-%d", index, n);
                        if (apid_pool_delete(ctx, name, APID_POOL_DELETE_REMOVE_PROFILE) != APID_OK)
                                return 13;
                } else {
                        snprintf(line, sizeof(line), "w%d-%d\n", index, n);
                        if (write(report, line, strlen(line)) < 0)
                                return 14;
                        kept++;
                }
        }
        apid_ctx_unref(ctx);
        return 0;
}

static void integrity_ok(const char *dir)
{
        char path[512];
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;

        snprintf(path, sizeof(path), "%s/registry.db", dir);
        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
        sqlite3_finalize(st);
        /* Every pool has its account; no uid twice (the schema says so too). */
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT (SELECT count(*) FROM pools p LEFT JOIN accounts a ON a.uid = p.uid"
                                            "         WHERE a.uid IS NULL),"
                                            "       (SELECT count(*) - count(DISTINCT uid) FROM accounts)",
                                            -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), 0);
        assert_int_equal(sqlite3_column_int(st, 1), 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
}

static void many_writers_at_once(void **state)
{
        struct fixture *f = *state;
        pid_t pids[WORKERS];
        int fds[2], i, status;
        char buf[65536];
        size_t got = 0;
        ssize_t n;
        apid_pool_list *list = NULL;
        uint32_t *uids, j, k, count;
        char *line, *save = NULL;

        assert_int_equal(pipe(fds), 0);
        for (i = 0; i < WORKERS; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        close(fds[0]);
                        _exit(worker(f->dir, i, fds[1]));
                }
        }
        close(fds[1]);
        while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
                got += (size_t)n;
        close(fds[0]);
        buf[got] = '\0';
        for (i = 0; i < WORKERS; i++) {
                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        fail_msg("worker %d: status %d", i, status);
        }
        integrity_ok(f->dir);
        /* Nothing lost: every pool a worker kept exists... */
        for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                apid_pool *pool = NULL;

                if (apid_pool_open(f->ctx, line, &pool) != APID_OK)
                        fail_msg("pool %s was lost: %s", line, apid_error_message());
                apid_pool_free(pool);
        }
        /* ...the count is exact, and no two pools share a uid. */
        must(apid_pool_list_new(f->ctx, &list));
        count = apid_pool_list_count(list);
        assert_int_equal(count, WORKERS * (POOLS_PER_WORKER - POOLS_PER_WORKER / 3) + POOLS_PER_WORKER);
        uids = calloc(count, sizeof(*uids));
        for (j = 0; j < count; j++) {
                uids[j] = pool_uid(f->ctx, apid_pool_list_get(list, j), NULL);
                for (k = 0; k < j; k++)
                        assert_int_not_equal(uids[j], uids[k]);
        }
        free(uids);
        apid_pool_list_free(list);
}

static void killed_writers_leave_nothing_half_written(void **state)
{
        struct fixture *f = *state;
        struct timespec delay = { 0, 0 };
        int round, status;

        must(apid_pool_create(f->ctx, "survivor", NULL));
        srand(42);
        for (round = 0; round < 20; round++) {
                pid_t pid = fork();

                assert_true(pid >= 0);
                if (pid == 0) {
                        apid_ctx *ctx = NULL;
                        char name[32];
                        int n;

                        if (apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, f->dir) != APID_OK)
                                _exit(1);
                        for (n = 0;; n++) { /* until killed */
                                snprintf(name, sizeof(name), "r%d-%d", round, n);
                                if (apid_pool_create(ctx, name, NULL) != APID_OK)
                                        _exit(2);
                                if (apid_pool_delete(ctx, name, APID_POOL_DELETE_KEEP_PROFILE) != APID_OK)
                                        _exit(3);
                        }
                }
                delay.tv_nsec = 1000000L + (long)(rand() % 20) * 1000000L; /* 1 to 20 ms */
                nanosleep(&delay, NULL);
                kill(pid, SIGKILL);
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFSIGNALED(status)); /* it was killed while working */
                /* The next writer goes straight on; the registry is whole. */
                must(apid_pool_create(f->ctx, "after", NULL));
                must(apid_pool_delete(f->ctx, "after", APID_POOL_DELETE_KEEP_PROFILE));
        }
        integrity_ok(f->dir);
        /* Each killed worker left at most the one pool it had created but not
         * yet deleted: never a pool without its account or a torn row. */
        assert_true(pool_count(f->ctx) <= 1 + 20);
        pool_uid(f->ctx, "survivor", NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(many_writers_at_once, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(killed_writers_leave_nothing_half_written, fixture_setup,
                                                fixture_teardown),
        };

        unsetenv(APID_STATE_DIR_ENV);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
