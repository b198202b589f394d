/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Files a user names are opened only when they are regular files.
 *
 * A FIFO given as an import file blocked apppoolctl for ever in open()
 * (open of a FIFO for reading waits for a writer), and a read from a device
 * or a socket can block too, or take what was meant for someone else. So:
 * open with O_NONBLOCK (a FIFO opens at once; O_NOCTTY: a terminal does not
 * become ours), fstat the descriptor, refuse what is not S_ISREG, and only
 * then clear O_NONBLOCK. The fstat of what was opened decides; the stat()
 * before the open only spares a device that is not being raced from being
 * opened at all (opening some has effects: a tape rewinds, a serial line
 * raises its modem lines). The same shape as systemd's
 * fd_verify_regular() after open, and OpenSSH's S_ISREG checks of
 * authorized_keys; written here from that idea, no code taken. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include "regular.h"

static const char *kind_of(mode_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFIFO: return "a FIFO";
        case S_IFSOCK: return "a socket";
        case S_IFCHR: return "a character device";
        case S_IFBLK: return "a block device";
        case S_IFDIR: return "a directory";
        case S_IFLNK: return "a symbolic link";
        default: return "of an unknown file type";
        }
}

static int refuse(mode_t mode, const char **kind)
{
        *kind = kind_of(mode);
        errno = EINVAL;
        return -1;
}

static int close_fail(int fd)
{
        int e = errno;

        close(fd);
        errno = e;
        return -1;
}

int apid__open_regular(const char *path, int flags, const char **kind)
{
        struct stat st;
        int fd, fl;

        *kind = NULL;
        if (fstatat(AT_FDCWD, path, &st, flags & O_NOFOLLOW ? AT_SYMLINK_NOFOLLOW : 0) < 0) {
                if (errno != ENOENT || !(flags & O_CREAT))
                        return -1;
        } else if (!S_ISREG(st.st_mode)) {
                return refuse(st.st_mode, kind);
        }
        /* O_NONBLOCK: a FIFO opened for writing with no reader fails
         * (ENXIO) rather than waiting for one. */
        fd = open(path, O_NONBLOCK | O_NOCTTY | O_CLOEXEC | flags, 0600);
        if (fd < 0)
                return -1;
        if (fstat(fd, &st) < 0 || (fl = fcntl(fd, F_GETFL)) < 0)
                return close_fail(fd);
        if (!S_ISREG(st.st_mode)) { /* swapped in after the stat() */
                close(fd);
                return refuse(st.st_mode, kind);
        }
        if (fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
                return close_fail(fd);
        return fd;
}
