/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A directory root trusts (the state directory, the profile root) is only
 * as safe as the path to it: the user who can write any directory on the
 * way can rename what follows and put a symbolic link in its place, and
 * root then writes the registry, the NSS snapshot or a pool's profile
 * wherever the link points. (A pool owning /srv/apppool could swap
 * /srv/apppool/state while root's host held the registry open, and have
 * the next snapshot written into /etc.)
 *
 * So the path is walked from / one component at a time, each opened with
 * openat(O_PATH | O_NOFOLLOW) relative to the one before and checked by
 * fstat() of what was opened, and symbolic links are followed by hand, as
 * the kernel would, with the same checks for every component of their
 * targets. The rule, with "trusted" meaning root or this process's
 * effective uid (a non-root caller's own registry stays its own business):
 *
 *   1. Every directory the walk passes through and every symbolic link met
 *      belongs to a trusted user (the owner of a directory can always
 *      rename what it holds; a link owned by someone else was made by them).
 *   2. Every directory the walk passes through is not writable by group or
 *      others (POSIX ACL entries show in the group bits), unless it has the
 *      sticky bit: in a sticky directory only the owner of an entry (trusted
 *      by 1), the directory's owner (trusted by 1) and root may rename or
 *      remove it. That is what keeps /tmp/apid-XXXXXX safe, and /tmp/link
 *      made by another user not.
 *   3. The directory at the end is checked by the caller (the state
 *      directory: trusted owner, no group or other write at all).
 *
 * Learnt from OpenSSH's safe_path() (StrictModes: every component from the
 * file up, owned by root or the user, not group or world writable; after
 * realpath()) and systemd's chase() with CHASE_SAFE (a walk by openat that
 * refuses to step between owners); no code taken. Unlike safe_path this
 * checks what it opens, not a resolved string, and takes sticky
 * directories; unlike CHASE_SAFE it refuses an unprivileged owner anywhere
 * on the way, as root is the one being protected here. Once the whole path
 * passes, nobody but root and this user can change where it leads, so the
 * callers may go on using it by name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MAX_LINKS 32 /* the kernel's limit (MAXSYMLINKS is 40; 32 is plenty) */

struct walk {
        const char *path; /* as given, for messages */
        const char *what;
        char *real;       /* the physical path reached, malloc'd; "" for / */
        int fd;           /* O_PATH descriptor of real */
        struct stat st;
        int links_only;   /* rule 1 for links only (apid__open_dir_trusted_links) */
};

static int trusted(uid_t uid)
{
        return uid == 0 || uid == geteuid();
}

static const char *trusted_text(char *buf, size_t size)
{
        if (geteuid() == 0)
                return "root";
        snprintf(buf, size, "root or uid %u (this process)", (unsigned)geteuid());
        return buf;
}

static int refuse_owner(const struct walk *w, const char *kind, const char *name, const struct stat *st)
{
        char who[64];

        if (w->links_only)
                return apid__fail(APID_EPERM, 0,
                                  "%s %s: symbolic link %s is owned by uid %u: a link on the way must belong to %s, "
                                  "or its owner could point the path anywhere; name what it leads to instead",
                                  w->what, w->path, name, (unsigned)st->st_uid, trusted_text(who, sizeof(who)));
        return apid__fail(APID_EPERM, 0,
                          "%s %s: %s %s is owned by uid %u (mode %04o): every directory and symbolic link on the "
                          "way must belong to %s, or its owner could swap where the path leads",
                          w->what, w->path, kind, name[0] ? name : "/", (unsigned)st->st_uid,
                          (unsigned)(st->st_mode & 07777), trusted_text(who, sizeof(who)));
}

/* Rules 1 and 2, for the directory the walk is in, before it steps to a
 * child (the last directory is the caller's to check). */
static int check_passage(const struct walk *w)
{
        if (!trusted(w->st.st_uid))
                return refuse_owner(w, "directory", w->real, &w->st);
        if (!(w->st.st_mode & 022) || (w->st.st_mode & S_ISVTX))
                return APID_OK;
        return apid__fail(APID_EPERM, 0,
                          "%s %s: directory %s is writable by group or others (mode %04o, owner uid %u) without "
                          "the sticky bit: they could swap what it holds; chmod go-w %s (or +t)",
                          w->what, w->path, w->real[0] ? w->real : "/", (unsigned)(w->st.st_mode & 07777),
                          (unsigned)w->st.st_uid, w->real[0] ? w->real : "/");
}

/* Make fd (whose physical path is real, malloc'd) the current directory. */
static void enter(struct walk *w, int fd, char *real, const struct stat *st)
{
        if (w->fd >= 0)
                close(w->fd);
        free(w->real);
        w->fd = fd;
        w->real = real;
        w->st = *st;
}

static int sys_fail(const struct walk *w, const char *name)
{
        int e = errno;

        return apid__fail(e == ENOENT ? APID_ENOTFOUND : e == EACCES ? APID_EPERM : APID_ESYS, e, "%s %s: %s: %s",
                          w->what, w->path, name[0] ? name : "/", strerror(e));
}

/* One step from the current directory to its entry name; *todo is what is
 * left of the path after it (replaced by a link's target and the rest). */
static int step(struct walk *w, const char *name, char **todo, int *links)
{
        _cleanup_free_ char *child = NULL;
        struct stat st;
        int fd, r;

        if (strcmp(name, "..") == 0) { /* the parent of where we are, as the kernel takes it */
                const char *slash = strrchr(w->real, '/');

                child = strndup(w->real, slash ? (size_t)(slash - w->real) : 0);
        } else {
                r = w->links_only ? APID_OK : check_passage(w);
                if (r < 0)
                        return r;
                if (asprintf(&child, "%s/%s", w->real, name) < 0)
                        child = NULL;
        }
        if (!child)
                return apid__fail_oom();
        fd = openat(w->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return sys_fail(w, child);
        if (fstat(fd, &st) < 0) {
                r = sys_fail(w, child);
                close(fd);
                return r;
        }
        if (S_ISLNK(st.st_mode) && !trusted(st.st_uid)) {
                r = refuse_owner(w, "symbolic link", child, &st);
                close(fd);
                return r;
        }
        if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
                char *next;

                close(fd);
                if (n < 0)
                        return sys_fail(w, child);
                target[n] = '\0';
                if (++*links > MAX_LINKS) {
                        errno = ELOOP;
                        return sys_fail(w, child);
                }
                if (asprintf(&next, "%s/%s", target, *todo) < 0)
                        return apid__fail_oom();
                free(*todo);
                *todo = next;
                if (target[0] == '/') { /* from the root again */
                        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (fd < 0 || fstat(fd, &st) < 0)
                                return sys_fail(w, "/");
                        child[0] = '\0';
                        enter(w, fd, child, &st);
                        child = NULL;
                }
                return APID_OK;
        }
        if (!S_ISDIR(st.st_mode) && (*todo)[strspn(*todo, "/")]) {
                close(fd);
                errno = ENOTDIR;
                return sys_fail(w, child);
        } /* a file at the end: the caller says it is not a directory */
        enter(w, fd, child, &st);
        child = NULL;
        return APID_OK;
}

static int resolve(const char *path, const char *what, int links_only, char **real, struct stat *st, int *dirfd);

int apid__safe_dir(const char *path, const char *what, char **real, struct stat *st)
{
        return resolve(path, what, 0, real, st, NULL);
}

/* A directory named by an administrator, whose path may pass through
 * directories a pool can write (a grant inside a pool's tree): only rule 1
 * for symbolic links. A directory a pool may write can hold a link of the
 * pool's in place of the next component, and root would then edit ACLs
 * wherever it points (a recursive grant on /root through
 * /srv/pool/app -> /, seen); a link made by root or this user is followed.
 * Directories themselves cannot be swapped in by a pool but for ones it may
 * write already (renaming a directory needs write access to it). A relative
 * path starts at the working directory. */
int apid__open_dir_trusted_links(const char *path, const char *what, int *fd)
{
        _cleanup_free_ char *abs = NULL;
        struct stat st;
        int r, pfd = -1;

        *fd = -1;
        if (path[0] != '/') {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);

                if (!cwd)
                        return apid__fail(APID_ESYS, errno, "%s %s: the working directory: %s", what, path,
                                          strerror(errno));
                if (asprintf(&abs, "%s/%s", cwd, path) < 0) {
                        abs = NULL;
                        return apid__fail_oom();
                }
        }
        r = resolve(abs ? abs : path, what, 1, NULL, &st, &pfd);
        if (r < 0)
                return r;
        if (!S_ISDIR(st.st_mode)) {
                close(pfd);
                return apid__fail(APID_ESYS, ENOTDIR, "%s %s: %s", what, path, strerror(ENOTDIR));
        }
        *fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = *fd < 0 ? apid__fail(errno == ENOENT ? APID_ENOTFOUND : APID_ESYS, errno, "%s %s: %s", what, path,
                                 strerror(errno))
                    : APID_OK;
        close(pfd);
        return r;
}

static int resolve(const char *path, const char *what, int links_only, char **real, struct stat *st, int *dirfd)
{
        struct walk w = { .path = path, .what = what, .fd = -1, .links_only = links_only };
        _cleanup_free_ char *todo = NULL;
        struct stat root;
        int links = 0, r = APID_OK, fd;

        if (path[0] != '/')
                return apid__fail(APID_EINVAL, 0, "%s %s: not an absolute path", what, path);
        todo = strdup(path);
        w.real = strdup("");
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (!todo || !w.real) {
                if (fd >= 0)
                        close(fd);
                free(w.real);
                return apid__fail_oom();
        }
        if (fd < 0 || fstat(fd, &root) < 0) {
                r = sys_fail(&w, "/");
                if (fd >= 0)
                        close(fd);
                free(w.real);
                return r;
        }
        w.fd = fd;
        w.st = root;
        while (r == APID_OK && todo[0]) {
                size_t len = strcspn(todo, "/");
                char name[256], *rest;

                if (len >= sizeof(name)) {
                        errno = ENAMETOOLONG;
                        r = sys_fail(&w, todo);
                        break;
                }
                memcpy(name, todo, len);
                name[len] = '\0';
                rest = todo + len + strspn(todo + len, "/");
                memmove(todo, rest, strlen(rest) + 1);
                if (len == 0 || strcmp(name, ".") == 0)
                        continue;
                r = step(&w, name, &todo, &links);
        }
        if (r == APID_OK) {
                *st = w.st;
                if (real) {
                        *real = w.real[0] ? w.real : strdup("/");
                        if (!w.real[0])
                                free(w.real);
                        w.real = NULL;
                        if (!*real)
                                r = apid__fail_oom();
                }
        }
        free(w.real);
        if (r == APID_OK && dirfd)
                *dirfd = w.fd;
        else
                close(w.fd);
        return r;
}
