/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LDIF (RFC 2849) for web farms: the registry's identities as RFC 2307
 * entries a directory (OpenLDAP) serves to every host through nslcd or SSSD,
 * and the import of such a file (or of ldapsearch -LLL output) on a host
 * joining the farm. docs/farm.md describes the deployment.
 *
 * Each pool and provisioned built-in is an account + posixAccount entry
 * with Samba's sambaIdmapEntry (its SID in sambaSID, Samba idmap_ldap's
 * record), plus a posixGroup of its own (gid == uid); the provisioned
 * shared group is a posixGroup + sambaIdmapEntry with a memberUid per pool.
 * cn carries the Windows account name ("IIS APPPOOL\name", UTF-8); gecos,
 * an IA5 (ASCII) attribute, carries it too when the name is ASCII (nslcd's
 * default gecos mapping falls back to cn). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <nettle/base64.h>

#include "idmap/idmap.h"
#include "internal.h"

#define DEFAULT_BASE "dc=example,dc=org"
#define DEFAULT_USER_OU "ou=People"
#define DEFAULT_GROUP_OU "ou=Group"
#define NO_HOME "/nonexistent"
#define SHELL "/usr/sbin/nologin"
#define SHARED_SID "S-1-5-32-568"
#define MAX_DN_PART 1024

/* ---- writing ---- */

/* RFC 2849 SAFE-STRING: ASCII without NUL, LF, CR; not starting with space,
 * ':' or '<'. A trailing space is base64 too (the RFC says SHOULD: line-based
 * tools strip it). */
static int ldif_safe(const char *v)
{
        size_t i, n = strlen(v);

        if (n && (v[0] == ' ' || v[0] == ':' || v[0] == '<' || v[n - 1] == ' '))
                return 0;
        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)v[i];

                if (c == '\n' || c == '\r' || c >= 0x80)
                        return 0;
        }
        return 1;
}

static int put(FILE *f, const char *attr, const char *v)
{
        size_t n = strlen(v);
        char *b;

        if (ldif_safe(v)) {
                fprintf(f, "%s: %s\n", attr, v);
                return APID_OK;
        }
        b = malloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);
        if (!b)
                return apid__fail_oom();
        base64_encode_raw((char *)b, n, (const uint8_t *)v);
        b[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
        fprintf(f, "%s:: %s\n", attr, b);
        free(b);
        return APID_OK;
}

static int is_ascii(const char *v)
{
        for (; *v; v++)
                if ((unsigned char)*v >= 0x80)
                        return 0;
        return 1;
}

/* A DN part given by the caller: an RDN sequence, never a line break or a
 * control character (which would start a new LDIF record). */
static int dn_part_check(const char *what, const char *v)
{
        char q[160];
        size_t i, n = strlen(v);

        apid__quote(q, sizeof(q), v, 100);
        if (n == 0 || n > MAX_DN_PART || !strchr(v, '='))
                return apid__fail(APID_EINVAL, 0, "LDIF %s '%s': not a DN (attr=value[,attr=value...], at most %d "
                                  "bytes)", what, q, MAX_DN_PART);
        for (i = 0; i < n; i++)
                if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
                        return apid__fail(APID_EINVAL, 0, "LDIF %s '%s': control character", what, q);
        return APID_OK;
}

struct lx {
        apid_ctx *ctx;
        struct sqlite3 *db;
        FILE *f;
        const char *base, *user_ou, *group_ou;
        char *members; /* pool users, memberUid of the shared group */
        size_t n_members, members_len;
        struct apid__posix_record shared;
        int have_shared;
};

static int add_member(struct lx *x, const char *user)
{
        size_t n = strlen(user) + 1;
        char *m = realloc(x->members, x->members_len + n);

        if (!m)
                return apid__fail_oom();
        memcpy(m + x->members_len, user, n);
        x->members = m;
        x->members_len += n;
        x->n_members++;
        return APID_OK;
}

static int put_dn(struct lx *x, const char *attr, const char *rdn, const char *ou)
{
        _cleanup_free_ char *dn = NULL;

        if (asprintf(&dn, "%s=%s,%s,%s", attr, rdn, ou, x->base) < 0) {
                dn = NULL;
                return apid__fail_oom();
        }
        return put(x->f, "dn", dn);
}

static int group_entry(struct lx *x, const char *name, uint32_t gid, const char *sid, const char *description)
{
        const char *m;
        size_t i;
        int r;

        fputc('\n', x->f);
        r = put_dn(x, "cn", name, x->group_ou);
        if (r < 0)
                return r;
        fprintf(x->f, "objectClass: posixGroup\n");
        if (sid)
                fprintf(x->f, "objectClass: sambaIdmapEntry\n");
        fprintf(x->f, "cn: %s\ngidNumber: %u\n", name, gid);
        if (sid)
                fprintf(x->f, "sambaSID: %s\n", sid);
        if (description && (r = put(x->f, "description", description)) < 0)
                return r;
        for (i = 0, m = x->members; sid && i < x->n_members; i++, m += strlen(m) + 1)
                fprintf(x->f, "memberUid: %s\n", m);
        return APID_OK;
}

static int export_account(const struct apid__posix_record *a, const char *pool_name, int loads_profile, void *arg)
{
        struct lx *x = arg;
        _cleanup_free_ char *home = NULL;
        char account[APID_POOL_NAME_MAX * 4 + 16];
        int r;

        if (a->kind == APID__POSIX_GROUP) {
                x->shared = *a;
                x->have_shared = 1;
                return APID_OK;
        }
        if (a->kind == APID__POSIX_POOL && !pool_name)
                return APID_OK; /* a deleted pool: its uid stays reserved here, but it is no account */
        if (!apid__posix_name_valid(a->user) || a->uid < 65536 || a->uid > 2147483647u) {
                apid__log(x->ctx, APID_LOG_WARNING, "LDIF export: account %s (uid %u) left out: not a valid name "
                          "or id", a->sid, a->uid);
                return APID_OK;
        }
        if (a->kind == APID__POSIX_POOL) {
                snprintf(account, sizeof(account), APID_POOL_DOMAIN "\\%s", pool_name);
                r = add_member(x, a->user);
                if (r < 0)
                        return r;
        } else {
                const struct apid__builtin *b = apid__builtin_by_sid(a->sid);

                snprintf(account, sizeof(account), "%s", b ? b->account : a->sid);
        }
        if (loads_profile) {
                r = apid__profile_path(x->ctx, x->db, a->user, &home);
                if (r < 0)
                        return r;
        }
        fputc('\n', x->f);
        r = put_dn(x, "uid", a->user, x->user_ou);
        if (r < 0)
                return r;
        fprintf(x->f, "objectClass: account\nobjectClass: posixAccount\nobjectClass: sambaIdmapEntry\n"
                "uid: %s\n", a->user);
        r = put(x->f, "cn", account);
        if (r == APID_OK && is_ascii(account))
                r = put(x->f, "gecos", account);
        if (r < 0)
                return r;
        fprintf(x->f, "uidNumber: %u\ngidNumber: %u\n", a->uid, a->uid);
        r = put(x->f, "homeDirectory", home ? home : NO_HOME);
        if (r < 0)
                return r;
        fprintf(x->f, "loginShell: %s\nsambaSID: %s\n", SHELL, a->sid);
        return group_entry(x, a->user, a->uid, NULL, NULL);
}

static int export_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        struct lx *x = arg;
        int r;

        x->db = db;
        r = apid__reg_records_each(db, export_account, x);
        if (r == APID_OK && x->have_shared)
                r = group_entry(x, x->shared.user, x->shared.uid, x->shared.sid, "BUILTIN\\IIS_IUSRS");
        return r;
}

APID_EXPORT int apid_registry_export_ldif(apid_ctx *ctx, const char *base, const char *user_ou,
                                          const char *group_ou, char **out)
{
        struct lx x;
        char *text = NULL;
        size_t size = 0;
        int r;

        if (!ctx || !out)
                return apid__fail(APID_EINVAL, 0, "apid_registry_export_ldif: NULL argument");
        *out = NULL;
        memset(&x, 0, sizeof(x));
        x.ctx = ctx;
        x.base = base ? base : DEFAULT_BASE;
        x.user_ou = user_ou ? user_ou : DEFAULT_USER_OU;
        x.group_ou = group_ou ? group_ou : DEFAULT_GROUP_OU;
        r = dn_part_check("base", x.base);
        if (r == APID_OK)
                r = dn_part_check("user OU", x.user_ou);
        if (r == APID_OK)
                r = dn_part_check("group OU", x.group_ou);
        if (r < 0)
                return r;
        x.f = open_memstream(&text, &size);
        if (!x.f)
                return apid__fail_oom();
        /* No "version: 1" line: slapadd 2.5 refuses it (slapcat writes none). */
        fprintf(x.f, "# apppoolid identities (RFC 2307 + sambaIdmapEntry): load with ldapadd or slapadd into a\n"
                "# directory with apppoolid-sid.schema; docs/farm.md\n");
        r = apid__reg_run(ctx, 0, 0, export_in, &x);
        if (r == APID_ENOTFOUND)
                r = APID_OK; /* no registry yet: no entries */
        if (fclose(x.f) != 0 && r == APID_OK)
                r = apid__fail_oom();
        free(x.members);
        if (r < 0) {
                free(text);
                return r;
        }
        *out = text;
        return APID_OK;
}

/* ---- reading ---- */

struct attr {
        char *name;
        char *value;
};

struct entry {
        size_t line; /* of its dn */
        struct attr *attrs;
        size_t n;
};

struct ldif {
        const char *path;
        struct entry *entries;
        size_t n;
};

static void ldif_clear(struct ldif *l)
{
        size_t i, j;

        for (i = 0; i < l->n; i++) {
                for (j = 0; j < l->entries[i].n; j++) {
                        free(l->entries[i].attrs[j].name);
                        free(l->entries[i].attrs[j].value);
                }
                free(l->entries[i].attrs);
        }
        free(l->entries);
}

static int bad(const struct ldif *l, size_t line, const char *what)
{
        return apid__fail(APID_EINVAL, 0, "import %s, line %zu: %s", l->path, line, what);
}

/* One logical line "name[;options]: value", "name:: base64" (folding already
 * undone) added to the current entry. */
static int parse_attr(struct ldif *l, size_t lineno, char *text)
{
        struct entry *e = &l->entries[l->n - 1];
        struct base64_decode_ctx b64;
        char *colon = strchr(text, ':'), *v, *value;
        struct attr *grown;
        size_t n, out;

        if (!colon || colon == text)
                return bad(l, lineno, "not an LDIF line (attribute: value)");
        *colon = '\0';
        v = colon + 1;
        if (*v == '<')
                return bad(l, lineno, "a value by URL (:<) is not accepted");
        if (*v == ':') {
                for (v++; *v == ' '; v++)
                        ;
                n = strlen(v);
                value = malloc(BASE64_DECODE_LENGTH(n) + 1);
                if (!value)
                        return apid__fail_oom();
                out = BASE64_DECODE_LENGTH(n);
                base64_decode_init(&b64);
                if (!base64_decode_update(&b64, &out, (uint8_t *)value, n, v) || !base64_decode_final(&b64) ||
                    memchr(value, '\0', out)) {
                        free(value);
                        return bad(l, lineno, "bad base64 value (or one holding a NUL byte)");
                }
                value[out] = '\0';
        } else {
                for (; *v == ' '; v++)
                        ;
                value = strdup(v);
                if (!value)
                        return apid__fail_oom();
        }
        grown = realloc(e->attrs, (e->n + 1) * sizeof(*grown));
        if (!grown || !(grown[e->n].name = strdup(text))) {
                if (grown)
                        e->attrs = grown;
                free(value);
                return apid__fail_oom();
        }
        *strchrnul(grown[e->n].name, ';') = '\0'; /* options (;binary, ;lang-x) do not matter here */
        grown[e->n].value = value;
        e->attrs = grown;
        e->n++;
        return APID_OK;
}

static int logical_line(struct ldif *l, size_t lineno, char *text, int *in_entry)
{
        if (text[0] == '#')
                return APID_OK;
        if (!*in_entry) {
                struct entry *grown;

                if (strncasecmp(text, "version:", 8) == 0 && l->n == 0)
                        return APID_OK;
                if (strncasecmp(text, "dn:", 3) != 0)
                        return bad(l, lineno, "an entry must start with dn:");
                grown = realloc(l->entries, (l->n + 1) * sizeof(*grown));
                if (!grown)
                        return apid__fail_oom();
                l->entries = grown;
                memset(&grown[l->n], 0, sizeof(grown[l->n]));
                grown[l->n].line = lineno;
                l->n++;
                *in_entry = 1;
        }
        if (strncasecmp(text, "changetype:", 11) == 0 || strcmp(text, "-") == 0) {
                char *v = text + (text[0] == '-' ? 1 : 11);

                while (*v == ' ')
                        v++;
                if (strcasecmp(v, "add") != 0)
                        return bad(l, lineno, "only entries (or changetype: add) are accepted");
                return APID_OK;
        }
        return parse_attr(l, lineno, text);
}

/* Read the file: lines joined where a line starts with one space (RFC 2849
 * folding, as ldapsearch writes at 76 columns), entries split by blank lines. */
static int ldif_read(const char *path, struct ldif *l)
{
        char *line = NULL, *logical = NULL;
        size_t cap = 0, lineno = 0, start = 0, len_logical = 0;
        int in_entry = 0, r = APID_OK, comment = 0;
        ssize_t len;
        FILE *f;

        memset(l, 0, sizeof(*l));
        l->path = path;
        r = apid__fopen_regular(path, "import", APID_ESYS, &f);
        if (r < 0)
                return r;
        for (;;) {
                len = getline(&line, &cap, f);
                lineno++;
                if (len >= 0) {
                        if (len > 0 && line[len - 1] == '\n')
                                line[--len] = '\0';
                        if (len > 0 && line[len - 1] == '\r')
                                line[--len] = '\0';
                        if ((size_t)len != strlen(line)) {
                                r = bad(l, lineno, "NUL byte");
                                break;
                        }
                        if (line[0] == ' ') { /* a continuation */
                                char *grown;

                                if (!logical) {
                                        r = bad(l, lineno, "continuation line without a line to continue");
                                        break;
                                }
                                if (comment)
                                        continue;
                                grown = realloc(logical, len_logical + (size_t)len);
                                if (!grown) {
                                        r = apid__fail_oom();
                                        break;
                                }
                                memcpy(grown + len_logical, line + 1, (size_t)len);
                                logical = grown;
                                len_logical += (size_t)len - 1;
                                continue;
                        }
                }
                if (logical) { /* the previous logical line is complete */
                        r = comment ? APID_OK : logical_line(l, start, logical, &in_entry);
                        free(logical);
                        logical = NULL;
                        if (r < 0)
                                break;
                }
                if (len < 0)
                        break;
                if (len == 0) {
                        in_entry = 0;
                        continue;
                }
                logical = strdup(line);
                if (!logical) {
                        r = apid__fail_oom();
                        break;
                }
                len_logical = (size_t)len;
                start = lineno;
                comment = line[0] == '#';
        }
        free(logical);
        free(line);
        fclose(f);
        if (r < 0)
                ldif_clear(l);
        return r;
}

static const char *attr_get(const struct entry *e, const char *name)
{
        size_t i;

        for (i = 0; i < e->n; i++)
                if (strcasecmp(e->attrs[i].name, name) == 0)
                        return e->attrs[i].value;
        return NULL;
}

static int has_class(const struct entry *e, const char *cls)
{
        size_t i;

        for (i = 0; i < e->n; i++)
                if (strcasecmp(e->attrs[i].name, "objectClass") == 0 && strcasecmp(e->attrs[i].value, cls) == 0)
                        return 1;
        return 0;
}

static int parse_id(const char *s, uint32_t *out)
{
        char *end;
        unsigned long v;

        if (!s || !(s[0] >= '0' && s[0] <= '9'))
                return -1;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (*end || errno || v > 2147483647ul)
                return -1;
        *out = (uint32_t)v;
        return 0;
}

/* The pool an entry says it is: gecos or cn "IIS APPPOOL\name", up to a
 * ',' (gecos fields a directory may add; no pool name has one). NULL if
 * none; a copy, or APID_ENOMEM through *r. */
static char *pool_of(const struct entry *e, int *r)
{
        static const char *const attrs[] = { "gecos", "cn" };
        size_t i, k, n = strlen(APID_POOL_DOMAIN);
        char *name;

        *r = APID_OK;
        for (k = 0; k < 2; k++)
                for (i = 0; i < e->n; i++)
                        if (strcasecmp(e->attrs[i].name, attrs[k]) == 0 &&
                            strncasecmp(e->attrs[i].value, APID_POOL_DOMAIN "\\", n + 1) == 0) {
                                name = strndup(e->attrs[i].value + n + 1, strcspn(e->attrs[i].value + n + 1, ","));
                                if (!name)
                                        *r = apid__fail_oom();
                                return name;
                        }
        return NULL;
}

/* One record for the TSV import's checks (config.c), its failure named by
 * the entry's line. */
static int record(apid_ctx *ctx, struct sqlite3 *db, const struct ldif *l, const struct entry *e, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));
static int record(apid_ctx *ctx, struct sqlite3 *db, const struct ldif *l, const struct entry *e, const char *fmt,
                  ...)
{
        _cleanup_free_ char *text = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (r < 0) {
                text = NULL;
                return apid__fail_oom();
        }
        r = apid__import_record(ctx, db, text);
        if (r < 0)
                return apid__fail(r, apid_error_errno(), "import %s, line %zu: %s", l->path, e->line,
                                  apid_error_message());
        return APID_OK;
}

static int fail_at(const struct ldif *l, const struct entry *e, int status, const char *msg)
{
        return apid__fail(status, 0, "import %s, line %zu: %s", l->path, e->line, msg);
}

/* Turn one entry into account (and pool) records; pass 0 does accounts, pass
 * 1 pools (a pool record needs its account). Entries that are not ours (no
 * pool, built-in or shared-group SID) are skipped: ldapsearch output holds
 * the whole directory. */
static int import_entry(apid_ctx *ctx, struct sqlite3 *db, const struct ldif *l, const struct entry *e, int pass)
{
        _cleanup_free_ char *pool_sid = NULL;
        _cleanup_free_ char *pool = NULL;
        const char *sid = attr_get(e, "sambaSID"), *user;
        uint32_t uid, gid, probe;
        int kind, r;
        char msg[512];

        if (has_class(e, "posixAccount")) {
                pool = pool_of(e, &r);
                if (r < 0)
                        return r;
                if (pool) {
                        apid_sid *s = NULL;

                        r = apid_sid_for_pool(pool, &s);
                        if (r == APID_OK)
                                r = apid_sid_to_string(s, &pool_sid);
                        apid_sid_free(s);
                        if (r < 0)
                                return apid__fail(r, 0, "import %s, line %zu: %s", l->path, e->line,
                                                  apid_error_message());
                        if (sid && strcasecmp(sid, pool_sid) != 0) {
                                snprintf(msg, sizeof(msg), "sambaSID %.190s is not the SID of pool '%.200s' (%s)",
                                         sid, pool, pool_sid);
                                return fail_at(l, e, APID_ECOLLISION, msg);
                        }
                        sid = pool_sid;
                        kind = APID__POSIX_POOL;
                } else if (apid__builtin_by_sid(sid) && apid__builtin_by_sid(sid)->type != APID_IDENTITY_LOCAL_SYSTEM) {
                        kind = APID__POSIX_BUILTIN;
                } else if (sid && strncmp(sid, "S-1-5-82-", 9) == 0) {
                        return fail_at(l, e, APID_EINVAL, "a pool's sambaSID without gecos or cn "
                                       "'" APID_POOL_DOMAIN "\\<pool>'");
                } else {
                        return APID_OK;
                }
                user = attr_get(e, "uid");
                if (!user || parse_id(attr_get(e, "uidNumber"), &uid) < 0 ||
                    parse_id(attr_get(e, "gidNumber"), &gid) < 0)
                        return fail_at(l, e, APID_EINVAL, "posixAccount without uid, or uidNumber/gidNumber "
                                       "not a number up to 2147483647");
                if (gid != uid) {
                        snprintf(msg, sizeof(msg), "%s: gidNumber %u is not its uidNumber %u", sid, gid, uid);
                        return fail_at(l, e, APID_ECOLLISION, msg);
                }
        } else if (has_class(e, "posixGroup") && sid && strcmp(sid, SHARED_SID) == 0) {
                struct apid__nss_group g = { 0 };

                kind = APID__POSIX_GROUP;
                user = attr_get(e, "cn");
                if (!user || parse_id(attr_get(e, "gidNumber"), &uid) < 0)
                        return fail_at(l, e, APID_EINVAL, "posixGroup without cn, or gidNumber not a number up "
                                       "to 2147483647");
                /* The directory serves this very group here already (the
                 * host named it as its sharedGroup, an existing group): the
                 * same name and gid are the same group, nothing to record. */
                r = apid__nss_group_by_name(user, &g);
                if (r == APID__EAGAIN_NSS || (r < 0 && r != APID_ENOTFOUND))
                        return r;
                if (r == APID_OK && g.gid == uid) {
                        apid__nss_group_clear(&g);
                        return APID_OK;
                }
                apid__nss_group_clear(&g);
        } else {
                return APID_OK;
        }
        if (strchr(user, '\t') || strchr(user, '\n')) /* the record is tab-separated */
                return fail_at(l, e, APID_EINVAL, "user name with a tab or line break");
        if (pass == 1)
                return kind == APID__POSIX_POOL ? record(ctx, db, l, e, "pool\t%s\t%u", pool, uid) : APID_OK;
        r = apid__idmap_probe_of(db, sid, uid, &probe);
        if (r < 0)
                return apid__fail(r, 0, "import %s, line %zu: %s", l->path, e->line, apid_error_message());
        return record(ctx, db, l, e, "account\t%u\t%s\t%s\t%d\t%u", uid, sid, user, kind, probe);
}

static int import_in(apid_ctx *ctx, struct sqlite3 *db, void *arg)
{
        const struct ldif *l = arg;
        size_t i;
        int pass, r;

        for (pass = 0; pass < 2; pass++)
                for (i = 0; i < l->n; i++) {
                        r = import_entry(ctx, db, l, &l->entries[i], pass);
                        if (r < 0)
                                return r;
                }
        r = apid__import_complete(ctx, db);
        if (r < 0)
                return apid__fail(r, apid_error_errno(), "import %s: %s", l->path, apid_error_message());
        return APID_OK;
}

APID_EXPORT int apid_registry_import_ldif(apid_ctx *ctx, const char *path)
{
        struct ldif l;
        int r;

        if (!ctx || !path)
                return apid__fail(APID_EINVAL, 0, "apid_registry_import_ldif: NULL argument");
        r = ldif_read(path, &l);
        if (r < 0)
                return r;
        r = apid__idmap_run(ctx, 1, 1, import_in, &l, 1);
        ldif_clear(&l);
        return r;
}
