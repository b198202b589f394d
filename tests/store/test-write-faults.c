/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection on the write path (issue 17): pool add, delete and set,
 * registry set and import, each run once clean to count its failure points
 * (SQLite's allocations, through SQLITE_CONFIG_MALLOC; and the write,
 * pwrite64, fsync, fdatasync, ftruncate, rename(at), link(at) and the opens
 * for writing that the library and SQLite make, which this executable
 * defines: the dynamic linker binds their calls here first), then once per
 * point with that one call failing. After each: the call failed with a
 * message and the registry's rows and the snapshot's and the launch
 * settings' files are as they
 * were; or (a failure after COMMIT, when only the snapshot's publication
 * failed) the call succeeded, the registry holds the change and the
 * snapshot is the old one or the new one, never anything else; and no
 * temporary file is left (the launch settings, beside the snapshot: old or
 * new, independently). Then the next write publishes the registry, the
 * launch settings with the snapshot's generation. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "apppoolid.h"

/* ---- the failure points ---- */

static int armed;        /* counting calls */
static long calls;       /* calls counted since arming */
static long fail_at;     /* the call that fails (1-based), 0: none */
static int in_hook;

static const char *failed_call; /* the name of the call that failed */

/* 1 if this call is the one to fail (errno set). */
static int fault_named(const char *name, int err)
{
        if (!armed || in_hook)
                return 0;
        if (++calls == fail_at) {
                failed_call = name;
                errno = err;
                return 1;
        }
        return 0;
}
#define fault(err) fault_named(__func__, err)

#define NEXT(name, type) \
        static __typeof__(type) next; \
        if (!next) \
                *(void **)&next = dlsym(RTLD_NEXT, name)

ssize_t write(int fd, const void *buf, size_t n)
{
        NEXT("write", ssize_t (*)(int, const void *, size_t));
        if (fd > 2 && fault(ENOSPC))
                return -1;
        return next(fd, buf, n);
}

ssize_t fault_pwrite64(int fd, const void *buf, size_t n, off_t off) __asm__("pwrite64");
ssize_t fault_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
        NEXT("pwrite64", ssize_t (*)(int, const void *, size_t, off_t));
        if (fault(EIO))
                return -1;
        return next(fd, buf, n, off);
}

int fsync(int fd)
{
        if (fault(EIO))
                return -1;
        return fcntl(fd, F_GETFD) < 0 ? -1 : 0; /* no real sync: the test is about failures, not power cuts */
}

int fdatasync(int fd)
{
        if (fault(EIO))
                return -1;
        return fcntl(fd, F_GETFD) < 0 ? -1 : 0; /* no real sync: the test is about failures, not power cuts */
}

int fault_ftruncate64(int fd, off_t len) __asm__("ftruncate64");
int fault_ftruncate64(int fd, off_t len)
{
        NEXT("ftruncate64", int (*)(int, off_t));
        if (fault(EIO))
                return -1;
        return next(fd, len);
}

int fault_ftruncate(int fd, off_t len) __asm__("ftruncate");
int fault_ftruncate(int fd, off_t len)
{
        NEXT("ftruncate", int (*)(int, off_t));
        if (fault(EIO))
                return -1;
        return next(fd, len);
}

int rename(const char *a, const char *b)
{
        NEXT("rename", int (*)(const char *, const char *));
        if (fault(EIO))
                return -1;
        return next(a, b);
}

int renameat(int da, const char *a, int db, const char *b)
{
        NEXT("renameat", int (*)(int, const char *, int, const char *));
        if (fault(EIO))
                return -1;
        return next(da, a, db, b);
}

int linkat(int da, const char *a, int db, const char *b, int flags)
{
        NEXT("linkat", int (*)(int, const char *, int, const char *, int));
        if (fault(ENOSPC))
                return -1;
        return next(da, a, db, b, flags);
}

static int writes(int flags)
{
        return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) || (flags & O_TMPFILE) == O_TMPFILE;
}

#define OPEN(name, ...) \
        mode_t mode = 0; \
        if (flags & (O_CREAT | O_TMPFILE)) { \
                va_list ap; \
                va_start(ap, flags); \
                mode = va_arg(ap, mode_t); \
                va_end(ap); \
        } \
        if (writes(flags) && fault(ENOSPC)) \
                return -1

int fault_open(const char *path, int flags, ...) __asm__("open");
int fault_open(const char *path, int flags, ...)
{
        NEXT("open", int (*)(const char *, int, ...));
        OPEN("open");
        return next(path, flags, mode);
}

int fault_open64(const char *path, int flags, ...) __asm__("open64");
int fault_open64(const char *path, int flags, ...)
{
        NEXT("open64", int (*)(const char *, int, ...));
        OPEN("open64");
        return next(path, flags, mode);
}

int fault_openat(int dirfd, const char *path, int flags, ...) __asm__("openat");
int fault_openat(int dirfd, const char *path, int flags, ...)
{
        NEXT("openat", int (*)(int, const char *, int, ...));
        OPEN("openat");
        return next(dirfd, path, flags, mode);
}

int fault_openat64(int dirfd, const char *path, int flags, ...) __asm__("openat64");
int fault_openat64(int dirfd, const char *path, int flags, ...)
{
        NEXT("openat64", int (*)(int, const char *, int, ...));
        OPEN("openat64");
        return next(dirfd, path, flags, mode);
}

/* SQLite's allocator, each allocation a failure point. */
static sqlite3_mem_methods real_mem;

static void *mem_malloc(int n)
{
        return fault(ENOMEM) ? NULL : real_mem.xMalloc(n);
}

static void *mem_realloc(void *p, int n)
{
        return fault(ENOMEM) ? NULL : real_mem.xRealloc(p, n);
}

/* ---- the state compared ---- */

static char *slurp(const char *path, size_t *size)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t cap = 0, n = 0, got;

        if (!f)
                return NULL;
        do {
                if (n == cap) {
                        cap = cap ? cap * 2 : 65536;
                        buf = realloc(buf, cap);
                        if (!buf)
                                abort();
                }
                got = fread(buf + n, 1, cap - n, f);
                n += got;
        } while (got);
        fclose(f);
        *size = n;
        return buf;
}

struct text {
        char *p;
        size_t n;
};

static void put(struct text *t, const void *data, size_t n)
{
        t->p = realloc(t->p, t->n + n + 1);
        if (!t->p)
                abort();
        memcpy(t->p + t->n, data, n);
        t->n += n;
        t->p[t->n] = '\0';
}

static int row_cb(void *arg, int n, char **values, char **names)
{
        int i;

        (void)names;
        for (i = 0; i < n; i++) {
                put(arg, values[i] ? values[i] : "NULL", strlen(values[i] ? values[i] : "NULL"));
                put(arg, "|", 1);
        }
        put(arg, "\n", 1);
        return 0;
}

static int name_order(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every registry row (through a connection of our own) and every snapshot
 * file's name and bytes: what a failed write must leave as it was. */
static struct text state_of(const char *dir)
{
        static const char *const tables[] = { "config", "accounts", "pools", "settings ORDER BY 1, 2 --",
                                              "snapshot_changes" };
        struct text t = { NULL, 0 };
        struct dirent **list;
        char path[512];
        sqlite3 *db;
        size_t i;
        int n, k;

        in_hook++;
        snprintf(path, sizeof(path), "file:%s/registry.db?mode=ro", dir);
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK)
                abort();
        for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
                char sql[128];

                snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY 1", tables[i]);
                put(&t, tables[i], strlen(tables[i]));
                put(&t, ":\n", 2);
                if (sqlite3_exec(db, sql, row_cb, &t, NULL) != SQLITE_OK)
                        abort();
        }
        sqlite3_close(db);
        n = scandir(dir, &list, NULL, name_order);
        for (k = 0; k < n; k++) {
                const char *e = list[k]->d_name;

                if ((strncmp(e, "nss-snapshot", 12) == 0 && strcmp(e, "nss-snapshot.lock") != 0) ||
                    strncmp(e, "launch-settings", 15) == 0) {
                        size_t size;
                        char *data;

                        snprintf(path, sizeof(path), "%s/%s", dir, e);
                        data = slurp(path, &size);
                        put(&t, "\n", 1); /* each file's part starts "\nNAME=" */
                        put(&t, e, strlen(e));
                        put(&t, "=", 1);
                        if (data)
                                put(&t, data, size);
                        free(data);
                }
                free(list[k]);
        }
        free(list);
        in_hook--;
        return t;
}

static int same(struct text a, struct text b)
{
        return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* The snapshot part of a state (from its first file name on). */
static struct text snapshot_part(struct text t)
{
        const char *p = t.p ? memmem(t.p, t.n, "\nnss-snapshot", 13) : NULL;

        return p ? (struct text){ (char *)p, t.n - (size_t)(p - t.p) } : (struct text){ t.p + t.n, 0 };
}

/* The launch settings part (its files sort before the snapshot's): it is
 * published beside the snapshot, and may be old while the snapshot is new
 * (its own write failed) or new while the snapshot is old. */
/* The generation announced before COMMIT (launch-settings.pending). */
static struct text pending_part(struct text t)
{
        const char *p = t.p ? memmem(t.p, t.n, "\nlaunch-settings.pending=", 25) : NULL;
        struct text s = snapshot_part(t);

        return p ? (struct text){ (char *)p, t.n - s.n - (size_t)(p - t.p) } : (struct text){ s.p, 0 };
}

static struct text launch_part(struct text t)
{
        const char *p = t.p ? memmem(t.p, t.n, "\nlaunch-settings=", 17) : NULL; /* the files hold NULs */
        struct text s = snapshot_part(t), a = pending_part(t);

        return p ? (struct text){ (char *)p, t.n - s.n - a.n - (size_t)(p - t.p) } : (struct text){ a.p, 0 };
}

static struct text registry_part(struct text t)
{
        struct text s = snapshot_part(t), l = launch_part(t), a = pending_part(t);

        return (struct text){ t.p, t.n - s.n - l.n - a.n };
}

/* ---- the operations ---- */

static char pristine[256], import_file[512];

static int op_add(apid_ctx *ctx)
{
        apid_pool *p = NULL;
        int r = apid_pool_create(ctx, "Faulty", &p);

        apid_pool_free(p);
        return r;
}

static int op_delete(apid_ctx *ctx)
{
        return apid_pool_delete(ctx, "web", APID_POOL_DELETE_KEEP_PROFILE);
}

static int op_set(apid_ctx *ctx)
{
        apid_pool *p = NULL;
        int r = apid_pool_open(ctx, "api", &p);

        if (r == APID_OK)
                r = apid_pool_set(p, "autoStart", "false");
        apid_pool_free(p);
        return r;
}

static int op_registry_set(apid_ctx *ctx) /* a complete snapshot */
{
        return apid_registry_set(ctx, "sharedGroup", "apppool-users");
}

static int op_import(apid_ctx *ctx)
{
        return apid_registry_import(ctx, import_file);
}

/* to: a copy of the flat directory from (its regular files), nothing else. */
static void copy_tree(const char *from, const char *to)
{
        struct dirent **list;
        char a[600], b[600];
        int n, k;

        n = scandir(to, &list, NULL, name_order);
        for (k = 0; k < n; k++) {
                snprintf(b, sizeof(b), "%s/%s", to, list[k]->d_name);
                if (list[k]->d_name[0] != '.')
                        unlink(b);
                free(list[k]);
        }
        if (n >= 0)
                free(list);
        mkdir(to, 0755);
        n = scandir(from, &list, NULL, name_order);
        if (n < 0)
                abort();
        for (k = 0; k < n; k++) {
                size_t size;
                char *data;
                FILE *f;

                snprintf(a, sizeof(a), "%s/%s", from, list[k]->d_name);
                snprintf(b, sizeof(b), "%s/%s", to, list[k]->d_name);
                if (list[k]->d_type == DT_REG && (data = slurp(a, &size))) {
                        struct stat st;

                        f = fopen(b, "wb");
                        if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0 || stat(a, &st) < 0 ||
                            chmod(b, st.st_mode & 07777) < 0)
                                abort();
                        free(data);
                }
                free(list[k]);
        }
        free(list);
}

static int failures;

/* The generation in the header of dir/file (both formats keep it at byte
 * 16), 0 if unreadable. */
static uint64_t generation_of(const char *dir, const char *file)
{
        char path[600];
        uint64_t g = 0;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        in_hook++;
        f = fopen(path, "rb");
        if (f && (fseek(f, 16, SEEK_SET) != 0 || fread(&g, sizeof(g), 1, f) != 1))
                g = 0;
        if (f)
                fclose(f);
        in_hook--;
        return g;
}

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); failures++; } while (0)

static int run(const char *dir, int (*op)(apid_ctx *), long at, long *counted)
{
        apid_ctx *ctx;
        int r;

        if (apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, dir) != APID_OK)
                abort();
        calls = 0;
        failed_call = "none";
        fail_at = at;
        armed = 1;
        r = op(ctx);
        armed = 0;
        *counted = calls;
        apid_ctx_unref(ctx);
        return r;
}

static void check_op(const char *name, int (*op)(apid_ctx *))
{
        char dir[300];
        struct text before, after;
        long n, i, failed = 0, committed = 0, counted;

        snprintf(dir, sizeof(dir), "%s.run", pristine);
        before = state_of(pristine);
        copy_tree(pristine, dir);
        if (run(dir, op, 0, &n) != APID_OK) {
                FAIL("%s: fails without a fault: %s", name, apid_error_message());
                return;
        }
        after = state_of(dir);
        if (same(before, after))
                FAIL("%s: changes nothing", name);
        if (!launch_part(after).n || same(launch_part(before), launch_part(after)))
                FAIL("%s: publishes no new launch settings", name);
        for (i = 1; i <= n; i++) {
                struct text now;
                apid_ctx *ctx;
                apid_pool *p = NULL;
                int r;

                copy_tree(pristine, dir);
                r = run(dir, op, i, &counted);
                now = state_of(dir);
                if (r < 0) {
                        failed++;
                        if (!apid_error_message()[0])
                                FAIL("%s, fault %ld/%ld: status %d without a message", name, i, n, r);
                        if (!same(now, before))
                                FAIL("%s, fault %ld/%ld in %s (%s): the registry or the snapshot changed", name, i, n,
                                     failed_call, apid_error_message());
                } else {
                        /* Only the publication failed: committed, and the
                         * snapshot is the old one or the new one. */
                        committed++;
                        if (!same(registry_part(now), registry_part(after)))
                                FAIL("%s, fault %ld/%ld: succeeded, but the registry is not the clean run's", name, i,
                                     n);
                        if (!same(snapshot_part(now), snapshot_part(before)) &&
                            !same(snapshot_part(now), snapshot_part(after)))
                                FAIL("%s, fault %ld/%ld in %s: succeeded with a snapshot neither old nor new", name, i, n,
                                     failed_call);
                        if (!same(launch_part(now), launch_part(before)) &&
                            !same(launch_part(now), launch_part(after)))
                                FAIL("%s, fault %ld/%ld in %s: succeeded with launch settings neither old nor new", name,
                                     i, n, failed_call);
                        /* announced before the COMMIT: an old file is not
                         * trusted from now on */
                        if (!same(pending_part(now), pending_part(after)))
                                FAIL("%s, fault %ld/%ld in %s: committed without announcing its generation", name, i,
                                     n, failed_call);
                }
                free(now.p);
                if (r < 0)
                        continue; /* as it was: nothing to repair */
                /* The next write publishes the registry as it is. */
                if (apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, dir) != APID_OK)
                        abort();
                if (apid_pool_create(ctx, "Next", &p) != APID_OK)
                        FAIL("%s, fault %ld/%ld: the next write fails: %s", name, i, n, apid_error_message());
                else if (generation_of(dir, "launch-settings") != generation_of(dir, "nss-snapshot") ||
                         !generation_of(dir, "nss-snapshot"))
                        FAIL("%s, fault %ld/%ld: after the next write, launch settings of generation %llu, the "
                             "snapshot's %llu", name, i, n, (unsigned long long)generation_of(dir, "launch-settings"),
                             (unsigned long long)generation_of(dir, "nss-snapshot"));
                apid_pool_free(p);
                apid_ctx_unref(ctx);
        }
        printf("%-14s %4ld failure points: %ld failed leaving all as it was, %ld succeeded (the fault after COMMIT)\n", name, n, failed,
               committed);
        free(before.p);
        free(after.p);
        {
                char cmd[400];

                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                if (system(cmd) != 0)
                        abort();
        }
}

int main(void)
{
        static sqlite3_mem_methods mem;
        char src[300], cmd[1200];
        apid_ctx *ctx;
        apid_pool *p = NULL;
        int r;

        if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem) != SQLITE_OK)
                return 99;
        mem = real_mem;
        mem.xMalloc = mem_malloc;
        mem.xRealloc = mem_realloc;
        if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK) {
                fprintf(stderr, "SQLITE_CONFIG_MALLOC refused\n");
                return 99;
        }
        snprintf(pristine, sizeof(pristine), "/tmp/apid-faults-XXXXXX");
        if (!mkdtemp(pristine))
                return 99;
        /* A registry with pools, its snapshot a delta over a base. */
        if (apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, pristine) != APID_OK)
                return 99;
        for (const char *const *name = (const char *const[]){ "web", "api", "shop", NULL }; *name; name++) {
                r = apid_pool_create(ctx, *name, &p);
                apid_pool_free(p);
                if (r != APID_OK) {
                        fprintf(stderr, "setup: %s\n", apid_error_message());
                        return 99;
                }
        }
        apid_ctx_unref(ctx);
        /* An export of another registry, for import. */
        snprintf(src, sizeof(src), "%s.src", pristine);
        snprintf(import_file, sizeof(import_file), "%s.tsv", pristine);
        if (apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, src) != APID_OK)
                return 99;
        for (const char *const *name = (const char *const[]){ "web", "api", "imported1", "imported2", NULL }; *name;
             name++) {
                r = apid_pool_create(ctx, *name, &p);
                apid_pool_free(p);
                if (r != APID_OK)
                        return 99;
        }
        if (apid_registry_export(ctx, import_file) != APID_OK)
                return 99;
        apid_ctx_unref(ctx);

        check_op("pool add", op_add);
        check_op("pool delete", op_delete);
        check_op("pool set", op_set);
        check_op("registry set", op_registry_set);
        check_op("registry import", op_import);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s'", pristine, src, import_file);
        if (system(cmd) != 0)
                return 99;
        if (failures)
                fprintf(stderr, "%d failures\n", failures);
        return failures ? 1 : 0;
}
