/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the NSS snapshot's binary format (lib/store/snapshot.c),
 * compiled in: build and read back, every index; the reader's refusals of
 * forged headers, offsets and records; every one-byte corruption of a small
 * snapshot never answers a record other than the one asked for; a delta
 * over its base (format 3). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void write_file(const char *path, const void *data, size_t size)
{
        FILE *f = fopen(path, "wb");

        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, size, f), size);
        assert_int_equal(fclose(f), 0);
}

/* Format 3's delta (issue 17): a head over a base, opened from files as the
 * NSS module does. The delta replaces p1 (a new home), removes p2 and its
 * group, adds p9: lookups by every key and the iteration by index answer
 * the merged view, never the base's replaced or removed records; a head
 * whose base is missing, or of another generation, is refused whole. */
static void delta_over_base(void **state)
{
        struct built *b = build_n(8);
        struct apid__snap_user_in u[2] = {
                { "apppool-p1", "IIS APPPOOL\\p1", "/srv/p1", "P1", "S-1-5-82-1", 100001 },
                { "apppool-p9", "IIS APPPOOL\\p9", "/nonexistent", "P9", "S-1-5-82-9", 100009 },
        };
        struct apid__snap_group_in g[2] = { { "apppool-p1", "", 100001 }, { "apppool-p9", "", 100009 } };
        uint32_t gone[] = { 100002 };
        char dir[] = "/tmp/apid-snapdelta-XXXXXX", head[128], base[128], other[128];
        struct apid__snap s;
        struct apid__snap_user user;
        struct apid__snap_group group;
        void *delta;
        size_t size, i, seen = 0, p1 = 0;

        (void)state;
        assert_non_null(mkdtemp(dir));
        snprintf(head, sizeof(head), "%s/snap", dir);
        assert_int_equal(apid__snap_base_path(base, sizeof(base), head, 42), 0);
        assert_int_equal(apid__snap_base_path(other, sizeof(other), head, 41), 0);
        assert_int_equal(apid__snap_build_delta(u, 2, g, 2, gone, 1, gone, 1, 50, 0, 1 << 20, &delta, &size),
                         -EINVAL);
        assert_int_equal(apid__snap_build_delta(u, 2, g, 2, gone, 1, gone, 1, 50, 42, 1 << 20, &delta, &size), 0);
        write_file(head, delta, size);
        /* No base yet: refused, not read as the delta alone. */
        assert_int_equal(apid__snap_open(head, 0, 1 << 20, &s, NULL), -1);
        write_file(other, b->data, b->size); /* generation 42 under the name of 41 */
        assert_int_equal(apid__snap_open(head, 0, 1 << 20, &s, NULL), -1);
        write_file(base, b->data, b->size);
        assert_int_equal(apid__snap_open(head, 0, 1 << 20, &s, NULL), 0);
        assert_int_equal(s.h->generation, 50);
        assert_int_equal(s.h->n_users, 8 + 2);
        assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_NAME, "apppool-p1", 0, &user), 0);
        assert_string_equal(user.home, "/srv/p1");
        assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_UID, NULL, 100001, &user), 0);
        assert_string_equal(user.home, "/srv/p1");
        assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_NAME, "apppool-p2", 0, &user), -1);
        assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_UID, NULL, 100002, &user), -1);
        assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_SID, "S-1-5-82-2", 0, &user), -1);
        assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_KEY, "P2", 0, &user), -1);
        assert_int_equal(apid__snap_find_group(&s, APID__SNAP_BY_UID, NULL, 100002, &group), -1);
        assert_int_equal(apid__snap_find_group(&s, APID__SNAP_BY_NAME, "apppool-p2", 0, &group), -1);
        assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_KEY, "P9", 0, &user), 0);
        assert_int_equal(apid__snap_find_group(&s, APID__SNAP_BY_UID, NULL, 100009, &group), 0);
        assert_int_equal(apid__snap_find_user(&s, APID__SNAP_BY_SID, "S-1-5-82-3", 0, &user), 0); /* the base's */
        assert_int_equal(apid__snap_find_group(&s, APID__SNAP_BY_NAME, "apppool-users", 0, &group), 0);
        for (i = 0; i < s.h->n_users; i++)
                if (apid__snap_user_at(&s, (uint32_t)i, &user) == 0) {
                        seen++;
                        assert_int_not_equal(user.uid, 100002);
                        if (user.uid == 100001) {
                                p1++;
                                assert_string_equal(user.home, "/srv/p1");
                        }
                }
        assert_int_equal(seen, 8 - 2 + 2);
        assert_int_equal(p1, 1);
        apid__snap_close(&s);
        /* A complete snapshot where the base should be: refused. */
        write_file(base, delta, size);
        assert_int_equal(apid__snap_open(head, 0, 1 << 20, &s, NULL), -1);
        unlink(head);
        unlink(base);
        unlink(other);
        rmdir(dir);
        free(delta);
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
                cmocka_unit_test(delta_over_base),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
