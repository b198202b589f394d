/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NSS snapshot's binary format: checked reader and builder (see
 * snapshot.h). Linked into libapppoolid and into libnss_apppoolid, which
 * runs in every process that looks up a user: nothing read is trusted. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../internal.h"
#include "snapshot.h"

static uint32_t fnv1a(const void *data, size_t n)
{
        const unsigned char *p = data;
        uint32_t h = 2166136261u;

        while (n--)
                h = (h ^ *p++) * 16777619u;
        return h;
}

/* [off, off + n * size) inside the file, 4-byte aligned. */
static int in_bounds(size_t file, uint32_t off, uint32_t n, size_t size)
{
        return off % 4 == 0 && off <= file && (uint64_t)n * size <= (uint64_t)(file - off);
}

/* One mapped file, checked: a complete snapshot, a delta, or a base. */
struct part {
        const unsigned char *data;
        const struct apid__snap_header *h;
};

static int check_part(const void *data, size_t size)
{
        const struct apid__snap_header *h = data;
        uint32_t nu, ng;

        if (size < sizeof(*h) || ((uintptr_t)data % 8) != 0)
                return -1;
        if (memcmp(h->magic, APID__SNAP_MAGIC, 8) != 0 || h->version != APID__SNAP_VERSION ||
            h->header_size != sizeof(*h) || h->size != size ||
            h->check != fnv1a(h, offsetof(struct apid__snap_header, check)))
                return -1;
        nu = h->n_users;
        ng = h->n_groups;
        if (!in_bounds(size, h->users, nu, sizeof(struct apid__snap_urec)) ||
            !in_bounds(size, h->groups, ng, sizeof(struct apid__snap_grec)) ||
            !in_bounds(size, h->by_name, nu, 4) || !in_bounds(size, h->by_uid, nu, 4) ||
            !in_bounds(size, h->by_sid, nu, 4) || !in_bounds(size, h->by_key, nu, 4) ||
            !in_bounds(size, h->gr_by_name, ng, 4) || !in_bounds(size, h->gr_by_gid, ng, 4) ||
            !in_bounds(size, h->gone_uids, h->n_gone_uids, 4) || !in_bounds(size, h->gone_gids, h->n_gone_gids, 4) ||
            (h->base_generation == 0 && (h->n_gone_uids || h->n_gone_gids)) ||
            (h->base_generation != 0 && h->base_generation >= h->generation) ||
            h->strings > size || h->strings_size > size - h->strings || h->strings_size == 0 ||
            ((const char *)data)[h->strings + h->strings_size - 1] != '\0')
                return -1;
        return 0;
}

int apid__snap_check(const void *data, size_t size, struct apid__snap *s)
{
        memset(s, 0, sizeof(*s));
        if (check_part(data, size) < 0)
                return -1;
        s->data = data;
        s->size = size;
        s->h = data;
        return 0;
}

int apid__snap_base_path(char *buf, size_t size, const char *path, uint64_t base_generation)
{
        int n = snprintf(buf, size, "%s.base-%llu", path, (unsigned long long)base_generation);

        return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Map one file under the checks apid__snap_open documents. */
static int map_file(const char *path, int root_only, size_t max_size, const void **data, size_t *size,
                    struct stat *st_out)
{
        struct stat st;
        void *p;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -1;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 022) ||
            (st.st_uid != 0 && (root_only || st.st_uid != geteuid())) ||
            st.st_size < (off_t)sizeof(struct apid__snap_header) || (uint64_t)st.st_size > max_size) {
                close(fd);
                return -1;
        }
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (p == MAP_FAILED)
                return -1;
        if (check_part(p, (size_t)st.st_size) < 0) {
                munmap(p, (size_t)st.st_size);
                return -1;
        }
        *data = p;
        *size = (size_t)st.st_size;
        if (st_out)
                *st_out = st;
        return 0;
}

int apid__snap_open(const char *path, int root_only, size_t max_size, struct apid__snap *s, struct stat *st_out)
{
        int tries;

        memset(s, 0, sizeof(*s));
        /* A writer that compacts replaces the head, then removes the old
         * base: a head read just before may name a base that is gone, and
         * the head read again names the new one. */
        for (tries = 0; tries < 4; tries++) {
                const struct apid__snap_header *h, *bh;
                const void *data, *base;
                size_t size, base_size;
                char bpath[4200];

                if (map_file(path, root_only, max_size, &data, &size, st_out) < 0)
                        return -1;
                h = data;
                if (h->base_generation == 0) {
                        s->data = data;
                        s->size = size;
                        s->h = h;
                        s->mapped = 1;
                        return 0;
                }
                if (apid__snap_base_path(bpath, sizeof(bpath), path, h->base_generation) < 0 ||
                    map_file(bpath, root_only, max_size, &base, &base_size, NULL) < 0) {
                        munmap((void *)(uintptr_t)data, size);
                        continue;
                }
                bh = base;
                s->view = malloc(sizeof(*s->view));
                if (bh->base_generation != 0 || bh->generation != h->base_generation || !s->view ||
                    (uint64_t)bh->n_users + h->n_users > UINT32_MAX || (uint64_t)bh->n_groups + h->n_groups > UINT32_MAX) {
                        free(s->view);
                        s->view = NULL;
                        munmap((void *)(uintptr_t)data, size);
                        munmap((void *)(uintptr_t)base, base_size);
                        return -1;
                }
                *s->view = *h;
                s->view->n_users = bh->n_users + h->n_users;
                s->view->n_groups = bh->n_groups + h->n_groups;
                s->data = data;
                s->size = size;
                s->base_data = base;
                s->base_size = base_size;
                s->h = s->view;
                s->mapped = 1;
                return 0;
        }
        return -1;
}

void apid__snap_close(struct apid__snap *s)
{
        if (s->mapped && s->data)
                munmap((void *)(uintptr_t)s->data, s->size);
        if (s->mapped && s->base_data)
                munmap((void *)(uintptr_t)s->base_data, s->base_size);
        free(s->view);
        memset(s, 0, sizeof(*s));
}

static struct part head_of(const struct apid__snap *s)
{
        return (struct part){ s->data, (const struct apid__snap_header *)(const void *)s->data };
}

static struct part base_of(const struct apid__snap *s)
{
        return (struct part){ s->base_data, (const struct apid__snap_header *)(const void *)s->base_data };
}

/* The string at off, if it lies wholly in the table and has at most max
 * bytes, none a control character or ':' (fields of passwd and group lines). */
static const char *str_at(struct part p, uint32_t off, size_t max)
{
        const char *t = (const char *)p.data + p.h->strings;
        const char *end;
        size_t n, i;

        if (off >= p.h->strings_size)
                return NULL;
        end = memchr(t + off, '\0', p.h->strings_size - off);
        n = (size_t)(end - (t + off));
        if (n > max)
                return NULL;
        for (i = 0; i < n; i++)
                if ((unsigned char)t[off + i] < 0x20 || t[off + i] == ':' || t[off + i] == 0x7f)
                        return NULL;
        return t + off;
}

static int id_ok(uint32_t id)
{
        return id >= APID__SNAP_MIN_ID && id <= APID__SNAP_MAX_ID;
}

/* "a,b,c": each a valid name; "", but not ",a", "a,,b" or "a,". */
static int members_ok(const char *m)
{
        while (*m) {
                char name[33];
                size_t len = strcspn(m, ",");

                if (len == 0 || len >= sizeof(name))
                        return 0;
                memcpy(name, m, len);
                name[len] = '\0';
                if (!apid__posix_name_valid(name))
                        return 0;
                m += len;
                if (*m == ',' && !*++m)
                        return 0;
        }
        return 1;
}

static int part_user_at(struct part p, uint32_t i, struct apid__snap_user *u)
{
        const struct apid__snap_urec *r;

        if (i >= p.h->n_users)
                return -1;
        r = (const struct apid__snap_urec *)(const void *)(p.data + p.h->users) + i;
        u->uid = r->uid;
        u->name = str_at(p, r->name, 32);
        u->gecos = str_at(p, r->gecos, 512);
        u->home = str_at(p, r->home, 4096);
        u->key = str_at(p, r->key, 512);
        u->sid = str_at(p, r->sid, 256);
        if (!u->name || !u->gecos || !u->home || !u->key || !u->sid || !id_ok(u->uid) ||
            !apid__posix_name_valid(u->name) || u->home[0] != '/')
                return -1;
        return 0;
}

static int part_group_at(struct part p, uint32_t i, struct apid__snap_group *g)
{
        const struct apid__snap_grec *r;

        if (i >= p.h->n_groups)
                return -1;
        r = (const struct apid__snap_grec *)(const void *)(p.data + p.h->groups) + i;
        g->gid = r->gid;
        g->name = str_at(p, r->name, 32);
        g->members = str_at(p, r->members, APID__NSS_MAX_SNAPSHOT);
        if (!g->name || !g->members || !id_ok(g->gid) || !apid__posix_name_valid(g->name) || !members_ok(g->members))
                return -1;
        return 0;
}

/* The raw key of record i for an index, without the full check: a string
 * (bounds-checked, NULL if out of the table) or an id. */
static const char *raw_str(struct part p, uint32_t off)
{
        const char *t = (const char *)p.data + p.h->strings;

        if (off >= p.h->strings_size)
                return NULL;
        return t + off; /* NUL-terminated: the table ends with a NUL (checked) */
}

static int user_cmp(struct part p, uint32_t i, enum apid__snap_by by, const char *text, uint32_t id, int *cmp)
{
        const struct apid__snap_urec *r = (const struct apid__snap_urec *)(const void *)(p.data + p.h->users) + i;
        const char *k;

        if (by == APID__SNAP_BY_UID) {
                *cmp = r->uid < id ? -1 : r->uid > id;
                return 0;
        }
        k = raw_str(p, by == APID__SNAP_BY_NAME ? r->name : by == APID__SNAP_BY_SID ? r->sid : r->key);
        if (!k)
                return -1;
        *cmp = strcmp(k, text);
        return 0;
}

static int group_cmp(struct part p, uint32_t i, enum apid__snap_by by, const char *text, uint32_t id, int *cmp)
{
        const struct apid__snap_grec *r = (const struct apid__snap_grec *)(const void *)(p.data + p.h->groups) + i;
        const char *k;

        if (by == APID__SNAP_BY_UID) {
                *cmp = r->gid < id ? -1 : r->gid > id;
                return 0;
        }
        k = raw_str(p, r->name);
        if (!k)
                return -1;
        *cmp = strcmp(k, text);
        return 0;
}

/* Bisect index (n entries of record numbers below n); -1 if not found. */
static int64_t bisect(struct part p, uint32_t index, uint32_t n, int group, enum apid__snap_by by, const char *text,
                      uint32_t id)
{
        const uint32_t *ix = (const uint32_t *)(const void *)(p.data + index);
        uint32_t lo = 0, hi = n;

        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2, rec = ix[mid];
                int c;

                if (rec >= n)
                        return -1;
                if ((group ? group_cmp(p, rec, by, text, id, &c) : user_cmp(p, rec, by, text, id, &c)) < 0)
                        return -1;
                if (c == 0)
                        return rec;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

/* 1 if id is in the sorted array at off (n entries). */
static int id_listed(struct part p, uint32_t off, uint32_t n, uint32_t id)
{
        const uint32_t *a = (const uint32_t *)(const void *)(p.data + off);
        uint32_t lo = 0, hi = n;

        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;

                if (a[mid] == id)
                        return 1;
                if (a[mid] < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return 0;
}

/* 1 if the delta replaces or removes the base's user (group) of this id. */
static int superseded(struct part head, int group, uint32_t id)
{
        if (group)
                return id_listed(head, head.h->gone_gids, head.h->n_gone_gids, id) ||
                       bisect(head, head.h->gr_by_gid, head.h->n_groups, 1, APID__SNAP_BY_UID, NULL, id) >= 0;
        return id_listed(head, head.h->gone_uids, head.h->n_gone_uids, id) ||
               bisect(head, head.h->by_uid, head.h->n_users, 0, APID__SNAP_BY_UID, NULL, id) >= 0;
}

int apid__snap_user_at(const struct apid__snap *s, uint32_t i, struct apid__snap_user *u)
{
        struct part head = head_of(s);

        if (!s->h)
                return -1;
        if (s->base_data) {
                struct part base = base_of(s);

                if (i < base.h->n_users) {
                        if (part_user_at(base, i, u) < 0 || superseded(head, 0, u->uid))
                                return -1;
                        return 0;
                }
                i -= base.h->n_users;
        }
        return part_user_at(head, i, u);
}

int apid__snap_group_at(const struct apid__snap *s, uint32_t i, struct apid__snap_group *g)
{
        struct part head = head_of(s);

        if (!s->h)
                return -1;
        if (s->base_data) {
                struct part base = base_of(s);

                if (i < base.h->n_groups) {
                        if (part_group_at(base, i, g) < 0 || superseded(head, 1, g->gid))
                                return -1;
                        return 0;
                }
                i -= base.h->n_groups;
        }
        return part_group_at(head, i, g);
}

/* The record number in p of the user the query names, or -1. */
static int64_t part_find_user(struct part p, enum apid__snap_by by, const char *text, uint32_t id,
                              struct apid__snap_user *u)
{
        const struct apid__snap_header *h = p.h;
        uint32_t index = by == APID__SNAP_BY_NAME ? h->by_name : by == APID__SNAP_BY_UID ? h->by_uid
                         : by == APID__SNAP_BY_SID ? h->by_sid : h->by_key;
        int64_t rec;
        int c;

        rec = bisect(p, index, h->n_users, 0, by, text, id);
        if (rec < 0 || part_user_at(p, (uint32_t)rec, u) < 0)
                return -1;
        /* The hit is the query's, whatever the index said. */
        c = by == APID__SNAP_BY_UID ? u->uid != id
            : strcmp(by == APID__SNAP_BY_NAME ? u->name : by == APID__SNAP_BY_SID ? u->sid : u->key, text);
        return c == 0 ? rec : -1;
}

/* A delta's record first; else the base's, unless the delta replaces or
 * removes it (a replaced record that no longer matches is not answered
 * from the base). The number returned counts as apid__snap_user_at() does:
 * the base's records first, then the delta's. */
int64_t apid__snap_find_user_index(const struct apid__snap *s, enum apid__snap_by by, const char *text, uint32_t id,
                                   struct apid__snap_user *u)
{
        int64_t rec;

        if (!s->h || (by != APID__SNAP_BY_UID && !text))
                return -1;
        rec = part_find_user(head_of(s), by, text, id, u);
        if (rec >= 0)
                return s->base_data ? (int64_t)base_of(s).h->n_users + rec : rec;
        if (!s->base_data || (rec = part_find_user(base_of(s), by, text, id, u)) < 0)
                return -1;
        return superseded(head_of(s), 0, u->uid) ? -1 : rec;
}

/* Record rec (numbered as apid__snap_user_at() does) is the one the query
 * names. Only a number apid__snap_find_user_index() returned for this
 * mapping is ever asked (a cache's hash slot), so a base record the delta
 * supersedes is never one: the key is compared, not the supersession. */
int apid__snap_user_is(const struct apid__snap *s, uint32_t rec, enum apid__snap_by by, const char *text, uint32_t id)
{
        struct part p = head_of(s);
        int c;

        if (!s->h || rec >= s->h->n_users || (by != APID__SNAP_BY_UID && !text))
                return 0;
        if (s->base_data) {
                struct part base = base_of(s);

                if (rec < base.h->n_users)
                        p = base;
                else
                        rec -= base.h->n_users;
        }
        if (rec >= p.h->n_users)
                return 0;
        return user_cmp(p, rec, by, text, id, &c) == 0 && c == 0;
}

int apid__snap_find_user(const struct apid__snap *s, enum apid__snap_by by, const char *text, uint32_t id,
                         struct apid__snap_user *u)
{
        return apid__snap_find_user_index(s, by, text, id, u) < 0 ? -1 : 0;
}

static int part_find_group(struct part p, enum apid__snap_by by, const char *text, uint32_t id,
                           struct apid__snap_group *g)
{
        int64_t rec;

        rec = bisect(p, by == APID__SNAP_BY_UID ? p.h->gr_by_gid : p.h->gr_by_name, p.h->n_groups, 1, by, text, id);
        if (rec < 0 || part_group_at(p, (uint32_t)rec, g) < 0)
                return -1;
        return (by == APID__SNAP_BY_UID ? g->gid == id : strcmp(g->name, text) == 0) ? 0 : -1;
}

int apid__snap_find_group(const struct apid__snap *s, enum apid__snap_by by, const char *text, uint32_t id,
                          struct apid__snap_group *g)
{
        if (!s->h || (by != APID__SNAP_BY_UID && !text))
                return -1;
        if (part_find_group(head_of(s), by, text, id, g) == 0)
                return 0;
        if (!s->base_data || part_find_group(base_of(s), by, text, id, g) < 0)
                return -1;
        return superseded(head_of(s), 1, g->gid) ? -1 : 0;
}

/* ---- building ---- */

struct sort_ctx {
        const struct apid__snap_user_in *users;
        const struct apid__snap_group_in *groups;
        enum apid__snap_by by;
};

static int user_order(const void *a, const void *b, void *arg)
{
        const struct sort_ctx *c = arg;
        const struct apid__snap_user_in *x = &c->users[*(const uint32_t *)a], *y = &c->users[*(const uint32_t *)b];

        switch (c->by) {
        case APID__SNAP_BY_UID: return x->uid < y->uid ? -1 : x->uid > y->uid;
        case APID__SNAP_BY_NAME: return strcmp(x->name, y->name);
        case APID__SNAP_BY_SID: return strcmp(x->sid, y->sid);
        default: return strcmp(x->key, y->key);
        }
}

static int group_order(const void *a, const void *b, void *arg)
{
        const struct sort_ctx *c = arg;
        const struct apid__snap_group_in *x = &c->groups[*(const uint32_t *)a], *y = &c->groups[*(const uint32_t *)b];

        if (c->by == APID__SNAP_BY_UID)
                return x->gid < y->gid ? -1 : x->gid > y->gid;
        return strcmp(x->name, y->name);
}

struct buf {
        unsigned char *p;
        size_t len, cap, max;
};

static int reserve(struct buf *b, size_t n)
{
        size_t cap = b->cap ? b->cap : 4096;
        unsigned char *p;

        if (b->len + n > b->max)
                return -E2BIG;
        while (cap < b->len + n)
                cap *= 2;
        if (cap == b->cap)
                return 0;
        p = realloc(b->p, cap);
        if (!p)
                return -ENOMEM;
        memset(p + b->cap, 0, cap - b->cap);
        b->p = p;
        b->cap = cap;
        return 0;
}

/* Append a string to the table at tab (the table's start in b). */
static int add_str(struct buf *b, size_t tab, const char *s, uint32_t *off)
{
        size_t n = strlen(s) + 1;
        int r = reserve(b, n);

        if (r < 0)
                return r;
        memcpy(b->p + b->len, s, n);
        *off = (uint32_t)(b->len - tab);
        b->len += n;
        return 0;
}

static int add_index(struct buf *b, size_t n, struct sort_ctx *c, int group, enum apid__snap_by by, uint32_t *off)
{
        uint32_t *ix;
        size_t i;
        int r = reserve(b, n * 4);

        if (r < 0)
                return r;
        *off = (uint32_t)b->len;
        ix = (uint32_t *)(void *)(b->p + b->len);
        for (i = 0; i < n; i++)
                ix[i] = (uint32_t)i;
        c->by = by;
        qsort_r(ix, n, 4, group ? group_order : user_order, c);
        b->len += n * 4;
        return 0;
}

static int id_order(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return x < y ? -1 : x > y;
}

/* Append ids sorted, without duplicates; *count receives how many. */
static int add_ids(struct buf *b, const uint32_t *ids, size_t n, uint32_t *off, uint32_t *count)
{
        uint32_t *a;
        size_t i, o = 0;
        int r = reserve(b, n * 4);

        if (r < 0)
                return r;
        *off = (uint32_t)b->len;
        a = (uint32_t *)(void *)(b->p + b->len);
        if (n)
                memcpy(a, ids, n * 4);
        qsort(a, n, 4, id_order);
        for (i = 0; i < n; i++)
                if (o == 0 || a[o - 1] != a[i])
                        a[o++] = a[i];
        *count = (uint32_t)o;
        b->len += o * 4;
        return 0;
}

static int build(const struct apid__snap_user_in *users, size_t n_users, const struct apid__snap_group_in *groups,
                 size_t n_groups, const uint32_t *gone_uids, size_t n_gone_uids, const uint32_t *gone_gids,
                 size_t n_gone_gids, uint64_t generation, uint64_t base_generation, size_t max_size, void **out,
                 size_t *out_size)
{
        struct buf b = { .max = max_size };
        struct sort_ctx c = { users, groups, APID__SNAP_BY_NAME };
        struct apid__snap_header *h;
        struct apid__snap check;
        size_t i, tab;
        uint32_t users_off, groups_off;
        int r;

        if (n_users > UINT32_MAX / 64 || n_groups > UINT32_MAX / 64)
                return -E2BIG;
        r = reserve(&b, sizeof(*h) + n_users * sizeof(struct apid__snap_urec) +
                                n_groups * sizeof(struct apid__snap_grec));
        if (r < 0)
                goto fail;
        b.len = sizeof(*h);
        users_off = (uint32_t)b.len;
        b.len += n_users * sizeof(struct apid__snap_urec);
        groups_off = (uint32_t)b.len;
        b.len += n_groups * sizeof(struct apid__snap_grec);
        {
                uint32_t ix[6];

                if ((r = add_index(&b, n_users, &c, 0, APID__SNAP_BY_NAME, &ix[0])) < 0 ||
                    (r = add_index(&b, n_users, &c, 0, APID__SNAP_BY_UID, &ix[1])) < 0 ||
                    (r = add_index(&b, n_users, &c, 0, APID__SNAP_BY_SID, &ix[2])) < 0 ||
                    (r = add_index(&b, n_users, &c, 0, APID__SNAP_BY_KEY, &ix[3])) < 0 ||
                    (r = add_index(&b, n_groups, &c, 1, APID__SNAP_BY_NAME, &ix[4])) < 0 ||
                    (r = add_index(&b, n_groups, &c, 1, APID__SNAP_BY_UID, &ix[5])) < 0)
                        goto fail;
                h = (struct apid__snap_header *)(void *)b.p;
                h->by_name = ix[0];
                h->by_uid = ix[1];
                h->by_sid = ix[2];
                h->by_key = ix[3];
                h->gr_by_name = ix[4];
                h->gr_by_gid = ix[5];
        }
        {
                uint32_t off[2], n[2];

                if (n_gone_uids > UINT32_MAX / 64 || n_gone_gids > UINT32_MAX / 64) {
                        r = -E2BIG;
                        goto fail;
                }
                if ((r = add_ids(&b, gone_uids, n_gone_uids, &off[0], &n[0])) < 0 ||
                    (r = add_ids(&b, gone_gids, n_gone_gids, &off[1], &n[1])) < 0)
                        goto fail;
                h = (struct apid__snap_header *)(void *)b.p;
                h->gone_uids = off[0];
                h->n_gone_uids = n[0];
                h->gone_gids = off[1];
                h->n_gone_gids = n[1];
        }
        tab = b.len;
        for (i = 0; i < n_users; i++) {
                struct apid__snap_urec rec = { .uid = users[i].uid };

                if ((r = add_str(&b, tab, users[i].name, &rec.name)) < 0 ||
                    (r = add_str(&b, tab, users[i].gecos, &rec.gecos)) < 0 ||
                    (r = add_str(&b, tab, users[i].home, &rec.home)) < 0 ||
                    (r = add_str(&b, tab, users[i].key, &rec.key)) < 0 ||
                    (r = add_str(&b, tab, users[i].sid, &rec.sid)) < 0)
                        goto fail;
                memcpy(b.p + users_off + i * sizeof(rec), &rec, sizeof(rec));
        }
        for (i = 0; i < n_groups; i++) {
                struct apid__snap_grec rec = { .gid = groups[i].gid };

                if ((r = add_str(&b, tab, groups[i].name, &rec.name)) < 0 ||
                    (r = add_str(&b, tab, groups[i].members, &rec.members)) < 0)
                        goto fail;
                memcpy(b.p + groups_off + i * sizeof(rec), &rec, sizeof(rec));
        }
        if ((r = reserve(&b, 8)) < 0) /* a final NUL; the size a multiple of 8 */
                goto fail;
        b.len += 1;
        h = (struct apid__snap_header *)(void *)b.p;
        memcpy(h->magic, APID__SNAP_MAGIC, 8);
        h->version = APID__SNAP_VERSION;
        h->header_size = sizeof(*h);
        h->generation = generation;
        h->base_generation = base_generation;
        h->n_users = (uint32_t)n_users;
        h->n_groups = (uint32_t)n_groups;
        h->users = users_off;
        h->groups = groups_off;
        h->strings = (uint32_t)tab;
        h->strings_size = (uint32_t)(b.len - tab);
        b.len = (b.len + 7) & ~(size_t)7;
        h->strings_size = (uint32_t)(b.len - tab); /* padding NULs belong to the table */
        h->size = b.len;
        h->check = fnv1a(h, offsetof(struct apid__snap_header, check));
        /* What the reader would refuse is not written. */
        if (apid__snap_check(b.p, b.len, &check) < 0) {
                r = -EINVAL;
                goto fail;
        }
        for (i = 0; i < n_users; i++) {
                struct apid__snap_user u;

                if (apid__snap_user_at(&check, (uint32_t)i, &u) < 0) {
                        r = -EINVAL;
                        goto fail;
                }
        }
        for (i = 0; i < n_groups; i++) {
                struct apid__snap_group g;

                if (apid__snap_group_at(&check, (uint32_t)i, &g) < 0) {
                        r = -EINVAL;
                        goto fail;
                }
        }
        *out = b.p;
        *out_size = b.len;
        return 0;
fail:
        free(b.p);
        return r;
}

int apid__snap_build(const struct apid__snap_user_in *users, size_t n_users, const struct apid__snap_group_in *groups,
                     size_t n_groups, uint64_t generation, size_t max_size, void **out, size_t *out_size)
{
        return build(users, n_users, groups, n_groups, NULL, 0, NULL, 0, generation, 0, max_size, out, out_size);
}

int apid__snap_build_delta(const struct apid__snap_user_in *users, size_t n_users,
                           const struct apid__snap_group_in *groups, size_t n_groups, const uint32_t *gone_uids,
                           size_t n_gone_uids, const uint32_t *gone_gids, size_t n_gone_gids, uint64_t generation,
                           uint64_t base_generation, size_t max_size, void **out, size_t *out_size)
{
        if (base_generation == 0)
                return -EINVAL;
        return build(users, n_users, groups, n_groups, gone_uids, n_gone_uids, gone_gids, n_gone_gids, generation,
                     base_generation, max_size, out, out_size);
}
