/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ACL edits on real files, checked with the system's own getfacl. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "testutil-state.h"

struct acl_fixture {
        struct fixture f;
        char tree[300];
        char outside[300];
        uint32_t web, api; /* pool uids */
};

static int acl_setup(void **state)
{
        struct acl_fixture *a = calloc(1, sizeof(*a));
        struct fixture *f;
        char p[512];

        assert_non_null(a);
        f = &a->f;
        snprintf(f->dir, sizeof(f->dir), "/tmp/apid-acl-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        must(apid_ctx_new(&f->ctx));
        must(apid_ctx_set_state_dir(f->ctx, f->dir));
        must(apid_pool_create(f->ctx, "web", NULL));
        must(apid_pool_create(f->ctx, "api", NULL));
        a->web = pool_uid(f->ctx, "web", NULL);
        a->api = pool_uid(f->ctx, "api", NULL);
        /* tree/{index.html, sub/{a.txt, deep/b.txt}}, outside/secret, and a link inside to outside. */
        snprintf(a->tree, sizeof(a->tree), "%s/tree", f->dir);
        snprintf(a->outside, sizeof(a->outside), "%s/outside", f->dir);
        umask(022);
        assert_int_equal(mkdir(a->tree, 0755), 0);
        assert_int_equal(mkdir(a->outside, 0755), 0);
        snprintf(p, sizeof(p), "%s/sub", a->tree);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/sub/deep", a->tree);
        assert_int_equal(mkdir(p, 0755), 0);
        static const char *const files[] = { "index.html", "sub/a.txt", "sub/deep/b.txt" };
        for (size_t i = 0; i < 3; i++) {
                int fd;

                snprintf(p, sizeof(p), "%s/%s", a->tree, files[i]);
                fd = open(p, O_CREAT | O_WRONLY, 0644);
                assert_true(fd >= 0);
                close(fd);
        }
        snprintf(p, sizeof(p), "%s/secret", a->outside);
        close(open(p, O_CREAT | O_WRONLY, 0600));
        {
                char link[600];

                snprintf(link, sizeof(link), "%s/link", a->tree);
                assert_int_equal(symlink(p, link), 0);
                snprintf(link, sizeof(link), "%s/sub/dirlink", a->tree);
                assert_int_equal(symlink(a->outside, link), 0);
        }
        *state = a;
        return 0;
}

static int acl_teardown(void **state)
{
        struct acl_fixture *a = *state;

        apid_ctx_unref(a->f.ctx);
        rm_tree(a->f.dir);
        free(a);
        return 0;
}

/* getfacl's own view of a path, entries only, numeric. */
static char *getfacl(const char *path)
{
        char cmd[700];
        static char out[4096];
        size_t n;
        FILE *p;

        snprintf(cmd, sizeof(cmd), "getfacl -cnp '%s' 2>&1", path);
        p = popen(cmd, "r");
        assert_non_null(p);
        n = fread(out, 1, sizeof(out) - 1, p);
        out[n] = '\0';
        pclose(p);
        return out;
}

static void expect_acl(const char *path, const char *expect)
{
        const char *got = getfacl(path);

        if (strcmp(got, expect) != 0)
                fail_msg("getfacl %s:\n%s\nexpected:\n%s", path, got, expect);
}

static char *fmt(const char *f, ...)
{
        static char buf[8][2048];
        static int i;
        va_list ap;

        i = (i + 1) % 8;
        va_start(ap, f);
        vsnprintf(buf[i], sizeof(buf[i]), f, ap);
        va_end(ap);
        return buf[i];
}

static int apply(struct acl_fixture *a, uint32_t flags, const char *path, int op, const char *spec,
                 apid_acl_edit **keep)
{
        apid_acl_edit *e = NULL;
        int r;

        must(apid_acl_edit_new(a->f.ctx, &e));
        r = apid_acl_edit_add(e, op, spec);
        if (r == APID_OK) {
                must(apid_acl_edit_set_flags(e, flags));
                r = apid_acl_edit_apply(e, path);
        }
        if (keep)
                *keep = e;
        else
                apid_acl_edit_free(e);
        return r;
}

static void spec_grammar(void **state)
{
        static const char *const good[] = {
                "IIS AppPool\\DefaultAppPool:(OI)(CI)RX", "IIS AppPool\\DefaultAppPool:F", "*S-1-1-0:(d,wdac)",
                "web:(OI)(CI)(F)", "Everyone:R", "x:(IO)(OI)(CI)M", "x:(RD,X)", "x:RX,W", "x:n", "user:bob:R",
                "x:(NP)(CI)(GR,GE)",
        };
        static const struct {
                const char *spec;
                const char *message;
        } bad[] = {
                { "nocolon", "no ':' before the rights" },
                { ":F", "an empty trustee at character 1" },
                { "x:", "no rights after ':' at character 3" },
                { "x:(OI)(CI", "a '(' without its ')' at character 7" },
                { "x:Q", "an unknown right" },
                { "x:(OI)", "inheritance flags but no rights" },
                { "x:RD", "a specific right outside parentheses" },
                { "x:F(OI)", "'(' after the simple rights at character 4" },
                { "x:(F)(OI)", "an inheritance flag after the rights" },
                { "x:(OI)(OI)F", "a repeated inheritance flag" },
                { "x:(I)F", "(I) marks inherited entries" },
                { "x:(R,,X)", "an empty right at character 6" },
                { "x:R\n", "a control character at character 4" },
                { "x:1", "an unexpected character at character 3" },
        };
        size_t i;

        for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                if (apid_acl_spec_check(good[i]) != APID_OK)
                        fail_msg("'%s': %s", good[i], apid_error_message());
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(apid_acl_spec_check(bad[i].spec), APID_EINVAL);
                if (!strstr(apid_error_message(), bad[i].message))
                        fail_msg("'%s': message '%s' lacks '%s'", bad[i].spec, apid_error_message(), bad[i].message);
        }
        assert_int_equal(apid_acl_spec_check(NULL), APID_EINVAL);
}

static void recursive_grant_matches_getfacl(void **state)
{
        struct acl_fixture *a = *state;
        apid_acl_edit *e = NULL;

        must(apply(a, APID_ACL_RECURSIVE, a->tree, APID_ACL_GRANT, "IIS AppPool\\web:(OI)(CI)RX", &e));
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_CHANGED), 6);
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_SKIPPED), 2); /* the two links */
        apid_acl_edit_free(e);
        /* IIS AppPool\web is the pool's group entry (its gid == its uid). */
        const char *dir = fmt("user::rwx\ngroup::r-x\ngroup:%u:r-x\nmask::r-x\nother::r-x\ndefault:user::rwx\n"
                              "default:group::r-x\ndefault:group:%u:r-x\ndefault:mask::r-x\ndefault:other::r-x\n\n",
                              a->web, a->web);
        const char *file = fmt("user::rw-\ngroup::r--\ngroup:%u:r-x\nmask::r-x\nother::r--\n\n", a->web);
        expect_acl(a->tree, dir);
        expect_acl(fmt("%s/sub", a->tree), dir);
        expect_acl(fmt("%s/sub/deep", a->tree), dir);
        expect_acl(fmt("%s/index.html", a->tree), file);
        expect_acl(fmt("%s/sub/deep/b.txt", a->tree), file);
        /* Nothing outside the tree changed, though links point there. */
        expect_acl(fmt("%s/secret", a->outside), "user::rw-\ngroup::---\nother::---\n\n");
        expect_acl(a->outside, "user::rwx\ngroup::r-x\nother::r-x\n\n");
        /* A new file inherits the grant (the default ACL). */
        close(open(fmt("%s/sub/new.txt", a->tree), O_CREAT | O_WRONLY, 0644));
        expect_acl(fmt("%s/sub/new.txt", a->tree), fmt("user::rw-\ngroup::r-x\t#effective:r--\ngroup:%u:r-x\t"
                                                       "#effective:r--\nmask::r--\nother::r--\n\n", a->web));
}

static void reapply_writes_nothing(void **state)
{
        struct acl_fixture *a = *state;
        apid_acl_edit *e = NULL;
        struct stat before, after;

        must(apply(a, APID_ACL_RECURSIVE, a->tree, APID_ACL_GRANT, "IIS AppPool\\web:(OI)(CI)RX", NULL));
        assert_int_equal(stat(fmt("%s/sub/a.txt", a->tree), &before), 0);
        sleep(1);
        must(apply(a, APID_ACL_RECURSIVE, a->tree, APID_ACL_GRANT, "IIS AppPool\\web:(OI)(CI)RX", &e));
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_CHANGED), 0);
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_UNCHANGED), 6);
        apid_acl_edit_free(e);
        assert_int_equal(stat(fmt("%s/sub/a.txt", a->tree), &after), 0);
        assert_int_equal(before.st_ctime, after.st_ctime); /* no xattr was written */
}

static void rights_map_never_grant_more(void **state)
{
        struct acl_fixture *a = *state;
        apid_acl_edit *e = NULL;
        const char *f = fmt("%s/index.html", a->tree);

        /* M on a directory: w would also delete and rename any entry, which M
         * does not allow: r-x, and the approximation is reported. */
        must(apply(a, 0, a->tree, APID_ACL_GRANT, "IIS AppPool\\web:M", &e));
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_APPROXIMATED), 1);
        apid_acl_edit_free(e);
        assert_non_null(strstr(getfacl(a->tree), fmt("group:%u:r-x\n", a->web)));
        /* F on a directory: rwx. */
        must(apply(a, 0, a->tree, APID_ACL_GRANT_REPLACE, "IIS AppPool\\web:F", NULL));
        assert_non_null(strstr(getfacl(a->tree), fmt("group:%u:rwx\n", a->web)));
        /* W on a file: write only; R: read only; (RD,WD) without AD: r only. */
        must(apply(a, 0, f, APID_ACL_GRANT, "IIS AppPool\\api:W", NULL));
        assert_non_null(strstr(getfacl(f), fmt("group:%u:-w-\n", a->api)));
        must(apply(a, 0, f, APID_ACL_GRANT_REPLACE, "IIS AppPool\\api:(RD,WD)", NULL));
        assert_non_null(strstr(getfacl(f), fmt("group:%u:r--\n", a->api)));
        /* D alone gives nothing (deleting is the parent's right). */
        must(apply(a, 0, f, APID_ACL_GRANT_REPLACE, "IIS AppPool\\api:D", &e));
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_APPROXIMATED), 1);
        apid_acl_edit_free(e);
        assert_null(strstr(getfacl(f), fmt("group:%u:", a->api)));
}

static void strict_refuses_and_writes_nothing(void **state)
{
        struct acl_fixture *a = *state;

        assert_int_equal(apply(a, APID_ACL_STRICT | APID_ACL_RECURSIVE, a->tree, APID_ACL_GRANT,
                               "IIS AppPool\\web:(OI)(CI)F", NULL),
                         APID_EUNSUPPORTED);
        assert_non_null(strstr(apid_error_message(), "(strict)"));
        assert_int_equal(apply(a, APID_ACL_STRICT, a->tree, APID_ACL_GRANT, "IIS AppPool\\web:(OI)RX", NULL),
                         APID_EUNSUPPORTED);
        assert_int_equal(apply(a, APID_ACL_STRICT, a->tree, APID_ACL_DENY, "group:root:R", NULL), APID_EUNSUPPORTED);
        expect_acl(a->tree, "user::rwx\ngroup::r-x\nother::r-x\n\n");
        /* What POSIX expresses exactly passes strict. */
        must(apply(a, APID_ACL_STRICT, a->tree, APID_ACL_GRANT, "IIS AppPool\\web:(OI)(CI)RX", NULL));
}

static void replace_remove_deny(void **state)
{
        struct acl_fixture *a = *state;
        const char *f = fmt("%s/index.html", a->tree);

        must(apply(a, 0, f, APID_ACL_GRANT, "IIS AppPool\\web:RX", NULL));
        must(apply(a, 0, f, APID_ACL_GRANT, "IIS AppPool\\web:W", NULL)); /* add: rwx */
        assert_non_null(strstr(getfacl(f), fmt("group:%u:rwx\n", a->web)));
        must(apply(a, 0, f, APID_ACL_GRANT_REPLACE, "IIS AppPool\\web:R", NULL)); /* replace: r-- */
        assert_non_null(strstr(getfacl(f), fmt("group:%u:r--\n", a->web)));
        /* Deny for a pool without entries: its uid's and its group's entries, with what it had, minus the denial. */
        must(apply(a, 0, f, APID_ACL_DENY, "IIS AppPool\\api:R", NULL));
        assert_non_null(strstr(getfacl(f), fmt("user:%u:---\n", a->api)));
        assert_non_null(strstr(getfacl(f), fmt("group:%u:---\n", a->api)));
        /* Remove drops every entry of the trustee. */
        must(apply(a, 0, f, APID_ACL_REMOVE, "IIS AppPool\\web", NULL));
        assert_null(strstr(getfacl(f), fmt("group:%u:", a->web)));
        assert_non_null(strstr(getfacl(f), fmt("user:%u:---\n", a->api)));
}

static void mask_never_widens_other_entries(void **state)
{
        struct acl_fixture *a = *state;
        const char *f = fmt("%s/index.html", a->tree);
        char cmd[700];

        /* user 1000 has rwx stored but the mask limits it to r--. */
        snprintf(cmd, sizeof(cmd), "setfacl -m u:1000:rwx,m::r '%s'", f);
        assert_int_equal(system(cmd), 0);
        must(apply(a, 0, f, APID_ACL_GRANT, "IIS AppPool\\web:(RD,WD,AD)", NULL));
        /* web gets rw-, the mask becomes rw-, and user 1000 still gets only r--. */
        expect_acl(f, fmt("user::rw-\nuser:1000:r--\ngroup::r--\ngroup:%u:rw-\nmask::rw-\nother::r--\n\n", a->web));
}

static void mask_never_wakes_hidden_rights_of_the_trustee(void **state)
{
        struct acl_fixture *a = *state;
        const char *f = fmt("%s/index.html", a->tree);
        char cmd[700];

        /* daemon (uid 1) has rwx stored, r-- effective. A grant of read, or a
         * deny of execute, naming that very user must leave it with r--. */
        snprintf(cmd, sizeof(cmd), "setfacl -m u:daemon:rwx,m::r '%s'", f);
        assert_int_equal(system(cmd), 0);
        must(apply(a, 0, f, APID_ACL_GRANT, "user:daemon:(RD)", NULL));
        assert_non_null(strstr(getfacl(f), "user:1:r--\n"));
        must(apply(a, 0, f, APID_ACL_DENY, "user:daemon:(X)", NULL));
        assert_non_null(strstr(getfacl(f), "user:1:r--\n"));
        assert_non_null(strstr(getfacl(f), "mask::r--\n"));
}

static void restore_takes_dots_inside_names(void **state)
{
        struct acl_fixture *a = *state;
        char saved[400];

        close(open(fmt("%s/a..b", a->tree), O_CREAT | O_WRONLY, 0644));
        must(apply(a, 0, fmt("%s/a..b", a->tree), APID_ACL_GRANT, "IIS AppPool\\web:R", NULL));
        snprintf(saved, sizeof(saved), "%s/dots.acl", a->f.dir);
        must(apid_acl_save(a->f.ctx, fmt("%s/a..b", a->tree), saved, 0));
        must(apply(a, 0, fmt("%s/a..b", a->tree), APID_ACL_REMOVE, "IIS AppPool\\web", NULL));
        must(apid_acl_restore(a->f.ctx, saved, "/", 0));
        assert_non_null(strstr(getfacl(fmt("%s/a..b", a->tree)), fmt("group:%u:r--", a->web)));
}

static void links_and_swaps_are_never_followed(void **state)
{
        struct acl_fixture *a = *state;
        int r;

        /* A link given as the path itself is refused, not followed. */
        r = apply(a, 0, fmt("%s/link", a->tree), APID_ACL_GRANT, "IIS AppPool\\web:F", NULL);
        assert_int_equal(r, APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "a symbolic link, not followed"));
        expect_acl(fmt("%s/secret", a->outside), "user::rw-\ngroup::---\nother::---\n\n");
}

/* The race: right after the walk edits "sub", swap it for a link to outside. */
struct swap {
        struct acl_fixture *a;
        int done;
        char skipped[600];
};

static void swap_on_report(int event, const char *path, const char *detail, void *userdata)
{
        struct swap *s = userdata;

        if (event == APID_ACL_SKIPPED && strcmp(path, "sub") == 0)
                snprintf(s->skipped, sizeof(s->skipped), "%s: %s", path, detail);
        if (event == APID_ACL_CHANGED && strcmp(path, "sub") == 0 && !s->done) {
                assert_int_equal(rename(fmt("%s/sub", s->a->tree), fmt("%s/sub.moved", s->a->tree)), 0);
                assert_int_equal(symlink(s->a->outside, fmt("%s/sub", s->a->tree)), 0);
                s->done = 1;
        }
}

static void directory_swapped_for_a_link_mid_walk(void **state)
{
        struct acl_fixture *a = *state;
        struct swap s = { a, 0, "" };
        apid_acl_edit *e = NULL;

        must(apid_acl_edit_new(a->f.ctx, &e));
        must(apid_acl_edit_add(e, APID_ACL_GRANT, "IIS AppPool\\web:(OI)(CI)F"));
        must(apid_acl_edit_set_flags(e, APID_ACL_RECURSIVE | APID_ACL_CONTINUE));
        must(apid_acl_edit_set_report_fn(e, swap_on_report, &s));
        /* A change under the walk is no error: reported as skipped, and the
         * walk goes on (a pool writing inside the tree cannot stop it). */
        assert_int_equal(apid_acl_edit_apply(e, a->tree), APID_OK);
        assert_true(s.done);
        assert_string_equal(s.skipped, "sub: changed during the walk: cannot descend: no longer a directory (not "
                                       "followed); left alone");
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_SKIPPED), 2); /* and the fixture's link */
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_FAILED), 0);
        apid_acl_edit_free(e);
        /* Outside is untouched; the moved directory's contents were never reached. */
        expect_acl(a->outside, "user::rwx\ngroup::r-x\nother::r-x\n\n");
        expect_acl(fmt("%s/secret", a->outside), "user::rw-\ngroup::---\nother::---\n\n");
        expect_acl(fmt("%s/sub.moved/a.txt", a->tree), "user::rw-\ngroup::r--\nother::r--\n\n");
}

/* Records the skipped paths and their details. */
struct skips {
        char paths[512];
        char detail[512];
};

static void record_skips(int event, const char *path, const char *detail, void *userdata)
{
        struct skips *s = userdata;

        if (event == APID_ACL_SKIPPED) {
                strncat(s->paths, path, sizeof(s->paths) - strlen(s->paths) - 2);
                strcat(s->paths, " ");
                if (strstr(detail, "hard link"))
                        snprintf(s->detail, sizeof(s->detail), "%s", detail);
        }
}

/* As the pool: link target to linkpath. 0 if the kernel let it. */
static int pool_links(uint32_t uid, const char *target, const char *linkpath)
{
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(2);
                _exit(link(target, linkpath) == 0 ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 2);
        return WEXITSTATUS(status);
}

/* Issue 10, item 10: with fs.protected_hardlinks=0 a pool can link a file it
 * does not own into a directory it owns; an administrator's recursive grant
 * over that directory must not edit the linked file. */
static void foreign_hard_link_is_not_followed(void **state)
{
        struct acl_fixture *a = *state;
        char pooldir[400], secret[400], planted[500], own[500], shared[400], again[500];
        struct skips s;
        apid_acl_edit *e = NULL;
        int fd;

        /* Own buffers: fmt() reuses eight. */
        snprintf(pooldir, sizeof(pooldir), "%s/pooldir", a->f.dir);
        snprintf(secret, sizeof(secret), "%s/rootonly", a->outside);
        snprintf(planted, sizeof(planted), "%s/planted", pooldir);
        snprintf(own, sizeof(own), "%s/own.txt", pooldir);
        snprintf(shared, sizeof(shared), "%s/shared", a->tree);
        snprintf(again, sizeof(again), "%s/planted-again", shared);
        assert_int_equal(chmod(a->f.dir, 0711), 0);
        assert_int_equal(mkdir(pooldir, 0755), 0);
        assert_int_equal(chown(pooldir, a->web, a->web), 0);
        fd = open(secret, O_CREAT | O_WRONLY, 0600);
        assert_true(fd >= 0);
        close(fd);
        fd = open(own, O_CREAT | O_WRONLY, 0644);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(chown(own, a->web, a->web), 0);
        /* The pool's own file with two links stays an ordinary target. */
        assert_int_equal(pool_links(a->web, own, fmt("%s/own-again.txt", pooldir)), 0);
        /* fs.protected_hardlinks is a global sysctl (no namespace has its
         * own): where it is 1 the pool's own attempt is refused, and root
         * plants the link, which is what the pool could do with it at 0. */
        if (pool_links(a->web, secret, planted) != 0)
                assert_int_equal(link(secret, planted), 0);

        memset(&s, 0, sizeof(s));
        must(apid_acl_edit_new(a->f.ctx, &e));
        must(apid_acl_edit_add(e, APID_ACL_GRANT, "IIS AppPool\\api:(OI)(CI)RX"));
        must(apid_acl_edit_set_flags(e, APID_ACL_RECURSIVE));
        must(apid_acl_edit_set_report_fn(e, record_skips, &s));
        must(apid_acl_edit_apply(e, pooldir));
        expect_acl(secret, "user::rw-\ngroup::---\nother::---\n\n");
        assert_string_equal(s.paths, "planted ");
        assert_non_null(strstr(s.detail, "hard link (2 links) owned by uid 0"));
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_SKIPPED), 1);
        /* ".", and own.txt once: own-again.txt is the same file, then unchanged. */
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_CHANGED) + apid_acl_edit_count(e, APID_ACL_UNCHANGED), 3);
        apid_acl_edit_free(e);
        expect_acl(secret, "user::rw-\ngroup::---\nother::---\n\n");
        assert_non_null(strstr(getfacl(own), fmt("group:%u:r-x", a->api)));

        /* A root-owned tree with a directory the pool may write through an
         * ACL: a root-owned link there is skipped too (the mask shows the w). */
        {
                assert_int_equal(mkdir(shared, 0755), 0);
                assert_int_equal(system(fmt("setfacl -m u:%u:rwx '%s'", a->web, shared)), 0);
                assert_int_equal(link(secret, again), 0);
                memset(&s, 0, sizeof(s));
                must(apid_acl_edit_new(a->f.ctx, &e));
                must(apid_acl_edit_add(e, APID_ACL_GRANT, "IIS AppPool\\api:RX"));
                must(apid_acl_edit_set_flags(e, APID_ACL_RECURSIVE));
                must(apid_acl_edit_set_report_fn(e, record_skips, &s));
                must(apid_acl_edit_apply(e, a->tree));
                apid_acl_edit_free(e);
                expect_acl(secret, "user::rw-\ngroup::---\nother::---\n\n");
                assert_non_null(strstr(s.paths, "shared/planted-again "));
                assert_non_null(strstr(s.detail, "in a directory others can write (mode 0775)"));
                assert_non_null(strstr(getfacl(fmt("%s/index.html", a->tree)), fmt("group:%u:r-x", a->api)));
                assert_int_equal(unlink(again), 0);
        }

        /* Asked to follow, it is edited: the behaviour before the rule. */
        if (apply(a, APID_ACL_RECURSIVE | APID_ACL_FOLLOW_HARDLINKS, pooldir, APID_ACL_GRANT, "IIS AppPool\\api:RX",
                  NULL) != APID_OK)
                fail_msg("%s", apid_error_message());
        assert_non_null(strstr(getfacl(secret), fmt("group:%u:r-x", a->api)));
}

static void bad_input_changes_nothing(void **state)
{
        struct acl_fixture *a = *state;
        apid_acl_edit *e = NULL;

        must(apid_acl_edit_new(a->f.ctx, &e));
        assert_int_equal(apid_acl_edit_add(e, APID_ACL_GRANT, "IIS AppPool\\nosuch:F"), APID_ENOTFOUND);
        assert_non_null(strstr(apid_error_message(), "no such pool here"));
        assert_int_equal(apid_acl_edit_add(e, APID_ACL_GRANT, "no-such-user-xyz:F"), APID_ENOTFOUND);
        assert_int_equal(apid_acl_edit_add(e, APID_ACL_GRANT, "*S-1-5-82-1-2-3-4-5:F"), APID_ENOTFOUND);
        assert_int_equal(apid_acl_edit_add(e, APID_ACL_GRANT, "BUILTIN\\IIS_IUSRS:R"), APID_ENOTFOUND);
        assert_non_null(strstr(apid_error_message(), "no shared group is configured"));
        assert_int_equal(apid_acl_edit_add(e, APID_ACL_REMOVE, "web:F"), APID_EINVAL);
        assert_int_equal(apid_acl_edit_add(e, 9, "web:F"), APID_EINVAL);
        assert_int_equal(apid_acl_edit_apply(e, a->tree), APID_EINVAL); /* nothing to apply */
        must(apid_acl_edit_add(e, APID_ACL_GRANT, "IIS AppPool\\web:R"));
        assert_int_equal(apid_acl_edit_apply(e, fmt("%s/missing", a->tree)), APID_ENOTFOUND);
        assert_non_null(strstr(apid_error_message(), "missing: No such file or directory"));
        /* A file system without POSIX ACLs. */
        assert_int_equal(apid_acl_edit_apply(e, "/proc/self/comm"), APID_EUNSUPPORTED);
        assert_non_null(strstr(apid_error_message(), "does not support POSIX ACLs"));
        apid_acl_edit_free(e);
        expect_acl(a->tree, "user::rwx\ngroup::r-x\nother::r-x\n\n");
}

static void dry_run_writes_nothing(void **state)
{
        struct acl_fixture *a = *state;
        apid_acl_edit *e = NULL;

        must(apply(a, APID_ACL_RECURSIVE | APID_ACL_DRY_RUN, a->tree, APID_ACL_GRANT, "IIS AppPool\\web:(OI)(CI)RX", &e));
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_CHANGED), 6);
        apid_acl_edit_free(e);
        expect_acl(a->tree, "user::rwx\ngroup::r-x\nother::r-x\n\n");
        expect_acl(fmt("%s/sub/a.txt", a->tree), "user::rw-\ngroup::r--\nother::r--\n\n");
}

static void journal_rolls_back(void **state)
{
        struct acl_fixture *a = *state;
        char before[4096], journal[400];
        apid_acl_edit *e = NULL;

        snprintf(before, sizeof(before), "%s", getfacl(fmt("%s/sub/a.txt", a->tree)));
        snprintf(journal, sizeof(journal), "%s/journal", a->f.dir);
        must(apid_acl_edit_new(a->f.ctx, &e));
        must(apid_acl_edit_add(e, APID_ACL_GRANT, "IIS AppPool\\web:(OI)(CI)F"));
        must(apid_acl_edit_set_flags(e, APID_ACL_RECURSIVE));
        must(apid_acl_edit_set_journal(e, journal));
        must(apid_acl_edit_apply(e, a->tree));
        apid_acl_edit_free(e);
        assert_string_not_equal(getfacl(fmt("%s/sub/a.txt", a->tree)), before);
        /* Roll back: the journal names paths as given, without the leading '/'. */
        must(apid_acl_restore(a->f.ctx, journal, "/", 0));
        assert_string_equal(getfacl(fmt("%s/sub/a.txt", a->tree)), before);
        expect_acl(a->tree, "user::rwx\ngroup::r-x\nother::r-x\n\n");
}

static void save_restore_interoperate_with_getfacl_setfacl(void **state)
{
        struct acl_fixture *a = *state;
        char saved[400], theirs[400], cmd[1200], before[4096];

        must(apply(a, APID_ACL_RECURSIVE, a->tree, APID_ACL_GRANT, "IIS AppPool\\web:(OI)(CI)RX", NULL));
        snprintf(before, sizeof(before), "%s", getfacl(fmt("%s/sub/deep/b.txt", a->tree)));
        snprintf(saved, sizeof(saved), "%s/ours.acl", a->f.dir);
        must(apid_acl_save(a->f.ctx, a->tree, saved, APID_ACL_RECURSIVE));
        /* setfacl --restore reads what we wrote. */
        must(apply(a, APID_ACL_RECURSIVE, a->tree, APID_ACL_REMOVE, "IIS AppPool\\web", NULL));
        snprintf(cmd, sizeof(cmd), "cd / && setfacl --restore='%s'", saved);
        assert_int_equal(system(cmd), 0);
        assert_string_equal(getfacl(fmt("%s/sub/deep/b.txt", a->tree)), before);
        /* We read what getfacl -R wrote. */
        snprintf(theirs, sizeof(theirs), "%s/theirs.acl", a->f.dir);
        snprintf(cmd, sizeof(cmd), "cd / && getfacl -R -n '%s' > '%s' 2>/dev/null", a->tree + 1, theirs);
        assert_int_equal(system(cmd), 0);
        must(apply(a, APID_ACL_RECURSIVE, a->tree, APID_ACL_REMOVE, "IIS AppPool\\web", NULL));
        must(apid_acl_restore(a->f.ctx, theirs, "/", 0));
        assert_string_equal(getfacl(fmt("%s/sub/deep/b.txt", a->tree)), before);
        /* A malformed file is refused whole, with the line named. */
        snprintf(cmd, sizeof(cmd), "printf '# file: x\\nuser::rw-\\nbogus\\n' > '%s'", theirs);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(apid_acl_restore(a->f.ctx, theirs, a->tree, 0), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "line 3: not an ACL entry"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, acl_setup, acl_teardown)
                cmocka_unit_test(spec_grammar),
                T(recursive_grant_matches_getfacl),
                T(reapply_writes_nothing),
                T(rights_map_never_grant_more),
                T(strict_refuses_and_writes_nothing),
                T(replace_remove_deny),
                T(mask_never_widens_other_entries),
                T(mask_never_wakes_hidden_rights_of_the_trustee),
                T(restore_takes_dots_inside_names),
                T(links_and_swaps_are_never_followed),
                T(directory_swapped_for_a_link_mid_walk),
                T(foreign_hard_link_is_not_followed),
                T(bad_input_changes_nothing),
                T(dry_run_writes_nothing),
                T(journal_rolls_back),
                T(save_restore_interoperate_with_getfacl_setfacl),
        };

        unsetenv(APID_STATE_DIR_ENV);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
