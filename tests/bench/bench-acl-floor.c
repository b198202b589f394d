/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The physical floor of a recursive ACL apply (issue 16): a walk that only
 * writes a fixed ACL blob to every path, nothing read, nothing computed.
 * The blobs are copied from a reference file and directory (e.g. what a
 * first apply wrote). Each path costs one setxattrat() (Linux 6.13), or, with
 * --fd, openat + fsetxattr + close (as on older kernels); directories get the
 * default ACL too. THREADS threads share the top-level directories, as
 * apppoolctl's walk does.
 * With --read, the floor of a re-apply instead: each path's ACLs are read
 * (one getxattrat() each, nothing written) and compared with the blobs, the
 * least a re-apply must do to know that nothing needs a write. A path whose
 * ACL differs is counted as an error.
 * Usage: bench-acl-floor [--fd | --read] REF_FILE REF_DIR TREE [THREADS] */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_setxattrat
#define __NR_setxattrat 463
#endif
#ifndef __NR_getxattrat
#define __NR_getxattrat 464
#endif

struct xattr_args {
        uint64_t value;
        uint32_t size;
        uint32_t flags;
};

static char facc[512], dacc[512], ddef[512];
static ssize_t nfacc, ndacc, nddef;
static int use_fd, use_read;
static int rootfd;
static char **tops;
static size_t ntops, next_top;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long paths, errors;

static int put(int dirfd, const char *name, const char *attr, const char *blob, ssize_t len)
{
        if (use_read) {
                char got[512];
                struct xattr_args a = { (uint64_t)(uintptr_t)got, (uint32_t)sizeof(got), 0 };
                long n = syscall(__NR_getxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, attr, &a, sizeof(a));

                return n == len && memcmp(got, blob, (size_t)len) == 0 ? 0 : -1;
        }
        if (!use_fd) {
                struct xattr_args a = { (uint64_t)(uintptr_t)blob, (uint32_t)len, 0 };

                return (int)syscall(__NR_setxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, attr, &a, sizeof(a));
        } else {
                int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK), r;

                if (fd < 0)
                        return -1;
                r = fsetxattr(fd, attr, blob, (size_t)len, 0);
                close(fd);
                return r;
        }
}

static void one(int dirfd, const char *name, int is_dir, unsigned long *n, unsigned long *err)
{
        (*n)++;
        if (is_dir ? put(dirfd, name, "system.posix_acl_access", dacc, ndacc) < 0 ||
                             put(dirfd, name, "system.posix_acl_default", ddef, nddef) < 0
                   : put(dirfd, name, "system.posix_acl_access", facc, nfacc) < 0)
                (*err)++;
}

static void walk(int dfd, unsigned long *n, unsigned long *err)
{
        DIR *d = fdopendir(dfd);
        struct dirent *de;

        if (!d) {
                close(dfd);
                (*err)++;
                return;
        }
        while ((de = readdir(d))) {
                int sub;

                if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
                        continue;
                if (de->d_type != DT_DIR && de->d_type != DT_REG)
                        continue;
                one(dirfd(d), de->d_name, de->d_type == DT_DIR, n, err);
                if (de->d_type == DT_DIR &&
                    (sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
                        walk(sub, n, err);
        }
        closedir(d);
}

static void *worker(void *unused)
{
        unsigned long n = 0, err = 0;

        (void)unused;
        for (;;) {
                const char *name;
                int sub;

                pthread_mutex_lock(&lock);
                name = next_top < ntops ? tops[next_top++] : NULL;
                pthread_mutex_unlock(&lock);
                if (!name)
                        break;
                one(rootfd, name, 1, &n, &err);
                sub = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                        walk(sub, &n, &err);
        }
        pthread_mutex_lock(&lock);
        paths += n;
        errors += err;
        pthread_mutex_unlock(&lock);
        return NULL;
}

int main(int argc, char **argv)
{
        struct timespec t0, t1;
        pthread_t t[16];
        struct dirent *de;
        unsigned long n = 0, err = 0;
        int i, threads;
        DIR *d;

        if (argc > 1 && strcmp(argv[1], "--fd") == 0) {
                use_fd = 1;
                argv++, argc--;
        } else if (argc > 1 && strcmp(argv[1], "--read") == 0) {
                use_read = 1;
                argv++, argc--;
        }
        if (argc < 4) {
                fprintf(stderr, "usage: bench-acl-floor [--fd | --read] REF_FILE REF_DIR TREE [THREADS]\n");
                return 2;
        }
        threads = argc > 4 ? atoi(argv[4]) : 2;
        if (threads < 1 || threads > 16)
                threads = 2;
        nfacc = getxattr(argv[1], "system.posix_acl_access", facc, sizeof(facc));
        ndacc = getxattr(argv[2], "system.posix_acl_access", dacc, sizeof(dacc));
        nddef = getxattr(argv[2], "system.posix_acl_default", ddef, sizeof(ddef));
        if (nfacc <= 0 || ndacc <= 0 || nddef <= 0) {
                fprintf(stderr, "bench-acl-floor: the references need an access ACL (and the directory a default one)\n");
                return 2;
        }
        rootfd = open(argv[3], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0 || !(d = fdopendir(dup(rootfd)))) {
                perror(argv[3]);
                return 2;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        one(AT_FDCWD, argv[3], 1, &n, &err);
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
                        continue;
                if (de->d_type == DT_REG) {
                        one(rootfd, de->d_name, 0, &n, &err);
                } else if (de->d_type == DT_DIR) {
                        char **grown = realloc(tops, (ntops + 1) * sizeof(*tops));

                        if (!grown || !(grown[ntops] = strdup(de->d_name)))
                                return 3;
                        tops = grown;
                        ntops++;
                }
        }
        closedir(d);
        for (i = 0; i < threads; i++)
                pthread_create(&t[i], NULL, worker, NULL);
        for (i = 0; i < threads; i++)
                pthread_join(t[i], NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        paths += n;
        errors += err;
        printf("%lu paths, %lu errors, %.3f s (%s, %d threads)\n", paths, errors,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
               use_read ? "getxattrat, compare" : use_fd ? "openat+fsetxattr" : "setxattrat", threads);
        for (size_t k = 0; k < ntops; k++)
                free(tops[k]);
        free(tops);
        close(rootfd);
        return errors ? 1 : 0;
}
