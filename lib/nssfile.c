/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NSS snapshot: a small text file beside the registry that
 * libnss_apppoolid reads, so that getent, id, ls and ps show pool identities
 * without loading SQLite into every process. It is rewritten, atomically,
 * inside every registry write transaction.
 *
 *   apppoolid-nss 1
 *   P<TAB>user<TAB>uid<TAB>gid<TAB>gecos<TAB>home<TAB>pool key
 *   G<TAB>group<TAB>gid<TAB>member,member,...
 *
 * Fields never hold a tab, a newline or a colon: pool names cannot contain
 * control characters or ':', and user names are [a-z0-9_-]. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define NO_HOME "/nonexistent"

struct snap {
        apid_ctx *ctx;
        struct sqlite3 *db;
        FILE *f;
        char *members;   /* pool users, for the provisioned shared group */
        size_t members_len;
        char shared[33]; /* the provisioned shared group's name, if any */
        uint32_t shared_gid;
};

static int add_member(struct snap *s, const char *user)
{
        size_t n = strlen(user);
        char *m = realloc(s->members, s->members_len + n + 2);

        if (!m)
                return apid__fail_oom();
        if (s->members_len)
                m[s->members_len++] = ',';
        memcpy(m + s->members_len, user, n + 1);
        s->members_len += n;
        s->members = m;
        return APID_OK;
}

static int write_account(const struct apid__account *a, const char *pool_name, int loads_profile, void *arg)
{
        struct snap *s = arg;
        _cleanup_free_ char *key = NULL;
        _cleanup_free_ char *home = NULL;
        const char *gecos;
        char account[APID_POOL_NAME_MAX * 4 + 16];
        int r;

        if (a->kind == APID__ACCOUNT_GROUP) {
                snprintf(s->shared, sizeof(s->shared), "%s", a->user);
                s->shared_gid = a->uid;
                return APID_OK;
        }
        if (a->kind == APID__ACCOUNT_POOL && !pool_name)
                return APID_OK; /* a deleted pool: its uid stays reserved, but it is no account */
        /* A record an older library imported unchecked ("../x", a uid below
         * the range): never published, and it does not stop every write. */
        if (!apid__posix_name_valid(a->user) || a->uid < 65536 || a->uid > 2147483647u) {
                apid__log(s->ctx, APID_LOG_WARNING, "NSS snapshot: account %s (uid %u) left out: not a valid name "
                          "or id", a->sid, a->uid);
                return APID_OK;
        }
        if (a->kind == APID__ACCOUNT_POOL) {
                r = apid_pool_name_canonical(pool_name, &key);
                if (r < 0)
                        return r;
                snprintf(account, sizeof(account), APID_POOL_DOMAIN "\\%s", pool_name);
                gecos = account;
                r = add_member(s, a->user);
                if (r < 0)
                        return r;
        } else {
                gecos = strcmp(a->sid, "S-1-5-19") == 0 ? "NT AUTHORITY\\LOCAL SERVICE" : "NT AUTHORITY\\NETWORK SERVICE";
        }
        if (loads_profile) {
                r = apid__profile_path(s->ctx, s->db, a->user, &home);
                if (r < 0)
                        return r;
        }
        fprintf(s->f, "P\t%s\t%u\t%u\t%s\t%s\t%s\n", a->user, a->uid, a->uid, gecos, home ? home : NO_HOME,
                key ? key : "");
        fprintf(s->f, "G\t%s\t%u\t\n", a->user, a->uid);
        return APID_OK;
}

static int fill(FILE *f, void *arg)
{
        struct snap *s = arg;
        int r;

        s->f = f;
        fprintf(f, "apppoolid-nss 1\n");
        r = apid__reg_accounts_each(s->db, write_account, s);
        if (r == APID_OK && s->shared[0])
                fprintf(f, "G\t%s\t%u\t%s\n", s->shared, s->shared_gid, s->members ? s->members : "");
        /* No silent limit: a snapshot the module would not read is refused here. */
        if (r == APID_OK && ftello(f) > (off_t)APID__NSS_MAX_SNAPSHOT)
                r = apid__fail(APID_ERANGE, 0, "NSS snapshot: %lld bytes, more than the %u the NSS module reads",
                               (long long)ftello(f), APID__NSS_MAX_SNAPSHOT);
        return r;
}

int apid__nss_snapshot_write(apid_ctx *ctx, struct sqlite3 *db)
{
        _cleanup_free_ char *path = NULL;
        struct snap s;
        int r;

        if (asprintf(&path, "%s/" APID__NSS_FILE, apid_ctx_get_state_dir(ctx)) < 0) {
                path = NULL;
                return apid__fail_oom();
        }
        memset(&s, 0, sizeof(s));
        s.ctx = ctx;
        s.db = db;
        r = apid__write_atomic(path, "NSS snapshot", 0644, fill, &s);
        free(s.members);
        return r;
}
