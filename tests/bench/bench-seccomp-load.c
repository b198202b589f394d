/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark (not a test): what loading a seccomp filter costs against the
 * filter's shape. Each load is made by a fresh fork()ed child (a filter
 * stays on its task), timed around the seccomp() call alone, and the whole
 * fork + load + exit + reap too (the filter is freed when the child exits).
 * Programs: the library's default (the build's program, a binary search,
 * and what apid__filter_build() hands out), a one-instruction "allow
 * everything", the architecture check and "allow", and chains of N
 * comparisons. The kernel checks each, converts it to eBPF, JIT-compiles it
 * and emulates it once per system call number for its cache of
 * always-allowed calls (kernel/seccomp.c seccomp_cache_prepare()); the same
 * programs behind one load of an argument (which ends that emulation at its
 * first instruction) tell the emulation's share from the rest. Run as root, children drop to nobody with
 * no_new_privs first, as a launch does.
 * Usage: bench-seccomp-load [LOADS] */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <seccomp.h>

#include "filter.h"

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

/* One child: drop to nobody, NNP, load, report the load's ns through the pipe. */
static void one(const struct sock_filter *p, size_t n, uint64_t *load, uint64_t *whole)
{
        int fd[2], status = -1;
        uint64_t t0 = now_ns(), t = 0;
        pid_t pid;

        if (pipe(fd) < 0 || (pid = fork()) < 0)
                exit(1);
        if (pid == 0) {
                struct sock_fprog prog = { (unsigned short)n, (struct sock_filter *)p };
                uint64_t a, b;

                if (syscall(SYS_setresuid, 65534, 65534, 65534) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(2);
                a = now_ns();
                if (n && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                        _exit(3);
                b = now_ns();
                t = b - a;
                if (write(fd[1], &t, sizeof(t)) != sizeof(t))
                        _exit(4);
                _exit(0);
        }
        close(fd[1]);
        if (read(fd[0], &t, sizeof(t)) != sizeof(t) || waitpid(pid, &status, 0) != pid || status != 0) {
                fprintf(stderr, "child failed: %d\n", status);
                exit(1);
        }
        close(fd[0]);
        *load = t;
        *whole = now_ns() - t0;
}

struct prog {
        const char *name;
        struct sock_filter *p;
        size_t n;
};

/* arch check, load nr, N x (jeq i -> allow), ret errno(ENOSYS), ret allow. */
static struct prog chain(size_t n, const char *name)
{
        struct sock_filter *p = calloc(n + 6, sizeof(*p));
        size_t i, k = 0;

        p[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
        p[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
        p[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
        p[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
        for (i = 0; i < n; i++) /* jump to the final allow */
                p[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)i, (uint8_t)(n - i), 0);
        p[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW); /* the child must exit */
        p[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        p[1].k = seccomp_arch_native();
        return (struct prog){ name, p, k };
}

static struct prog prefixed(const struct sock_filter *p, size_t n, const char *name)
{
        struct sock_filter *q = calloc(n + 1, sizeof(*q));

        q[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args));
        memcpy(q + 1, p, n * sizeof(*p));
        return (struct prog){ name, q, n + 1 };
}

int main(int argc, char **argv)
{
        int loads = argc > 1 ? atoi(argv[1]) : 300, i, j;
        static struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
        struct sock_filter arch_allow[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        arch_allow[1].k = seccomp_arch_native();
        struct prog progs[16];
        size_t np = 0;
        const struct sock_filter *pre;
        size_t npre;
        struct sock_filter *full = NULL;
        size_t nfull = 0;
        uint64_t *l = calloc((size_t)loads, sizeof(uint64_t)), *w = calloc((size_t)loads, sizeof(uint64_t));

        if (geteuid() != 0 || !l || !w) {
                fprintf(stderr, "bench-seccomp-load needs root\n");
                return 1;
        }
        progs[np++] = (struct prog){ "no filter (fork, exit)", NULL, 0 };
        progs[np++] = (struct prog){ "ret allow", allow, 1 };
        progs[np++] = (struct prog){ "arch check, ret allow", arch_allow, 4 };
        if (apid__filter_prebuilt(&pre, &npre))
                progs[np++] = (struct prog){ "default (prebuilt, compacted)", (struct sock_filter *)pre, npre };
        if (apid__filter_build(NULL, 0, &full, &nfull) == 0)
                progs[np++] = (struct prog){ "default (as the library builds it)", full, nfull };
        progs[np++] = chain(60, "chain of 60 jeq");
        progs[np++] = chain(125, "chain of 125 jeq");
        progs[np++] = chain(250, "chain of 250 jeq");
        /* The same programs behind a load of an argument, which stops the
         * kernel's emulation at once (same answers: the program's first
         * instruction loads again): what the action cache costs. */
        if (apid__filter_prebuilt(&pre, &npre))
                progs[np++] = prefixed(pre, npre, "default, emulation stopped at once");
        progs[np] = chain(125, "");
        progs[np] = prefixed(progs[np].p, progs[np].n, "chain of 125, emulation stopped");
        np++;
        printf("%d loads each; us: load (p10 / median), fork+load+exit+reap (p10 / median)\n", loads);
        for (j = 0; j < (int)np; j++) {
                for (i = 0; i < loads; i++)
                        one(progs[j].p, progs[j].n, &l[i], &w[i]);
                qsort(l, (size_t)loads, sizeof(*l), cmp_u64);
                qsort(w, (size_t)loads, sizeof(*w), cmp_u64);
                printf("%-40s %4zu insns  load %6.1f / %6.1f   whole %6.1f / %6.1f\n", progs[j].name, progs[j].n,
                       l[loads / 10] / 1e3, l[loads / 2] / 1e3, w[loads / 10] / 1e3, w[loads / 2] / 1e3);
        }
        return 0;
}
