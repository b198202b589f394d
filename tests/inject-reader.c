/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The reader a pool's worker runs in tests/test-inject.c: open and read the
 * file named by argv[1]. Exit 0 if it could, 13 (EACCES) if the kernel
 * refused it, 100 + errno for anything else. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        char buf[64];
        int fd;

        if (argc != 2)
                return 99;
        fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == EACCES ? 13 : 100 + errno;
        if (read(fd, buf, sizeof(buf)) < 0)
                return errno == EACCES ? 13 : 100 + errno;
        close(fd);
        return 0;
}
