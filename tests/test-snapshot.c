/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the NSS snapshot's binary format (lib/store/snapshot.c),
 * compiled in: build and read back, every index; the reader's refusals of
 * forged headers, offsets and records; every one-byte corruption of a small
 * snapshot never answers a record other than the one asked for. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "store/snapshot.h"

#define N 1000

struct built {
        void *data;
        size_t size;
        char names[N][33], keys[N][40], sids[N][64], gecos[N][64];
};

static struct built *build_n(size_t n)
{
        struct built *b = calloc(1, sizeof(*b));
        struct apid__snap_user_in *u = calloc(n, sizeof(*u));
        struct apid__snap_group_in *g = calloc(n + 1, sizeof(*g));
        size_t i;

        assert_non_null(b);
        for (i = 0; i < n; i++) {
                snprintf(b->names[i], sizeof(b->names[i]), "apppool-p%zu", (i * 7919) % n);
                snprintf(b->keys[i], sizeof(b->keys[i]), "P%zu", (i * 7919) % n);
                snprintf(b->sids[i], sizeof(b->sids[i]), "S-1-5-82-%zu", (i * 7919) % n);
                snprintf(b->gecos[i], sizeof(b->gecos[i]), "IIS APPPOOL\\p%zu", (i * 7919) % n);
                u[i] = (struct apid__snap_user_in){ b->names[i], b->gecos[i], "/nonexistent", b->keys[i], b->sids[i],
                                                    (uint32_t)(100000 + (i * 7919) % n) };
                g[i] = (struct apid__snap_group_in){ b->names[i], "", u[i].uid };
        }
        g[n] = (struct apid__snap_group_in){ "apppool-users", "apppool-p0,apppool-p1", 99999 };
        assert_int_equal(apid__snap_build(u, n, g, n + 1, 42, 64u << 20, &b->data, &b->size), 0);
        free(u);
        free(g);
        return b;
}

static void round_trip(void **state)
{
        struct built *b = build_n(N);
        struct apid__snap s;
        struct apid__snap_user u;
        struct apid__snap_group g;
        size_t i;

        (void)state;
        assert_int_equal(apid__snap_check(b->data, b->size, &s), 0);
        assert_int_equal(s.h->generation, 42);
        assert_int_equal(s.h->n_users, N);
        for (i = 0; i < N; i++) {
                assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_NAME, b->names[i], 0, &u), 0);
                assert_string_equal(u.name, b->names[i]);
                assert_string_equal(u.gecos, b->gecos[i]);
                assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_UID, NULL, u.uid, &u), 0);
                assert_string_equal(u.name, b->names[i]);
                assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_SID, b->sids[i], 0, &u), 0);
                assert_string_equal(u.name, b->names[i]);
                assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_KEY, b->keys[i], 0, &u), 0);
                assert_string_equal(u.name, b->names[i]);
                assert_int_equal(apid__snap_find_group(&s, APID__SNAP_BY_NAME, b->names[i], 0, &g), 0);
                assert_int_equal(g.gid, u.uid);
                assert_int_equal(apid__snap_find_group(&s, APID__SNAP_BY_UID, NULL, u.uid, &g), 0);
                assert_string_equal(g.name, b->names[i]);
        }
        assert_int_equal(apid__snap_find_group(&s, APID__SNAP_BY_NAME, "apppool-users", 0, &g), 0);
        assert_string_equal(g.members, "apppool-p0,apppool-p1");
        assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_NAME, "apppool-nope", 0, &u), -1);
        assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_UID, NULL, 100000 + N, &u), -1);
        assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_SID, "S-1-5-82-x", 0, &u), -1);
        assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_NAME, NULL, 0, &u), -1);
        free(b->data);
        free(b);
}

static void builder_refuses(void **state)
{
        struct apid__snap_user_in u = { "apppool-a", "IIS APPPOOL\\a", "/nonexistent", "A", "S-1-5-82-1", 70000 };
        struct apid__snap_group_in g = { "apppool-a", "", 70000 };
        void *data = NULL;
        size_t size;

        (void)state;
        u.uid = 0; /* root */
        assert_int_equal(apid__snap_build(&u, 1, &g, 1, 1, 1 << 20, &data, &size), -EINVAL);
        u.uid = 70000;
        u.name = "../x";
        assert_int_equal(apid__snap_build(&u, 1, &g, 1, 1, 1 << 20, &data, &size), -EINVAL);
        u.name = "apppool-a";
        u.gecos = "a:b"; /* a passwd field separator */
        assert_int_equal(apid__snap_build(&u, 1, &g, 1, 1, 1 << 20, &data, &size), -EINVAL);
        u.gecos = "x";
        u.home = "relative";
        assert_int_equal(apid__snap_build(&u, 1, &g, 1, 1, 1 << 20, &data, &size), -EINVAL);
        u.home = "/";
        g.members = ",root";
        assert_int_equal(apid__snap_build(&u, 1, &g, 1, 1, 1 << 20, &data, &size), -EINVAL);
        g.members = "";
        assert_int_equal(apid__snap_build(&u, 1, &g, 1, 1, 64, &data, &size), -E2BIG);
        assert_int_equal(apid__snap_build(&u, 1, &g, 1, 1, 1 << 20, &data, &size), 0);
        free(data);
}

static uint32_t fnv(const void *p, size_t n)
{
        const unsigned char *c = p;
        uint32_t h = 2166136261u;

        while (n--)
                h = (h ^ *c++) * 16777619u;
        return h;
}

/* Forge a header field (at off, 4 bytes), the check value fixed up. */
static void forge(void *data, size_t off, uint32_t v)
{
        struct apid__snap_header *h = data;

        memcpy((char *)data + off, &v, 4);
        h->check = fnv(h, offsetof(struct apid__snap_header, check));
}

static void reader_refuses(void **state)
{
        struct built *b = build_n(8);
        unsigned char *copy = aligned_alloc(8, (b->size + 8 + 7) & ~(size_t)7);
        struct apid__snap s;
        static const size_t fields[] = {
                offsetof(struct apid__snap_header, users),   offsetof(struct apid__snap_header, groups),
                offsetof(struct apid__snap_header, by_name), offsetof(struct apid__snap_header, by_uid),
                offsetof(struct apid__snap_header, by_sid),  offsetof(struct apid__snap_header, gr_by_gid),
                offsetof(struct apid__snap_header, strings), offsetof(struct apid__snap_header, strings_size),
                offsetof(struct apid__snap_header, n_users), offsetof(struct apid__snap_header, n_groups),
                offsetof(struct apid__snap_header, gone_uids), offsetof(struct apid__snap_header, n_gone_gids),
        };
        size_t i;

        (void)state;
        assert_non_null(copy);
#define RESET() memcpy(copy, b->data, b->size)
        RESET();
        assert_int_equal(apid__snap_check(copy, b->size, &s), 0);
        assert_int_equal(apid__snap_check(copy, b->size - 8, &s), -1); /* cut short */
        assert_int_equal(apid__snap_check(copy, 10, &s), -1);
        copy[0] = 'X';
        assert_int_equal(apid__snap_check(copy, b->size, &s), -1); /* magic */
        RESET();
        copy[offsetof(struct apid__snap_header, generation)] ^= 1; /* check value */
        assert_int_equal(apid__snap_check(copy, b->size, &s), -1);
        RESET();
        forge(copy, offsetof(struct apid__snap_header, version), 2); /* the previous format */
        assert_int_equal(apid__snap_check(copy, b->size, &s), -1);
        /* Every table offset or count pointed past the end. */
        for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                RESET();
                forge(copy, fields[i], (uint32_t)b->size + 4);
                assert_int_equal(apid__snap_check(copy, b->size, &s), -1);
                RESET();
                forge(copy, fields[i], 0xfffffffcu);
                assert_int_equal(apid__snap_check(copy, b->size, &s), -1);
        }
        /* The string table without its final NUL. */
        RESET();
        copy[b->size - 1] = 'x';
        assert_int_equal(apid__snap_check(copy, b->size, &s), -1);
        free(copy);
        free(b->data);
        free(b);
}

/* Every byte of a small snapshot changed, the check value fixed up: the
 * reader may refuse it or answer, but an answer is always the record asked
 * for, checked, and nothing is read out of bounds (ASan). */
static void every_byte_corrupted(void **state)
{
        struct built *b = build_n(4);
        unsigned char *copy = aligned_alloc(8, (b->size + 7) & ~(size_t)7);
        static const unsigned char values[] = { 0x00, 0x01, 0x3a, 0x7f, 0xff };
        size_t i, v, k;

        (void)state;
        for (i = 0; i < b->size; i++) {
                for (v = 0; v < sizeof(values); v++) {
                        struct apid__snap s;
                        struct apid__snap_user u;
                        struct apid__snap_group g;

                        memcpy(copy, b->data, b->size);
                        copy[i] = values[v];
                        if (i < offsetof(struct apid__snap_header, check))
                                forge(copy, 0, *(uint32_t *)(void *)copy);
                        if (apid__snap_check(copy, b->size, &s) < 0)
                                continue;
                        for (k = 0; k < 4; k++) {
                                if (apid__snap_find_user(&s, APID__SNAP_BY_NAME, b->names[k], 0, &u) == 0)
                                        assert_string_equal(u.name, b->names[k]);
                                if (apid__snap_find_user(&s, APID__SNAP_BY_SID, b->sids[k], 0, &u) == 0)
                                        assert_string_equal(u.sid, b->sids[k]);
                                if (apid__snap_find_user(&s, APID__SNAP_BY_UID, NULL, 100000 + (uint32_t)k, &u) == 0)
                                        assert_int_equal(u.uid, 100000 + k);
                                if (apid__snap_find_group(&s, APID__SNAP_BY_UID, NULL, 100000 + (uint32_t)k, &g) == 0)
                                        assert_int_equal(g.gid, 100000 + k);
                        }
                        for (k = 0; k < s.h->n_users; k++)
                                if (apid__snap_user_at(&s, (uint32_t)k, &u) == 0)
                                        assert_true(u.uid >= 65536 && u.uid <= 2147483647u && u.home[0] == '/');
                }
        }
        free(copy);
        free(b->data);
        free(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(round_trip),
                cmocka_unit_test(builder_refuses),
                cmocka_unit_test(reader_refuses),
                cmocka_unit_test(every_byte_corrupted),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
