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
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int apid__nss_snapshot_write(apid_ctx *ctx, struct sqlite3 *db)
{
        const char *dir = apid_ctx_get_state_dir(ctx);
        _cleanup_free_ char *tmp = NULL;
        _cleanup_free_ char *path = NULL;
        struct snap s;
        int fd, r;

        if (asprintf(&tmp, "%s/." APID__NSS_FILE ".XXXXXX", dir) < 0 ||
            asprintf(&path, "%s/" APID__NSS_FILE, dir) < 0)
                return apid__fail_oom();
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return apid__fail(APID_ESYS, errno, "NSS snapshot %s: %s", tmp, strerror(errno));
        memset(&s, 0, sizeof(s));
        s.ctx = ctx;
        s.db = db;
        s.f = fdopen(fd, "w");
        if (!s.f) {
                close(fd);
                unlink(tmp);
                return apid__fail(APID_ESYS, errno, "NSS snapshot %s: %s", tmp, strerror(errno));
        }
        fchmod(fd, 0644);
        fprintf(s.f, "apppoolid-nss 1\n");
        r = apid__reg_accounts_each(db, write_account, &s);
        if (r == APID_OK && s.shared[0])
                fprintf(s.f, "G\t%s\t%u\t%s\n", s.shared, s.shared_gid, s.members ? s.members : "");
        free(s.members);
        if (r == APID_OK && (fflush(s.f) != 0 || fsync(fd) != 0))
                r = apid__fail(APID_ESYS, errno, "NSS snapshot %s: %s", tmp, strerror(errno));
        if (fclose(s.f) != 0 && r == APID_OK)
                r = apid__fail(APID_ESYS, errno, "NSS snapshot %s: %s", tmp, strerror(errno));
        if (r == APID_OK && rename(tmp, path) < 0)
                r = apid__fail(APID_ESYS, errno, "NSS snapshot %s: %s", path, strerror(errno));
        if (r < 0)
                unlink(tmp);
        return r;
}
