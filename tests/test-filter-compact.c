/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/launch/filter-compact.c against libseccomp: random rule sets (allowed,
 * refused with one errno or another, some by argument), compiled by
 * libseccomp, compacted, and both programs run by an interpreter of this
 * test's own on every system call number up to 1100, the x32 and high
 * ranges, sample arguments and a foreign architecture. Any difference
 * fails. Links the library's source file directly (the function is
 * internal). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/personality.h>

#include <cmocka.h>
#include <seccomp.h>

#include "filter.h"

/* A classic BPF interpreter for what seccomp programs use; -1 if it falls off. */
static int64_t run(const struct sock_filter *p, size_t n, const struct seccomp_data *d)
{
        uint32_t a = 0;
        size_t pc;

        for (pc = 0; pc < n; pc++) {
                const struct sock_filter *i = &p[pc];
                uint32_t cond;

                switch (BPF_CLASS(i->code)) {
                case BPF_LD:
                        if (i->k + 4 > sizeof(*d))
                                return -1;
                        memcpy(&a, (const char *)d + i->k, 4);
                        continue;
                case BPF_ALU:
                        if (BPF_OP(i->code) != BPF_AND)
                                return -1;
                        a &= i->k;
                        continue;
                case BPF_RET:
                        return i->k;
                case BPF_JMP:
                        break;
                default:
                        return -1;
                }
                switch (BPF_OP(i->code)) {
                case BPF_JA:
                        pc += i->k;
                        continue;
                case BPF_JEQ: cond = a == i->k; break;
                case BPF_JGT: cond = a > i->k; break;
                case BPF_JGE: cond = a >= i->k; break;
                case BPF_JSET: cond = (a & i->k) != 0; break;
                default: return -1;
                }
                pc += cond ? i->jt : i->jf;
        }
        return -1;
}

static struct sock_filter *export(scmp_filter_ctx sc, size_t *n)
{
        int fd = memfd_create("test", MFD_CLOEXEC);
        struct sock_filter *p;
        off_t size;

        assert_true(fd >= 0);
        assert_int_equal(seccomp_export_bpf(sc, fd), 0);
        size = lseek(fd, 0, SEEK_END);
        p = malloc((size_t)size);
        assert_non_null(p);
        assert_int_equal(pread(fd, p, (size_t)size, 0), size);
        close(fd);
        *n = (size_t)size / sizeof(*p);
        return p;
}

static void random_rule_sets(void **state)
{
        static const uint32_t actions[] = { SCMP_ACT_ALLOW, SCMP_ACT_ERRNO(EPERM), SCMP_ACT_ERRNO(ENOSYS),
                                            SCMP_ACT_ERRNO(EACCES), SCMP_ACT_KILL_PROCESS };
        static const uint64_t args[] = { 0, 1, 0x11, 0x10000011, 0xffffffff, ~(uint64_t)0, (uint64_t)1 << 32, 42,
                                         (uint64_t)1 << 32 | 42, 0x10, 0x30, 0x20000, (uint64_t)1 << 40, 0x4 };
        uint32_t arch = seccomp_arch_native();
        int seed, compacted = 0, smaller = 0;

        (void)state;
        for (seed = 1; seed <= 150; seed++) {
                scmp_filter_ctx sc;
                struct sock_filter *p, *q = NULL;
                unsigned char used[600] = { 0 };
                size_t n, m = 0, s;
                uint32_t def;
                int k, rules;

                srand((unsigned)seed);
                def = actions[rand() % 3];
                sc = seccomp_init(def);
                assert_non_null(sc);
                assert_int_equal(seccomp_attr_set(sc, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS), 0);
                assert_int_equal(seccomp_attr_set(sc, SCMP_FLTATR_CTL_OPTIMIZE, seed % 3 ? 2 : 1), 0);
                /* Runs of numbers with one action, as real lists have. */
                rules = 1 + rand() % 40;
                for (k = 0; k < rules; k++) {
                        int start = rand() % 460, len = 1 + rand() % 40, nr;
                        uint32_t act = actions[rand() % 5];

                        for (nr = start; nr < start + len && nr < 460; nr++) {
                                if (used[nr] || act == def)
                                        continue;
                                used[nr] = 1;
                                if (rand() % 16 == 0) {
                                        struct scmp_arg_cmp c = SCMP_CMP((unsigned)(rand() % 2), SCMP_CMP_MASKED_EQ,
                                                                         0x10000000, 0);

                                        assert_int_equal(seccomp_rule_add_exact_array(sc, act, nr, 1, &c), 0);
                                } else if (rand() % 16 == 0) {
                                        struct scmp_arg_cmp c = SCMP_CMP(0, SCMP_CMP_EQ, 0xffffffff, 0);

                                        assert_int_equal(seccomp_rule_add_exact_array(sc, act, nr, 1, &c), 0);
                                } else if (rand() % 16 == 0) {
                                        /* Several rules on one call, as clone's: single bits of either
                                         * word, several bits, and an exact 64-bit value. */
                                        const struct scmp_arg_cmp cs[] = {
                                                SCMP_A0(SCMP_CMP_MASKED_EQ, 0x20000, 0x20000),
                                                SCMP_A0(SCMP_CMP_MASKED_EQ, (uint64_t)1 << 40, (uint64_t)1 << 40),
                                                SCMP_A0(SCMP_CMP_MASKED_EQ, 0x30, 0x10),
                                                SCMP_A1(SCMP_CMP_MASKED_EQ, 0x4, 0x4),
                                                SCMP_A0(SCMP_CMP_EQ, (uint64_t)1 << 32 | 42, 0),
                                        };
                                        int c, rules_here = 1 + rand() % 4;

                                        for (c = 0; c < rules_here; c++)
                                                assert_true(seccomp_rule_add_exact_array(sc, actions[rand() % 5], nr, 1,
                                                                                         &cs[rand() % 5]) >= -EEXIST);
                                } else {
                                        assert_int_equal(seccomp_rule_add_exact(sc, act, nr, 0), 0);
                                }
                        }
                }
                p = export(sc, &n);
                if (apid__filter_compact(p, n, arch, &q, &m) == 0) {
                        uint32_t nr;

                        compacted++;
                        smaller += m < n;
                        assert_true(m < n);
                        for (nr = 0; nr < 1200; nr++)
                                for (s = 0; s <= sizeof(args) / sizeof(args[0]); s++) {
                                        struct seccomp_data d;
                                        uint32_t x = nr < 1100 ? nr : 0x3fffffffu + (nr - 1100) * 0x01000000u;

                                        memset(&d, 0, sizeof(d));
                                        d.nr = (int)x;
                                        d.arch = s < sizeof(args) / sizeof(args[0]) ? arch : ~arch;
                                        d.args[0] = d.args[1] = args[s % (sizeof(args) / sizeof(args[0]))];
                                        if (run(p, n, &d) != run(q, m, &d))
                                                fail_msg("seed %d: nr %#x arg %#llx: libseccomp %lld, compacted %lld",
                                                         seed, x, (unsigned long long)d.args[0],
                                                         (long long)run(p, n, &d), (long long)run(q, m, &d));
                                }
                        free(q);
                }
                free(p);
                seccomp_release(sc);
        }
        print_message("%d of 150 rule sets compacted (the rest were already as small)\n", compacted);
        /* Large sets are compacted: the point of the file. */
        assert_true(compacted >= 50);
        assert_int_equal(smaller, compacted);
}

/* The real allow-list: compacted, and much smaller. */
static void the_allow_list(void **state)
{
        struct sock_filter *p = NULL;
        size_t n = 0;

        (void)state;
        assert_int_equal(apid__filter_build(NULL, 0, &p, &n), 0);
        print_message("the allow-list: %zu instructions\n", n);
        assert_true(n > 20 && n < 300);
        free(p);
}

/* The program compiled at build time (lib/launch/filter-default.h (generated)) is byte for
 * byte what the run-time compiler makes of a default token now: a change
 * to filter.c, filter-compact.c or libseccomp that the build did not pick
 * up fails here. And it is what apid__filter_build() hands out. */
static void prebuilt_is_the_runtime_program(void **state)
{
        const struct sock_filter *pre = NULL;
        struct sock_filter *p = NULL, *q = NULL;
        size_t n_pre = 0, n = 0, m = 0;
        int compacted = 0;

        (void)state;
        if (!apid__filter_prebuilt(&pre, &n_pre)) {
#ifdef APID_EXPECT_PREBUILT
                fail_msg("no usable build-time program (architecture %#x)", seccomp_arch_native());
#else
                skip();
#endif
        }
        assert_int_equal(apid__filter_compile(NULL, 0, &p, &n, &compacted), 0);
        assert_true(compacted);
        print_message("build-time program: %zu instructions, run-time: %zu\n", n_pre, n);
        assert_int_equal(n, n_pre);
        assert_memory_equal(p, pre, n * sizeof(*p));
        assert_int_equal(apid__filter_hash(p, n), apid__filter_hash(pre, n_pre));
        assert_int_equal(apid__filter_build(NULL, 0, &q, &m), 0);
        assert_int_equal(m, n_pre);
        assert_memory_equal(q, pre, m * sizeof(*q));
        free(p);
        free(q);
}

/* The default allow-list as the library hands it out (and as the build
 * made it) answers as libseccomp's own program of the same rules, on every
 * system call number 0..1199, the x32 range and the top of the range, for
 * the native and a foreign architecture, with arguments: a few values,
 * every single bit and every value with one bit clear, every combination of
 * clone's namespace flags with other flags, and 2000 random values, in the
 * first and the second argument. */
static uint64_t default_sample(size_t s)
{
        static const uint64_t fixed[] = { 0, 0xffffffff, ~(uint64_t)0, (uint64_t)1 << 32, 0x11, PER_LINUX,
                                          0xffffffffu | (uint64_t)1 << 32, CLONE_VM | CLONE_FS | SIGCHLD };
        const size_t nf = sizeof(fixed) / sizeof(fixed[0]);
        static const uint64_t ns[] = { CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                                       CLONE_NEWNET, CLONE_NEWCGROUP };
        uint64_t v = 0;
        size_t b;

        if (s < nf)
                return fixed[s];
        s -= nf;
        if (s < 128)
                return (uint64_t)1 << (s % 64) ^ (s < 64 ? 0 : ~(uint64_t)0);
        s -= 128;
        if (s < 128) {
                for (b = 0; b < 7; b++)
                        if (s & (1u << b))
                                v |= ns[b];
                return v | CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | SIGCHLD;
        }
        return (uint64_t)rand() << 33 ^ (uint64_t)rand() << 11 ^ (uint64_t)rand();
}

static void default_list_answers_as_libseccomp(void **state)
{
        const struct sock_filter *pre = NULL;
        struct sock_filter *p = NULL, *q = NULL;
        size_t n = 0, m = 0, n_pre = 0, s, w, checked = 0;
        uint32_t arch = seccomp_arch_native(), nr, x;

        (void)state;
        srand(7);
        assert_int_equal(apid__filter_libseccomp(NULL, 0, &p, &n), 0);
        assert_int_equal(apid__filter_build(NULL, 0, &q, &m), 0);
        if (apid__filter_prebuilt(&pre, &n_pre)) {
                assert_int_equal(n_pre, m);
                assert_memory_equal(pre, q, m * sizeof(*q));
        }
        print_message("libseccomp: %zu instructions, the library's: %zu\n", n, m);
        assert_true(m < n);
        for (nr = 0; nr < 1200 + 600 + 16; nr++) {
                x = nr < 1200 ? nr : nr < 1800 ? 0x40000000u + (nr - 1200) : 0xfffffff0u + (nr - 1800);
                for (s = 0; s < 8 + 128 + 128 + 2000; s++)
                        for (w = 0; w < 3; w++) {
                                struct seccomp_data d;
                                uint64_t v = default_sample(s);

                                /* Beyond the calls with argument checks, fewer samples do. */
                                if (s >= 8 + 128 && x != SYS_clone && x != SYS_personality)
                                        break;
                                memset(&d, 0, sizeof(d));
                                d.nr = (int)x;
                                d.arch = w == 2 ? ~arch : arch;
                                d.args[w == 1] = v;
                                if (run(p, n, &d) != run(q, m, &d))
                                        fail_msg("nr %#x arg%d %#llx arch %#x: libseccomp %lld, the library's %lld", x,
                                                 w == 1, (unsigned long long)v, d.arch, (long long)run(p, n, &d),
                                                 (long long)run(q, m, &d));
                                checked++;
                        }
        }
        print_message("%zu inputs, same answers\n", checked);
        free(p);
        free(q);
}

/* Load prog in a child (no_new_privs, seccomp) and return the errno of
 * syscall(nr) there (0 when it succeeded), or minus the signal that killed
 * the child. */
static int errno_under(const struct sock_filter *prog, size_t n, long nr)
{
        struct sock_fprog fp = { .len = (unsigned short)n, .filter = (struct sock_filter *)prog };
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                long r;

                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
                    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) != 0)
                        _exit(254);
                r = syscall(nr, 0, 0, 0, 0, 0, 0);
                _exit(r < 0 ? (errno & 0x7f) : 0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status))
                return -WTERMSIG(status);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 254);
        return WEXITSTATUS(status);
}

/* A token with a deny name does not get the build's program: its own,
 * compiled at run time, in which the name fails with EPERM (seen in the
 * kernel), while under the default program the same call works. */
static void deny_names_compile_at_run_time(void **state)
{
        char *deny[] = { (char *)"getppid" };
        const struct sock_filter *pre = NULL;
        struct sock_filter *d = NULL, *c = NULL, *def = NULL;
        size_t n_pre = 0, n = 0, m = 0, n_def = 0;

        (void)state;
        assert_int_equal(apid__filter_build(deny, 1, &d, &n), 0);
        assert_int_equal(apid__filter_compile(deny, 1, &c, &m, NULL), 0);
        assert_int_equal(n, m);
        assert_memory_equal(d, c, n * sizeof(*d));
        assert_int_equal(apid__filter_build(NULL, 0, &def, &n_def), 0);
        assert_false(n == n_def && memcmp(d, def, n * sizeof(*d)) == 0);
        if (apid__filter_prebuilt(&pre, &n_pre))
                assert_false(n == n_pre && memcmp(d, pre, n * sizeof(*d)) == 0);
        assert_int_equal(errno_under(def, n_def, SYS_getppid), 0);
        assert_int_equal(errno_under(d, n, SYS_getppid), EPERM);
        /* The rest of the list is still there: closed and unknown calls. */
        assert_int_equal(errno_under(d, n, SYS_ptrace), EPERM);
        assert_int_equal(errno_under(def, n_def, SYS_ptrace), EPERM);
        assert_int_equal(errno_under(def, n_def, 1000), ENOSYS);
        assert_int_equal(errno_under(d, n, SYS_getpid), 0);
#ifdef __x86_64__
        /* An x32 system call kills the process, under either program. */
        assert_int_equal(errno_under(def, n_def, 0x40000000 | SYS_getpid), -SIGSYS);
        assert_int_equal(errno_under(d, n, 0x40000000 | SYS_getpid), -SIGSYS);
#endif
        free(d);
        free(c);
        free(def);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(random_rule_sets),
                cmocka_unit_test(the_allow_list),
                cmocka_unit_test(prebuilt_is_the_runtime_program),
                cmocka_unit_test(default_list_answers_as_libseccomp),
                cmocka_unit_test(deny_names_compile_at_run_time),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
