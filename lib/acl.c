/* ACL edits: the edit object, and the change to one path, computed with
 * libacl. The walk over a tree is in acl-walk.c. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <acl/libacl.h>
#include <sys/acl.h>

#include "internal.h"
#include "acl-internal.h"

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
                struct passwd *pw = getpwuid((uid_t)a.t.id);
                int n = 64;

                if (pw) {
                        a.groups = malloc((size_t)n * sizeof(gid_t));
                        if (a.groups && getgrouplist(pw->pw_name, pw->pw_gid, a.groups, &n) < 0) {
                                free(a.groups);
                                a.groups = malloc((size_t)n * sizeof(gid_t));
                                if (a.groups && getgrouplist(pw->pw_name, pw->pw_gid, a.groups, &n) < 0)
                                        n = 0;
                        }
                        a.n_groups = a.groups ? n : 0;
                }
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
        if (flags & ~(uint32_t)(APID_ACL_RECURSIVE | APID_ACL_STRICT | APID_ACL_CONTINUE | APID_ACL_DRY_RUN))
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
        char message[1024];

        snprintf(message, sizeof(message), "%s", apid_error_message());
        apid__acl_event(e, APID_ACL_FAILED, rel, message);
        pthread_mutex_lock(&e->lock);
        if (!e->first_error) {
                e->first_error = status;
                snprintf(e->first_message, sizeof(e->first_message), "%s", message);
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

/* The group-class entries and the mask, before the edit: their effective
 * rights must not grow when the mask is recomputed. */
struct snapshot_entry {
        acl_tag_t tag;
        uint32_t id;
        unsigned effective;
};

struct acl_state {
        struct snapshot_entry entries[64];
        int n;
        int overflow;
        unsigned touched_tags; /* which of our own entries the edit wrote (by index into aces) */
};

static unsigned mask_bits(acl_t acl, int *has_mask)
{
        acl_entry_t en;

        *has_mask = find_entry(acl, ACL_MASK, 0, &en);
        if (*has_mask)
                return entry_bits(en);
        return find_entry(acl, ACL_GROUP_OBJ, 0, &en) ? entry_bits(en) : 7;
}

static void remember_group_class(acl_t acl, struct acl_state *s)
{
        acl_entry_t en;
        int w, has_mask;
        unsigned m = mask_bits(acl, &has_mask);

        s->n = 0;
        s->overflow = 0;
        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;

                if (acl_get_tag_type(en, &t) < 0 || (t != ACL_USER && t != ACL_GROUP && t != ACL_GROUP_OBJ))
                        continue;
                if (s->n == (int)(sizeof(s->entries) / sizeof(s->entries[0]))) {
                        s->overflow = 1;
                        break;
                }
                s->entries[s->n].tag = t;
                s->entries[s->n].id = 0;
                if (t != ACL_GROUP_OBJ) {
                        id_t *q = acl_get_qualifier(en);

                        s->entries[s->n].id = q ? (uint32_t)*q : 0;
                        acl_free(q);
                }
                s->entries[s->n].effective = entry_bits(en) & m;
                s->n++;
        }
}

/* Recompute the mask, then clip every entry the edit did not name back to
 * the rights it had, so the new mask gives nobody else more. */
static int fix_mask(acl_t *acl, const struct acl_state *s, const struct apid__ace *aces, size_t n_aces)
{
        int i, has_mask;
        size_t k;

        if (acl_calc_mask(acl) < 0)
                return -1;
        for (i = 0; i < s->n; i++) {
                acl_entry_t en;
                int ours = 0;

                for (k = 0; k < n_aces; k++)
                        if (posix_tag(aces[k].t.tag) == s->entries[i].tag &&
                            (s->entries[i].tag == ACL_GROUP_OBJ || aces[k].t.id == s->entries[i].id))
                                ours = 1;
                if (ours || !find_entry(*acl, s->entries[i].tag, s->entries[i].id, &en))
                        continue;
                if ((entry_bits(en) & mask_bits(*acl, &has_mask)) != s->entries[i].effective)
                        set_bits(en, entry_bits(en) & s->entries[i].effective);
        }
        return acl_calc_mask(acl);
}

/* What a user gets from a file's ACL today, for deny: owner, named user,
 * group class (owning group and named groups the user is in), or other. */
static unsigned user_access(acl_t acl, const struct apid__ace *a, const struct stat *st, int *is_owner)
{
        acl_entry_t en;
        unsigned bits = 0;
        int w, in_group = 0, has_mask, i;
        unsigned m = mask_bits(acl, &has_mask);

        *is_owner = (uint32_t)st->st_uid == a->t.id;
        if (*is_owner)
                return find_entry(acl, ACL_USER_OBJ, 0, &en) ? entry_bits(en) : 0;
        if (find_entry(acl, ACL_USER, a->t.id, &en))
                return entry_bits(en) & m;
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
                for (i = 0; i < a->n_groups; i++)
                        if ((uint32_t)a->groups[i] == gid) {
                                bits |= entry_bits(en) & m;
                                in_group = 1;
                        }
        }
        if (in_group)
                return bits;
        return find_entry(acl, ACL_OTHER, 0, &en) ? entry_bits(en) : 0;
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
        for (i = 0; i < 3; i++)
                if (find_entry(access, base[i], 0, &en) && add_entry(&d, base[i], 0, entry_bits(en)) < 0) {
                        acl_free(d);
                        return NULL;
                }
        return d;
}

/* ---- the cache of computed results: files whose ACLs were the same before
 * the edit get the same ACLs after it, byte for byte ---- */

struct blob {
        ssize_t len; /* -1: no xattr */
        unsigned char data[BLOB_MAX];
};

struct cache_slot {
        int used, is_dir;
        mode_t mode; /* when there is no access xattr */
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

                if (s->used && s->is_dir == is_dir && blob_eq(&s->a_in, a) && (a->len >= 0 || s->mode == mode) &&
                    (!is_dir || blob_eq(&s->d_in, d)))
                        return s;
        }
        return NULL;
}

static int read_blob(int dirfd, const char *name, const char *attr, struct blob *b)
{
        b->len = apid__getxattr_at(dirfd, name, attr, b->data, sizeof(b->data));
        if (b->len < 0) {
                if (errno == ENODATA) {
                        b->len = -1;
                        return 0;
                }
                return -1;
        }
        return 0;
}

static int cacheable(const apid_acl_edit *e)
{
        size_t i;

        if (e->reset || e->journal || (e->flags & APID_ACL_DRY_RUN))
                return 0;
        for (i = 0; i < e->n_aces; i++)
                if (e->aces[i].op == APID_ACL_DENY || e->aces[i].t.tag == APID__T_OWNER ||
                    e->aces[i].t.tag == APID__T_OWNING_GROUP)
                        return 0; /* the result depends on the file's owner */
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

static int journal_entry(apid_acl_edit *e, const char *rel, int fd, int is_dir)
{
        char path[8192];
        int r;

        snprintf(path, sizeof(path), "%s%s%s", e->root_display, strcmp(rel, ".") ? "/" : "",
                 strcmp(rel, ".") ? rel : "");
        pthread_mutex_lock(&e->lock);
        r = apid__acl_write_entry(e->journal, path, fd, is_dir);
        if (r == APID_OK && (fflush(e->journal) != 0 || fdatasync(fileno(e->journal)) != 0))
                r = apid__fail(APID_ESYS, errno, "journal %s: %s", e->journal_path, strerror(errno));
        pthread_mutex_unlock(&e->lock);
        return r;
}

/* Compute and write the new ACLs of one path with libacl. */
static int edit_slow(apid_acl_edit *e, int dirfd, const char *name, const char *rel, int is_dir, int *changed)
{
        char proc[64];
        acl_t acc = NULL, def = NULL, nacc = NULL, ndef = NULL;
        struct acl_state sa, sd;
        struct stat st;
        int fd, kind = is_dir ? 1 : 0, r = APID_OK, acc_changed, def_changed;
        size_t i;

        *changed = 0;
        fd = apid__open_nofollow(dirfd, name, 0);
        if (fd < 0)
                return sys_fail(rel, "open");
        if (fstat(fd, &st) < 0) {
                r = sys_fail(rel, "fstat");
                goto out;
        }
        if ((S_ISDIR(st.st_mode) ? 1 : 0) != is_dir || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) {
                r = apid__fail(APID_EBUSY, 0, "%s: changed type during the walk; left alone", rel);
                goto out;
        }
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        acc = acl_get_file(proc, ACL_TYPE_ACCESS);
        if (!acc) {
                r = sys_fail(rel, "reading the ACL");
                goto out;
        }
        if (is_dir) {
                def = acl_get_file(proc, ACL_TYPE_DEFAULT);
                if (!def) {
                        r = sys_fail(rel, "reading the default ACL");
                        goto out;
                }
        }
        if (e->reset) {
                acl_t pd = parent_default(dirfd);

                nacc = pd ? acl_dup(pd) : acl_from_mode(st.st_mode);
                if (is_dir)
                        ndef = pd ? acl_dup(pd) : acl_init(0);
                acl_free(pd);
        } else {
                nacc = acl_dup(acc);
                if (is_dir)
                        ndef = acl_entries(def) > 0 ? acl_dup(def) : NULL;
        }
        if (!nacc || (is_dir && e->reset && !ndef)) {
                r = apid__fail_oom();
                goto out;
        }
        remember_group_class(nacc, &sa);
        if (ndef)
                remember_group_class(ndef, &sd);
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
                if (!(is_dir && (a->flags & APID__ACE_IO)) &&
                    apply_ace(e, a, &nacc, kind, &st, rel, 0) < 0)
                        r = sys_fail(rel, "editing the ACL");
                if (r == APID_OK && is_dir && (inherit || (a->op == APID_ACL_REMOVE && ndef) ||
                                               (a->op == APID_ACL_DENY && ndef))) {
                        if (!ndef) {
                                ndef = default_from(nacc);
                                if (!ndef) {
                                        r = apid__fail_oom();
                                        break;
                                }
                                remember_group_class(ndef, &sd);
                        }
                        if (apply_ace(e, a, &ndef, kind, &st, rel, 1) < 0)
                                r = sys_fail(rel, "editing the default ACL");
                }
        }
        if (r == APID_OK && (fix_mask(&nacc, &sa, e->aces, e->n_aces) < 0 ||
                             (ndef && acl_entries(ndef) > 0 && fix_mask(&ndef, &sd, e->aces, e->n_aces) < 0)))
                r = sys_fail(rel, "computing the ACL mask");
        if (r == APID_OK && (acl_valid(nacc) < 0 || (ndef && acl_entries(ndef) > 0 && acl_valid(ndef) < 0)))
                r = apid__fail(APID_EINVAL, 0, "%s: the edit gives an invalid ACL", rel);
        if (r < 0)
                goto out;
        acc_changed = acl_cmp(acc, nacc) != 0;
        def_changed = is_dir && (ndef ? (acl_entries(def) > 0 ? acl_cmp(def, ndef) != 0 : acl_entries(ndef) > 0)
                                      : 0);
        if (!acc_changed && !def_changed)
                goto out;
        *changed = 1;
        if (e->flags & APID_ACL_DRY_RUN)
                goto out;
        if (e->journal) {
                r = journal_entry(e, rel, fd, is_dir);
                if (r < 0)
                        goto out;
        }
        if (acc_changed && acl_set_file(proc, ACL_TYPE_ACCESS, nacc) < 0) {
                r = sys_fail(rel, "writing the ACL");
                goto out;
        }
        if (def_changed) {
                if (acl_entries(ndef) > 0 ? acl_set_file(proc, ACL_TYPE_DEFAULT, ndef) < 0
                                          : acl_delete_def_file(proc) < 0)
                        r = sys_fail(rel, "writing the default ACL");
        }
out:
        acl_free(acc);
        acl_free(def);
        acl_free(nacc);
        acl_free(ndef);
        close(fd);
        return r;
}

int apid__acl_edit_path(apid_acl_edit *e, int dirfd, const char *name, const char *rel, int is_dir, void *cachep)
{
        struct cache *c = cachep;
        struct cache_slot *slot = NULL, fresh;
        struct stat st;
        int changed = 0, r;

        memset(&st, 0, sizeof(st));
        if (c && cacheable(e)) {
                fresh.is_dir = is_dir;
                if (read_blob(dirfd, name, XATTR_ACCESS, &fresh.a_in) < 0 ||
                    (is_dir && read_blob(dirfd, name, XATTR_DEFAULT, &fresh.d_in) < 0)) {
                        r = sys_fail(rel, "reading the ACL");
                        return apid__acl_failed(e, rel, r);
                }
                fresh.mode = 0;
                if (fresh.a_in.len < 0) {
                        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                return apid__acl_failed(e, rel, sys_fail(rel, "fstatat"));
                        fresh.mode = st.st_mode & 07777;
                }
                slot = cache_find(c, is_dir, fresh.mode, &fresh.a_in, &fresh.d_in);
                if (slot) {
                        if (slot->changed &&
                            ((slot->a_out.len >= 0 &&
                              apid__setxattr_at(dirfd, name, XATTR_ACCESS, slot->a_out.data, (size_t)slot->a_out.len) <
                                      0) ||
                             (is_dir && (slot->d_out.len >= 0
                                                 ? apid__setxattr_at(dirfd, name, XATTR_DEFAULT, slot->d_out.data,
                                                                     (size_t)slot->d_out.len)
                                                 : (slot->d_in.len >= 0
                                                            ? apid__removexattr_at(dirfd, name, XATTR_DEFAULT)
                                                            : 0)) < 0)))
                                return apid__acl_failed(e, rel, sys_fail(rel, "writing the ACL"));
                        apid__acl_event(e, slot->changed ? APID_ACL_CHANGED : APID_ACL_UNCHANGED, rel, NULL);
                        return APID_OK;
                }
        }
        r = edit_slow(e, dirfd, name, rel, is_dir, &changed);
        if (r < 0)
                return apid__acl_failed(e, rel, r);
        if (c && cacheable(e)) {
                /* Remember what this kind of file became. */
                fresh.used = 1;
                fresh.changed = changed;
                /* A result without an access xattr (the ACL became minimal) lives
                 * in the mode bits alone: not something to copy to other files. */
                if (read_blob(dirfd, name, XATTR_ACCESS, &fresh.a_out) == 0 && (fresh.a_out.len >= 0 || !changed) &&
                    (!is_dir || read_blob(dirfd, name, XATTR_DEFAULT, &fresh.d_out) == 0)) {
                        c->slots[c->next] = fresh;
                        c->next = (c->next + 1) % CACHE_SLOTS;
                }
        }
        apid__acl_event(e, changed ? APID_ACL_CHANGED : APID_ACL_UNCHANGED, rel, NULL);
        return APID_OK;
}
