/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The path to the state directory, as root: no directory on the way that a
 * pool could write, no symbolic link a pool made (lib/util/safepath.c). The
 * attack is run for real: a process running as a pool's uid swaps the state
 * directory for a symbolic link while root's context has the registry open;
 * without the check the next change writes the NSS snapshot where the link
 * points (standing in for /etc). Needs root (skipped otherwise). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "testutil-state.h"

struct tree {
        char top[64];    /* /tmp/apid-sd-XXXXXX, root's, 0755 */
        uint32_t pool_uid; /* a real pool's uid (made in top/pools) */
};

static int tree_setup(void **state)
{
        struct tree *t = calloc(1, sizeof(*t));
        char dir[128];
        apid_ctx *ctx = NULL;
        apid_pool *pool = NULL;
        apid_identity *id = NULL;

        assert_non_null(t);
        snprintf(t->top, sizeof(t->top), "/tmp/apid-sd-XXXXXX");
        assert_non_null(mkdtemp(t->top));
        assert_int_equal(chmod(t->top, 0755), 0); /* a pool may pass through, as through /srv */
        snprintf(dir, sizeof(dir), "%s/pools", t->top);
        must(apid_ctx_new(&ctx));
        must(apid_ctx_set_state_dir(ctx, dir));
        must(apid_pool_create(ctx, "evil", &pool));
        must(apid_pool_get_identity(pool, &id));
        t->pool_uid = apid_identity_get_uid(id);
        apid_identity_free(id);
        apid_pool_free(pool);
        apid_ctx_unref(ctx);
        *state = t;
        return 0;
}

static int tree_teardown(void **state)
{
        struct tree *t = *state;

        rm_tree(t->top);
        free(t);
        return 0;
}

/* Run fn(arg) in a child as the pool's uid and gid, no groups; its return
 * value is the child's exit status, which must be 0. */
static void as_pool_fn(const struct tree *t, int (*fn)(const void *arg), const void *arg)
{
        pid_t pid = fork();
        int status;

        assert_true(pid >= 0);
        if (pid == 0) {
                if (setgroups(0, NULL) < 0 || setresgid(t->pool_uid, t->pool_uid, t->pool_uid) < 0 ||
                    setresuid(t->pool_uid, t->pool_uid, t->pool_uid) < 0)
                        _exit(126);
                _exit(fn(arg));
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static int run_sh(const void *script)
{
        execl("/bin/sh", "sh", "-c", (const char *)script, (char *)NULL);
        return 127;
}

/* Run sh -c script as the pool: the attacker. */
static void as_pool(const struct tree *t, const char *script)
{
        as_pool_fn(t, run_sh, script);
}

static int create_own(const void *dir)
{
        apid_ctx *ctx = NULL;
        int r;

        if (apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, dir) != APID_OK)
                return 2;
        r = apid_pool_create(ctx, "mine", NULL);
        if (r != APID_OK)
                fprintf(stderr, "uid %u: %s\n", (unsigned)geteuid(), apid_error_message());
        apid_ctx_unref(ctx);
        return r == APID_OK ? 0 : 1;
}

static apid_ctx *ctx_at(const char *dir)
{
        apid_ctx *ctx = NULL;

        must(apid_ctx_new(&ctx));
        must(apid_ctx_set_state_dir(ctx, dir));
        return ctx;
}

/* Root creates pool name in a registry at dir: the status (the message
 * stays the thread's last error). */
static int create_at(const char *dir, const char *name)
{
        apid_ctx *ctx = ctx_at(dir);
        int r = apid_pool_create(ctx, name, NULL);
        char saved[1024];

        snprintf(saved, sizeof(saved), "%s", apid_error_message());
        apid_ctx_unref(ctx);
        assert_string_equal(apid_error_message(), saved);
        return r;
}

static void path_of(char *buf, size_t size, const struct tree *t, const char *rel)
{
        snprintf(buf, size, "%s/%s", t->top, rel);
}

/* The pool owns /srv/apppool (here top/atk), root's state directory is
 * top/atk/state. While root's context holds the registry, the pool renames
 * the state directory and puts a link to top/victim in its place. */
static void pool_owned_parent_cannot_redirect_root(void **state)
{
        struct tree *t = *state;
        char atk[128], sd[160], victim[128], snap[192], script[1024], expect[1024];
        apid_ctx *ctx;
        int r;

        path_of(atk, sizeof(atk), t, "atk");
        path_of(victim, sizeof(victim), t, "victim");
        snprintf(sd, sizeof(sd), "%s/state", atk);
        snprintf(snap, sizeof(snap), "%s/nss-snapshot", victim);
        assert_int_equal(mkdir(atk, 0755), 0);
        assert_int_equal(chown(atk, t->pool_uid, t->pool_uid), 0);
        assert_int_equal(mkdir(sd, 0755), 0); /* root's, 0755: the old check passed it */
        assert_int_equal(mkdir(victim, 0755), 0);
        ctx = ctx_at(sd);
        r = apid_pool_create(ctx, "a", NULL);
        if (r == APID_OK) { /* not refused: the attack goes on */
                snprintf(script, sizeof(script), "mv %s %s/old && ln -s %s %s", sd, atk, victim, sd);
                as_pool(t, script);
                if (apid_pool_create(ctx, "b", NULL) != APID_OK)
                        print_message("second create: %s\n", apid_error_message());
        }
        apid_ctx_unref(ctx);
        if (access(snap, F_OK) == 0)
                fail_msg("root wrote the NSS snapshot through the pool's link into %s", victim);
        assert_int_equal(r, APID_EPERM);
        snprintf(expect, sizeof(expect),
                 "state directory %s: directory %s is owned by uid %u (mode 0755): every directory and symbolic "
                 "link on the way must belong to root, or its owner could swap where the path leads",
                 sd, atk, t->pool_uid);
        assert_string_equal(apid_error_message(), expect);
}

/* A directory on the way that others may write, without the sticky bit. */
static void world_writable_parent_is_refused(void **state)
{
        struct tree *t = *state;
        char ww[128], sd[160], expect[1024];

        path_of(ww, sizeof(ww), t, "ww");
        snprintf(sd, sizeof(sd), "%s/state", ww);
        assert_int_equal(mkdir(ww, 0755), 0);
        assert_int_equal(chmod(ww, 0777), 0);
        assert_int_equal(mkdir(sd, 0755), 0);
        assert_int_equal(create_at(sd, "a"), APID_EPERM);
        snprintf(expect, sizeof(expect),
                 "state directory %s: directory %s is writable by group or others (mode 0777, owner uid 0) without "
                 "the sticky bit: they could swap what it holds; chmod go-w %s (or +t)", sd, ww, ww);
        assert_string_equal(apid_error_message(), expect);
        /* Group-writable is the same: the group may not be root's alone. */
        assert_int_equal(chmod(ww, 0775), 0);
        assert_int_equal(create_at(sd, "a"), APID_EPERM);
        assert_non_null(strstr(apid_error_message(), "(mode 0775, owner uid 0) without the sticky bit"));
        /* Sticky, as /tmp is: others may not rename root's entries. */
        assert_int_equal(chmod(ww, 01777), 0);
        must(create_at(sd, "a"));
}

/* In a sticky directory anyone may make a link; root must not follow one
 * a pool made, even to a good state directory. */
static void link_made_by_a_pool_is_refused(void **state)
{
        struct tree *t = *state;
        char sticky[128], link[160], real[128], script[1024], expect[1024];

        path_of(sticky, sizeof(sticky), t, "sticky");
        path_of(real, sizeof(real), t, "real");
        snprintf(link, sizeof(link), "%s/state", sticky);
        assert_int_equal(mkdir(sticky, 0755), 0);
        assert_int_equal(chmod(sticky, 01777), 0);
        assert_int_equal(mkdir(real, 0755), 0);
        snprintf(script, sizeof(script), "ln -s %s %s", real, link);
        as_pool(t, script);
        assert_int_equal(create_at(link, "a"), APID_EPERM);
        snprintf(expect, sizeof(expect),
                 "state directory %s: symbolic link %s is owned by uid %u (mode 0777): every directory and symbolic "
                 "link on the way must belong to root, or its owner could swap where the path leads",
                 link, link, t->pool_uid);
        assert_string_equal(apid_error_message(), expect);
}

/* Root's own links in root's directories are followed (to the end and in
 * the middle of the path; "." and ".." as the kernel takes them), and the
 * registry is made where they lead: SQLite, which opens it with
 * SQLITE_OPEN_NOFOLLOW, is given the path without links. */
static void root_links_are_followed(void **state)
{
        struct tree *t = *state;
        char real[128], link[128], mid[128], up[160], via[256], db[192];

        path_of(real, sizeof(real), t, "real2");
        path_of(link, sizeof(link), t, "link2");
        path_of(mid, sizeof(mid), t, "mid");
        snprintf(db, sizeof(db), "%s/registry.db", real);
        assert_int_equal(mkdir(real, 0755), 0);
        assert_int_equal(symlink(real, link), 0);
        must(create_at(link, "a"));
        assert_int_equal(access(db, F_OK), 0);
        assert_int_equal(mkdir(mid, 0755), 0);
        snprintf(up, sizeof(up), "%s/up", mid);
        assert_int_equal(symlink("..", up), 0); /* top/mid/up -> top */
        snprintf(via, sizeof(via), "%s/mid/./up/mid/../link2/", t->top);
        must(create_at(via, "b"));
        assert_int_equal(create_at(real, "b"), APID_EEXISTS); /* it went where the links lead */
}

/* The profile root (profileRoot) gets the same walk: root makes no
 * profile, and no directory, through a directory a pool owns. */
static void profile_root_under_a_pool_is_refused(void **state)
{
        struct tree *t = *state;
        char sd[128], atk[128], root[160], expect[1024];
        apid_ctx *ctx;
        apid_pool *pool = NULL;

        path_of(sd, sizeof(sd), t, "state");
        path_of(atk, sizeof(atk), t, "atk");
        snprintf(root, sizeof(root), "%s/profiles", atk);
        assert_int_equal(mkdir(atk, 0755), 0);
        assert_int_equal(chown(atk, t->pool_uid, t->pool_uid), 0);
        ctx = ctx_at(sd);
        must(apid_registry_set(ctx, "profileRoot", root));
        must(apid_pool_create(ctx, "p", &pool));
        assert_int_equal(apid_pool_set(pool, "processModel.loadUserProfile", "true"), APID_EPERM);
        snprintf(expect, sizeof(expect),
                 "profile root %s: directory %s is owned by uid %u (mode 0755): every directory and symbolic link "
                 "on the way must belong to root, or its owner could swap where the path leads",
                 root, atk, t->pool_uid);
        assert_string_equal(apid_error_message(), expect);
        assert_int_equal(access(root, F_OK), -1); /* not even made */
        apid_pool_free(pool);
        apid_ctx_unref(ctx);
}

/* A non-root caller with a state directory of its own keeps working: the
 * rule is about what another user can change. The pool's uid stands in for
 * an ordinary user here. */
static void own_state_dir_of_a_user_works(void **state)
{
        struct tree *t = *state;
        char home[128], sd[160], db[192];

        path_of(home, sizeof(home), t, "home");
        snprintf(sd, sizeof(sd), "%s/state", home);
        snprintf(db, sizeof(db), "%s/registry.db", sd);
        assert_int_equal(mkdir(home, 0755), 0);
        assert_int_equal(chown(home, t->pool_uid, t->pool_uid), 0);
        as_pool_fn(t, create_own, sd);
        assert_int_equal(access(db, F_OK), 0);
}

/* An inotify watch on file for being opened or read. */
static int watch_open(const char *file)
{
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

        assert_true(fd >= 0);
        assert_true(inotify_add_watch(fd, file, IN_OPEN | IN_ACCESS) >= 0);
        return fd;
}

/* 1 if the watched file was opened or read since watch_open(). */
static int was_opened(int fd)
{
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n = read(fd, buf, sizeof(buf));

        assert_true(n > 0 || errno == EAGAIN);
        return n > 0;
}

/* The lookup cache maps the NSS snapshot before it asks the registry
 * anything: it must not read one through a path a pool can redirect. The
 * pool makes top/sticky/state, a link to a real state directory (its
 * registry and snapshot root's); root looks a pool up through the link.
 * Before the walk, the cache opened and mapped the snapshot behind the
 * link (inotify saw it) and only the registry refused; now nothing behind
 * the link is opened, and the registry's refusal is the answer. */
static void lookup_through_a_pool_link_reads_nothing(void **state)
{
        struct tree *t = *state;
        char sticky[128], link[160], real[128], snap[192], script[1024], expect[1024];
        apid_ctx *ctx;
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        int wd;

        path_of(sticky, sizeof(sticky), t, "sticky");
        path_of(real, sizeof(real), t, "real3");
        snprintf(link, sizeof(link), "%s/state", sticky);
        snprintf(snap, sizeof(snap), "%s/nss-snapshot", real);
        assert_int_equal(mkdir(sticky, 0755), 0);
        assert_int_equal(chmod(sticky, 01777), 0);
        must(create_at(real, "a"));
        assert_int_equal(access(snap, F_OK), 0);
        snprintf(script, sizeof(script), "ln -s %s %s", real, link);
        as_pool(t, script);
        wd = watch_open(snap);
        ctx = ctx_at(link);
        assert_int_equal(apid_pool_open(ctx, "a", &pool), APID_EPERM);
        assert_null(pool);
        snprintf(expect, sizeof(expect),
                 "state directory %s: symbolic link %s is owned by uid %u (mode 0777): every directory and symbolic "
                 "link on the way must belong to root, or its owner could swap where the path leads",
                 link, link, t->pool_uid);
        assert_string_equal(apid_error_message(), expect);
        assert_int_equal(apid_identity_from_user(ctx, "IIS APPPOOL\\a", &id), APID_EPERM);
        assert_null(id);
        apid_ctx_unref(ctx);
        if (was_opened(wd))
                fail_msg("the lookup cache opened %s through the pool's link %s", snap, link);
        close(wd);
        /* the same state directory by its own path: answered from the cache */
        ctx = ctx_at(real);
        must(apid_pool_open(ctx, "a", &pool));
        apid_pool_free(pool);
        apid_ctx_unref(ctx);
}

/* What stands in place of the snapshot in root's own state directory: a
 * FIFO (an open for reading would wait for a writer for ever), a symbolic
 * link to a valid snapshot elsewhere, a directory. Each is refused at once,
 * never read through, and every lookup is answered by the registry. */
static void odd_files_in_place_of_the_snapshot(void **state)
{
        struct tree *t = *state;
        char sd[128], snap[192], other[128], other_snap[192], moved[200];
        int kind;

        path_of(sd, sizeof(sd), t, "state4");
        path_of(other, sizeof(other), t, "other4");
        snprintf(snap, sizeof(snap), "%s/nss-snapshot", sd);
        snprintf(other_snap, sizeof(other_snap), "%s/nss-snapshot", other);
        snprintf(moved, sizeof(moved), "%s/moved", sd);
        must(create_at(sd, "a"));
        must(create_at(other, "a"));
        assert_int_equal(rename(snap, moved), 0);
        for (kind = 0; kind < 3; kind++) {
                apid_ctx *ctx;
                apid_pool *pool = NULL;
                apid_identity *id = NULL;
                int wd = -1;

                if (kind == 0) {
                        assert_int_equal(mkfifo(snap, 0644), 0);
                } else if (kind == 1) {
                        assert_int_equal(symlink(other_snap, snap), 0);
                        wd = watch_open(other_snap);
                } else {
                        assert_int_equal(mkdir(snap, 0755), 0);
                }
                ctx = ctx_at(sd);
                alarm(60); /* a hang fails the test rather than the suite's timeout */
                must(apid_pool_open(ctx, "a", &pool));
                must(apid_pool_get_identity(pool, &id));
                assert_string_equal(apid_identity_get_pool_name(id), "a");
                apid_identity_free(id);
                id = NULL;
                must(apid_identity_from_user(ctx, "IIS APPPOOL\\a", &id));
                alarm(0);
                apid_identity_free(id);
                apid_pool_free(pool);
                apid_ctx_unref(ctx);
                if (wd >= 0) {
                        if (was_opened(wd))
                                fail_msg("a lookup read %s through the link %s", other_snap, snap);
                        close(wd);
                }
                if (kind == 2)
                        assert_int_equal(rmdir(snap), 0);
                else
                        assert_int_equal(unlink(snap), 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(pool_owned_parent_cannot_redirect_root, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(world_writable_parent_is_refused, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(link_made_by_a_pool_is_refused, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(root_links_are_followed, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(profile_root_under_a_pool_is_refused, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(own_state_dir_of_a_user_works, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(lookup_through_a_pool_link_reads_nothing, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown(odd_files_in_place_of_the_snapshot, tree_setup, tree_teardown),
        };

        if (geteuid() != 0) {
                printf("SKIP: needs root (pool uids, chown)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
