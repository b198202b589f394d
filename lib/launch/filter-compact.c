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
 * running it, and writes a binary search over the runs instead (a single
 * number between two runs with the same answer is a "jeq" in their leaf,
 * not a run: MAX_EXC); the argument checks (clone, personality) are
 * libseccomp's, simplified (simplify(): a load, mask and compare per
 * comparison of a 64-bit argument become one bit test where that is the
 * same), about 80 instructions in all. The result is checked against the original by running both on every
 * boundary the original compares with, with sample arguments (every single
 * bit of the first two among them); on any doubt the original is kept. libseccomp
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
        uint32_t exc;   /* its exceptions: c->exc[exc .. exc + n_exc) */
        uint32_t n_exc;
};

/* A single number with another answer than the numbers on either side,
 * which agree, is an exception of one run instead of a run of its own (one
 * "jeq" where two bounds of the search would be): 24 of the 80 runs of the
 * x86-64 allow-list (27 between 0-26 and 28-55 allowed, 101 among allowed
 * calls...). A run takes at most this many, tested in its leaf. */
#define MAX_EXC 3

struct compact {
        const struct sock_filter *p;
        size_t n;
        struct sock_filter *q0;   /* p with its argument checks simplified (simplify()) */
        struct run *runs;
        size_t n_runs;
        struct run *exc;      /* the exceptions of all runs (their start: the number) */
        size_t n_exc;
        int exc_far;          /* an exception's jeq out of reach: lay out without them */
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
                return c->trailer + c->copy_at[r->value];
        for (i = 0; c->rets[i] != r->value; i++)
                ;
        return c->trailer + c->n_copied + i;
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
                uint32_t e;

                /* Each exception a jeq to its answer; the last one's
                 * "else" is the run's own answer. */
                for (e = 0; e < r->n_exc; e++, at++) {
                        const struct run *x = &c->exc[r->exc + e];
                        size_t t = target(c, x), f = e + 1 < r->n_exc ? at + 1 : target(c, r);

                        if (!c->sizing && (t - at - 1 > 255 || f - at - 1 > 255))
                                c->exc_far = 1;
                        put(c, at, BPF_JMP | BPF_JEQ | BPF_K, t - at - 1, f - at - 1, x->start);
                }
                if (r->n_exc)
                        return at;
                if (r->kind == EMU_RET)
                        put(c, at, BPF_RET | BPF_K, 0, 0, r->value);
                else
                        put(c, at, BPF_JMP | BPF_JA, 0, 0, (uint32_t)(target(c, r) - at - 1));
                return at + 1;
        }
        mid = lo + (hi - lo) / 2;
        left_direct = mid - lo == 1 && !c->local[lo] && !c->runs[lo].n_exc;
        right_direct = hi - mid == 1 && !c->local[mid] && !c->runs[mid].n_exc;
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

/* The argument checks, simplified (libseccomp writes each comparison of a
 * 64-bit argument as its own load, mask and compare): in c->q0, a copy of
 * the original where an instruction made useless is a "ja 0" and a test
 * whose answer is known is a "ja" to its answer. Three rewrites, each sound
 * on its own and repeated until none applies; the whole result is then
 * checked against the original like the search (same()):
 * - a test of a known A (after "and #0": the high word of an argument the
 *   rule does not look at) jumps to its answer;
 * - a load or mask whose A no path reads is dropped;
 * - "and #F; jeq #F" for a single bit F, where nothing else jumps to the
 *   jeq and no path reads A after it, is "jset #F": the same answer, with A
 *   left as loaded, so that the next check's load of the same word is one
 *   that can go (A already holds it on every path).
 * Jumps only go forward, so one pass in order sees every predecessor. */
#define SIMPLE_UNREACHED 0
#define SIMPLE_UNKNOWN 1
#define SIMPLE_CONST 2

struct simple_state {
        uint8_t kind;    /* SIMPLE_* */
        uint32_t value;  /* A, when SIMPLE_CONST */
        int64_t loaded;  /* A is this word of seccomp_data as loaded, or -1 */
};

static int is_noop(const struct sock_filter *f)
{
        return f->code == (BPF_JMP | BPF_JA);
}

/* Where a jump to i really goes: past every "ja". */
static size_t resolve(const struct sock_filter *q, size_t n, size_t i)
{
        while (i < n && is_noop(&q[i]))
                i += 1 + (size_t)q[i].k;
        return i;
}

static void join(struct simple_state *to, const struct simple_state *from)
{
        if (to->kind == SIMPLE_UNREACHED) {
                *to = *from;
                return;
        }
        if (to->kind != SIMPLE_CONST || from->kind != SIMPLE_CONST || to->value != from->value)
                to->kind = SIMPLE_UNKNOWN;
        if (to->loaded != from->loaded)
                to->loaded = -1;
}

static int is_cond(const struct sock_filter *f)
{
        return BPF_CLASS(f->code) == BPF_JMP && !is_noop(f);
}

/* Known answers and loads of a word A already holds; 1 if anything changed. */
static int simplify_forward(struct sock_filter *q, size_t n, struct simple_state *st)
{
        size_t i;
        int changed = 0;

        memset(st, 0, n * sizeof(*st));
        st[0] = (struct simple_state){ SIMPLE_UNKNOWN, 0, -1 };
        for (i = 0; i < n; i++) {
                struct simple_state in = st[i], out = in;
                struct sock_filter *f = &q[i];

                if (in.kind == SIMPLE_UNREACHED || f->code == (BPF_RET | BPF_K))
                        continue;
                if (f->code == (BPF_LD | BPF_W | BPF_ABS)) {
                        if (in.loaded == (int64_t)f->k) {
                                *f = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
                                changed = 1;
                        } else {
                                out = (struct simple_state){ SIMPLE_UNKNOWN, 0, f->k };
                        }
                } else if (f->code == (BPF_ALU | BPF_AND | BPF_K)) {
                        out.kind = in.kind == SIMPLE_CONST || f->k == 0 ? SIMPLE_CONST : SIMPLE_UNKNOWN;
                        out.value = in.kind == SIMPLE_CONST ? in.value & f->k : 0;
                        out.loaded = -1;
                } else if (is_cond(f) && in.kind == SIMPLE_CONST) {
                        int taken;

                        switch (BPF_OP(f->code)) {
                        case BPF_JEQ: taken = in.value == f->k; break;
                        case BPF_JGT: taken = in.value > f->k; break;
                        case BPF_JGE: taken = in.value >= f->k; break;
                        default: taken = (in.value & f->k) != 0; break;
                        }
                        *f = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, taken ? f->jt : f->jf, 0, 0);
                        changed = 1;
                }
                if (is_noop(f)) {
                        if (i + 1 + f->k < n)
                                join(&st[i + 1 + f->k], &out);
                } else if (is_cond(f)) {
                        if (i + 1 + f->jt < n)
                                join(&st[i + 1 + f->jt], &out);
                        if (i + 1 + f->jf < n)
                                join(&st[i + 1 + f->jf], &out);
                } else if (i + 1 < n) {
                        join(&st[i + 1], &out);
                }
        }
        return changed;
}

/* Whether some path from i reads A before writing it (backward, in reverse). */
static void liveness(const struct sock_filter *q, size_t n, unsigned char *live)
{
        size_t i = n;

        while (i-- > 0) {
                const struct sock_filter *f = &q[i];

                if (f->code == (BPF_LD | BPF_W | BPF_ABS) || f->code == (BPF_RET | BPF_K))
                        live[i] = 0;
                else if (is_noop(f))
                        live[i] = i + 1 + f->k < n ? live[i + 1 + f->k] : 1;
                else
                        live[i] = 1; /* and, the tests, anything else: reads A */
        }
}

static int live_at(const unsigned char *live, size_t n, size_t i)
{
        return i < n ? live[i] : 1;
}

/* Dead loads and masks, and "and #F; jeq #F" as "jset #F"; 1 if anything changed. */
static int simplify_backward(struct sock_filter *q, size_t n, unsigned char *live, unsigned char *jumped_to)
{
        size_t i;
        int changed = 0;

        liveness(q, n, live);
        memset(jumped_to, 0, n);
        for (i = 0; i < n; i++)
                if (is_cond(&q[i])) {
                        if (i + 1 + q[i].jt < n)
                                jumped_to[i + 1 + q[i].jt] = 1;
                        if (i + 1 + q[i].jf < n)
                                jumped_to[i + 1 + q[i].jf] = 1;
                } else if (is_noop(&q[i]) && q[i].k && i + 1 + q[i].k < n) {
                        jumped_to[i + 1 + q[i].k] = 1;
                }
        for (i = 0; i + 1 < n; i++) {
                struct sock_filter *f = &q[i], *g = &q[i + 1];

                if ((f->code == (BPF_LD | BPF_W | BPF_ABS) || f->code == (BPF_ALU | BPF_AND | BPF_K)) &&
                    !live_at(live, n, i + 1)) {
                        *f = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
                        changed = 1;
                } else if (f->code == (BPF_ALU | BPF_AND | BPF_K) && f->k && !(f->k & (f->k - 1)) &&
                           g->code == (BPF_JMP | BPF_JEQ | BPF_K) && g->k == f->k && !jumped_to[i + 1] &&
                           !live_at(live, n, i + 2 + g->jt) && !live_at(live, n, i + 2 + g->jf)) {
                        g->code = BPF_JMP | BPF_JSET | BPF_K;
                        *f = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
                        changed = 1;
                }
        }
        return changed;
}

/* q: a copy of the original, simplified in place; -1 without memory. */
static int simplify(struct sock_filter *q, size_t n)
{
        struct simple_state *st = calloc(n, sizeof(*st));
        unsigned char *live = malloc(n), *jumped_to = malloc(n);
        int changed = 1, rounds = 0;

        if (!st || !live || !jumped_to) {
                free(st);
                free(live);
                free(jumped_to);
                return -1;
        }
        while (changed && rounds++ < 64) {
                changed = simplify_forward(q, n, st);
                changed |= simplify_backward(q, n, live, jumped_to);
        }
        free(st);
        free(live);
        free(jumped_to);
        return 0;
}

/* The successors of q[i] in the simplified checks, past every "ja";
 * returns how many (0 for a return). */
static int successors(const struct compact *c, size_t i, size_t next[2])
{
        const struct sock_filter *f = &c->q0[i];

        if (f->code == (BPF_RET | BPF_K))
                return 0;
        if (is_cond(f)) {
                next[0] = resolve(c->q0, c->n, i + 1 + f->jt);
                next[1] = resolve(c->q0, c->n, i + 1 + f->jf);
                return 2;
        }
        next[0] = resolve(c->q0, c->n, i + 1);
        return 1;
}

/* Where the copy of the check at i (or of its answer, if it is one) is,
 * counted from the first check: a return is one of the distinct answers
 * after the checks (n: their number). */
static size_t check_at(const struct compact *c, size_t i, size_t n)
{
        if (c->q0[i].code == (BPF_RET | BPF_K))
                return n + ret_index((struct compact *)c, c->q0[i].k);
        return c->copy_at[i];
}

/* The simplified argument checks, and whatever they reach, in order, then
 * the distinct answers (shared with the search, which precedes them); an
 * instruction that falls through to something not copied right after it
 * gets a "ja" there. Returns the index after the checks (the answers'),
 * or (size_t)-1 when a jump would be out of reach. */
static size_t copy_checks(struct compact *c, unsigned char *reached, size_t at)
{
        size_t i, j, n = 0, next[2];

        for (i = 0; i < c->n; i++) {
                if (!reached[i])
                        continue;
                c->copy_at[i] = n++;
                if (successors(c, i, next) == 1) {
                        for (j = i + 1; j < c->n && !reached[j]; j++)
                                ;
                        if (j != next[0])
                                n++; /* room for the ja */
                }
        }
        for (i = 0; i < c->n; i++) {
                struct sock_filter f = c->q0[i];
                size_t from = c->copy_at[i], k, t0, t1;

                if (!reached[i])
                        continue;
                k = (size_t)successors(c, i, next);
                t0 = k ? check_at(c, next[0], n) : 0;
                if (k == 2) {
                        t1 = check_at(c, next[1], n);
                        if (t0 - from - 1 > 255 || t1 - from - 1 > 255)
                                return (size_t)-1;
                        f.jt = (uint8_t)(t0 - from - 1);
                        f.jf = (uint8_t)(t1 - from - 1);
                }
                if (c->q)
                        c->q[at + from] = f;
                if (k == 1 && t0 != from + 1 && c->q)
                        c->q[at + from + 1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, t0 - from - 2, 0, 0);
        }
        return at + n;
}

/* Mark what the argument checks reach (jumps only go forward); their
 * answers join the distinct ones instead. */
static int reach_checks(struct compact *c, unsigned char *reached)
{
        size_t i, next[2];
        int k, j;

        for (i = 0; i < c->n_runs; i++)
                if (c->runs[i].kind == EMU_ARG)
                        reached[c->runs[i].value] = 1;
        for (i = 0; i < c->n_exc; i++)
                if (c->exc[i].kind == EMU_ARG)
                        reached[c->exc[i].value] = 1;
        for (i = 0; i < c->n; i++) {
                if (!reached[i])
                        continue;
                k = successors(c, i, next);
                for (j = 0; j < k; j++) {
                        if (next[j] >= c->n)
                                return -1;
                        if (c->q0[next[j]].code != (BPF_RET | BPF_K)) {
                                reached[next[j]] = 1;
                        } else if (ret_index(c, c->q0[next[j]].k) == (size_t)-1) {
                                if (c->n_rets == sizeof(c->rets) / sizeof(c->rets[0]))
                                        return -1;
                                c->rets[c->n_rets++] = c->q0[next[j]].k;
                        }
                }
        }
        return 0;
}

/* The arguments tried at each bound: a few values, then every single bit
 * and every value with one bit clear (a bit test of the argument checks
 * against the compare it replaced, whichever bit), then none of that in
 * the second argument (s390 reads clone's flags there). */
#define N_FIXED 8
#define N_SAMPLES (N_FIXED + 64 + 64)

static uint64_t sample(size_t s)
{
        static const uint64_t fixed[N_FIXED] = { 0, 0x11, 0x10000011, 0x20011, 0x400000, 0xffffffff, ~(uint64_t)0,
                                                 (uint64_t)1 << 32 };

        if (s < N_FIXED)
                return fixed[s];
        if (s < N_FIXED + 64)
                return (uint64_t)1 << (s - N_FIXED);
        return ~((uint64_t)1 << (s - N_FIXED - 64));
}

/* Same answers on every bound, for the native architecture with sample
 * arguments (in the first two arguments together, and in each alone) and
 * for another architecture. */
static int same(const struct sock_filter *p, size_t n, const struct sock_filter *q, size_t m, const uint32_t *b,
                size_t nb, uint32_t arch)
{
        size_t i, s, w;

        for (i = 0; i < nb; i++) {
                struct seccomp_data d0;
                uint32_t v;
                /* A number both programs answer without reading an argument
                 * (their path depends on nothing else): one sample tells. */
                int by_args;

                memset(&d0, 0, sizeof(d0));
                d0.nr = (int)b[i];
                d0.arch = arch;
                by_args = emulate(p, n, &d0, 1, &v) != EMU_RET || emulate(q, m, &d0, 1, &v) != EMU_RET;
                for (s = 0; s <= N_SAMPLES; s++) {
                        if (!by_args && s && s < N_SAMPLES)
                                continue;
                        for (w = 0; w < 3; w++) {
                                struct seccomp_data d;
                                uint32_t x, y;

                                memset(&d, 0, sizeof(d));
                                d.nr = (int)b[i];
                                d.arch = s < N_SAMPLES ? arch : ~arch;
                                if (s < N_SAMPLES) {
                                        d.args[0] = w != 1 ? sample(s) : 0;
                                        d.args[1] = w != 0 ? sample(s) : 0;
                                }
                                if (emulate(p, n, &d, 0, &x) != EMU_RET || emulate(q, m, &d, 0, &y) != EMU_RET ||
                                    x != y)
                                        return 0;
                        }
                }
        }
        return 1;
}

/* Runs with a single other number between them as one run with an
 * exception (see MAX_EXC), in place. */
static void absorb(struct compact *c)
{
        size_t i, w = 0;

        for (i = 0; i < c->n_runs; i++) {
                struct run r = c->runs[i];

                if (w && i + 1 < c->n_runs && c->runs[i + 1].start == r.start + 1 &&
                    c->runs[w - 1].kind == c->runs[i + 1].kind && c->runs[w - 1].value == c->runs[i + 1].value &&
                    c->runs[w - 1].n_exc < MAX_EXC) {
                        c->exc[c->n_exc++] = r; /* the last run's exceptions are the last ones */
                        c->runs[w - 1].n_exc++;
                        i++; /* its right neighbour is the same run */
                        continue;
                }
                r.exc = (uint32_t)c->n_exc;
                r.n_exc = 0;
                c->runs[w++] = r;
        }
        c->n_runs = w;
}

/* The runs (with exceptions or not), the checks and the search's layout:
 * the index where the trailer starts, or 0. */
static size_t layout(struct compact *c, const uint32_t *b, size_t nb, uint32_t arch, unsigned char *reached,
                     int with_exc)
{
        struct seccomp_data d;
        size_t i;

        c->n_runs = c->n_exc = c->n_rets = 0;
        c->exc_far = 0;
        memset(c->local, 0, nb);
        memset(reached, 0, c->n);
        memset(&d, 0, sizeof(d));
        /* The answer of each run, merged where neighbours agree. */
        d.arch = arch;
        for (i = 0; i < nb; i++) {
                uint32_t v;
                int kind;

                d.nr = (int)b[i];
                kind = emulate(c->p, c->n, &d, 1, &v);
                if (kind == EMU_BAD)
                        return 0;
                if (kind == EMU_ARG && (v = (uint32_t)resolve(c->q0, c->n, v)) >= c->n)
                        return 0;
                if (kind == EMU_ARG && c->q0[v].code == (BPF_RET | BPF_K)) {
                        kind = EMU_RET; /* the checks came to nothing */
                        v = c->q0[v].k;
                }
                if (c->n_runs && c->runs[c->n_runs - 1].kind == kind && c->runs[c->n_runs - 1].value == v)
                        continue;
                if (kind == EMU_RET && ret_index(c, v) == (size_t)-1) {
                        if (c->n_rets == sizeof(c->rets) / sizeof(c->rets[0]))
                                return 0;
                        c->rets[c->n_rets++] = v;
                }
                c->runs[c->n_runs++] = (struct run){ b[i], kind, v, 0, 0 };
        }
        if (with_exc)
                absorb(c);
        if (reach_checks(c, reached) < 0)
                return 0;
        c->n_copied = copy_checks(c, reached, 0);
        if (c->n_copied == (size_t)-1)
                return 0;
        /* Lay out: the architecture check, the search, the argument checks,
         * the distinct answers (after the checks, which jump to them: BPF
         * jumps only forward); again while a direct jump falls short (each
         * round emits one more run in place, so this ends). */
        do {
                c->sizing = 1;
                c->trailer = emit(c, 0, c->n_runs, 4);
                c->sizing = 0;
                c->far = 0;
                emit(c, 0, c->n_runs, 4);
        } while (c->far);
        return c->exc_far ? 0 : c->trailer;
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
        c.exc = b ? calloc(nb, sizeof(*c.exc)) : NULL;
        c.local = b ? calloc(nb, 1) : NULL;
        c.copy_at = calloc(n, sizeof(*c.copy_at));
        reached = calloc(n, 1);
        c.q0 = malloc(n * sizeof(*p));
        if (!c.runs || !c.exc || !c.local || !c.copy_at || !reached || !c.q0 ||
            emulate(p, n, &d, 1, &foreign) != EMU_RET)
                goto out;
        memcpy(c.q0, p, n * sizeof(*p));
        if (simplify(c.q0, n) < 0)
                goto out;
        /* With exceptions, or, where one is out of a jeq's reach, without. */
        if (!layout(&c, b, nb, arch, reached, 1) && !layout(&c, b, nb, arch, reached, 0))
                goto out;
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
        if (emit(&c, 0, c.n_runs, 4) != c.trailer || c.far || c.exc_far)
                goto out;
        for (i = 0; i < c.n_rets; i++)
                put(&c, c.trailer + c.n_copied + i, BPF_RET | BPF_K, 0, 0, c.rets[i]);
        copy_checks(&c, reached, c.trailer);
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
        free(c.exc);
        free(c.local);
        free(c.copy_at);
        free(c.q0);
        free(reached);
        return ok ? 0 : -1;
}
