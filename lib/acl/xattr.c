/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel's ACL bytes: read and written relative to a directory
 * (getxattrat/setxattrat, Linux 6.13; on older kernels through /proc/self/fd
 * of an O_PATH descriptor) or through a descriptor that pins one file.
 *
 * The system.posix_acl_* xattr value: a little-endian u32 version (2), then
 * entries of (u16 tag, u16 perm, u32 id), sorted by tag then id. Reading and
 * writing these bytes through one descriptor pins the file, and computing
 * from the bytes themselves makes the edit's cache exact: the same input
 * bytes always give the same output bytes. libacl does all the ACL
 * semantics (compute.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <acl/libacl.h>
#include <sys/acl.h>

#include "internal.h"
#include "acl-internal.h"

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

#define XATTR_VERSION 2u

static uint32_t le32(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

acl_t apid__acl_from_blob(const struct apid__blob *b)
{
        acl_t acl;
        size_t off;

        if (b->len < 4 || (b->len - 4) % 8 != 0 || le32(b->data) != XATTR_VERSION)
                return NULL;
        acl = acl_init((int)((b->len - 4) / 8));
        for (off = 4; acl && off < (size_t)b->len; off += 8) {
                unsigned tag = (unsigned)b->data[off] | (unsigned)b->data[off + 1] << 8;
                unsigned perm = (unsigned)b->data[off + 2] | (unsigned)b->data[off + 3] << 8;
                uint32_t id = le32(b->data + off + 4);

                if ((tag != ACL_USER_OBJ && tag != ACL_USER && tag != ACL_GROUP_OBJ && tag != ACL_GROUP &&
                     tag != ACL_MASK && tag != ACL_OTHER) ||
                    perm > 7 || apid__acl_entry_add(&acl, (acl_tag_t)tag, id, perm) < 0) {
                        acl_free(acl);
                        return NULL;
                }
        }
        return acl;
}

/* The kernel's order: by tag, then by id (records compared in place). */
static int record_cmp(const void *a, const void *b)
{
        const unsigned char *x = a, *y = b;
        unsigned tx = (unsigned)x[0] | (unsigned)x[1] << 8, ty = (unsigned)y[0] | (unsigned)y[1] << 8;
        uint32_t ix = le32(x + 4), iy = le32(y + 4);

        if (tx != ty)
                return tx < ty ? -1 : 1;
        return (ix > iy) - (ix < iy);
}

int apid__blob_from_acl(acl_t acl, struct apid__blob *b)
{
        acl_entry_t en;
        size_t off = 4;
        int w;

        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;
                uint32_t id = (uint32_t)-1; /* ACL_UNDEFINED_ID */
                unsigned perm;

                if (off + 8 > sizeof(b->data) || acl_get_tag_type(en, &t) < 0)
                        return -1;
                perm = apid__acl_entry_bits(en);
                if (t == ACL_USER || t == ACL_GROUP) {
                        id_t *q = acl_get_qualifier(en);

                        if (!q)
                                return -1;
                        id = (uint32_t)*q;
                        acl_free(q);
                }
                b->data[off] = (unsigned char)t;
                b->data[off + 1] = (unsigned char)((unsigned)t >> 8);
                b->data[off + 2] = (unsigned char)perm;
                b->data[off + 3] = 0;
                b->data[off + 4] = (unsigned char)id;
                b->data[off + 5] = (unsigned char)(id >> 8);
                b->data[off + 6] = (unsigned char)(id >> 16);
                b->data[off + 7] = (unsigned char)(id >> 24);
                off += 8;
        }
        qsort(b->data + 4, (off - 4) / 8, 8, record_cmp);
        b->data[0] = XATTR_VERSION;
        b->data[1] = b->data[2] = b->data[3] = 0;
        b->len = (ssize_t)off;
        return 0;
}

int apid__blob_eq(const struct apid__blob *a, const struct apid__blob *b)
{
        return a->len == b->len && (a->len <= 0 || memcmp(a->data, b->data, (size_t)a->len) == 0);
}

int apid__pin(int dirfd, const char *name, struct apid__pinned *p)
{
        /* O_RDONLY | O_NONBLOCK on what readdir() said is a file or a
         * directory: no symlink is followed, a FIFO swapped in does not
         * block (and fstat() then shows it); without read permission, an
         * O_PATH descriptor and /proc/self/fd. */
        p->use_proc = 0;
        p->fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (p->fd < 0 && (errno == EACCES || errno == EPERM)) {
                p->fd = apid__open_nofollow(dirfd, name, 0);
                p->use_proc = 1;
        }
        if (p->fd < 0)
                return -1;
        snprintf(p->proc, sizeof(p->proc), "/proc/self/fd/%d", p->fd);
        if (fstat(p->fd, &p->st) < 0) {
                int err = errno;

                close(p->fd);
                p->fd = -1;
                errno = err;
                return -1;
        }
        return 0;
}

int apid__blob_read(const struct apid__pinned *p, const char *attr, struct apid__blob *b)
{
        b->len = p->use_proc ? getxattr(p->proc, attr, b->data, sizeof(b->data))
                             : fgetxattr(p->fd, attr, b->data, sizeof(b->data));
        if (b->len >= 0)
                return 0;
        if (errno == ENODATA) {
                b->len = APID__BLOB_NONE;
                return 0;
        }
        if (errno == ERANGE) {
                b->len = APID__BLOB_TOO_BIG;
                return 0;
        }
        return -1;
}

int apid__blob_write(const struct apid__pinned *p, const char *attr, const struct apid__blob *b)
{
        if (b->len == APID__BLOB_NONE) {
                int r = p->use_proc ? removexattr(p->proc, attr) : fremovexattr(p->fd, attr);

                return r < 0 && errno == ENODATA ? 0 : r;
        }
        return p->use_proc ? setxattr(p->proc, attr, b->data, (size_t)b->len, 0)
                           : fsetxattr(p->fd, attr, b->data, (size_t)b->len, 0);
}
