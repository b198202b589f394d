/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context's lookup cache (issue 17): apid_identity_from_user/_uid/_sid,
 * apid_pool_open and apid_pool_get_identity answered at memory speed.
 *
 * A "view" is one mapping of the published NSS snapshot (lib/store/
 * snapshot.h: checked, indexed by user name, uid, SID and pool key) plus,
 * per user record, what the library derived from the registry for it: the
 * pool's row and its identity. Records are found through the snapshot's
 * indexes (no SQLite); the first lookup of a record in a view reads its row
 * and builds its identity in one registry read transaction, and keeps them
 * only if that transaction saw the same generation as the snapshot's
 * header; later lookups hand out a reference to the same immutable identity.
 *
 * When SQLite is asked instead (APID__LOOKUP_MISS):
 *   - the cache is off (APPPOOLID_LOOKUP_CACHE=0);
 *   - the snapshot is absent, not one the reader accepts, or corrupt;
 *   - it is stale: older than a write this process committed (its
 *     publication failed, or another thread is between COMMIT and
 *     publication: lib/store/committed.c), or a registry read found another
 *     generation than its header (a writer killed between COMMIT and
 *     publication; the next writer repairs it, and the next view is used);
 *   - the key is not in the snapshot: a miss is confirmed by the registry,
 *     which also holds records the snapshot leaves out (names an older
 *     library imported unchecked) and says why a name is no pool's;
 *   - the identity was built from NSS answers (SpecificUser, an account
 *     the administrator made, a shared group NSS serves): NSS changes
 *     without the registry's generation moving.
 *
 * Revalidation: the snapshot is replaced by rename, so the mapped file
 * never changes; a newer one is a new inode. A lookup re-stat()s the path
 * when this process committed a write since the view was checked (one
 * atomic load), and otherwise at most once per tick of CLOCK_MONOTONIC_
 * COARSE (1 to 10 ms, read from the vDSO without a system call): a stat()
 * per lookup costs more than the whole lookup (1.3 us on the test machine).
 * So another process's change is seen by lookups that start one tick after
 * its publication, which itself follows its COMMIT (as for every reader of
 * the snapshot, the NSS module included); this process's own changes are
 * seen at once.
 *
 * Threads: the current view is swapped under a rwlock taken for reading
 * only to take a reference; a record's entry is published with a
 * compare-and-swap. Lookups from many threads share no mutex unless they
 * build an entry (the registry's transaction) or find the cache stale.
 *
 * Readers never write: stat(), open(O_RDONLY) and mmap(PROT_READ) only.
 * The snapshot is opened only through a state directory whose path passed
 * the registry's walk (view_open). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "idmap/idmap.h"
#include "lookup.h"
#include "store/committed.h"

struct entry {
        struct apid__pool_row row;
        apid_identity *id; /* NULL: ask the registry (built from NSS, or failed) */
};

struct view {
        unsigned refs;           /* __atomic */
        struct apid__snap snap;
        struct stat st;
        uint64_t generation;
        int64_t checked;         /* __atomic: the coarse tick of the last check */
        unsigned commits_seen;   /* __atomic: apid__store_commits() then */
        int stale;               /* __atomic: a registry read saw another generation */
        struct entry **slots;    /* __atomic pointers, one per user record */
        /* Per key kind (enum apid__snap_by), an insert-only hash of the
         * records found so far: slot = record + 1, 0 empty; cap a power of
         * two at least twice n_users, so it never fills. A hit is compared
         * with the record again. The snapshot's sorted indexes find a record
         * the first time (a dozen string comparisons scattered over the
         * file); this finds it again with one. */
        uint32_t *hash[4];
        uint32_t mask;
};

struct apid__lookup {
        pthread_rwlock_t lock; /* guards view (the pointer, not the view) */
        struct view *view;
        int off;
};

static void entry_free(struct entry *e)
{
        if (!e)
                return;
        apid__pool_row_clear(&e->row);
        apid_identity_free(e->id);
        free(e);
}

static void view_unref(struct view *v)
{
        uint32_t i;

        if (!v || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0)
                return;
        for (i = 0; i < v->snap.h->n_users; i++)
                entry_free(v->slots[i]);
        free(v->slots);
        free(v->hash[0]);
        apid__snap_close(&v->snap);
        free(v);
}

struct apid__lookup *apid__lookup_new(void)
{
        struct apid__lookup *l = calloc(1, sizeof(*l));
        const char *env = secure_getenv("APPPOOLID_LOOKUP_CACHE");

        if (!l)
                return NULL;
        pthread_rwlock_init(&l->lock, NULL);
        l->off = env && strcmp(env, "0") == 0;
        return l;
}

void apid__lookup_reset(struct apid__lookup *l)
{
        struct view *v;

        pthread_rwlock_wrlock(&l->lock);
        v = l->view;
        l->view = NULL;
        pthread_rwlock_unlock(&l->lock);
        view_unref(v);
}

void apid__lookup_free(struct apid__lookup *l)
{
        if (!l)
                return;
        apid__lookup_reset(l);
        pthread_rwlock_destroy(&l->lock);
        free(l);
}

#define NO_TICK INT64_MIN /* no clock: check every time */

static int64_t coarse_tick(void)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) < 0)
                return NO_TICK;
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int same_file(const struct stat *a, const struct stat *b)
{
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
               a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Map the snapshot in the state directory dir as a new view (one
 * reference for the caller). The path to dir is walked first, as the
 * registry's is (apid__safe_state_dir: no directory or symbolic link on the
 * way that anyone but root or this user could change), and the snapshot is
 * opened in the directory that walk reached: a pool that owns a directory
 * on the way, or made a link there, could otherwise hand every lookup a
 * snapshot of its choosing (the registry check comes only later, for the
 * record found). The snapshot itself is opened O_NOFOLLOW | O_NONBLOCK
 * and must be a regular file of root's or this user's (apid__snap_open):
 * a link, a FIFO or a directory in its place is refused at once, and the
 * lookup asks the registry, which says what is wrong. A walk per mapping,
 * not per lookup: a new snapshot is mapped once per publication. */
static struct view *view_open(const char *dir)
{
        struct view *v = calloc(1, sizeof(*v));
        struct apid__error_state saved;
        _cleanup_free_ char *real = NULL;
        char path[4200];
        int r;

        if (!v)
                return NULL;
        apid__error_save(&saved); /* a refusal here is no failure: the registry reports it */
        r = apid__safe_state_dir(dir, &real);
        apid__error_restore(&saved);
        if (r == APID_OK &&
            snprintf(path, sizeof(path), "%s/" APID__NSS_FILE, strcmp(real, "/") == 0 ? "" : real) >= (int)sizeof(path))
                r = APID_ESYS;
        if (r < 0 || apid__snap_open(path, 0, APID__NSS_MAX_SNAPSHOT, &v->snap, &v->st) < 0) {
                free(v);
                return NULL;
        }
        v->mask = 15;
        while (v->mask / 2 < v->snap.h->n_users)
                v->mask = v->mask * 2 + 1;
        v->slots = calloc(v->snap.h->n_users ? v->snap.h->n_users : 1, sizeof(*v->slots));
        v->hash[0] = calloc(4 * ((size_t)v->mask + 1), sizeof(uint32_t));
        if (!v->slots || !v->hash[0]) {
                free(v->slots);
                free(v->hash[0]);
                apid__snap_close(&v->snap);
                free(v);
                return NULL;
        }
        v->hash[1] = v->hash[0] + v->mask + 1;
        v->hash[2] = v->hash[1] + v->mask + 1;
        v->hash[3] = v->hash[2] + v->mask + 1;
        v->refs = 1;
        v->generation = v->snap.h->generation;
        v->checked = NO_TICK;
        return v;
}

/* Make the snapshot now in dir the context's view, unless it is already.
 * Consumes the caller's reference to old; returns a referenced view or NULL. */
static struct view *view_replace(struct apid__lookup *l, struct view *old, const char *dir)
{
        struct view *v = view_open(dir), *cur;

        view_unref(old);
        if (!v)
                return NULL;
        pthread_rwlock_wrlock(&l->lock);
        cur = l->view;
        if (cur && same_file(&cur->st, &v->st)) {
                /* another thread mapped the same file first: use its view */
                __atomic_add_fetch(&cur->refs, 1, __ATOMIC_RELAXED);
                pthread_rwlock_unlock(&l->lock);
                view_unref(v);
                return cur;
        }
        l->view = v;
        __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED); /* the context's */
        pthread_rwlock_unlock(&l->lock);
        view_unref(cur);
        return v;
}

/* A view that may answer now, referenced, or NULL (ask the registry). */
static struct view *view_get(apid_ctx *ctx, struct apid__lookup *l)
{
        const char *dir = apid_ctx_get_state_dir(ctx);
        int64_t now = coarse_tick();
        unsigned commits = apid__store_commits();
        struct view *v;
        struct stat st;
        char path[4200];

        pthread_rwlock_rdlock(&l->lock);
        v = l->view;
        if (v)
                __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
        pthread_rwlock_unlock(&l->lock);
        if (v && now != NO_TICK && __atomic_load_n(&v->checked, __ATOMIC_RELAXED) == now &&
            __atomic_load_n(&v->commits_seen, __ATOMIC_ACQUIRE) == commits &&
            !__atomic_load_n(&v->stale, __ATOMIC_RELAXED))
                return v;

        /* Only whether it changed: nothing is opened by this path (a
         * changed file is mapped by view_open, after the walk). */
        snprintf(path, sizeof(path), "%s/" APID__NSS_FILE, dir);
        if (lstat(path, &st) < 0) {
                view_unref(v);
                return NULL;
        }
        if (!v || !same_file(&v->st, &st)) {
                v = view_replace(l, v, dir);
                if (!v)
                        return NULL;
        }
        if (__atomic_load_n(&v->stale, __ATOMIC_RELAXED) ||
            (commits != __atomic_load_n(&v->commits_seen, __ATOMIC_ACQUIRE) &&
             v->generation < apid__store_committed_generation(dir))) {
                view_unref(v);
                return NULL;
        }
        __atomic_store_n(&v->commits_seen, commits, __ATOMIC_RELEASE);
        __atomic_store_n(&v->checked, now, __ATOMIC_RELAXED);
        return v;
}

/* ---- finding a record ---- */

static uint32_t key_hash(enum apid__snap_by by, const char *text, uint32_t id)
{
        uint32_t h = 2166136261u;

        if (by == APID__SNAP_BY_UID)
                return id * 2654435761u;
        while (*text)
                h = (h ^ (unsigned char)*text++) * 16777619u;
        return h;
}

/* The record whose key is text/id, -1 if none; u is filled (validated)
 * only when the record is found the first time. */
static int64_t find(struct view *v, enum apid__snap_by by, const char *text, uint32_t id, struct apid__snap_user *u,
                    int *validated)
{
        uint32_t *tab = v->hash[by], i = key_hash(by, text, id) & v->mask, slot;
        int64_t rec;

        *validated = 0;
        for (; (slot = __atomic_load_n(&tab[i], __ATOMIC_ACQUIRE)) != 0; i = (i + 1) & v->mask)
                if (apid__snap_user_is(&v->snap, slot - 1, by, text, id))
                        return slot - 1;
        rec = apid__snap_find_user_index(&v->snap, by, text, id, u);
        if (rec < 0)
                return -1;
        *validated = 1;
        /* Remember it: claim the first empty slot from i on, unless another
         * thread put the same record there first. */
        for (;; i = (i + 1) & v->mask) {
                uint32_t expected = 0;

                if (__atomic_compare_exchange_n(&tab[i], &expected, (uint32_t)rec + 1, 0, __ATOMIC_ACQ_REL,
                                                __ATOMIC_ACQUIRE) ||
                    expected == (uint32_t)rec + 1)
                        break;
        }
        return rec;
}

/* ---- entries: a record's row and identity, from one registry read ---- */

struct fill_arg {
        const struct view *v;
        const char *key;
        uint32_t uid;
        struct entry *e;
        int stale;
};

static int fill(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct fill_arg *f = arg;
        apid_pool *pool = NULL;
        uint64_t gen;
        int r;

        /* apid__idmap_run may call this again (another NSS round) */
        entry_free(f->e);
        f->e = NULL;
        f->stale = 0;
        r = apid__nss_generation_get(db, &gen);
        if (r < 0)
                return r;
        if (gen != f->v->generation) {
                f->stale = 1;
                return APID_OK;
        }
        f->e = calloc(1, sizeof(*f->e));
        if (!f->e)
                return apid__fail_oom();
        r = apid__reg_pool_get(db, f->key, &f->e->row);
        if (r == APID_ENOTFOUND || (r == APID_OK && f->e->row.uid != f->uid)) {
                f->stale = 1; /* the snapshot says otherwise: not the registry's */
                return APID_OK;
        }
        if (r < 0)
                return r;
        r = apid__pool_from_row(ctx, &f->e->row, 0, 0, &pool);
        if (r < 0)
                return r;
        r = apid__identity_build(ctx, db, pool, &f->e->id);
        apid_pool_free(pool);
        if (r == APID__EAGAIN_NSS)
                return r;
        if (r < 0 || apid__identity_from_nss(f->e->id)) {
                /* the registry's old path answers (and says why it fails) */
                apid_identity_free(f->e->id);
                f->e->id = NULL;
        }
        return APID_OK;
}

/* Record rec's entry in v, built on first use; NULL: ask the registry. */
static struct entry *entry_get(apid_ctx *ctx, struct view *v, uint32_t rec)
{
        struct entry *e = __atomic_load_n(&v->slots[rec], __ATOMIC_ACQUIRE), *expected = NULL;
        struct fill_arg f = { v, NULL, 0, NULL, 0 };
        struct apid__error_state saved;
        struct apid__snap_user u;
        int r;

        if (e)
                return e;
        /* Built from the record only once it passed every check. */
        if (apid__snap_user_at(&v->snap, rec, &u) < 0 || !u.key[0])
                return NULL;
        f.key = u.key;
        f.uid = u.uid;
        /* The launch settings of this generation, when this process may
         * read them (root), answer without SQLite (launchsettings.c). */
        f.e = calloc(1, sizeof(*f.e));
        if (f.e && apid__launch_entry(ctx, v->generation, u.key, u.uid, &f.e->row, &f.e->id) == APID_OK)
                goto built;
        free(f.e);
        f.e = NULL;
        apid__error_save(&saved); /* a failed build is no failure of the lookup */
        r = apid__idmap_run(ctx, 0, 0, fill, &f, 0);
        apid__error_restore(&saved);
        if (r < 0 || f.stale || !f.e) {
                if (f.stale)
                        __atomic_store_n(&v->stale, 1, __ATOMIC_RELAXED);
                entry_free(f.e);
                return NULL;
        }
built:
        if (!__atomic_compare_exchange_n(&v->slots[rec], &expected, f.e, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                entry_free(f.e); /* another thread built it first */
                return expected;
        }
        return f.e;
}

/* ---- the lookups ---- */

int apid__lookup_identity(apid_ctx *ctx, enum apid__snap_by by, const char *text, uint32_t id,
                          apid_identity **out)
{
        struct apid__lookup *l = apid__ctx_lookup(ctx);
        struct apid__snap_user u;
        struct entry *e = NULL;
        struct view *v;
        int64_t rec;
        int r = APID__LOOKUP_MISS, validated;

        if (l->off || !(v = view_get(ctx, l)))
                return APID__LOOKUP_MISS;
        rec = find(v, by, text, id, &u, &validated);
        if (rec >= 0) /* no entry for a built-in account (key ""): no pool */
                e = entry_get(ctx, v, (uint32_t)rec);
        if (e && e->id) {
                *out = apid__identity_ref(e->id);
                r = APID_OK;
        }
        view_unref(v);
        return r;
}

int apid__lookup_pool(apid_ctx *ctx, const char *key, apid_pool **out)
{
        struct apid__lookup *l = apid__ctx_lookup(ctx);
        struct apid__snap_user u;
        struct entry *e = NULL;
        struct view *v;
        int64_t rec;
        int r = APID__LOOKUP_MISS, validated;

        if (l->off || !(v = view_get(ctx, l)))
                return APID__LOOKUP_MISS;
        rec = find(v, APID__SNAP_BY_KEY, key, 0, &u, &validated);
        if (rec >= 0)
                e = entry_get(ctx, v, (uint32_t)rec);
        if (e)
                r = apid__pool_from_row(ctx, &e->row, v->generation, (uint32_t)rec, out);
        view_unref(v);
        return r;
}

int apid__lookup_pool_identity(const apid_pool *pool, apid_identity **out)
{
        apid_ctx *ctx = apid__pool_ctx(pool);
        struct apid__lookup *l = apid__ctx_lookup(ctx);
        struct entry *e = NULL;
        struct view *v;
        uint64_t gen;
        uint32_t rec;
        int r = APID__LOOKUP_MISS;

        if (l->off || !apid__pool_cache_tag(pool, &gen, &rec) || !(v = view_get(ctx, l)))
                return APID__LOOKUP_MISS;
        /* The handle's row is this view's: the identity built from it is. */
        if (v->generation == gen && rec < v->snap.h->n_users)
                e = __atomic_load_n(&v->slots[rec], __ATOMIC_ACQUIRE);
        if (e && e->id && e->row.uid == apid__pool_uid(pool)) {
                *out = apid__identity_ref(e->id);
                r = APID_OK;
        }
        view_unref(v);
        return r;
}
