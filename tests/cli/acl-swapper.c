/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rename-swap attack on a recursive grant (issue 16): as the pool
 * (UID:GID, no supplementary groups), swap the names of PAIRS inside a tree
 * with renameat2(RENAME_EXCHANGE) (files, directories and symbolic links to
 * outside the tree, in every combination) until SIGTERM, then print how many
 * swaps were made. "ready" is printed after the first round, so the caller
 * starts its runs while the swaps are going on.
 * Usage: acl-swapper UID GID DIR A1 B1 [A2 B2 ...]   (names relative to DIR) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t done;

static void on_term(int sig)
{
        (void)sig;
        done = 1;
}

int main(int argc, char **argv)
{
        unsigned long long swaps = 0, failed = 0;
        uid_t uid;
        gid_t gid;
        int dfd, pairs, i;

        if (argc < 6 || (argc - 4) % 2 != 0) {
                fprintf(stderr, "usage: %s UID GID DIR A1 B1 [A2 B2 ...]\n", argv[0]);
                return 2;
        }
        uid = (uid_t)strtoul(argv[1], NULL, 10);
        gid = (gid_t)strtoul(argv[2], NULL, 10);
        dfd = open(argv[3], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
                perror("acl-swapper: setup");
                return 1;
        }
        signal(SIGTERM, on_term);
        pairs = (argc - 4) / 2;
        for (i = 0; !done; i = (i + 1) % pairs) {
                if (syscall(SYS_renameat2, dfd, argv[4 + 2 * i], dfd, argv[5 + 2 * i], RENAME_EXCHANGE) == 0)
                        swaps++;
                else
                        failed++;
                if (swaps + failed == (unsigned long long)pairs) {
                        printf("ready\n");
                        fflush(stdout);
                }
        }
        printf("%llu swaps, %llu failed\n", swaps, failed);
        return 0;
}
