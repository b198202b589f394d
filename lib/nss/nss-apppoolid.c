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
 * - takes no lock and never waits: a missing snapshot is "not found" at the
 *   cost of one failed open(); the open is O_NONBLOCK, so a FIFO or a device
 *   put in the snapshot's place cannot block it (issue 15), and fstat()
 *   refuses anything but a regular file before a byte is read;
 * - reads lines of any length the library writes (the shared group's
 *   member list grows with the pool count), up to the snapshot's size cap.
 * Lines are checked by the same rules the library writes them with. */
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

#ifndef APID_NSS_SNAPSHOT
#error "APID_NSS_SNAPSHOT must be set by the build"
#endif

#define MAGIC "apppoolid-nss 1\n"
#define MAX_SNAPSHOT APID__NSS_MAX_SNAPSHOT
#define MIN_ID 65536u
#define MAX_ID 2147483647u
#define SHELL "/usr/sbin/nologin"
#define PASSWD "*"

#define EXPORT __attribute__((visibility("default")))

struct snapshot {
        char *data;
        size_t size;
};

static int snapshot_open(struct snapshot *s)
{
        struct stat st;
        int fd;
        void *p;

        fd = open(APID_NSS_SNAPSHOT, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -1;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) ||
            st.st_size < (off_t)sizeof(MAGIC) - 1 || (uint64_t)st.st_size > MAX_SNAPSHOT) {
                close(fd);
                return -1;
        }
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (p == MAP_FAILED)
                return -1;
        s->data = p;
        s->size = (size_t)st.st_size;
        if (memcmp(s->data, MAGIC, sizeof(MAGIC) - 1) != 0) {
                munmap(s->data, s->size);
                return -1;
        }
        return 0;
}

static void snapshot_close(struct snapshot *s)
{
        if (s->data)
                munmap(s->data, s->size);
        s->data = NULL;
}

/* One parsed line. Fields point into a NUL-terminated copy. */
struct entry {
        char kind;
        char *name, *gecos, *home, *key, *members;
        uint32_t id;
};

static int valid_text(const char *s, size_t max)
{
        size_t n = strlen(s), i;

        if (n > max)
                return 0;
        for (i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == ':' || s[i] == 0x7f)
                        return 0;
        return 1;
}

static int parse_id(const char *s, uint32_t *out)
{
        uint64_t v = 0;
        size_t i;

        if (!s[0] || strlen(s) > 10 || (s[0] == '0' && s[1]))
                return 0;
        for (i = 0; s[i]; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return 0;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (v < MIN_ID || v > MAX_ID)
                return 0;
        *out = (uint32_t)v;
        return 1;
}

/* Parse line (a writable copy, NUL-terminated). 0 if malformed. */
static int parse_line(char *line, struct entry *e)
{
        char *f[7];
        size_t n = 0;
        char *p = line;
        uint32_t gid;

        while (n < 7) {
                f[n++] = p;
                p = strchr(p, '\t');
                if (!p)
                        break;
                *p++ = '\0';
        }
        if (p)
                return 0; /* too many fields */
        memset(e, 0, sizeof(*e));
        if (n == 7 && strcmp(f[0], "P") == 0) {
                if (!apid__posix_name_valid(f[1]) || !parse_id(f[2], &e->id) || !parse_id(f[3], &gid) || gid != e->id ||
                    !valid_text(f[4], 512) || f[5][0] != '/' || !valid_text(f[5], 4096) || !valid_text(f[6], 512))
                        return 0;
                e->kind = 'P';
                e->name = f[1];
                e->gecos = f[4];
                e->home = f[5];
                e->key = f[6];
                return 1;
        }
        if (n == 4 && strcmp(f[0], "G") == 0) {
                char *m;

                if (!apid__posix_name_valid(f[1]) || !parse_id(f[2], &e->id) || !valid_text(f[3], MAX_SNAPSHOT))
                        return 0;
                /* Every member a valid name: "a,,b", ",a" and "-x" are refused. */
                for (m = f[3]; *m;) {
                        char name[33];
                        size_t len = strcspn(m, ",");

                        if (len == 0 || len >= sizeof(name))
                                return 0;
                        memcpy(name, m, len);
                        name[len] = '\0';
                        if (!apid__posix_name_valid(name))
                                return 0;
                        m += len;
                        if (*m == ',' && !*++m)
                                return 0;
                }
                e->kind = 'G';
                e->name = f[1];
                e->members = f[3];
                return 1;
        }
        return 0;
}

/* What a lookup wants, checked on the raw line before it is copied and
 * parsed in full, so a lookup costs one pass of memchr/memcmp over the file. */
struct want {
        char kind;         /* 'P' or 'G' */
        const char *name;  /* field 1 */
        const char *id;    /* field 2, decimal */
        const char *key;   /* field 6 (P lines): the canonical pool name */
};

static int field_is(const char *line, size_t len, int field, const char *value)
{
        const char *p = line, *end = line + len, *tab;
        size_t n = strlen(value);
        int i;

        for (i = 0; i < field; i++) {
                p = memchr(p, '\t', (size_t)(end - p));
                if (!p)
                        return 0;
                p++;
        }
        tab = memchr(p, '\t', (size_t)(end - p));
        if (!tab)
                tab = end;
        return (size_t)(tab - p) == n && memcmp(p, value, n) == 0;
}

static int wanted(const struct want *w, const char *line, size_t len)
{
        if (len < 3 || line[0] != w->kind || line[1] != '\t')
                return 0;
        if (w->name)
                return field_is(line, len, 1, w->name);
        if (w->id)
                return field_is(line, len, 2, w->id);
        if (w->key)
                return field_is(line, len, 6, w->key);
        return 1;
}

/* Walk the snapshot; parse each wanted line in full (it is checked, never
 * trusted) and call match, which fills the result and returns an NSS status
 * other than NOTFOUND to stop. */
typedef enum nss_status (*match_fn)(const struct entry *e, void *arg);

/* Copy a raw line into a NUL-terminated buffer: the stack one for the usual
 * short line, the heap for a long one (no line is dropped for its length;
 * the snapshot's size cap bounds it). *line is set; free *heap afterwards.
 * 0 if the line holds a NUL byte or memory runs out. */
static int copy_line(const char *start, size_t len, char *stack, size_t stack_size, char **line, char **heap)
{
        char *buf = stack;

        *heap = NULL;
        if (memchr(start, '\0', len))
                return 0;
        if (len >= stack_size) {
                buf = *heap = malloc(len + 1);
                if (!buf)
                        return 0;
        }
        memcpy(buf, start, len);
        buf[len] = '\0';
        *line = buf;
        return 1;
}

static enum nss_status walk(const struct want *w, match_fn match, void *arg)
{
        struct snapshot s = { 0 };
        enum nss_status st = NSS_STATUS_NOTFOUND;
        size_t off = sizeof(MAGIC) - 1;
        char stack[1024];

        if (snapshot_open(&s) < 0)
                return NSS_STATUS_NOTFOUND;
        while (off < s.size && st == NSS_STATUS_NOTFOUND) {
                const char *start = s.data + off;
                const char *nl = memchr(start, '\n', s.size - off);
                size_t len = nl ? (size_t)(nl - start) : s.size - off;
                char *line, *heap;
                struct entry e;

                if (wanted(w, start, len) && copy_line(start, len, stack, sizeof(stack), &line, &heap)) {
                        if (parse_line(line, &e))
                                st = match(&e, arg);
                        free(heap);
                }
                off += len + 1;
        }
        snapshot_close(&s);
        return st;
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

struct query {
        const char *name;  /* by name */
        char *key;         /* by account name "IIS APPPOOL\x": canonical pool name */
        uint32_t id;       /* by id */
        void *result;
        char *buf;
        size_t len;
        int *errnop;
};

static enum nss_status match_passwd(const struct entry *e, void *arg)
{
        struct query *q = arg;

        if (q->key ? strcmp(e->key, q->key) != 0 : q->name ? strcmp(e->name, q->name) != 0 : e->id != q->id)
                return NSS_STATUS_NOTFOUND;
        return fill_passwd(e, q->result, q->buf, q->len, q->errnop);
}

static enum nss_status match_group(const struct entry *e, void *arg)
{
        struct query *q = arg;

        if (q->name ? strcmp(e->name, q->name) != 0 : e->id != q->id)
                return NSS_STATUS_NOTFOUND;
        return fill_group(e, q->result, q->buf, q->len, q->errnop);
}

EXPORT enum nss_status _nss_apppoolid_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len,
                                                 int *errnop);
EXPORT enum nss_status _nss_apppoolid_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len,
                                                 int *errnop)
{
        struct query q = { .name = name, .result = pw, .buf = buf, .len = len, .errnop = errnop };
        const char *slash = strchr(name, '\\');
        struct want w = { 0 };
        enum nss_status st;

        /* "IIS APPPOOL\<pool>" resolves too, with the pool name compared as IIS does. */
        if (slash && (size_t)(slash - name) == strlen(APID_POOL_DOMAIN) &&
            strncasecmp(name, APID_POOL_DOMAIN, strlen(APID_POOL_DOMAIN)) == 0) {
                if (apid_pool_name_canonical(slash + 1, &q.key) != APID_OK)
                        return NSS_STATUS_NOTFOUND;
        } else if (!apid__posix_name_valid(name)) {
                return NSS_STATUS_NOTFOUND;
        }
        w.kind = 'P';
        w.name = q.key ? NULL : name;
        w.key = q.key;
        st = walk(&w, match_passwd, &q);
        free(q.key);
        return st;
}

EXPORT enum nss_status _nss_apppoolid_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, int *errnop);
EXPORT enum nss_status _nss_apppoolid_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, int *errnop)
{
        struct query q = { .id = (uint32_t)uid, .result = pw, .buf = buf, .len = len, .errnop = errnop };
        char id[16];
        struct want w = { .kind = 'P', .id = id };

        if (uid < MIN_ID || uid > MAX_ID)
                return NSS_STATUS_NOTFOUND;
        snprintf(id, sizeof(id), "%u", (unsigned)uid);
        return walk(&w, match_passwd, &q);
}

/* The group of the pool an account name "IIS APPPOOL\<pool>" names: it has
 * the name of the pool's user (lib/nssfile.c). 0 when found. */
static enum nss_status match_pool_user(const struct entry *e, void *arg)
{
        snprintf(arg, 33, "%s", e->name);
        return NSS_STATUS_SUCCESS;
}

static int pool_group_of(const char *name, char out[33])
{
        const char *slash = strchr(name, '\\');
        struct want w = { .kind = 'P' };
        char *key = NULL;
        enum nss_status st;

        if (!slash || (size_t)(slash - name) != strlen(APID_POOL_DOMAIN) ||
            strncasecmp(name, APID_POOL_DOMAIN, strlen(APID_POOL_DOMAIN)) != 0 ||
            apid_pool_name_canonical(slash + 1, &key) != APID_OK)
                return -1;
        w.key = key;
        st = walk(&w, match_pool_user, out);
        free(key);
        return st == NSS_STATUS_SUCCESS ? 0 : -1;
}

EXPORT enum nss_status _nss_apppoolid_getgrnam_r(const char *name, struct group *gr, char *buf, size_t len,
                                                 int *errnop);
EXPORT enum nss_status _nss_apppoolid_getgrnam_r(const char *name, struct group *gr, char *buf, size_t len,
                                                 int *errnop)
{
        struct query q = { .name = name, .result = gr, .buf = buf, .len = len, .errnop = errnop };
        struct want w = { .kind = 'G', .name = name };
        char pool_group[33];

        if (pool_group_of(name, pool_group) == 0) /* "IIS APPPOOL\<pool>": the pool's group */
                q.name = w.name = pool_group;
        else if (!apid__posix_name_valid(name))
                return NSS_STATUS_NOTFOUND;
        return walk(&w, match_group, &q);
}

EXPORT enum nss_status _nss_apppoolid_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len, int *errnop);
EXPORT enum nss_status _nss_apppoolid_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len, int *errnop)
{
        struct query q = { .id = (uint32_t)gid, .result = gr, .buf = buf, .len = len, .errnop = errnop };
        char id[16];
        struct want w = { .kind = 'G', .id = id };

        if (gid < MIN_ID || gid > MAX_ID)
                return NSS_STATUS_NOTFOUND;
        snprintf(id, sizeof(id), "%u", (unsigned)gid);
        return walk(&w, match_group, &q);
}

/* ---- enumeration (getent passwd, getent group) ---- */

static pthread_mutex_t enum_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
        struct snapshot s;
        size_t off;
} pw_iter, gr_iter;

static enum nss_status iter_next(char kind, void *result, char *buf, size_t len, int *errnop)
{
        typeof(pw_iter) *it = kind == 'P' ? &pw_iter : &gr_iter;
        char stack[1024];

        if (!it->s.data) {
                if (snapshot_open(&it->s) < 0)
                        return NSS_STATUS_NOTFOUND;
                it->off = sizeof(MAGIC) - 1;
        }
        while (it->off < it->s.size) {
                const char *start = it->s.data + it->off;
                const char *nl = memchr(start, '\n', it->s.size - it->off);
                size_t l = nl ? (size_t)(nl - start) : it->s.size - it->off;
                struct entry e;
                enum nss_status st;
                char *line, *heap;

                if (l > 2 && start[0] == kind && copy_line(start, l, stack, sizeof(stack), &line, &heap)) {
                        if (parse_line(line, &e)) {
                                st = kind == 'P' ? fill_passwd(&e, result, buf, len, errnop)
                                                 : fill_group(&e, result, buf, len, errnop);
                                free(heap);
                                if (st == NSS_STATUS_SUCCESS)
                                        it->off += l + 1;
                                return st; /* TRYAGAIN/ERANGE: the same line again with a bigger buffer */
                        }
                        free(heap);
                }
                it->off += l + 1;
        }
        return NSS_STATUS_NOTFOUND;
}

#define ENUMERATION(db, kind, type)                                                                         \
        EXPORT enum nss_status _nss_apppoolid_set##db##ent(int stayopen);                                   \
        EXPORT enum nss_status _nss_apppoolid_set##db##ent(int stayopen)                                    \
        {                                                                                                    \
                (void)stayopen;                                                                              \
                pthread_mutex_lock(&enum_lock);                                                              \
                snapshot_close(&db##_iter.s);                                                                \
                pthread_mutex_unlock(&enum_lock);                                                            \
                return NSS_STATUS_SUCCESS;                                                                   \
        }                                                                                                    \
        EXPORT enum nss_status _nss_apppoolid_end##db##ent(void);                                           \
        EXPORT enum nss_status _nss_apppoolid_end##db##ent(void)                                            \
        {                                                                                                    \
                pthread_mutex_lock(&enum_lock);                                                              \
                snapshot_close(&db##_iter.s);                                                                \
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
