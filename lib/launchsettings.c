/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The launch settings file (issue 17), its format, builder and reader: what `apppoolctl run` and every
 * apid_pool_open() + apid_pool_get_identity() would read from SQLite for a
 * pool (its row and settings, and the identity built from its account
 * record, the shared group and the profile root), published beside the NSS
 * snapshot with the same generation, so that a launch reads one small file
 * instead of opening the registry (0.5 ms of SQLite on the test machine).
 *
 * Not in the snapshot: the snapshot is world-readable and this file holds
 * every pool setting, so it is root's alone (mode 0600, owned by root) and a
 * reader that is not root never reads it (it asks SQLite, as before).
 *
 * Written like the snapshot: built inside every write transaction, from the
 * registry as it is about to commit (the store calls apid__launch_build
 * through its hook); published after COMMIT under the snapshot's lock
 * (lib/store/launchfile.c), through O_TMPFILE, fsync'd, renamed into place.
 * A write rebuilds the records of the pools it changed and copies the
 * others from the file in place when that is the previous generation's. A
 * writer killed between COMMIT and publication leaves an older generation
 * in place, so the next writer builds its file whole from the registry:
 * it repairs it. A reader uses
 * the file only when its generation is the snapshot's it is answering from
 * (lib/lookup.c), its header checks, it is a regular file owned by root and
 * not readable by anyone else, and it names the same state directory;
 * anything else (absent, stale, corrupt, another version) is a miss and the
 * registry answers. Readers only open(O_RDONLY), fstat and mmap it.
 *
 * Format (host byte order; the file never leaves its host):
 *   header | state directory (NUL-terminated) | index | records
 * index: n_pools u32 offsets of records, sorted by canonical key (strcmp);
 * record: u32 size, uid, probe, shared_gid, n_settings, then NUL-terminated
 * strings: key, name, user, profile ("" for none), and n_settings pairs of
 * setting name and value. Only ApplicationPoolIdentity pools whose identity
 * owes nothing to NSS are written: the others are misses. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "lookup.h"

#define MAGIC "APIDLNCH"
#define VERSION 1u
/* Above this many pools the writer publishes a file with no records (every
 * launch asks SQLite): every write copies and syncs the whole file, and a
 * write must stay cheap with 10,000 pools (issue 17's pool add target). */
#define MAX_POOLS 1024

struct header {
        char magic[8];
        uint32_t version;
        uint32_t header_size;
        uint64_t generation;
        uint64_t size; /* of the whole file */
        uint32_t n_pools;
        uint32_t index;    /* offset of the u32 index */
        uint32_t dir;      /* offset of the state directory string */
        uint32_t check;    /* FNV-1a of the header bytes before it */
};

#define REC_FIXED (5 * sizeof(uint32_t))

static uint32_t fnv1a(const void *data, size_t n)
{
        const unsigned char *p = data;
        uint32_t h = 2166136261u;

        while (n--)
                h = (h ^ *p++) * 16777619u;
        return h;
}

/* ---- the writer ---- */

struct buf {
        char *p;
        size_t n, cap;
        int oom;
};

static void put(struct buf *b, const void *data, size_t n)
{
        if (b->oom)
                return;
        if (b->n + n > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                char *p;

                while (cap < b->n + n)
                        cap *= 2;
                p = realloc(b->p, cap);
                if (!p) {
                        b->oom = 1;
                        return;
                }
                b->p = p;
                b->cap = cap;
        }
        memcpy(b->p + b->n, data, n);
        b->n += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
        put(b, &v, sizeof(v));
}

static void put_str(struct buf *b, const char *s)
{
        put(b, s ? s : "", strlen(s ? s : "") + 1);
}

static void align4(struct buf *b)
{
        static const char zero[4];

        put(b, zero, (4 - b->n % 4) % 4);
}

/* *ours 1 if the identities of the registry's pools owe nothing to NSS:
 * no shared group, or one the registry provisioned. A status. */
static int shared_group_ours(struct sqlite3 *db, int *ours)
{
        _cleanup_free_ char *name = NULL;
        struct apid__posix_record a;
        int r = apid__config(db, "sharedGroup", &name);

        *ours = 0;
        if (r < 0)
                return r;
        if (!name[0]) {
                *ours = 1;
                return APID_OK;
        }
        r = apid__reg_record_by_user(db, name, &a);
        if (r == APID_ENOTFOUND)
                return APID_OK;
        *ours = r == APID_OK && a.kind == APID__POSIX_GROUP;
        return r;
}

/* Append pool key's record to b; APID_OK also when it is left out. */
static int add_pool(apid_ctx *ctx, struct sqlite3 *db, const char *key, struct buf *b, uint32_t *off)
{
        struct apid__pool_row row;
        struct apid__launch_id li;
        apid_identity *id = NULL;
        apid_pool *pool = NULL;
        size_t start, i;
        int r;

        *off = 0;
        r = apid__reg_pool_get(db, key, &row);
        if (r < 0)
                return r;
        r = apid__pool_from_row(ctx, &row, 0, 0, &pool);
        if (r == APID_OK && apid_pool_get_identity_type(pool) == APID_IDENTITY_APPLICATION_POOL_IDENTITY) {
                r = apid__identity_build(ctx, db, pool, &id);
                if (r == APID_OK && apid__identity_export(id, &li) == 0) {
                        align4(b);
                        start = b->n;
                        put_u32(b, 0); /* size, below */
                        put_u32(b, row.uid);
                        put_u32(b, li.probe);
                        put_u32(b, li.shared_gid);
                        put_u32(b, (uint32_t)row.n_settings);
                        put_str(b, row.key);
                        put_str(b, row.name);
                        put_str(b, li.user);
                        put_str(b, li.profile);
                        for (i = 0; i < row.n_settings; i++) {
                                put_str(b, row.setting_names[i]);
                                put_str(b, row.setting_values[i]);
                        }
                        if (!b->oom) {
                                uint32_t size = (uint32_t)(b->n - start);

                                memcpy(b->p + start, &size, sizeof(size));
                                *off = (uint32_t)start;
                        }
                }
        }
        apid_identity_free(id);
        apid_pool_free(pool);
        apid__pool_row_clear(&row);
        return r;
}

/* A pool the registry holds damaged (APID_ECORRUPT: its account row gone)
 * is left out (launches of it ask the registry, which says what is wrong):
 * one broken pool must not refuse every write. Any other failure (memory,
 * SQLite) fails the write, which then changes nothing. */
static int add_pool_or_skip(apid_ctx *ctx, struct sqlite3 *db, const char *key, struct buf *b, uint32_t *off)
{
        struct apid__error_state saved;
        int r;

        apid__error_save(&saved);
        r = add_pool(ctx, db, key, b, off);
        if (r == APID_ECORRUPT && apid__reg_in_transaction(db)) {
                *off = 0;
                apid__error_restore(&saved);
                return APID_OK;
        }
        return r;
}

/* The reader's side, below: the file of a generation, mapped and checked. */
struct map {
        const unsigned char *p;
        size_t size;
        const struct header *h;
};
static int map_open(apid_ctx *ctx, uint64_t generation, struct map *m);
static int record_at(const struct map *m, uint32_t i, size_t *start, size_t *end);

static int in_list(const uint32_t *list, size_t n, uint32_t v)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (list[mid] == v)
                        return 1;
                if (list[mid] < v)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return 0;
}

static int grow(uint32_t **offs, size_t n, size_t *cap)
{
        uint32_t *p;

        if (n < *cap)
                return 0;
        p = realloc(*offs, (*cap ? *cap * 2 : 64) * sizeof(*p));
        if (!p)
                return -1;
        *offs = p;
        *cap = *cap ? *cap * 2 : 64;
        return 0;
}

/* Every pool, from the registry. */
static int add_all(apid_ctx *ctx, struct sqlite3 *db, struct buf *b, uint32_t **offs, size_t *n_offs, size_t *cap)
{
        char **names = NULL;
        size_t n = 0, i;
        int r;

        r = apid__reg_pool_keys(db, &names, &n);
        for (i = 0; r == APID_OK && i < n; i++) {
                _cleanup_free_ char *key = NULL;

                r = apid_pool_name_canonical(names[i], &key);
                if (r == APID_OK)
                        r = grow(offs, *n_offs, cap) < 0 ? apid__fail_oom()
                                                        : add_pool_or_skip(ctx, db, key, b, &(*offs)[*n_offs]);
                if (r == APID_OK && (*offs)[*n_offs])
                        (*n_offs)++;
        }
        for (i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

/* The records of prev (the file of the generation before) whose uids did
 * not change, copied; then the pools of the uids that changed, from the
 * registry. A write costs what it changed, not the registry's size. */
static int add_changed(apid_ctx *ctx, struct sqlite3 *db, const struct map *prev, const uint32_t *changed,
                       size_t n_changed, struct buf *b, uint32_t **offs, size_t *n_offs, size_t *cap)
{
        size_t i, start, end;
        uint32_t uid;
        int r;

        for (i = 0; i < prev->h->n_pools; i++) {
                if (record_at(prev, (uint32_t)i, &start, &end) < 0 ||
                    !memchr(prev->p + start + REC_FIXED, '\0', end - start - REC_FIXED))
                        return APID__LOOKUP_MISS; /* build it all */
                memcpy(&uid, prev->p + start + 4, sizeof(uid));
                if (in_list(changed, n_changed, uid))
                        continue;
                if (grow(offs, *n_offs, cap) < 0)
                        return apid__fail_oom();
                align4(b);
                (*offs)[(*n_offs)++] = (uint32_t)b->n;
                put(b, prev->p + start, end - start);
        }
        for (i = 0; i < n_changed; i++) {
                _cleanup_free_ char *key = NULL;

                r = apid__reg_pool_key_by_uid(db, changed[i], &key);
                if (r == APID_ENOTFOUND)
                        continue;
                if (r == APID_OK)
                        r = grow(offs, *n_offs, cap) < 0 ? apid__fail_oom()
                                                        : add_pool_or_skip(ctx, db, key, b, &(*offs)[*n_offs]);
                if (r < 0)
                        return r;
                if ((*offs)[*n_offs])
                        (*n_offs)++;
        }
        return APID_OK;
}

static int cmp_rec(const void *a, const void *b, void *arg)
{
        const char *p = arg;

        return strcmp(p + *(const uint32_t *)a + REC_FIXED, p + *(const uint32_t *)b + REC_FIXED);
}

int apid__launch_build(apid_ctx *ctx, struct sqlite3 *db, uint64_t generation, const uint32_t *snap_changed,
                       size_t n_snap_changed, int snap_all, char **data, size_t *size)
{
        const char *dir = apid_ctx_get_state_dir(ctx);
        _cleanup_free_ uint32_t *offs = NULL, *changed = NULL;
        size_t n_changed = 0;
        int all = 0;
        size_t n = 0, n_offs = 0, cap = 0, i, records_at;
        struct buf b = { NULL, 0, 0, 0 };
        struct map prev;
        struct header h;
        int r, ours;

        *data = NULL;
        *size = 0;
        (void)snap_changed;
        (void)n_snap_changed;
        /* this transaction's changes (emptied also when no file is built);
         * a registry setting's is the snapshot log's -1, always this
         * transaction's (apid__reg_launch_changes) */
        r = apid__reg_launch_changes(db, &changed, &n_changed, &all);
        if (r < 0)
                return r;
        all = all || snap_all;
        if (geteuid() != 0)
                return APID_OK; /* a file no reader would take (not root's): none */
        r = apid__reg_pool_count(db, &n);
        if (r == APID_OK)
                r = shared_group_ours(db, &ours);
        if (r < 0)
                return r;
        memset(&h, 0, sizeof(h));
        put(&b, &h, sizeof(h));
        put_str(&b, dir);
        records_at = b.n;
        if (n <= MAX_POOLS && ours) {
                r = APID__LOOKUP_MISS;
                /* what changed since the file in place, when it is the
                 * previous generation's (a writer killed before publishing
                 * left an older one: everything is read again) */
                /* (a file without records, made over MAX_POOLS or too
                 * large, is no base: its pools were never written) */
                if (!all && generation > 1 && map_open(ctx, generation - 1, &prev) == 0) {
                        if (prev.h->n_pools > 0)
                                r = add_changed(ctx, db, &prev, changed, n_changed, &b, &offs, &n_offs, &cap);
                        munmap((void *)(uintptr_t)prev.p, prev.size);
                }
                if (r == APID__LOOKUP_MISS) {
                        b.n = records_at;
                        n_offs = 0;
                        r = add_all(ctx, db, &b, &offs, &n_offs, &cap);
                }
                if (r < 0)
                        goto out;
        }
        align4(&b);
        if (b.oom) {
                r = apid__fail_oom();
                goto out;
        }
        /* Too large to map cheaply: a file without records (every launch
         * asks the registry), not a refused write. */
        if (b.n + 4 * n_offs > APID__LAUNCH_MAX) {
                b.n = records_at;
                n_offs = 0;
                align4(&b);
        }
        /* the index is sorted as readers bisect it */
        if (n_offs) /* (offs is NULL without records) */
                qsort_r(offs, n_offs, sizeof(*offs), cmp_rec, b.p);
        memcpy(h.magic, MAGIC, sizeof(h.magic));
        h.version = VERSION;
        h.header_size = sizeof(h);
        h.generation = generation;
        h.index = (uint32_t)b.n;
        h.dir = sizeof(h);
        h.n_pools = (uint32_t)n_offs;
        for (i = 0; i < n_offs; i++)
                put_u32(&b, offs[i]);
        if (b.oom) {
                r = apid__fail_oom();
                goto out;
        }
        if (b.n > APID__LAUNCH_MAX) {
                r = apid__fail(APID_EINVAL, 0, "launch settings in %s: %zu bytes, more than %u", dir, b.n,
                               APID__LAUNCH_MAX);
                goto out;
        }
        h.size = b.n;
        h.check = fnv1a(&h, offsetof(struct header, check));
        memcpy(b.p, &h, sizeof(h));
        *data = b.p;
        *size = b.n;
        b.p = NULL;
        r = APID_OK;
out:
        free(b.p);
        return r;
}

/* ---- the reader ---- */

/* The string at *at within [.., end): advances *at past its NUL. */
static const char *get_str(const struct map *m, size_t *at, size_t end)
{
        const char *s = (const char *)m->p + *at;
        const char *nul;

        if (*at >= end)
                return NULL;
        nul = memchr(s, '\0', end - *at);
        if (!nul)
                return NULL;
        *at += (size_t)(nul - s) + 1;
        return s;
}

static int map_open(apid_ctx *ctx, uint64_t generation, struct map *m)
{
        const char *dir = apid_ctx_get_state_dir(ctx);
        char path[4200];
        struct stat st;
        const struct header *h;
        size_t at;
        const char *d;
        void *p;
        int fd;

        if (geteuid() != 0 || (size_t)snprintf(path, sizeof(path), "%s/" APID__LAUNCH_FILE, dir) >= sizeof(path))
                return -1;
        /* the generation the last writer announced before its COMMIT: any
         * other (it died after COMMIT, or an older file landed after it)
         * may not be the registry's */
        if (apid__launch_pending_get(dir) != generation)
                return -1;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -1;
        /* a regular file of root's, readable by nobody else, of a sane size */
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077) ||
            st.st_size < (off_t)sizeof(struct header) || (uint64_t)st.st_size > APID__LAUNCH_MAX) {
                close(fd);
                return -1;
        }
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (p == MAP_FAILED)
                return -1;
        m->p = p;
        m->size = (size_t)st.st_size;
        m->h = h = p;
        at = sizeof(*h);
        if (memcmp(h->magic, MAGIC, sizeof(h->magic)) != 0 || h->version != VERSION ||
            h->header_size != sizeof(*h) || h->size != m->size ||
            h->check != fnv1a(h, offsetof(struct header, check)) || h->generation != generation ||
            h->dir != sizeof(*h) || h->index % 4 || h->index > m->size ||
            (m->size - h->index) / 4 < h->n_pools || !(d = get_str(m, &at, h->index)) || strcmp(d, dir) != 0) {
                munmap(p, m->size);
                return -1;
        }
        return 0;
}

/* Record i's bounds: 0 and *start, *end, or -1. */
static int record_at(const struct map *m, uint32_t i, size_t *start, size_t *end)
{
        uint32_t off, size;

        memcpy(&off, m->p + m->h->index + (size_t)i * 4, sizeof(off));
        if (off % 4 || off < m->h->dir || off > m->h->index || m->h->index - off < REC_FIXED)
                return -1;
        memcpy(&size, m->p + off, sizeof(size));
        if (size < REC_FIXED || size > m->h->index - off)
                return -1;
        *start = off;
        *end = (size_t)off + size;
        return 0;
}

/* The record whose key is key, bisecting the index; -1 if none. */
static int find(const struct map *m, const char *key, size_t *start, size_t *end)
{
        uint32_t lo = 0, hi = m->h->n_pools;

        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                size_t at;
                const char *k;
                int c;

                if (record_at(m, mid, start, end) < 0)
                        return -1;
                at = *start + REC_FIXED;
                k = get_str(m, &at, *end);
                if (!k)
                        return -1;
                c = strcmp(key, k);
                if (c == 0)
                        return 0;
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return -1;
}

static int parse(const struct map *m, size_t start, size_t end, uint32_t uid, struct apid__pool_row *row,
                 struct apid__launch_id *li)
{
        uint32_t f[5], n, i;
        size_t at = start + REC_FIXED;
        const char *key, *name;

        memcpy(f, m->p + start, sizeof(f));
        n = f[4];
        if (f[1] != uid || n > (end - start) / 2)
                return -1;
        key = get_str(m, &at, end);
        name = get_str(m, &at, end);
        li->user = get_str(m, &at, end);
        li->profile = get_str(m, &at, end);
        if (!key || !name || !li->user || !li->profile)
                return -1;
        li->uid = f[1];
        li->probe = f[2];
        li->shared_gid = f[3];
        row->uid = f[1];
        row->name = strdup(name);
        row->key = strdup(key);
        row->setting_names = calloc(n + 1, sizeof(char *));
        row->setting_values = calloc(n + 1, sizeof(char *));
        if (!row->name || !row->key || !row->setting_names || !row->setting_values)
                return -1;
        for (i = 0; i < n; i++) {
                const char *sn = get_str(m, &at, end), *sv = sn ? get_str(m, &at, end) : NULL;

                if (!sv)
                        return -1;
                row->setting_names[i] = strdup(sn);
                row->setting_values[i] = strdup(sv);
                row->n_settings = i + 1;
                if (!row->setting_names[i] || !row->setting_values[i])
                        return -1;
        }
        return 0;
}

int apid__launch_entry(apid_ctx *ctx, uint64_t generation, const char *key, uint32_t uid,
                       struct apid__pool_row *row, apid_identity **id)
{
        struct apid__error_state saved;
        struct apid__launch_id li;
        struct map m;
        size_t start, end;
        int r = APID__LOOKUP_MISS;

        memset(row, 0, sizeof(*row));
        *id = NULL;
        if (map_open(ctx, generation, &m) < 0)
                return APID__LOOKUP_MISS;
        apid__error_save(&saved); /* a record refused is a miss, no failure */
        if (find(&m, key, &start, &end) == 0 && parse(&m, start, end, uid, row, &li) == 0 &&
            strcmp(row->key, key) == 0 && apid__identity_import(ctx, row->name, &li, id) == APID_OK)
                r = APID_OK;
        apid__error_restore(&saved);
        munmap((void *)(uintptr_t)m.p, m.size);
        if (r != APID_OK)
                apid__pool_row_clear(row);
        return r;
}
