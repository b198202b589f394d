/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one NSS resolver: reentrant lookups with a buffer grown on ERANGE, and
 * "not found" told apart from "the source failed". Issue 17: fixed 4096-byte
 * buffers once made a large group's gid look free, and getpwnam() (static
 * storage) was called from the ACL walk's worker threads. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "idmap.h"

void apid__nss_user_clear(struct apid__nss_user *u);

/* Past this a lookup is refused rather than grown further (a group entry of
 * 64 MiB is a misconfiguration, not an answer). */
#define BUF_MAX (64u << 20)

/* What getpw*_r / getgr*_r returned, as a status. POSIX lists ENOENT, ESRCH,
 * EBADF and EPERM as what some systems return for "not found"; glibc returns
 * 0 with a NULL result, or ENOENT when a module reports NOTFOUND oddly. */
static int verdict(int e, int found, const char *what)
{
        if (e == 0 || e == ENOENT || e == ESRCH)
                return found ? APID_OK : APID_ENOTFOUND;
        return apid__fail(APID_ESYS, e, "%s: NSS lookup failed: %s", what, strerror(e));
}

static size_t first_size(int which)
{
        long s = sysconf(which);

        return s > 0 && s < 1 << 20 ? (size_t)s : 4096;
}

/* One lookup loop for the four calls: call(key, buf, size) fills the entry
 * and *found, returns the errno-style result. */
struct query {
        int kind; /* 0 user by name, 1 user by uid, 2 group by name, 3 group by gid */
        const char *name;
        uint32_t id;
        struct passwd pw;
        struct group gr;
};

static int call(struct query *q, char *buf, size_t size, int *found)
{
        struct passwd *pr = NULL;
        struct group *gr = NULL;
        int e;

        switch (q->kind) {
        case 0: e = getpwnam_r(q->name, &q->pw, buf, size, &pr); break;
        case 1: e = getpwuid_r((uid_t)q->id, &q->pw, buf, size, &pr); break;
        case 2: e = getgrnam_r(q->name, &q->gr, buf, size, &gr); break;
        default: e = getgrgid_r((gid_t)q->id, &q->gr, buf, size, &gr); break;
        }
        *found = q->kind < 2 ? pr != NULL : gr != NULL;
        return e;
}

static int run(struct query *q, char **bufp, const char *what)
{
        size_t size = first_size(q->kind < 2 ? _SC_GETPW_R_SIZE_MAX : _SC_GETGR_R_SIZE_MAX);
        char *buf = NULL;
        int e, found = 0;

        for (;;) {
                char *more = realloc(buf, size);

                if (!more) {
                        free(buf);
                        return apid__fail_oom();
                }
                buf = more;
                e = call(q, buf, size, &found);
                if (e == EINTR)
                        continue;
                if (e != ERANGE)
                        break;
                if (size >= BUF_MAX) {
                        free(buf);
                        return apid__fail(APID_ESYS, ERANGE, "%s: NSS entry larger than %u bytes", what, BUF_MAX);
                }
                size *= 2;
        }
        *bufp = buf;
        e = verdict(e, found, what);
        if (e < 0) {
                free(buf);
                *bufp = NULL;
        }
        return e;
}

void apid__nss_user_clear(struct apid__nss_user *u)
{
        free(u->name);
        free(u->gecos);
        free(u->dir);
        memset(u, 0, sizeof(*u));
}

void apid__nss_group_clear(struct apid__nss_group *g)
{
        free(g->name);
        memset(g, 0, sizeof(*g));
}

static int copy3(char **a, const char *sa, char **b, const char *sb, char **c, const char *sc)
{
        *a = strdup(sa ? sa : "");
        *b = b ? strdup(sb ? sb : "") : NULL;
        if (c)
                *c = strdup(sc ? sc : "");
        if (!*a || (b && !*b) || (c && !*c))
                return apid__fail_oom();
        return APID_OK;
}

static int user_from(const struct passwd *pw, struct apid__nss_user *out)
{
        int r;

        memset(out, 0, sizeof(*out));
        out->uid = (uint32_t)pw->pw_uid;
        out->gid = (uint32_t)pw->pw_gid;
        r = copy3(&out->name, pw->pw_name, &out->gecos, pw->pw_gecos, &out->dir, pw->pw_dir);
        if (r < 0)
                apid__nss_user_clear(out);
        return r;
}

static int group_from(const struct group *gr, struct apid__nss_group *out)
{
        memset(out, 0, sizeof(*out));
        out->gid = (uint32_t)gr->gr_gid;
        out->name = strdup(gr->gr_name ? gr->gr_name : "");
        return out->name ? APID_OK : apid__fail_oom();
}

/* Ask NSS one question (kind: query.kind, a Q_* below) and fill u (users)
 * or g (groups) when not NULL. Messages name the key: "user web", "uid
 * 1000", "group adm", "gid 4". */
static int direct(int kind, const char *name, uint32_t id, struct apid__nss_user *u, struct apid__nss_group *g)
{
        static const char *const prefix[] = { "user", "uid", "group", "gid" };
        struct query q = { .kind = kind, .name = name, .id = id };
        _cleanup_free_ char *buf = NULL; /* the strings of q.pw or q.gr */
        char what[160], quoted[150];
        int r;

        if (name) {
                apid__quote(quoted, sizeof(quoted), name, 64);
                snprintf(what, sizeof(what), "%s %s", prefix[kind], quoted);
        } else {
                snprintf(what, sizeof(what), "%s %u", prefix[kind], id);
        }
        r = run(&q, &buf, what);
        if (r < 0)
                return r;
        if (kind < 2)
                return u ? user_from(&q.pw, u) : APID_OK;
        return g ? group_from(&q.gr, g) : APID_OK;
}

/* ---- answers gathered outside the transaction ----
 *
 * Inside apid__idmap_run the four lookups above do not ask NSS: they answer
 * from the cache, and a question not yet answered is written down and the
 * transaction rolled back (APID__EAGAIN_NSS); the questions are then asked
 * with no transaction and no lock held, and the transaction runs again,
 * seeing the registry as it is then. A slow directory slows only the caller
 * that asks it. In gather mode a question not yet answered counts as "not
 * found" for the rest of the round, so that one round collects every
 * question of a long import; the round is still rolled back. */
enum { Q_USER_NAME, Q_USER_ID, Q_GROUP_NAME, Q_GROUP_ID }; /* query.kind's values */
#define PENDING 1

struct answer {
        int kind;
        char *name;
        uint32_t id;
        int status; /* APID_OK, APID_ENOTFOUND or PENDING */
        struct apid__nss_user u;
        struct apid__nss_group g;
};

struct apid__nss_cache {
        struct answer *a;
        size_t n, cap;
        size_t *slot; /* open addressing: index + 1, 0 empty */
        size_t slots;
        int gather, missing;
};

static _Thread_local struct apid__nss_cache *current;

static size_t hash(int kind, const char *name, uint32_t id)
{
        size_t h = 1469598103934665603u ^ (size_t)kind;

        if (name)
                for (; *name; name++)
                        h = (h ^ (unsigned char)*name) * 1099511628211u;
        else
                h = (h ^ id) * 1099511628211u;
        return h ^ (h >> 29);
}

static int same(const struct answer *e, int kind, const char *name, uint32_t id)
{
        return e->kind == kind && (name ? strcmp(e->name, name) == 0 : e->id == id);
}

static int rehash(struct apid__nss_cache *c, size_t slots)
{
        size_t *t = calloc(slots, sizeof(*t)), i;

        if (!t)
                return apid__fail_oom();
        for (i = 0; i < c->n; i++) {
                size_t h = hash(c->a[i].kind, c->a[i].name, c->a[i].id) & (slots - 1);

                while (t[h])
                        h = (h + 1) & (slots - 1);
                t[h] = i + 1;
        }
        free(c->slot);
        c->slot = t;
        c->slots = slots;
        return APID_OK;
}

static struct answer *find(struct apid__nss_cache *c, int kind, const char *name, uint32_t id)
{
        size_t h;

        if (!c->slots)
                return NULL;
        for (h = hash(kind, name, id) & (c->slots - 1); c->slot[h]; h = (h + 1) & (c->slots - 1))
                if (same(&c->a[c->slot[h] - 1], kind, name, id))
                        return &c->a[c->slot[h] - 1];
        return NULL;
}

static int ask(struct apid__nss_cache *c, int kind, const char *name, uint32_t id)
{
        struct answer *e;
        int r;

        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16;
                struct answer *more = realloc(c->a, cap * sizeof(*more));

                if (!more)
                        return apid__fail_oom();
                c->a = more;
                c->cap = cap;
        }
        e = &c->a[c->n];
        memset(e, 0, sizeof(*e));
        e->kind = kind;
        e->id = id;
        e->status = PENDING;
        if (name && !(e->name = strdup(name)))
                return apid__fail_oom();
        c->n++;
        if (c->n * 2 > c->slots) {
                r = rehash(c, c->slots ? c->slots * 2 : 64);
                if (r < 0)
                        return r;
        } else {
                size_t h = hash(kind, name, id) & (c->slots - 1);

                while (c->slot[h])
                        h = (h + 1) & (c->slots - 1);
                c->slot[h] = c->n;
        }
        return APID_OK;
}

static int user_copy(const struct apid__nss_user *from, struct apid__nss_user *to)
{
        int r;

        memset(to, 0, sizeof(*to));
        to->uid = from->uid;
        to->gid = from->gid;
        r = copy3(&to->name, from->name, &to->gecos, from->gecos, &to->dir, from->dir);
        if (r < 0)
                apid__nss_user_clear(to);
        return r;
}

static int cached(int kind, const char *name, uint32_t id, struct apid__nss_user *u, struct apid__nss_group *g)
{
        struct apid__nss_cache *c = current;
        struct answer *e = find(c, kind, name, id);
        int r;

        if (!e) {
                r = ask(c, kind, name, id);
                if (r < 0)
                        return r;
                e = &c->a[c->n - 1];
        }
        if (e->status == PENDING) {
                c->missing = 1;
                return c->gather ? APID_ENOTFOUND : APID__EAGAIN_NSS;
        }
        if (e->status != APID_OK)
                return e->status;
        if (u)
                return user_copy(&e->u, u);
        if (g) {
                g->gid = e->g.gid;
                g->name = strdup(e->g.name);
                return g->name ? APID_OK : apid__fail_oom();
        }
        return APID_OK;
}

/* Inside a round from the cache, else from NSS now. */
static int lookup(int kind, const char *name, uint32_t id, struct apid__nss_user *u, struct apid__nss_group *g)
{
        return current ? cached(kind, name, id, u, g) : direct(kind, name, id, u, g);
}

int apid__nss_user_by_name(const char *name, struct apid__nss_user *out)
{
        return lookup(Q_USER_NAME, name, 0, out, NULL);
}

int apid__nss_user_by_uid(uint32_t uid, struct apid__nss_user *out)
{
        return lookup(Q_USER_ID, NULL, uid, out, NULL);
}

int apid__nss_group_by_name(const char *name, struct apid__nss_group *out)
{
        return lookup(Q_GROUP_NAME, name, 0, NULL, out);
}

int apid__nss_group_by_gid(uint32_t gid, struct apid__nss_group *out)
{
        return lookup(Q_GROUP_ID, NULL, gid, NULL, out);
}

/* Ask NSS the questions written down, with no transaction or lock held. */
static int answer_all(struct apid__nss_cache *c)
{
        size_t i;

        for (i = 0; i < c->n; i++) {
                struct answer *e = &c->a[i];
                int r;

                if (e->status != PENDING)
                        continue;
                r = direct(e->kind, e->name, e->id, &e->u, &e->g);
                if (r < 0 && r != APID_ENOTFOUND)
                        return r; /* the source failed: reported, never taken as "free" */
                e->status = r;
        }
        return APID_OK;
}

static void cache_clear(struct apid__nss_cache *c)
{
        size_t i;

        for (i = 0; i < c->n; i++) {
                free(c->a[i].name);
                apid__nss_user_clear(&c->a[i].u);
                apid__nss_group_clear(&c->a[i].g);
        }
        free(c->a);
        free(c->slot);
}

struct tramp {
        apid__reg_fn fn;
        void *arg;
        struct apid__nss_cache *c;
};

static int run_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct tramp *t = arg;
        struct apid__nss_cache *outer = current;
        int r;

        current = t->c;
        r = t->fn(ctx, db, t->arg);
        current = outer;
        /* An answer was missing: whatever the round decided, it decided
         * without it. Roll back, ask, run again. */
        return t->c->missing ? APID__EAGAIN_NSS : r;
}

/* Rounds are bounded: each round asks at least one new question, and the
 * questions are finite (candidates, names); a directory that keeps
 * changing its answers is reported rather than chased. */
#define MAX_ROUNDS 64 /* ask-ahead doubles: 1024 candidates take about 10 */

int apid__idmap_run(apid_ctx *ctx, int write, int create, apid__reg_fn fn, void *arg, int gather)
{
        struct apid__nss_cache c;
        struct tramp t = { fn, arg, &c };
        int r, round;

        if (current) /* already inside a round: the same transaction */
                return apid__reg_run(ctx, write, create, fn, arg);
        memset(&c, 0, sizeof(c));
        c.gather = gather;
        for (round = 0;; round++) {
                c.missing = 0;
                r = apid__reg_run(ctx, write, create, run_in, &t);
                if (r != APID__EAGAIN_NSS)
                        break;
                if (round == MAX_ROUNDS) {
                        r = apid__fail(APID_EBUSY, 0, "NSS: still new questions after %d rounds", MAX_ROUNDS);
                        break;
                }
                r = answer_all(&c);
                if (r < 0)
                        break;
        }
        cache_clear(&c);
        return r;
}

size_t apid__nss_asked(void)
{
        return current ? current->n : 0;
}

int apid__nss_in_round(void)
{
        return current != NULL;
}

int apid__nss_grouplist(const char *user_name, uint32_t gid, gid_t **out, int *n)
{
        int count = 64, tries;
        gid_t *list = NULL;

        /* getgrouplist sets count to the size it needs when list is too small;
         * a group added in between can need one more round. */
        for (tries = 0; tries < 8; tries++) {
                gid_t *more = realloc(list, (size_t)(count > 0 ? count : 1) * sizeof(gid_t));
                int have = count;

                if (!more) {
                        free(list);
                        return apid__fail_oom();
                }
                list = more;
                if (getgrouplist(user_name, (gid_t)gid, list, &count) >= 0) {
                        *out = list;
                        *n = count;
                        return APID_OK;
                }
                if (count <= have)
                        count = have * 2;
        }
        free(list);
        return apid__fail(APID_ESYS, 0, "groups of user %s: NSS kept growing the list", user_name);
}

int apid__nss_user_id(const char *name, uint32_t *uid)
{
        struct apid__nss_user u;
        int r = apid__nss_user_by_name(name, &u);

        if (r == APID_OK) {
                *uid = u.uid;
                apid__nss_user_clear(&u);
        }
        return r;
}

int apid__nss_group_id(const char *name, uint32_t *gid)
{
        struct apid__nss_group g;
        int r = apid__nss_group_by_name(name, &g);

        if (r == APID_OK) {
                *gid = g.gid;
                apid__nss_group_clear(&g);
        }
        return r;
}

int apid__nss_user_exists(const char *name)
{
        int r = apid__nss_user_by_name(name, NULL);

        return r == APID_OK ? 1 : r == APID_ENOTFOUND ? 0 : r;
}

int apid__nss_id_known(uint32_t id)
{
        int r = apid__nss_user_by_uid(id, NULL);

        if (r == APID_ENOTFOUND)
                r = apid__nss_group_by_gid(id, NULL);
        return r == APID_OK ? 1 : r == APID_ENOTFOUND ? 0 : r;
}

int apid__nss_name_known(const char *name)
{
        int r = apid__nss_user_by_name(name, NULL);

        if (r == APID_ENOTFOUND)
                r = apid__nss_group_by_name(name, NULL);
        return r == APID_OK ? 1 : r == APID_ENOTFOUND ? 0 : r;
}
