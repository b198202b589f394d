/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ACL edits: the edit object, and the change to one path, computed with
 * libacl. The walk over a tree is in walk.c. */
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

#define XATTR_ACCESS "system.posix_acl_access"
#define XATTR_DEFAULT "system.posix_acl_default"
#define BLOB_MAX 4096
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

/* ---- libacl helpers ---- */

static unsigned entry_bits(acl_entry_t en)
{
        acl_permset_t ps;
        unsigned b = 0;

        if (acl_get_permset(en, &ps) < 0)
                return 0;
        if (acl_get_perm(ps, ACL_READ) == 1)
                b |= APID__R;
        if (acl_get_perm(ps, ACL_WRITE) == 1)
                b |= APID__W;
        if (acl_get_perm(ps, ACL_EXECUTE) == 1)
                b |= APID__X;
        return b;
}

static void set_bits(acl_entry_t en, unsigned b)
{
        acl_permset_t ps;

        if (acl_get_permset(en, &ps) < 0)
                return;
        acl_clear_perms(ps);
        if (b & APID__R)
                acl_add_perm(ps, ACL_READ);
        if (b & APID__W)
                acl_add_perm(ps, ACL_WRITE);
        if (b & APID__X)
                acl_add_perm(ps, ACL_EXECUTE);
        acl_set_permset(en, ps);
}

static acl_tag_t posix_tag(int tag)
{
        switch (tag) {
        case APID__T_USER: return ACL_USER;
        case APID__T_GROUP: return ACL_GROUP;
        case APID__T_POOL: return ACL_GROUP;
        case APID__T_OTHER: return ACL_OTHER;
        case APID__T_OWNER: return ACL_USER_OBJ;
        default: return ACL_GROUP_OBJ;
        }
}

/* Find the entry with tag (and, for named entries, the id). */
static int find_entry(acl_t acl, acl_tag_t tag, uint32_t id, acl_entry_t *out)
{
        acl_entry_t en;
        int w;

        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;

                if (acl_get_tag_type(en, &t) < 0 || t != tag)
                        continue;
                if (tag == ACL_USER || tag == ACL_GROUP) {
                        id_t *q = acl_get_qualifier(en);
                        int same = q && *q == (id_t)id;

                        acl_free(q);
                        if (!same)
                                continue;
                }
                *out = en;
                return 1;
        }
        return 0;
}

static int add_entry(acl_t *acl, acl_tag_t tag, uint32_t id, unsigned bits)
{
        acl_entry_t en;
        id_t q = (id_t)id;

        if (acl_create_entry(acl, &en) < 0 || acl_set_tag_type(en, tag) < 0 ||
            ((tag == ACL_USER || tag == ACL_GROUP) && acl_set_qualifier(en, &q) < 0))
                return -1;
        set_bits(en, bits);
        return 0;
}

static unsigned mask_bits(acl_t acl, int *has_mask)
{
        acl_entry_t en;

        *has_mask = find_entry(acl, ACL_MASK, 0, &en);
        if (*has_mask)
                return entry_bits(en);
        return find_entry(acl, ACL_GROUP_OBJ, 0, &en) ? entry_bits(en) : 7;
}

/* Before an edit: clip every group-class entry (named users, the owning
 * group, named groups) to what the mask lets it have. Effective rights do
 * not change, but afterwards the recomputed mask cannot wake up rights the
 * old mask hid, for any entry, named by the edit or not. */
static void normalize(acl_t acl)
{
        acl_entry_t en;
        int w, has_mask;
        unsigned m = mask_bits(acl, &has_mask);

        if (!has_mask)
                return;
        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;

                if (acl_get_tag_type(en, &t) == 0 && (t == ACL_USER || t == ACL_GROUP || t == ACL_GROUP_OBJ))
                        set_bits(en, entry_bits(en) & m);
        }
}

/* What a process with uid and groups gets from an ACL, in the kernel's
 * order (fs/posix_acl.c, posix_acl_permission()): the owner entry; else its
 * named user entry (under the mask); else, if any group-class entry (the
 * owning group, named groups) matches one of its groups, what those grant
 * (under the mask); else other. *via says which: 0 owner, 1 named user,
 * 2 group class, 3 other. uid (uint32_t)-1 asks for the groups alone. */
static unsigned access_of(acl_t acl, const struct stat *st, uint32_t uid, const gid_t *groups, int n_groups,
                          int *via)
{
        acl_entry_t en;
        unsigned bits = 0;
        int w, in_group = 0, has_mask, i;
        unsigned m = mask_bits(acl, &has_mask);

        if (uid != (uint32_t)-1 && (uint32_t)st->st_uid == uid) {
                *via = 0;
                return find_entry(acl, ACL_USER_OBJ, 0, &en) ? entry_bits(en) : 0;
        }
        if (uid != (uint32_t)-1 && find_entry(acl, ACL_USER, uid, &en)) {
                *via = 1;
                return entry_bits(en) & m;
        }
        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;
                uint32_t gid;

                if (acl_get_tag_type(en, &t) < 0)
                        continue;
                if (t == ACL_GROUP_OBJ) {
                        gid = (uint32_t)st->st_gid;
                } else if (t == ACL_GROUP) {
                        id_t *q = acl_get_qualifier(en);

                        gid = q ? (uint32_t)*q : (uint32_t)-1;
                        acl_free(q);
                } else {
                        continue;
                }
                for (i = 0; i < n_groups; i++)
                        if ((uint32_t)groups[i] == gid) {
                                bits |= entry_bits(en) & m;
                                in_group = 1;
                        }
        }
        *via = in_group ? 2 : 3;
        if (in_group)
                return bits;
        return find_entry(acl, ACL_OTHER, 0, &en) ? entry_bits(en) : 0;
}

/* What a user gets from a file's ACL today, for deny. */
static unsigned user_access(acl_t acl, const struct apid__ace *a, const struct stat *st, int *is_owner)
{
        int via;
        unsigned bits = access_of(acl, st, a->t.id, a->groups, a->n_groups, &via);

        *is_owner = via == 0;
        return bits;
}

/* Set the entry (tag, id) to bits, adding it if needed; 0 bits and
 * drop_empty delete it. */
static int put_entry(acl_t *acl, acl_tag_t tag, uint32_t id, unsigned bits, int drop_empty)
{
        acl_entry_t en;

        if (find_entry(*acl, tag, id, &en)) {
                if (!bits && drop_empty)
                        return acl_delete_entry(*acl, en);
                set_bits(en, bits);
                return 0;
        }
        return bits || !drop_empty ? add_entry(acl, tag, id, bits) : 0;
}

/* The kernel consults an ACL only when the group bits of the mode (the
 * mask) are not empty (fs/namei.c, acl_permission_check()); with mask::---
 * it goes by the mode alone and gives other's bits to everyone but the owner
 * and the owning group, so a named entry of --- (a deny) would not hold. When
 * a named entry asks for less than other gives, keep the mask at other's
 * bits: every group-class entry is within the old, empty mask, i.e. ---, so
 * the mask grants nothing and the kernel checks the entries. After
 * acl_calc_mask(). */
static void keep_acl_checked(acl_t acl)
{
        acl_entry_t en, mask, other;
        int w, has_mask, named = 0;
        unsigned m = mask_bits(acl, &has_mask), o;

        if (!has_mask || m || !find_entry(acl, ACL_OTHER, 0, &other) || !(o = entry_bits(other)))
                return;
        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;

                if (acl_get_tag_type(en, &t) == 0 && (t == ACL_USER || t == ACL_GROUP))
                        named = 1;
        }
        if (named && find_entry(acl, ACL_MASK, 0, &mask))
                set_bits(mask, o);
}

/* Deny for a pool, on an access ACL. Its own uid's entry, exact whenever the
 * pool runs as itself (ApplicationPoolIdentity, now or after a change of
 * type back), and its group entry, which every worker of the pool matches:
 * each gets what it gives today minus the denial. Then what the pool's
 * worker of today would get is checked: another entry (the shared account's
 * own, the owner's, another group's) may still give it the rights. */
static int deny_pool(apid_acl_edit *e, struct apid__ace *a, acl_t *acl, int kind, const struct stat *st,
                     const char *rel)
{
        unsigned deny = a->bits[kind], have_u, have_g, left;
        gid_t own[2] = { (gid_t)a->t.id, (gid_t)a->shared };
        acl_entry_t en;
        acl_t after;
        int via;

        have_u = access_of(*acl, st, a->t.id, own, a->shared == (uint32_t)-1 ? 1 : 2, &via);
        if (via == 0) {
                approximated(e, a, kind, rel, "the pool's own uid owns the file and can give the rights back");
                if (find_entry(*acl, ACL_USER_OBJ, 0, &en))
                        set_bits(en, entry_bits(en) & ~deny);
        } else if (put_entry(acl, ACL_USER, a->t.id, (find_entry(*acl, ACL_USER, a->t.id, &en) ? entry_bits(en)
                                                                                             : have_u) & ~deny, 0) < 0) {
                return -1;
        }
        have_g = access_of(*acl, st, (uint32_t)-1, a->groups, a->n_groups, &via);
        if (put_entry(acl, ACL_GROUP, a->t.id,
                      (find_entry(*acl, ACL_GROUP, a->t.id, &en) ? entry_bits(en) : have_g) & ~deny, 0) < 0)
                return -1;
        after = acl_dup(*acl);
        if (!after || acl_calc_mask(&after) < 0) {
                acl_free(after);
                return -1;
        }
        keep_acl_checked(after);
        left = access_of(after, st, a->wuid, a->groups, a->n_groups, &via) & deny;
        acl_free(after);
        if (left && via != 0) {
                char why[300];

                snprintf(why, sizeof(why), "the pool's workers run as uid %u, and %s still gives them what was "
                         "denied (POSIX has no deny entries)", a->wuid,
                         via == 1 ? "that account's own entry (shared with every pool of the same identity)"
                         : via == 2 ? "another group entry they match" : "other");
                approximated(e, a, kind, rel, why);
        } else if (left) {
                approximated(e, a, kind, rel, "the pool's workers own the file and can give the rights back");
        }
        return 0;
}

/* A change for IIS AppPool\X: the pool's group entry. A user entry on the
 * pool's own uid (written by the previous release, or by a deny) is kept in
 * step, as the kernel checks it before any group. docs/acl.md says why. */
static int apply_pool(apid_acl_edit *e, struct apid__ace *a, acl_t *acl, int kind, const struct stat *st,
                      const char *rel, int is_default)
{
        unsigned bits = a->bits[kind];
        acl_entry_t en;

        switch (a->op) {
        case APID_ACL_GRANT: {
                unsigned old = 0;

                /* A user entry alone is the previous release's grant: the new
                 * group entry starts from it (the grant converts it). */
                if (find_entry(*acl, ACL_USER, a->t.id, &en)) {
                        old = entry_bits(en);
                        set_bits(en, old | bits);
                }
                if (find_entry(*acl, ACL_GROUP, a->t.id, &en))
                        set_bits(en, entry_bits(en) | bits);
                else if (old | bits)
                        return add_entry(acl, ACL_GROUP, a->t.id, old | bits);
                return 0;
        }
        case APID_ACL_GRANT_REPLACE: /* the pool's entries become this grant: the old form goes */
                if (put_entry(acl, ACL_USER, a->t.id, 0, 1) < 0)
                        return -1;
                return put_entry(acl, ACL_GROUP, a->t.id, bits, 1);
        case APID_ACL_REMOVE:
                if (put_entry(acl, ACL_USER, a->t.id, 0, 1) < 0)
                        return -1;
                return put_entry(acl, ACL_GROUP, a->t.id, 0, 1);
        default: /* deny */
                if (!is_default)
                        return deny_pool(e, a, acl, kind, st, rel);
                if (find_entry(*acl, ACL_USER, a->t.id, &en))
                        set_bits(en, entry_bits(en) & ~bits);
                if (find_entry(*acl, ACL_GROUP, a->t.id, &en))
                        set_bits(en, entry_bits(en) & ~bits);
                return 0;
        }
}

/* Apply one change to one ACL (access or default). */
static int apply_ace(apid_acl_edit *e, struct apid__ace *a, acl_t *acl, int kind, const struct stat *st,
                     const char *rel, int is_default)
{
        acl_tag_t tag = posix_tag(a->t.tag);
        unsigned bits = a->bits[kind];
        acl_entry_t en;
        int found, owner;

        if ((a->t.tag == APID__T_OWNER || a->t.tag == APID__T_OWNING_GROUP) && !is_default)
                return 0; /* CREATOR OWNER / GROUP speak only of what new files inherit */
        if (a->t.tag == APID__T_POOL)
                return apply_pool(e, a, acl, kind, st, rel, is_default);
        found = find_entry(*acl, tag, a->t.id, &en);
        switch (a->op) {
        case APID_ACL_GRANT:
                if (found)
                        set_bits(en, entry_bits(en) | bits);
                else if (bits && add_entry(acl, tag, a->t.id, bits) < 0)
                        return -1;
                break;
        case APID_ACL_GRANT_REPLACE:
                if (found && bits == 0 && (tag == ACL_USER || tag == ACL_GROUP))
                        return acl_delete_entry(*acl, en);
                if (found)
                        set_bits(en, bits);
                else if (bits && add_entry(acl, tag, a->t.id, bits) < 0)
                        return -1;
                break;
        case APID_ACL_REMOVE:
                if (found && (tag == ACL_USER || tag == ACL_GROUP))
                        return acl_delete_entry(*acl, en);
                if (found && tag == ACL_OTHER)
                        set_bits(en, 0);
                break;
        case APID_ACL_DENY: {
                unsigned deny = a->bits[kind];
                int w;

                if (a->t.tag == APID__T_OTHER) { /* Everyone: everybody loses the rights */
                        for (w = acl_get_entry(*acl, ACL_FIRST_ENTRY, &en); w == 1;
                             w = acl_get_entry(*acl, ACL_NEXT_ENTRY, &en))
                                set_bits(en, entry_bits(en) & ~deny);
                        break;
                }
                if (a->t.tag == APID__T_USER && !is_default) {
                        /* A named entry overrides the group and other classes for
                         * that user: what the user has today, minus the denial. */
                        unsigned have = user_access(*acl, a, st, &owner);

                        if (owner) {
                                approximated(e, a, kind, rel, "the user owns the file and can give the rights back");
                                if (find_entry(*acl, ACL_USER_OBJ, 0, &en))
                                        set_bits(en, entry_bits(en) & ~deny);
                        } else if (found) {
                                set_bits(en, entry_bits(en) & ~deny);
                        } else if (add_entry(acl, ACL_USER, a->t.id, have & ~deny) < 0) {
                                return -1;
                        }
                        break;
                }
                if (found)
                        set_bits(en, entry_bits(en) & ~deny);
                if (a->t.tag == APID__T_GROUP)
                        approximated(e, a, kind, rel,
                                     "POSIX has no deny entries: the group's own entry loses the rights, but its "
                                     "members may still get them through other entries");
                break;
        }
        }
        return 0;
}

/* Copy the base entries (owner, owning group, other) of an access ACL into
 * a new default ACL, as setfacl does when it creates one. */
static acl_t default_from(acl_t access)
{
        acl_t d = acl_init(4);
        acl_entry_t en;
        static const acl_tag_t base[] = { ACL_USER_OBJ, ACL_GROUP_OBJ, ACL_OTHER };
        size_t i;

        if (!d)
                return NULL;
        /* The access ACL was normalized: its group entry holds only what the mask allowed. */
        for (i = 0; i < 3; i++)
                if (find_entry(access, base[i], 0, &en) && add_entry(&d, base[i], 0, entry_bits(en)) < 0) {
                        acl_free(d);
                        return NULL;
                }
        return d;
}

/* ---- ACLs as the kernel stores them ----
 *
 * The system.posix_acl_* xattr value: a little-endian u32 version (2), then
 * entries of (u16 tag, u16 perm, u32 id), sorted by tag then id. Reading and
 * writing these bytes through one descriptor pins the file, and computing
 * from the bytes themselves makes the cache exact: the same input bytes
 * always give the same output bytes. libacl does all the ACL semantics. */

#define XATTR_VERSION 2u
#define BLOB_NONE (-1)    /* no such xattr */
#define BLOB_TOO_BIG (-2) /* larger than BLOB_MAX: computed without the cache */

struct blob {
        ssize_t len;
        unsigned char data[BLOB_MAX];
};

static uint32_t le32(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static acl_t acl_from_blob(const struct blob *b)
{
        acl_t acl;
        size_t off;

        if (b->len < 4 || (b->len - 4) % 8 != 0 || le32(b->data) != XATTR_VERSION)
                return NULL;
        acl = acl_init((int)((b->len - 4) / 8));
        for (off = 4; acl && off < (size_t)b->len; off += 8) {
                unsigned tag = (unsigned)b->data[off] | (unsigned)b->data[off + 1] << 8;
                unsigned perm = (unsigned)b->data[off + 2] | (unsigned)b->data[off + 3] << 8;
                uint32_t id = le32(b->data + off + 4);

                if ((tag != ACL_USER_OBJ && tag != ACL_USER && tag != ACL_GROUP_OBJ && tag != ACL_GROUP &&
                     tag != ACL_MASK && tag != ACL_OTHER) ||
                    perm > 7 || add_entry(&acl, (acl_tag_t)tag, id, perm) < 0) {
                        acl_free(acl);
                        return NULL;
                }
        }
        return acl;
}

struct xentry {
        unsigned tag, perm;
        uint32_t id;
};

static int xentry_cmp(const void *a, const void *b)
{
        const struct xentry *x = a, *y = b;

        if (x->tag != y->tag)
                return x->tag < y->tag ? -1 : 1;
        return (x->id > y->id) - (x->id < y->id);
}

static int blob_from_acl(acl_t acl, struct blob *b)
{
        struct xentry e[(BLOB_MAX - 4) / 8];
        acl_entry_t en;
        size_t n = 0, i, off = 4;
        int w;

        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;

                if (n == sizeof(e) / sizeof(e[0]) || acl_get_tag_type(en, &t) < 0)
                        return -1;
                e[n].tag = (unsigned)t;
                e[n].perm = entry_bits(en);
                e[n].id = (uint32_t)-1; /* ACL_UNDEFINED_ID */
                if (t == ACL_USER || t == ACL_GROUP) {
                        id_t *q = acl_get_qualifier(en);

                        if (!q)
                                return -1;
                        e[n].id = (uint32_t)*q;
                        acl_free(q);
                }
                n++;
        }
        qsort(e, n, sizeof(e[0]), xentry_cmp);
        b->data[0] = XATTR_VERSION;
        b->data[1] = b->data[2] = b->data[3] = 0;
        for (i = 0; i < n; i++, off += 8) {
                b->data[off] = (unsigned char)e[i].tag;
                b->data[off + 1] = (unsigned char)(e[i].tag >> 8);
                b->data[off + 2] = (unsigned char)e[i].perm;
                b->data[off + 3] = 0;
                b->data[off + 4] = (unsigned char)e[i].id;
                b->data[off + 5] = (unsigned char)(e[i].id >> 8);
                b->data[off + 6] = (unsigned char)(e[i].id >> 16);
                b->data[off + 7] = (unsigned char)(e[i].id >> 24);
        }
        b->len = (ssize_t)off;
        return 0;
}

/* One open file: a descriptor that pins it, for reading and writing. */
struct pinned {
        int fd;
        int use_proc; /* an O_PATH descriptor: xattrs through /proc/self/fd */
        char proc[64];
        struct stat st;
};

static ssize_t pin_getxattr(const struct pinned *p, const char *attr, void *buf, size_t size)
{
        return p->use_proc ? getxattr(p->proc, attr, buf, size) : fgetxattr(p->fd, attr, buf, size);
}

static int read_blob(const struct pinned *p, const char *attr, struct blob *b)
{
        b->len = pin_getxattr(p, attr, b->data, sizeof(b->data));
        if (b->len >= 0)
                return 0;
        if (errno == ENODATA) {
                b->len = BLOB_NONE;
                return 0;
        }
        if (errno == ERANGE) {
                b->len = BLOB_TOO_BIG;
                return 0;
        }
        return -1;
}

static int write_blob(const struct pinned *p, const char *attr, const struct blob *b)
{
        if (b->len == BLOB_NONE) {
                int r = p->use_proc ? removexattr(p->proc, attr) : fremovexattr(p->fd, attr);

                return r < 0 && errno == ENODATA ? 0 : r;
        }
        return p->use_proc ? setxattr(p->proc, attr, b->data, (size_t)b->len, 0)
                           : fsetxattr(p->fd, attr, b->data, (size_t)b->len, 0);
}

/* ---- the cache: files whose ACL bytes (or, without an ACL, mode) were the
 * same before the edit get the same bytes after it ---- */

struct cache_slot {
        int used, is_dir;
        mode_t mode;
        struct blob a_in, d_in;
        int changed;
        struct blob a_out, d_out;
};

struct cache {
        struct cache_slot slots[CACHE_SLOTS];
        unsigned next;
};

void *apid__acl_cache_new(void)
{
        return calloc(1, sizeof(struct cache));
}

void apid__acl_cache_free(void *cache)
{
        free(cache);
}

static int blob_eq(const struct blob *a, const struct blob *b)
{
        return a->len == b->len && (a->len <= 0 || memcmp(a->data, b->data, (size_t)a->len) == 0);
}

static struct cache_slot *cache_find(struct cache *c, int is_dir, mode_t mode, const struct blob *a,
                                     const struct blob *d)
{
        unsigned i;

        for (i = 0; i < CACHE_SLOTS; i++) {
                struct cache_slot *s = &c->slots[i];

                if (s->used && s->is_dir == is_dir && s->mode == mode && blob_eq(&s->a_in, a) &&
                    (!is_dir || blob_eq(&s->d_in, d)))
                        return s;
        }
        return NULL;
}

/* Whether the result depends on more than the ACL bytes and the mode: the
 * owner (deny, CREATOR OWNER/GROUP) or the parent directory (reset). */
static int cacheable(const apid_acl_edit *e)
{
        size_t i;

        if (e->reset)
                return 0;
        for (i = 0; i < e->n_aces; i++)
                if (e->aces[i].op == APID_ACL_DENY || e->aces[i].t.tag == APID__T_OWNER ||
                    e->aces[i].t.tag == APID__T_OWNING_GROUP)
                        return 0;
        return 1;
}

/* ---- one path ---- */

static int sys_fail(const char *rel, const char *what)
{
        int err = errno;
        int status = err == EPERM || err == EACCES ? APID_EPERM
                     : err == EOPNOTSUPP       ? APID_EUNSUPPORTED
                     : err == ENOENT           ? APID_ENOTFOUND
                                               : APID_ESYS;

        if (err == EOPNOTSUPP)
                return apid__fail(status, err, "%s: %s: the file system does not support POSIX ACLs", rel, what);
        return apid__fail(status, err, "%s: %s: %s", rel, what, strerror(err));
}

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

/* What a new file gets from a default ACL: the kernel ANDs the owner,
 * group-class and other entries with the creation mode (0666 for a file). */
static void as_created_file(acl_t acl)
{
        static const acl_tag_t masked[] = { ACL_USER_OBJ, ACL_MASK, ACL_OTHER };
        acl_entry_t en;
        int has_mask;
        size_t i;

        mask_bits(acl, &has_mask);
        for (i = 0; i < 3; i++)
                if (find_entry(acl, masked[i], 0, &en))
                        set_bits(en, entry_bits(en) & ~APID__X);
        if (!has_mask && find_entry(acl, ACL_GROUP_OBJ, 0, &en))
                set_bits(en, entry_bits(en) & ~APID__X);
}

static int journal_entry(apid_acl_edit *e, const char *rel, const struct pinned *p, int is_dir)
{
        char path[8192];
        int r, n;

        n = snprintf(path, sizeof(path), "%s%s%s", e->root_display, strcmp(rel, ".") ? "/" : "",
                     strcmp(rel, ".") ? rel : "");
        if (n < 0 || (size_t)n >= sizeof(path))
                return apid__fail(APID_ERANGE, 0, "%s: path too long for the journal", rel);
        /* The entry is composed first, without the lock: it names the owner
         * and group through NSS, which may be slow (a directory), and the
         * other workers must not wait on it. Only the append is locked. */
        {
                char *text = NULL;
                size_t len = 0;
                FILE *m = open_memstream(&text, &len);

                if (!m)
                        return apid__fail_oom();
                r = apid__acl_write_entry(m, path, p->fd, is_dir);
                if (fclose(m) != 0 && r == APID_OK)
                        r = apid__fail_oom();
                if (r == APID_OK) {
                        pthread_mutex_lock(&e->lock);
                        if (fwrite(text, 1, len, e->journal) != len || fflush(e->journal) != 0 ||
                            fdatasync(fileno(e->journal)) != 0)
                                r = apid__fail(APID_ESYS, errno, "journal %s: %s", e->journal_path, strerror(errno));
                        pthread_mutex_unlock(&e->lock);
                }
                free(text);
        }
        return r;
}

/* The new ACLs of one path, from its current ones, with libacl. */
static int compute(apid_acl_edit *e, acl_t acc, acl_t def, const struct stat *st, int dirfd, const char *rel,
                   int is_dir, acl_t *out_acc, acl_t *out_def)
{
        acl_t nacc = NULL, ndef = NULL;
        int kind = is_dir ? 1 : 0, r = APID_OK;
        size_t i;

        if (e->reset) {
                acl_t pd = parent_default(dirfd);

                nacc = pd ? acl_dup(pd) : acl_from_mode(st->st_mode);
                if (nacc && pd && !is_dir)
                        as_created_file(nacc);
                if (is_dir)
                        ndef = pd ? acl_dup(pd) : acl_init(0);
                acl_free(pd);
        } else {
                nacc = acl_dup(acc);
                if (is_dir && def && acl_entries(def) > 0)
                        ndef = acl_dup(def);
        }
        if (!nacc || (is_dir && e->reset && !ndef)) {
                acl_free(nacc);
                acl_free(ndef);
                return apid__fail_oom();
        }
        normalize(nacc);
        if (ndef)
                normalize(ndef);
        for (i = 0; i < e->n_aces && r == APID_OK; i++) {
                struct apid__ace *a = &e->aces[i];
                int inherit = is_dir && (a->flags & APID__ACE_OI) && (a->flags & APID__ACE_CI) &&
                              !(a->flags & APID__ACE_NP);

                if (a->lost[kind][0] && a->op != APID_ACL_REMOVE)
                        approximated(e, a, kind, rel, a->lost[kind]);
                if (is_dir && (a->flags & (APID__ACE_OI | APID__ACE_CI)) && !inherit && a->op != APID_ACL_REMOVE)
                        approximated(e, a, kind, rel,
                                     "POSIX default ACLs apply to new files and directories alike and to all "
                                     "levels: (OI) without (CI), (CI) without (OI), and (NP) are not inherited; "
                                     "use -R to reach what exists");
                if (!(is_dir && (a->flags & APID__ACE_IO)) && apply_ace(e, a, &nacc, kind, st, rel, 0) < 0)
                        r = sys_fail(rel, "editing the ACL");
                if (r == APID_OK && is_dir && (inherit || (a->op != APID_ACL_GRANT && a->op != APID_ACL_GRANT_REPLACE &&
                                                           ndef))) {
                        if (!ndef) {
                                ndef = default_from(nacc);
                                if (!ndef) {
                                        r = apid__fail_oom();
                                        break;
                                }
                        }
                        if (apply_ace(e, a, &ndef, kind, st, rel, 1) < 0)
                                r = sys_fail(rel, "editing the default ACL");
                }
        }
        if (r == APID_OK && (acl_calc_mask(&nacc) < 0 || (ndef && acl_entries(ndef) > 0 && acl_calc_mask(&ndef) < 0)))
                r = sys_fail(rel, "computing the ACL mask");
        if (r == APID_OK) {
                keep_acl_checked(nacc);
                if (ndef && acl_entries(ndef) > 0)
                        keep_acl_checked(ndef);
        }
        if (r == APID_OK && (acl_valid(nacc) < 0 || (ndef && acl_entries(ndef) > 0 && acl_valid(ndef) < 0)))
                r = apid__fail(APID_EINVAL, 0, "%s: the edit gives an invalid ACL", rel);
        if (r < 0) {
                acl_free(nacc);
                acl_free(ndef);
                return r;
        }
        *out_acc = nacc;
        *out_def = ndef;
        return APID_OK;
}

static int open_pinned(int dirfd, const char *name, struct pinned *p)
{
        /* O_RDONLY | O_NONBLOCK on what readdir() said is a file or a
         * directory: no symlink is followed, a FIFO swapped in does not
         * block (and fstat() then shows it); without read permission, an
         * O_PATH descriptor and /proc/self/fd. */
        p->use_proc = 0;
        p->fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (p->fd < 0 && (errno == EACCES || errno == EPERM)) {
                p->fd = apid__open_nofollow(dirfd, name, 0);
                p->use_proc = 1;
        }
        if (p->fd < 0)
                return -1;
        snprintf(p->proc, sizeof(p->proc), "/proc/self/fd/%d", p->fd);
        if (fstat(p->fd, &p->st) < 0) {
                int err = errno;

                close(p->fd);
                errno = err;
                return -1;
        }
        return 0;
}

/* A file below the top with more than one link may be a link a pool planted
 * (fs.protected_hardlinks=0) to a file it does not own: left alone and
 * reported unless the caller asked to follow, when its owner is not the
 * owner of the top directory and of the directory it was found in, or when
 * that directory can be written by anyone but its owner (group or other w,
 * which with an ACL is the mask: a pool granted write there). The pinned
 * descriptor's fstat() is what is checked, so a name swapped after the check
 * cannot matter. */
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

int apid__acl_edit_path(apid_acl_edit *e, int dirfd, const char *name, const char *rel, int is_dir, void *cachep)
{
        struct cache *c = cacheable(e) ? cachep : NULL;
        struct cache_slot *slot = NULL, fresh;
        acl_t acc = NULL, def = NULL, nacc = NULL, ndef = NULL;
        struct pinned p;
        int r = APID_OK, changed, acc_changed, def_changed;

        /* A read by name first: if this kind of file is known to need no
         * change, nothing is opened or written (a re-apply costs one xattr
         * read). A name swapped meanwhile can only make a write be skipped;
         * every write goes through a pinned descriptor below. */
        if (c) {
                struct blob a, d;
                struct stat st;
                mode_t mode = 0;
                int ok;

                a.len = apid__getxattr_at(dirfd, name, XATTR_ACCESS, a.data, sizeof(a.data));
                ok = a.len >= 0 || errno == ENODATA;
                if (a.len < 0)
                        a.len = BLOB_NONE;
                d.len = BLOB_NONE;
                if (ok && is_dir) {
                        d.len = apid__getxattr_at(dirfd, name, XATTR_DEFAULT, d.data, sizeof(d.data));
                        ok = d.len >= 0 || errno == ENODATA;
                        if (d.len < 0)
                                d.len = BLOB_NONE;
                }
                if (ok && a.len == BLOB_NONE) {
                        ok = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                             (S_ISDIR(st.st_mode) ? 1 : 0) == is_dir;
                        mode = st.st_mode & 07777;
                }
                slot = ok ? cache_find(c, is_dir, mode, &a, &d) : NULL;
                if (slot && !slot->changed) {
                        apid__acl_event(e, APID_ACL_UNCHANGED, rel, NULL);
                        return APID_OK;
                }
                slot = NULL;
        }
        if (open_pinned(dirfd, name, &p) < 0)
                return apid__acl_failed(e, rel, sys_fail(rel, "open"));
        if ((S_ISDIR(p.st.st_mode) ? 1 : 0) != is_dir || (!S_ISDIR(p.st.st_mode) && !S_ISREG(p.st.st_mode))) {
                close(p.fd);
                apid__acl_event(e, APID_ACL_SKIPPED, rel, "changed type during the walk; left alone");
                return APID_OK;
        }
        if (foreign_hardlink(e, dirfd, rel, &p.st)) {
                close(p.fd);
                return APID_OK;
        }
        memset(&fresh, 0, sizeof(fresh));
        fresh.is_dir = is_dir;
        if (read_blob(&p, XATTR_ACCESS, &fresh.a_in) < 0 || (is_dir && read_blob(&p, XATTR_DEFAULT, &fresh.d_in) < 0)) {
                r = sys_fail(rel, "reading the ACL");
                goto out;
        }
        if (!is_dir)
                fresh.d_in.len = BLOB_NONE;
        fresh.mode = fresh.a_in.len == BLOB_NONE ? p.st.st_mode & 07777 : 0;
        if (fresh.a_in.len == BLOB_TOO_BIG || fresh.d_in.len == BLOB_TOO_BIG)
                c = NULL;
        slot = c ? cache_find(c, is_dir, fresh.mode, &fresh.a_in, &fresh.d_in) : NULL;
        if (slot) {
                changed = slot->changed;
                if (changed && !(e->flags & APID_ACL_DRY_RUN)) {
                        if (e->journal && (r = journal_entry(e, rel, &p, is_dir)) < 0)
                                goto out;
                        if (write_blob(&p, XATTR_ACCESS, &slot->a_out) < 0 ||
                            (is_dir && !blob_eq(&slot->d_in, &slot->d_out) && write_blob(&p, XATTR_DEFAULT, &slot->d_out) < 0)) {
                                r = sys_fail(rel, "writing the ACL");
                                goto out;
                        }
                }
                goto done;
        }
        /* Compute from the very bytes read (or, for a large ACL, from libacl). */
        acc = fresh.a_in.len >= 0 ? acl_from_blob(&fresh.a_in)
              : fresh.a_in.len == BLOB_NONE ? acl_from_mode(p.st.st_mode)
                                            : acl_get_file(p.proc, ACL_TYPE_ACCESS);
        def = !is_dir ? NULL
              : fresh.d_in.len >= 0 ? acl_from_blob(&fresh.d_in)
              : fresh.d_in.len == BLOB_NONE ? acl_init(0)
                                            : acl_get_file(p.proc, ACL_TYPE_DEFAULT);
        if (!acc || (is_dir && !def)) {
                r = apid__fail(APID_ECORRUPT, errno, "%s: cannot read its ACL", rel);
                goto out;
        }
        r = compute(e, acc, def, &p.st, dirfd, rel, is_dir, &nacc, &ndef);
        if (r < 0)
                goto out;
        acc_changed = acl_cmp(acc, nacc) != 0;
        def_changed = is_dir && (ndef ? (acl_entries(def) > 0 ? acl_cmp(def, ndef) != 0 : acl_entries(ndef) > 0)
                                      : acl_entries(def) > 0 && e->reset);
        changed = acc_changed || def_changed;
        fresh.changed = changed;
        if (blob_from_acl(nacc, &fresh.a_out) < 0)
                c = NULL, fresh.a_out.len = BLOB_TOO_BIG;
        fresh.d_out.len = BLOB_NONE;
        if (ndef && acl_entries(ndef) > 0 && blob_from_acl(ndef, &fresh.d_out) < 0)
                c = NULL, fresh.d_out.len = BLOB_TOO_BIG;
        if (!ndef && is_dir && !e->reset)
                fresh.d_out = fresh.d_in; /* untouched */
        if (changed && !(e->flags & APID_ACL_DRY_RUN)) {
                if (e->journal && (r = journal_entry(e, rel, &p, is_dir)) < 0)
                        goto out;
                if (acc_changed && (fresh.a_out.len == BLOB_TOO_BIG ? acl_set_file(p.proc, ACL_TYPE_ACCESS, nacc)
                                                                    : write_blob(&p, XATTR_ACCESS, &fresh.a_out)) < 0) {
                        r = sys_fail(rel, "writing the ACL");
                        goto out;
                }
                if (def_changed && (fresh.d_out.len == BLOB_TOO_BIG ? acl_set_file(p.proc, ACL_TYPE_DEFAULT, ndef)
                                                                    : write_blob(&p, XATTR_DEFAULT, &fresh.d_out)) < 0) {
                        r = sys_fail(rel, "writing the default ACL");
                        goto out;
                }
        }
        if (c) {
                fresh.used = 1;
                c->slots[c->next] = fresh;
                c->next = (c->next + 1) % CACHE_SLOTS;
        }
done:
        apid__acl_event(e, changed ? APID_ACL_CHANGED : APID_ACL_UNCHANGED, rel, NULL);
out:
        acl_free(acc);
        acl_free(def);
        acl_free(nacc);
        acl_free(ndef);
        close(p.fd);
        return r < 0 ? apid__acl_failed(e, rel, r) : APID_OK;
}
