/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The launch settings file's publication (its format, builder and reader:
 * lib/launchsettings.c). The store publishes the bytes the builder made
 * inside the write transaction, after COMMIT, under the snapshot's lock
 * (nssfile.c); the builder is the pool layer's, which the store reaches
 * through a hook (it knows no pools). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define TEMP_FILE APID__LAUNCH_FILE ".tmp"

static apid__launch_builder builder; /* __atomic */

void apid__store_set_launch_builder(apid__launch_builder fn)
{
        __atomic_store_n(&builder, fn, __ATOMIC_RELEASE);
}

apid__launch_builder apid__store_launch_builder(void)
{
        return __atomic_load_n(&builder, __ATOMIC_ACQUIRE);
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

int apid__launch_publish(const char *dir, int dirfd, const char *data, size_t size)
{
        char proc[64];
        int fd, named = 0, e;

        (void)unlinkat(dirfd, TEMP_FILE, 0); /* a killed writer's, under the lock */
        fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0) {
                fd = openat(dirfd, TEMP_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        goto fail;
                named = 1;
        }
        /* root's alone: whoever writes, the file readers accept is root's */
        if (fchmod(fd, 0600) < 0 || write_all(fd, data, size) < 0 || fsync(fd) < 0)
                goto fail_fd;
        if (!named) {
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                if (linkat(AT_FDCWD, proc, dirfd, TEMP_FILE, AT_SYMLINK_FOLLOW) < 0)
                        goto fail_fd;
        }
        close(fd);
        fd = -1;
        if (renameat(dirfd, TEMP_FILE, dirfd, APID__LAUNCH_FILE) < 0)
                goto fail_fd;
        return APID_OK;
fail_fd:
        e = errno;
        if (fd >= 0)
                close(fd);
        (void)unlinkat(dirfd, TEMP_FILE, 0);
        errno = e;
fail:
        return apid__fail(APID_ESYS, errno, "launch settings %s/%s: %s", dir, APID__LAUNCH_FILE, strerror(errno));
}

