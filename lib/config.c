/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry as a whole: its settings, export and import, and the host's
 * network principal. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "internal.h"
#include "util/regular.h"
#include "idmap/idmap.h"

#define IIS_IUSRS_SID "S-1-5-32-568"
#define EXPORT_MAGIC "apppoolid-export 1"

struct config_arg {
        int index;
        const char *value;
        char *out;
};

static int get_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct config_arg *c = arg;

        return apid__config(db, apid__registry_settings[c->index].name, &c->out);
}

APID_EXPORT int apid_registry_get(apid_ctx *ctx, const char *setting, char **out)
{
        struct config_arg c = { 0 };
        int r;

        if (!ctx || !out)
                return apid__fail(APID_EINVAL, 0, "apid_registry_get: NULL argument");
        c.index = apid__setting_find(apid__registry_settings, setting, "registry setting");
        if (c.index < 0)
                return c.index;
        r = apid__reg_run(ctx, 0, 0, get_in, &c);
        if (r == APID_ENOTFOUND) /* no registry yet: the default */
                c.out = strdup(apid__registry_settings[c.index].def), r = c.out ? APID_OK : apid__fail_oom();
        if (r < 0)
                return r;
        *out = c.out;
        return APID_OK;
}

static int provision_shared_group(apid_ctx *ctx, struct sqlite3 *db, const char *name)
{
        struct apid__posix_record a;
        apid_sid *sid = NULL;
        int r;

        r = apid__nss_group_by_name(name, NULL);
        if (r != APID_ENOTFOUND)
                return r; /* an existing group, or the source failed */
        r = apid__reg_record_by_sid(db, IIS_IUSRS_SID, &a);
        if (r == APID_OK) {
                if (strcmp(a.user, name) == 0)
                        return APID_OK;
                return apid__fail(APID_EEXISTS, 0, "sharedGroup '%s': the shared group was provisioned as '%s'", name,
                                  a.user);
        }
        if (r != APID_ENOTFOUND)
                return r; /* the registry failed: not "absent" */
        r = apid_sid_parse(IIS_IUSRS_SID, &sid);
        if (r == APID_OK)
                r = apid__posix_record_assign(ctx, db, sid, APID__POSIX_GROUP, name, &a);
        apid_sid_free(sid);
        if (r == APID_OK)
                apid__log(ctx, APID_LOG_INFO, "provisioned shared group %s (gid %u)", name, a.uid);
        return r;
}

/* The checks registry set makes on a registry setting's canonical value,
 * shared with import (issue 15: an import once set an id range that registry
 * set refuses). other_range: for idRangeStart/idRangeSize, the other bound to
 * check against; NULL takes the registry's. */
static int setting_check(apid_ctx *ctx, struct sqlite3 *db, int index, const char *value, const char *other_range)
{
        const char *name = apid__registry_settings[index].name;
        char q[160];
        int r;

        apid__quote(q, sizeof(q), value, 100);
        if (strcmp(name, "idRangeStart") == 0 || strcmp(name, "idRangeSize") == 0) {
                _cleanup_free_ char *other = NULL;
                int is_start = strcmp(name, "idRangeStart") == 0;
                unsigned long long start, size;

                if (!other_range) {
                        r = apid__config(db, is_start ? "idRangeSize" : "idRangeStart", &other);
                        if (r < 0)
                                return r;
                        other_range = other;
                }
                start = strtoull(is_start ? value : other_range, NULL, 10);
                size = strtoull(is_start ? other_range : value, NULL, 10);
                if (start + size - 1 > 2147483647ull)
                        return apid__fail(APID_EINVAL, 0,
                                          "%s '%s': the id range %llu..%llu would pass 2147483647 (2^31 - 1)", name,
                                          q, start, start + size - 1);
        } else if (strcmp(name, "sharedGroup") == 0 && value[0]) {
                r = provision_shared_group(ctx, db, value);
                if (r < 0)
                        return r;
        } else if (strcmp(name, "localSystemUser") == 0 && value[0]) {
                r = apid__nss_user_exists(value);
                if (r < 0)
                        return r;
                if (!r)
                        return apid__fail(APID_ENOTFOUND, 0, "localSystemUser '%s': no such account", q);
        }
        return APID_OK;
}

static int set_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct config_arg *c = arg;
        const char *name = apid__registry_settings[c->index].name;
        int r = setting_check(ctx, db, c->index, c->out, NULL);

        if (r < 0)
                return r;
        return apid__reg_config_set(db, name, strcmp(c->out, apid__registry_settings[c->index].def) ? c->out : "");
}

APID_EXPORT int apid_registry_set(apid_ctx *ctx, const char *setting, const char *value)
{
        struct config_arg c = { 0 };
        int r;

        if (!ctx)
                return apid__fail(APID_EINVAL, 0, "apid_registry_set: ctx is NULL");
        c.index = apid__setting_find(apid__registry_settings, setting, "registry setting");
        if (c.index < 0)
                return c.index;
        if (value && !value[0])
                value = apid__registry_settings[c.index].def;
        r = apid__setting_normalize(&apid__registry_settings[c.index], value, &c.out);
        if (r < 0)
                return r;
        r = apid__idmap_run(ctx, 1, 1, set_in, &c, 0);
        free(c.out);
        return r;
}

/* ---- the network principal ---- */

/* 1 and the realm, 0 when there is none (no file, no default_realm), or
 * a status when the file is a FIFO or a device (refused, never read). */
static int default_realm(char *realm, size_t size)
{
        const char *path = secure_getenv("KRB5_CONFIG"), *kind;
        char line[512], file[4096];
        FILE *f;
        int fd;

        snprintf(file, sizeof(file), "%s", path && path[0] ? path : "/etc/krb5.conf");
        file[strcspn(file, ":")] = '\0'; /* KRB5_CONFIG may list several files: the first */
        fd = apid__open_regular(file, 0, &kind);
        if (fd < 0 && kind)
                return apid__fail(APID_EINVAL, 0, "Kerberos configuration %s: is %s, not a regular file", file, kind);
        f = fd < 0 ? NULL : fdopen(fd, "r");
        if (!f) {
                if (fd >= 0)
                        close(fd);
                return 0;
        }
        while (fgets(line, sizeof(line), f)) {
                char *p = line + strspn(line, " \t"), *v;

                if (strncmp(p, "default_realm", 13) != 0)
                        continue;
                p += 13;
                p += strspn(p, " \t");
                if (*p != '=')
                        continue;
                v = p + 1 + strspn(p + 1, " \t");
                v[strcspn(v, " \t\r\n#;")] = '\0';
                if (v[0]) {
                        snprintf(realm, size, "%s", v);
                        fclose(f);
                        return 1;
                }
        }
        fclose(f);
        return 0;
}

APID_EXPORT int apid_registry_network_principal(apid_ctx *ctx, char **out)
{
        char host[256], realm[256], buf[600];
        char *configured = NULL;
        size_t i;
        int r;

        if (!ctx || !out)
                return apid__fail(APID_EINVAL, 0, "apid_registry_network_principal: NULL argument");
        r = apid_registry_get(ctx, "networkPrincipal", &configured);
        if (r < 0)
                return r;
        if (configured[0]) {
                *out = configured;
                return APID_OK;
        }
        free(configured);
        if (gethostname(host, sizeof(host)) < 0)
                return apid__fail(APID_ESYS, errno, "gethostname: %s", strerror(errno));
        host[sizeof(host) - 1] = '\0';
        r = default_realm(realm, sizeof(realm));
        if (r < 0)
                return r;
        if (r) {
                /* DOMAIN\HOST$: the NetBIOS-style domain (the realm's first label)
                 * and the short host name, upper case, at most 15 characters. */
                realm[strcspn(realm, ".")] = '\0';
                host[strcspn(host, ".")] = '\0';
                host[15] = '\0';
                for (i = 0; realm[i]; i++)
                        realm[i] = (char)(realm[i] >= 'a' && realm[i] <= 'z' ? realm[i] - 32 : realm[i]);
                for (i = 0; host[i]; i++)
                        host[i] = (char)(host[i] >= 'a' && host[i] <= 'z' ? host[i] - 32 : host[i]);
                snprintf(buf, sizeof(buf), "%s\\%s$", realm, host);
        } else {
                snprintf(buf, sizeof(buf), "%s", host);
        }
        *out = strdup(buf);
        return *out ? APID_OK : apid__fail_oom();
}

/* ---- export and import ---- */

struct export_arg {
        FILE *f;
        apid_ctx *ctx;
};

static int export_account(const struct apid__posix_record *a, const char *pool_name, int loads_profile, void *arg)
{
        struct export_arg *e = arg;

        fprintf(e->f, "account\t%u\t%s\t%s\t%d\t%u\n", a->uid, a->sid, a->user, a->kind, a->probe);
        return APID_OK;
}

static int export_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct export_arg *e = arg;
        char **names = NULL;
        size_t n = 0, i, j;
        int r, k;

        fprintf(e->f, "%s\n", EXPORT_MAGIC);
        for (k = 0; apid__registry_settings[k].name; k++) {
                _cleanup_free_ char *v = NULL;

                r = apid__config(db, apid__registry_settings[k].name, &v);
                if (r < 0)
                        return r;
                fprintf(e->f, "setting\t%s\t%s\n", apid__registry_settings[k].name, v);
        }
        r = apid__reg_records_each(db, export_account, e);
        if (r < 0)
                return r;
        r = apid__reg_pool_keys(db, &names, &n);
        if (r < 0)
                return r;
        for (i = 0; i < n && r == APID_OK; i++) {
                _cleanup_free_ char *key = NULL;
                struct apid__pool_row row;

                r = apid_pool_name_canonical(names[i], &key);
                if (r == APID_OK)
                        r = apid__reg_pool_get(db, key, &row);
                if (r < 0)
                        break;
                fprintf(e->f, "pool\t%s\t%u\n", row.name, row.uid);
                for (j = 0; j < row.n_settings; j++)
                        fprintf(e->f, "poolsetting\t%s\t%s\t%s\n", row.name, row.setting_names[j],
                                row.setting_values[j]);
                apid__pool_row_clear(&row);
        }
        for (i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

static int export_fill(FILE *f, void *arg)
{
        struct export_arg *e = arg;
        int r;

        e->f = f;
        r = apid__reg_run(e->ctx, 0, 0, export_in, e);
        if (r == APID_ENOTFOUND) { /* no registry: the header alone, no pools */
                fprintf(f, "%s\n", EXPORT_MAGIC);
                r = APID_OK;
        }
        return r;
}

APID_EXPORT int apid_registry_export(apid_ctx *ctx, const char *path)
{
        struct export_arg e = { NULL, ctx };

        if (!ctx || !path)
                return apid__fail(APID_EINVAL, 0, "apid_registry_export: NULL argument");
        /* 0640, as the registry: an export holds every setting of every pool. */
        return apid__write_atomic(path, "export", 0640, export_fill, &e);
}

struct import_arg {
        const char *path;
        char **lines;
        size_t n;
        size_t first_record; /* the line of the first account or pool record, 0 before */
        size_t setting_line[32]; /* per registry setting: the line that set it, 0 before */
};

/* Split a line into at most max tab-separated fields (in place). */
static size_t split(char *line, char **f, size_t max)
{
        size_t n = 0;

        while (n < max) {
                f[n++] = line;
                line = strchr(line, '\t');
                if (!line)
                        break;
                *line++ = '\0';
        }
        return line ? max + 1 : n;
}

static int parse_u32(const char *s, uint32_t *out)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (!s[0] || *end || errno || v > 2147483647ul || s[0] == '-' || s[0] == '+' || s[0] == ' ')
                return -1;
        *out = (uint32_t)v;
        return 0;
}

/* The canonical value the file gives a registry setting, or NULL: the id
 * range's two bounds are checked together, as the file moves them together. */
static char *file_setting(const struct import_arg *im, const char *name)
{
        size_t i, len = strlen(name);
        char *value = NULL;

        for (i = 1; i < im->n; i++) {
                const char *l = im->lines[i];

                if (strncmp(l, "setting\t", 8) == 0 && strncasecmp(l + 8, name, len) == 0 && l[8 + len] == '\t' &&
                    !strchr(l + 9 + len, '\t')) {
                        int k = apid__setting_find(apid__registry_settings, name, "registry setting");

                        free(value);
                        value = NULL;
                        if (k >= 0 && apid__setting_normalize(&apid__registry_settings[k], l + 9 + len, &value) < 0)
                                value = NULL;
                }
        }
        return value;
}

static int import_setting(apid_ctx *ctx, struct sqlite3 *db, struct import_arg *im, size_t lineno, char **f)
{
        _cleanup_free_ char *v = NULL;
        _cleanup_free_ char *other = NULL;
        int i = apid__setting_find(apid__registry_settings, f[1], "registry setting"), r;
        const char *name;

        if (i < 0)
                return i;
        name = apid__registry_settings[i].name;
        /* One value per setting: with two, the accounts made between them
         * (sharedGroup provisions one) would follow the first. */
        if ((size_t)i < sizeof(im->setting_line) / sizeof(im->setting_line[0])) {
                if (im->setting_line[i])
                        return apid__fail(APID_EINVAL, 0, "%s: set twice (first on line %zu)", name,
                                          im->setting_line[i]);
                im->setting_line[i] = lineno;
        }
        r = apid__setting_normalize(&apid__registry_settings[i], f[2], &v);
        if (r < 0)
                return r;
        if (strcmp(name, "idRangeStart") == 0 || strcmp(name, "idRangeSize") == 0) {
                /* Accounts are checked against the range when they are read:
                 * a range moved after them would leave them outside it. */
                if (im->first_record)
                        return apid__fail(APID_EINVAL, 0, "%s '%s': after the accounts of line %zu; the id range "
                                          "comes first (as export writes it)", name, v, im->first_record);
                other = file_setting(im, strcmp(name, "idRangeStart") == 0 ? "idRangeSize" : "idRangeStart");
        }
        r = setting_check(ctx, db, i, v, other);
        if (r < 0)
                return r;
        return apid__reg_config_set(db, name, strcmp(v, apid__registry_settings[i].def) ? v : "");
}

static int import_account(struct sqlite3 *db, char **f)
{
        struct apid__posix_record a, here;
        apid_sid *sid = NULL;
        uint32_t kind;
        int r;

        memset(&a, 0, sizeof(a));
        if (parse_u32(f[1], &a.uid) < 0 || parse_u32(f[4], &kind) < 0 || kind > APID__POSIX_GROUP ||
            parse_u32(f[5], &a.probe) < 0 || strlen(f[3]) == 0 || strlen(f[2]) >= sizeof(a.sid) ||
            apid_sid_parse(f[2], &sid) < 0)
                return apid__fail(APID_EINVAL, 0, "malformed account record");
        if (strlen(f[3]) >= sizeof(a.user)) {
                char q[160];

                apid_sid_free(sid);
                apid__quote(q, sizeof(q), f[3], 64);
                return apid__fail(APID_EINVAL, 0,
                                  "account user name '%s': not a valid user or group name (lower case, at most 32, "
                                  "^[a-z_][a-z0-9_-]*$)", q);
        }
        apid_sid_free(sid);
        a.kind = (int)kind;
        snprintf(a.sid, sizeof(a.sid), "%s", f[2]);
        snprintf(a.user, sizeof(a.user), "%s", f[3]);
        r = apid__reg_record_by_sid(db, a.sid, &here);
        if (r == APID_OK) {
                if (here.uid != a.uid)
                        return apid__fail(APID_ECOLLISION, 0, "%s has uid %u here and %u in the file", a.sid,
                                          here.uid, a.uid);
                if (strcmp(here.user, a.user) != 0 || here.kind != a.kind)
                        return apid__fail(APID_ECOLLISION, 0, "%s is user %s here and %s in the file", a.sid,
                                          here.user, a.user);
                return APID_OK;
        }
        if (r != APID_ENOTFOUND)
                return r;
        /* The rules pool add follows: name, NSS, SID, range, candidate. */
        r = apid__posix_record_check(db, &a, 1);
        if (r < 0)
                return r;
        r = apid__reg_record_by_uid(db, a.uid, &here);
        if (r == APID_OK)
                return apid__fail(APID_ECOLLISION, 0, "uid %u is %s here, %s in the file", a.uid, here.sid, a.sid);
        if (r != APID_ENOTFOUND)
                return r;
        r = apid__idmap_id_foreign(a.uid, a.user, a.sid);
        if (r < 0)
                return r;
        if (r)
                return apid__fail(APID_ECOLLISION, 0, "uid %u (%s) belongs to an existing account here", a.uid,
                                  a.user);
        r = apid__reg_record_by_user(db, a.user, &here);
        if (r == APID_OK)
                return apid__fail(APID_ECOLLISION, 0, "user %s is %s here", a.user, here.sid);
        if (r != APID_ENOTFOUND)
                return r;
        return apid__reg_record_insert(db, &a);
}

static int import_pool(struct sqlite3 *db, char **f)
{
        _cleanup_free_ char *key = NULL;
        _cleanup_free_ char *sid_text = NULL;
        _cleanup_free_ char *other = NULL;
        struct apid__pool_row row;
        struct apid__posix_record a;
        apid_sid *sid = NULL;
        char expect[33], q[160];
        uint32_t uid;
        int r;

        if (apid_pool_name_canonical(f[1], &key) < 0)
                return apid__fail(APID_EINVAL, 0, "malformed pool record: %s", apid_error_message());
        if (parse_u32(f[2], &uid) < 0)
                return apid__fail(APID_EINVAL, 0, "malformed pool record: uid '%.20s'", f[2]);
        apid__quote(q, sizeof(q), f[1], 100);
        r = apid__reg_pool_get(db, key, &row);
        if (r == APID_OK) {
                uint32_t here = row.uid;

                apid__pool_row_clear(&row);
                if (here != uid)
                        return apid__fail(APID_ECOLLISION, 0, "pool '%s' has uid %u here and %u in the file", q,
                                          here, uid);
                return APID_OK;
        }
        if (r != APID_ENOTFOUND)
                return r;
        /* The uid must be the account of this pool's own SID: never a
         * deleted pool's, never a built-in's, never one without a record. */
        r = apid_sid_for_pool(f[1], &sid);
        if (r == APID_OK)
                r = apid_sid_to_string(sid, &sid_text);
        apid_sid_free(sid);
        if (r < 0)
                return r;
        r = apid__reg_record_by_uid(db, uid, &a);
        if (r == APID_ENOTFOUND)
                return apid__fail(APID_ECOLLISION, 0, "pool '%s': uid %u has no account record", q, uid);
        if (r < 0)
                return r;
        if (a.kind != APID__POSIX_POOL || strcmp(a.sid, sid_text) != 0)
                return apid__fail(APID_ECOLLISION, 0, "pool '%s': uid %u is the account of %s, not of the pool's SID %s",
                                  q, uid, a.sid, sid_text);
        r = apid__pool_user_name_matches(f[1], a.user, expect);
        if (r < 0)
                return r;
        if (r == 0)
                return apid__fail(APID_ECOLLISION, 0, "pool '%s': its account is named '%s', pool add names it '%s'",
                                  q, a.user, expect);
        r = apid__reg_pool_key_by_uid(db, uid, &other);
        if (r == APID_OK)
                return apid__fail(APID_ECOLLISION, 0, "pool '%s': uid %u is pool '%s' here", q, uid, other);
        if (r != APID_ENOTFOUND)
                return r; /* the registry failed: not "no such pool" */
        return apid__reg_pool_insert(db, key, f[1], uid);
}

static int import_pool_setting(struct sqlite3 *db, char **f)
{
        _cleanup_free_ char *key = NULL;
        _cleanup_free_ char *v = NULL;
        struct apid__pool_row row;
        char q[160];
        int i, r;

        if (apid_pool_name_canonical(f[1], &key) < 0)
                return apid__fail(APID_EINVAL, 0, "malformed pool setting record: %s", apid_error_message());
        i = apid__setting_find(apid__pool_settings, f[2], "pool setting");
        if (i < 0)
                return i;
        r = apid__setting_normalize(&apid__pool_settings[i], f[3], &v);
        if (r < 0)
                return r;
        apid__quote(q, sizeof(q), f[1], 100);
        r = apid__reg_pool_get(db, key, &row);
        if (r == APID_ENOTFOUND)
                return apid__fail(APID_ENOTFOUND, 0, "pool '%s': no such pool (yet) for its setting", q);
        if (r < 0)
                return r;
        apid__pool_row_clear(&row);
        /* As pool set: a SpecificUser account must exist here. */
        if (strcmp(apid__pool_settings[i].name, "processModel.userName") == 0 && v[0]) {
                r = apid__nss_user_exists(v);
                if (r < 0)
                        return r;
                if (!r)
                        return apid__fail(APID_ENOTFOUND, 0, "processModel.userName '%s': no such account", v);
        }
        return apid__reg_setting_put(db, key, apid__pool_settings[i].name,
                                     strcmp(v, apid__pool_settings[i].def) ? v : NULL);
}

static int import_line(apid_ctx *ctx, struct sqlite3 *db, struct import_arg *im, size_t lineno, char *line)
{
        char *f[8];
        size_t n = split(line, f, 7);

        /* A shared group provisions its account where its line stands. */
        if (!im->first_record && (strcmp(f[0], "account") == 0 || strcmp(f[0], "pool") == 0 ||
                                  (strcmp(f[0], "setting") == 0 && n == 3 && strcasecmp(f[1], "sharedGroup") == 0 &&
                                   f[2][0])))
                im->first_record = lineno;
        if (strcmp(f[0], "setting") == 0 && n == 3)
                return import_setting(ctx, db, im, lineno, f);
        if (strcmp(f[0], "account") == 0 && n == 6)
                return import_account(db, f);
        if (strcmp(f[0], "pool") == 0 && n == 3)
                return import_pool(db, f);
        if (strcmp(f[0], "poolsetting") == 0 && n == 4)
                return import_pool_setting(db, f);
        return apid__fail(APID_EINVAL, 0, "not a record this library knows");
}

/* After the last line, every pool must be one pool set could have made: a
 * SpecificUser pool names its user, a LocalService/NetworkService pool has
 * its account (provisioned as pool set provisions it). */
static int import_pools_complete(apid_ctx *ctx, struct sqlite3 *db)
{
        char **names = NULL;
        size_t n = 0, i, j;
        int r = apid__reg_pool_keys(db, &names, &n);

        for (i = 0; i < n && r == APID_OK; i++) {
                _cleanup_free_ char *key = NULL;
                struct apid__pool_row row;
                const char *type = "ApplicationPoolIdentity", *user = "";

                r = apid_pool_name_canonical(names[i], &key);
                if (r == APID_OK)
                        r = apid__reg_pool_get(db, key, &row);
                if (r < 0)
                        break;
                for (j = 0; j < row.n_settings; j++) {
                        if (strcmp(row.setting_names[j], "processModel.identityType") == 0)
                                type = row.setting_values[j];
                        else if (strcmp(row.setting_names[j], "processModel.userName") == 0)
                                user = row.setting_values[j];
                }
                switch (apid__identity_type_from_name(type)) {
                case APID_IDENTITY_SPECIFIC_USER:
                        if (!user[0])
                                r = apid__fail(APID_EINVAL, 0, "pool '%s': processModel.identityType 'SpecificUser' "
                                               "without processModel.userName", row.name);
                        break;
                case APID_IDENTITY_LOCAL_SERVICE:
                case APID_IDENTITY_NETWORK_SERVICE:
                        r = apid__provision_builtin(ctx, db, apid__identity_type_from_name(type));
                        break;
                default:
                        break;
                }
                apid__pool_row_clear(&row);
        }
        for (i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

/* For the LDIF import (ldif.c): one account or pool record, checked as a
 * line of this file's format is; and the checks after the last record. */
int apid__import_record(apid_ctx *ctx, struct sqlite3 *db, char *line)
{
        struct import_arg im = { 0 };

        im.first_record = 1;
        return import_line(ctx, db, &im, 1, line);
}

int apid__import_complete(apid_ctx *ctx, struct sqlite3 *db)
{
        return import_pools_complete(ctx, db);
}

/* Every line inside one transaction: a refusal rolls back all of it. Every
 * refusal names the file and the line; apid__fail formats into a buffer of
 * its own, so the message can be passed back into it. */
static int import_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct import_arg *im = arg;
        size_t i;
        int r;

        im->first_record = 0;
        memset(im->setting_line, 0, sizeof(im->setting_line));
        for (i = 1; i < im->n; i++) {
                _cleanup_free_ char *copy = strdup(im->lines[i]);

                if (!copy)
                        return apid__fail_oom();
                r = import_line(ctx, db, im, i + 1, copy);
                if (r < 0)
                        return apid__fail(r, apid_error_errno(), "import %s, line %zu: %s", im->path, i + 1,
                                          apid_error_message());
        }
        r = import_pools_complete(ctx, db);
        if (r < 0)
                return apid__fail(r, apid_error_errno(), "import %s: %s", im->path, apid_error_message());
        return APID_OK;
}

APID_EXPORT int apid_registry_import(apid_ctx *ctx, const char *path)
{
        struct import_arg im = { 0 };
        char *line = NULL;
        size_t cap = 0, i;
        ssize_t len;
        FILE *f;
        int r = APID_OK;

        if (!ctx || !path)
                return apid__fail(APID_EINVAL, 0, "apid_registry_import: NULL argument");
        r = apid__fopen_regular(path, "import", APID_ESYS, &f);
        if (r < 0)
                return r;
        im.path = path;
        while ((len = getline(&line, &cap, f)) >= 0) {
                char **grown;

                if (len > 0 && line[len - 1] == '\n')
                        line[--len] = '\0';
                if ((size_t)len != strlen(line)) {
                        r = apid__fail(APID_EINVAL, 0, "import %s, line %zu: NUL byte", path, im.n + 1);
                        break;
                }
                grown = realloc(im.lines, (im.n + 1) * sizeof(char *));
                if (!grown || !(grown[im.n] = strdup(line))) {
                        im.lines = grown ? grown : im.lines;
                        r = apid__fail_oom();
                        break;
                }
                im.lines = grown;
                im.n++;
        }
        free(line);
        fclose(f);
        if (r == APID_OK && (im.n == 0 || strcmp(im.lines[0], EXPORT_MAGIC) != 0))
                r = apid__fail(APID_EINVAL, 0, "import %s: not an apppoolid export (first line is not '%s')", path,
                               EXPORT_MAGIC);
        if (r == APID_OK)
                r = apid__idmap_run(ctx, 1, 1, import_in, &im, 1);
        for (i = 0; i < im.n; i++)
                free(im.lines[i]);
        free(im.lines);
        return r;
}
