/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The launch child's steps (lib/launch/child.c) built for a 32-bit ABI and
 * run for real: tests/launch/child32.sh compiles this file and the library's
 * launch-child.c with -m32 (i386 on an x86-64 kernel: 4-byte long, and the
 * old 16-bit set*id calls beside the 32-bit ones) and runs it as root.
 *
 * What it proves: the child clears the signal mask with the kernel's sigset
 * size (_NSIG / 8 = 8 bytes; sizeof(unsigned long) would be 4 here, which the
 * kernel refuses with EINVAL, so every launch would fail at that step), and
 * sets a uid, gid and group above 65535 exactly (a 16-bit call would keep
 * only the low 16 bits: the worker would run as another user). The worker is
 * this program again (--report): it prints what it got. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch-internal.h"

#define ID 1900000123u /* above 65535 */

static int report(void)
{
        gid_t groups[8];
        char line[256];
        FILE *f = fopen("/proc/self/status", "re");
        int n = getgroups(8, groups), i;

        printf("uid %u %u\ngid %u %u\ngroups", (unsigned)getuid(), (unsigned)geteuid(), (unsigned)getgid(),
               (unsigned)getegid());
        for (i = 0; i < n; i++)
                printf(" %u", (unsigned)groups[i]);
        putchar('\n');
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "SigBlk:", 7) == 0)
                        fputs(line, stdout);
        return 0;
}

int main(int argc, char **argv)
{
        static const char expected[] = "uid 1900000123 1900000123\ngid 1900000123 1900000123\ngroups 1900000123\n"
                                       "SigBlk:\t0000000000000000\n";
        struct apid_token t;
        struct apid__plan p;
        char self[4096], out[1024] = "", *worker_argv[] = { self, (char *)"--report", NULL }, *env[] = { NULL };
        ssize_t n, got = 0;
        int out_pipe[2], status, i;
        sigset_t all;
        pid_t pid;
        FILE *f;

        if (argc > 1 && strcmp(argv[1], "--report") == 0)
                return report();
        if (sizeof(long) != 4) {
                fprintf(stderr, "child32: not built for a 4-byte long (sizeof(long) = %zu)\n", sizeof(long));
                return 1;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "SKIP: needs root\n");
                return 77;
        }
        memset(&t, 0, sizeof(t));
        t.uid = t.gid = ID;
        t.umask = 022;
        t.rlimits[0].resource = RLIMIT_NOFILE;
        t.rlimits[0].soft = 1024;
        t.rlimits[0].hard = 4096;
        t.n_rlimits = 1;
        memset(&p, 0, sizeof(p));
        p.token = &t;
        p.uid = p.gid = ID;
        p.groups[0] = ID;
        p.n_groups = 1;
        f = fopen("/proc/sys/kernel/cap_last_cap", "re");
        if (!f || fscanf(f, "%d", &p.last_cap) != 1)
                return 1;
        fclose(f);
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0)
                return 1;
        self[n] = '\0';
        p.parent = getpid();
        p.path = self;
        p.argv = worker_argv;
        p.envp = env;
        p.new_session = 1;
        p.cwd = "/";
        if (pipe2(out_pipe, O_CLOEXEC) < 0)
                return 1;
        for (i = 0; i < 3; i++) {
                p.fds[i].src = i == 1 ? out_pipe[1] : i;
                p.fds[i].dst = i;
        }
        p.n_fds = 3;
        p.max_dst = 2;
        /* As in a launch: every signal blocked; the child clears the mask. */
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        pid = fork();
        if (pid == 0) {
                apid__child_steps(&p, 1, 1);
                fprintf(stderr, "child32: step %d failed (arg %d): %s\n", p.failed_step, p.failed_arg,
                        strerror(p.failed_errno));
                _exit(100 + p.failed_step);
        }
        close(out_pipe[1]);
        while ((n = read(out_pipe[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
                got += n;
        out[got] = '\0';
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "child32: the launch failed (status %#x)\n", status);
                return 1;
        }
        if (strcmp(out, expected) != 0) {
                fprintf(stderr, "child32: the worker got\n%s\nexpected\n%s", out, expected);
                return 1;
        }
        printf("child32: a 32-bit launch cleared the mask and set ids above 65535\n");
        return 0;
}
