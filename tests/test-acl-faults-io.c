/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Faults on xattr reads and writes, open and readdir, injected into the
 * library's calls (and libacl's, which the library uses for some reads and
 * writes) for apply, save and restore: each comes back as a failure naming
 * the path, with its errno, and nothing is half-written: every path's ACL,
 * by getfacl, is either the one before the operation or the one a run
 * without the fault gives (issue 16). This binary defines syscall()
 * (getxattrat/setxattrat/removexattrat, Linux 6.13), getxattr/fgetxattr/
 * lgetxattr, setxattr/fsetxattr, removexattr/fremovexattr, openat64 and
 * readdir64; the dynamic linker binds the library's and libacl's calls to
 * them (the executable comes first in the lookup order), and each passes
 * through to the next definition (libc, or a sanitizer's interceptor) unless
 * its fault is armed for that file. Complements test-acl-faults.c. */
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
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "testutil-state.h"

#ifndef __NR_setxattrat
#define __NR_setxattrat 463
#define __NR_getxattrat 464
#define __NR_removexattrat 466
#endif

enum { F_XREAD = 1, F_XWRITE = 2, F_OPEN = 4, F_READDIR = 8 };

/* The armed fault: operations, on the file whose last component is
 * fault_name, on attribute fault_attr (NULL: any), with this errno. */
static int fault_ops;
static const char *fault_name;
static const char *fault_attr;
static int fault_errno;
static int fault_hits; /* how many calls failed: a fault never reached proves nothing */

static int base_is(const char *path)
{
        const char *slash = strrchr(path, '/');

        return strcmp(slash ? slash + 1 : path, fault_name) == 0;
}

static int fd_is(int fd)
{
        char proc[64], path[PATH_MAX];
        ssize_t n;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, path, sizeof(path) - 1);
        if (n <= 0)
                return 0;
        path[n] = '\0';
        return base_is(path);
}

/* A path, or /proc/self/fd/N (how the library reaches an O_PATH descriptor). */
static int path_is(const char *path)
{
        if (strncmp(path, "/proc/self/fd/", 14) == 0)
                return fd_is(atoi(path + 14));
        return base_is(path);
}

static int armed(int op, const char *attr)
{
        return (fault_ops & op) && fault_name && (!fault_attr || (attr && strcmp(attr, fault_attr) == 0));
}

static int fault(void)
{
        fault_hits++;
        errno = fault_errno;
        return -1;
}

#define NEXT(name)                                                                           \
        static __typeof__(name) *next;                                                       \
        if (!next)                                                                           \
                *(void **)&next = dlsym(RTLD_NEXT, #name) /* POSIX dlsym idiom */

long syscall(long nr, ...);
long syscall(long nr, ...)
{
        long a[6];
        va_list ap;
        int i;

        NEXT(syscall);
        va_start(ap, nr);
        for (i = 0; i < 6; i++)
                a[i] = va_arg(ap, long);
        va_end(ap);
        if ((nr == __NR_getxattrat && armed(F_XREAD, (const char *)a[3]) && base_is((const char *)a[1])) ||
            ((nr == __NR_setxattrat || nr == __NR_removexattrat) && armed(F_XWRITE, (const char *)a[3]) &&
             base_is((const char *)a[1])))
                return fault();
        return next(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

ssize_t getxattr(const char *path, const char *attr, void *buf, size_t size)
{
        NEXT(getxattr);
        return armed(F_XREAD, attr) && path_is(path) ? fault() : next(path, attr, buf, size);
}

ssize_t lgetxattr(const char *path, const char *attr, void *buf, size_t size)
{
        NEXT(lgetxattr);
        return armed(F_XREAD, attr) && path_is(path) ? fault() : next(path, attr, buf, size);
}

ssize_t fgetxattr(int fd, const char *attr, void *buf, size_t size)
{
        NEXT(fgetxattr);
        return armed(F_XREAD, attr) && fd_is(fd) ? fault() : next(fd, attr, buf, size);
}

int setxattr(const char *path, const char *attr, const void *buf, size_t size, int flags)
{
        NEXT(setxattr);
        return armed(F_XWRITE, attr) && path_is(path) ? fault() : next(path, attr, buf, size, flags);
}

int fsetxattr(int fd, const char *attr, const void *buf, size_t size, int flags)
{
        NEXT(fsetxattr);
        return armed(F_XWRITE, attr) && fd_is(fd) ? fault() : next(fd, attr, buf, size, flags);
}

int removexattr(const char *path, const char *attr)
{
        NEXT(removexattr);
        return armed(F_XWRITE, attr) && path_is(path) ? fault() : next(path, attr);
}

int fremovexattr(int fd, const char *attr)
{
        NEXT(fremovexattr);
        return armed(F_XWRITE, attr) && fd_is(fd) ? fault() : next(fd, attr);
}

int openat64(int dirfd, const char *name, int flags, ...);
int openat64(int dirfd, const char *name, int flags, ...)
{
        mode_t mode = 0;
        va_list ap;

        NEXT(openat64);
        va_start(ap, flags);
        if (flags & (O_CREAT | O_TMPFILE))
                mode = (mode_t)va_arg(ap, int);
        va_end(ap);
        if (armed(F_OPEN, NULL) && base_is(name))
                return fault();
        return next(dirfd, name, flags, mode);
}

/* What openat() compiles to under _FORTIFY_SOURCE when the flags are not a
 * constant (apid__open_nofollow). */
int __openat64_2(int dirfd, const char *name, int flags);
int __openat64_2(int dirfd, const char *name, int flags)
{
        NEXT(__openat64_2);
        if (armed(F_OPEN, NULL) && base_is(name))
                return fault();
        return next(dirfd, name, flags);
}

struct dirent64 *readdir64(DIR *d);
struct dirent64 *readdir64(DIR *d)
{
        NEXT(readdir64);
        if (armed(F_READDIR, NULL) && fd_is(dirfd(d))) {
                fault();
                return NULL;
        }
        return next(d);
}

static void disarm(void)
{
        fault_ops = 0;
        fault_name = fault_attr = NULL;
        fault_hits = 0;
}

static void arm(int ops, const char *name, const char *attr)
{
        disarm();
        fault_ops = ops;
        fault_name = name;
        fault_attr = attr;
        fault_errno = EIO;
}

/* A whole file, NUL-terminated ("" when missing). */
static char *slurp(const char *path)
{
        char *out = NULL, buf[4096];
        size_t len = 0, n;
        FILE *in = fopen(path, "r"), *m = open_memstream(&out, &len);

        assert_non_null(m);
        while (in && (n = fread(buf, 1, sizeof(buf), in)) > 0)
                fwrite(buf, 1, n, m);
        if (in)
                fclose(in);
        fclose(m);
        return out;
}

/* ---- the trees ---- */

static const char *const files[] = { "a", "sub/victim", "sub/other", "sub/deeper/x", "zz/y" };
static const char *const dirs[] = { "sub", "sub/deeper", "zz" };

static void make_tree(const char *root)
{
        char p[700], cmd[1600];
        size_t i;

        assert_int_equal(mkdir(root, 0755), 0);
        for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
                assert_int_equal(mkdir(p, 0755), 0);
        }
        for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(p, sizeof(p), "%s/%s", root, files[i]);
                close(open(p, O_CREAT | O_WRONLY, 0640));
        }
        /* Varied ACLs before: a named entry, a default ACL. */
        snprintf(cmd, sizeof(cmd), "setfacl -m u:1:r '%s/sub/victim' '%s/a' && setfacl -m d:g:4:rx '%s/sub'", root,
                 root, root);
        assert_int_equal(system(cmd), 0);
}

/* getfacl -R of root, relative names (so twin trees compare). */
static char *snapshot(const char *root)
{
        char cmd[800], *out = NULL;
        size_t len = 0, n;
        char buf[4096];
        FILE *p, *m;

        snprintf(cmd, sizeof(cmd), "cd '%s' && getfacl -R . 2>/dev/null", root);
        p = popen(cmd, "r");
        m = open_memstream(&out, &len);
        assert_non_null(p);
        assert_non_null(m);
        while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
                fwrite(buf, 1, n, m);
        assert_int_equal(pclose(p), 0);
        fclose(m);
        return out;
}

/* The block of path ("# file: ./x" ...) in a snapshot, copied. */
static char *block_of(const char *snap, const char *path)
{
        char head[600];
        const char *b, *end;

        snprintf(head, sizeof(head), "# file: %s\n", path);
        b = strstr(snap, head);
        if (!b)
                return strdup("");
        end = strstr(b, "\n\n");
        return strndup(b, end ? (size_t)(end - b) : strlen(b));
}

/* Every path's ACL in now is the one in before or in after: nothing
 * half-written. Returns how many paths are in the before state. */
static int whole_states(const char *before, const char *after, const char *now)
{
        static const char *const all[] = { ".", "a", "sub", "sub/victim", "sub/other", "sub/deeper",
                                           "sub/deeper/x", "zz", "zz/y" };
        int as_before = 0;
        size_t i;

        for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                char *b = block_of(before, all[i]), *a = block_of(after, all[i]), *n = block_of(now, all[i]);

                if (!b[0] || !a[0] || !n[0])
                        fail_msg("%s missing from a getfacl -R", all[i]);

                if (strcmp(n, b) != 0 && strcmp(n, a) != 0)
                        fail_msg("%s is half-written:\n%s\n--- before:\n%s\n--- after:\n%s", all[i], n, b, a);
                as_before += strcmp(n, b) == 0;
                free(a);
                free(b);
                free(n);
        }
        return as_before;
}

struct fx {
        char dir[128];
        char tree[200], twin[200];
        apid_ctx *ctx;
        char *before, *after; /* getfacl -R before and after a fault-free run */
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        disarm();
        snprintf(f->dir, sizeof(f->dir), "/tmp/apid-aclfaultio-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        must(apid_ctx_new(&f->ctx));
        must(apid_ctx_set_state_dir(f->ctx, f->dir));
        snprintf(f->tree, sizeof(f->tree), "%s/tree", f->dir);
        snprintf(f->twin, sizeof(f->twin), "%s/twin", f->dir);
        make_tree(f->tree);
        make_tree(f->twin);
        f->before = snapshot(f->tree);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;

        disarm();
        apid_ctx_unref(f->ctx);
        rm_tree(f->dir);
        free(f->before);
        free(f->after);
        free(f);
        return 0;
}

static int grant(struct fx *f, const char *tree, uint32_t flags)
{
        apid_acl_edit *e = NULL;
        int r;

        must(apid_acl_edit_new(f->ctx, &e));
        must(apid_acl_edit_add(e, APID_ACL_GRANT, "bin:(OI)(CI)RX"));
        must(apid_acl_edit_set_flags(e, APID_ACL_RECURSIVE | flags));
        r = apid_acl_edit_apply(e, tree);
        apid_acl_edit_free(e);
        return r;
}

static void expect_failure(int r, const char *needle)
{
        if (r >= 0)
                fail_msg("no failure (expected one naming '%s')", needle);
        assert_int_equal(apid_error_status(), r);
        assert_int_equal(apid_error_errno(), EIO);
        if (!strstr(apid_error_message(), needle))
                fail_msg("message '%s' lacks '%s'", apid_error_message(), needle);
        assert_true(fault_hits > 0);
}

/* ---- apply ---- */

struct apply_case {
        int ops;
        const char *name, *attr;
        const char *needle; /* in the message */
        const char *untouched; /* its ACL stays as before */
};

static const struct apply_case apply_cases[] = {
        { F_XREAD, "victim", NULL, "sub/victim", "sub/victim" },
        { F_XWRITE, "victim", NULL, "sub/victim", "sub/victim" },
        { F_OPEN, "victim", NULL, "sub/victim", "sub/victim" },
        { F_READDIR, "deeper", NULL, "sub/deeper: reading the directory", "sub/deeper/x" },
        /* A directory whose access ACL is written and whose default ACL
         * then fails must not keep the one without the other. */
        { F_XWRITE, "sub", "system.posix_acl_default", "sub", "sub" },
        { F_XWRITE, "sub", "system.posix_acl_access", "sub", "sub" },
};

static void apply_faults(void **state)
{
        struct fx *f = *state;
        size_t i;

        must(grant(f, f->twin, 0));
        f->after = snapshot(f->twin);
        for (i = 0; i < sizeof(apply_cases) / sizeof(apply_cases[0]); i++) {
                const struct apply_case *c = &apply_cases[i];
                static const uint32_t flags[] = { 0, APID_ACL_CONTINUE };
                size_t k;

                for (k = 0; k < 2; k++) {
                        char *now, *b, *n;

                        print_message("apply, fault %d on %s (%s), flags %u\n", c->ops, c->name,
                                      c->attr ? c->attr : "any", flags[k]);
                        arm(c->ops, c->name, c->attr);
                        expect_failure(grant(f, f->tree, flags[k]), c->needle);
                        disarm();
                        now = snapshot(f->tree);
                        if (getenv("DEBUG_FAULTS"))
                                fprintf(stderr, "now:\n%s\nafter:\n%s\n", now, f->after);
                        whole_states(f->before, f->after, now);
                        b = block_of(f->before, c->untouched);
                        n = block_of(now, c->untouched);
                        assert_string_equal(n, b);
                        free(b);
                        free(n);
                        free(now);
                        /* Without the fault the apply completes, as on the twin. */
                        must(grant(f, f->tree, 0));
                        now = snapshot(f->tree);
                        assert_string_equal(now, f->after);
                        free(now);
                        /* Back to the state before, for the next case. */
                        {
                                char file[300];

                                snprintf(file, sizeof(file), "%s/before.acl", f->dir);
                                {
                                        FILE *out = fopen(file, "w");

                                        assert_non_null(out);
                                        fputs(f->before, out);
                                        fclose(out);
                                }
                                must(apid_acl_restore(f->ctx, file, f->tree, 0));
                                now = snapshot(f->tree);
                                assert_string_equal(now, f->before);
                                free(now);
                        }
                }
        }
}

/* ---- save ---- */

static void save_faults(void **state)
{
        struct fx *f = *state;
        static const struct { int ops; const char *name, *attr, *needle; } cases[] = {
                { F_XREAD, "victim", "system.posix_acl_access", "sub/victim: reading the ACL" },
                { F_XREAD, "sub", "system.posix_acl_default", "tree/sub: reading the ACL" },
                { F_OPEN, "victim", NULL, "sub/victim" },
                { F_READDIR, "deeper", NULL, "sub/deeper: reading the directory" },
        };
        char out[300], *kept;
        size_t i;

        snprintf(out, sizeof(out), "%s/saved.acl", f->dir);
        must(apid_acl_save(f->ctx, f->tree, out, APID_ACL_RECURSIVE));
        kept = slurp(out);
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *now;

                print_message("save, fault %d on %s\n", cases[i].ops, cases[i].name);
                arm(cases[i].ops, cases[i].name, cases[i].attr);
                expect_failure(apid_acl_save(f->ctx, f->tree, out, APID_ACL_RECURSIVE), cases[i].needle);
                disarm();
                now = slurp(out); /* the save file of before, whole: no partial save */
                assert_string_equal(now, kept);
                free(now);
                now = snapshot(f->tree); /* a save writes no ACL */
                assert_string_equal(now, f->before);
                free(now);
        }
        free(kept);
}

/* ---- restore ---- */

static void restore_faults(void **state)
{
        struct fx *f = *state;
        static const struct { int ops; const char *name, *attr, *needle, *untouched; } cases[] = {
                { F_XWRITE, "victim", NULL, "sub/victim", "sub/victim" },
                { F_OPEN, "victim", NULL, "sub/victim", "sub/victim" },
                { F_XWRITE, "sub", "system.posix_acl_default", "sub", "sub" },
                { F_XWRITE, "sub", "system.posix_acl_access", "sub", "sub" },
        };
        char file[300];
        size_t i, k;

        snprintf(file, sizeof(file), "%s/before.acl", f->dir);
        {
                FILE *out = fopen(file, "w");

                assert_non_null(out);
                fputs(f->before, out);
                fclose(out);
        }
        must(grant(f, f->twin, 0));
        f->after = snapshot(f->twin);
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                for (k = 0; k < 2; k++) {
                        uint32_t flags = k ? APID_ACL_CONTINUE : 0;
                        char *now, *a, *n;
                        int as_before;

                        must(grant(f, f->tree, 0));
                        print_message("restore, fault %d on %s (%s), flags %u\n", cases[i].ops, cases[i].name,
                                      cases[i].attr ? cases[i].attr : "any", flags);
                        arm(cases[i].ops, cases[i].name, cases[i].attr);
                        expect_failure(apid_acl_restore(f->ctx, file, f->tree, flags), cases[i].needle);
                        disarm();
                        now = snapshot(f->tree);
                        as_before = whole_states(f->before, f->after, now);
                        if (flags) /* CONTINUE: everything else restored */
                                assert_int_equal(as_before, 8);
                        a = block_of(f->after, cases[i].untouched);
                        n = block_of(now, cases[i].untouched);
                        assert_string_equal(n, a);
                        free(a);
                        free(n);
                        free(now);
                        must(apid_acl_restore(f->ctx, file, f->tree, 0));
                        now = snapshot(f->tree);
                        assert_string_equal(now, f->before);
                        free(now);
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(apply_faults, setup, teardown),
                cmocka_unit_test_setup_teardown(save_faults, setup, teardown),
                cmocka_unit_test_setup_teardown(restore_faults, setup, teardown),
        };

        unsetenv(APID_STATE_DIR_ENV);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
