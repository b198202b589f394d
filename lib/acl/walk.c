/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One walk for every tree operation (apply, reset, dry run, save): through
 * directory descriptors, never following a symbolic link (every directory is
 * entered with openat(O_NOFOLLOW | O_DIRECTORY) relative to its parent's
 * descriptor), to a depth the caller sets. What cannot be walked is handed
 * to the caller as an event naming the path, the step and the errno, and the
 * walk goes on unless the caller says stop: an entry that changes under the
 * walk (a name swapped for a link or another kind of file, or gone) is an
 * event of its own, so a race inside the tree never ends the rest of it.
 *
 * The walk keeps one open directory per level, on the heap (no recursion,
 * no path buffer per level); with several threads, they share the top's
 * subdirectories and each walks its own subtrees. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "acl-internal.h"

#define MAX_THREADS 8

struct run {
        const struct apid__walker *w;
        int stop;   /* set once a callback said stop; read without a lock (a late stop costs an entry) */
        int status; /* the first status < 0, under lock */
        pthread_mutex_t lock;
};

/* The path of the entry being looked at, grown on the heap. */
struct path {
        char *s;
        size_t len, cap;
};

static int stopped(struct run *run)
{
        return __atomic_load_n(&run->stop, __ATOMIC_RELAXED);
}

static int stop_with(struct run *run, int status)
{
        if (status < 0) {
                pthread_mutex_lock(&run->lock);
                if (!run->status)
                        run->status = status;
                pthread_mutex_unlock(&run->lock);
                __atomic_store_n(&run->stop, 1, __ATOMIC_RELAXED);
        }
        return status;
}

int apid__walk_status(int err)
{
        return err == ENOENT ? APID_ENOTFOUND : err == EACCES || err == EPERM ? APID_EPERM
               : err == ENOMEM ? APID_ENOMEM : APID_ESYS;
}

void apid__walk_event_format(const struct apid__walk_event *ev, char *buf, size_t size)
{
        snprintf(buf, size, "%s: %s: %s", ev->rel, ev->step, ev->why ? ev->why : strerror(ev->err));
}

static int event(struct run *run, int kind, const char *rel, const char *step, int err, const char *why)
{
        struct apid__walk_event ev = { kind, rel, step, err, why };

        return stop_with(run, run->w->event(run->w->data, &ev));
}

static int path_reserve(struct path *p, size_t need)
{
        size_t cap = p->cap ? p->cap : 256;
        char *grown;

        if (need <= p->cap)
                return 0;
        while (cap < need)
                cap *= 2;
        grown = realloc(p->s, cap);
        if (!grown)
                return -1;
        p->s = grown;
        p->cap = cap;
        return 0;
}

static int path_copy(struct path *p, const char *s)
{
        size_t n = strlen(s);

        if (path_reserve(p, n + 1) < 0)
                return -1;
        memcpy(p->s, s, n + 1);
        p->len = n;
        return 0;
}

/* path := its first base bytes, '/', name (just name when base is 0: the
 * children of a bare top). */
static int path_set(struct path *p, size_t base, const char *name)
{
        size_t n = strlen(name);

        if (path_reserve(p, base + 1 + n + 1) < 0)
                return -1;
        if (base == 0) {
                memcpy(p->s, name, n + 1);
                p->len = n;
        } else {
                p->s[base] = '/';
                memcpy(p->s + base + 1, name, n + 1);
                p->len = base + 1 + n;
        }
        return 0;
}

/* What an entry is: 1 a directory, 0 a file, -1 neither (event sent), -2 gone or failed (event sent). */
static int classify(struct run *run, int dfd, const struct dirent *de, const char *rel, struct stat *st,
                    int *have_st)
{
        unsigned char type = de->d_type;

        *have_st = 0;
        if (type == DT_UNKNOWN || (run->w->flags & APID__WALK_STAT)) {
                if (fstatat(dfd, de->d_name, st, AT_SYMLINK_NOFOLLOW) < 0) {
                        int err = errno;

                        event(run, err == ENOENT ? APID__WALK_CHANGED : APID__WALK_ERROR, rel, "stat", err,
                              err == ENOENT ? "vanished during the walk" : NULL);
                        return -2;
                }
                *have_st = 1;
                type = S_ISDIR(st->st_mode) ? DT_DIR : S_ISREG(st->st_mode) ? DT_REG : S_ISLNK(st->st_mode) ? DT_LNK
                                                                                                           : DT_CHR;
        }
        if (type == DT_DIR)
                return 1;
        if (type == DT_REG)
                return 0;
        event(run, APID__WALK_NOT_FILE, rel, "type", 0, type == DT_LNK ? "symbolic link" : "special file");
        return -1;
}

/* Open a directory to enter, never following: a directory swapped for a
 * link (or a file) since it was listed makes O_NOFOLLOW | O_DIRECTORY fail,
 * which is reported as a change, not followed. NULL: event sent. */
static DIR *enter(struct run *run, int dfd, const char *name, const char *rel, unsigned depth)
{
        int fd, err;
        DIR *d;

        if (depth > run->w->max_depth) {
                char why[96];

                snprintf(why, sizeof(why), "nested deeper than the limit of %u directory levels; not entered",
                         run->w->max_depth);
                event(run, APID__WALK_ERROR, rel, "depth", 0, why);
                return NULL;
        }
        fd = apid__open_nofollow(dfd, name, 1);
        if (fd < 0) {
                err = errno;
                if (err == ELOOP || err == ENOTDIR)
                        event(run, APID__WALK_CHANGED, rel, "cannot descend", err,
                              "no longer a directory (not followed)");
                else if (err == ENOENT)
                        event(run, APID__WALK_CHANGED, rel, "cannot descend", err, "vanished during the walk");
                else
                        event(run, APID__WALK_ERROR, rel, "cannot descend", err, NULL);
                return NULL;
        }
        d = fdopendir(fd);
        if (!d) {
                err = errno;
                close(fd);
                event(run, APID__WALK_ERROR, rel, "cannot descend", err, NULL);
        }
        return d;
}

struct level {
        DIR *d;
        size_t len; /* the length of its path */
};

/* Walk below the directory top (already visited, at depth), whose path is
 * p->s; takes top. */
static void walk_below(struct run *run, void *local, DIR *top, struct path *p, unsigned depth)
{
        size_t n = 0, cap = 16;
        struct level *stack = malloc(cap * sizeof(*stack));
        if (!stack) {
                closedir(top);
                event(run, APID__WALK_ERROR, p->len ? p->s : ".", "walking", ENOMEM, NULL);
                return;
        }
        stack[n++] = (struct level){ top, p->len };
        while (n > 0) {
                struct level *lv = &stack[n - 1];
                struct apid__walk_entry en;
                struct dirent *de;
                struct stat st;
                int kind, have_st, r;
                DIR *sub;

                if (stopped(run)) {
                        closedir(lv->d);
                        n--;
                        continue;
                }
                errno = 0;
                de = readdir(lv->d);
                if (!de) {
                        /* readdir() returns NULL at the end and on an error: errno tells. */
                        int err = errno;

                        if (err) {
                                p->s[lv->len] = '\0';
                                event(run, APID__WALK_ERROR, lv->len ? p->s : ".", "reading the directory", err,
                                      NULL);
                        }
                        closedir(lv->d);
                        n--;
                        continue;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (path_set(p, lv->len, de->d_name) < 0) {
                        p->s[lv->len] = '\0';
                        event(run, APID__WALK_ERROR, lv->len ? p->s : ".", "walking", ENOMEM, NULL);
                        continue;
                }
                kind = classify(run, dirfd(lv->d), de, p->s, &st, &have_st);
                if (kind < 0)
                        continue;
                en.dirfd = dirfd(lv->d);
                en.name = de->d_name;
                en.rel = p->s;
                en.is_dir = kind;
                en.st = have_st ? &st : NULL;
                r = stop_with(run, run->w->visit(run->w->data, local, &en));
                if (r != APID_OK || !kind)
                        continue;
                sub = enter(run, dirfd(lv->d), de->d_name, p->s, depth + (unsigned)n);
                if (!sub)
                        continue;
                if (n == cap) {
                        struct level *grown = realloc(stack, 2 * cap * sizeof(*stack));

                        if (!grown) {
                                closedir(sub);
                                event(run, APID__WALK_ERROR, p->s, "walking", ENOMEM, NULL);
                                continue;
                        }
                        stack = grown;
                        cap *= 2;
                }
                stack[n++] = (struct level){ sub, p->len };
        }
        free(stack);
}

/* Several threads: the top's files are visited here, its subdirectories
 * shared by the workers. */
struct share {
        struct run *run;
        int topfd;
        const char *top_rel;
        const char *prefix; /* of its children's paths: top_rel, or "" for a bare top */
        char **names;
        size_t n, next;
        pthread_mutex_t lock;
};

static void *worker(void *arg)
{
        struct share *sh = arg;
        struct run *run = sh->run;
        void *local = run->w->local_new ? run->w->local_new(run->w->data) : NULL;
        struct path p = { NULL, 0, 0 };

        if (run->w->local_new && !local) {
                event(run, APID__WALK_ERROR, sh->top_rel, "walking", ENOMEM, NULL);
                return NULL;
        }
        for (;;) {
                struct apid__walk_entry en;
                struct stat st;
                const char *name;
                DIR *sub;

                pthread_mutex_lock(&sh->lock);
                name = sh->next < sh->n ? sh->names[sh->next++] : NULL;
                pthread_mutex_unlock(&sh->lock);
                if (!name || stopped(run))
                        break;
                if (path_copy(&p, sh->prefix) < 0 || path_set(&p, p.len, name) < 0) {
                        event(run, APID__WALK_ERROR, sh->top_rel, "walking", ENOMEM, NULL);
                        break;
                }
                en = (struct apid__walk_entry){ sh->topfd, name, p.s, 1, NULL };
                if (run->w->flags & APID__WALK_STAT) {
                        if (fstatat(sh->topfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                int err = errno;

                                event(run, err == ENOENT ? APID__WALK_CHANGED : APID__WALK_ERROR, p.s, "stat", err,
                                      err == ENOENT ? "vanished during the walk" : NULL);
                                continue;
                        }
                        if (!S_ISDIR(st.st_mode)) {
                                event(run, APID__WALK_CHANGED, p.s, "stat", 0, "no longer a directory");
                                continue;
                        }
                        en.st = &st;
                }
                if (stop_with(run, run->w->visit(run->w->data, local, &en)) != APID_OK)
                        continue;
                sub = enter(run, sh->topfd, name, p.s, 1);
                if (sub)
                        walk_below(run, local, sub, &p, 1);
        }
        free(p.s);
        if (run->w->local_free)
                run->w->local_free(run->w->data, local);
        return NULL;
}

static void walk_shared(struct run *run, void *local, DIR *top, const char *top_rel, const char *prefix,
                        struct path *p)
{
        struct share sh;
        pthread_t threads[MAX_THREADS];
        unsigned i, started = 0, want = run->w->threads > MAX_THREADS ? MAX_THREADS : run->w->threads;
        struct dirent *de;
        size_t k;

        memset(&sh, 0, sizeof(sh));
        sh.run = run;
        sh.topfd = dirfd(top);
        sh.top_rel = top_rel;
        sh.prefix = prefix;
        pthread_mutex_init(&sh.lock, NULL);
        while (!stopped(run)) {
                struct apid__walk_entry en;
                struct stat st;
                int kind, have_st;

                errno = 0;
                de = readdir(top);
                if (!de) {
                        if (errno)
                                event(run, APID__WALK_ERROR, top_rel, "reading the directory", errno, NULL);
                        break;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                {
                        size_t base = p->len;
                        char *rel;

                        if (path_set(p, base, de->d_name) < 0) {
                                event(run, APID__WALK_ERROR, sh.top_rel, "walking", ENOMEM, NULL);
                                p->s[base] = '\0', p->len = base;
                                break;
                        }
                        rel = p->s;
                        kind = classify(run, sh.topfd, de, rel, &st, &have_st);
                        if (kind == 0) {
                                en = (struct apid__walk_entry){ sh.topfd, de->d_name, rel, 0, have_st ? &st : NULL };
                                stop_with(run, run->w->visit(run->w->data, local, &en));
                        }
                        p->s[base] = '\0', p->len = base;
                }
                if (kind == 1) {
                        char **grown = realloc(sh.names, (sh.n + 1) * sizeof(char *));

                        if (!grown || !(grown[sh.n] = strdup(de->d_name))) {
                                sh.names = grown ? grown : sh.names;
                                event(run, APID__WALK_ERROR, top_rel, "walking", ENOMEM, NULL);
                                break;
                        }
                        sh.names = grown;
                        sh.n++;
                }
        }
        if (!stopped(run)) {
                for (i = 0; i < want && i < sh.n; i++)
                        if (pthread_create(&threads[i], NULL, worker, &sh) == 0)
                                started++;
                if (started == 0)
                        worker(&sh);
                for (i = 0; i < started; i++)
                        pthread_join(threads[i], NULL);
        }
        for (k = 0; k < sh.n; k++)
                free(sh.names[k]);
        free(sh.names);
        pthread_mutex_destroy(&sh.lock);
        closedir(top);
}

int apid__walk(const struct apid__walker *w, int pfd, const char *base, const char *top_rel, const struct stat *st)
{
        struct run run;
        struct path p = { NULL, 0, 0 };
        struct apid__walk_entry en = { pfd, base, top_rel, S_ISDIR(st->st_mode), st };
        const char *prefix;
        void *local = NULL;
        DIR *top;
        int r;

        memset(&run, 0, sizeof(run));
        run.w = w;
        pthread_mutex_init(&run.lock, NULL);
        if (w->local_new && !(local = w->local_new(w->data))) {
                r = apid__fail_oom();
                goto out;
        }
        r = stop_with(&run, w->visit(w->data, local, &en));
        if (r != APID_OK || !en.is_dir || !(w->flags & APID__WALK_RECURSIVE))
                goto out;
        prefix = (w->flags & APID__WALK_BARE_TOP) && strcmp(top_rel, ".") == 0 ? "" : top_rel;
        if (path_copy(&p, prefix) < 0) {
                r = stop_with(&run, apid__fail_oom());
                goto out;
        }
        top = enter(&run, pfd, base, top_rel, 0);
        if (top && w->threads > 1)
                walk_shared(&run, local, top, top_rel, prefix, &p);
        else if (top)
                walk_below(&run, local, top, &p, 0);
out:
        if (local && w->local_free)
                w->local_free(w->data, local);
        free(p.s);
        r = run.status < 0 ? run.status : r < 0 ? r : APID_OK;
        pthread_mutex_destroy(&run.lock);
        return r;
}
