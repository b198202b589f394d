/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening a file a user named, for reading, only when it is a regular file.
 * Self-contained (no library internals): lib/ uses it through
 * apid__fopen_regular() (internal.h), and the example programs compile
 * lib/util/regular.c into themselves, as they link only the public API. */
#ifndef APID_REGULAR_H
#define APID_REGULAR_H

/* Open path (O_CLOEXEC | O_NOCTTY | flags: O_RDONLY, or O_WRONLY | O_CREAT
 * | O_TRUNC for a file of ours, created mode 0600; O_NOFOLLOW, say) and
 * return the descriptor, in blocking mode, of a regular file. Anything
 * else is refused without blocking on it and without reading from it: -1,
 * with *kind set to what it is ("a FIFO", "a socket", "a character device",
 * "a block device", "a directory") and errno to EINVAL; a failed stat or
 * open gives -1 with *kind NULL and errno as the call set it. */
int apid__open_regular(const char *path, int flags, const char **kind);

#endif
