/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Files written whole or not at all; files a caller names read only when
 * they are regular files. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "regular.h"

int apid__write_atomic(const char *path, const char *what, mode_t mode, int (*fill)(FILE *f, void *arg), void *arg)
{
        _cleanup_free_ char *tmp = NULL;
        FILE *f;
        int fd, r;

        if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
                tmp = NULL;
                return apid__fail_oom();
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return apid__fail(APID_ESYS, errno, "%s %s: %s", what, path, strerror(errno));
        f = fdopen(fd, "w");
        if (!f) {
                r = apid__fail(APID_ESYS, errno, "%s %s: %s", what, path, strerror(errno));
                close(fd);
                unlink(tmp);
                return r;
        }
        r = fchmod(fd, mode) < 0 ? apid__fail(APID_ESYS, errno, "%s %s: %s", what, tmp, strerror(errno))
                                 : fill(f, arg);
        if (r == APID_OK && (fflush(f) != 0 || fsync(fd) != 0))
                r = apid__fail(APID_ESYS, errno, "%s %s: %s", what, tmp, strerror(errno));
        if (fclose(f) != 0 && r == APID_OK)
                r = apid__fail(APID_ESYS, errno, "%s %s: %s", what, tmp, strerror(errno));
        if (r == APID_OK && rename(tmp, path) < 0)
                r = apid__fail(APID_ESYS, errno, "%s %s: %s", what, path, strerror(errno));
        if (r < 0)
                unlink(tmp);
        return r;
}

int apid__fopen_regular(const char *path, const char *what, int enoent_status, FILE **out)
{
        const char *kind;
        int fd = apid__open_regular(path, 0, &kind), e;

        if (fd < 0 && kind)
                return apid__fail(APID_EINVAL, 0, "%s %s: is %s, not a regular file", what, path, kind);
        if (fd < 0)
                return apid__fail(errno == ENOENT ? enoent_status : APID_ESYS, errno, "%s %s: %s", what, path,
                                  strerror(errno));
        *out = fdopen(fd, "r");
        if (!*out) {
                e = errno;
                close(fd);
                return e == ENOMEM ? apid__fail_oom() : apid__fail(APID_ESYS, e, "%s %s: %s", what, path, strerror(e));
        }
        return APID_OK;
}

static int write_all(int fd, const char *data, size_t size)
{
        while (size) {
                ssize_t n = write(fd, data, size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                data += n;
                size -= (size_t)n;
        }
        return 0;
}

int apid__write_temp_at(int dirfd, const char *name, mode_t mode, const void *data, size_t size)
{
        char proc[64];
        int fd, named = 0, e;

        fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
        if (fd < 0) {
                fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
                if (fd < 0)
                        return -1;
                named = 1;
        }
        /* the mode whatever the umask */
        if (fchmod(fd, mode) < 0 || write_all(fd, data, size) < 0 || fsync(fd) < 0)
                goto fail;
        if (!named) {
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) < 0)
                        goto fail;
        }
        close(fd);
        return 0;
fail:
        e = errno;
        close(fd);
        if (named)
                (void)unlinkat(dirfd, name, 0);
        errno = e;
        return -1;
}
