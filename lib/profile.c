/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Profile directories: ROOT/USER, created 0700 and owned by the identity,
 * with USER/tmp (TMPDIR) inside; removed without ever following a symbolic
 * link. The pool owns what is inside and may have planted links, nested
 * directories thousands deep, or moved directories while they are removed.
 *
 * The root is the administrator's (profileRoot or STATE_DIR/profiles) and
 * trusted; everything below it is opened with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), or, where the kernel lacks openat2 (before 5.6), by a
 * component-by-component O_NOFOLLOW walk. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* How often removal starts again from the top because the pool moved or
 * refilled a directory under it, before it gives up (a worker still running). */
#define MAX_RESTARTS 10000

/* Open rel (relative, no "..") beneath dirfd, following no link. */
static int open_beneath(int dirfd, const char *rel, int flags)
{
        struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
        _cleanup_free_ char *copy = NULL;
        char *p, *slash;
        int fd, next;

#ifdef SYS_openat2
        fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
        if (fd >= 0 || errno != ENOSYS)
                return fd;
#endif
        /* The walk: every component but the last a directory, none a link. */
        copy = strdup(rel);
        if (!copy) {
                errno = ENOMEM;
                return -1;
        }
        fd = dirfd;
        for (p = copy;; p = slash + 1) {
                slash = strchr(p, '/');
                if (slash)
                        *slash = '\0';
                if (!p[0] || rel[0] == '/' || strcmp(p, "..") == 0) {
                        if (fd != dirfd)
                                close(fd);
                        errno = EXDEV; /* what RESOLVE_BENEATH answers */
                        return -1;
                }
                next = openat(fd, p, slash ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
                                           : flags | O_NOFOLLOW | O_CLOEXEC);
                if (fd != dirfd) {
                        int e = errno;

                        close(fd);
                        errno = e;
                }
                if (next < 0 || !slash)
                        return next;
                fd = next;
        }
}

/* mkdir -p for the profile root; it belongs to root (0755). What exists
 * of the path is checked first (lib/util/safepath.c; it stops at the first
 * missing component): root makes no directory through one that another
 * user could swap. */
static int make_root(const char *root)
{
        _cleanup_free_ char *copy = NULL;
        struct stat st;
        char *p;
        int r = apid__safe_dir(root, "profile root", NULL, &st);

        if (r < 0 && r != APID_ENOTFOUND)
                return r;
        if (asprintf(&copy, "%s/", root) < 0) {
                copy = NULL;
                return apid__fail_oom();
        }
        for (p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                        return apid__fail(APID_ESYS, errno, "profile root %s: cannot create %s: %s", root, copy,
                                          strerror(errno));
                *p = '/';
        }
        return APID_OK;
}

/* The root is trusted only if no pool can rename what is in it: it belongs
 * to root (or this process's user) and is not writable by group or others,
 * and neither is any directory on the way to it (lib/util/safepath.c). */
static int open_root(const char *root, int *fd)
{
        _cleanup_free_ char *real = NULL;
        struct stat st;
        int r = apid__safe_dir(root, "profile root", &real, &st);

        if (r < 0 && r != APID_ENOTFOUND)
                return r;
        /* Missing: the open below says so as it always did. */
        *fd = open(real ? real : root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*fd < 0)
                return apid__fail(APID_ESYS, errno, "profile root %s: %s", root, strerror(errno));
        if (fstat(*fd, &st) < 0)
                r = apid__fail(APID_ESYS, errno, "profile root %s: %s", root, strerror(errno));
        else if (st.st_uid != 0 && st.st_uid != geteuid())
                r = apid__fail(APID_EPERM, 0, "profile root %s: owned by uid %u; it must belong to root", root,
                               (unsigned)st.st_uid);
        else if (st.st_mode & 022)
                r = apid__fail(APID_EPERM, 0, "profile root %s: mode %04o lets group or others write it; chmod go-w %s",
                               root, (unsigned)(st.st_mode & 07777), root);
        else
                return APID_OK;
        close(*fd);
        *fd = -1;
        return r;
}

static int check_user(const char *user)
{
        char q[160];

        if (apid__posix_name_valid(user))
                return APID_OK;
        apid__quote(q, sizeof(q), user, 64);
        return apid__fail(APID_EINVAL, 0, "profile of user '%s': not a valid user name", q);
}

/* Give dir (opened, owned by root or already by uid) to uid:gid, 0700. */
static int give(int fd, const char *path, uint32_t uid, uint32_t gid)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
        /* A directory left by an earlier pool with the same identity is reused;
         * one that belongs to somebody else is not taken over. */
        if (st.st_uid != uid && st.st_uid != 0)
                return apid__fail(APID_EEXISTS, 0, "profile directory %s: exists and belongs to uid %u, not %u", path,
                                  (unsigned)st.st_uid, uid);
        if (st.st_uid == uid && st.st_gid == gid && (st.st_mode & 07777) == 0700)
                return APID_OK;
        if (fchown(fd, (uid_t)uid, (gid_t)gid) < 0 || fchmod(fd, 0700) < 0)
                return apid__fail(errno == EPERM ? APID_EPERM : APID_ESYS, errno,
                                  "profile directory %s: cannot give it to uid %u: %s", path, uid, strerror(errno));
        return APID_OK;
}

int apid__profile_create(const char *root, const char *user, uint32_t uid, uint32_t gid)
{
        _cleanup_free_ char *path = NULL;
        int rootfd = -1, fd, tmp, r;

        r = check_user(user);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/%s", root, user) < 0) {
                path = NULL;
                return apid__fail_oom();
        }
        r = make_root(root);
        if (r == APID_OK)
                r = open_root(root, &rootfd);
        if (r < 0)
                return r;
        if (mkdirat(rootfd, user, 0700) < 0 && errno != EEXIST) {
                r = apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
                close(rootfd);
                return r;
        }
        fd = open_beneath(rootfd, user, O_RDONLY | O_DIRECTORY);
        close(rootfd);
        if (fd < 0)
                return apid__fail(APID_ESYS, errno, "profile directory %s: %s", path,
                                  errno == ELOOP || errno == ENOTDIR ? "exists and is not a directory" : strerror(errno));
        r = give(fd, path, uid, gid);
        /* TMPDIR points here: made with the profile, made again when missing
         * (the pool may remove it; the next change of the pool repairs it).
         * Whatever else the pool put under that name is left alone. */
        if (r == APID_OK && mkdirat(fd, "tmp", 0700) == 0) {
                tmp = open_beneath(fd, "tmp", O_RDONLY | O_DIRECTORY);
                if (tmp < 0)
                        r = apid__fail(APID_ESYS, errno, "profile directory %s/tmp: %s", path, strerror(errno));
                else
                        r = give(tmp, path, uid, gid);
                if (tmp >= 0)
                        close(tmp);
        } else if (r == APID_OK && errno != EEXIST) {
                r = apid__fail(APID_ESYS, errno, "profile directory %s/tmp: %s", path, strerror(errno));
        }
        close(fd);
        return r;
}

/* One pass over the directory cur: unlink every entry that is not a
 * directory (links included: unlinking a link never touches its target).
 * *sub receives the name of a subdirectory (malloc'd), or stays NULL when
 * cur is now empty. */
static int clear_files(int cur, const char *path, char **sub)
{
        struct dirent *e;
        DIR *d;
        int fd, r = APID_OK;

        *sub = NULL;
        fd = openat(cur, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                r = apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return r;
        }
        while ((errno = 0, e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (unlinkat(cur, e->d_name, 0) == 0 || errno == ENOENT)
                        continue;
                if (errno == EISDIR || errno == EPERM) {
                        *sub = strdup(e->d_name);
                        if (!*sub)
                                r = apid__fail_oom();
                        break;
                }
                r = apid__fail(APID_ESYS, errno, "profile directory %s: cannot remove %s: %s", path, e->d_name,
                               strerror(errno));
                break;
        }
        if (r == APID_OK && !*sub && errno)
                r = apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
        closedir(d);
        return r;
}

struct level {
        char *name; /* in its parent */
        dev_t dev;
        ino_t ino;
};

/* Empty the directory top, of any depth, without recursion: a heap stack of
 * the names and inode numbers of the directories we are inside, and one
 * descriptor at a time. Going back up opens ".." and checks that it is the
 * directory we came from; if the pool moved something, start again from
 * top (which the pool cannot move: its parent is root's). Never leaves the
 * file system of top. */
static int remove_tree(int top, const char *path)
{
        struct level *stack = NULL;
        size_t depth = 0, cap = 0;
        unsigned restarts = 0;
        struct stat st, tst;
        int cur, r = APID_OK;

        if (fstat(top, &tst) < 0)
                return apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
        cur = fcntl(top, F_DUPFD_CLOEXEC, 0);
        if (cur < 0)
                return apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
        for (;;) {
                char *sub = NULL;
                int next, restart = 0;

                r = clear_files(cur, path, &sub);
                if (r < 0)
                        break;
                if (sub) {
                        next = open_beneath(cur, sub, O_RDONLY | O_DIRECTORY);
                        if (next < 0 && (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)) {
                                free(sub); /* replaced meanwhile: the next pass sees what it is now */
                                if (++restarts > MAX_RESTARTS)
                                        goto busy;
                                continue;
                        }
                        if (next < 0 || fstat(next, &st) < 0) {
                                r = apid__fail(APID_ESYS, errno, "profile directory %s: cannot open %s: %s", path, sub,
                                               strerror(errno));
                                free(sub);
                                if (next >= 0)
                                        close(next);
                                break;
                        }
                        if (st.st_dev != tst.st_dev) {
                                r = apid__fail(APID_EBUSY, 0, "profile directory %s: %s is a mount point", path, sub);
                                free(sub);
                                close(next);
                                break;
                        }
                        if (depth == cap) {
                                struct level *grown = realloc(stack, (cap ? cap * 2 : 64) * sizeof(*stack));

                                if (!grown) {
                                        r = apid__fail_oom();
                                        free(sub);
                                        close(next);
                                        break;
                                }
                                stack = grown;
                                cap = cap ? cap * 2 : 64;
                        }
                        stack[depth++] = (struct level){ sub, st.st_dev, st.st_ino };
                        close(cur);
                        cur = next;
                        continue;
                }
                if (depth == 0)
                        break; /* top is empty */
                /* cur is empty: up one level, checked, and remove it there. */
                next = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0 || fstat(next, &st) < 0)
                        restart = 1;
                else if (depth >= 2 ? st.st_dev != stack[depth - 2].dev || st.st_ino != stack[depth - 2].ino
                                    : st.st_dev != tst.st_dev || st.st_ino != tst.st_ino)
                        restart = 1;
                if (restart) {
                        if (next >= 0)
                                close(next);
                        while (depth)
                                free(stack[--depth].name);
                        close(cur);
                        cur = fcntl(top, F_DUPFD_CLOEXEC, 0);
                        if (cur < 0) {
                                r = apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
                                break;
                        }
                        if (++restarts > MAX_RESTARTS)
                                goto busy;
                        continue;
                }
                /* The name may meanwhile be another (empty) directory or a
                 * link: rmdir never follows it, and the next pass sees it. */
                if (unlinkat(next, stack[depth - 1].name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
                        if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR) {
                                r = apid__fail(APID_ESYS, errno, "profile directory %s: cannot remove %s: %s", path,
                                               stack[depth - 1].name, strerror(errno));
                                close(next);
                                break;
                        }
                        if (++restarts > MAX_RESTARTS) {
                                close(next);
                                goto busy;
                        }
                }
                free(stack[--depth].name);
                close(cur);
                cur = next;
        }
        goto out;
busy:
        r = apid__fail(APID_EBUSY, 0,
                       "profile directory %s: keeps changing while it is removed; stop the pool's processes first",
                       path);
out:
        while (depth)
                free(stack[--depth].name);
        free(stack);
        if (cur >= 0)
                close(cur);
        return r;
}

int apid__profile_remove(const char *root, const char *user)
{
        _cleanup_free_ char *path = NULL;
        int rootfd, fd, r;

        r = check_user(user);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/%s", root, user) < 0) {
                path = NULL;
                return apid__fail_oom();
        }
        r = open_root(root, &rootfd);
        if (r < 0)
                return apid_error_status() == APID_ESYS && apid_error_errno() == ENOENT ? APID_OK : r;
        fd = open_beneath(rootfd, user, O_RDONLY | O_DIRECTORY);
        if (fd < 0) {
                r = errno == ENOENT ? APID_OK
                                    : apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
                close(rootfd);
                return r;
        }
        r = remove_tree(fd, path);
        close(fd);
        if (r == APID_OK && unlinkat(rootfd, user, AT_REMOVEDIR) < 0 && errno != ENOENT)
                r = apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
        close(rootfd);
        return r;
}
