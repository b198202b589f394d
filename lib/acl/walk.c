/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Applying an edit to a tree: a walk through directory file descriptors that
 * never follows a symbolic link, on two threads, with xattrs read and written
 * relative to the directory (getxattrat/setxattrat, Linux 6.13; on older
 * kernels through /proc/self/fd of an O_PATH descriptor). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "internal.h"
#include "acl-internal.h"

#define THREADS 2
/* Each level holds a directory descriptor and a path buffer on the stack. */
#define MAX_DEPTH 256

/* The *xattrat system calls (Linux 6.13), not yet in Debian 12's headers. */
#ifndef __NR_setxattrat
#define __NR_setxattrat 463
#define __NR_getxattrat 464
#define __NR_removexattrat 466
#endif

struct xattr_args {
        uint64_t value;
        uint32_t size;
        uint32_t flags;
};

static int have_xattrat = -1; /* unknown, 0, 1; a benign race: every thread finds the same */

static int xattrat_available(void)
{
        if (have_xattrat < 0) {
                struct xattr_args args = { 0, 0, 0 };
                long r = syscall(__NR_getxattrat, AT_FDCWD, "/", AT_SYMLINK_NOFOLLOW, "user.apppoolid-probe", &args,
                                 sizeof(args));

                have_xattrat = !(r < 0 && errno == ENOSYS);
        }
        return have_xattrat;
}

int apid__open_nofollow(int dirfd, const char *name, int directory)
{
        return openat(dirfd, name,
                      (directory ? O_RDONLY | O_DIRECTORY : O_PATH) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

ssize_t apid__getxattr_at(int dirfd, const char *name, const char *attr, void *buf, size_t size)
{
        char proc[64];
        ssize_t r;
        int fd, err;

        if (xattrat_available()) {
                struct xattr_args args = { (uint64_t)(uintptr_t)buf, (uint32_t)size, 0 };

                return syscall(__NR_getxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, attr, &args, sizeof(args));
        }
        fd = apid__open_nofollow(dirfd, name, 0);
        if (fd < 0)
                return -1;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        r = getxattr(proc, attr, buf, size);
        err = errno;
        close(fd);
        errno = err;
        return r;
}

int apid__setxattr_at(int dirfd, const char *name, const char *attr, const void *buf, size_t size)
{
        char proc[64];
        int fd, r, err;

        if (xattrat_available()) {
                struct xattr_args args = { (uint64_t)(uintptr_t)buf, (uint32_t)size, 0 };

                return (int)syscall(__NR_setxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, attr, &args, sizeof(args));
        }
        fd = apid__open_nofollow(dirfd, name, 0);
        if (fd < 0)
                return -1;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        r = setxattr(proc, attr, buf, size, 0);
        err = errno;
        close(fd);
        errno = err;
        return r;
}

int apid__removexattr_at(int dirfd, const char *name, const char *attr)
{
        char proc[64];
        int fd, r, err;

        if (xattrat_available())
                return (int)syscall(__NR_removexattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, attr);
        fd = apid__open_nofollow(dirfd, name, 0);
        if (fd < 0)
                return -1;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        r = removexattr(proc, attr);
        err = errno;
        close(fd);
        errno = err;
        return r;
}

/* ---- the walk ---- */

static int join(char *out, size_t size, const char *rel, const char *name)
{
        int n = strcmp(rel, ".") == 0 ? snprintf(out, size, "%s", name) : snprintf(out, size, "%s/%s", rel, name);

        return n >= 0 && (size_t)n < size ? 0 : -1;
}

static int stopped(apid_acl_edit *e)
{
        int s;

        pthread_mutex_lock(&e->lock);
        s = e->stop;
        pthread_mutex_unlock(&e->lock);
        return s;
}

/* Open a subdirectory to descend into, without following: a directory
 * swapped for a link since it was listed makes O_NOFOLLOW | O_DIRECTORY fail. */
static int descend(apid_acl_edit *e, int dirfd, const char *name, const char *rel, int *status)
{
        int sub = apid__open_nofollow(dirfd, name, 1);

        if (sub < 0)
                *status = apid__acl_failed(e, rel, apid__fail(APID_ESYS, errno, "%s: cannot descend: %s", rel,
                                                              errno == ELOOP || errno == ENOTDIR
                                                                      ? "no longer a directory (not followed)"
                                                                      : strerror(errno)));
        return sub;
}

/* Walk the directory dfd (already edited itself); takes ownership of dfd. */
static int walk_dir(apid_acl_edit *e, int dfd, const char *rel, unsigned depth, void *cache)
{
        DIR *d;
        struct dirent *de = NULL;
        int r = APID_OK;

        if (depth > MAX_DEPTH) {
                close(dfd);
                return apid__acl_failed(e, rel, apid__fail(APID_ERANGE, 0, "%s: nested deeper than %d", rel,
                                                           MAX_DEPTH));
        }
        d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return apid__acl_failed(e, rel, apid__fail(APID_ESYS, errno, "%s: %s", rel, strerror(errno)));
        }
        while (r == APID_OK && !stopped(e) && (errno = 0, de = readdir(d))) {
                char child[4096];
                unsigned char type = de->d_type;
                int is_dir, sub;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (join(child, sizeof(child), rel, de->d_name) < 0) {
                        r = apid__acl_failed(e, rel, apid__fail(APID_ERANGE, 0, "%s/%s: path too long", rel,
                                                                de->d_name));
                        continue;
                }
                if (type == DT_UNKNOWN) {
                        struct stat st;

                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                r = apid__acl_failed(e, child,
                                                     apid__fail(APID_ESYS, errno, "%s: %s", child, strerror(errno)));
                                continue;
                        }
                        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
                }
                if (type != DT_DIR && type != DT_REG) {
                        apid__acl_event(e, APID_ACL_SKIPPED, child, type == DT_LNK ? "symbolic link" : "special file");
                        continue;
                }
                is_dir = type == DT_DIR;
                r = apid__acl_edit_path(e, dirfd(d), de->d_name, child, is_dir, cache);
                if (r < 0 || !is_dir)
                        continue;
                sub = descend(e, dirfd(d), de->d_name, child, &r);
                if (sub >= 0)
                        r = walk_dir(e, sub, child, depth + 1, cache);
        }
        if (r == APID_OK && errno && !de)
                r = apid__acl_failed(e, rel, apid__fail(APID_ESYS, errno, "%s: reading the directory: %s", rel,
                                                        strerror(errno)));
        closedir(d);
        return r;
}

/* Two threads share the top-level subdirectories; each walks its own subtrees. */
struct work {
        apid_acl_edit *e;
        int rootfd;
        char **names;
        size_t n, next;
        pthread_mutex_t lock;
};

static void *worker(void *arg)
{
        struct work *w = arg;
        void *cache = apid__acl_cache_new();

        for (;;) {
                const char *name;
                int sub, status;

                pthread_mutex_lock(&w->lock);
                name = w->next < w->n ? w->names[w->next++] : NULL;
                pthread_mutex_unlock(&w->lock);
                if (!name || stopped(w->e))
                        break;
                if (apid__acl_edit_path(w->e, w->rootfd, name, name, 1, cache) < 0)
                        continue;
                sub = descend(w->e, w->rootfd, name, name, &status);
                if (sub >= 0)
                        walk_dir(w->e, sub, name, 1, cache);
        }
        apid__acl_cache_free(cache);
        return NULL;
}

/* The root's own files here; its subdirectories to the workers. */
static int walk_root(apid_acl_edit *e, int rootfd, void *cache)
{
        struct work w;
        pthread_t threads[THREADS];
        DIR *d;
        struct dirent *de = NULL;
        int dfd, i, started = 0, r = APID_OK;

        dfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
        if (dfd < 0 || !(d = fdopendir(dfd))) {
                if (dfd >= 0)
                        close(dfd);
                return apid__acl_failed(e, ".", apid__fail(APID_ESYS, errno, ".: %s", strerror(errno)));
        }
        memset(&w, 0, sizeof(w));
        w.e = e;
        w.rootfd = rootfd;
        pthread_mutex_init(&w.lock, NULL);
        while (r == APID_OK && !stopped(e) && (errno = 0, de = readdir(d))) {
                unsigned char type = de->d_type;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (type == DT_UNKNOWN) {
                        struct stat st;

                        if (fstatat(rootfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                r = apid__acl_failed(e, de->d_name, apid__fail(APID_ESYS, errno, "%s: %s", de->d_name,
                                                                               strerror(errno)));
                                continue;
                        }
                        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
                }
                if (type == DT_DIR) {
                        char **grown = realloc(w.names, (w.n + 1) * sizeof(char *));

                        if (!grown || !(grown[w.n] = strdup(de->d_name))) {
                                w.names = grown ? grown : w.names;
                                r = apid__fail_oom();
                                break;
                        }
                        w.names = grown;
                        w.n++;
                } else if (type == DT_REG) {
                        r = apid__acl_edit_path(e, rootfd, de->d_name, de->d_name, 0, cache);
                } else {
                        apid__acl_event(e, APID_ACL_SKIPPED, de->d_name,
                                        type == DT_LNK ? "symbolic link" : "special file");
                }
        }
        if (r == APID_OK && errno && !de)
                r = apid__acl_failed(e, ".", apid__fail(APID_ESYS, errno, ".: reading the directory: %s",
                                                        strerror(errno)));
        closedir(d);
        if (r == APID_OK) {
                for (i = 0; i < THREADS && (size_t)i < w.n; i++)
                        if (pthread_create(&threads[i], NULL, worker, &w) == 0)
                                started++;
                if (started == 0)
                        worker(&w);
                for (i = 0; i < started; i++)
                        pthread_join(threads[i], NULL);
        }
        for (i = 0; (size_t)i < w.n; i++)
                free(w.names[i]);
        free(w.names);
        pthread_mutex_destroy(&w.lock);
        return r;
}

/* Strict edits are checked before anything is written. */
static int strict_check(apid_acl_edit *e)
{
        size_t i;

        for (i = 0; i < e->n_aces; i++) {
                struct apid__ace *a = &e->aces[i];
                int kind;

                if (a->op == APID_ACL_REMOVE)
                        continue;
                for (kind = 0; kind < 2; kind++)
                        if (a->lost[kind][0])
                                return apid__fail(APID_EUNSUPPORTED, 0, "%s on a %s (strict): %s", a->spec,
                                                  kind ? "directory" : "file", a->lost[kind]);
                if ((a->flags & (APID__ACE_OI | APID__ACE_CI)) &&
                    ((a->flags & (APID__ACE_OI | APID__ACE_CI)) != (APID__ACE_OI | APID__ACE_CI) ||
                     (a->flags & APID__ACE_NP)))
                        return apid__fail(APID_EUNSUPPORTED, 0,
                                          "%s (strict): POSIX default ACLs cannot express (OI) without (CI), (CI) "
                                          "without (OI), or (NP)", a->spec);
                if (a->op == APID_ACL_DENY && a->t.tag != APID__T_USER)
                        return apid__fail(APID_EUNSUPPORTED, 0,
                                          "%s (strict): POSIX has no deny entries; only a deny for a user can be "
                                          "expressed (as that user's own entry)", a->spec);
        }
        return APID_OK;
}

APID_EXPORT int apid_acl_edit_apply(apid_acl_edit *e, const char *path)
{
        void *cache;
        struct stat st;
        char *parent = NULL, *base, *canonical = NULL;
        int pfd = -1, rootfd = -1, r;

        if (!e || !path)
                return apid__fail(APID_EINVAL, 0, "apid_acl_edit_apply: NULL argument");
        if (!e->n_aces && !e->reset)
                return apid__fail(APID_EINVAL, 0, "ACL edit of %s: nothing to apply", path);
        if (!path[0])
                return apid__fail(APID_EINVAL, 0, "ACL edit: empty path");
        memset(e->counts, 0, sizeof(e->counts));
        e->first_error = 0;
        e->stop = 0;
        for (size_t i = 0; i < e->n_aces; i++)
                e->aces[i].reported[0] = e->aces[i].reported[1] = 0;
        if ((e->flags & APID_ACL_STRICT) && (r = strict_check(e)) < 0)
                return r;
        /* The path's last component is edited relative to its parent, never followed. */
        parent = strdup(path);
        if (!parent)
                return apid__fail_oom();
        while (strlen(parent) > 1 && parent[strlen(parent) - 1] == '/')
                parent[strlen(parent) - 1] = '\0';
        base = strrchr(parent, '/');
        if (base == parent) {
                pfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                base = parent[1] ? parent + 1 : (char *)".";
        } else if (base) {
                *base++ = '\0';
                pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } else {
                pfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                base = parent;
        }
        if (pfd < 0) {
                r = apid__fail(errno == ENOENT ? APID_ENOTFOUND : APID_ESYS, errno, "%s: %s", path, strerror(errno));
                free(parent);
                return r;
        }
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                r = apid__fail(errno == ENOENT ? APID_ENOTFOUND : APID_ESYS, errno, "%s: %s", path, strerror(errno));
                goto out;
        }
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
                r = apid__fail(APID_EINVAL, 0, "%s: not a file or directory (%s)", path,
                               S_ISLNK(st.st_mode) ? "a symbolic link, not followed" : "a special file");
                goto out;
        }
        /* The journal names paths from the root without "..", as getfacl
         * would: the canonical path, leading '/' removed. */
        canonical = realpath(path, NULL);
        if (!canonical) {
                r = apid__fail(APID_ESYS, errno, "%s: %s", path, strerror(errno));
                goto out;
        }
        e->root_display = canonical[1] ? canonical + 1 : ".";
        e->tree_uid = st.st_uid;
        if (e->journal_path && !(e->flags & APID_ACL_DRY_RUN)) {
                int jfd = open(e->journal_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

                e->journal = jfd >= 0 ? fdopen(jfd, "w") : NULL;
                if (!e->journal) {
                        r = apid__fail(APID_ESYS, errno, "journal %s: %s", e->journal_path, strerror(errno));
                        if (jfd >= 0)
                                close(jfd);
                        goto out;
                }
        }
        cache = apid__acl_cache_new();
        r = apid__acl_edit_path(e, pfd, base, ".", S_ISDIR(st.st_mode), cache);
        if (r == APID_OK && S_ISDIR(st.st_mode) && (e->flags & APID_ACL_RECURSIVE) && !stopped(e)) {
                rootfd = apid__open_nofollow(pfd, base, 1);
                if (rootfd < 0)
                        r = apid__acl_failed(e, ".", apid__fail(APID_ESYS, errno, "%s: %s", path, strerror(errno)));
                else
                        r = walk_root(e, rootfd, cache);
        }
        apid__acl_cache_free(cache);
        if (e->journal) {
                if (fclose(e->journal) != 0 && r == APID_OK)
                        r = apid__fail(APID_ESYS, errno, "journal %s: %s", e->journal_path, strerror(errno));
                e->journal = NULL;
        }
        if (e->progress)
                e->progress(e->counts[APID_ACL_CHANGED] + e->counts[APID_ACL_UNCHANGED] + e->counts[APID_ACL_SKIPPED] +
                                    e->counts[APID_ACL_FAILED],
                            e->counts[APID_ACL_CHANGED], e->progress_data);
        /* The first failure as it was, errno included (it was re-raised
         * with errno 0), also when it stopped the walk: it may have been
         * recorded on another thread, whose last error is not this one's. */
        if (e->first_error && (r == APID_OK || r == e->first_error))
                r = apid__error_restore(&e->first);
out:
        if (rootfd >= 0)
                close(rootfd);
        close(pfd);
        free(parent);
        free(canonical);
        e->root_display = NULL;
        return r;
}
