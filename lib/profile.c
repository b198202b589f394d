/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Profile directories: created 0700 and owned by the identity, removed
 * without ever following a symbolic link (the pool owns what is inside and
 * may have planted links or swapped directories). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* mkdir -p for the parents of a profile; they belong to root (0755). */
static int make_parents(const char *path)
{
        _cleanup_free_ char *copy = strdup(path);
        char *p;

        if (!copy)
                return apid__fail_oom();
        for (p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                        return apid__fail(APID_ESYS, errno, "profile directory %s: cannot create %s: %s", path, copy,
                                          strerror(errno));
                *p = '/';
        }
        return APID_OK;
}

static int open_parent(const char *path, const char **base)
{
        _cleanup_free_ char *dir = strdup(path);
        char *slash;
        int fd;

        if (!dir)
                return apid__fail_oom();
        slash = strrchr(dir, '/');
        if (!slash || !slash[1])
                return apid__fail(APID_EINVAL, 0, "profile directory %s: not an absolute path", path);
        *slash = '\0';
        *base = path + (slash - dir) + 1;
        fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return apid__fail(APID_ESYS, errno, "profile directory %s: cannot open %s: %s", path, dir,
                                  strerror(errno));
        return fd;
}

int apid__profile_create(const char *path, uint32_t uid, uint32_t gid)
{
        const char *base;
        struct stat st;
        int parent, fd, r;

        r = make_parents(path);
        if (r < 0)
                return r;
        parent = open_parent(path, &base);
        if (parent < 0)
                return parent;
        if (mkdirat(parent, base, 0700) < 0 && errno != EEXIST) {
                r = apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
                close(parent);
                return r;
        }
        fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(parent);
        if (fd < 0)
                return apid__fail(APID_ESYS, errno, "profile directory %s: %s", path,
                                  errno == ELOOP || errno == ENOTDIR ? "exists and is not a directory" : strerror(errno));
        if (fstat(fd, &st) < 0) {
                r = apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
                close(fd);
                return r;
        }
        /* A directory left by an earlier pool with the same identity is reused;
         * one that belongs to somebody else is not taken over. */
        if (st.st_uid != uid && st.st_uid != 0) {
                close(fd);
                return apid__fail(APID_EEXISTS, 0, "profile directory %s: exists and belongs to uid %u, not %u", path,
                                  (unsigned)st.st_uid, uid);
        }
        if (fchown(fd, (uid_t)uid, (gid_t)gid) < 0 || fchmod(fd, 0700) < 0) {
                r = apid__fail(errno == EPERM ? APID_EPERM : APID_ESYS, errno,
                               "profile directory %s: cannot give it to uid %u: %s", path, uid, strerror(errno));
                close(fd);
                return r;
        }
        close(fd);
        return APID_OK;
}

/* Remove everything below the directory dfd, then nothing else. */
static int remove_below(int dfd, const char *path, unsigned depth)
{
        DIR *d;
        struct dirent *e;
        int r = APID_OK;

        if (depth > 256)
                return apid__fail(APID_ERANGE, 0, "profile directory %s: nested more than 256 levels", path);
        d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
        }
        while (r == APID_OK && (errno = 0, e = readdir(d))) {
                int child;

                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (unlinkat(dirfd(d), e->d_name, 0) == 0)
                        continue;
                if (errno != EISDIR && errno != EPERM) {
                        r = apid__fail(APID_ESYS, errno, "profile directory %s: cannot remove %s: %s", path,
                                       e->d_name, strerror(errno));
                        break;
                }
                /* A directory: open it without following a link swapped in meanwhile. */
                child = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0) {
                        r = apid__fail(APID_ESYS, errno, "profile directory %s: cannot open %s: %s", path, e->d_name,
                                       strerror(errno));
                        break;
                }
                r = remove_below(child, path, depth + 1);
                if (r == APID_OK && unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0)
                        r = apid__fail(APID_ESYS, errno, "profile directory %s: cannot remove %s: %s", path,
                                       e->d_name, strerror(errno));
        }
        if (r == APID_OK && errno)
                r = apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
        closedir(d);
        return r;
}

int apid__profile_remove(const char *path)
{
        const char *base;
        int parent, fd, r;

        parent = open_parent(path, &base);
        if (parent < 0)
                return apid_error_status() == APID_ESYS && apid_error_errno() == ENOENT ? APID_OK : parent;
        fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                r = errno == ENOENT ? APID_OK
                                    : apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
                close(parent);
                return r;
        }
        r = remove_below(fd, path, 0);
        if (r == APID_OK && unlinkat(parent, base, AT_REMOVEDIR) < 0 && errno != ENOENT)
                r = apid__fail(APID_ESYS, errno, "profile directory %s: %s", path, strerror(errno));
        close(parent);
        return r;
}
