/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libnss_apppoolid: pool identities for getpwnam(), getpwuid(), getgrnam(),
 * getgrgid() and enumeration, so that getent, id, ls -l and ps show them by
 * name. Enable it by adding "apppoolid" to the passwd and group lines of
 * /etc/nsswitch.conf.
 *
 * It runs inside every process that looks up a user, setuid ones included,
 * so it:
 * - reads only the snapshot of the system state directory, fixed at build
 *   time (never an environment variable);
 * - trusts the file only when it is a regular file owned by root and not
 *   writable by anybody else, and trusts nothing in it: every field is
 *   checked, and it never answers for an id below 65536 (root, system and
 *   regular users cannot be shadowed through it);
 * - never waits: a missing snapshot is "not found" at the cost of one
 *   failed open(); the mapping is kept between lookups and checked with one
 *   stat() (snapshot_acquire), behind a trylock, never a wait; the open is O_NONBLOCK, so a FIFO or a device
 *   put in the snapshot's place cannot block it (issue 15), and fstat()
 *   refuses anything but a regular file before a byte is read;
 * - reads the snapshot's binary format (lib/store/snapshot.h) through the
 *   checked reader: header verified, every offset bounds-checked, every
 *   record checked by the rules the library writes it with, and looks up
 *   by bisection of its sorted indexes (no scan of the file per lookup). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../internal.h"
#include "../store/snapshot.h"

#ifndef APID_NSS_SNAPSHOT
#error "APID_NSS_SNAPSHOT must be set by the build"
#endif

#define MAX_SNAPSHOT APID__NSS_MAX_SNAPSHOT
#define SHELL "/usr/sbin/nologin"
#define PASSWD "*"

#define EXPORT __attribute__((visibility("default")))

/* The snapshot, mapped for one lookup (lib/store/snapshot.c checks its
 * header and bounds, and every record it hands out). */
static int snapshot_open(struct apid__snap *s)
{
        return apid__snap_open(APID_NSS_SNAPSHOT, 1, MAX_SNAPSHOT, s, NULL);
}

/* The mapping kept between lookups: the library replaces the snapshot by
 * rename, so a mapped one never changes under us; a stat() per lookup tells
 * whether the file in place is still the one mapped (device, inode, size,
 * mtime and ctime, which a chmod or chown changes too); if not, it is
 * opened and checked again as on a first lookup. A thread that finds the
 * cache busy (or a child forked while another thread held it) maps the
 * file for itself: no lookup waits on another. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct apid__snap cache;
static struct stat cache_st;

static int same_file(const struct stat *a, const struct stat *b)
{
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
               a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* A checked snapshot for one lookup; release it with snapshot_release(). */
static int snapshot_acquire(struct apid__snap *s, int *cached)
{
        struct stat st;

        *cached = 0;
        if (pthread_mutex_trylock(&cache_lock) != 0)
                return snapshot_open(s);
        if (!cache.data || stat(APID_NSS_SNAPSHOT, &st) < 0 || !same_file(&st, &cache_st)) {
                apid__snap_close(&cache);
                if (apid__snap_open(APID_NSS_SNAPSHOT, 1, MAX_SNAPSHOT, &cache, &cache_st) < 0) {
                        pthread_mutex_unlock(&cache_lock);
                        return -1;
                }
        }
        *s = cache;
        *cached = 1;
        return 0;
}

static void snapshot_release(struct apid__snap *s, int cached)
{
        if (cached)
                pthread_mutex_unlock(&cache_lock);
        else
                apid__snap_close(s);
}

/* One checked record, as the fill functions take it. */
struct entry {
        const char *name, *gecos, *home, *members;
        uint32_t id;
};

static void user_entry(const struct apid__snap_user *u, struct entry *e)
{
        *e = (struct entry){ .name = u->name, .gecos = u->gecos, .home = u->home, .id = u->uid };
}

static void group_entry(const struct apid__snap_group *g, struct entry *e)
{
        *e = (struct entry){ .name = g->name, .members = g->members, .id = g->gid };
}

/* ---- filling the caller's structures ---- */

static char *put(char **buf, size_t *left, const char *s)
{
        size_t n = strlen(s) + 1;
        char *p = *buf;

        if (n > *left)
                return NULL;
        memcpy(p, s, n);
        *buf += n;
        *left -= n;
        return p;
}

static enum nss_status fill_passwd(const struct entry *e, struct passwd *pw, char *buf, size_t len, int *errnop)
{
        if (!(pw->pw_name = put(&buf, &len, e->name)) || !(pw->pw_passwd = put(&buf, &len, PASSWD)) ||
            !(pw->pw_gecos = put(&buf, &len, e->gecos)) || !(pw->pw_dir = put(&buf, &len, e->home)) ||
            !(pw->pw_shell = put(&buf, &len, SHELL))) {
                *errnop = ERANGE;
                return NSS_STATUS_TRYAGAIN;
        }
        pw->pw_uid = (uid_t)e->id;
        pw->pw_gid = (gid_t)e->id;
        return NSS_STATUS_SUCCESS;
}

static enum nss_status fill_group(const struct entry *e, struct group *gr, char *buf, size_t len, int *errnop)
{
        size_t n = 0, i;
        const char *m;
        char **mem;
        uintptr_t align;

        for (m = e->members; *m; m++)
                n += *m == ',';
        n += e->members[0] ? 1 : 0;
        if (!(gr->gr_name = put(&buf, &len, e->name)) || !(gr->gr_passwd = put(&buf, &len, PASSWD)))
                goto range;
        align = (sizeof(char *) - ((uintptr_t)buf % sizeof(char *))) % sizeof(char *);
        if (len < align + (n + 1) * sizeof(char *))
                goto range;
        buf += align;
        len -= align;
        mem = (char **)(void *)buf;
        buf += (n + 1) * sizeof(char *);
        len -= (n + 1) * sizeof(char *);
        for (i = 0, m = e->members; i < n; i++) {
                size_t l = strcspn(m, ",");

                if (l + 1 > len)
                        goto range;
                memcpy(buf, m, l);
                buf[l] = '\0';
                mem[i] = buf;
                buf += l + 1;
                len -= l + 1;
                m += l + (m[l] == ',');
        }
        mem[n] = NULL;
        gr->gr_mem = mem;
        gr->gr_gid = (gid_t)e->id;
        return NSS_STATUS_SUCCESS;
range:
        *errnop = ERANGE;
        return NSS_STATUS_TRYAGAIN;
}

/* The canonical pool name of an account name "IIS APPPOOL\<pool>"
 * (malloc'd), compared as IIS does; NULL for any other name. */
static char *pool_key(const char *name)
{
        const char *slash = strchr(name, '\\');
        char *key = NULL;

        if (!slash || (size_t)(slash - name) != strlen(APID_POOL_DOMAIN) ||
            strncasecmp(name, APID_POOL_DOMAIN, strlen(APID_POOL_DOMAIN)) != 0 ||
            apid_pool_name_canonical(slash + 1, &key) != APID_OK)
                return NULL;
        return key;
}

/* The snapshot, mapped for one lookup by name (name: a POSIX name, or
 * "IIS APPPOOL\<pool>", whose canonical pool name is *key, malloc'd) or by
 * id (name NULL). 0, or -1 for a key that cannot be one of ours or no
 * snapshot (NOTFOUND either way). */
static int lookup_begin(const char *name, uint32_t id, char **key, struct apid__snap *s, int *cached)
{
        *key = name ? pool_key(name) : NULL;
        if (name ? (!*key && !apid__posix_name_valid(name)) || (*key && !(*key)[0])
                 : id < APID__SNAP_MIN_ID || id > APID__SNAP_MAX_ID) {
                free(*key);
                return -1;
        }
        if (snapshot_acquire(s, cached) < 0) {
                free(*key);
                return -1;
        }
        return 0;
}

/* getpwnam_r (name; "IIS APPPOOL\<pool>" resolves too) and getpwuid_r (name NULL). */
static enum nss_status passwd_lookup(const char *name, uint32_t uid, struct passwd *pw, char *buf, size_t len,
                                     int *errnop)
{
        struct apid__snap s;
        struct apid__snap_user u;
        struct entry e;
        enum nss_status st = NSS_STATUS_NOTFOUND;
        int cached;
        char *key;

        if (lookup_begin(name, uid, &key, &s, &cached) < 0)
                return NSS_STATUS_NOTFOUND;
        if (apid__snap_find_user(&s, key ? APID__SNAP_BY_KEY : name ? APID__SNAP_BY_NAME : APID__SNAP_BY_UID,
                                 key ? key : name, uid, &u) == 0) {
                user_entry(&u, &e);
                st = fill_passwd(&e, pw, buf, len, errnop);
        }
        snapshot_release(&s, cached);
        free(key);
        return st;
}

/* getgrnam_r (name; "IIS APPPOOL\<pool>": the pool's group, named as its
 * user) and getgrgid_r (name NULL). */
static enum nss_status group_lookup(const char *name, uint32_t gid, struct group *gr, char *buf, size_t len,
                                    int *errnop)
{
        struct apid__snap s;
        struct apid__snap_user u;
        struct apid__snap_group g;
        struct entry e;
        enum nss_status st = NSS_STATUS_NOTFOUND;
        int cached;
        char *key;

        if (lookup_begin(name, gid, &key, &s, &cached) < 0)
                return NSS_STATUS_NOTFOUND;
        if (key)
                name = apid__snap_find_user(&s, APID__SNAP_BY_KEY, key, 0, &u) == 0 ? u.name : NULL;
        if ((name || !key) &&
            apid__snap_find_group(&s, name ? APID__SNAP_BY_NAME : APID__SNAP_BY_UID, name, gid, &g) == 0) {
                group_entry(&g, &e);
                st = fill_group(&e, gr, buf, len, errnop);
        }
        snapshot_release(&s, cached);
        free(key);
        return st;
}

EXPORT enum nss_status _nss_apppoolid_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len,
                                                 int *errnop);
EXPORT enum nss_status _nss_apppoolid_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len,
                                                 int *errnop)
{
        return passwd_lookup(name, 0, pw, buf, len, errnop);
}

EXPORT enum nss_status _nss_apppoolid_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, int *errnop);
EXPORT enum nss_status _nss_apppoolid_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, int *errnop)
{
        return passwd_lookup(NULL, (uint32_t)uid, pw, buf, len, errnop);
}

EXPORT enum nss_status _nss_apppoolid_getgrnam_r(const char *name, struct group *gr, char *buf, size_t len,
                                                 int *errnop);
EXPORT enum nss_status _nss_apppoolid_getgrnam_r(const char *name, struct group *gr, char *buf, size_t len,
                                                 int *errnop)
{
        return group_lookup(name, 0, gr, buf, len, errnop);
}

EXPORT enum nss_status _nss_apppoolid_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len, int *errnop);
EXPORT enum nss_status _nss_apppoolid_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len, int *errnop)
{
        return group_lookup(NULL, (uint32_t)gid, gr, buf, len, errnop);
}

/* ---- enumeration (getent passwd, getent group) ---- */

static pthread_mutex_t enum_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
        struct apid__snap s;
        uint32_t next;
} pw_iter, gr_iter;

static enum nss_status iter_next(char kind, void *result, char *buf, size_t len, int *errnop)
{
        typeof(pw_iter) *it = kind == 'P' ? &pw_iter : &gr_iter;

        if (!it->s.data) {
                if (snapshot_open(&it->s) < 0)
                        return NSS_STATUS_NOTFOUND;
                it->next = 0;
        }
        for (;; it->next++) {
                struct apid__snap_user u;
                struct apid__snap_group g;
                struct entry e;
                enum nss_status st;

                if (it->next >= (kind == 'P' ? it->s.h->n_users : it->s.h->n_groups))
                        return NSS_STATUS_NOTFOUND;
                if (kind == 'P' ? apid__snap_user_at(&it->s, it->next, &u) < 0
                                : apid__snap_group_at(&it->s, it->next, &g) < 0)
                        continue; /* a record that fails the checks is skipped */
                if (kind == 'P')
                        user_entry(&u, &e);
                else
                        group_entry(&g, &e);
                st = kind == 'P' ? fill_passwd(&e, result, buf, len, errnop) : fill_group(&e, result, buf, len, errnop);
                if (st == NSS_STATUS_SUCCESS)
                        it->next++;
                return st; /* TRYAGAIN/ERANGE: the same record again with a bigger buffer */
        }
}

#define ENUMERATION(db, kind, type)                                                                         \
        EXPORT enum nss_status _nss_apppoolid_set##db##ent(int stayopen);                                   \
        EXPORT enum nss_status _nss_apppoolid_set##db##ent(int stayopen)                                    \
        {                                                                                                    \
                (void)stayopen;                                                                              \
                pthread_mutex_lock(&enum_lock);                                                              \
                apid__snap_close(&db##_iter.s);                                                                \
                pthread_mutex_unlock(&enum_lock);                                                            \
                return NSS_STATUS_SUCCESS;                                                                   \
        }                                                                                                    \
        EXPORT enum nss_status _nss_apppoolid_end##db##ent(void);                                           \
        EXPORT enum nss_status _nss_apppoolid_end##db##ent(void)                                            \
        {                                                                                                    \
                pthread_mutex_lock(&enum_lock);                                                              \
                apid__snap_close(&db##_iter.s);                                                                \
                pthread_mutex_unlock(&enum_lock);                                                            \
                return NSS_STATUS_SUCCESS;                                                                   \
        }                                                                                                    \
        EXPORT enum nss_status _nss_apppoolid_get##db##ent_r(type *result, char *buf, size_t len, int *errnop); \
        EXPORT enum nss_status _nss_apppoolid_get##db##ent_r(type *result, char *buf, size_t len, int *errnop)  \
        {                                                                                                    \
                enum nss_status st;                                                                          \
                pthread_mutex_lock(&enum_lock);                                                              \
                st = iter_next(kind, result, buf, len, errnop);                                              \
                pthread_mutex_unlock(&enum_lock);                                                            \
                return st;                                                                                   \
        }

ENUMERATION(pw, 'P', struct passwd)
ENUMERATION(gr, 'G', struct group)
