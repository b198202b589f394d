/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ACL edits: the edit object, the change to one path (pinned, read,
 * computed by compute.c, journaled, written) and the edit of a tree through
 * the generic walk (walk.c). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <acl/libacl.h>
#include <sys/acl.h>

#include "internal.h"
#include "acl-internal.h"
#include "idmap/idmap.h"
#include "idmap/namecache.h"
#include "util/regular.h"

#define CACHE_SLOTS 32

APID_EXPORT int apid_acl_edit_new(apid_ctx *ctx, apid_acl_edit **out)
{
        apid_acl_edit *e;

        if (!ctx || !out)
                return apid__fail(APID_EINVAL, 0, "apid_acl_edit_new: NULL argument");
        e = calloc(1, sizeof(*e));
        if (!e)
                return apid__fail_oom();
        e->ctx = apid_ctx_ref(ctx);
        e->max_depth = APID__WALK_DEFAULT_DEPTH;
        pthread_mutex_init(&e->lock, NULL);
        *out = e;
        return APID_OK;
}

APID_EXPORT void apid_acl_edit_free(apid_acl_edit *e)
{
        size_t i;

        if (!e)
                return;
        for (i = 0; i < e->n_aces; i++)
                free(e->aces[i].groups);
        free(e->aces);
        free(e->journal_path);
        pthread_mutex_destroy(&e->lock);
        apid_ctx_unref(e->ctx);
        free(e);
}

/* Deny for a pool: who its worker is today (uid and the groups of its
 * token: primary, the pool's own, the shared one), to tell whether the
 * denial holds for it. */
static int pool_worker(apid_ctx *ctx, struct apid__ace *a)
{
        apid_identity *id = NULL;
        int r = apid_identity_from_uid(ctx, a->t.id, &id);

        if (r < 0)
                return r;
        a->groups = malloc(3 * sizeof(gid_t));
        if (!a->groups) {
                apid_identity_free(id);
                return apid__fail_oom();
        }
        a->wuid = apid_identity_get_uid(id);
        a->shared = apid_identity_get_shared_gid(id);
        a->groups[a->n_groups++] = (gid_t)apid_identity_get_gid(id);
        a->groups[a->n_groups++] = (gid_t)a->t.id;
        if (a->shared != (uint32_t)-1)
                a->groups[a->n_groups++] = (gid_t)a->shared;
        apid_identity_free(id);
        return APID_OK;
}

APID_EXPORT int apid_acl_edit_add(apid_acl_edit *e, int op, const char *spec)
{
        struct apid__ace_spec s;
        struct apid__ace a, *grown;
        int r, kind;

        if (!e || !spec)
                return apid__fail(APID_EINVAL, 0, "apid_acl_edit_add: NULL argument");
        if (op < APID_ACL_GRANT || op > APID_ACL_REMOVE)
                return apid__fail(APID_EINVAL, 0, "ACL operation %d: not grant (1), grant-replace (2), deny (3) or "
                                                  "remove (4)", op);
        r = apid__acl_spec_parse(spec, op != APID_ACL_REMOVE, &s);
        if (r < 0)
                return r;
        if (op == APID_ACL_REMOVE && s.has_perm)
                return apid__fail(APID_EINVAL, 0, "ACL spec '%s': remove takes a trustee alone, without rights", spec);
        memset(&a, 0, sizeof(a));
        a.op = op;
        a.mask = s.mask;
        a.flags = s.flags;
        snprintf(a.spec, sizeof(a.spec), "%s", spec);
        r = apid__acl_trustee_resolve(e->ctx, s.trustee, &a.t);
        if (r < 0)
                return r;
        for (kind = 0; kind < 2; kind++)
                a.bits[kind] = apid__acl_bits(a.mask, kind, a.lost[kind], sizeof(a.lost[kind]));
        if (op == APID_ACL_DENY && a.t.tag == APID__T_USER) {
                /* Deny for a user becomes a named entry with what the user has
                 * today minus the denial, which needs the user's groups: from
                 * NSS, or for a pool identity NSS does not show, from the
                 * registry (its own group and the shared group). Unknown
                 * membership is refused: guessing could grant. */
                struct apid__nss_user pw;
                int n = 64;

                a.groups = NULL;
                r = apid__nss_user_by_uid(a.t.id, &pw);
                if (r < 0 && r != APID_ENOTFOUND)
                        return r; /* the source failed: membership unknown */
                if (r == APID_OK) {
                        r = apid__nss_grouplist(pw.name, pw.gid, &a.groups, &n);
                        apid__nss_user_clear(&pw);
                        if (r < 0)
                                return r;
                } else {
                        apid_identity *id = NULL;

                        n = -1;
                        a.groups = malloc(2 * sizeof(gid_t));
                        if (!a.groups)
                                return apid__fail_oom();
                        if (apid_identity_from_uid(e->ctx, a.t.id, &id) == APID_OK) {
                                /* The pool's own uid: only its ApplicationPoolIdentity
                                 * worker runs as it, with the pool's group. */
                                n = 0;
                                a.groups[n++] = (gid_t)apid_identity_get_pool_gid(id);
                                if (apid_identity_get_shared_gid(id) != (uint32_t)-1)
                                        a.groups[n++] = (gid_t)apid_identity_get_shared_gid(id);
                                apid_identity_free(id);
                        }
                }
                if (n < 0) {
                        free(a.groups);
                        return apid__fail(APID_ENOTFOUND, 0, "ACL spec '%s': cannot tell the groups of uid %u, which a "
                                                             "deny needs", spec, a.t.id);
                }
                a.n_groups = n;
        }
        if (op == APID_ACL_DENY && a.t.tag == APID__T_POOL) {
                r = pool_worker(e->ctx, &a);
                if (r < 0)
                        return r;
        }
        grown = realloc(e->aces, (e->n_aces + 1) * sizeof(*grown));
        if (!grown) {
                free(a.groups);
                return apid__fail_oom();
        }
        e->aces = grown;
        e->aces[e->n_aces++] = a;
        return APID_OK;
}

APID_EXPORT int apid_acl_edit_reset(apid_acl_edit *e)
{
        if (!e)
                return apid__fail(APID_EINVAL, 0, "apid_acl_edit_reset: edit is NULL");
        e->reset = 1;
        return APID_OK;
}

APID_EXPORT int apid_acl_edit_set_flags(apid_acl_edit *e, uint32_t flags)
{
        if (!e)
                return apid__fail(APID_EINVAL, 0, "apid_acl_edit_set_flags: edit is NULL");
        if (flags & ~(uint32_t)(APID_ACL_RECURSIVE | APID_ACL_STRICT | APID_ACL_CONTINUE | APID_ACL_DRY_RUN |
                                 APID_ACL_FOLLOW_HARDLINKS))
                return apid__fail(APID_EINVAL, 0, "ACL flags 0x%x: unknown bits", flags);
        e->flags = flags;
        return APID_OK;
}

APID_EXPORT int apid_acl_edit_set_report_fn(apid_acl_edit *e, apid_acl_report_fn fn, void *userdata)
{
        if (!e)
                return apid__fail(APID_EINVAL, 0, "apid_acl_edit_set_report_fn: edit is NULL");
        e->report = fn;
        e->report_data = userdata;
        return APID_OK;
}

APID_EXPORT int apid_acl_edit_set_progress_fn(apid_acl_edit *e, apid_acl_progress_fn fn, void *userdata)
{
        if (!e)
                return apid__fail(APID_EINVAL, 0, "apid_acl_edit_set_progress_fn: edit is NULL");
        e->progress = fn;
        e->progress_data = userdata;
        return APID_OK;
}

APID_EXPORT int apid_acl_edit_set_journal(apid_acl_edit *e, const char *path)
{
        char *copy = NULL;

        if (!e)
                return apid__fail(APID_EINVAL, 0, "apid_acl_edit_set_journal: edit is NULL");
        if (path && !(copy = strdup(path)))
                return apid__fail_oom();
        free(e->journal_path);
        e->journal_path = copy;
        return APID_OK;
}

APID_EXPORT uint64_t apid_acl_edit_count(const apid_acl_edit *e, int event)
{
        return e && event >= APID_ACL_CHANGED && event <= APID_ACL_APPROXIMATED ? e->counts[event] : 0;
}

/* ---- events ---- */

void apid__acl_event(apid_acl_edit *e, int event, const char *rel, const char *detail)
{
        uint64_t done = __atomic_add_fetch(&e->counts[event], 1, __ATOMIC_RELAXED);

        /* Unchanged paths are counted, not reported: a re-apply over a large
         * tree stays one xattr read per path, with no lock taken. */
        if (event != APID_ACL_UNCHANGED && e->report) {
                pthread_mutex_lock(&e->lock);
                e->report(event, rel, detail ? detail : "", e->report_data);
                pthread_mutex_unlock(&e->lock);
        }
        if (e->progress && (event == APID_ACL_CHANGED || event == APID_ACL_UNCHANGED) && done % 1024 == 0) {
                pthread_mutex_lock(&e->lock);
                e->progress(__atomic_load_n(&e->counts[APID_ACL_CHANGED], __ATOMIC_RELAXED) +
                                    __atomic_load_n(&e->counts[APID_ACL_UNCHANGED], __ATOMIC_RELAXED) +
                                    __atomic_load_n(&e->counts[APID_ACL_SKIPPED], __ATOMIC_RELAXED) +
                                    __atomic_load_n(&e->counts[APID_ACL_FAILED], __ATOMIC_RELAXED),
                            __atomic_load_n(&e->counts[APID_ACL_CHANGED], __ATOMIC_RELAXED), e->progress_data);
                pthread_mutex_unlock(&e->lock);
        }
}

/* Record a failure on a path; returns the status to stop with, or APID_OK to go on. */
int apid__acl_failed(apid_acl_edit *e, const char *rel, int status)
{
        struct apid__error_state err;

        /* Copied before the report callback runs: it may call the library
         * and replace this thread's error. The errno goes with the message. */
        apid__error_save(&err);
        err.status = status;
        apid__acl_event(e, APID_ACL_FAILED, rel, err.message);
        pthread_mutex_lock(&e->lock);
        if (!e->first_error) {
                e->first_error = status;
                e->first = err;
        }
        if (!(e->flags & APID_ACL_CONTINUE))
                e->stop = 1;
        pthread_mutex_unlock(&e->lock);
        return (e->flags & APID_ACL_CONTINUE) ? APID_OK : status;
}

/* An approximation, reported once per change and kind of file. */
static void approximated(apid_acl_edit *e, struct apid__ace *a, int kind, const char *rel, const char *what)
{
        char detail[900];

        pthread_mutex_lock(&e->lock);
        if (a->reported[kind]) {
                pthread_mutex_unlock(&e->lock);
                return;
        }
        a->reported[kind] = 1;
        pthread_mutex_unlock(&e->lock);
        snprintf(detail, sizeof(detail), "%s on a %s: %s", a->spec, kind ? "directory" : "file", what);
        apid__acl_event(e, APID_ACL_APPROXIMATED, rel, detail);
}

/* ---- the cache: files whose ACL bytes (or, without an ACL, mode) were the
 * same before the edit get the same bytes after it ---- */

struct cache_slot {
        int used, is_dir;
        mode_t mode;
        struct apid__blob a_in, d_in;
        int changed;
        struct apid__blob a_out, d_out;
};

/* One per walking thread: the cache, and the space one path needs (about
 * 25 KB, kept off the stack). */
struct cache {
        struct cache_slot slots[CACHE_SLOTS];
        unsigned next;
        struct cache_slot fresh;     /* the path being edited */
        struct apid__blob quick_a, quick_d; /* the read by name */
        unsigned changing; /* paths in a row the cache said need a write (see precheck_worth) */
        unsigned long seen;
};

/* The read by name before the pinned open saves the open on a path that
 * needs no change (a re-apply: one read per path), and costs two system
 * calls on one that does (a first apply: 7 per path instead of 5). After 16
 * paths in a row needing a write, it is made on one path in 32 only, until
 * one needs none. It only ever chooses the cheaper way to the same result:
 * every write is decided again on the pinned descriptor's own bytes. */
static int precheck_worth(struct cache *c)
{
        return c->changing < 16 || ++c->seen % 32 == 0;
}

void *apid__acl_cache_new(void)
{
        return calloc(1, sizeof(struct cache));
}

void apid__acl_cache_free(void *cache)
{
        free(cache);
}

static struct cache_slot *cache_find(struct cache *c, int is_dir, mode_t mode, const struct apid__blob *a,
                                     const struct apid__blob *d)
{
        unsigned i;

        for (i = 0; i < CACHE_SLOTS; i++) {
                struct cache_slot *s = &c->slots[i];

                if (s->used && s->is_dir == is_dir && s->mode == mode && apid__blob_eq(&s->a_in, a) &&
                    (!is_dir || apid__blob_eq(&s->d_in, d)))
                        return s;
        }
        return NULL;
}

/* ---- one path ---- */

/* The parent's default ACL, for a reset (NULL when it has none). */
static acl_t parent_default(int dirfd)
{
        char proc[64];
        acl_t d;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
        d = acl_get_file(proc, ACL_TYPE_DEFAULT);
        if (d && acl_entries(d) <= 0) {
                acl_free(d);
                d = NULL;
        }
        return d;
}

static void note(void *data, size_t ace, int kind, const char *what)
{
        struct { apid_acl_edit *e; const char *rel; } *n = data;

        approximated(n->e, &n->e->aces[ace], kind, n->rel, what);
}

static void rules_of(apid_acl_edit *e, struct apid__acl_rules *rules)
{
        rules->aces = e->aces;
        rules->n_aces = e->n_aces;
        rules->reset = e->reset;
        rules->note = NULL;
        rules->note_data = NULL;
}

/* A read by name first: if this kind of file is known to need no change,
 * nothing is opened or written (a re-apply costs one xattr read). A name
 * swapped meanwhile can only make a write be skipped; every write goes
 * through a pinned descriptor. */
static int known_unchanged(struct cache *c, int dirfd, const char *name, int is_dir)
{
        struct apid__blob *a = &c->quick_a, *d = &c->quick_d;
        struct cache_slot *slot;
        struct stat st;
        mode_t mode = 0;

        a->len = apid__getxattr_at(dirfd, name, APID__XATTR_ACCESS, a->data, sizeof(a->data));
        if (a->len < 0 && errno != ENODATA)
                return 0;
        if (a->len < 0)
                a->len = APID__BLOB_NONE;
        d->len = APID__BLOB_NONE;
        if (is_dir) {
                d->len = apid__getxattr_at(dirfd, name, APID__XATTR_DEFAULT, d->data, sizeof(d->data));
                if (d->len < 0 && errno != ENODATA)
                        return 0;
                if (d->len < 0)
                        d->len = APID__BLOB_NONE;
        }
        if (a->len == APID__BLOB_NONE) {
                if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || (S_ISDIR(st.st_mode) ? 1 : 0) != is_dir)
                        return 0;
                mode = st.st_mode & 07777;
        }
        slot = cache_find(c, is_dir, mode, a, d);
        return slot && !slot->changed;
}

/* Why pinning an entry failed when it changed under the walk, or NULL. */
static const char *changed_under_walk(int err)
{
        switch (err) {
        case ENOENT: return "changed during the walk: it vanished; left alone";
        case ELOOP: return "changed during the walk: now a symbolic link (not followed); left alone";
        case ENXIO: return "changed during the walk: now a socket; left alone";
        default: return NULL;
        }
}

static int foreign_hardlink(apid_acl_edit *e, int dirfd, const char *rel, const struct stat *st)
{
        struct stat dir;
        char detail[256];

        if (S_ISDIR(st->st_mode) || st->st_nlink <= 1 || strcmp(rel, ".") == 0 ||
            (e->flags & APID_ACL_FOLLOW_HARDLINKS))
                return 0;
        if (fstat(dirfd, &dir) < 0)
                dir.st_uid = (uid_t)-1, dir.st_mode = 0777;
        if (st->st_uid == e->tree_uid && dir.st_uid == st->st_uid && !(dir.st_mode & 022))
                return 0;
        if (st->st_uid != e->tree_uid || dir.st_uid != st->st_uid)
                snprintf(detail, sizeof(detail),
                         "hard link (%ju links) owned by uid %ju, not by the owner of the tree (uid %ju) and of its "
                         "directory: left alone (--follow-hardlinks to edit it)",
                         (uintmax_t)st->st_nlink, (uintmax_t)st->st_uid, (uintmax_t)e->tree_uid);
        else
                snprintf(detail, sizeof(detail),
                         "hard link (%ju links) in a directory others can write (mode %04o): left alone "
                         "(--follow-hardlinks to edit it)",
                         (uintmax_t)st->st_nlink, (unsigned)(dir.st_mode & 07777));
        apid__acl_event(e, APID_ACL_SKIPPED, rel, detail);
        return 1;
}


/* A directory's default ACL write failed after its access ACL was written:
 * put the access ACL back as it was read (from its bytes, or the mode when it
 * had none: the kernel then stores no xattr and sets the mode back), so a
 * failure never leaves one without the other. old: the ACL read, when its
 * bytes were too big to keep (else NULL). The caller's error (errno and
 * message) is kept; -1 if the undo failed too. */
static int undo_access(const struct apid__pinned *p, const struct apid__blob *a_in, acl_t old)
{
        struct apid__error_state saved;
        acl_t acl = old                                ? old
                    : a_in->len >= 0                   ? apid__acl_from_blob(a_in)
                    : a_in->len == APID__BLOB_NONE     ? acl_from_mode(p->st.st_mode)
                                                       : NULL;
        int r, err = errno;

        apid__error_save(&saved);
        r = acl && acl_set_file(p->proc, ACL_TYPE_ACCESS, acl) == 0 ? 0 : -1;
        if (acl && acl != old)
                acl_free(acl);
        apid__error_restore(&saved);
        errno = err;
        return r;
}

/* Write what changed, the journal first; a failed default ACL write puts
 * the access ACL back (undo_access). */
static int write_result(apid_acl_edit *e, const struct apid__pinned *p, const char *rel, int is_dir,
                        const struct cache_slot *s, int acc_changed, int def_changed, acl_t nacc, acl_t ndef)
{
        acl_t old = NULL;
        int r;

        if (e->flags & APID_ACL_DRY_RUN)
                return APID_OK;
        if (e->journal && (r = apid__acl_journal_entry(e, rel, p->fd, is_dir)) < 0)
                return r;
        if (acc_changed && def_changed && s->a_in.len == APID__BLOB_TOO_BIG)
                old = acl_get_file(p->proc, ACL_TYPE_ACCESS); /* NULL: the undo fails, and says so */
        if (acc_changed && (s->a_out.len == APID__BLOB_TOO_BIG ? acl_set_file(p->proc, ACL_TYPE_ACCESS, nacc)
                                                               : apid__blob_write(p, APID__XATTR_ACCESS, &s->a_out)) < 0) {
                r = apid__acl_sys_fail(rel, "writing the ACL");
                if (old)
                        acl_free(old);
                return r;
        }
        r = APID_OK;
        if (def_changed && (s->d_out.len == APID__BLOB_TOO_BIG ? acl_set_file(p->proc, ACL_TYPE_DEFAULT, ndef)
                                                               : apid__blob_write(p, APID__XATTR_DEFAULT, &s->d_out)) < 0) {
                r = apid__acl_sys_fail(rel, "writing the default ACL");
                if (acc_changed && undo_access(p, &s->a_in, old) < 0)
                        r = apid__acl_sys_fail(rel, "writing the default ACL, then putting the ACL back");
        }
        if (old)
                acl_free(old);
        return r;
}

/* Compute the new ACLs from the very bytes read into s (or, for a large
 * ACL, from libacl); *cache_ok is cleared when the result cannot be kept. */
static int compute_path(apid_acl_edit *e, const struct apid__pinned *p, int dirfd, const char *rel, int is_dir,
                        struct cache_slot *s, int *cache_ok, acl_t *nacc, acl_t *ndef, int *acc_changed,
                        int *def_changed)
{
        struct { apid_acl_edit *e; const char *rel; } nd = { e, rel };
        struct apid__acl_rules rules;
        struct apid__acl_input in;
        acl_t acc, def = NULL, pd = NULL;
        int r;

        acc = s->a_in.len >= 0 ? apid__acl_from_blob(&s->a_in)
              : s->a_in.len == APID__BLOB_NONE ? acl_from_mode(p->st.st_mode)
                                               : acl_get_file(p->proc, ACL_TYPE_ACCESS);
        if (is_dir)
                def = s->d_in.len >= 0 ? apid__acl_from_blob(&s->d_in)
                      : s->d_in.len == APID__BLOB_NONE ? acl_init(0)
                                                       : acl_get_file(p->proc, ACL_TYPE_DEFAULT);
        if (!acc || (is_dir && !def)) {
                r = apid__fail(APID_ECORRUPT, errno, "%s: cannot read its ACL", rel);
                goto out;
        }
        if (e->reset)
                pd = parent_default(dirfd);
        rules_of(e, &rules);
        rules.note = note;
        rules.note_data = &nd;
        in.acc = acc;
        in.def = def;
        in.parent_def = pd;
        in.st = &p->st;
        in.is_dir = is_dir;
        in.rel = rel;
        r = apid__acl_compute(&rules, &in, nacc, ndef);
        if (r < 0)
                goto out;
        *acc_changed = acl_cmp(acc, *nacc) != 0;
        *def_changed = is_dir && (*ndef ? (acl_entries(def) > 0 ? acl_cmp(def, *ndef) != 0 : acl_entries(*ndef) > 0)
                                        : acl_entries(def) > 0 && e->reset);
        s->changed = *acc_changed || *def_changed;
        if (apid__blob_from_acl(*nacc, &s->a_out) < 0)
                *cache_ok = 0, s->a_out.len = APID__BLOB_TOO_BIG;
        s->d_out.len = APID__BLOB_NONE;
        if (*ndef && acl_entries(*ndef) > 0 && apid__blob_from_acl(*ndef, &s->d_out) < 0)
                *cache_ok = 0, s->d_out.len = APID__BLOB_TOO_BIG;
        if (!*ndef && is_dir && !e->reset)
                s->d_out = s->d_in; /* untouched */
out:
        acl_free(acc);
        acl_free(def);
        acl_free(pd);
        return r;
}

/* The edit of one pinned file: read, compute (or find in the cache), write. */
static int edit_pinned(apid_acl_edit *e, struct cache *c, int cache_ok, const struct apid__pinned *p, int dirfd,
                       const char *rel, int is_dir)
{
        struct cache_slot *s = &c->fresh, *slot;
        acl_t nacc = NULL, ndef = NULL;
        int r, acc_changed = 0, def_changed = 0;

        s->is_dir = is_dir;
        s->d_in.len = APID__BLOB_NONE;
        if (apid__blob_read(p, APID__XATTR_ACCESS, &s->a_in) < 0 ||
            (is_dir && apid__blob_read(p, APID__XATTR_DEFAULT, &s->d_in) < 0))
                return apid__acl_sys_fail(rel, "reading the ACL");
        s->mode = s->a_in.len == APID__BLOB_NONE ? p->st.st_mode & 07777 : 0;
        if (s->a_in.len == APID__BLOB_TOO_BIG || s->d_in.len == APID__BLOB_TOO_BIG)
                cache_ok = 0;
        slot = cache_ok ? cache_find(c, is_dir, s->mode, &s->a_in, &s->d_in) : NULL;
        if (slot) {
                c->changing = slot->changed ? c->changing + 1 : 0;
                r = slot->changed ? write_result(e, p, rel, is_dir, slot, 1,
                                                 is_dir && !apid__blob_eq(&slot->d_in, &slot->d_out), NULL, NULL)
                                  : APID_OK;
                if (r == APID_OK)
                        apid__acl_event(e, slot->changed ? APID_ACL_CHANGED : APID_ACL_UNCHANGED, rel, NULL);
                return r;
        }
        r = compute_path(e, p, dirfd, rel, is_dir, s, &cache_ok, &nacc, &ndef, &acc_changed, &def_changed);
        if (r == APID_OK && s->changed)
                r = write_result(e, p, rel, is_dir, s, acc_changed, def_changed, nacc, ndef);
        if (r == APID_OK && cache_ok) {
                s->used = 1;
                c->slots[c->next] = *s;
                c->next = (c->next + 1) % CACHE_SLOTS;
        }
        if (r == APID_OK)
                apid__acl_event(e, s->changed ? APID_ACL_CHANGED : APID_ACL_UNCHANGED, rel, NULL);
        acl_free(nacc);
        acl_free(ndef);
        return r;
}

/* Returns APID_OK, APID__WALK_PRUNE when the path was left alone (not to be
 * descended into), or the status to stop the walk with. */
int apid__acl_edit_path(apid_acl_edit *e, int dirfd, const char *name, const char *rel, int is_dir, void *cachep)
{
        struct cache *c = cachep;
        struct apid__acl_rules rules;
        struct apid__pinned p;
        const char *why;
        int cache_ok, r;

        rules_of(e, &rules);
        cache_ok = apid__acl_rules_cacheable(&rules);
        if (cache_ok && precheck_worth(c) && known_unchanged(c, dirfd, name, is_dir)) {
                c->changing = 0;
                apid__acl_event(e, APID_ACL_UNCHANGED, rel, NULL);
                return APID_OK;
        }
        if (apid__pin(dirfd, name, &p) < 0) {
                if ((why = changed_under_walk(errno)) && strcmp(rel, ".") != 0) {
                        apid__acl_event(e, APID_ACL_SKIPPED, rel, why);
                        return APID__WALK_PRUNE;
                }
                return apid__acl_failed(e, rel, apid__acl_sys_fail(rel, "open"));
        }
        if ((S_ISDIR(p.st.st_mode) ? 1 : 0) != is_dir || (!S_ISDIR(p.st.st_mode) && !S_ISREG(p.st.st_mode))) {
                close(p.fd);
                apid__acl_event(e, APID_ACL_SKIPPED, rel, "changed type during the walk; left alone");
                return APID__WALK_PRUNE;
        }
        if (foreign_hardlink(e, dirfd, rel, &p.st)) {
                close(p.fd);
                return APID__WALK_PRUNE;
        }
        r = edit_pinned(e, c, cache_ok, &p, dirfd, rel, is_dir);
        close(p.fd);
        return r < 0 ? apid__acl_failed(e, rel, r) : APID_OK;
}
/* Strict edits are checked before anything is written. */
static int strict_check(apid_acl_edit *e)
{
        size_t i;

        for (i = 0; i < e->n_aces; i++) {
                struct apid__ace *a = &e->aces[i];
                int kind;

                if (a->op == APID_ACL_REMOVE)
                        continue;
                for (kind = 0; kind < 2; kind++)
                        if (a->lost[kind][0])
                                return apid__fail(APID_EUNSUPPORTED, 0, "%s on a %s (strict): %s", a->spec,
                                                  kind ? "directory" : "file", a->lost[kind]);
                if ((a->flags & (APID__ACE_OI | APID__ACE_CI)) &&
                    ((a->flags & (APID__ACE_OI | APID__ACE_CI)) != (APID__ACE_OI | APID__ACE_CI) ||
                     (a->flags & APID__ACE_NP)))
                        return apid__fail(APID_EUNSUPPORTED, 0,
                                          "%s (strict): POSIX default ACLs cannot express (OI) without (CI), (CI) "
                                          "without (OI), or (NP)", a->spec);
                if (a->op == APID_ACL_DENY && a->t.tag != APID__T_USER)
                        return apid__fail(APID_EUNSUPPORTED, 0,
                                          "%s (strict): POSIX has no deny entries; only a deny for a user can be "
                                          "expressed (as that user's own entry)", a->spec);
        }
        return APID_OK;
}

/* ---- the walk's callbacks ---- */

static int visit(void *data, void *cache, const struct apid__walk_entry *en)
{
        apid_acl_edit *e = data;

        if (__atomic_load_n(&e->stop, __ATOMIC_RELAXED))
                return e->first_error ? e->first_error : APID_ESYS;
        return apid__acl_edit_path(e, en->dirfd, en->name, en->rel, en->is_dir, cache);
}

/* What the walk could not do: a link or special file, and an entry that
 * changed under the walk, are skipped (reported, and the walk goes on);
 * anything else is a failure on that path. */
static int walk_event(void *data, const struct apid__walk_event *ev)
{
        apid_acl_edit *e = data;
        char detail[512];

        if (ev->kind == APID__WALK_NOT_FILE) {
                apid__acl_event(e, APID_ACL_SKIPPED, ev->rel, ev->why);
                return APID_OK;
        }
        if (ev->kind == APID__WALK_CHANGED) {
                snprintf(detail, sizeof(detail), "changed during the walk: %s: %s; left alone", ev->step,
                         ev->why ? ev->why : strerror(ev->err));
                apid__acl_event(e, APID_ACL_SKIPPED, ev->rel, detail);
                return APID_OK;
        }
        apid__walk_event_format(ev, detail, sizeof(detail));
        return apid__acl_failed(e, ev->rel, apid__fail(ev->err ? apid__walk_status(ev->err) : APID_ERANGE, ev->err,
                                                       "%s", detail));
}

static void *cache_new(void *data)
{
        (void)data;
        return apid__acl_cache_new();
}

static void cache_free(void *data, void *cache)
{
        (void)data;
        apid__acl_cache_free(cache);
}

APID_EXPORT unsigned apid_acl_max_depth(void)
{
        return APID__WALK_MAX_DEPTH;
}

APID_EXPORT int apid_acl_edit_set_max_depth(apid_acl_edit *e, unsigned depth)
{
        if (!e)
                return apid__fail(APID_EINVAL, 0, "apid_acl_edit_set_max_depth: edit is NULL");
        if (depth < 1 || depth > APID__WALK_MAX_DEPTH)
                return apid__fail(APID_EINVAL, 0, "ACL walk depth %u: not between 1 and %u", depth,
                                  APID__WALK_MAX_DEPTH);
        e->max_depth = depth;
        return APID_OK;
}

APID_EXPORT int apid_acl_edit_apply(apid_acl_edit *e, const char *path)
{
        struct apid__walker w = { visit, walk_event, cache_new, cache_free, NULL, 0, 2, 0 };
        struct stat st;
        char *parent = NULL, *base, *canonical = NULL;
        int pfd = -1, r;

        if (!e || !path)
                return apid__fail(APID_EINVAL, 0, "apid_acl_edit_apply: NULL argument");
        if (!e->n_aces && !e->reset)
                return apid__fail(APID_EINVAL, 0, "ACL edit of %s: nothing to apply", path);
        if (!path[0])
                return apid__fail(APID_EINVAL, 0, "ACL edit: empty path");
        memset(e->counts, 0, sizeof(e->counts));
        e->first_error = 0;
        e->stop = 0;
        for (size_t i = 0; i < e->n_aces; i++)
                e->aces[i].reported[0] = e->aces[i].reported[1] = 0;
        if ((e->flags & APID_ACL_STRICT) && (r = strict_check(e)) < 0)
                return r;
        /* The path's last component is edited relative to its parent, never followed. */
        parent = strdup(path);
        if (!parent)
                return apid__fail_oom();
        while (strlen(parent) > 1 && parent[strlen(parent) - 1] == '/')
                parent[strlen(parent) - 1] = '\0';
        base = strrchr(parent, '/');
        if (base == parent) {
                pfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                base = parent[1] ? parent + 1 : (char *)".";
        } else if (base) {
                /* Only links of root's are followed on the way: a pool's
                 * link in a directory it may write would move the edit. */
                *base++ = '\0';
                r = apid__open_dir_trusted_links(parent, "ACL edit of", &pfd);
                if (r < 0) {
                        free(parent);
                        return r;
                }
        } else {
                pfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                base = parent;
        }
        if (pfd < 0) {
                r = apid__fail(errno == ENOENT ? APID_ENOTFOUND : APID_ESYS, errno, "%s: %s", path, strerror(errno));
                free(parent);
                return r;
        }
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                r = apid__fail(errno == ENOENT ? APID_ENOTFOUND : APID_ESYS, errno, "%s: %s", path, strerror(errno));
                goto out;
        }
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
                r = apid__fail(APID_EINVAL, 0, "%s: not a file or directory (%s)", path,
                               S_ISLNK(st.st_mode) ? "a symbolic link, not followed" : "a special file");
                goto out;
        }
        /* The journal names paths from the root without "..", as getfacl
         * would: the canonical path, leading '/' removed. */
        canonical = realpath(path, NULL);
        if (!canonical) {
                r = apid__fail(APID_ESYS, errno, "%s: %s", path, strerror(errno));
                goto out;
        }
        e->root_display = canonical[1] ? canonical + 1 : ".";
        w.data = e;
        w.max_depth = e->max_depth;
        w.flags = APID__WALK_BARE_TOP | ((e->flags & APID_ACL_RECURSIVE) ? APID__WALK_RECURSIVE : 0);
        e->tree_uid = st.st_uid;
        if (e->journal_path && !(e->flags & APID_ACL_DRY_RUN)) {
                const char *kind;
                int jfd = apid__open_regular(e->journal_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, &kind);

                e->journal = jfd >= 0 ? fdopen(jfd, "w") : NULL;
                if (!e->journal) {
                        r = kind ? apid__fail(APID_EINVAL, 0, "journal %s: is %s, not a regular file", e->journal_path,
                                              kind)
                                 : apid__fail(APID_ESYS, errno, "journal %s: %s", e->journal_path, strerror(errno));
                        if (jfd >= 0)
                                close(jfd);
                        goto out;
                }
                e->names = apid__namecache_new(); /* NULL: names asked uncached */
        }
        r = apid__walk(&w, pfd, base, ".", &st);
        if (e->journal) {
                if (fclose(e->journal) != 0 && r == APID_OK)
                        r = apid__fail(APID_ESYS, errno, "journal %s: %s", e->journal_path, strerror(errno));
                e->journal = NULL;
        }
        apid__namecache_free(e->names);
        e->names = NULL;
        if (e->progress)
                e->progress(e->counts[APID_ACL_CHANGED] + e->counts[APID_ACL_UNCHANGED] + e->counts[APID_ACL_SKIPPED] +
                                    e->counts[APID_ACL_FAILED],
                            e->counts[APID_ACL_CHANGED], e->progress_data);
        /* The first failure as it was, errno included, also when it
         * stopped the walk: it may have been recorded on another thread,
         * whose last error is not this one's. */
        if (e->first_error && (r == APID_OK || r == e->first_error))
                r = apid__error_restore(&e->first);
out:
        close(pfd);
        free(parent);
        free(canonical);
        e->root_display = NULL;
        return r;
}
