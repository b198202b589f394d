/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppoolctl registry publish URI (meson -Dldap=enabled): the entries
 * apid_registry_export_ldif() writes, put into a directory through libldap,
 * incrementally: each entry is read back first (a base search), added when
 * missing, modified only in the attributes that differ, left alone when equal;
 * a second run changes nothing and says so. Multi-valued attributes other
 * hosts or administrators may add to (objectClass, memberUid) only get the
 * values missing; single-valued ones are replaced. Nothing is deleted.
 *
 * Authentication: SASL EXTERNAL (ldapi://, the caller's uid is the
 * identity), or a simple bind whose DN and password come from a file only its
 * owner can read (--bind-file; never a password on the command line, where
 * ps shows it). A password never crosses a network in clear: ldap:// URIs
 * get StartTLS first, and fail if the server cannot. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/base64.h>

#include "apppoolctl.h"
#include "regular.h"
#include "ldap-dl.h" /* <ldap.h>; libldap's functions as sym_NAME, loaded on first use */

#define MAX_ATTRS 32 /* distinct attributes of an entry (the export writes at most 9) */
#define TIMEOUT_S 30
#define WINDOW 64 /* read-backs in flight */

static int fail_oom(void)
{
        fprintf(stderr, "%s: registry publish: out of memory\n", program_name);
        return EXIT_LIBRARY;
}

struct av {
        char *name;
        struct berval val;
        int decoded; /* val is a buffer of its own (was base64) */
};

struct entry {
        struct av dn;
        struct av *av;
        size_t n, cap;
};

struct entries {
        struct entry *e;
        size_t n;
        char *text; /* the LDIF, cut into names and values in place */
};

static void entries_free(struct entries *l)
{
        size_t i, k;

        for (i = 0; i < l->n; i++) {
                for (k = 0; k < l->e[i].n; k++)
                        if (l->e[i].av[k].decoded)
                                free(l->e[i].av[k].val.bv_val);
                if (l->e[i].dn.decoded)
                        free(l->e[i].dn.val.bv_val);
                free(l->e[i].av);
        }
        free(l->e);
        apid_free(l->text);
}

/* "name: value" or "name:: base64" of our own export (no folding, no URLs);
 * the value is decoded into a new buffer when base64. */
static int parse_line(char *line, struct av *a)
{
        char *colon = strchr(line, ':');
        struct berval *val = &a->val;

        if (!colon || colon == line)
                return -1;
        *colon = '\0';
        a->name = line;
        a->decoded = colon[1] == ':';
        if (colon[1] == ':') {
                const char *b = colon[2] == ' ' ? colon + 3 : colon + 2;
                size_t n = BASE64_DECODE_LENGTH(strlen(b)), len = n;
                struct base64_decode_ctx d;
                uint8_t *out = malloc(n + 1);

                if (!out)
                        return -1;
                base64_decode_init(&d);
                if (!base64_decode_update(&d, &len, out, strlen(b), b) || !base64_decode_final(&d)) {
                        free(out);
                        return -1;
                }
                out[len] = '\0';
                val->bv_val = (char *)out;
                val->bv_len = len;
                return 0;
        }
        val->bv_val = colon[1] == ' ' ? colon + 2 : colon + 1;
        val->bv_len = strlen(val->bv_val);
        return 0;
}

static int parse_ldif(struct entries *l)
{
        char *save = NULL, *line;
        struct entry *cur = NULL;
        struct av a;
        void *p;

        for (line = strtok_r(l->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (line[0] == '#')
                        continue;
                if (parse_line(line, &a) < 0)
                        return -1;
                if (strcasecmp(a.name, "dn") == 0) {
                        p = realloc(l->e, (l->n + 1) * sizeof(*l->e));
                        if (!p)
                                goto fail;
                        l->e = p;
                        cur = &l->e[l->n++];
                        memset(cur, 0, sizeof(*cur));
                        cur->dn = a;
                        continue;
                }
                if (!cur)
                        goto fail;
                if (cur->n == cur->cap) {
                        p = realloc(cur->av, (cur->cap ? 2 * cur->cap : 16) * sizeof(*cur->av));
                        if (!p)
                                goto fail;
                        cur->av = p;
                        cur->cap = cur->cap ? 2 * cur->cap : 16;
                }
                cur->av[cur->n++] = a;
        }
        return 0;
fail:
        if (a.decoded)
                free(a.val.bv_val);
        return -1;
}

/* The directory's values of one attribute, sorted for lookups (the shared
 * group has a memberUid per pool: thousands). objectClass names compare as
 * the schema does, case-insensitively; other values byte for byte, as the
 * server returns what it stored. */
struct have {
        struct berval **v;
        size_t n;
        int ci;
};

static int cmp_bv(const struct berval *a, const struct berval *b, int ci)
{
        size_t i, n = a->bv_len < b->bv_len ? a->bv_len : b->bv_len;

        for (i = 0; i < n; i++) {
                int x = (unsigned char)a->bv_val[i], y = (unsigned char)b->bv_val[i];

                if (ci && x < 0x80 && y < 0x80) {
                        x = tolower(x);
                        y = tolower(y);
                }
                if (x != y)
                        return x - y;
        }
        return (a->bv_len > b->bv_len) - (a->bv_len < b->bv_len);
}

static int cmp_exact(const void *a, const void *b)
{
        return cmp_bv(*(struct berval *const *)a, *(struct berval *const *)b, 0);
}

static int cmp_ci(const void *a, const void *b)
{
        return cmp_bv(*(struct berval *const *)a, *(struct berval *const *)b, 1);
}

static void have_init(struct have *h, const char *attr, struct berval **vals)
{
        h->v = vals;
        h->ci = strcasecmp(attr, "objectClass") == 0;
        for (h->n = 0; vals && vals[h->n]; h->n++)
                ;
        if (h->n > 1)
                qsort(h->v, h->n, sizeof(*h->v), h->ci ? cmp_ci : cmp_exact);
}

static int in_have(const struct have *h, const struct berval *v)
{
        return h->n && bsearch(&v, h->v, h->n, sizeof(*h->v), h->ci ? cmp_ci : cmp_exact) != NULL;
}

static int additive(const char *attr)
{
        return strcasecmp(attr, "objectClass") == 0 || strcasecmp(attr, "memberUid") == 0;
}

static int ldap_fail(LDAP *ld, const char *uri, const char *what, const char *dn, int rc)
{
        char *diag = NULL;

        sym_ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
        fprintf(stderr, "%s: registry publish %s: %s%s%s: %s%s%s%s\n", program_name, uri, what, dn ? " " : "",
                dn ? dn : "", sym_ldap_err2string(rc), diag && *diag ? " (" : "", diag && *diag ? diag : "",
                diag && *diag ? ")" : "");
        sym_ldap_memfree(diag);
        return EXIT_LIBRARY;
}

/* The distinct attribute names of e, in order (at most MAX_ATTRS). */
static int attr_names(const struct entry *e, char **names, size_t *count)
{
        size_t i, k, n = 0;

        for (i = 0; i < e->n; i++) {
                for (k = 0; k < n && strcasecmp(names[k], e->av[i].name) != 0; k++)
                        ;
                if (k == n && n == MAX_ATTRS)
                        return -1;
                if (k == n)
                        names[n++] = e->av[i].name;
        }
        names[n] = NULL;
        *count = n;
        return 0;
}

/* An LDAPMod for one attribute: op, and e's values of it (all, or with h,
 * those the directory lacks). The value array is malloc'd (freed by
 * free_mods); returns how many values, or -1 when out of memory. */
static ssize_t make_mod(LDAPMod *mod, int op, const struct entry *e, char *name, const struct have *h)
{
        size_t i, n = 0;
        struct berval **bv = calloc(e->n + 1, sizeof(*bv));

        mod->mod_op = op | LDAP_MOD_BVALUES;
        mod->mod_type = name;
        mod->mod_bvalues = bv;
        if (!bv)
                return -1;
        for (i = 0; i < e->n; i++)
                if (strcasecmp(e->av[i].name, name) == 0 && !(h && in_have(h, &e->av[i].val)))
                        bv[n++] = (struct berval *)&e->av[i].val;
        return (ssize_t)n;
}

/* 1 if the directory's values equal e's as sets. */
static int same_set(const struct entry *e, const char *name, const struct have *h)
{
        size_t i, ours = 0;

        for (i = 0; i < e->n; i++)
                if (strcasecmp(e->av[i].name, name) == 0) {
                        if (!in_have(h, &e->av[i].val))
                                return 0;
                        ours++;
                }
        return ours == h->n;
}

static void free_mods(LDAPMod *mods, size_t n)
{
        while (n--)
                free(mods[n].mod_bvalues);
}

/* Ask for e as the directory has it (a base search for e's attributes);
 * the answer is collected by publish_entry(). */
static int read_back(LDAP *ld, const char *uri, const struct entry *e, int *msgid)
{
        struct timeval tv = { TIMEOUT_S, 0 };
        char *names[MAX_ATTRS + 1];
        size_t n;
        int rc;

        if (attr_names(e, names, &n) < 0) {
                fprintf(stderr, "%s: registry publish: %s: more than %d attributes\n", program_name,
                        e->dn.val.bv_val, MAX_ATTRS);
                return EXIT_LIBRARY;
        }
        rc = sym_ldap_search_ext(ld, e->dn.val.bv_val, LDAP_SCOPE_BASE, "(objectClass=*)", names, 0, NULL, NULL, &tv,
                             0, msgid);
        return rc == LDAP_SUCCESS ? 0 : ldap_fail(ld, uri, "search", e->dn.val.bv_val, rc);
}

/* Publish one entry, given the answer to its read_back(): 'a' added, 'm'
 * modified, '=' unchanged; or an error. */
static int publish_entry(LDAP *ld, const char *uri, const struct entry *e, int msgid, char *what)
{
        struct timeval tv = { TIMEOUT_S, 0 };
        const char *dn = e->dn.val.bv_val;
        char *names[MAX_ATTRS + 1];
        LDAPMod mods[MAX_ATTRS], *modp[MAX_ATTRS + 1];
        LDAPMessage *res = NULL, *msg;
        size_t i, n, m = 0;
        int rc, r = 0;

        if (attr_names(e, names, &n) < 0)
                return EXIT_LIBRARY; /* read_back() said so */
        rc = sym_ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &res);
        if (rc <= 0) {
                sym_ldap_msgfree(res);
                return ldap_fail(ld, uri, "search", dn, rc == 0 ? LDAP_TIMEOUT : LDAP_SERVER_DOWN);
        }
        if (sym_ldap_parse_result(ld, res, &rc, NULL, NULL, NULL, NULL, 0) != LDAP_SUCCESS)
                rc = LDAP_DECODING_ERROR;
        if (rc == LDAP_NO_SUCH_OBJECT) {
                sym_ldap_msgfree(res);
                for (m = 0; m < n; m++) {
                        modp[m] = &mods[m];
                        if (make_mod(&mods[m], LDAP_MOD_ADD, e, names[m], NULL) < 0) {
                                free_mods(mods, m + 1);
                                return fail_oom();
                        }
                }
                modp[n] = NULL;
                rc = sym_ldap_add_ext_s(ld, dn, modp, NULL, NULL);
                free_mods(mods, n);
                *what = 'a';
                return rc == LDAP_SUCCESS ? 0 : ldap_fail(ld, uri, "add", dn, rc);
        }
        msg = rc == LDAP_SUCCESS ? sym_ldap_first_entry(ld, res) : NULL;
        if (!msg) {
                sym_ldap_msgfree(res);
                return ldap_fail(ld, uri, "read back", dn, rc == LDAP_SUCCESS ? LDAP_INSUFFICIENT_ACCESS : rc);
        }
        for (i = 0; i < n && r == 0; i++) {
                struct berval **vals = sym_ldap_get_values_len(ld, msg, names[i]);
                struct have h;
                ssize_t k = 0;

                have_init(&h, names[i], vals);
                if (additive(names[i]))
                        k = make_mod(&mods[m], LDAP_MOD_ADD, e, names[i], &h);
                else if (!same_set(e, names[i], &h))
                        k = make_mod(&mods[m], LDAP_MOD_REPLACE, e, names[i], NULL);
                else
                        mods[m].mod_bvalues = NULL;
                if (k < 0)
                        r = fail_oom();
                if (k > 0)
                        m++;
                else
                        free(mods[m].mod_bvalues);
                sym_ldap_value_free_len(vals);
        }
        sym_ldap_msgfree(res);
        *what = '=';
        if (r || m == 0) {
                free_mods(mods, m);
                return r;
        }
        for (i = 0; i < m; i++)
                modp[i] = &mods[i];
        modp[m] = NULL;
        rc = sym_ldap_modify_ext_s(ld, dn, modp, NULL, NULL);
        free_mods(mods, m);
        *what = 'm';
        return rc == LDAP_SUCCESS ? 0 : ldap_fail(ld, uri, "modify", dn, rc);
}

/* --bind-file: "DN\npassword\n", a regular file of the caller's that no one
 * else can read (as ssh and ldapsearch -y want their secrets). */
static int read_bind_file(const char *path, char *buf, size_t size, char **dn, char **pw)
{
        struct stat st;
        ssize_t n;
        const char *kind;
        int fd = apid__open_regular(path, O_NOFOLLOW, &kind);
        char *nl;

        if (fd < 0 && kind) {
                fprintf(stderr, "%s: --bind-file %s: is %s, not a regular file\n", program_name, path, kind);
                return EXIT_USAGE;
        }
        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "%s: --bind-file %s: %s\n", program_name, path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return EXIT_USAGE;
        }
        if (st.st_uid != geteuid() || (st.st_mode & 077)) {
                fprintf(stderr, "%s: --bind-file %s: must be a regular file of yours that only you can read "
                        "(it is mode %04o, owner %u): chmod 600\n", program_name, path,
                        (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
                close(fd);
                return EXIT_USAGE;
        }
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0 || (size_t)n >= size - 1) {
                fprintf(stderr, "%s: --bind-file %s: %s\n", program_name, path,
                        n < 0 ? strerror(errno) : "longer than 4 KiB");
                return EXIT_USAGE;
        }
        buf[n] = '\0';
        nl = strchr(buf, '\n');
        if (!nl || nl == buf || nl[1] == '\0' || nl[1] == '\n') {
                fprintf(stderr, "%s: --bind-file %s: expected the bind DN on the first line and the password "
                        "on the second\n", program_name, path);
                return EXIT_USAGE;
        }
        *nl = '\0';
        *dn = buf;
        *pw = nl + 1;
        (*pw)[strcspn(*pw, "\n")] = '\0';
        return 0;
}

static int connect_bind(LDAP **ldp, const char *uri, const char *bind_file)
{
        int version = LDAP_VERSION3, rc, r;
        struct timeval tv = { TIMEOUT_S, 0 };
        struct berval cred = { 0, NULL };
        char buf[4096], *dn = NULL, *pw = NULL;
        LDAP *ld = NULL;

        if (strncasecmp(uri, "ldapi://", 8) != 0 && strncasecmp(uri, "ldaps://", 8) != 0 &&
            strncasecmp(uri, "ldap://", 7) != 0)
                return fail_usage("registry publish: URI '%s' is not ldapi://, ldaps:// or ldap://", uri);
        if (bind_file) {
                r = read_bind_file(bind_file, buf, sizeof(buf), &dn, &pw);
                if (r)
                        return r;
        }
        /* libldap is loaded here, not at program start (ldap-dl.c): only
         * publish pays for it, and only once the arguments are right. */
        r = ldap_dl_open();
        if (r)
                goto out;
        rc = sym_ldap_initialize(&ld, uri);
        if (rc != LDAP_SUCCESS) {
                r = fail_usage("registry publish: URI '%s': %s", uri, sym_ldap_err2string(rc));
                goto out;
        }
        sym_ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
        sym_ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
        sym_ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
        sym_ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
        /* ldap:// carries the bind in clear unless StartTLS protects it. */
        if (strncasecmp(uri, "ldap://", 7) == 0) {
                rc = sym_ldap_start_tls_s(ld, NULL, NULL);
                if (rc != LDAP_SUCCESS) {
                        r = ldap_fail(ld, uri, "StartTLS (required on ldap://; or use ldaps:// or ldapi://)", NULL,
                                      rc);
                        goto out;
                }
        }
        if (pw) {
                cred.bv_val = pw;
                cred.bv_len = strlen(pw);
                rc = sym_ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
        } else {
                /* EXTERNAL with an empty authorization identity (an initial
                 * response of zero bytes, RFC 4422 appendix A): the server
                 * takes the identity the transport proved (the peer's uid on
                 * ldapi://). No initial response at all would make the
                 * server ask for one first. */
                static char empty[] = "";

                cred.bv_val = empty;
                rc = sym_ldap_sasl_bind_s(ld, NULL, "EXTERNAL", &cred, NULL, NULL, NULL);
        }
        if (rc != LDAP_SUCCESS) {
                r = ldap_fail(ld, uri, pw ? "simple bind as" : "SASL EXTERNAL bind", dn, rc);
                goto out;
        }
        *ldp = ld;
        ld = NULL;
        r = 0;
out:
        explicit_bzero(buf, sizeof(buf));
        if (ld)
                sym_ldap_unbind_ext_s(ld, NULL, NULL);
        return r;
}

/* registry publish URI [--base DN] [--user-ou OU] [--group-ou OU] [--bind-file FILE] */
int cmd_registry_publish(int argc, char **argv)
{
        const char *uri = NULL, *base = NULL, *user_ou = NULL, *group_ou = NULL, *bind_file = NULL;
        struct entries l = { 0 };
        size_t i, added = 0, modified = 0, same = 0;
        apid_ctx *ctx = NULL;
        LDAP *ld = NULL;
        int r;

        for (i = 2; i < (size_t)argc; i++) {
                const char **opt = strcmp(argv[i], "--base") == 0        ? &base
                                   : strcmp(argv[i], "--user-ou") == 0   ? &user_ou
                                   : strcmp(argv[i], "--group-ou") == 0  ? &group_ou
                                   : strcmp(argv[i], "--bind-file") == 0 ? &bind_file
                                                                         : NULL;

                if (opt && i + 1 < (size_t)argc)
                        *opt = argv[++i];
                else if (!opt && !uri && argv[i][0] != '-')
                        uri = argv[i];
                else
                        return fail_usage("registry publish: expected URI [--base DN] [--user-ou OU] "
                                          "[--group-ou OU] [--bind-file FILE]");
        }
        if (!uri)
                return fail_usage("registry publish: expected URI (ldapi://, ldaps:// or ldap://)");
        if (apid_ctx_new(&ctx) != APID_OK)
                return fail_library();
        r = apid_registry_export_ldif(ctx, base, user_ou, group_ou, &l.text);
        apid_ctx_unref(ctx);
        if (r != APID_OK)
                return fail_library();
        if (parse_ldif(&l) < 0) {
                entries_free(&l);
                fprintf(stderr, "%s: registry publish: cannot read the export\n", program_name);
                return EXIT_LIBRARY;
        }
        r = connect_bind(&ld, uri, bind_file);
        /* The read-backs go out WINDOW at a time, so that a large registry
         * costs the server's time, not one round trip after another. */
        for (i = 0; r == 0 && i < l.n; i += WINDOW) {
                size_t k, end = i + WINDOW < l.n ? i + WINDOW : l.n, sent = i;
                int ids[WINDOW];

                while (r == 0 && sent < end) {
                        r = read_back(ld, uri, &l.e[sent], &ids[sent - i]);
                        sent += r == 0;
                }
                for (k = i; r == 0 && k < sent; k++) {
                        char what = '=';

                        r = publish_entry(ld, uri, &l.e[k], ids[k - i], &what);
                        if (r == 0 && what != '=')
                                printf("%s %s\n", what == 'a' ? "added" : "modified", l.e[k].dn.val.bv_val);
                        added += r == 0 && what == 'a';
                        modified += r == 0 && what == 'm';
                        same += r == 0 && what == '=';
                }
        }
        if (ld)
                sym_ldap_unbind_ext_s(ld, NULL, NULL);
        if (r == 0 && added + modified == 0)
                printf("nothing to change: the %zu entries in %s are up to date\n", same, uri);
        else if (r == 0)
                printf("published to %s: %zu added, %zu modified, %zu unchanged\n", uri, added, modified, same);
        entries_free(&l);
        return r;
}
