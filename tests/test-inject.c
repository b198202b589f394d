/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pool's identity in every worker's token (the Linux form of IIS
 * injecting the pool SID): a grant to IIS AppPool\X reaches X's workers
 * whatever X's identity type, reaches no other pool's, and survives a change
 * of type. Real pools, real launches of tests/inject-reader (exit 0: read,
 * 13: the kernel said EACCES), real ACLs read back with getfacl.
 *
 * Needs root. The process moves into a private mount namespace where
 * /etc/passwd is a copy with one more account (the SpecificUser pool's), so
 * nothing on the machine changes, even if the test dies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "testutil-state.h"

#define OWNER 65534 /* files belong to nobody: not to any worker, LocalSystem's uid 0 included */
#define SU_USER "apid-inject-su"

static const char *reader;
static char passwd_copy[256];

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
        static char buf[16][2048];
        static int i;
        va_list ap;

        i = (i + 1) % 16;
        va_start(ap, f);
        vsnprintf(buf[i], sizeof(buf[i]), f, ap);
        va_end(ap);
        return buf[i];
}

static const struct {
        const char *name, *type;
} pools[] = {
        { "nsA", "NetworkService" }, { "nsB", "NetworkService" }, { "ls", "LocalService" },
        { "su", "SpecificUser" },    { "own", "ApplicationPoolIdentity" }, { "sys", "LocalSystem" },
};
#define N_POOLS (sizeof(pools) / sizeof(pools[0]))

struct world {
        struct fixture f; /* first: fixture_teardown frees it */
        char tree[256];
};

static void set_type(apid_ctx *ctx, const char *name, const char *type)
{
        apid_pool *pool = NULL;

        if (apid_pool_open(ctx, name, &pool) != APID_OK)
                must(apid_pool_create(ctx, name, &pool));
        if (strcmp(type, "SpecificUser") == 0)
                must(apid_pool_set(pool, "processModel.userName", SU_USER));
        must(apid_pool_set(pool, "processModel.identityType", type));
        apid_pool_free(pool);
}

static uint32_t pool_gid(apid_ctx *ctx, const char *name)
{
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        uint32_t gid;

        must(apid_pool_open(ctx, name, &pool));
        must(apid_pool_get_identity(pool, &id));
        gid = apid_identity_get_pool_gid(id);
        apid_identity_free(id);
        apid_pool_free(pool);
        return gid;
}

/* Launch the reader as a worker of the pool; its exit code. */
static int read_as(apid_ctx *ctx, const char *name, const char *path)
{
        const char *argv[] = { reader, path, NULL };
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        apid_token *t = NULL;
        apid_process *p = NULL;
        int code;

        must(apid_pool_open(ctx, name, &pool));
        must(apid_pool_get_identity(pool, &id));
        must(apid_token_new(id, &t));
        must(apid_launch(t, NULL, reader, argv, &p));
        must(apid_process_wait(p, -1));
        code = apid_process_exit_code(p);
        apid_process_free(p);
        apid_token_free(t);
        apid_identity_free(id);
        apid_pool_free(pool);
        return code;
}

static void edit(apid_ctx *ctx, const char *path, int op, const char *spec)
{
        apid_acl_edit *e = NULL;

        must(apid_acl_edit_new(ctx, &e));
        must(apid_acl_edit_add(e, op, spec));
        must(apid_acl_edit_apply(e, path));
        apid_acl_edit_free(e);
}

static const char *make_file(struct world *w, const char *name, mode_t mode)
{
        const char *path = fmt("%s/%s", w->tree, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "content\n", 8), 8);
        assert_int_equal(fchown(fd, OWNER, OWNER), 0);
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
        return path;
}

/* The named entries of a file's access ACL, numeric, one a line. */
static const char *named_entries(const char *path)
{
        static char out[2048];
        char line[256];
        size_t o = 0;
        FILE *p = popen(fmt("getfacl -cnp '%s' 2>/dev/null", path), "r");

        assert_non_null(p);
        out[0] = '\0';
        while (fgets(line, sizeof(line), p))
                if ((strncmp(line, "user:", 5) == 0 && line[5] != ':') ||
                    (strncmp(line, "group:", 6) == 0 && line[6] != ':'))
                        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", line);
        pclose(p);
        return out;
}

/* Every pool reads the file it was granted and is refused the rest. */
static void expect_only(apid_ctx *ctx, const char *path, const char *allowed)
{
        size_t i;

        for (i = 0; i < N_POOLS; i++) {
                int want = allowed && strcmp(pools[i].name, allowed) == 0 ? 0 : 13;
                int got = read_as(ctx, pools[i].name, path);

                if (got != want)
                        fail_msg("%s as %s (%s): exit %d, expected %d", path, pools[i].name, pools[i].type, got, want);
        }
}

static int setup(void **state)
{
        struct world *w;
        size_t i;

        if (geteuid() != 0) {
                print_message("SKIP: launching under another identity needs root\n");
                return -1;
        }
        w = calloc(1, sizeof(*w));
        assert_non_null(w);
        fixture_setup(state);
        w->f = *(struct fixture *)*state;
        free(*state);
        snprintf(w->tree, sizeof(w->tree), "/tmp/apid-inject-XXXXXX");
        assert_non_null(mkdtemp(w->tree));
        assert_int_equal(chmod(w->tree, 0711), 0); /* workers may reach, not list */
        for (i = 0; i < N_POOLS; i++)
                set_type(w->f.ctx, pools[i].name, pools[i].type);
        *state = w;
        return 0;
}

static int teardown(void **state)
{
        struct world *w = *state;

        rm_tree(w->tree);
        return fixture_teardown(state);
}

static void the_token_carries_the_pool_group(void **state)
{
        struct world *w = *state;
        size_t i;

        for (i = 0; i < N_POOLS; i++) {
                apid_pool *pool = NULL;
                apid_identity *id = NULL;
                apid_token *t = NULL;
                char *text = NULL;
                uint32_t gid = pool_gid(w->f.ctx, pools[i].name);

                must(apid_pool_open(w->f.ctx, pools[i].name, &pool));
                must(apid_pool_get_identity(pool, &id));
                must(apid_token_new(id, &t));
                must(apid_token_describe(t, &text));
                assert_non_null(strstr(text, fmt("\npool group: %u ", gid)));
                assert_non_null(strstr(text, strcmp(pools[i].type, "ApplicationPoolIdentity") == 0
                                                     ? "the primary group"
                                                     : "a supplementary group"));
                /* Distinct pools, distinct groups, even on one account. */
                if (i > 0)
                        assert_int_not_equal(gid, pool_gid(w->f.ctx, pools[0].name));
                apid_free(text);
                apid_token_free(t);
                apid_identity_free(id);
                apid_pool_free(pool);
        }
}

static void each_pool_reads_its_own_file_only(void **state)
{
        struct world *w = *state;
        const char *files[N_POOLS];
        size_t i;

        for (i = 0; i < N_POOLS; i++) {
                files[i] = strdup(make_file(w, pools[i].name, 0600));
                edit(w->f.ctx, files[i], APID_ACL_GRANT, fmt("IIS AppPool\\%s:R", pools[i].name));
                assert_string_equal(named_entries(files[i]), fmt("group:%u:r--\n", pool_gid(w->f.ctx, pools[i].name)));
        }
        for (i = 0; i < N_POOLS; i++) {
                expect_only(w->f.ctx, files[i], pools[i].name);
                free((void *)files[i]);
        }
        /* The SID form addresses the same entry. */
        {
                const char *f = make_file(w, "by-sid", 0600);
                apid_sid *sid = NULL;
                char *text = NULL;

                must(apid_sid_for_pool("nsB", &sid));
                must(apid_sid_to_string(sid, &text));
                edit(w->f.ctx, f, APID_ACL_GRANT, fmt("*%s:R", text));
                expect_only(w->f.ctx, f, "nsB");
                apid_free(text);
                apid_sid_free(sid);
        }
}

static void type_changes_keep_the_grant_and_give_nothing_to_others(void **state)
{
        struct world *w = *state;
        static const char *const cycle[] = { "ApplicationPoolIdentity", "LocalService", "SpecificUser", "LocalSystem",
                                             "ApplicationPoolIdentity", "NetworkService" };
        const char *f = make_file(w, "a-only", 0600);
        size_t i;

        edit(w->f.ctx, f, APID_ACL_GRANT, "IIS AppPool\\nsA:R");
        expect_only(w->f.ctx, f, "nsA");
        for (i = 0; i < sizeof(cycle) / sizeof(cycle[0]); i++) {
                set_type(w->f.ctx, "nsA", cycle[i]);
                expect_only(w->f.ctx, f, "nsA");
        }
}

static void a_builtin_account_still_means_the_account(void **state)
{
        struct world *w = *state;
        const char *f = make_file(w, "every-networkservice", 0600);

        edit(w->f.ctx, f, APID_ACL_GRANT, "NT AUTHORITY\\NETWORK SERVICE:R");
        assert_int_equal(strncmp(named_entries(f), "user:", 5), 0);
        assert_int_equal(read_as(w->f.ctx, "nsA", f), 0);
        assert_int_equal(read_as(w->f.ctx, "nsB", f), 0);
        assert_int_equal(read_as(w->f.ctx, "ls", f), 13);
        assert_int_equal(read_as(w->f.ctx, "own", f), 13);
}

/* The previous release wrote user:<pool user> for IIS AppPool\X, and
 * getfacl -R saved it by name; the pool has since become NetworkService. */
static void a_save_of_the_previous_release_still_grants_the_pool(void **state)
{
        struct world *w = *state;
        const char *f = make_file(w, "old", 0600), *save = fmt("%s/old.acl", w->f.dir);
        uint32_t gid;
        FILE *s;

        set_type(w->f.ctx, "old", "ApplicationPoolIdentity");
        gid = pool_gid(w->f.ctx, "old");
        s = fopen(save, "w");
        assert_non_null(s);
        fprintf(s, "# file: old\n# owner: nobody\n# group: nogroup\nuser::rw-\nuser:apppool-old:r--\ngroup::---\n"
                   "mask::r--\nother::---\n\n");
        fclose(s);
        set_type(w->f.ctx, "old", "NetworkService");
        must(apid_acl_restore(w->f.ctx, save, w->tree, 0));
        assert_string_equal(named_entries(f), fmt("user:%u:r--\ngroup:%u:r--\n", gid, gid));
        assert_int_equal(read_as(w->f.ctx, "old", f), 0);
        expect_only(w->f.ctx, f, NULL); /* no other pool, nsA and nsB (NetworkService too) included */
        set_type(w->f.ctx, "old", "ApplicationPoolIdentity");
        assert_int_equal(read_as(w->f.ctx, "old", f), 0);
        /* A save of this release names the group; it restores without NSS too. */
        s = fopen(save, "w");
        assert_non_null(s);
        fprintf(s, "# file: old\nuser::rw-\ngroup::---\ngroup:apppool-old:r-x\nmask::r-x\nother::---\n\n");
        fclose(s);
        must(apid_acl_restore(w->f.ctx, save, w->tree, 0));
        assert_string_equal(named_entries(f), fmt("group:%u:r-x\n", gid));
        assert_int_equal(read_as(w->f.ctx, "old", f), 0);
        /* A remove takes both entries; a grant converts an old one. */
        s = fopen(save, "w");
        assert_non_null(s);
        fprintf(s, "# file: old\nuser::rw-\nuser:%u:r--\ngroup::---\nmask::r--\nother::---\n\n", gid);
        fclose(s);
        /* setfacl writes it as the previous release left it: no group entry. */
        assert_int_equal(system(fmt("cd '%s' && setfacl --restore='%s'", w->tree, save)), 0);
        assert_string_equal(named_entries(f), fmt("user:%u:r--\n", gid));
        set_type(w->f.ctx, "old", "NetworkService");
        assert_int_equal(read_as(w->f.ctx, "old", f), 13); /* the previous release's bug, on disk */
        edit(w->f.ctx, f, APID_ACL_GRANT, "IIS AppPool\\old:(X)");
        assert_string_equal(named_entries(f), fmt("user:%u:r-x\ngroup:%u:r-x\n", gid, gid));
        assert_int_equal(read_as(w->f.ctx, "old", f), 0);
        expect_only(w->f.ctx, f, NULL);
        set_type(w->f.ctx, "old", "ApplicationPoolIdentity");
        edit(w->f.ctx, f, APID_ACL_REMOVE, "IIS AppPool\\old");
        assert_string_equal(named_entries(f), "");
        assert_int_equal(read_as(w->f.ctx, "old", f), 13);
}

static void deny_holds_for_every_type(void **state)
{
        struct world *w = *state;
        const char *f = make_file(w, "public", 0604); /* other: r */
        uint32_t gid = pool_gid(w->f.ctx, "nsA");

        assert_int_equal(read_as(w->f.ctx, "nsA", f), 0);
        edit(w->f.ctx, f, APID_ACL_DENY, "IIS AppPool\\nsA:R");
        assert_string_equal(named_entries(f), fmt("user:%u:---\ngroup:%u:---\n", gid, gid));
        assert_int_equal(read_as(w->f.ctx, "nsA", f), 13);
        assert_int_equal(read_as(w->f.ctx, "nsB", f), 0);
        assert_int_equal(read_as(w->f.ctx, "own", f), 0);
        set_type(w->f.ctx, "nsA", "ApplicationPoolIdentity");
        assert_int_equal(read_as(w->f.ctx, "nsA", f), 13);
        set_type(w->f.ctx, "nsA", "NetworkService");
        edit(w->f.ctx, f, APID_ACL_REMOVE, "IIS AppPool\\nsA");
        assert_int_equal(read_as(w->f.ctx, "nsA", f), 0);
}

/* What a group entry cannot take away is reported, not claimed: the shared
 * account's own entry is checked before any group. */
static void a_deny_the_account_overrides_is_reported(void **state)
{
        struct world *w = *state;
        const char *f = make_file(w, "shared", 0600);
        apid_acl_edit *e = NULL;

        edit(w->f.ctx, f, APID_ACL_GRANT, "NT AUTHORITY\\NETWORK SERVICE:R");
        must(apid_acl_edit_new(w->f.ctx, &e));
        must(apid_acl_edit_add(e, APID_ACL_DENY, "IIS AppPool\\nsA:R"));
        must(apid_acl_edit_apply(e, f));
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_APPROXIMATED), 1);
        apid_acl_edit_free(e);
        assert_int_equal(read_as(w->f.ctx, "nsA", f), 0); /* as reported */
        must(apid_acl_edit_new(w->f.ctx, &e));
        must(apid_acl_edit_add(e, APID_ACL_DENY, "IIS AppPool\\nsA:R"));
        must(apid_acl_edit_set_flags(e, APID_ACL_STRICT));
        assert_int_equal(apid_acl_edit_apply(e, f), APID_EUNSUPPORTED);
        apid_acl_edit_free(e);
}

/* An account that has another pool's own uid would carry that pool's group:
 * the identity is refused, and nothing is launched. */
static void an_account_with_another_pools_id_is_refused(void **state)
{
        struct world *w = *state;
        uint32_t own = pool_gid(w->f.ctx, "own");
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        struct stat st;
        FILE *pw;

        assert_int_equal(stat(passwd_copy, &st), 0);
        pw = fopen(passwd_copy, "a"); /* the file bind-mounted on /etc/passwd in this namespace */
        assert_non_null(pw);
        fprintf(pw, "apid-inject-thief:x:%u:%u::/nonexistent:/usr/sbin/nologin\n", own, own);
        fclose(pw);
        must(apid_pool_open(w->f.ctx, "su", &pool));
        must(apid_pool_set(pool, "processModel.userName", "apid-inject-thief"));
        assert_int_equal(apid_pool_get_identity(pool, &id), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "the own id of apppool-own"));
        must(apid_pool_set(pool, "processModel.userName", SU_USER));
        must(apid_pool_get_identity(pool, &id));
        apid_identity_free(id);
        apid_pool_free(pool);
        assert_int_equal(truncate(passwd_copy, st.st_size), 0);
}

/* A private mount namespace with /etc/passwd + the SpecificUser account. */
static int private_passwd(void)
{
        uid_t uid;
        FILE *in, *out;
        char line[4096];

        for (uid = 64000; uid < 65000; uid++)
                if (!getpwuid(uid) && !getgrgid(uid))
                        break;
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -1;
        snprintf(passwd_copy, sizeof(passwd_copy), "/tmp/apid-inject-passwd-XXXXXX");
        if (mkstemp(passwd_copy) < 0 || !(in = fopen("/etc/passwd", "re")) || !(out = fopen(passwd_copy, "we")))
                return -1;
        while (fgets(line, sizeof(line), in))
                fputs(line, out);
        fprintf(out, SU_USER ":x:%u:%u::/nonexistent:/usr/sbin/nologin\n", (unsigned)uid, (unsigned)uid);
        fclose(in);
        if (fclose(out) != 0 || chmod(passwd_copy, 0644) < 0 ||
            mount(passwd_copy, "/etc/passwd", NULL, MS_BIND, NULL) < 0)
                return -1;
        return 0;
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(the_token_carries_the_pool_group, setup, teardown),
                cmocka_unit_test_setup_teardown(each_pool_reads_its_own_file_only, setup, teardown),
                cmocka_unit_test_setup_teardown(type_changes_keep_the_grant_and_give_nothing_to_others, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_builtin_account_still_means_the_account, setup, teardown),
                cmocka_unit_test_setup_teardown(a_save_of_the_previous_release_still_grants_the_pool, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(deny_holds_for_every_type, setup, teardown),
                cmocka_unit_test_setup_teardown(a_deny_the_account_overrides_is_reported, setup, teardown),
                cmocka_unit_test_setup_teardown(an_account_with_another_pools_id_is_refused, setup, teardown),
        };
        int r;

        if (argc != 2)
                return 2;
        reader = realpath(argv[1], NULL);
        if (!reader)
                return 2;
        if (geteuid() != 0) {
                printf("SKIP: needs root (launches under other identities, a private mount namespace)\n");
                return 77;
        }
        if (private_passwd() < 0) {
                perror("private /etc/passwd");
                return 1;
        }
        r = cmocka_run_group_tests(tests, NULL, NULL);
        unlink(passwd_copy); /* still mounted in this namespace only; the file goes with it */
        return r;
}
