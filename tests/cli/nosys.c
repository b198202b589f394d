/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nosys: run a program with some system calls failing with ENOSYS, as on a
 * kernel that does not have them (for apppoolctl doctor's feature checks).
 * Usage: nosys SYSCALL... -- PROGRAM [ARGS...] */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <seccomp.h>

int main(int argc, char **argv)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int i;

        if (!ctx)
                return 126;
        for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
                int nr = seccomp_syscall_resolve_name(argv[i]);

                if (nr == __NR_SCMP_ERROR || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) < 0) {
                        fprintf(stderr, "nosys: %s: unknown system call\n", argv[i]);
                        return 126;
                }
        }
        if (i + 1 >= argc) {
                fprintf(stderr, "usage: nosys SYSCALL... -- PROGRAM [ARGS...]\n");
                return 126;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load(ctx) < 0) {
                perror("nosys: seccomp");
                return 126;
        }
        seccomp_release(ctx);
        execvp(argv[i + 1], argv + i + 1);
        fprintf(stderr, "nosys: %s: %s\n", argv[i + 1], strerror(errno));
        return 127;
}
