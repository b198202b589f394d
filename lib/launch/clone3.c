/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* clone3() with CLONE_VM on a stack of our own, for CLONE_INTO_CGROUP: the
 * child is born in its cgroup (no moment in the launcher's, no write to
 * cgroup.procs), which plain clone() cannot do. glibc has no public clone3
 * wrapper, and a child on a new stack cannot return through syscall(), so the
 * call and the child's first instructions are written here per architecture,
 * the way glibc's own clone3.S and musl's clone.s do (read, not copied): the
 * kernel gives the child the new stack and otherwise the parent's registers,
 * so the function and its argument travel in callee-saved registers. On other
 * architectures apid__clone3_available() says no, and the launch joins the
 * cgroup v2 from the child, as it does the v1 hierarchies. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include "launch-internal.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* The kernel's struct clone_args up to cgroup (CLONE_ARGS_SIZE_VER2, 88 bytes). */
struct clone3_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
                cgroup;
};

#if defined(__x86_64__)
__attribute__((no_sanitize("address", "undefined"))) static long raw_clone3(struct clone3_args *args, size_t size,
                                                                            int (*fn)(void *), void *arg)
{
        register long r12 __asm__("r12") = (long)fn;
        register long r13 __asm__("r13") = (long)arg;
        long ret;

        __asm__ volatile("syscall\n\t"
                         "test %%rax, %%rax\n\t"
                         "jnz 1f\n\t"
                         /* The child: a fresh frame on the new stack; fn(arg); exit(its result). */
                         "xor %%ebp, %%ebp\n\t"
                         "and $-16, %%rsp\n\t"
                         "mov %%r13, %%rdi\n\t"
                         "call *%%r12\n\t"
                         "mov %%eax, %%edi\n\t"
                         "mov %[exit], %%eax\n\t"
                         "syscall\n\t"
                         "hlt\n"
                         "1:\n\t"
                         : "=a"(ret)
                         : "0"((long)SYS_clone3), "D"(args), "S"(size), "r"(r12), "r"(r13), [exit] "i"(SYS_exit)
                         : "rcx", "r11", "memory", "cc");
        return ret;
}
#define HAVE_RAW_CLONE3 1
#elif defined(__aarch64__)
__attribute__((no_sanitize("address", "undefined"))) static long raw_clone3(struct clone3_args *args, size_t size,
                                                                            int (*fn)(void *), void *arg)
{
        register long x0 __asm__("x0") = (long)args;
        register long x1 __asm__("x1") = (long)size;
        register long x8 __asm__("x8") = SYS_clone3;
        register long x19 __asm__("x19") = (long)fn;
        register long x20 __asm__("x20") = (long)arg;

        __asm__ volatile("svc #0\n\t"
                         "cbnz x0, 1f\n\t"
                         "mov x29, #0\n\t"
                         "mov x30, #0\n\t"
                         "mov x0, x20\n\t"
                         "blr x19\n\t"
                         "mov x8, %[exit]\n\t"
                         "svc #0\n\t"
                         "brk #0\n"
                         "1:\n\t"
                         : "+r"(x0)
                         : "r"(x1), "r"(x8), "r"(x19), "r"(x20), [exit] "i"(SYS_exit)
                         : "memory", "cc");
        return x0;
}
#define HAVE_RAW_CLONE3 1
#endif

int apid__clone3_available(void)
{
#ifdef HAVE_RAW_CLONE3
        return 1;
#else
        return 0;
#endif
}

pid_t apid__clone3_into_cgroup(int (*fn)(void *), void *arg, void *stack, size_t stack_size, int cgroup_fd,
                               int *pidfd, uint32_t *child_tid)
{
#ifdef HAVE_RAW_CLONE3
        struct clone3_args args;
        long r;

        memset(&args, 0, sizeof(args));
        args.flags = CLONE_VM | CLONE_PIDFD | CLONE_CHILD_CLEARTID | CLONE_INTO_CGROUP;
        args.pidfd = (uint64_t)(uintptr_t)pidfd;
        args.child_tid = (uint64_t)(uintptr_t)child_tid;
        args.exit_signal = SIGCHLD;
        args.stack = (uint64_t)(uintptr_t)stack;
        args.stack_size = stack_size;
        args.cgroup = (uint64_t)cgroup_fd;
        r = raw_clone3(&args, sizeof(args), fn, arg);
        if (r < 0) {
                errno = (int)-r;
                return -1;
        }
        return (pid_t)r;
#else
        (void)fn, (void)arg, (void)stack, (void)stack_size, (void)cgroup_fd, (void)pidfd, (void)child_tid;
        errno = ENOSYS;
        return -1;
#endif
}
