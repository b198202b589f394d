/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The launch settings file's publication (its format, builder and reader:
 * lib/launchsettings.c). The store publishes the bytes the builder made
 * inside the write transaction, after COMMIT, under the snapshot's lock
 * (nssfile.c); the builder is the pool layer's, which the store reaches
 * through a hook (it knows no pools). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

int apid__launch_publish(const char *dir, int dirfd, const char *data, size_t size)
{
        int e;

        (void)unlinkat(dirfd, TEMP_FILE, 0); /* a killed writer's, under the lock */
        /* root's alone (0600): whoever writes, the file readers accept is root's */
        if (apid__write_temp_at(dirfd, TEMP_FILE, 0600, data, size) < 0)
                goto fail;
        if (renameat(dirfd, TEMP_FILE, dirfd, APID__LAUNCH_FILE) < 0) {
                e = errno;
                (void)unlinkat(dirfd, TEMP_FILE, 0);
                errno = e;
                goto fail;
        }
        return APID_OK;
fail:
        return apid__fail(APID_ESYS, errno, "launch settings %s/%s: %s", dir, APID__LAUNCH_FILE, strerror(errno));
}

int apid__launch_pending_set(const char *dir, uint64_t generation)
{
        char text[24];
        int dirfd, n, e;

        n = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)generation);
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                goto fail;
        (void)unlinkat(dirfd, APID__LAUNCH_PENDING ".tmp", 0); /* a killed writer's */
        if (apid__write_temp_at(dirfd, APID__LAUNCH_PENDING ".tmp", 0600, text, (size_t)n) < 0)
                goto fail_dir;
        if (renameat(dirfd, APID__LAUNCH_PENDING ".tmp", dirfd, APID__LAUNCH_PENDING) < 0) {
                e = errno;
                (void)unlinkat(dirfd, APID__LAUNCH_PENDING ".tmp", 0);
                errno = e;
                goto fail_dir;
        }
        /* durable before the COMMIT it announces */
        if (fsync(dirfd) < 0)
                goto fail_dir;
        close(dirfd);
        return APID_OK;
fail_dir:
        e = errno;
        close(dirfd);
        errno = e;
fail:
        return apid__fail(APID_ESYS, errno, "launch settings %s/%s: %s", dir, APID__LAUNCH_PENDING,
                          strerror(errno));
}

uint64_t apid__launch_pending_get(const char *dir)
{
        char path[4200], text[24], *end;
        unsigned long long v;
        struct stat st;
        ssize_t n;
        int fd;

        if ((size_t)snprintf(path, sizeof(path), "%s/" APID__LAUNCH_PENDING, dir) >= sizeof(path))
                return 0;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return 0;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
                close(fd);
                return 0;
        }
        n = read(fd, text, sizeof(text) - 1);
        close(fd);
        if (n <= 1 || text[n - 1] != '\n')
                return 0;
        text[n - 1] = '\0';
        errno = 0;
        v = strtoull(text, &end, 10);
        if (errno || *end || text[0] < '1' || text[0] > '9')
                return 0;
        return (uint64_t)v;
}

int apid__launch_pending_reset(const char *dir, uint64_t generation)
{
        char path[4200];

        if (generation)
                return apid__launch_pending_set(dir, generation);
        if ((size_t)snprintf(path, sizeof(path), "%s/" APID__LAUNCH_PENDING, dir) >= sizeof(path) ||
            (unlink(path) < 0 && errno != ENOENT))
                return apid__fail(APID_ESYS, errno, "launch settings %s/%s: %s", dir, APID__LAUNCH_PENDING,
                                  strerror(errno));
        return APID_OK;
}
