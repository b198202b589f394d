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

static int user(struct query *q, const char *what, struct apid__nss_user *out)
{
        _cleanup_free_ char *buf = NULL;
        int r = run(q, &buf, what);

        if (r < 0 || !out)
                return r;
        memset(out, 0, sizeof(*out));
        out->uid = (uint32_t)q->pw.pw_uid;
        out->gid = (uint32_t)q->pw.pw_gid;
        r = copy3(&out->name, q->pw.pw_name, &out->gecos, q->pw.pw_gecos, &out->dir, q->pw.pw_dir);
        if (r < 0)
                apid__nss_user_clear(out);
        return r;
}

static int group(struct query *q, const char *what, struct apid__nss_group *out)
{
        _cleanup_free_ char *buf = NULL;
        int r = run(q, &buf, what);

        if (r < 0 || !out)
                return r;
        memset(out, 0, sizeof(*out));
        out->gid = (uint32_t)q->gr.gr_gid;
        out->name = strdup(q->gr.gr_name ? q->gr.gr_name : "");
        return out->name ? APID_OK : apid__fail_oom();
}

int apid__nss_user_by_name(const char *name, struct apid__nss_user *out)
{
        struct query q = { .kind = 0, .name = name };
        char what[160];

        apid__quote(what + 5, sizeof(what) - 5, name, 64);
        memcpy(what, "user ", 5);
        return user(&q, what, out);
}

int apid__nss_user_by_uid(uint32_t uid, struct apid__nss_user *out)
{
        struct query q = { .kind = 1, .id = uid };
        char what[32];

        snprintf(what, sizeof(what), "uid %u", uid);
        return user(&q, what, out);
}

int apid__nss_group_by_name(const char *name, struct apid__nss_group *out)
{
        struct query q = { .kind = 2, .name = name };
        char what[160];

        apid__quote(what + 6, sizeof(what) - 6, name, 64);
        memcpy(what, "group ", 6);
        return group(&q, what, out);
}

int apid__nss_group_by_gid(uint32_t gid, struct apid__nss_group *out)
{
        struct query q = { .kind = 3, .id = gid };
        char what[32];

        snprintf(what, sizeof(what), "gid %u", gid);
        return group(&q, what, out);
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
