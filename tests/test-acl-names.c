/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-walk name cache (lib/idmap/namecache.c) and getfacl's entry lines
 * written through it (lib/acl/names.c), against libacl's own
 * acl_to_any_text() (what getfacl prints), over a table of ACLs: named and
 * numeric entries, ids NSS does not know, masks that take rights away, and
 * names libacl quotes (":", ",", white space, "\"), the last served by a
 * private /etc/passwd and /etc/group in a child's mount namespace. Built
 * from the library's objects (internal functions). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <acl/libacl.h>
#include <sys/acl.h>

#include "../lib/idmap/idmap.h"
#include "../lib/idmap/namecache.h"
#include "../lib/acl/names.h"

static char state[] = "/tmp/apid-test-acl-names-XXXXXX";

/* Every NSS question by id, counted: this binary's definitions come first
 * for the library's objects and for libacl (its getpwuid/getgrgid). */
static unsigned long nss_by_id;

#define NEXT(name)                                                                           \
        static __typeof__(name) *next;                                                       \
        if (!next)                                                                           \
                *(void **)&next = dlsym(RTLD_NEXT, #name) /* POSIX dlsym idiom */

int getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t size, struct passwd **out)
{
        NEXT(getpwuid_r);
        __atomic_add_fetch(&nss_by_id, 1, __ATOMIC_RELAXED);
        return next(uid, pw, buf, size, out);
}

int getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t size, struct group **out)
{
        NEXT(getgrgid_r);
        __atomic_add_fetch(&nss_by_id, 1, __ATOMIC_RELAXED);
        return next(gid, gr, buf, size, out);
}

struct passwd *getpwuid(uid_t uid)
{
        NEXT(getpwuid);
        __atomic_add_fetch(&nss_by_id, 1, __ATOMIC_RELAXED);
        return next(uid);
}

struct group *getgrgid(gid_t gid)
{
        NEXT(getgrgid);
        __atomic_add_fetch(&nss_by_id, 1, __ATOMIC_RELAXED);
        return next(gid);
}

/* Ours and libacl's text of one ACL (given in setfacl's short form). */
static int same_as_libacl(const char *text, const char *prefix, struct apid__namecache *c, char **ours_out)
{
        acl_t acl = acl_from_text(text);
        char *theirs, *ours = NULL;
        size_t len = 0;
        FILE *m;
        int same;

        if (!acl)
                return -1;
        theirs = acl_to_any_text(acl, prefix, '\n', TEXT_SOME_EFFECTIVE);
        m = open_memstream(&ours, &len);
        if (!theirs || !m || apid__acl_print_text(m, acl, prefix, c) < 0 || fclose(m) != 0)
                return -1;
        /* getfacl puts '\n' after libacl's text (the last line has none). */
        same = len > 0 && ours[len - 1] == '\n' && strlen(theirs) == len - 1 && memcmp(ours, theirs, len - 1) == 0;
        if (!same)
                fprintf(stderr, "ours:\n%s---\nlibacl's:\n%s\n---\n", ours, theirs);
        if (ours_out)
                *ours_out = ours;
        else
                free(ours);
        acl_free(theirs);
        acl_free(acl);
        return same ? 0 : 1;
}

static const char *const table[] = {
        "u::rw-,g::r--,o::r--",
        "u::rwx,g::r-x,o::---",
        "u::rw-,u:0:rwx,u:1:r--,g::r--,g:0:rw-,g:4:rwx,m::rwx,o::r--",
        "u::rw-,u:1:rwx,g::rwx,g:4:rw-,m::r--,o::---",          /* effective rights shown */
        "u::rw-,u:4000000001:rwx,g::r--,g:4000000002:-w-,m::r-x,o::r--", /* unknown to NSS: numbers */
        "u::rwx,u:2:--x,u:65534:rw-,g::---,g:65534:r-x,m::---,o::rwx",
        "u::---,g::---,m::---,o::---",
};

static void text_as_libacl(void **unused)
{
        struct apid__namecache *c = apid__namecache_new();
        size_t i;

        assert_non_null(c);
        for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                assert_int_equal(same_as_libacl(table[i], NULL, c, NULL), 0);
                assert_int_equal(same_as_libacl(table[i], "default:", c, NULL), 0);
                assert_int_equal(same_as_libacl(table[i], "default:", NULL, NULL), 0); /* no cache */
        }
        apid__namecache_free(c);
}

/* Each distinct id is asked once, "not found" included; a bounded table. */
static void cache_asks_once(void **unused)
{
        struct apid__namecache *c = apid__namecache_new();
        char buf[256];
        int i;

        assert_non_null(c);
        for (i = 0; i < 1000; i++) {
                assert_int_equal(apid__namecache_user(c, 0, buf, sizeof(buf)), 1);
                assert_string_equal(buf, "root");
                assert_int_equal(apid__namecache_group(c, 4, buf, sizeof(buf)), 1);
                assert_string_equal(buf, "adm");
                assert_int_equal(apid__namecache_user(c, 4000000001u, buf, sizeof(buf)), 0);
                assert_string_equal(buf, "4000000001");
        }
        assert_int_equal(apid__namecache_asked(c), 3);
        /* A name that does not fit the caller's buffer: the number. */
        assert_int_equal(apid__namecache_user(c, 1, buf, 4), 0);
        assert_string_equal(buf, "1");
        assert_int_equal(apid__namecache_user(c, 1, buf, sizeof(buf)), 1);
        assert_string_equal(buf, "daemon");
        /* Many distinct ids: answers stay right when slots are reused. */
        for (i = 0; i < 2000; i++) {
                assert_int_equal(apid__namecache_group(c, 4000000000u + (uint32_t)i, buf, sizeof(buf)), 0);
                assert_int_equal(strtoul(buf, NULL, 10), 4000000000u + (uint32_t)i);
        }
        assert_int_equal(apid__namecache_user(c, 0, buf, sizeof(buf)), 1);
        assert_string_equal(buf, "root");
        apid__namecache_free(c);
        assert_int_equal(apid__namecache_user(NULL, 0, buf, sizeof(buf)), 1); /* no cache */
        assert_string_equal(buf, "root");
}

/* Four threads on one cache (TSan/ASan find a race; answers stay right). */
static void *hammer(void *arg)
{
        struct apid__namecache *c = arg;
        char buf[256];
        int i;

        for (i = 0; i < 20000; i++) {
                uint32_t id = (uint32_t)(i % 300) + (i % 2 ? 4000000000u : 0u);
                int r = apid__namecache_group(c, id, buf, sizeof(buf));

                if (id == 0 && (r != 1 || strcmp(buf, "root") != 0))
                        return (void *)1;
                if (id >= 4000000000u && (r != 0 || strtoul(buf, NULL, 10) != id))
                        return (void *)1;
        }
        return NULL;
}

static void cache_threads(void **unused)
{
        struct apid__namecache *c = apid__namecache_new();
        pthread_t t[4];
        void *ret;
        int i;

        assert_non_null(c);
        for (i = 0; i < 4; i++)
                assert_int_equal(pthread_create(&t[i], NULL, hammer, c), 0);
        for (i = 0; i < 4; i++) {
                assert_int_equal(pthread_join(t[i], &ret), 0);
                assert_null(ret);
        }
        apid__namecache_free(c);
}

/* Names libacl quotes, from a private /etc/passwd and /etc/group (a name
 * there cannot hold ':'). */
static int quoted_names(void)
{
        struct apid__namecache *c = apid__namecache_new();
        char *ours = NULL;
        int r;

        r = same_as_libacl("u::rw-,u:3000001:rwx,u:3000002:r--,g::r--,g:3000003:rwx,m::r-x,o::---", NULL, c, &ours);
        if (r == 0 && (!strstr(ours, "user:we\\040ird\\054na\\\\x:rwx\t#effective:r-x\n") ||
            !strstr(ours, "group:comma\\054grp\\\\:rwx\t#effective:r-x\n")))
                r = 20;
        free(ours);
        apid__namecache_free(c);
        return r;
}

static void text_quotes_as_libacl(void **unused)
{
        char passwd[512], group[512];
        pid_t pid;
        int status;

        if (geteuid() != 0)
                skip();
        snprintf(passwd, sizeof(passwd),
                 "root:x:0:0:root:/root:/bin/sh\nwe ird,na\\x:x:3000001:3000001::/:/bin/false\n"
                 "tab\tname:x:3000002:3000002::/:/bin/false\n");
        snprintf(group, sizeof(group), "root:x:0:\ncomma,grp\\:x:3000003:\n");
        pid = fork();
        if (pid == 0) {
                const char *text[2] = { passwd, group }, *target[2] = { "/etc/passwd", "/etc/group" };
                int i;

                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                        _exit(90);
                for (i = 0; i < 2; i++) {
                        char path[128];
                        FILE *f;

                        snprintf(path, sizeof(path), "%s/etc.%d", state, i);
                        f = fopen(path, "w");
                        if (!f || fputs(text[i], f) < 0 || fclose(f) != 0)
                                _exit(91);
                        if (mount(path, target[i], NULL, MS_BIND, NULL) < 0)
                                _exit(92);
                }
                _exit(quoted_names());
        }
        assert_true(pid > 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* A save of 300 files with the same owner, group and named entries asks
 * NSS once per distinct id (uncached, libacl and the header asked 5 per
 * file), and writes what getfacl -R writes. */
static void save_asks_once_per_id(void **unused)
{
        char dir[128], cmd[2048], out[160], ref[160];
        apid_ctx *ctx = NULL;
        unsigned long asked;
        int i;

        snprintf(dir, sizeof(dir), "%s/tree", state);
        assert_int_equal(mkdir(dir, 0755), 0);
        for (i = 0; i < 300; i++) {
                char p[200];

                snprintf(p, sizeof(p), "%s/f%03d", dir, i);
                close(open(p, O_CREAT | O_WRONLY, 0644));
        }
        snprintf(cmd, sizeof(cmd), "setfacl -R -m u:1:r,u:4000000001:rw,g:4:r '%s'", dir);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(apid_ctx_new(&ctx), APID_OK);
        assert_int_equal(apid_ctx_set_state_dir(ctx, state), APID_OK);
        snprintf(out, sizeof(out), "%s/saved.acl", state);
        nss_by_id = 0;
        assert_int_equal(apid_acl_save(ctx, dir, out, APID_ACL_RECURSIVE), APID_OK);
        asked = nss_by_id;
        apid_ctx_unref(ctx);
        /* uid 0, gid 0, u:1, u:4000000001, g:4 (a retry on ERANGE aside) */
        if (asked > 10)
                fail_msg("%lu NSS questions for 301 paths", asked);
        snprintf(ref, sizeof(ref), "%s/getfacl.acl", state);
        snprintf(cmd, sizeof(cmd), "getfacl -R '%s' > '%s' 2>/dev/null && cmp -s '%s' '%s' && rm -rf '%s' '%s' '%s'",
                 dir, ref, ref, out, dir, ref, out);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(text_as_libacl),
                cmocka_unit_test(cache_asks_once),
                cmocka_unit_test(cache_threads),
                cmocka_unit_test(text_quotes_as_libacl),
                cmocka_unit_test(save_asks_once_per_id),
        };
        int r;

        if (!mkdtemp(state))
                return 1;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        {
                char p[128];

                snprintf(p, sizeof(p), "%s/etc.0", state);
                unlink(p);
                snprintf(p, sizeof(p), "%s/etc.1", state);
                unlink(p);
                rmdir(state);
        }
        return r;
}
