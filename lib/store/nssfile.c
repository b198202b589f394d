/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NSS snapshot: a file beside the registry that libnss_apppoolid (and
 * the library's own lookups) read, so that getent, id, ls and ps show pool
 * identities without loading SQLite into every process. Its format, indexed
 * and checked by every reader, is lib/store/snapshot.h. It is built inside
 * every registry write transaction and published, atomically, after its
 * COMMIT, with the registry's generation number in its header.
 *
 * For each pool (and provisioned LocalService/NetworkService account): a
 * user (gecos its account name, home its profile or /nonexistent, key its
 * canonical pool name) and a group of the same name and id; and the
 * provisioned shared group, every pool user a member. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "store/snapshot.h"

#define NO_HOME "/nonexistent"

/* One user of the snapshot, its strings owned here. */
struct user {
        char *gecos, *home, *key;
        char name[33];
        char sid[APID_SID_MAX_STRING + 1];
        uint32_t uid;
};

struct snap {
        apid_ctx *ctx;
        int delta;       /* building a delta: members come from members_all() */
        struct sqlite3 *db;
        struct user *users;
        size_t n_users;
        char *members;   /* pool users, for the provisioned shared group */
        size_t members_len;
        char shared[33]; /* the provisioned shared group's name, if any */
        uint32_t shared_gid;
        uint64_t generation;
        uint32_t *gone;  /* a delta's uids (and gids) with no record any more */
        size_t n_gone;
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

static int add_record(const struct apid__posix_record *a, const char *pool_name, int loads_profile, void *arg)
{
        struct snap *s = arg;
        _cleanup_free_ char *key = NULL;
        _cleanup_free_ char *home = NULL;
        char account[APID_POOL_NAME_MAX * 4 + 16];
        struct user *u;
        const char *gecos;
        int r;

        if (a->kind == APID__POSIX_GROUP) {
                snprintf(s->shared, sizeof(s->shared), "%s", a->user);
                s->shared_gid = a->uid;
                return APID_OK;
        }
        if (a->kind == APID__POSIX_POOL && !pool_name)
                return APID_OK; /* a deleted pool: its uid stays reserved, but it is no account */
        /* A record an older library imported unchecked ("../x", a uid below
         * the range): never published, and it does not stop every write. */
        if (!apid__posix_name_valid(a->user) || a->uid < 65536 || a->uid > 2147483647u) {
                apid__log(s->ctx, APID_LOG_WARNING, "NSS snapshot: id record %s (uid %u) left out: not a valid name "
                          "or id", a->sid, a->uid);
                return APID_OK;
        }
        if (a->kind == APID__POSIX_POOL) {
                r = apid_pool_name_canonical(pool_name, &key);
                if (r < 0)
                        return r;
                snprintf(account, sizeof(account), APID_POOL_DOMAIN "\\%s", pool_name);
                gecos = account;
                r = s->delta ? APID_OK : add_member(s, a->user);
                if (r < 0)
                        return r;
        } else {
                const struct apid__builtin *b = apid__builtin_by_sid(a->sid);

                gecos = b ? b->account : a->sid; /* account.c's table; a record's checks keep it built in */
        }
        if (loads_profile) {
                r = apid__profile_path(s->ctx, s->db, a->user, &home);
                if (r < 0)
                        return r;
        }
        u = realloc(s->users, (s->n_users + 1) * sizeof(*u));
        if (!u)
                return apid__fail_oom();
        s->users = u;
        u += s->n_users;
        memset(u, 0, sizeof(*u));
        u->gecos = strdup(gecos);
        u->home = strdup(home ? home : NO_HOME);
        u->key = strdup(key ? key : "");
        s->n_users++;
        if (!u->gecos || !u->home || !u->key)
                return apid__fail_oom();
        snprintf(u->name, sizeof(u->name), "%s", a->user);
        snprintf(u->sid, sizeof(u->sid), "%s", a->sid);
        u->uid = a->uid;
        return APID_OK;
}

static void snap_clear(struct snap *s)
{
        size_t i;

        for (i = 0; i < s->n_users; i++) {
                free(s->users[i].gecos);
                free(s->users[i].home);
                free(s->users[i].key);
        }
        free(s->users);
        free(s->members);
        free(s->gone);
}

/* Build the snapshot of s's accounts. */
static int encode(struct snap *s, struct apid__nss_build *out)
{
        _cleanup_free_ struct apid__snap_user_in *users = calloc(s->n_users + 1, sizeof(*users));
        _cleanup_free_ struct apid__snap_group_in *groups = calloc(s->n_users + 2, sizeof(*groups));
        size_t i, n_groups = 0;
        void *data;
        int r;

        if (!users || !groups)
                return apid__fail_oom();
        for (i = 0; i < s->n_users; i++) {
                const struct user *u = &s->users[i];

                users[i] = (struct apid__snap_user_in){ u->name, u->gecos, u->home, u->key, u->sid, u->uid };
                groups[n_groups++] = (struct apid__snap_group_in){ u->name, "", u->uid };
        }
        if (s->shared[0])
                groups[n_groups++] = (struct apid__snap_group_in){ s->shared, s->members ? s->members : "",
                                                                   s->shared_gid };
        if (out->base_generation)
                r = apid__snap_build_delta(users, s->n_users, groups, n_groups, s->gone, s->n_gone, s->gone, s->n_gone,
                                           s->generation, out->base_generation, APID__NSS_MAX_SNAPSHOT, &data,
                                           &out->size);
        else
                r = apid__snap_build(users, s->n_users, groups, n_groups, s->generation, APID__NSS_MAX_SNAPSHOT,
                                     &data, &out->size);
        if (r == -ENOMEM)
                return apid__fail_oom();
        /* No silent limit: a snapshot the module would not read is refused here. */
        if (r == -E2BIG)
                return apid__fail(APID_ERANGE, 0, "NSS snapshot: more than the %u bytes the NSS module reads",
                                  APID__NSS_MAX_SNAPSHOT);
        if (r < 0)
                return apid__fail(APID_EINVAL, 0, "NSS snapshot: an account the NSS module would refuse");
        out->data = data;
        return APID_OK;
}

/* ---- generation and publication ----
 *
 * Every write transaction bumps the generation (config row nss.generation)
 * and builds the snapshot of what it is about to commit, in memory: a
 * snapshot that cannot be built (too big, a bad profile path) rolls the
 * write back, as before. Only after COMMIT is it published (issue 17: it
 * used to be renamed into place before COMMIT, so a failed commit published
 * accounts that did not exist). Publishing takes the lock file, and writes
 * the snapshot only when its generation is newer than the one in place: two
 * writers that commit 5 then 6 and publish 6 then 5 leave 6. A writer killed
 * between COMMIT and publication leaves the previous generation, which the
 * next writer's newer one replaces. The file is written through O_TMPFILE
 * and linked in only when complete, so a writer killed mid-write leaves
 * nothing; a named temporary (no O_TMPFILE) is made only under the lock, and
 * the next publisher removes one left by a killed writer. */
#define GENERATION_ROW "nss.generation"
#define LOCK_FILE APID__NSS_FILE ".lock"
#define TEMP_FILE APID__NSS_FILE ".tmp"

static int bump_generation(struct sqlite3 *db, uint64_t *gen)
{
        _cleanup_free_ char *v = NULL;
        char text[24];
        uint64_t g = 0;
        int r;

        r = apid__reg_config_get(db, GENERATION_ROW, &v);
        if (r < 0 && r != APID_ENOTFOUND)
                return r;
        if (r == APID_OK)
                g = strtoull(v, NULL, 10);
        g++;
        snprintf(text, sizeof(text), "%llu", (unsigned long long)g);
        r = apid__reg_config_set(db, GENERATION_ROW, text);
        if (r < 0)
                return r;
        *gen = g;
        return APID_OK;
}

/* A delta: the records of the uids that changed since the base, the others
 * read from the base by readers (lib/store/snapshot.h). Each write costs
 * what changed since the last complete snapshot, not the registry's size;
 * past DELTA_MAX changes the next write builds a complete one again, so
 * the delta stays small (issue 17: pool add with 10,000 pools within 1.5x
 * of 100). The change list is kept in the registry by triggers, so a delta
 * also holds what a writer killed before publishing committed. */
#define DELTA_MAX 128
#define BASE_ROW "nss.base"

static int member_cb(const char *user, uint32_t uid, void *arg)
{
        /* The complete build's rule: a record that would not be published
         * is no member either. */
        if (!apid__posix_name_valid(user) || uid < 65536 || uid > 2147483647u)
                return APID_OK;
        return add_member(arg, user);
}

/* The uids of changed that got no user record: gone from the base. */
static int collect_gone(struct snap *s, const uint32_t *changed, size_t n)
{
        size_t i, j;

        s->gone = calloc(n + 1, sizeof(*s->gone));
        if (!s->gone)
                return apid__fail_oom();
        for (i = 0; i < n; i++) {
                int kept = s->shared[0] && s->shared_gid == changed[i];

                for (j = 0; j < s->n_users && !kept; j++)
                        kept = s->users[j].uid == changed[i];
                if (!kept)
                        s->gone[s->n_gone++] = changed[i];
        }
        return APID_OK;
}

/* 1 if the complete snapshot of generation base is in place as a base. */
static int base_usable(apid_ctx *ctx, uint64_t base)
{
        char head[4200], path[4200];
        struct apid__snap s;
        int ok;

        snprintf(head, sizeof(head), "%s/" APID__NSS_FILE, apid_ctx_get_state_dir(ctx));
        if (apid__snap_base_path(path, sizeof(path), head, base) < 0 ||
            apid__snap_open(path, 0, APID__NSS_MAX_SNAPSHOT, &s, NULL) < 0)
                return 0;
        ok = s.h->generation == base && s.h->base_generation == 0;
        apid__snap_close(&s);
        return ok;
}

static int build_delta(struct snap *s, const uint32_t *changed, size_t n)
{
        struct apid__posix_record g;
        int r;

        s->delta = 1;
        r = apid__reg_records_changed_each(s->db, add_record, s);
        if (r < 0)
                return r;
        /* The shared group lists every pool user: with one provisioned, the
         * delta carries it whole. */
        r = apid__reg_shared_group(s->db, &g);
        if (r == APID_OK && apid__posix_name_valid(g.user)) {
                snprintf(s->shared, sizeof(s->shared), "%s", g.user);
                s->shared_gid = g.uid;
                r = apid__reg_pool_users_each(s->db, member_cb, s);
        } else if (r == APID_ENOTFOUND) {
                r = APID_OK;
        }
        if (r < 0)
                return r;
        return collect_gone(s, changed, n);
}

int apid__nss_snapshot_build(apid_ctx *ctx, struct sqlite3 *db, struct apid__nss_build *out)
{
        _cleanup_free_ uint32_t *changed = NULL;
        _cleanup_free_ char *v = NULL;
        struct snap s;
        uint64_t base = 0;
        size_t n_changed = 0;
        int r, all = 0;

        memset(out, 0, sizeof(*out));
        r = bump_generation(db, &out->generation);
        if (r < 0)
                return r;
        r = apid__reg_config_get(db, BASE_ROW, &v);
        if (r < 0 && r != APID_ENOTFOUND)
                return r;
        if (r == APID_OK)
                base = strtoull(v, NULL, 10);
        r = apid__reg_snapshot_changes(db, &changed, &n_changed, &all);
        if (r < 0)
                return r;
        memset(&s, 0, sizeof(s));
        s.ctx = ctx;
        s.db = db;
        s.generation = out->generation;
        if (base && base < out->generation && !all && n_changed <= DELTA_MAX && base_usable(ctx, base)) {
                out->base_generation = base;
                r = build_delta(&s, changed, n_changed);
        } else {
                char text[24];

                snprintf(text, sizeof(text), "%llu", (unsigned long long)out->generation);
                r = apid__reg_config_set(db, BASE_ROW, text);
                if (r == APID_OK)
                        r = apid__reg_snapshot_changes_clear(db);
                if (r == APID_OK)
                        r = apid__reg_records_each(db, add_record, &s);
        }
        if (r == APID_OK)
                r = encode(&s, out);
        if (r == APID_OK && apid__store_launch_builder())
                r = apid__store_launch_builder()(ctx, db, out->generation, changed, n_changed, all, &out->launch,
                                                 &out->launch_size);
        snap_clear(&s);
        if (r < 0) {
                free(out->data);
                free(out->launch);
                memset(out, 0, sizeof(*out));
        }
        return r;
}

void apid__nss_build_clear(struct apid__nss_build *b)
{
        free(b->data);
        free(b->launch);
        memset(b, 0, sizeof(*b));
}

int apid__nss_generation_get(struct sqlite3 *db, uint64_t *gen)
{
        _cleanup_free_ char *v = NULL;
        int r = apid__reg_config_get(db, GENERATION_ROW, &v);

        *gen = 0;
        if (r == APID_ENOTFOUND)
                return APID_OK;
        if (r == APID_OK)
                *gen = strtoull(v, NULL, 10);
        return r;
}

/* The head in place, its header only (a head whose base is missing still
 * says how new it is, and mapping a complete one costs nothing per record):
 * *gen its generation, *base the base it needs (its own generation when it
 * is complete). Both 0 when there is none, or not one readers would take. */
static void head_in_place(int dirfd, uint64_t *gen, uint64_t *base)
{
        struct apid__snap s;
        struct stat st;
        void *p;
        int fd = openat(dirfd, APID__NSS_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

        *gen = *base = 0;
        if (fd < 0)
                return;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
            (uint64_t)st.st_size <= APID__NSS_MAX_SNAPSHOT) {
                p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
                if (p != MAP_FAILED) {
                        if (apid__snap_check(p, (size_t)st.st_size, &s) == 0) {
                                *gen = s.h->generation;
                                *base = s.h->base_generation ? s.h->base_generation : s.h->generation;
                        }
                        munmap(p, (size_t)st.st_size);
                }
        }
        close(fd);
}

#define BASE_PREFIX APID__NSS_FILE ".base-"

/* Remove what a publisher killed mid-write left: the named temporary, and
 * the mkstemp() names ("nss-snapshot.XXXXXX") of older versions; and every
 * base but keep (the one the head in place needs; 0: none). Only under the
 * lock, which every publisher holds while it has a temporary. A reader that
 * read the head before it was replaced may find its base gone: it reads
 * the head again (apid__snap_open). */
static void remove_litter(int dirfd, uint64_t keep)
{
        DIR *d;
        struct dirent *e;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        while ((e = readdir(d))) {
                const char *n = e->d_name;
                size_t base = strlen(APID__NSS_FILE ".");

                if (strncmp(n, APID__NSS_FILE ".", base) != 0 || strcmp(n, LOCK_FILE) == 0)
                        continue;
                if (strncmp(n, BASE_PREFIX, strlen(BASE_PREFIX)) == 0) {
                        char *end;
                        unsigned long long g = strtoull(n + strlen(BASE_PREFIX), &end, 10);

                        if (*end == '\0' && g != keep)
                                (void)unlinkat(dirfd, n, 0);
                        continue;
                }
                if (strcmp(n, TEMP_FILE) == 0 || strlen(n + base) == 6)
                        (void)unlinkat(dirfd, n, 0);
        }
        closedir(d);
}

/* Write b into a new TEMP_FILE in dirfd, complete and synced. */
static int write_temp(int dirfd, const struct apid__nss_build *b)
{
        return apid__write_temp_at(dirfd, TEMP_FILE, 0644, b->data, b->size);
}

int apid__nss_snapshot_publish(apid_ctx *ctx, const struct apid__nss_build *b)
{
        const char *dir = apid_ctx_get_state_dir(ctx);
        char base[64];
        uint64_t head_gen, head_base_gen;
        int dirfd, lockfd = -1, r = APID_OK;

        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return apid__fail(APID_ESYS, errno, "NSS snapshot in %s: %s", dir, strerror(errno));
        lockfd = openat(dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0) {
                r = apid__fail(APID_ESYS, errno, "NSS snapshot lock %s/%s: %s", dir, LOCK_FILE, strerror(errno));
                goto out;
        }
        head_in_place(dirfd, &head_gen, &head_base_gen);
        remove_litter(dirfd, head_base_gen);
        if (head_gen >= b->generation)
                goto out; /* a later writer published already: its snapshot holds ours */
        snprintf(base, sizeof(base), BASE_PREFIX "%llu",
                 (unsigned long long)(b->base_generation ? b->base_generation : b->generation));
        /* A delta needs its base in place (a base only goes when a head that
         * does not need it is in place, and that head is newer than this). */
        if (b->base_generation && faccessat(dirfd, base, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                r = apid__fail(APID_ESYS, errno, "NSS snapshot %s/%s: the base of generation %llu: %s", dir,
                               APID__NSS_FILE, (unsigned long long)b->generation, strerror(errno));
                goto out;
        }
        /* The launch settings of the same generation first, so that they
         * are in place when readers see the snapshot (they use them only
         * when the generations agree). Not there: launches ask SQLite. */
        if (b->launch && apid__launch_publish(dir, dirfd, b->launch, b->launch_size) < 0)
                apid__log(ctx, APID_LOG_WARNING, "%s (launches read the registry until the next change)",
                          apid_error_message());
        /* A complete snapshot is linked in as the base of the deltas that
         * follow, then as the head: the same file, written once. */
        if (write_temp(dirfd, b) < 0) {
                r = apid__fail(APID_ESYS, errno, "NSS snapshot %s/%s: %s", dir, APID__NSS_FILE, strerror(errno));
                goto out;
        }
        if (!b->base_generation && linkat(dirfd, TEMP_FILE, dirfd, base, 0) < 0) {
                r = apid__fail(APID_ESYS, errno, "NSS snapshot %s/%s: %s", dir, base, strerror(errno));
                (void)unlinkat(dirfd, TEMP_FILE, 0);
                goto out;
        }
        if (renameat(dirfd, TEMP_FILE, dirfd, APID__NSS_FILE) < 0) {
                r = apid__fail(APID_ESYS, errno, "NSS snapshot %s/%s: %s", dir, APID__NSS_FILE, strerror(errno));
                (void)unlinkat(dirfd, TEMP_FILE, 0);
                if (!b->base_generation)
                        (void)unlinkat(dirfd, base, 0); /* no head needs it */
                goto out;
        }
        (void)fsync(dirfd); /* the rename, durable */
        remove_litter(dirfd, b->base_generation ? b->base_generation : b->generation);
        apid__log(ctx, APID_LOG_DEBUG, "NSS snapshot generation %llu published (%s)",
                  (unsigned long long)b->generation, b->base_generation ? "delta" : "complete");
out:
        if (lockfd >= 0)
                close(lockfd); /* drops the lock */
        close(dirfd);
        return r;
}
