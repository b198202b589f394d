/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* icacls specs: "trustee:perm" parsed, rights mapped to POSIX bits, trustees
 * resolved to ACL entries. docs/acl.md has the tables. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "acl-internal.h"
#include "idmap/idmap.h"

/* Windows access-mask bits (winnt.h), as icacls names them. */
#define RD 0x00000001u   /* read data / list directory */
#define WD 0x00000002u   /* write data / add file */
#define AD 0x00000004u   /* append data / add subdirectory */
#define REA 0x00000008u  /* read extended attributes */
#define WEA 0x00000010u  /* write extended attributes */
#define XX 0x00000020u   /* execute / traverse */
#define DC 0x00000040u   /* delete child */
#define RA 0x00000080u   /* read attributes */
#define WA 0x00000100u   /* write attributes */
#define DE 0x00010000u   /* delete */
#define RC 0x00020000u   /* read control */
#define WDAC 0x00040000u /* write DAC */
#define WO 0x00080000u   /* write owner */
#define SY 0x00100000u   /* synchronize */
#define AS 0x01000000u   /* access system security */
#define MA 0x02000000u   /* maximum allowed */
#define GA 0x10000000u
#define GE 0x20000000u
#define GW 0x40000000u
#define GR 0x80000000u

#define FILE_GENERIC_READ (RC | RD | REA | RA | SY)
#define FILE_GENERIC_WRITE (RC | WD | AD | WEA | WA | SY)
#define FILE_GENERIC_EXECUTE (RC | RA | XX | SY)
#define FILE_ALL (0x000F0000u | SY | 0x1FFu)

static const struct right {
        const char *name;
        uint32_t mask;
        int simple; /* may stand outside parentheses */
} rights[] = {
        { "N", 0, 1 },
        { "F", FILE_ALL, 1 },
        { "M", FILE_GENERIC_READ | FILE_GENERIC_WRITE | FILE_GENERIC_EXECUTE | DE, 1 },
        { "RX", FILE_GENERIC_READ | FILE_GENERIC_EXECUTE, 1 },
        { "R", FILE_GENERIC_READ, 1 },
        { "W", FILE_GENERIC_WRITE, 1 },
        { "D", DE, 1 },
        { "DE", DE, 0 },
        { "RC", RC, 0 },
        { "WDAC", WDAC, 0 },
        { "WO", WO, 0 },
        { "S", SY, 0 },
        { "AS", AS, 0 },
        { "MA", MA, 0 },
        { "GR", GR, 0 },
        { "GW", GW, 0 },
        { "GE", GE, 0 },
        { "GA", GA, 0 },
        { "RD", RD, 0 },
        { "WD", WD, 0 },
        { "AD", AD, 0 },
        { "REA", REA, 0 },
        { "WEA", WEA, 0 },
        { "X", XX, 0 },
        { "DC", DC, 0 },
        { "RA", RA, 0 },
        { "WA", WA, 0 },
};

static const struct flag {
        const char *name;
        uint32_t bit;
} flags[] = {
        { "OI", APID__ACE_OI }, { "CI", APID__ACE_CI }, { "IO", APID__ACE_IO }, { "NP", APID__ACE_NP },
        { "I", APID__ACE_INHERITED },
};

static int spec_fail(const char *spec, size_t pos, const char *what)
{
        char q[256];

        apid__quote(q, sizeof(q), spec, 200);
        return apid__fail(APID_EINVAL, 0, "ACL spec '%s': %s at character %zu", q, what, pos + 1);
}

/* Look up a right or flag spelled by [s, s+n) (case-insensitive). */
static const struct right *find_right(const char *s, size_t n)
{
        size_t i;

        for (i = 0; i < sizeof(rights) / sizeof(rights[0]); i++)
                if (strlen(rights[i].name) == n && strncasecmp(rights[i].name, s, n) == 0)
                        return &rights[i];
        return NULL;
}

static const struct flag *find_flag(const char *s, size_t n)
{
        size_t i;

        for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
                if (strlen(flags[i].name) == n && strncasecmp(flags[i].name, s, n) == 0)
                        return &flags[i];
        return NULL;
}

/* A comma-separated list of rights in [s, end). */
static int parse_rights(const char *spec, const char *s, const char *end, int need_simple, uint32_t *mask)
{
        while (s < end) {
                const char *comma = memchr(s, ',', (size_t)(end - s));
                const char *stop = comma ? comma : end;
                const struct right *r = find_right(s, (size_t)(stop - s));

                if (stop == s)
                        return spec_fail(spec, (size_t)(s - spec), "an empty right");
                if (!r)
                        return spec_fail(spec, (size_t)(s - spec), "an unknown right (expected N, F, M, RX, R, W, D or "
                                                                     "a specific right such as RD, WD, X, DC)");
                if (need_simple && !r->simple)
                        return spec_fail(spec, (size_t)(s - spec),
                                         "a specific right outside parentheses (write it as (RIGHT,...))");
                *mask |= r->mask;
                s = comma ? comma + 1 : end;
                if (comma && s == end)
                        return spec_fail(spec, (size_t)(s - spec), "a right missing after ','");
        }
        return APID_OK;
}

int apid__acl_spec_parse(const char *spec, int need_perm, struct apid__ace_spec *out)
{
        const char *colon, *p, *end;
        size_t len;

        memset(out, 0, sizeof(*out));
        if (!spec)
                return apid__fail(APID_EINVAL, 0, "ACL spec: NULL");
        len = strlen(spec);
        for (p = spec; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return spec_fail(spec, (size_t)(p - spec), "a control character");
        colon = strrchr(spec, ':');
        /* "user:NAME" and "group:NAME" are trustees; their colon is not the separator. */
        if (colon && !need_perm && (strncmp(spec, "user:", 5) == 0 || strncmp(spec, "group:", 6) == 0) &&
            colon == strchr(spec, ':'))
                colon = NULL;
        if (!colon) {
                if (need_perm)
                        return spec_fail(spec, len, "no ':' before the rights (expected TRUSTEE:RIGHTS)");
                if (len == 0)
                        return spec_fail(spec, 0, "an empty trustee");
                if (len >= sizeof(out->trustee))
                        return spec_fail(spec, sizeof(out->trustee) - 1, "a trustee that is too long");
                memcpy(out->trustee, spec, len + 1);
                return APID_OK;
        }
        if (colon == spec)
                return spec_fail(spec, 0, "an empty trustee");
        if ((size_t)(colon - spec) >= sizeof(out->trustee))
                return spec_fail(spec, sizeof(out->trustee) - 1, "a trustee that is too long");
        memcpy(out->trustee, spec, (size_t)(colon - spec));
        out->trustee[colon - spec] = '\0';
        out->has_perm = 1;
        p = colon + 1;
        end = spec + len;
        if (p == end)
                return spec_fail(spec, len, "no rights after ':'");
        /* (FLAG)... then rights: (R,R,...) groups and/or one bare list of simple rights. */
        while (p < end) {
                if (*p == '(') {
                        const char *close = memchr(p, ')', (size_t)(end - p));
                        const struct flag *fl;
                        int r;

                        if (!close)
                                return spec_fail(spec, (size_t)(p - spec), "a '(' without its ')'");
                        fl = find_flag(p + 1, (size_t)(close - p - 1));
                        if (fl) {
                                if (out->rights_seen)
                                        return spec_fail(spec, (size_t)(p - spec),
                                                         "an inheritance flag after the rights (flags come first)");
                                if (out->flags & fl->bit)
                                        return spec_fail(spec, (size_t)(p - spec), "a repeated inheritance flag");
                                out->flags |= fl->bit;
                        } else {
                                r = parse_rights(spec, p + 1, close, 0, &out->mask);
                                if (r < 0)
                                        return r;
                                out->rights_seen = 1;
                        }
                        p = close + 1;
                } else if (isalpha((unsigned char)*p)) {
                        const char *stop = p;
                        int r;

                        while (stop < end && *stop != '(')
                                stop++;
                        if (stop != end)
                                return spec_fail(spec, (size_t)(stop - spec), "'(' after the simple rights");
                        r = parse_rights(spec, p, end, 1, &out->mask);
                        if (r < 0)
                                return r;
                        out->rights_seen = 1;
                        p = end;
                } else {
                        return spec_fail(spec, (size_t)(p - spec), "an unexpected character");
                }
        }
        if (!out->rights_seen)
                return spec_fail(spec, len, "inheritance flags but no rights");
        if (out->flags & APID__ACE_INHERITED)
                return spec_fail(spec, (size_t)(strstr(colon, "(") - spec),
                                 "(I) marks inherited entries in icacls output; it cannot be set");
        /* Generic rights are the file-specific sets they stand for. */
        if (out->mask & GR)
                out->mask = (out->mask & ~GR) | FILE_GENERIC_READ;
        if (out->mask & GW)
                out->mask = (out->mask & ~GW) | FILE_GENERIC_WRITE;
        if (out->mask & GE)
                out->mask = (out->mask & ~GE) | FILE_GENERIC_EXECUTE;
        if (out->mask & GA)
                out->mask = (out->mask & ~GA) | FILE_ALL;
        return APID_OK;
}

APID_EXPORT int apid_acl_spec_check(const char *spec)
{
        struct apid__ace_spec s;

        return apid__acl_spec_parse(spec, 1, &s);
}

/* POSIX bits for a Windows mask: a bit only when everything it allows was
 * asked for. What was asked and cannot be given is described in "lost". */
unsigned apid__acl_bits(uint32_t mask, int is_dir, char *lost, size_t size)
{
        unsigned bits = 0;
        uint32_t given = RC | SY | RA | REA; /* anyone who can reach a file may stat it and read its ACL */

        lost[0] = '\0';
        if (mask & RD) {
                bits |= APID__R;
                given |= RD;
        }
        if (mask & XX) {
                bits |= APID__X;
                given |= XX;
        }
        if (!is_dir && (mask & (WD | AD)) == (WD | AD)) {
                bits |= APID__W;
                given |= WD | AD;
        }
        if (is_dir && (mask & (WD | AD | DC)) == (WD | AD | DC)) {
                bits |= APID__W;
                given |= WD | AD | DC;
        }
        mask &= ~given;
        if (mask) {
                static const struct {
                        uint32_t bit;
                        const char *text;
                } why[] = {
                        { WD | AD, "write without both write-data and append-data (POSIX w allows both)" },
                        { DC, "delete-child (POSIX has it only as w on a directory, which also creates entries)" },
                        { DE, "delete (on Linux, deleting is a right on the parent directory)" },
                        { WDAC, "change permissions (only the owner can)" },
                        { WO, "take ownership (only root can)" },
                        { WA | WEA, "write attributes (only the owner can)" },
                        { AS | MA, "system security and maximum-allowed" },
                };
                size_t i, o = 0;

                for (i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
                        if (!(mask & why[i].bit))
                                continue;
                        if (is_dir && why[i].bit == (WD | AD))
                                o += (size_t)snprintf(lost + o, o < size ? size - o : 0, "%screate files (POSIX w on a "
                                                      "directory also deletes and renames any entry: grant DC too, "
                                                      "as F does)", o ? "; " : "");
                        else
                                o += (size_t)snprintf(lost + o, o < size ? size - o : 0, "%s%s", o ? "; " : "",
                                                      why[i].text);
                }
        }
        return bits;
}

/* ---- trustees ---- */

static int from_sid(apid_ctx *ctx, const apid_sid *sid, const char *text, struct apid__trustee *t)
{
        static const struct {
                const char *sid;
                int tag;
                uint32_t id;
                const char *setting; /* a registry setting naming the account */
        } known[] = {
                { "S-1-1-0", APID__T_OTHER, 0, NULL },          /* Everyone */
                { "S-1-3-0", APID__T_OWNER, 0, NULL },          /* CREATOR OWNER */
                { "S-1-3-1", APID__T_OWNING_GROUP, 0, NULL },   /* CREATOR GROUP */
                { "S-1-5-32-568", APID__T_GROUP, 0, "sharedGroup" },
                { NULL, APID__T_USER, 0, NULL }, /* a built-in identity: account.c's table */
        };
        const struct apid__builtin *builtin;
        _cleanup_free_ char *s = NULL;
        size_t i;
        int r;

        if (apid_sid_is_pool(sid)) {
                apid_identity *id = NULL;

                r = apid_identity_from_sid(ctx, sid, &id);
                if (r < 0)
                        return apid__fail(r, 0, "trustee %s: no pool with this SID exists here", text);
                /* The pool's own group, which every worker of the pool carries
                 * whatever its identity type: not the account it runs as. */
                t->tag = APID__T_POOL;
                t->id = apid_identity_get_pool_gid(id);
                apid_identity_free(id);
                return APID_OK;
        }
        r = apid_sid_to_string(sid, &s);
        if (r < 0)
                return r;
        builtin = apid__builtin_by_sid(s);
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
                const char *setting;
                char *name = NULL;

                if (known[i].sid ? strcmp(s, known[i].sid) != 0 : !builtin)
                        continue;
                setting = known[i].sid ? known[i].setting : builtin->setting;
                t->tag = known[i].tag;
                if (!setting)
                        return APID_OK;
                r = apid_registry_get(ctx, setting, &name);
                if (r < 0)
                        return r;
                if (!name[0]) {
                        apid_free(name);
                        return apid__fail(APID_ENOTFOUND, 0,
                                          "trustee %s: no shared group is configured (registry setting sharedGroup)",
                                          text);
                }
                if (t->tag == APID__T_USER) {
                        apid_identity *id = NULL;

                        r = apid__nss_user_id(name, &t->id);
                        if (r == APID_OK || r != APID_ENOTFOUND) {
                                /* found, or the source failed: reported */
                        } else if (apid_identity_from_user(ctx, name, &id) == APID_OK) {
                                t->id = apid_identity_get_uid(id);
                                apid_identity_free(id);
                                r = APID_OK;
                        } else if (apid__builtin_uid_lookup(ctx, name, &t->id) == APID_OK) {
                                r = APID_OK; /* provisioned, and the NSS module is not enabled */
                        } else {
                                r = apid__fail(APID_ENOTFOUND, 0, "trustee %s: account %s does not exist yet", text,
                                               name);
                        }
                } else {
                        r = apid__nss_group_id(name, &t->id);
                        if (r == APID_ENOTFOUND)
                                r = apid__shared_gid_lookup(ctx, name, &t->id);
                }
                apid_free(name);
                return r;
        }
        /* A provisioned built-in account, if registered by that SID. */
        return apid__fail(APID_ENOTFOUND, 0, "trustee %s: %s has no Linux account", text, s);
}

int apid__acl_trustee_resolve(apid_ctx *ctx, const char *name, struct apid__trustee *t)
{
        apid_sid *sid = NULL;
        char q[256];
        int r;

        memset(t, 0, sizeof(*t));
        apid__quote(q, sizeof(q), name, 200);
        snprintf(t->name, sizeof(t->name), "%s", q);
        if (name[0] == '*') { /* icacls: *S-1-... */
                r = apid_sid_parse(name + 1, &sid);
                if (r < 0)
                        return r;
                r = from_sid(ctx, sid, q, t);
                apid_sid_free(sid);
                return r;
        }
        if (strncmp(name, "user:", 5) == 0) {
                r = apid__nss_user_id(name + 5, &t->id);
                if (r < 0 && r != APID_ENOTFOUND)
                        return r;
                if (r == APID_ENOTFOUND) {
                        apid_identity *id = NULL;

                        if (apid_identity_from_user(ctx, name + 5, &id) < 0)
                                return apid__fail(APID_ENOTFOUND, 0, "trustee '%s': no such user", q);
                        t->id = apid_identity_get_pool_gid(id); /* the pool's own uid (== its gid) */
                        apid_identity_free(id);
                }
                t->tag = APID__T_USER;
                return APID_OK;
        }
        if (strncmp(name, "group:", 6) == 0) {
                r = apid__nss_group_id(name + 6, &t->id);
                t->tag = APID__T_GROUP;
                if (r < 0 && r != APID_ENOTFOUND)
                        return r;
                if (r == APID_ENOTFOUND) {
                        apid_identity *id = NULL;

                        /* A pool's group, when the NSS module is not enabled. */
                        if (!apid__posix_name_valid(name + 6) || apid_identity_from_user(ctx, name + 6, &id) < 0)
                                return apid__fail(APID_ENOTFOUND, 0, "trustee '%s': no such group", q);
                        t->id = apid_identity_get_pool_gid(id);
                        apid_identity_free(id);
                        return APID_OK;
                }
                return APID_OK;
        }
        if (!strchr(name, '\\')) {
                /* A POSIX user first, then a group, then a pool user the
                 * registry knows, then a well-known account name. */
                r = apid__nss_user_id(name, &t->id);
                if (r == APID_OK)
                        t->tag = APID__T_USER;
                if (r == APID_ENOTFOUND) {
                        r = apid__nss_group_id(name, &t->id);
                        if (r == APID_OK)
                                t->tag = APID__T_GROUP;
                }
                if (r != APID_ENOTFOUND)
                        return r;
                if (apid__posix_name_valid(name)) {
                        apid_identity *id = NULL;

                        if (apid_identity_from_user(ctx, name, &id) == APID_OK) {
                                t->tag = APID__T_USER;
                                t->id = apid_identity_get_pool_gid(id); /* the pool's own uid (== its gid) */
                                apid_identity_free(id);
                                return APID_OK;
                        }
                }
        }
        r = apid_account_to_sid(ctx, name, &sid);
        if (r == APID_ENOTFOUND)
                return apid__fail(APID_ENOTFOUND, 0, "trustee '%s': no such account, user or group", q);
        if (r < 0)
                return r;
        r = from_sid(ctx, sid, q, t);
        apid_sid_free(sid);
        if (r == APID_ENOTFOUND && strchr(name, '\\') &&
            strncasecmp(name, APID_POOL_DOMAIN "\\", strlen(APID_POOL_DOMAIN) + 1) == 0)
                return apid__fail(APID_ENOTFOUND, 0, "trustee '%s': no such pool here (create it first: "
                                                     "apppoolctl pool add)", q);
        return r;
}
