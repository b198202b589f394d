/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Run a program as if the kernel had no openat2 (Linux < 5.6): a seccomp
 * filter answers ENOSYS to it, so the example worker's fallback (a walk one
 * component at a time with O_NOFOLLOW) is what the host test exercises.
 * Usage: no-openat2 PROGRAM [ARG...] */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        scmp_filter_ctx ctx;

        if (argc < 2) {
                fprintf(stderr, "usage: no-openat2 PROGRAM [ARG...]\n");
                return 2;
        }
        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) < 0 || seccomp_load(ctx) < 0) {
                fprintf(stderr, "no-openat2: cannot load the filter\n");
                return 1;
        }
        seccomp_release(ctx);
        execv(argv[1], argv + 1);
        fprintf(stderr, "no-openat2: %s: %s\n", argv[1], strerror(errno));
        return 127;
}
