/* Unit tests of the idmap layer (lib/idmap/): the NSS resolver, the answer
 * cache that keeps NSS out of registry transactions, user names, and the
 * rule that an account NSS serves as this very identity (a farm's
 * directory) is ours while any other account on the id is foreign. Built
 * from the library's own objects, so the internal functions are reachable.
 * The cases that need a private /etc/passwd or /etc/group run in a child in
 * its own mount namespace (root only; skipped otherwise). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/idmap/idmap.h"

static char state[] = "/tmp/apid-test-idmap-XXXXXX";

static void resolver_answers_and_not_found(void **unused)
{
        struct apid__nss_user u;
        struct apid__nss_group g;

        assert_int_equal(apid__nss_user_by_name("root", &u), APID_OK);
        assert_int_equal(u.uid, 0);
        assert_string_equal(u.name, "root");
        apid__nss_user_clear(&u);
        assert_int_equal(apid__nss_user_by_uid(0, &u), APID_OK);
        assert_string_equal(u.name, "root");
        apid__nss_user_clear(&u);
        assert_int_equal(apid__nss_group_by_gid(0, &g), APID_OK);
        assert_string_equal(g.name, "root");
        apid__nss_group_clear(&g);
        assert_int_equal(apid__nss_user_by_name("apid-no-such-user", NULL), APID_ENOTFOUND);
        assert_int_equal(apid__nss_group_by_name("apid-no-such-group", NULL), APID_ENOTFOUND);
        assert_int_equal(apid__nss_user_by_uid(4000000001u, NULL), APID_ENOTFOUND);
        assert_int_equal(apid__nss_id_known(0), 1);
        assert_int_equal(apid__nss_id_known(4000000001u), 0);
        assert_int_equal(apid__nss_name_known("root"), 1);
}

/* Run fn in a child with passwd/group text bind-mounted over /etc/passwd
 * and /etc/group (NULL: the host's), in a private mount namespace. */
static int in_namespace(const char *passwd, const char *group, int (*fn)(void))
{
        pid_t pid;
        int status;

        if (geteuid() != 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                const char *text[2] = { passwd, group }, *target[2] = { "/etc/passwd", "/etc/group" };
                int i;

                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                        _exit(90);
                for (i = 0; i < 2; i++) {
                        char path[64];
                        FILE *f;

                        if (!text[i])
                                continue;
                        snprintf(path, sizeof(path), "%s/etc.%d", state, i);
                        f = fopen(path, "w");
                        if (!f || fputs(text[i], f) < 0 || fclose(f) != 0)
                                _exit(91);
                        if (mount(path, target[i], NULL, MS_BIND, NULL) < 0)
                                _exit(92);
                }
                _exit(fn());
        }
        assert_true(pid > 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static char *big_group;

static int find_big_group(void)
{
        struct apid__nss_group g;
        int r = apid__nss_group_by_gid(1879048200u, &g);

        if (r != APID_OK)
                return 10;
        r = strcmp(g.name, "biggrp") == 0 ? 0 : 11;
        apid__nss_group_clear(&g);
        return r || apid__nss_id_known(1879048200u) != 1 ? 12 : 0;
}

/* A group entry far larger than a 4 KiB buffer (ERANGE at first) is found,
 * never taken as "not found". */
static void resolver_grows_on_erange(void **unused)
{
        size_t i, o;
        int r;

        big_group = malloc(200000);
        assert_non_null(big_group);
        o = (size_t)sprintf(big_group, "root:x:0:\nbiggrp:x:1879048200:");
        for (i = 0; i < 5000; i++)
                o += (size_t)sprintf(big_group + o, "%smember%zu", i ? "," : "", i);
        strcpy(big_group + o, "\n");
        r = in_namespace(NULL, big_group, find_big_group);
        free(big_group);
        if (r < 0)
                skip();
        assert_int_equal(r, 0);
}

/* ---- the answer cache ---- */
struct rounds {
        int calls, first, gather_first, last;
        uint32_t uid;
};

static int ask_root(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct rounds *r = arg;
        struct apid__nss_user u;
        int s;

        assert_int_equal(apid__nss_in_round(), 1);
        s = apid__nss_user_by_name("root", &u);
        if (r->calls++ == 0)
                r->first = s;
        r->last = s;
        if (s == APID_OK) {
                r->uid = u.uid;
                apid__nss_user_clear(&u);
        }
        return s;
}

static void cache_asks_outside_the_transaction(void **unused)
{
        struct rounds r = { 0 };
        apid_ctx *ctx = NULL;

        assert_int_equal(apid_ctx_new(&ctx), APID_OK);
        assert_int_equal(apid_ctx_set_state_dir(ctx, state), APID_OK);
        assert_int_equal(apid_pool_create(ctx, "seed", NULL), APID_OK);
        r.uid = 99;
        assert_int_equal(apid__nss_in_round(), 0);
        assert_int_equal(apid__idmap_run(ctx, 0, 0, ask_root, &r, 0), APID_OK);
        /* Round 1 had no answer (the question is written down and the
         * transaction rolled back), round 2 had it from the cache. */
        assert_int_equal(r.calls, 2);
        assert_int_equal(r.first, APID__EAGAIN_NSS);
        assert_int_equal(r.last, APID_OK);
        assert_int_equal(r.uid, 0);
        assert_int_equal(apid__nss_in_round(), 0);
        apid_ctx_unref(ctx);
}

static int ask_three(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct rounds *r = arg;
        int a = apid__nss_user_exists("root"), b = apid__nss_name_known("apid-no-such"), c = apid__nss_id_known(0);

        if (r->calls++ == 0)
                r->gather_first = a * 100 + b * 10 + c;
        r->last = a * 100 + b * 10 + c;
        return APID_OK;
}

static void cache_gathers_in_one_round(void **unused)
{
        struct rounds r = { 0 };
        apid_ctx *ctx = NULL;

        assert_int_equal(apid_ctx_new(&ctx), APID_OK);
        assert_int_equal(apid_ctx_set_state_dir(ctx, state), APID_OK);
        assert_int_equal(apid__idmap_run(ctx, 0, 0, ask_three, &r, 1), APID_OK);
        /* Gather mode: every unanswered question counts as "not found" for
         * the first round, all are answered together, one more round. */
        assert_int_equal(r.calls, 2);
        assert_int_equal(r.gather_first, 0);
        assert_int_equal(r.last, 101);
        apid_ctx_unref(ctx);
}

/* ---- names and the farm rule ---- */
static void user_names(void **unused)
{
        apid_sid *sid = NULL;
        char out[33], expect[33];

        assert_int_equal(apid_sid_for_pool("web", &sid), APID_OK);
        assert_int_equal(apid__pool_user_name("web", sid, 0, out), APID_OK);
        assert_string_equal(out, "apppool-web");
        assert_int_equal(apid__pool_user_name("web", sid, 1, out), APID_OK);
        assert_int_equal(strncmp(out, "apppool-web-", 12), 0);
        assert_int_equal(strlen(out), 18);
        apid_sid_free(sid);
        assert_int_equal(apid_sid_for_pool("a b", &sid), APID_OK);
        assert_int_equal(apid__pool_user_name("a b", sid, 0, out), APID_OK);
        assert_string_equal(out, "apppool-a-b-955fb0");
        apid_sid_free(sid);
        assert_int_equal(apid__pool_user_name_matches("DefaultAppPool", "apppool-defaultapppool", expect), 1);
        assert_int_equal(apid__pool_user_name_matches("DefaultAppPool", "apppool-web", expect), 0);
        assert_string_equal(expect, "apppool-defaultapppool");
}

#define FARM_UID 1890733766u
static char web_sid[200], other_sid[200];

static int farm_verdicts(void)
{
        /* Ours: name, uid, gid and the gecos or the SID agree. */
        if (apid__idmap_id_foreign(FARM_UID, "apppool-web", web_sid) != 0)
                return 20;
        if (apid__idmap_id_foreign(FARM_UID + 1, "apppool-web", web_sid) != 0)
                return 21; /* the SID in a gecos field */
        /* Foreign: another pool's identity, another user name, root. */
        if (apid__idmap_id_foreign(FARM_UID, "apppool-web", other_sid) != 1)
                return 22;
        if (apid__idmap_id_foreign(FARM_UID, "apppool-other", web_sid) != 1)
                return 23;
        if (apid__idmap_id_foreign(0, "root", web_sid) != 1)
                return 24;
        if (apid__idmap_id_foreign(FARM_UID + 2, "apppool-web", web_sid) != 1)
                return 25; /* gid != uid */
        if (apid__idmap_id_foreign(FARM_UID + 3, "apppool-web", web_sid) != 0)
                return 26; /* free */
        if (apid__idmap_id_foreign(FARM_UID + 5, "apppool-web", web_sid) != 0)
                return 28; /* its first field, then other fields */
        return 0;
}

static void farm_account_is_ours(void **unused)
{
        apid_sid *sid = NULL;
        char *text = NULL, passwd[2048];
        int r;

        assert_int_equal(apid_sid_for_pool("web", &sid), APID_OK);
        assert_int_equal(apid_sid_to_string(sid, &text), APID_OK);
        snprintf(web_sid, sizeof(web_sid), "%s", text);
        apid_free(text);
        apid_sid_free(sid);
        assert_int_equal(apid_sid_for_pool("other", &sid), APID_OK);
        assert_int_equal(apid_sid_to_string(sid, &text), APID_OK);
        snprintf(other_sid, sizeof(other_sid), "%s", text);
        apid_free(text);
        apid_sid_free(sid);

        snprintf(passwd, sizeof(passwd),
                 "root:x:0:0:root:/root:/bin/sh\n"
                 "apppool-web:x:%u:%u:IIS APPPOOL\\WEB:/nonexistent:/usr/sbin/nologin\n"
                 "apppool-web:x:%u:%u:Web pool,%s:/nonexistent:/usr/sbin/nologin\n"
                 "apppool-web:x:%u:5:IIS APPPOOL\\web:/nonexistent:/usr/sbin/nologin\n"
                 "apppool-web:x:%u:%u:IIS APPPOOL\\Web,room 4:/nonexistent:/usr/sbin/nologin\n",
                 FARM_UID, FARM_UID, FARM_UID + 1, FARM_UID + 1, web_sid, FARM_UID + 2, FARM_UID + 5,
                 FARM_UID + 5);
        r = in_namespace(passwd, "root:x:0:\n", farm_verdicts);
        if (r < 0)
                skip();
        assert_int_equal(r, 0);
}

/* 600 foreign accounts on a pool's first 600 candidates: pool add takes
 * candidate 600, in a few rounds (the questions asked ahead double), not
 * one round per candidate (which would pass the round limit). */
#define CROWD 600
#define RANGE_FIRST 1879048192u
#define RANGE_SIZE 16777216u

static int crowd_add(void)
{
        apid_identity *id = NULL;
        apid_pool *pool = NULL;
        apid_sid *sid = NULL;
        apid_ctx *ctx = NULL;
        char dir[96];
        int r = 30;

        snprintf(dir, sizeof(dir), "%s/crowd", state);
        if (apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, dir) != APID_OK)
                return 31;
        if (apid_pool_create(ctx, "crowd", &pool) != APID_OK) {
                fprintf(stderr, "crowd: %s\n", apid_error_message());
                return 32;
        }
        if (apid_pool_get_identity(pool, &id) == APID_OK && apid_sid_for_pool("crowd", &sid) == APID_OK &&
            apid_identity_get_uid_probe(id) == CROWD &&
            apid_identity_get_uid(id) == apid__idmap_candidate(sid, RANGE_FIRST, RANGE_SIZE, CROWD))
                r = 0;
        apid_sid_free(sid);
        apid_identity_free(id);
        apid_pool_free(pool);
        apid_ctx_unref(ctx);
        return r;
}

static void crowded_range_takes_few_rounds(void **unused)
{
        size_t size = CROWD * 80 + 64, o;
        char *passwd = malloc(size);
        apid_sid *sid = NULL;
        uint32_t i;
        int r;

        assert_non_null(passwd);
        assert_int_equal(apid_sid_for_pool("crowd", &sid), APID_OK);
        o = (size_t)snprintf(passwd, size, "root:x:0:0:root:/root:/bin/sh\n");
        for (i = 0; i < CROWD; i++) {
                uint32_t uid = apid__idmap_candidate(sid, RANGE_FIRST, RANGE_SIZE, i);

                o += (size_t)snprintf(passwd + o, size - o, "intruder%u:x:%u:%u::/:/bin/false\n", i, uid, uid);
        }
        apid_sid_free(sid);
        r = in_namespace(passwd, NULL, crowd_add);
        free(passwd);
        if (r < 0)
                skip();
        assert_int_equal(r, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(resolver_answers_and_not_found),
                cmocka_unit_test(resolver_grows_on_erange),
                cmocka_unit_test(cache_asks_outside_the_transaction),
                cmocka_unit_test(cache_gathers_in_one_round),
                cmocka_unit_test(user_names),
                cmocka_unit_test(farm_account_is_ours),
                cmocka_unit_test(crowded_range_takes_few_rounds),
        };
        char cmd[128];
        int r;

        if (!mkdtemp(state))
                return 1;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", state);
        if (system(cmd) != 0)
                r = 1;
        return r;
}
