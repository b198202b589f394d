/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The id map: the uid a SID maps to (a pure function into the id range, with
 * a deterministic probe sequence), POSIX user names, and the choice of both
 * for a new account, with NSS asked outside the registry transaction
 * (resolver.c's cache) and an account that NSS serves as this very identity
 * (a farm's directory) recognised as ours rather than taken for a foreign one. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <nettle/sha1.h>

#include "idmap.h"

#define MAX_PROBES 1024
#define USER_PREFIX "apppool-"
#define USER_MAX 32

/* ---- the id map ---- */

static uint64_t gcd64(uint64_t a, uint64_t b)
{
        while (b) {
                uint64_t t = a % b;

                a = b;
                b = t;
        }
        return a;
}

/* The probe sequence of a SID in [first, first + size): candidate i is
 * first + (start + i * step) mod size, where start and step come from the
 * SHA-1 of the binary SID and step is coprime with size, so the sequence
 * visits every id of the range once. docs/identities.md gives the formula. */
struct probe {
        uint64_t first, size, start, step;
};

static void probe_init(const apid_sid *sid, uint32_t first, uint32_t size, struct probe *p)
{
        uint8_t bin[APID_SID_MAX_BYTES], d[SHA1_DIGEST_SIZE];
        struct sha1_ctx sha;
        uint64_t h0 = 0, h1 = 0;
        size_t n = 0;
        int i;

        if (apid_sid_to_bytes(sid, bin, sizeof(bin), &n) != APID_OK)
                n = 0;
        sha1_init(&sha);
        sha1_update(&sha, n, bin);
        sha1_digest(&sha, sizeof(d), d);
        for (i = 7; i >= 0; i--) {
                h0 = (h0 << 8) | d[i];
                h1 = (h1 << 8) | d[8 + i];
        }
        p->first = first;
        p->size = size;
        p->start = h0 % size;
        p->step = size > 1 ? 1 + h1 % (size - 1) : 1;
        while (gcd64(p->step, size) != 1)
                p->step = p->step + 1 < size ? p->step + 1 : 1;
}

static uint32_t probe_at(const struct probe *p, uint64_t i)
{
        return (uint32_t)(p->first + (p->start + (i % p->size) * p->step) % p->size);
}

uint32_t apid__idmap_candidate(const apid_sid *sid, uint32_t first, uint32_t size, uint32_t i)
{
        struct probe p;

        probe_init(sid, first, size, &p);
        return probe_at(&p, i);
}

static int config_u32(struct sqlite3 *db, const char *name, uint32_t *out)
{
        _cleanup_free_ char *v = NULL;
        int r = apid__config(db, name, &v);

        if (r < 0)
                return r;
        *out = (uint32_t)strtoul(v, NULL, 10); /* validated when it was set */
        return APID_OK;
}

/* ---- NSS verdicts: free, a foreign account, or this very identity ---- */
enum { NSS_FREE = 0, NSS_FOREIGN = 1, NSS_OURS = 2 };

/* Does an account's gecos say it is the identity of SID sid_text? A
 * directory serving a farm's accounts carries what the NSS snapshot writes:
 * "IIS APPPOOL\<pool>" (whose SID is computed here, so a pool name spelled
 * in another case is the same pool, as in IIS) or "NT AUTHORITY\LOCAL
 * SERVICE"/"NETWORK SERVICE"; or the SID itself in any comma-separated field
 * (a directory that can carry sambaSID can map it there). */
/* Is the pool account name "IIS APPPOOL\<pool>" in the first n bytes of
 * text that of SID sid_text? */
static int names_pool(const char *text, size_t n, const char *sid_text)
{
        size_t dl = strlen(APID_POOL_DOMAIN);
        _cleanup_free_ char *pool = NULL, *sid_str = NULL;
        apid_sid *sid = NULL;
        int yes;

        if (n <= dl + 1 || strncasecmp(text, APID_POOL_DOMAIN "\\", dl + 1) != 0)
                return 0;
        pool = strndup(text + dl + 1, n - dl - 1);
        yes = pool && apid_sid_for_pool(pool, &sid) == APID_OK && apid_sid_to_string(sid, &sid_str) == APID_OK &&
              strcmp(sid_str, sid_text) == 0;
        apid_sid_free(sid);
        return yes;
}

static int gecos_says(const char *gecos, const char *sid_text)
{
        const struct apid__builtin *bi = apid__builtin_by_sid(sid_text);
        const char *f, *end;

        if (!gecos || !sid_text)
                return 0;
        end = strchr(gecos, ',');
        /* The whole gecos, or its first field (a directory may add others). */
        if (names_pool(gecos, strlen(gecos), sid_text) ||
            (end && names_pool(gecos, (size_t)(end - gecos), sid_text)))
                return 1;
        if (bi && strlen(bi->account) == (end ? (size_t)(end - gecos) : strlen(gecos)) &&
            strncasecmp(gecos, bi->account, strlen(bi->account)) == 0)
                return 1;
        for (f = gecos; f; f = end ? end + 1 : NULL) {
                size_t n;

                end = strchr(f, ',');
                n = end ? (size_t)(end - f) : strlen(f);
                if (n == strlen(sid_text) && strncmp(f, sid_text, n) == 0)
                        return 1;
        }
        return 0;
}

/* Both questions are asked before an answer is awaited, so that one round
 * of apid__idmap_run gathers them together. */
static int pair_status(int a, int b)
{
        if (a == APID__EAGAIN_NSS || b == APID__EAGAIN_NSS)
                return APID__EAGAIN_NSS;
        if (a < 0 && a != APID_ENOTFOUND)
                return a;
        if (b < 0 && b != APID_ENOTFOUND)
                return b;
        return APID_OK;
}

/* The user name user for SID sid_text: NSS_FREE (no user or group of that
 * name), NSS_OURS (a user of that name with uid == gid that says it is this
 * identity, and no group of that name with another gid; *ours_uid set), or
 * NSS_FOREIGN; < 0 a failure of the source. */
static int name_verdict(const char *user, const char *sid_text, uint32_t *ours_uid)
{
        struct apid__nss_user u = { 0 };
        struct apid__nss_group g = { 0 };
        int ru = apid__nss_user_by_name(user, &u);
        int rg = apid__nss_group_by_name(user, &g);
        int r = pair_status(ru, rg);

        if (r == APID_OK) {
                if (ru == APID_ENOTFOUND && rg == APID_ENOTFOUND)
                        r = NSS_FREE;
                else if (ru == APID_OK && u.uid == u.gid && gecos_says(u.gecos, sid_text) &&
                         (rg == APID_ENOTFOUND || g.gid == u.uid))
                        r = NSS_OURS, *ours_uid = u.uid;
                else
                        r = NSS_FOREIGN;
        }
        apid__nss_user_clear(&u);
        apid__nss_group_clear(&g);
        return r;
}

/* The id for user user of SID sid_text: NSS_FREE (no user or group has it),
 * NSS_OURS (the user that has it is user, with gid == id, and says it is
 * this identity; a group that has it is named user), or NSS_FOREIGN. */
static int id_verdict(uint32_t id, const char *user, const char *sid_text)
{
        struct apid__nss_user u = { 0 };
        struct apid__nss_group g = { 0 };
        int ru = apid__nss_user_by_uid(id, &u);
        int rg = apid__nss_group_by_gid(id, &g);
        int r = pair_status(ru, rg);

        if (r == APID_OK) {
                if (ru == APID_ENOTFOUND && rg == APID_ENOTFOUND)
                        r = NSS_FREE;
                else if (ru == APID_OK && user && strcmp(u.name, user) == 0 && u.gid == id &&
                         gecos_says(u.gecos, sid_text) && (rg == APID_ENOTFOUND || strcmp(g.name, user) == 0))
                        r = NSS_OURS;
                else
                        r = NSS_FOREIGN;
        }
        apid__nss_user_clear(&u);
        apid__nss_group_clear(&g);
        return r;
}

int apid__idmap_id_foreign(uint32_t id, const char *user, const char *sid_text)
{
        int r = id_verdict(id, user, sid_text);

        return r < 0 ? r : r == NSS_FOREIGN;
}

/* One set of rules for every account record, whether pool add chose it or
 * an import carries it (issue 15: an import once named a pool "../../etc",
 * "root", or gave it a deleted pool's uid). */
int apid__posix_record_check(struct sqlite3 *db, const struct apid__posix_record *a, int check_nss)
{
        static const char *const kinds[] = { "pool", "LocalService/NetworkService", "shared group" };
        uint32_t first, size;
        struct probe p;
        apid_sid *sid = NULL;
        char q[160];
        int r;

        apid__quote(q, sizeof(q), a->user, 64);
        if (!apid__posix_name_valid(a->user))
                return apid__fail(APID_EINVAL, 0,
                                  "account user name '%s': not a valid user or group name (lower case, at most 32, "
                                  "^[a-z_][a-z0-9_-]*$)", q);
        /* A name another NSS source serves (root, sshd, a directory's user)
         * is never ours: nsswitch.conf puts apppoolid after files. A farm's
         * directory serving this very account (same name, uid and gid, and
         * its gecos says so) is. */
        if (check_nss) {
                uint32_t ours = 0;

                r = name_verdict(a->user, a->sid, &ours);
                if (r < 0)
                        return r;
                r = r == NSS_FOREIGN || (r == NSS_OURS && ours != a->uid);
        } else {
                r = 0;
        }
        if (r)
                return apid__fail(APID_ECOLLISION, 0,
                                  "account user name '%s': already a user or group on this host (NSS)", q);
        if (a->kind < APID__POSIX_POOL || a->kind > APID__POSIX_GROUP)
                return apid__fail(APID_EINVAL, 0, "account kind %d: not 0, 1 or 2", a->kind);
        if (a->kind == APID__POSIX_POOL && strncmp(a->sid, "S-1-5-82-", 9) != 0)
                return apid__fail(APID_EINVAL, 0, "account kind 0 (pool): SID %s is not a pool's SID", a->sid);
        if (a->kind == APID__POSIX_BUILTIN &&
            (!apid__builtin_by_sid(a->sid) || apid__builtin_by_sid(a->sid)->type == APID_IDENTITY_LOCAL_SYSTEM))
                return apid__fail(APID_EINVAL, 0, "account kind 1 (%s): SID %s is not S-1-5-19 or S-1-5-20",
                                  kinds[1], a->sid);
        if (a->kind == APID__POSIX_GROUP && strcmp(a->sid, "S-1-5-32-568") != 0)
                return apid__fail(APID_EINVAL, 0, "account kind 2 (%s): SID %s is not S-1-5-32-568", kinds[2],
                                  a->sid);
        r = config_u32(db, "idRangeStart", &first);
        if (r == APID_OK)
                r = config_u32(db, "idRangeSize", &size);
        if (r < 0)
                return r;
        if (a->uid < first || a->uid - first >= size)
                return apid__fail(APID_ERANGE, 0, "%s: uid %u is outside the id range %u..%u", a->sid, a->uid, first,
                                  first + size - 1);
        if (a->probe >= MAX_PROBES || a->probe >= size)
                return apid__fail(APID_ECOLLISION, 0, "%s: uid %u is candidate %u, past the %u pool add tries", a->sid,
                                  a->uid, a->probe, size < MAX_PROBES ? size : MAX_PROBES);
        r = apid_sid_parse(a->sid, &sid);
        if (r < 0)
                return r;
        probe_init(sid, first, size, &p);
        apid_sid_free(sid);
        if (probe_at(&p, a->probe) != a->uid)
                return apid__fail(APID_ECOLLISION, 0, "%s: uid %u is not its candidate %u (that is %u)", a->sid,
                                  a->uid, a->probe, probe_at(&p, a->probe));
        return APID_OK;
}

int apid__pool_user_name_matches(const char *pool_name, const char *user, char expect[33])
{
        apid_sid *sid = NULL;
        char name[USER_MAX + 1];
        int r, variant, found = 0;

        r = apid_sid_for_pool(pool_name, &sid);
        for (variant = 0; r == APID_OK && variant <= 3 && !found; variant++) {
                r = apid__pool_user_name(pool_name, sid, variant, name);
                if (r == APID_OK && variant == 0)
                        memcpy(expect, name, sizeof(name));
                found = r == APID_OK && strcmp(name, user) == 0;
        }
        apid_sid_free(sid);
        return r < 0 ? r : found;
}

/* The index of uid in the probe sequence, or -1. */
static int64_t probe_index(const struct probe *p, uint32_t uid, uint32_t limit)
{
        uint32_t i;

        for (i = 0; i < limit; i++)
                if (probe_at(p, i) == uid)
                        return i;
        return -1;
}

/* Write down the NSS questions about the next free candidates too, so that
 * one round answers them together. As many as were asked before (so the
 * batch doubles each round): a host whose first choice is free asks one
 * candidate, a host with many foreign accounts in the range needs a few
 * rounds, not one per candidate. */
#define AHEAD_MAX 256

static void ask_ahead(struct sqlite3 *db, const struct probe *p, uint32_t from, uint32_t limit, const char *user,
                      const char *sid_text)
{
        struct apid__posix_record other;
        size_t want = apid__nss_asked() / 2, n = 0;
        uint32_t i;

        if (want > AHEAD_MAX)
                want = AHEAD_MAX;
        for (i = from; i < limit && n < want; i++) {
                uint32_t uid = probe_at(p, i);

                if (apid__reg_record_by_uid(db, uid, &other) != APID_ENOTFOUND)
                        continue;
                (void)id_verdict(uid, user, sid_text);
                n++;
        }
}

/* Whether uid (candidate i) can be this account's: free in the registry and
 * NSS, or served by NSS as this very account. 1 yes, 0 no, < 0 failure. */
static int candidate_ok(apid_ctx *ctx, struct sqlite3 *db, const struct probe *p, uint32_t i, uint32_t limit,
                        const struct apid__posix_record *a)
{
        struct apid__posix_record other;
        uint32_t uid = probe_at(p, i);
        int r = apid__reg_record_by_uid(db, uid, &other);

        if (r == APID_OK) {
                apid__log(ctx, APID_LOG_DEBUG, "%s: uid %u is taken by %s", a->sid, uid, other.sid);
                return 0;
        }
        if (r != APID_ENOTFOUND)
                return r;
        r = id_verdict(uid, a->user, a->sid);
        if (r == APID__EAGAIN_NSS)
                ask_ahead(db, p, i + 1, limit, a->user, a->sid);
        if (r < 0)
                return r;
        if (r == NSS_FOREIGN)
                apid__log(ctx, APID_LOG_INFO, "%s: uid %u is taken by an existing account or group", a->sid, uid);
        return r != NSS_FOREIGN;
}

/* Find or assign the account of a SID. Runs inside apid__idmap_run: NSS is
 * never asked inside the transaction, its answers come from the round's
 * cache, and the registry is read afresh in every round, so an account
 * another writer inserted meanwhile is seen. */
int apid__posix_record_assign(apid_ctx *ctx, struct sqlite3 *db, const apid_sid *sid, int kind,
                              const char *user_base, struct apid__posix_record *out)
{
        _cleanup_free_ char *sid_text = NULL;
        struct apid__posix_record a, other;
        struct probe p;
        uint32_t first, size, limit, i;
        int r, variant;

        r = apid_sid_to_string(sid, &sid_text);
        if (r < 0)
                return r;
        /* A SID that had an id keeps it: a pool deleted and created again gets
         * its uid back, and nobody else ever gets it. */
        r = apid__reg_record_by_sid(db, sid_text, out);
        if (r != APID_ENOTFOUND)
                return r;
        r = config_u32(db, "idRangeStart", &first);
        if (r == APID_OK)
                r = config_u32(db, "idRangeSize", &size);
        if (r < 0)
                return r;
        probe_init(sid, first, size, &p);
        limit = size < MAX_PROBES ? size : MAX_PROBES;

        memset(&a, 0, sizeof(a));
        snprintf(a.sid, sizeof(a.sid), "%s", sid_text);
        a.kind = kind;
        /* The user name: deterministic, with a SID-derived suffix if taken. */
        for (variant = 0;; variant++) {
                uint32_t ours = 0;
                int64_t at;

                if (kind == APID__POSIX_POOL) {
                        r = apid__pool_user_name(user_base, sid, variant, a.user);
                        if (r < 0)
                                return r;
                } else if (variant == 0) {
                        snprintf(a.user, sizeof(a.user), "%s", user_base);
                } else {
                        return apid__fail(APID_EEXISTS, 0, "account name %s: already used by another account",
                                          user_base);
                }
                r = apid__reg_record_by_user(db, a.user, &other);
                if (r == APID_ENOTFOUND) {
                        r = name_verdict(a.user, a.sid, &ours);
                        if (r == APID__EAGAIN_NSS)
                                ask_ahead(db, &p, 0, limit, a.user, a.sid);
                        if (r < 0)
                                return r;
                        if (r == NSS_FREE)
                                break;
                        /* Served as this very identity (a farm's directory):
                         * the same name, and the uid it serves, if that is one
                         * of this SID's candidates and free here. */
                        at = r == NSS_OURS ? probe_index(&p, ours, limit) : -1;
                        if (at >= 0) {
                                r = candidate_ok(ctx, db, &p, (uint32_t)at, limit, &a);
                                if (r < 0)
                                        return r;
                                if (r) {
                                        a.uid = ours;
                                        a.probe = (uint32_t)at;
                                        apid__log(ctx, APID_LOG_INFO, "%s: %s (uid %u) is served by NSS as this "
                                                  "identity: the same account", sid_text, a.user, ours);
                                        goto insert;
                                }
                        }
                }
                if (r < 0 && r != APID_ENOTFOUND)
                        return r;
                if (variant >= 3)
                        return apid__fail(APID_EEXISTS, 0, "pool user name %s: taken, and so are its variants",
                                          a.user);
        }

        for (i = 0; i < limit; i++) {
                r = candidate_ok(ctx, db, &p, i, limit, &a);
                if (r < 0)
                        return r;
                if (!r)
                        continue;
                a.uid = probe_at(&p, i);
                a.probe = i;
                goto insert;
        }
        return apid__fail(APID_ERANGE, 0, "%s: no free id in %u..%u after %u candidates", sid_text, first,
                          first + size - 1, i);
insert:
        r = apid__posix_record_check(db, &a, 0); /* NSS asked above */
        if (r == APID_OK)
                r = apid__reg_record_insert(db, &a);
        if (r < 0)
                return r;
        if (a.probe > 0)
                apid__log(ctx, APID_LOG_WARNING, "%s (%s): uid %u is candidate %u, not the first choice %u",
                          sid_text, a.user, a.uid, a.probe, probe_at(&p, 0));
        *out = a;
        return APID_OK;
}

/* "apppool-" + the name lower-cased, with '-' for ' ' and '.'; when that
 * loses information (other characters) or is too long, a suffix of six
 * hexadecimal digits from the SID makes it unique. Variants 1.. pick other
 * digits. Valid for useradd's default NAME_REGEX ^[a-z][-a-z0-9_]*$. */
int apid__pool_user_name(const char *pool_name, const apid_sid *sid, int variant, char out[33])
{
        char base[USER_MAX + 1];
        size_t o = 0, i, len = strlen(pool_name);
        int lossy = 0;

        memcpy(base, USER_PREFIX, sizeof(USER_PREFIX) - 1);
        o = sizeof(USER_PREFIX) - 1;
        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)pool_name[i];
                char m;

                if (c >= 'A' && c <= 'Z')
                        m = (char)(c - 'A' + 'a');
                else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
                        m = (char)c;
                else if (c == ' ' || c == '.')
                        m = '-', lossy = 1;
                else {
                        lossy = 1;
                        continue;
                }
                if (o < USER_MAX)
                        base[o++] = m;
                else
                        lossy = 1;
        }
        base[o] = '\0';
        if (!lossy && variant == 0) {
                memcpy(out, base, o + 1);
                return APID_OK;
        } else {
                uint8_t bin[APID_SID_MAX_BYTES];
                size_t n = 0;
                int r = apid_sid_to_bytes(sid, bin, sizeof(bin), &n);
                size_t at = n > 12 ? 12 + (size_t)(variant % 6) * 3 : 0;

                if (r < 0)
                        return r;
                if (o > USER_MAX - 7)
                        o = USER_MAX - 7;
                while (o > sizeof(USER_PREFIX) - 1 && base[o - 1] == '-')
                        o--;
                snprintf(out, USER_MAX + 1, "%.*s-%02x%02x%02x", (int)o, base, bin[at], bin[at + 1], bin[at + 2]);
        }
        return APID_OK;
}


/* The candidate index of uid for sid_text in this registry's id range (an
 * LDIF record carries the uid, not the index): APID_OK with *probe set, or
 * APID_ECOLLISION when uid is none of its first MAX_PROBES candidates. */
int apid__idmap_probe_of(struct sqlite3 *db, const char *sid_text, uint32_t uid, uint32_t *probe)
{
        uint32_t first, size;
        apid_sid *sid = NULL;
        struct probe p;
        int64_t at;
        int r;

        r = config_u32(db, "idRangeStart", &first);
        if (r == APID_OK)
                r = config_u32(db, "idRangeSize", &size);
        if (r == APID_OK)
                r = apid_sid_parse(sid_text, &sid);
        if (r < 0)
                return r;
        probe_init(sid, first, size, &p);
        apid_sid_free(sid);
        at = probe_index(&p, uid, size < MAX_PROBES ? size : MAX_PROBES);
        if (at < 0)
                return apid__fail(APID_ECOLLISION, 0, "%s: uid %u is none of its first %u candidates in %u..%u",
                                  sid_text, uid, size < MAX_PROBES ? size : MAX_PROBES, first, first + size - 1);
        *probe = (uint32_t)at;
        return APID_OK;
}
