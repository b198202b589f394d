/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Save and restore ACLs in the text format that "getfacl -R" prints and
 * "setfacl --restore" reads (icacls /save and /restore for Linux). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <acl/libacl.h>
#include <sys/acl.h>

#include "internal.h"
#include "acl-internal.h"
#include "idmap/idmap.h"
#include "acl/names.h"

/* Our writer quotes '\\', white space and unprintable bytes as \ooo, which
 * setfacl --restore reads (its unquote takes \ooo and \\). getfacl itself
 * (acl 2.3) quotes only '\n' and '\r' as \ooo and writes '\\' for a
 * backslash; every other byte (tab, space, non-UTF-8) is written as is. */
static void quote_path(FILE *f, const char *p)
{
        for (; *p; p++) {
                unsigned char c = (unsigned char)*p;

                if (c == '\\' || c <= ' ' || c >= 0x7f)
                        fprintf(f, "\\%03o", c);
                else
                        fputc(c, f);
        }
}

static int unquote_path(char *p)
{
        char *o = p;

        while (*p) {
                if (*p == '\\' && p[1] == '\\') { /* getfacl's own form */
                        *o++ = '\\';
                        p += 2;
                } else if (*p == '\\') {
                        if (p[1] < '0' || p[1] > '3' || p[2] < '0' || p[2] > '7' || p[3] < '0' || p[3] > '7')
                                return -1;
                        *o++ = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
                        p += 4;
                } else {
                        *o++ = *p++;
                }
        }
        *o = '\0';
        return 0;
}

int apid__acl_write_entry(FILE *f, const char *path, int fd, int is_dir)
{
        return apid__acl_write_entry_names(f, path, fd, is_dir, NULL);
}

int apid__acl_write_entry_names(FILE *f, const char *path, int fd, int is_dir, struct apid__namecache *names)
{
        char proc[64], owner[256], group[256];
        struct stat st;
        acl_t acc, def = NULL;
        int r = APID_OK;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (fstat(fd, &st) < 0)
                return apid__fail(APID_ESYS, errno, "%s: %s", path, strerror(errno));
        acc = acl_get_file(proc, ACL_TYPE_ACCESS);
        if (acc && is_dir)
                def = acl_get_file(proc, ACL_TYPE_DEFAULT);
        if (!acc || (is_dir && !def)) {
                r = apid__fail(errno == EOPNOTSUPP ? APID_EUNSUPPORTED : APID_ESYS, errno, "%s: reading the ACL: %s",
                               path, strerror(errno));
                goto out;
        }
        /* Names for the header only; an id NSS cannot name stays a number.
         * Through the walk's cache: each distinct id is asked once. */
        apid__namecache_user(names, (uint32_t)st.st_uid, owner, sizeof(owner));
        apid__namecache_group(names, (uint32_t)st.st_gid, group, sizeof(group));
        fputs("# file: ", f);
        quote_path(f, path);
        fprintf(f, "\n# owner: %s\n# group: %s\n", owner, group);
        /* setfacl --restore clears setuid/setgid/sticky when a block has no
         * flags line: write it as getfacl does, or a round trip drops them. */
        if (st.st_mode & (S_ISUID | S_ISGID | S_ISVTX))
                fprintf(f, "# flags: %c%c%c\n", st.st_mode & S_ISUID ? 's' : '-', st.st_mode & S_ISGID ? 's' : '-',
                        st.st_mode & S_ISVTX ? 't' : '-');
        if (apid__acl_print_text(f, acc, NULL, names) < 0 ||
            (def && apid__acl_print_text(f, def, "default:", names) < 0)) {
                r = apid__fail(APID_ESYS, errno, "%s: writing the ACL: %s", path, strerror(errno));
                goto out;
        }
        fputc('\n', f);
out:
        acl_free(acc);
        acl_free(def);
        return r;
}

/* A path component ".." (a name like "a..b" is fine). */
static int has_dotdot(const char *path)
{
        const char *p = path;

        while (p) {
                size_t len = strcspn(p, "/");

                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return 1;
                p = p[len] ? p + len + 1 : NULL;
        }
        return 0;
}

/* ---- save ---- */

struct save {
        FILE *f;
        const char *display;
        int pfd;
        const char *base;
        int recursive;
        unsigned max_depth; /* directory levels entered below the path */
        int status;
        struct apid__namecache *names; /* for this save */
};

/* Each entry of the walk: its ACLs, in the getfacl format. */
static int save_visit(void *data, void *local, const struct apid__walk_entry *en)
{
        struct save *s = data;
        int fd = apid__open_nofollow(en->dirfd, en->name, 0), r;

        (void)local;
        if (fd < 0)
                return apid__fail(apid__walk_status(errno), errno, "%s: %s", en->rel, strerror(errno));
        r = apid__acl_write_entry_names(s->f, en->rel, fd, en->is_dir, s->names);
        close(fd);
        return r;
}

/* A save is what a restore rolls back from: an entry it cannot look at
 * fails the save (even one that vanished under it), rather than leaving the
 * entry out without a word. Links and special files have no ACL of their own. */
static int save_event(void *data, const struct apid__walk_event *ev)
{
        char msg[512];

        (void)data;
        if (ev->kind == APID__WALK_NOT_FILE)
                return APID_OK;
        apid__walk_event_format(ev, msg, sizeof(msg));
        return apid__fail(ev->err ? apid__walk_status(ev->err) : APID_ERANGE, ev->err, "%s", msg);
}

static int save_fill(FILE *f, void *arg)
{
        struct save *s = arg;
        struct apid__walker w = { save_visit, save_event, NULL, NULL, s, s->max_depth, 1,
                                  APID__WALK_STAT | (s->recursive ? APID__WALK_RECURSIVE : 0) };
        struct stat st;

        if (fstatat(s->pfd, s->base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return apid__fail(errno == ENOENT ? APID_ENOTFOUND : APID_ESYS, errno, "%s: %s", s->display,
                                  strerror(errno));
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return apid__fail(APID_EINVAL, 0, "%s: not a file or directory", s->display);
        s->f = f;
        return apid__walk(&w, s->pfd, s->base, s->display, &st);
}

APID_EXPORT int apid_acl_save(apid_ctx *ctx, const char *path, const char *file, uint32_t flags)
{
        return apid_acl_save_depth(ctx, path, file, flags, APID__WALK_DEFAULT_DEPTH);
}

APID_EXPORT int apid_acl_save_depth(apid_ctx *ctx, const char *path, const char *file, uint32_t flags,
                                    unsigned max_depth)
{
        _cleanup_free_ char *copy = NULL;
        struct save s;
        char *slash;
        int r;

        if (!ctx || !path || !file || !path[0])
                return apid__fail(APID_EINVAL, 0, "apid_acl_save: NULL or empty argument");
        if (flags & ~(uint32_t)APID_ACL_RECURSIVE)
                return apid__fail(APID_EINVAL, 0, "apid_acl_save flags 0x%x: only APID_ACL_RECURSIVE", flags);
        /* the same range and message as apid_acl_edit_set_max_depth() */
        if (max_depth < 1 || max_depth > APID__WALK_MAX_DEPTH)
                return apid__fail(APID_EINVAL, 0, "ACL walk depth %u: not between 1 and %u", max_depth,
                                  APID__WALK_MAX_DEPTH);
        copy = strdup(path);
        if (!copy)
                return apid__fail_oom();
        while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
                copy[strlen(copy) - 1] = '\0';
        memset(&s, 0, sizeof(s));
        s.recursive = !!(flags & APID_ACL_RECURSIVE);
        s.max_depth = max_depth;
        s.display = path[0] == '/' ? copy + 1 : copy; /* getfacl: "Removing leading '/'" */
        slash = strrchr(copy, '/');
        if (!slash) {
                s.pfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                s.base = copy;
        } else if (slash == copy) {
                s.pfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                s.base = copy[1] ? copy + 1 : ".";
        } else {
                char *dir = strndup(copy, (size_t)(slash - copy));

                s.pfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
                free(dir);
                s.base = slash + 1;
        }
        if (s.pfd < 0)
                return apid__fail(errno == ENOENT ? APID_ENOTFOUND : APID_ESYS, errno, "%s: %s", path,
                                  strerror(errno));
        if (!s.display[0])
                s.display = ".";
        s.names = apid__namecache_new(); /* NULL: names asked uncached */
        r = apid__write_atomic(file, "ACL save file", 0600, save_fill, &s);
        apid__namecache_free(s.names);
        close(s.pfd);
        return r;
}

/* ---- restore ---- */

struct block {
        char *path;
        size_t line;
        acl_t access;
        acl_t def;   /* NULL when the block has no default lines */
};

/* An ACL text line with the qualifier made numeric when only our registry
 * knows the name (pool users, when the NSS module is not enabled). */
static int entry_line(apid_ctx *ctx, char *line, char **text, size_t *len, int *is_default)
{
        char *p = line, *colon, *qual, *rest;
        char buf[512];
        int n;

        *is_default = strncmp(p, "default:", 8) == 0;
        if (*is_default)
                p += 8;
        colon = strchr(p, ':');
        if (!colon)
                return -1;
        qual = colon + 1;
        rest = strchr(qual, ':');
        if (!rest)
                return -1;
        *rest = '\0';
        if (qual[0] && !(qual[0] >= '0' && qual[0] <= '9')) {
                int is_user = strncmp(p, "user:", 5) == 0 || strncmp(p, "u:", 2) == 0;
                apid_identity *id = NULL;

                int is_group = strncmp(p, "group:", 6) == 0 || strncmp(p, "g:", 2) == 0;

                /* The pool's own uid (== its gid), not the account it runs as
                 * today; group:apppool-x is the pool's group (IIS AppPool\x). */
                if (((is_user && apid__nss_user_by_name(qual, NULL) == APID_ENOTFOUND) ||
                     (is_group && apid__nss_group_by_name(qual, NULL) == APID_ENOTFOUND)) &&
                    apid_identity_from_user(ctx, qual, &id) == APID_OK) {
                        snprintf(buf, sizeof(buf), "%u", apid_identity_get_pool_gid(id));
                        apid_identity_free(id);
                        qual = buf;
                }
        }
        *colon = '\0';
        n = snprintf(NULL, 0, "%s:%s:%s\n", p, qual, rest + 1);
        {
                char *grown = realloc(*text, *len + (size_t)n + 1);

                if (!grown)
                        return -2;
                *text = grown;
                snprintf(*text + *len, (size_t)n + 1, "%s:%s:%s\n", p, qual, rest + 1);
                *len += (size_t)n;
        }
        return 0;
}

/* Which uids are pools' own, remembered for one restore. */
#define POOL_IDS 64
struct pool_ids {
        uint32_t id[POOL_IDS];
        char is_pool[POOL_IDS];
        size_t n, next;
};

static int is_pool_uid(apid_ctx *ctx, struct pool_ids *p, uint32_t uid)
{
        apid_identity *id = NULL;
        size_t i;
        int yes;

        if (uid < 65536) /* the id range starts at 65536 or above: docs/identities.md */
                return 0;
        for (i = 0; i < p->n; i++)
                if (p->id[i] == uid)
                        return p->is_pool[i];
        yes = apid_identity_from_uid(ctx, uid, &id) == APID_OK;
        apid_identity_free(id);
        i = p->n < POOL_IDS ? p->n++ : p->next++ % POOL_IDS;
        p->id[i] = uid;
        p->is_pool[i] = (char)yes;
        return yes;
}

/* A user entry on a pool's own uid is how the previous release granted
 * IIS AppPool\X; it reaches the pool's workers only while the pool runs as
 * ApplicationPoolIdentity. A restore gives the pool's group entry the same
 * rights when the ACL has none, so the grant holds whatever the pool's
 * identity type, as a grant made today does (docs/acl.md). -1: no memory. */
static int pool_groups(apid_ctx *ctx, acl_t *acl, struct pool_ids *pools)
{
        struct { uint32_t id; int perm[3]; } add[32];
        static const acl_perm_t perms[3] = { ACL_READ, ACL_WRITE, ACL_EXECUTE };
        acl_permset_t ps;
        size_t n = 0, i;
        acl_entry_t en, g;
        int w;

        for (w = acl_get_entry(*acl, ACL_FIRST_ENTRY, &en); w == 1 && n < 32;
             w = acl_get_entry(*acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;
                id_t *q;

                if (acl_get_tag_type(en, &t) < 0 || t != ACL_USER || !(q = acl_get_qualifier(en)))
                        continue;
                if (is_pool_uid(ctx, pools, (uint32_t)*q) && acl_get_permset(en, &ps) == 0) {
                        for (i = 0; i < 3; i++)
                                add[n].perm[i] = acl_get_perm(ps, perms[i]) == 1;
                        add[n++].id = (uint32_t)*q;
                }
                acl_free(q);
        }
        for (i = 0; i < n; i++) {
                int found = 0;

                for (w = acl_get_entry(*acl, ACL_FIRST_ENTRY, &g); w == 1 && !found;
                     w = acl_get_entry(*acl, ACL_NEXT_ENTRY, &g)) {
                        acl_tag_t t;
                        id_t *q;

                        if (acl_get_tag_type(g, &t) < 0 || t != ACL_GROUP || !(q = acl_get_qualifier(g)))
                                continue;
                        found = (uint32_t)*q == add[i].id;
                        acl_free(q);
                }
                if (!found) {
                        id_t q = (id_t)add[i].id;

                        size_t k;

                        if (acl_create_entry(acl, &g) < 0 || acl_set_tag_type(g, ACL_GROUP) < 0 ||
                            acl_set_qualifier(g, &q) < 0 || acl_get_permset(g, &ps) < 0 || acl_clear_perms(ps) < 0)
                                return -1;
                        for (k = 0; k < 3; k++)
                                if (add[i].perm[k] && acl_add_perm(ps, perms[k]) < 0)
                                        return -1;
                }
        }
        return 0;
}

static int parse_file(apid_ctx *ctx, const char *file, struct block **out, size_t *count)
{
        FILE *f = NULL;
        char *line = NULL, *acc = NULL, *def = NULL;
        size_t cap = 0, lineno = 0, alen = 0, dlen = 0, n = 0;
        struct block *blocks = NULL, cur;
        struct pool_ids pools = { 0 };
        ssize_t got;
        int r = apid__fopen_regular(file, "restore", APID_ENOTFOUND, &f), in_block = 0, eof = 0;

        if (r < 0)
                return r;
        memset(&cur, 0, sizeof(cur));
        while (r == APID_OK && !eof) {
                char *p;

                got = getline(&line, &cap, f);
                if (got < 0) {
                        eof = 1;
                        line = line ? line : strdup("");
                        if (!line) {
                                r = apid__fail_oom();
                                break;
                        }
                        line[0] = '\0';
                } else {
                        lineno++;
                        if ((size_t)got != strlen(line)) {
                                r = apid__fail(APID_EINVAL, 0, "restore %s, line %zu: NUL byte", file, lineno);
                                break;
                        }
                        line[strcspn(line, "\n")] = '\0';
                }
                p = line + strspn(line, " \t");
                if (*p == '\0') { /* end of a block */
                        if (!in_block)
                                continue;
                        if (!cur.path) {
                                r = apid__fail(APID_EINVAL, 0, "restore %s, line %zu: entries without '# file:'", file,
                                               cur.line);
                                break;
                        }
                        cur.access = acc ? acl_from_text(acc) : NULL;
                        cur.def = def ? acl_from_text(def) : NULL;
                        if ((cur.access && pool_groups(ctx, &cur.access, &pools) < 0) ||
                            (cur.def && pool_groups(ctx, &cur.def, &pools) < 0)) {
                                r = apid__fail_oom();
                                acl_free(cur.access);
                                acl_free(cur.def);
                                break; /* cur.path is freed below */
                        }
                        if (!cur.access || acl_valid(cur.access) < 0 || (def && (!cur.def || acl_valid(cur.def) < 0))) {
                                r = apid__fail(APID_EINVAL, 0, "restore %s, line %zu: the ACL of %s is not valid", file,
                                               cur.line, cur.path);
                                acl_free(cur.access);
                                acl_free(cur.def);
                                break; /* cur.path is freed below */
                        }
                        {
                                struct block *grown = realloc(blocks, (n + 1) * sizeof(*grown));

                                if (!grown) {
                                        r = apid__fail_oom();
                                        acl_free(cur.access);
                                        acl_free(cur.def);
                                        break; /* cur.path is freed below */
                                }
                                blocks = grown;
                                blocks[n++] = cur;
                        }
                        memset(&cur, 0, sizeof(cur));
                        free(acc);
                        free(def);
                        acc = def = NULL;
                        alen = dlen = 0;
                        in_block = 0;
                        continue;
                }
                if (!in_block) {
                        in_block = 1;
                        cur.line = lineno;
                }
                if (*p == '#') {
                        if (strncmp(p, "# file: ", 8) == 0) {
                                if (cur.path) {
                                        r = apid__fail(APID_EINVAL, 0, "restore %s, line %zu: a second '# file:' "
                                                                       "without a blank line before it", file, lineno);
                                        break;
                                }
                                cur.path = strdup(p + 8);
                                if (!cur.path || unquote_path(cur.path) < 0 || !cur.path[0] ||
                                    has_dotdot(cur.path)) {
                                        r = apid__fail(APID_EINVAL, 0, "restore %s, line %zu: bad file name", file,
                                                       lineno);
                                        break;
                                }
                        }
                        continue; /* owner, group, flags: read, not applied */
                }
                {
                        int is_default, e;
                        char *hash = strchr(p, '#');

                        if (hash)
                                *hash = '\0';
                        p[strcspn(p, " \t")] = '\0';
                        e = strncmp(p, "default:", 8) == 0 || strncmp(p, "d:", 2) == 0
                                    ? (is_default = 1, entry_line(ctx, p + (p[1] == ':' ? 2 : 8), &def, &dlen, &(int){ 0 }))
                                    : (is_default = 0, entry_line(ctx, p, &acc, &alen, &(int){ 0 }));
                        (void)is_default;
                        if (e == -2) {
                                r = apid__fail_oom();
                                break;
                        }
                        if (e < 0) {
                                r = apid__fail(APID_EINVAL, 0, "restore %s, line %zu: not an ACL entry", file, lineno);
                                break;
                        }
                }
        }
        free(line);
        free(acc);
        free(def);
        free(cur.path);
        fclose(f);
        if (r < 0) {
                size_t i;

                for (i = 0; i < n; i++) {
                        free(blocks[i].path);
                        acl_free(blocks[i].access);
                        acl_free(blocks[i].def);
                }
                free(blocks);
                return r;
        }
        *out = blocks;
        *count = n;
        return APID_OK;
}

/* Open path below base_dir without following a link in any component. */
static int open_below(int basefd, const char *path, int *is_dir)
{
        _cleanup_free_ char *copy = strdup(path);
        char *comp, *save = NULL;
        struct stat st;
        int fd, next;

        if (!copy)
                return -1;
        fd = fcntl(basefd, F_DUPFD_CLOEXEC, 0);
        for (comp = strtok_r(copy, "/", &save); fd >= 0 && comp; comp = strtok_r(NULL, "/", &save)) {
                char *more = save && *save ? save : NULL;

                if (strcmp(comp, ".") == 0)
                        continue;
                next = more ? apid__open_nofollow(fd, comp, 1) : apid__open_nofollow(fd, comp, 0);
                close(fd);
                fd = next;
        }
        if (fd >= 0 && fstat(fd, &st) == 0)
                *is_dir = S_ISDIR(st.st_mode);
        return fd;
}

/* Set one path's ACLs. A directory's access ACL is read first: when its
 * default ACL then cannot be written, the access ACL goes back as it was, so
 * a failure never leaves the one without the other. */
static int restore_one(const char *proc, const char *file, const char *path, int is_dir, acl_t access, acl_t def)
{
        acl_t old = NULL;
        int r = APID_OK, err;

        if (is_dir && !(old = acl_get_file(proc, ACL_TYPE_ACCESS)))
                return apid__fail(errno == EOPNOTSUPP ? APID_EUNSUPPORTED : APID_ESYS, errno,
                                  "restore %s: %s: reading the ACL: %s", file, path, strerror(errno));
        if (acl_set_file(proc, ACL_TYPE_ACCESS, access) < 0) {
                r = apid__fail(errno == EOPNOTSUPP ? APID_EUNSUPPORTED : APID_ESYS, errno, "restore %s: %s: %s", file,
                               path, strerror(errno));
        } else if (is_dir && (def ? acl_set_file(proc, ACL_TYPE_DEFAULT, def) : acl_delete_def_file(proc)) < 0) {
                err = errno;
                if (acl_set_file(proc, ACL_TYPE_ACCESS, old) < 0)
                        r = apid__fail(APID_ESYS, err, "restore %s: %s: default ACL: %s; putting the ACL back: %s",
                                       file, path, strerror(err), strerror(errno));
                else
                        r = apid__fail(err == EOPNOTSUPP ? APID_EUNSUPPORTED : APID_ESYS, err,
                                       "restore %s: %s: default ACL: %s", file, path, strerror(err));
        }
        acl_free(old);
        return r;
}

APID_EXPORT int apid_acl_restore(apid_ctx *ctx, const char *file, const char *base_dir, uint32_t flags)
{
        struct block *blocks = NULL;
        size_t n = 0, i;
        int basefd, r, first = APID_OK;
        struct apid__error_state first_err;

        if (!ctx || !file || !base_dir)
                return apid__fail(APID_EINVAL, 0, "apid_acl_restore: NULL argument");
        if (flags & ~(uint32_t)(APID_ACL_CONTINUE | APID_ACL_DRY_RUN))
                return apid__fail(APID_EINVAL, 0, "apid_acl_restore flags 0x%x: only CONTINUE and DRY_RUN", flags);
        /* Only links of root's are followed to the base (as for an edit). */
        r = apid__open_dir_trusted_links(base_dir, "restore base", &basefd);
        if (r < 0)
                return r;
        r = parse_file(ctx, file, &blocks, &n);
        for (i = 0; r == APID_OK && i < n; i++) {
                char proc[64];
                int fd, is_dir = 0, s = APID_OK;

                fd = open_below(basefd, blocks[i].path, &is_dir);
                if (fd < 0)
                        s = apid__fail(errno == ENOENT ? APID_ENOTFOUND : APID_ESYS, errno, "restore %s: %s: %s", file,
                                       blocks[i].path, errno == ELOOP ? "a symbolic link (not followed)"
                                                                      : strerror(errno));
                else if (blocks[i].def && !is_dir)
                        s = apid__fail(APID_EINVAL, 0, "restore %s: %s: default ACL for a file", file, blocks[i].path);
                else if (!(flags & APID_ACL_DRY_RUN)) {
                        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                        s = restore_one(proc, file, blocks[i].path, is_dir, blocks[i].access, blocks[i].def);
                }
                if (fd >= 0)
                        close(fd);
                if (s < 0 && !first) { /* its message and errno too, not the last path's */
                        first = s;
                        apid__error_save(&first_err);
                }
                if (s < 0 && !(flags & APID_ACL_CONTINUE))
                        r = s;
        }
        for (i = 0; i < n; i++) {
                free(blocks[i].path);
                acl_free(blocks[i].access);
                acl_free(blocks[i].def);
        }
        free(blocks);
        close(basefd);
        if (r == APID_OK && first < 0)
                return apid__error_restore(&first_err);
        return r;
}
