/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pools: create, open, delete, list, and their settings. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "idmap/idmap.h"
#include "lookup.h"

struct apid_pool {
        apid_ctx *ctx;  /* a reference */
        char *name;     /* as created */
        char *key;      /* canonical */
        uint32_t uid;   /* the pool's own identity */
        char **values;  /* one per apid__pool_settings entry, canonical; NULL = default */
        uint64_t cache_gen; /* opened from the lookup cache: its snapshot generation (0: not) */
        uint32_t cache_rec; /* and the snapshot record */
};

struct apid_pool_list {
        char **names;
        size_t count;
};

static size_t n_settings(void)
{
        static size_t n;

        if (!n)
                while (apid__pool_settings[n].name)
                        n++;
        return n;
}

apid_ctx *apid__pool_ctx(const apid_pool *pool)
{
        return pool->ctx;
}

uint32_t apid__pool_uid(const apid_pool *pool)
{
        return pool->uid;
}

const char *apid__pool_value(const apid_pool *pool, const char *setting)
{
        int i = apid__setting_find(apid__pool_settings, setting, "pool setting");

        if (i < 0)
                return NULL;
        return pool->values[i] ? pool->values[i] : apid__pool_settings[i].def;
}

APID_EXPORT void apid_pool_free(apid_pool *pool)
{
        size_t i;

        if (!pool)
                return;
        if (pool->values)
                for (i = 0; i < n_settings(); i++)
                        free(pool->values[i]);
        free(pool->values);
        free(pool->name);
        free(pool->key);
        apid_ctx_unref(pool->ctx);
        free(pool);
}

static int pool_new(apid_ctx *ctx, const struct apid__pool_row *row, apid_pool **out)
{
        apid_pool *pool = calloc(1, sizeof(*pool));
        size_t i;

        if (!pool)
                return apid__fail_oom();
        pool->ctx = apid_ctx_ref(ctx);
        pool->name = strdup(row->name);
        pool->key = strdup(row->key);
        pool->uid = row->uid;
        pool->values = calloc(n_settings(), sizeof(char *));
        if (!pool->name || !pool->key || !pool->values) {
                apid_pool_free(pool);
                return apid__fail_oom();
        }
        for (i = 0; i < row->n_settings; i++) {
                int s = apid__setting_find(apid__pool_settings, row->setting_names[i], "stored pool setting");

                if (s < 0)
                        continue; /* a setting a newer library wrote: keep it stored, ignore it here */
                pool->values[s] = strdup(row->setting_values[i]);
                if (!pool->values[s]) {
                        apid_pool_free(pool);
                        return apid__fail_oom();
                }
        }
        *out = pool;
        return APID_OK;
}

int apid__pool_from_row(apid_ctx *ctx, const struct apid__pool_row *row, uint64_t gen, uint32_t rec, apid_pool **out)
{
        int r = pool_new(ctx, row, out);

        if (r == APID_OK) {
                (*out)->cache_gen = gen;
                (*out)->cache_rec = rec;
        }
        return r;
}

int apid__pool_cache_tag(const apid_pool *pool, uint64_t *gen, uint32_t *rec)
{
        *gen = pool->cache_gen;
        *rec = pool->cache_rec;
        return pool->cache_gen != 0;
}

/* ---- create ---- */

struct create_arg {
        const char *name;
        const char *key;
        const apid_sid *sid;
        struct apid__posix_record account;
};

static int create_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct create_arg *c = arg;
        struct apid__pool_row row;
        _cleanup_free_ char *sid_text = NULL;
        struct apid__posix_record a;
        char *other_key = NULL;
        int r;

        r = apid__reg_pool_get(db, c->key, &row);
        if (r == APID_OK) {
                r = apid__fail(APID_EEXISTS, 0, "pool '%s': already exists (as '%s')", c->name, row.name);
                apid__pool_row_clear(&row);
                return r;
        }
        if (r != APID_ENOTFOUND)
                return r;
        r = apid_sid_to_string(c->sid, &sid_text);
        if (r < 0)
                return r;
        /* IIS event 9001: another pool name maps to the same SID. */
        r = apid__reg_record_by_sid(db, sid_text, &a);
        if (r == APID_OK) {
                int k = apid__reg_pool_key_by_uid(db, a.uid, &other_key);

                if (k != APID_OK && k != APID_ENOTFOUND)
                        return k; /* the registry failed: not "no other pool" */
        }
        if (other_key) {
                r = apid__reg_pool_get(db, other_key, &row);
                free(other_key);
                if (r < 0)
                        return r;
                r = apid__fail(APID_ECOLLISION, 0,
                               "pool '%s': its SID %s is already mapped to pool '%s' (IIS event 9001); "
                               "choose another name", c->name, sid_text, row.name);
                apid__pool_row_clear(&row);
                return r;
        }
        if (r < 0 && r != APID_ENOTFOUND)
                return r;
        r = apid__posix_record_assign(ctx, db, c->sid, APID__POSIX_POOL, c->name, &c->account);
        if (r < 0)
                return r;
        r = apid__reg_pool_insert(db, c->key, c->name, c->account.uid);
        if (r == APID_OK)
                apid__log(ctx, APID_LOG_INFO, "pool '%s' created: %s, user %s, uid %u", c->name, sid_text,
                          c->account.user, c->account.uid);
        return r;
}

APID_EXPORT int apid_pool_create(apid_ctx *ctx, const char *name, apid_pool **out)
{
        _cleanup_free_ char *key = NULL;
        struct create_arg c;
        struct apid__pool_row row;
        apid_sid *sid = NULL;
        int r;

        if (!ctx)
                return apid__fail(APID_EINVAL, 0, "apid_pool_create: ctx is NULL");
        r = apid_pool_name_canonical(name, &key);
        if (r < 0)
                return r;
        r = apid_sid_for_pool(name, &sid);
        if (r < 0)
                return r;
        memset(&c, 0, sizeof(c));
        c.name = name;
        c.key = key;
        c.sid = sid;
        r = apid__idmap_run(ctx, 1, 1, create_in, &c, 0);
        apid_sid_free(sid);
        if (r < 0 || !out)
                return r;
        memset(&row, 0, sizeof(row));
        row.name = (char *)name;
        row.key = key;
        row.uid = c.account.uid;
        return pool_new(ctx, &row, out);
}

/* ---- open ---- */

struct open_arg {
        const char *key;
        struct apid__pool_row row;
};

static int open_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct open_arg *o = arg;

        return apid__reg_pool_get(db, o->key, &o->row);
}

int apid__pool_open_key(apid_ctx *ctx, const char *key, apid_pool **out)
{
        struct open_arg o;
        int r;

        memset(&o, 0, sizeof(o));
        o.key = key;
        r = apid__reg_run(ctx, 0, 0, open_in, &o);
        if (r < 0) {
                apid__pool_row_clear(&o.row); /* read, then the transaction's end failed */
                return r;
        }
        r = pool_new(ctx, &o.row, out);
        apid__pool_row_clear(&o.row);
        return r;
}

APID_EXPORT int apid_pool_open(apid_ctx *ctx, const char *name, apid_pool **out)
{
        _cleanup_free_ char *key = NULL;
        int r;

        if (!ctx || !out)
                return apid__fail(APID_EINVAL, 0, "apid_pool_open: NULL argument");
        r = apid_pool_name_canonical(name, &key);
        if (r < 0)
                return r;
        r = apid__lookup_pool(ctx, key, out);
        if (r != APID__LOOKUP_MISS)
                return r;
        r = apid__pool_open_key(ctx, key, out);
        if (r == APID_ENOTFOUND)
                return apid__fail(APID_ENOTFOUND, 0, "pool '%s': no such pool", name);
        return r;
}

/* ---- delete ---- */

struct delete_arg {
        const char *name;
        const char *key;
        int flags;
};

static int delete_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct delete_arg *d = arg;
        struct apid__pool_row row;
        struct apid__posix_record a;
        int r;

        r = apid__reg_pool_get(db, d->key, &row);
        if (r < 0)
                return r;
        r = apid__reg_record_by_uid(db, row.uid, &a);
        apid__pool_row_clear(&row);
        if (r < 0)
                return r;
        if (d->flags == APID_POOL_DELETE_REMOVE_PROFILE) {
                _cleanup_free_ char *root = NULL;

                r = apid__profile_root(ctx, db, &root);
                if (r == APID_OK)
                        r = apid__profile_remove(root, a.user);
                if (r < 0)
                        return r;
        }
        r = apid__reg_pool_remove(db, d->key);
        if (r == APID_OK)
                apid__log(ctx, APID_LOG_INFO, "pool '%s' deleted; uid %u stays reserved for %s", d->name, a.uid,
                          a.sid);
        return r;
}

APID_EXPORT int apid_pool_delete(apid_ctx *ctx, const char *name, int flags)
{
        _cleanup_free_ char *key = NULL;
        struct delete_arg d;
        int r;

        if (!ctx)
                return apid__fail(APID_EINVAL, 0, "apid_pool_delete: ctx is NULL");
        if (flags != APID_POOL_DELETE_KEEP_PROFILE && flags != APID_POOL_DELETE_REMOVE_PROFILE)
                return apid__fail(APID_EINVAL, 0,
                                  "apid_pool_delete flags %d: give exactly one of APID_POOL_DELETE_KEEP_PROFILE (1) "
                                  "and APID_POOL_DELETE_REMOVE_PROFILE (2)", flags);
        r = apid_pool_name_canonical(name, &key);
        if (r < 0)
                return r;
        d.name = name;
        d.key = key;
        d.flags = flags;
        r = apid__reg_run(ctx, 1, 0, delete_in, &d);
        if (r == APID_ENOTFOUND)
                return apid__fail(APID_ENOTFOUND, 0, "pool '%s': no such pool", name);
        return r;
}

/* ---- settings ---- */

APID_EXPORT const char *apid_pool_get_name(const apid_pool *pool)
{
        return pool ? pool->name : NULL;
}

APID_EXPORT const char *apid_pool_setting_name(uint32_t index)
{
        return index < n_settings() ? apid__pool_settings[index].name : NULL;
}

APID_EXPORT int apid_pool_get(const apid_pool *pool, const char *setting, char **out)
{
        int i;

        if (!pool || !out)
                return apid__fail(APID_EINVAL, 0, "apid_pool_get: NULL argument");
        i = apid__setting_find(apid__pool_settings, setting, "pool setting");
        if (i < 0)
                return i;
        *out = strdup(pool->values[i] ? pool->values[i] : apid__pool_settings[i].def);
        return *out ? APID_OK : apid__fail_oom();
}

APID_EXPORT int apid_pool_get_identity_type(const apid_pool *pool)
{
        if (!pool)
                return apid__fail(APID_EINVAL, 0, "apid_pool_get_identity_type: pool is NULL");
        return apid__identity_type_from_name(apid__pool_value(pool, "processModel.identityType"));
}

APID_EXPORT int apid_pool_loads_profile(const apid_pool *pool)
{
        if (!pool)
                return apid__fail(APID_EINVAL, 0, "apid_pool_loads_profile: pool is NULL");
        return strcmp(apid__pool_value(pool, "processModel.loadUserProfile"), "true") == 0;
}

struct set_arg {
        apid_pool *pool;
        int index;
        char *value; /* canonical */
};

static int set_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct set_arg *s = arg;
        apid_pool *pool = s->pool;
        const char *name = apid__pool_settings[s->index].name;
        struct apid__pool_row row;
        char *old = pool->values[s->index];
        int r, type;

        /* The pool must still be the one this handle describes. */
        r = apid__reg_pool_get(db, pool->key, &row);
        if (r == APID_ENOTFOUND)
                return apid__fail(APID_ENOTFOUND, 0, "pool '%s': deleted meanwhile", pool->name);
        if (r < 0)
                return r;
        if (row.uid != pool->uid) {
                apid__pool_row_clear(&row);
                return apid__fail(APID_ENOTFOUND, 0, "pool '%s': deleted and created again meanwhile", pool->name);
        }
        apid__pool_row_clear(&row);

        if (strcmp(name, "processModel.userName") == 0 && s->value[0]) {
                r = apid__nss_user_exists(s->value);
                if (r < 0)
                        return r;
                if (!r)
                        return apid__fail(APID_ENOTFOUND, 0, "processModel.userName '%s': no such account",
                                          s->value);
        }
        if (strcmp(name, "processModel.identityType") == 0) {
                type = apid__identity_type_from_name(s->value);
                if (type == APID_IDENTITY_SPECIFIC_USER && !apid__pool_value(pool, "processModel.userName")[0])
                        return apid__fail(APID_EINVAL, 0,
                                          "processModel.identityType 'SpecificUser': set processModel.userName first");
                if (type == APID_IDENTITY_LOCAL_SERVICE || type == APID_IDENTITY_NETWORK_SERVICE) {
                        r = apid__provision_builtin(ctx, db, type);
                        if (r < 0)
                                return r;
                }
        }
        r = apid__reg_setting_put(db, pool->key, name,
                                  strcmp(s->value, apid__pool_settings[s->index].def) ? s->value : NULL);
        if (r < 0)
                return r;

        /* With the new value in place, the pool's profile, if it loads one,
         * must exist and belong to the identity it now runs as. */
        pool->values[s->index] = s->value;
        if (apid_pool_loads_profile(pool) == 1) {
                _cleanup_free_ char *root = NULL;
                apid_identity *id = NULL;

                r = apid__identity_build(ctx, db, pool, &id);
                if (r == APID_OK)
                        r = apid__profile_root(ctx, db, &root);
                if (r == APID_OK)
                        r = apid__profile_create(root, apid_identity_get_user(id), apid_identity_get_uid(id),
                                                 apid_identity_get_gid(id));
                apid_identity_free(id);
        }
        pool->values[s->index] = old;
        return r;
}

APID_EXPORT int apid_pool_check_setting(const char *setting, const char *value)
{
        char *canonical = NULL;
        int i, r;

        i = apid__setting_find(apid__pool_settings, setting, "pool setting");
        if (i < 0)
                return i;
        r = apid__setting_normalize(&apid__pool_settings[i], value, &canonical);
        free(canonical);
        return r;
}

APID_EXPORT int apid_pool_set(apid_pool *pool, const char *setting, const char *value)
{
        struct set_arg s;
        int r;

        if (!pool)
                return apid__fail(APID_EINVAL, 0, "apid_pool_set: pool is NULL");
        s.index = apid__setting_find(apid__pool_settings, setting, "pool setting");
        if (s.index < 0)
                return s.index;
        r = apid__setting_normalize(&apid__pool_settings[s.index], value, &s.value);
        if (r < 0)
                return r;
        s.pool = pool;
        r = apid__idmap_run(pool->ctx, 1, 0, set_in, &s, 0);
        if (r < 0) {
                free(s.value);
                return r;
        }
        free(pool->values[s.index]);
        pool->values[s.index] = s.value;
        pool->cache_gen = 0; /* no longer the cached row */
        return APID_OK;
}

/* ---- list ---- */

static int list_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        apid_pool_list *l = arg;

        return apid__reg_pool_keys(db, &l->names, &l->count);
}

APID_EXPORT int apid_pool_list_new(apid_ctx *ctx, apid_pool_list **out)
{
        apid_pool_list *l;
        int r;

        if (!ctx || !out)
                return apid__fail(APID_EINVAL, 0, "apid_pool_list_new: NULL argument");
        l = calloc(1, sizeof(*l));
        if (!l)
                return apid__fail_oom();
        r = apid__reg_run(ctx, 0, 0, list_in, l);
        if (r < 0 && r != APID_ENOTFOUND) {
                free(l);
                return r;
        }
        *out = l;
        return APID_OK;
}

APID_EXPORT uint32_t apid_pool_list_count(const apid_pool_list *list)
{
        return list ? (uint32_t)list->count : 0;
}

APID_EXPORT const char *apid_pool_list_get(const apid_pool_list *list, uint32_t index)
{
        return list && index < list->count ? list->names[index] : NULL;
}

APID_EXPORT void apid_pool_list_free(apid_pool_list *list)
{
        size_t i;

        if (!list)
                return;
        for (i = 0; i < list->count; i++)
                free(list->names[i]);
        free(list->names);
        free(list);
}
