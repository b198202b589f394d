/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Faults the kernel will not make on demand for root, injected into the
 * library's own calls: this binary defines fstatat64() and readdir64(), which
 * the dynamic linker binds the library's calls to (the executable comes first
 * in the lookup order); each passes through to the next definition (libc, or
 * the sanitizer's interceptor) unless a fault is armed. Every fault must come
 * back as a failure naming the path, the step and the errno: never a save that
 * silently leaves entries out (issue 16). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "testutil-state.h"

/* The armed faults: an entry name whose fstatat fails, a directory (the end
 * of its path) whose readdir fails, with this errno. */
static const char *fail_stat_name;
static const char *fail_readdir_dir;
static int fault_errno;

int fstatat64(int dirfd, const char *name, struct stat64 *st, int flags);
int fstatat64(int dirfd, const char *name, struct stat64 *st, int flags)
{
        static int (*next)(int, const char *, struct stat64 *, int);

        if (!next)
                *(void **)&next = dlsym(RTLD_NEXT, "fstatat64"); /* POSIX dlsym idiom */
        if (fail_stat_name && strcmp(name, fail_stat_name) == 0) {
                errno = fault_errno;
                return -1;
        }
        return next(dirfd, name, st, flags);
}

struct dirent64 *readdir64(DIR *d);
struct dirent64 *readdir64(DIR *d)
{
        static struct dirent64 *(*next)(DIR *);

        if (!next)
                *(void **)&next = dlsym(RTLD_NEXT, "readdir64");
        if (fail_readdir_dir) {
                char proc[64], path[PATH_MAX];
                ssize_t n;
                size_t len = strlen(fail_readdir_dir);

                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd(d));
                n = readlink(proc, path, sizeof(path) - 1);
                if (n > 0) {
                        path[n] = '\0';
                        if ((size_t)n >= len && strcmp(path + n - len, fail_readdir_dir) == 0) {
                                errno = fault_errno;
                                return NULL;
                        }
                }
        }
        return next(d);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        char p[600];

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/apid-aclfault-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        must(apid_ctx_new(&f->ctx));
        must(apid_ctx_set_state_dir(f->ctx, f->dir));
        snprintf(p, sizeof(p), "%s/tree", f->dir);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/tree/sub", f->dir);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/tree/sub/victim", f->dir);
        close(open(p, O_CREAT | O_WRONLY, 0644));
        snprintf(p, sizeof(p), "%s/tree/sub/other", f->dir);
        close(open(p, O_CREAT | O_WRONLY, 0644));
        fail_stat_name = fail_readdir_dir = NULL;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        fail_stat_name = fail_readdir_dir = NULL;
        apid_ctx_unref(f->ctx);
        rm_tree(f->dir);
        free(f);
        return 0;
}

static void expect_error(int r, int status, int err, const char *needle)
{
        assert_int_equal(r, status);
        assert_int_equal(apid_error_status(), status);
        assert_int_equal(apid_error_errno(), err);
        if (!strstr(apid_error_message(), needle))
                fail_msg("message '%s' lacks '%s'", apid_error_message(), needle);
}

/* An entry whose fstatat fails was skipped without a word. */
static void save_reports_a_failed_stat(void **state)
{
        struct fixture *f = *state;
        char tree[600], out[600];

        snprintf(tree, sizeof(tree), "%s/tree", f->dir);
        snprintf(out, sizeof(out), "%s/saved.acl", f->dir);
        must(apid_acl_save(f->ctx, tree, out, APID_ACL_RECURSIVE)); /* the injection passes through */
        fail_stat_name = "victim";
        fault_errno = EIO;
        expect_error(apid_acl_save(f->ctx, tree, out, APID_ACL_RECURSIVE), APID_ESYS, EIO,
                     "tree/sub/victim: stat: Input/output error");
        fault_errno = ENOENT; /* vanished between readdir and fstatat */
        expect_error(apid_acl_save(f->ctx, tree, out, APID_ACL_RECURSIVE), APID_ENOTFOUND, ENOENT,
                     "tree/sub/victim: stat: ");
}

/* readdir's errors ended the directory as if it were complete. */
static void save_reports_a_failed_readdir(void **state)
{
        struct fixture *f = *state;
        char tree[600], out[600];

        snprintf(tree, sizeof(tree), "%s/tree", f->dir);
        snprintf(out, sizeof(out), "%s/saved.acl", f->dir);
        fail_readdir_dir = "/tree/sub";
        fault_errno = EIO;
        expect_error(apid_acl_save(f->ctx, tree, out, APID_ACL_RECURSIVE), APID_ESYS, EIO,
                     "tree/sub: reading the directory: Input/output error");
        assert_int_equal(access(out, F_OK), -1); /* no partial save file */
}

/* A report callback that calls the library, and fails, on every failure. */
static void clobber_on_report(int event, const char *path, const char *detail, void *userdata)
{
        if (event == APID_ACL_FAILED && apid_acl_save(NULL, NULL, NULL, 0) == APID_EINVAL)
                (*(int *)userdata)++;
}

/* A recursive apply re-raised its first failure with errno 0. */
static void apply_keeps_errno_of_first_failure(void **state)
{
        struct fixture *f = *state;
        static const uint32_t flags[] = { APID_ACL_RECURSIVE, APID_ACL_RECURSIVE | APID_ACL_CONTINUE };
        char tree[600];

        snprintf(tree, sizeof(tree), "%s/tree", f->dir);
        fail_readdir_dir = "/tree/sub";
        for (size_t i = 0; i < 2; i++) {
                apid_acl_edit *e = NULL;
                int clobbered = 0;

                must(apid_acl_edit_new(f->ctx, &e));
                must(apid_acl_edit_add(e, APID_ACL_GRANT, "Everyone:R"));
                must(apid_acl_edit_set_flags(e, flags[i]));
                must(apid_acl_edit_set_report_fn(e, clobber_on_report, &clobbered));
                fault_errno = EIO;
                expect_error(apid_acl_edit_apply(e, tree), APID_ESYS, EIO,
                             "sub: reading the directory: Input/output error");
                assert_int_equal(clobbered, 1); /* the callback's own failure did not replace it */
                apid_acl_edit_free(e);
                /* ... and the free after it did not either. */
                expect_error(APID_ESYS, APID_ESYS, EIO, "sub: reading the directory: Input/output error");
        }
}

/* A restore with CONTINUE returned the first status with the last path's message. */
static void restore_continue_keeps_first_failure(void **state)
{
        struct fixture *f = *state;
        char file[600], base[600];
        FILE *out;

        snprintf(base, sizeof(base), "%s/tree", f->dir);
        snprintf(file, sizeof(file), "%s/two.acl", f->dir);
        out = fopen(file, "w");
        assert_non_null(out);
        /* The first fails with ENOENT, the second with ELOOP (a link). */
        fprintf(out, "# file: missing\nuser::rw-\ngroup::r--\nother::r--\n\n"
                     "# file: sub/link\nuser::rw-\ngroup::r--\nother::r--\n\n"
                     "# file: sub/other\nuser::rw-\ngroup::r--\nother::---\n\n");
        fclose(out);
        {
                char link[700];

                snprintf(link, sizeof(link), "%s/sub/link", base);
                assert_int_equal(symlink("other", link), 0);
        }
        expect_error(apid_acl_restore(f->ctx, file, base, APID_ACL_CONTINUE), APID_ENOTFOUND, ENOENT,
                     ": missing: No such file or directory");
        /* CONTINUE went on past both. */
        {
                char p[700];
                struct stat st;

                snprintf(p, sizeof(p), "%s/sub/other", base);
                assert_int_equal(stat(p, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0640);
        }
        /* Without CONTINUE it stops at the first. */
        expect_error(apid_acl_restore(f->ctx, file, base, 0), APID_ENOTFOUND, ENOENT,
                     ": missing: No such file or directory");
}

/* The top itself: its readdir fails on the thread that shares its
 * subdirectories out; the failure names the top ("."), with its errno. */
static void apply_reports_a_failed_readdir_of_the_top(void **state)
{
        struct fixture *f = *state;
        char tree[600];
        apid_acl_edit *e = NULL;

        snprintf(tree, sizeof(tree), "%s/tree", f->dir);
        fail_readdir_dir = "/tree";
        fault_errno = EIO;
        must(apid_acl_edit_new(f->ctx, &e));
        must(apid_acl_edit_add(e, APID_ACL_GRANT, "Everyone:R"));
        must(apid_acl_edit_set_flags(e, APID_ACL_RECURSIVE));
        expect_error(apid_acl_edit_apply(e, tree), APID_ESYS, EIO, ".: reading the directory: Input/output error");
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_FAILED), 1);
        apid_acl_edit_free(e);
}

/* The depth limit is a setting: a directory below it is edited, not
 * entered, and the failure names it, with no errno (none was met). */
static void apply_reports_the_depth_limit(void **state)
{
        struct fixture *f = *state;
        static const uint32_t flags[] = { APID_ACL_RECURSIVE, APID_ACL_RECURSIVE | APID_ACL_CONTINUE };
        char tree[600], p[700];
        apid_acl_edit *e = NULL;

        snprintf(tree, sizeof(tree), "%s/tree", f->dir);
        snprintf(p, sizeof(p), "%s/tree/sub/deep", f->dir);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/tree/sub/deep/file", f->dir);
        close(open(p, O_CREAT | O_WRONLY, 0644));
        must(apid_acl_edit_new(f->ctx, &e));
        must(apid_acl_edit_add(e, APID_ACL_GRANT, "Everyone:R"));
        assert_int_equal(apid_acl_edit_set_max_depth(e, 0), APID_EINVAL);
        assert_int_equal(apid_acl_edit_set_max_depth(e, 4097), APID_EINVAL);
        assert_int_equal(apid_acl_edit_set_max_depth(NULL, 1), APID_EINVAL);
        for (size_t i = 0; i < 2; i++) {
                must(apid_acl_edit_set_flags(e, flags[i]));
                must(apid_acl_edit_set_max_depth(e, 1));
                expect_error(apid_acl_edit_apply(e, tree), APID_ERANGE, 0,
                             "sub/deep: depth: nested deeper than the limit of 1 directory levels; not entered");
                assert_int_equal(apid_acl_edit_count(e, APID_ACL_FAILED), 1);
                /* tree, sub, victim, other and deep itself: everything above the limit. */
                assert_int_equal(apid_acl_edit_count(e, APID_ACL_CHANGED) + apid_acl_edit_count(e, APID_ACL_UNCHANGED),
                                 5);
        }
        /* One level more reaches the file below. */
        must(apid_acl_edit_set_max_depth(e, 2));
        must(apid_acl_edit_apply(e, tree));
        assert_int_equal(apid_acl_edit_count(e, APID_ACL_CHANGED) + apid_acl_edit_count(e, APID_ACL_UNCHANGED), 6);
        apid_acl_edit_free(e);
}

/* A file's contents, up to size - 1 bytes ("" if absent). */
static const char *slurp(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? 0 : read(fd, buf, size - 1);

        if (fd >= 0)
                close(fd);
        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

/* The save's depth is a setting too (apid_acl_save_depth), with the range
 * and message of apid_acl_edit_set_max_depth(): a directory below the limit
 * fails the save naming it, and the file is left as it was (a save never
 * leaves part of a tree out); apid_acl_save() keeps the default of 256,
 * which a tree 260 levels deep exceeds and a limit of 300 saves whole. */
static void save_takes_a_depth_limit(void **state)
{
        struct fixture *f = *state;
        char tree[600], out[600], p[700], buf[256];
        int fd, i;

        snprintf(tree, sizeof(tree), "%s/tree", f->dir);
        snprintf(out, sizeof(out), "%s/out.acl", f->dir);
        snprintf(p, sizeof(p), "%s/tree/sub/deep", f->dir);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/tree/sub/deep/file", f->dir);
        close(open(p, O_CREAT | O_WRONLY, 0644));
        fd = open(out, O_CREAT | O_WRONLY | O_TRUNC, 0600);
        assert_int_equal(write(fd, "old\n", 4), 4);
        close(fd);
        assert_int_equal(apid_acl_save_depth(f->ctx, tree, out, APID_ACL_RECURSIVE, 0), APID_EINVAL);
        assert_string_equal(apid_error_message(), "ACL walk depth 0: not between 1 and 4096");
        assert_int_equal(apid_acl_save_depth(f->ctx, tree, out, APID_ACL_RECURSIVE, 4097), APID_EINVAL);
        assert_int_equal(apid_acl_save_depth(NULL, tree, out, APID_ACL_RECURSIVE, 1), APID_EINVAL);
        expect_error(apid_acl_save_depth(f->ctx, tree, out, APID_ACL_RECURSIVE, 1), APID_ERANGE, 0,
                     "sub/deep: depth: nested deeper than the limit of 1 directory levels; not entered");
        assert_string_equal(slurp(out, buf, sizeof(buf)), "old\n");
        must(apid_acl_save_depth(f->ctx, tree, out, APID_ACL_RECURSIVE, 2));
        assert_non_null(strstr(slurp(out, buf, sizeof(buf)), "# file: "));
        must(apid_acl_save_depth(f->ctx, tree, out, 0, 1)); /* not recursive: the depth is not reached */

        /* 260 levels below tree/deep: the default stops at 256, 300 goes through. */
        snprintf(p, sizeof(p), "%s/tree/sub/deep", f->dir);
        fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (i = 0; i < 260; i++) {
                int next;

                assert_int_equal(mkdirat(fd, "d", 0755), 0);
                next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(next >= 0);
                close(fd);
                fd = next;
        }
        close(openat(fd, "bottom", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        close(fd);
        /* (the message, path first, is cut before it says the limit) */
        expect_error(apid_acl_save(f->ctx, tree, out, APID_ACL_RECURSIVE), APID_ERANGE, 0, "/d/d/d/d/");
        must(apid_acl_save_depth(f->ctx, tree, out, APID_ACL_RECURSIVE, 300));
        {
                FILE *saved = fopen(out, "r");
                char line[2048];
                int bottom = 0;

                assert_non_null(saved);
                while (fgets(line, sizeof(line), saved))
                        bottom |= strncmp(line, "# file: ", 8) == 0 && strstr(line, "/d/bottom\n") != NULL;
                fclose(saved);
                assert_true(bottom);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(save_reports_a_failed_stat, setup, teardown),
                cmocka_unit_test_setup_teardown(save_reports_a_failed_readdir, setup, teardown),
                cmocka_unit_test_setup_teardown(apply_keeps_errno_of_first_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(restore_continue_keeps_first_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(apply_reports_the_depth_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(save_takes_a_depth_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(apply_reports_a_failed_readdir_of_the_top, setup, teardown),
        };

        unsetenv(APID_STATE_DIR_ENV);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
