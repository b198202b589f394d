/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Identities: the uid a SID maps to (a pure function into the id range, with
 * a deterministic probe sequence), POSIX user names, and the identity a
 * pool's workers run as. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>


#include "internal.h"
#include "idmap/idmap.h"
#include "lookup.h"


struct apid_identity {
        unsigned refs; /* __atomic: the lookup cache (lib/lookup.c) shares identities */
        int from_nss;  /* built from an NSS answer: never cached */
        apid_sid *sid;
        char *account;
        char *pool_name;
        char *user;
        char *profile;
        int type;
        uint32_t uid, gid, probe, shared_gid;
        uint32_t pool_gid; /* the pool's own group (== its own uid), whatever the type */
        char pool_group[33]; /* its name: the pool's POSIX user name */
};

int apid__profile_root(apid_ctx *ctx, struct sqlite3 *db, char **out)
{
        _cleanup_free_ char *root = NULL;
        int r = apid__config(db, "profileRoot", &root);

        if (r < 0)
                return r;
        if (root[0]) {
                *out = root;
                root = NULL;
                return APID_OK;
        }
        if (asprintf(out, "%s/profiles", apid_ctx_get_state_dir(ctx)) < 0) {
                *out = NULL;
                return apid__fail_oom();
        }
        return APID_OK;
}

int apid__profile_path(apid_ctx *ctx, struct sqlite3 *db, const char *user, char **out)
{
        _cleanup_free_ char *root = NULL;
        int r;

        /* Built only from a validated name: one path component, never '/'
         * or "..", so the profile stays beneath the root. */
        if (!apid__posix_name_valid(user)) {
                char q[160];

                apid__quote(q, sizeof(q), user, 64);
                return apid__fail(APID_EINVAL, 0, "profile of user '%s': not a valid user name", q);
        }
        r = apid__profile_root(ctx, db, &root);
        if (r < 0)
                return r;
        if (asprintf(out, "%s/%s", root, user) < 0) {
                *out = NULL;
                return apid__fail_oom();
        }
        return APID_OK;
}

/* ---- identities ---- */

APID_EXPORT void apid_identity_free(apid_identity *identity)
{
        if (!identity || __atomic_sub_fetch(&identity->refs, 1, __ATOMIC_ACQ_REL) != 0)
                return;
        apid_sid_free(identity->sid);
        free(identity->account);
        free(identity->pool_name);
        free(identity->user);
        free(identity->profile);
        free(identity);
}

apid_identity *apid__identity_ref(apid_identity *id)
{
        __atomic_add_fetch(&id->refs, 1, __ATOMIC_RELAXED);
        return id;
}

int apid__identity_from_nss(const apid_identity *id)
{
        return id->from_nss;
}

static int lookup_user(const char *name, uint32_t *uid, uint32_t *gid)
{
        struct apid__nss_user u;
        int r = apid__nss_user_by_name(name, &u);

        if (r == APID_ENOTFOUND)
                return apid__fail(APID_ENOTFOUND, 0, "user %s: no such account", name);
        if (r < 0)
                return r;
        *uid = u.uid;
        *gid = u.gid;
        apid__nss_user_clear(&u);
        return APID_OK;
}

/* The shared group's gid: an existing group of that name, else the one the
 * registry provisioned; (uint32_t)-1 when none is configured. */
static int shared_gid(struct sqlite3 *db, uint32_t *out, int *from_nss)
{
        _cleanup_free_ char *name = NULL;
        struct apid__nss_group g;
        struct apid__posix_record a;
        int r = apid__config(db, "sharedGroup", &name);

        *out = (uint32_t)-1;
        if (r < 0 || !name[0])
                return r;
        r = apid__reg_record_by_user(db, name, &a);
        if (r == APID_OK && a.kind == APID__POSIX_GROUP) {
                *out = a.uid;
                return APID_OK;
        }
        r = apid__nss_group_by_name(name, &g);
        if (r == APID_OK) {
                *from_nss = 1;
                *out = g.gid;
                apid__nss_group_clear(&g);
                return APID_OK;
        }
        if (r != APID_ENOTFOUND)
                return r;
        return apid__fail(APID_ENOTFOUND, 0, "shared group %s: no such group", name);
}

struct shared_arg {
        const char *name;
        uint32_t gid;
};

static int shared_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct shared_arg *s = arg;
        struct apid__posix_record a;
        int r = apid__reg_record_by_user(db, s->name, &a);

        if (r == APID_OK && a.kind != APID__POSIX_GROUP)
                r = APID_ENOTFOUND;
        if (r == APID_OK)
                s->gid = a.uid;
        return r;
}

struct builtin_arg {
        const char *name;
        uint32_t uid;
};

static int builtin_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct builtin_arg *b = arg;
        struct apid__posix_record a;
        int r = apid__reg_record_by_user(db, b->name, &a);

        if (r == APID_OK && a.kind != APID__POSIX_BUILTIN)
                r = APID_ENOTFOUND;
        if (r == APID_OK)
                b->uid = a.uid;
        return r;
}

int apid__builtin_uid_lookup(apid_ctx *ctx, const char *name, uint32_t *uid)
{
        struct builtin_arg b = { name, 0 };
        int r = apid__reg_run(ctx, 0, 0, builtin_in, &b);

        if (r == APID_OK)
                *uid = b.uid;
        return r;
}

int apid__shared_gid_lookup(apid_ctx *ctx, const char *name, uint32_t *gid)
{
        struct shared_arg s = { name, 0 };
        int r = apid__reg_run(ctx, 0, 0, shared_in, &s);

        if (r == APID_ENOTFOUND)
                return apid__fail(APID_ENOTFOUND, 0, "shared group %s: no such group", name);
        if (r == APID_OK)
                *gid = s.gid;
        return r;
}

struct build_arg {
        const apid_pool *pool;
        apid_identity *id;
};

/* An account whose uid or primary gid is another pool's own id (an account
 * added to /etc/passwd with it, or a pool's user named as a SpecificUser)
 * would carry that pool's group, its identity: refused. */
static int not_another_pool(struct sqlite3 *db, const apid_identity *id, uint32_t own)
{
        const uint32_t ids[2] = { id->uid, id->gid };
        struct apid__posix_record o;
        int i, r;

        for (i = 0; i < 2; i++) {
                r = apid__reg_record_by_uid(db, ids[i], &o);
                if (r == APID_ENOTFOUND || (r == APID_OK && (o.kind != APID__POSIX_POOL || o.uid == own)))
                        continue;
                if (r < 0)
                        return r;
                return apid__fail(APID_EINVAL, 0, "pool %s: its account %s has %s %u, the own id of %s (another "
                                  "pool's identity, its group and grants); choose another account", id->pool_name,
                                  id->user, i ? "gid" : "uid", ids[i], o.user);
        }
        return APID_OK;
}

static int build(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct build_arg *b = arg;
        apid_identity *id = b->id;
        const apid_pool *pool = b->pool;
        struct apid__posix_record a;
        _cleanup_free_ char *sid_text = NULL;
        int r;

        r = apid_sid_to_string(id->sid, &sid_text);
        if (r < 0)
                return r;
        r = apid__reg_record_by_uid(db, apid__pool_uid(pool), &a);
        if (r == APID_ENOTFOUND)
                return apid__fail(APID_ECORRUPT, 0, "pool %s: its uid %u has no account record", id->pool_name,
                                  apid__pool_uid(pool));
        if (r < 0)
                return r;
        r = shared_gid(db, &id->shared_gid, &id->from_nss);
        if (r < 0)
                return r;
        id->pool_gid = a.uid; /* every worker carries it: docs/identities.md */
        snprintf(id->pool_group, sizeof(id->pool_group), "%s", a.user);
        if (id->type == APID_IDENTITY_APPLICATION_POOL_IDENTITY) {
                id->uid = id->gid = a.uid;
                id->probe = a.probe;
                id->user = strdup(a.user);
                r = apid_account_for_pool(id->pool_name, &id->account);
                if (r < 0)
                        return r;
        } else if (id->type == APID_IDENTITY_SPECIFIC_USER) {
                const char *user = apid__pool_value(pool, "processModel.userName");

                id->from_nss = 1;
                r = lookup_user(user, &id->uid, &id->gid);
                if (r < 0)
                        return r;
                id->user = strdup(user);
                id->account = strdup(user);
        } else {
                _cleanup_free_ char *user = NULL;
                struct apid__posix_record b2;

                r = apid__config(db, apid__builtin_by_type(id->type)->setting, &user);
                if (r < 0)
                        return r;
                /* A provisioned account, or an existing one of that name. */
                r = apid__reg_record_by_user(db, user, &b2);
                if (r == APID_OK && b2.kind == APID__POSIX_BUILTIN) {
                        id->uid = id->gid = b2.uid;
                } else {
                        id->from_nss = 1;
                        r = lookup_user(user, &id->uid, &id->gid);
                        if (r < 0)
                                return r;
                }
                id->user = strdup(user);
                id->account = strdup(apid__builtin_by_type(id->type)->account);
        }
        if (!id->user || !id->account)
                return apid__fail_oom();
        if (id->type != APID_IDENTITY_APPLICATION_POOL_IDENTITY) {
                r = not_another_pool(db, id, a.uid);
                if (r < 0)
                        return r;
        }
        if (apid_pool_loads_profile(pool) == 1) {
                r = apid__profile_path(ctx, db, id->user, &id->profile);
                if (r < 0)
                        return r;
        }
        return APID_OK;
}

int apid__identity_build(apid_ctx *ctx, struct sqlite3 *db, const apid_pool *pool, apid_identity **out)
{
        struct build_arg b;
        apid_identity *id;
        int r;

        id = calloc(1, sizeof(*id));
        if (!id)
                return apid__fail_oom();
        id->refs = 1;
        id->type = apid_pool_get_identity_type(pool);
        id->pool_name = strdup(apid_pool_get_name(pool));
        r = id->pool_name ? apid_sid_for_pool(id->pool_name, &id->sid) : apid__fail_oom();
        if (r == APID_OK) {
                b.pool = pool;
                b.id = id;
                r = db ? build(ctx, db, &b) : apid__idmap_run(ctx, 0, 0, build, &b, 0);
        }
        if (r < 0) {
                apid_identity_free(id);
                return r;
        }
        *out = id;
        return APID_OK;
}

int apid__identity_export(const apid_identity *id, struct apid__launch_id *out)
{
        if (id->type != APID_IDENTITY_APPLICATION_POOL_IDENTITY || id->from_nss || id->uid != id->gid ||
            id->pool_gid != id->uid || strcmp(id->pool_group, id->user) != 0)
                return -1;
        out->uid = id->uid;
        out->probe = id->probe;
        out->shared_gid = id->shared_gid;
        out->user = id->user;
        out->profile = id->profile ? id->profile : "";
        return 0;
}

/* What build() makes for an ApplicationPoolIdentity pool, from what it read
 * from the registry (kept in the launch settings file). */
int apid__identity_import(apid_ctx *ctx, const char *pool_name, const struct apid__launch_id *in,
                          apid_identity **out)
{
        apid_identity *id;
        int r;

        (void)ctx;
        if (!apid__posix_name_valid(in->user) || strlen(in->user) >= sizeof(id->pool_group) ||
            in->uid < 65536 || in->uid > 2147483647u)
                return apid__fail(APID_ECORRUPT, 0, "launch settings of pool %s: an invalid account", pool_name);
        id = calloc(1, sizeof(*id));
        if (!id)
                return apid__fail_oom();
        id->refs = 1;
        id->type = APID_IDENTITY_APPLICATION_POOL_IDENTITY;
        id->uid = id->gid = id->pool_gid = in->uid;
        id->probe = in->probe;
        id->shared_gid = in->shared_gid;
        snprintf(id->pool_group, sizeof(id->pool_group), "%s", in->user);
        id->pool_name = strdup(pool_name);
        id->user = strdup(in->user);
        id->profile = in->profile[0] ? strdup(in->profile) : NULL;
        if (!id->pool_name || !id->user || (in->profile[0] && !id->profile))
                r = apid__fail_oom();
        else
                r = apid_sid_for_pool(id->pool_name, &id->sid);
        if (r == APID_OK)
                r = apid_account_for_pool(id->pool_name, &id->account);
        if (r < 0) {
                apid_identity_free(id);
                return r;
        }
        *out = id;
        return APID_OK;
}

APID_EXPORT int apid_pool_get_identity(const apid_pool *pool, apid_identity **out)
{
        if (!pool || !out)
                return apid__fail(APID_EINVAL, 0, "apid_pool_get_identity: NULL argument");
        if (apid__lookup_pool_identity(pool, out) == APID_OK)
                return APID_OK;
        return apid__identity_build(apid__pool_ctx(pool), NULL, pool, out);
}

/* Lookups: find the pool, then build its identity. */
struct find_arg {
        const char *sid;
        uint32_t uid;
        const char *user;
        char *key;
};

static int find_pool(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct find_arg *f = arg;
        struct apid__posix_record a;
        int r;

        if (f->sid)
                r = apid__reg_record_by_sid(db, f->sid, &a);
        else if (f->user)
                r = apid__reg_record_by_user(db, f->user, &a);
        else
                r = apid__reg_record_by_uid(db, f->uid, &a);
        if (r == APID_OK && a.kind != APID__POSIX_POOL)
                r = APID_ENOTFOUND;
        if (r == APID_OK)
                r = apid__reg_pool_key_by_uid(db, a.uid, &f->key);
        return r;
}

static int identity_from(apid_ctx *ctx, struct find_arg *f, const char *what, apid_identity **out)
{
        apid_pool *pool = NULL;
        int r;

        if (!ctx || !out)
                return apid__fail(APID_EINVAL, 0, "identity lookup: NULL argument");
        r = apid__reg_run(ctx, 0, 0, find_pool, f);
        if (r == APID_ENOTFOUND)
                return apid__fail(APID_ENOTFOUND, 0, "%s: no pool has this identity", what);
        if (r < 0)
                return r;
        r = apid__pool_open_key(ctx, f->key, &pool);
        free(f->key);
        if (r == APID_OK)
                r = apid_pool_get_identity(pool, out);
        apid_pool_free(pool);
        return r;
}

APID_EXPORT int apid_identity_from_sid(apid_ctx *ctx, const apid_sid *sid, apid_identity **out)
{
        _cleanup_free_ char *text = NULL;
        struct find_arg f = { 0 };
        int r;

        if (!sid)
                return apid__fail(APID_EINVAL, 0, "apid_identity_from_sid: NULL argument");
        r = apid_sid_to_string(sid, &text);
        if (r < 0)
                return r;
        if (ctx && out && apid__lookup_identity(ctx, APID__SNAP_BY_SID, text, 0, out) == APID_OK)
                return APID_OK;
        f.sid = text;
        return identity_from(ctx, &f, text, out);
}

APID_EXPORT int apid_identity_from_uid(apid_ctx *ctx, uint32_t uid, apid_identity **out)
{
        struct find_arg f = { 0 };
        char what[32];

        if (ctx && out && apid__lookup_identity(ctx, APID__SNAP_BY_UID, NULL, uid, out) == APID_OK)
                return APID_OK;
        f.uid = uid;
        snprintf(what, sizeof(what), "uid %u", uid);
        return identity_from(ctx, &f, what, out);
}

APID_EXPORT int apid_identity_from_user(apid_ctx *ctx, const char *user, apid_identity **out)
{
        struct find_arg f = { 0 };
        const char *slash;
        char q[256];

        if (!user)
                return apid__fail(APID_EINVAL, 0, "apid_identity_from_user: NULL argument");
        slash = strchr(user, '\\');
        if (slash && (size_t)(slash - user) == strlen(APID_POOL_DOMAIN) &&
            strncasecmp(user, APID_POOL_DOMAIN, strlen(APID_POOL_DOMAIN)) == 0) {
                apid_pool *pool = NULL;
                int r;

                if (!ctx || !out)
                        return apid__fail(APID_EINVAL, 0, "apid_identity_from_user: NULL argument");
                r = apid_pool_open(ctx, slash + 1, &pool);
                if (r == APID_OK)
                        r = apid_pool_get_identity(pool, out);
                apid_pool_free(pool);
                return r;
        }
        if (ctx && out && apid__lookup_identity(ctx, APID__SNAP_BY_NAME, user, 0, out) == APID_OK)
                return APID_OK;
        f.user = user;
        apid__quote(q, sizeof(q), user, 100);
        return identity_from(ctx, &f, q, out);
}

APID_EXPORT const apid_sid *apid_identity_get_sid(const apid_identity *identity)
{
        return identity ? identity->sid : NULL;
}

APID_EXPORT const char *apid_identity_get_account(const apid_identity *identity)
{
        return identity ? identity->account : NULL;
}

APID_EXPORT const char *apid_identity_get_pool_name(const apid_identity *identity)
{
        return identity ? identity->pool_name : NULL;
}

APID_EXPORT const char *apid_identity_get_user(const apid_identity *identity)
{
        return identity ? identity->user : NULL;
}

APID_EXPORT int apid_identity_get_type(const apid_identity *identity)
{
        return identity ? identity->type : APID_EINVAL;
}

APID_EXPORT uint32_t apid_identity_get_uid(const apid_identity *identity)
{
        return identity ? identity->uid : (uint32_t)-1;
}

APID_EXPORT uint32_t apid_identity_get_gid(const apid_identity *identity)
{
        return identity ? identity->gid : (uint32_t)-1;
}

APID_EXPORT uint32_t apid_identity_get_uid_probe(const apid_identity *identity)
{
        return identity && identity->type == APID_IDENTITY_APPLICATION_POOL_IDENTITY ? identity->probe : 0;
}

APID_EXPORT const char *apid_identity_get_profile_dir(const apid_identity *identity)
{
        return identity ? identity->profile : NULL;
}

APID_EXPORT uint32_t apid_identity_get_shared_gid(const apid_identity *identity)
{
        return identity ? identity->shared_gid : (uint32_t)-1;
}

APID_EXPORT uint32_t apid_identity_get_pool_gid(const apid_identity *identity)
{
        return identity ? identity->pool_gid : (uint32_t)-1;
}

APID_EXPORT const char *apid_identity_get_pool_group(const apid_identity *identity)
{
        return identity ? identity->pool_group : NULL;
}
