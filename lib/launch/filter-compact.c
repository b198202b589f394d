/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A smaller seccomp program with the same meaning as libseccomp's.
 *
 * libseccomp compiles one comparison per system call rule: some 350 for the
 * allow-list, 460 instructions with its binary tree. The kernel JIT-compiles
 * a filter at every seccomp() call, so each launch pays for every
 * instruction (about 0.1-0.2 us each on the development machine). Yet the
 * allow-list, read by system call number, is a few dozen runs of equal
 * answers (0-26 allowed, 27 ENOSYS, 28-55 allowed, 56 depends on the
 * arguments...). This file reads libseccomp's program, finds those runs by
 * running it, and writes a binary search over the runs instead, about 130
 * instructions; the argument checks (clone, personality) are copied from
 * libseccomp's program unchanged. The result is checked against the
 * original by running both on every boundary the original compares with
 * (and sample arguments); on any doubt the original is kept. libseccomp
 * stays the compiler of record: the rules, the architecture check, x32,
 * multiplexed calls are all its. */
#include <stddef.h>
#include <string.h>
#include <linux/seccomp.h>

#include "filter.h"

enum { EMU_RET, EMU_ARG, EMU_BAD };

/* Run prog on d. EMU_RET: *out is the action. With stop_at_args, reading
 * anything but nr and arch stops the run: EMU_ARG, *out is that
 * instruction. EMU_BAD: something this file does not model (then also any
 * arithmetic or bit test with stop_at_args, which would make the answer
 * for a range of numbers depend on more than its bounds). */
static int emulate(const struct sock_filter *p, size_t n, const struct seccomp_data *d, int stop_at_args,
                   uint32_t *out)
{
        size_t pc = 0;
        uint32_t a = 0;

        while (pc < n) {
                const struct sock_filter *i = &p[pc];

                switch (i->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                        if (i->k % 4 || i->k > sizeof(*d) - 4)
                                return EMU_BAD;
                        if (stop_at_args && i->k != offsetof(struct seccomp_data, nr) &&
                            i->k != offsetof(struct seccomp_data, arch)) {
                                *out = (uint32_t)pc;
                                return EMU_ARG;
                        }
                        memcpy(&a, (const char *)d + i->k, sizeof(a));
                        pc++;
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        if (stop_at_args)
                                return EMU_BAD;
                        a &= i->k;
                        pc++;
                        break;
                case BPF_JMP | BPF_JA:
                        pc += 1 + (size_t)i->k;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        pc += 1 + (size_t)(a == i->k ? i->jt : i->jf);
                        break;
                case BPF_JMP | BPF_JGT | BPF_K:
                        pc += 1 + (size_t)(a > i->k ? i->jt : i->jf);
                        break;
                case BPF_JMP | BPF_JGE | BPF_K:
                        pc += 1 + (size_t)(a >= i->k ? i->jt : i->jf);
                        break;
                case BPF_JMP | BPF_JSET | BPF_K:
                        if (stop_at_args)
                                return EMU_BAD;
                        pc += 1 + (size_t)((a & i->k) ? i->jt : i->jf);
                        break;
                case BPF_RET | BPF_K:
                        *out = i->k;
                        return EMU_RET;
                default:
                        return EMU_BAD;
                }
        }
        return EMU_BAD;
}

/* A run of system call numbers [start, next run's start) with one answer. */
struct run {
        uint32_t start;
        int kind;       /* EMU_RET or EMU_ARG */
        uint32_t value; /* the action, or the first instruction of the argument checks */
};

struct compact {
        const struct sock_filter *p;
        size_t n;
        struct run *runs;
        size_t n_runs;
        unsigned char *local; /* per run: emitted in place (a far target) */
        uint32_t rets[16];    /* the distinct actions, in the trailer */
        size_t n_rets;
        size_t *copy_at;      /* the original's argument checks: old index -> trailer offset */
        size_t n_copied;
        size_t trailer;       /* where the trailer starts */
        struct sock_filter *q;
        int sizing;           /* only measure: no jump is checked */
        int far;              /* a direct jump out of reach: some run was made local */
};

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return x < y ? -1 : x > y;
}

/* Every number where the original's answer may change: the bounds of each
 * comparison (comparisons with arguments add harmless extra bounds). */
static uint32_t *bounds(const struct sock_filter *p, size_t n, size_t *count)
{
        uint32_t *b = malloc((2 * n + 1) * sizeof(*b));
        size_t i, m = 0, u = 0;

        if (!b)
                return NULL;
        b[m++] = 0;
        for (i = 0; i < n; i++) {
                if (p[i].code == (BPF_JMP | BPF_JEQ | BPF_K)) {
                        b[m++] = p[i].k;
                        b[m++] = p[i].k + 1;
                } else if (p[i].code == (BPF_JMP | BPF_JGT | BPF_K)) {
                        b[m++] = p[i].k + 1;
                } else if (p[i].code == (BPF_JMP | BPF_JGE | BPF_K)) {
                        b[m++] = p[i].k;
                }
        }
        qsort(b, m, sizeof(*b), cmp_u32);
        for (i = 0; i < m; i++)
                if (u == 0 || b[u - 1] != b[i])
                        b[u++] = b[i];
        *count = u;
        return b;
}

static size_t ret_index(struct compact *c, uint32_t action)
{
        size_t i;

        for (i = 0; i < c->n_rets; i++)
                if (c->rets[i] == action)
                        return i;
        return (size_t)-1;
}

/* The absolute index of run r's answer in the trailer. */
static size_t target(const struct compact *c, const struct run *r)
{
        size_t i;

        if (r->kind == EMU_ARG)
                return c->trailer + c->n_rets + c->copy_at[r->value];
        for (i = 0; c->rets[i] != r->value; i++)
                ;
        return c->trailer + i;
}

static void put(struct compact *c, size_t at, uint16_t code, size_t jt, size_t jf, uint32_t k)
{
        if (c->q) {
                c->q[at].code = code;
                c->q[at].jt = (uint8_t)jt;
                c->q[at].jf = (uint8_t)jf;
                c->q[at].k = k;
        }
}

/* A conditional jump from the instruction at "from" to "to": the offset,
 * or, when out of reach, 0 and run "r" marked to be emitted in place. */
static size_t reach(struct compact *c, size_t from, size_t to, size_t r)
{
        if (c->sizing || to - from - 1 <= 255)
                return to - from - 1;
        if (!c->local[r]) {
                c->local[r] = 1;
                c->far = 1;
        }
        return 0;
}

/* Emit the search over runs [lo, hi) at "at" (only count when c->q is
 * NULL); returns the index after it. A run alone is emitted in place only
 * when it is the whole range or too far from its answer. */
static size_t emit(struct compact *c, size_t lo, size_t hi, size_t at)
{
        size_t mid, node, jt = 0, jf = 0, left_end, ja = 0;
        int left_direct, right_direct;

        if (hi - lo == 1) {
                const struct run *r = &c->runs[lo];

                if (r->kind == EMU_RET)
                        put(c, at, BPF_RET | BPF_K, 0, 0, r->value);
                else
                        put(c, at, BPF_JMP | BPF_JA, 0, 0, (uint32_t)(target(c, r) - at - 1));
                return at + 1;
        }
        mid = lo + (hi - lo) / 2;
        left_direct = mid - lo == 1 && !c->local[lo];
        right_direct = hi - mid == 1 && !c->local[mid];
        node = at++;
        left_end = left_direct ? at : emit(c, lo, mid, at);
        /* A left side longer than a conditional jump reaches: over it with JA. */
        if (!right_direct && left_end - at > 255) {
                ja = 1;
                left_end = left_direct ? at + 1 : emit(c, lo, mid, at + 1);
        }
        if (left_direct)
                jf = reach(c, node + ja, target(c, &c->runs[lo]), lo);
        if (right_direct)
                jt = reach(c, node, target(c, &c->runs[mid]), mid);
        else
                jt = left_end - node - 1; /* the right side follows the left */
        put(c, node, BPF_JMP | BPF_JGE | BPF_K, ja ? 0 : jt, ja ? 1 : jf, c->runs[mid].start);
        if (ja)
                put(c, node + 1, BPF_JMP | BPF_JA, 0, 0, (uint32_t)(left_end - node - 2));
        return right_direct ? left_end : emit(c, mid, hi, left_end);
}

/* The original's argument checks, and whatever they reach, in order. */
static size_t copy_checks(struct compact *c, unsigned char *reached, size_t at)
{
        size_t i, n = 0;

        for (i = 0; i < c->n; i++)
                if (reached[i])
                        c->copy_at[i] = n++;
        for (i = 0; i < c->n; i++) {
                struct sock_filter f = c->p[i];

                if (!reached[i])
                        continue;
                if (BPF_CLASS(f.code) == BPF_JMP && BPF_OP(f.code) == BPF_JA) {
                        f.k = (uint32_t)(c->copy_at[i + 1 + f.k] - c->copy_at[i] - 1);
                } else if (BPF_CLASS(f.code) == BPF_JMP) {
                        f.jt = (uint8_t)(c->copy_at[i + 1 + f.jt] - c->copy_at[i] - 1);
                        f.jf = (uint8_t)(c->copy_at[i + 1 + f.jf] - c->copy_at[i] - 1);
                }
                if (c->q)
                        c->q[at + c->copy_at[i]] = f;
        }
        return at + n;
}

/* Mark what the argument checks reach (jumps only go forward). */
static int reach_checks(struct compact *c, unsigned char *reached)
{
        size_t i;

        for (i = 0; i < c->n_runs; i++)
                if (c->runs[i].kind == EMU_ARG)
                        reached[c->runs[i].value] = 1;
        for (i = 0; i < c->n; i++) {
                const struct sock_filter *f = &c->p[i];
                size_t next[2] = { i + 1, i + 1 };

                if (!reached[i] || f->code == (BPF_RET | BPF_K))
                        continue;
                if (BPF_CLASS(f->code) == BPF_JMP && BPF_OP(f->code) == BPF_JA)
                        next[0] = next[1] = i + 1 + f->k;
                else if (BPF_CLASS(f->code) == BPF_JMP) {
                        next[0] = i + 1 + f->jt;
                        next[1] = i + 1 + f->jf;
                }
                if (next[0] >= c->n || next[1] >= c->n)
                        return -1;
                reached[next[0]] = reached[next[1]] = 1;
        }
        return 0;
}

/* Same answers on every bound, for the native architecture with sample
 * arguments and for another architecture. */
static int same(const struct sock_filter *p, size_t n, const struct sock_filter *q, size_t m, const uint32_t *b,
                size_t nb, uint32_t arch)
{
        static const uint64_t samples[] = { 0, 0x11, 0x10000011, 0x20011, 0x400000, 0xffffffff, ~(uint64_t)0,
                                            (uint64_t)1 << 32 };
        size_t i, s;

        for (i = 0; i < nb; i++)
                for (s = 0; s <= sizeof(samples) / sizeof(samples[0]); s++) {
                        struct seccomp_data d;
                        uint32_t x, y;

                        memset(&d, 0, sizeof(d));
                        d.nr = (int)b[i];
                        d.arch = s < sizeof(samples) / sizeof(samples[0]) ? arch : ~arch;
                        d.args[0] = d.args[1] = s < sizeof(samples) / sizeof(samples[0]) ? samples[s] : 0;
                        if (emulate(p, n, &d, 0, &x) != EMU_RET || emulate(q, m, &d, 0, &y) != EMU_RET || x != y)
                                return 0;
                }
        return 1;
}

int apid__filter_compact(const struct sock_filter *p, size_t n, uint32_t arch, struct sock_filter **out,
                         size_t *out_len)
{
        struct compact c;
        struct seccomp_data d;
        unsigned char *reached = NULL;
        uint32_t *b = NULL, foreign = 0;
        size_t nb = 0, i, size = 0;
        int ok = 0;

        memset(&c, 0, sizeof(c));
        c.p = p;
        c.n = n;
        memset(&d, 0, sizeof(d));
        d.arch = ~arch;
        b = bounds(p, n, &nb);
        c.runs = b ? calloc(nb, sizeof(*c.runs)) : NULL;
        c.local = b ? calloc(nb, 1) : NULL;
        c.copy_at = calloc(n, sizeof(*c.copy_at));
        reached = calloc(n, 1);
        if (!c.runs || !c.local || !c.copy_at || !reached || emulate(p, n, &d, 1, &foreign) != EMU_RET)
                goto out;
        /* The answer of each run, merged where neighbours agree. */
        d.arch = arch;
        for (i = 0; i < nb; i++) {
                uint32_t v;
                int kind;

                d.nr = (int)b[i];
                kind = emulate(p, n, &d, 1, &v);
                if (kind == EMU_BAD)
                        goto out;
                if (c.n_runs && c.runs[c.n_runs - 1].kind == kind && c.runs[c.n_runs - 1].value == v)
                        continue;
                if (kind == EMU_RET && ret_index(&c, v) == (size_t)-1) {
                        if (c.n_rets == sizeof(c.rets) / sizeof(c.rets[0]))
                                goto out;
                        c.rets[c.n_rets++] = v;
                }
                c.runs[c.n_runs++] = (struct run){ b[i], kind, v };
        }
        if (reach_checks(&c, reached) < 0)
                goto out;
        c.n_copied = copy_checks(&c, reached, 0);
        /* Lay out: the architecture check, the search, the distinct answers,
         * the argument checks; again while a direct jump falls short (each
         * round emits one more run in place, so this ends). */
        do {
                c.sizing = 1;
                c.trailer = emit(&c, 0, c.n_runs, 4);
                c.sizing = 0;
                c.far = 0;
                emit(&c, 0, c.n_runs, 4);
        } while (c.far);
        size = c.trailer + c.n_rets + c.n_copied;
        if (size >= n) /* a short list is already as small as it gets */
                goto out;
        c.q = calloc(size, sizeof(*c.q));
        if (!c.q)
                goto out;
        put(&c, 0, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
        put(&c, 1, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, arch);
        put(&c, 2, BPF_RET | BPF_K, 0, 0, foreign);
        put(&c, 3, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
        if (emit(&c, 0, c.n_runs, 4) != c.trailer || c.far)
                goto out;
        for (i = 0; i < c.n_rets; i++)
                put(&c, c.trailer + i, BPF_RET | BPF_K, 0, 0, c.rets[i]);
        copy_checks(&c, reached, c.trailer + c.n_rets);
        ok = same(p, n, c.q, size, b, nb, arch);
out:
        if (ok) {
                *out = c.q;
                *out_len = size;
        } else {
                free(c.q);
        }
        free(b);
        free(c.runs);
        free(c.local);
        free(c.copy_at);
        free(reached);
        return ok ? 0 : -1;
}
