/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz `registry import` and check what it promises, not only memory safety
 * (issue 15):
 * - a refused file changes nothing (the export before and after are equal)
 *   and the refusal names the file and the line;
 * - after an accepted file, every account it added has a valid POSIX user
 *   name, a uid in the id range that is candidate `probe` of its SID's
 *   sequence (recomputed here from docs/identities.md, independently of the
 *   library), every pool it added runs as its own SID's account, and every
 *   profile path is ROOT/USER with USER one valid name.
 * The registry lives on /dev/shm (fsync is cheap there) and starts from a
 * template with a live pool and a deleted one; it is rebuilt every 64
 * accepted inputs so it does not grow without bound. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ftw.h>
#include <pwd.h>

#include <nettle/sha1.h>

#include <apppoolid.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apid_ctx *ctx;
static char base[64], state[128], input[128], dumpfile[128];
static unsigned accepted;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void die(const char *what, const char *detail)
{
        fprintf(stderr, "fuzz-import: %s: %s\n", what, detail ? detail : "");
        abort();
}

static void fresh_registry(void)
{
        apid_ctx_unref(ctx);
        ctx = NULL;
        nftw(state, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        if (mkdir(state, 0700) < 0 || apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, state) != APID_OK)
                die("state directory", state);
        if (apid_pool_create(ctx, "web", NULL) != APID_OK || apid_pool_create(ctx, "old", NULL) != APID_OK ||
            apid_pool_delete(ctx, "old", APID_POOL_DELETE_KEEP_PROFILE) != APID_OK)
                die("template", apid_error_message());
        accepted = 0;
}

static char *dump(void)
{
        FILE *f;
        char *text;
        long n;

        if (apid_registry_export(ctx, dumpfile) != APID_OK)
                die("export", apid_error_message());
        f = fopen(dumpfile, "r");
        if (!f)
                die("export", dumpfile);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        text = calloc(1, (size_t)n + 1);
        if (!text || fread(text, 1, (size_t)n, f) != (size_t)n)
                die("export", "read");
        fclose(f);
        return text;
}

static int name_valid(const char *s)
{
        size_t i, n = strlen(s);

        if (n == 0 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return 0;
        for (i = 1; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
                        return 0;
        return 1;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
        while (b) {
                uint64_t t = a % b;

                a = b;
                b = t;
        }
        return a;
}

/* Candidate i of a SID's sequence in [first, first + size) (docs/identities.md). */
static uint32_t candidate(const char *sid_text, uint64_t first, uint64_t size, uint64_t i)
{
        uint8_t bin[APID_SID_MAX_BYTES], d[SHA1_DIGEST_SIZE];
        uint64_t h0 = 0, h1 = 0, start, step;
        struct sha1_ctx sha;
        apid_sid *sid = NULL;
        size_t n = 0;
        int k;

        if (apid_sid_parse(sid_text, &sid) != APID_OK || apid_sid_to_bytes(sid, bin, sizeof(bin), &n) != APID_OK)
                die("stored SID does not parse", sid_text);
        apid_sid_free(sid);
        sha1_init(&sha);
        sha1_update(&sha, n, bin);
        sha1_digest(&sha, sizeof(d), d);
        for (k = 7; k >= 0; k--) {
                h0 = (h0 << 8) | d[k];
                h1 = (h1 << 8) | d[8 + k];
        }
        start = h0 % size;
        step = size > 1 ? 1 + h1 % (size - 1) : 1;
        while (gcd64(step, size) != 1)
                step = step + 1 < size ? step + 1 : 1;
        return (uint32_t)(first + (start + (i % size) * step) % size);
}

static const char *setting(const char *text, const char *name, char *out, size_t size)
{
        char key[64];
        const char *p;

        snprintf(key, sizeof(key), "\nsetting\t%s\t", name);
        p = strstr(text, key);
        if (!p)
                die("export without setting", name);
        p += strlen(key);
        snprintf(out, size, "%.*s", (int)strcspn(p, "\n"), p);
        return out;
}

/* A line of after that is not in before: what the import added. */
static int added(const char *before, const char *line)
{
        size_t n = strlen(line);
        const char *p = before;

        while ((p = strstr(p, line))) {
                if ((p == before || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
                        return 0;
                p += n;
        }
        return 1;
}

static void check_pool(const char *name, const char *root)
{
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        apid_sid *sid = NULL;
        const char *dir;
        char *a = NULL, *b = NULL;
        size_t n = strlen(root);

        if (apid_pool_open(ctx, name, &pool) != APID_OK || apid_pool_get_identity(pool, &id) != APID_OK)
                die("imported pool does not open", apid_error_message());
        if (apid_pool_get_identity_type(pool) == APID_IDENTITY_APPLICATION_POOL_IDENTITY) {
                if (apid_sid_for_pool(name, &sid) != APID_OK || apid_sid_to_string(sid, &a) != APID_OK ||
                    apid_sid_to_string(apid_identity_get_sid(id), &b) != APID_OK || strcmp(a, b) != 0)
                        die("pool runs as another SID's account", name);
        }
        dir = apid_identity_get_profile_dir(id);
        if (dir && (strncmp(dir, root, n) != 0 || dir[n] != '/' || !name_valid(dir + n + 1) ||
                    strcmp(dir + n + 1, apid_identity_get_user(id)) != 0))
                die("profile path leaves the profile root", dir);
        apid_free(a);
        apid_free(b);
        apid_sid_free(sid);
        apid_identity_free(id);
        apid_pool_free(pool);
}

/* The account of a pool's uid is its own SID's (never a deleted pool's). */
static void check_pool_account(const char *export, const char *name, unsigned uid)
{
        char key[32], sid[200];
        apid_sid *own = NULL;
        char *text = NULL;
        const char *p;

        snprintf(key, sizeof(key), "\naccount\t%u\t", uid);
        p = strstr(export, key);
        if (!p || sscanf(p + strlen(key), "%199[^\t]", sid) != 1)
                die("pool without an account accepted", name);
        if (apid_sid_for_pool(name, &own) != APID_OK || apid_sid_to_string(own, &text) != APID_OK)
                die("pool name", name);
        if (strcmp(text, sid) != 0)
                die("pool on another SID's uid accepted", name);
        apid_free(text);
        apid_sid_free(own);
}

static void check_added(const char *before, char *after)
{
        char *whole = strdup(after);

        char start_s[32], size_s[32], root[1200];
        uint64_t first, size;
        char *line, *save = NULL;

        first = strtoull(setting(after, "idRangeStart", start_s, sizeof(start_s)), NULL, 10);
        size = strtoull(setting(after, "idRangeSize", size_s, sizeof(size_s)), NULL, 10);
        setting(after, "profileRoot", root, sizeof(root));
        if (!root[0])
                snprintf(root, sizeof(root), "%s/profiles", state);
        if (first < 65536 || size == 0 || first + size - 1 > 2147483647u)
                die("id range accepted", start_s);
        if (strchr(root, ':') || strstr(root, "/../") || strlen(root) > 1024)
                die("profile root accepted", root);
        for (line = strtok_r(after, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                unsigned uid, kind, probe;
                char sid[200], user[200], name[1100];

                if (!added(before, line))
                        continue;
                if (sscanf(line, "account\t%u\t%199[^\t]\t%199[^\t]\t%u\t%u", &uid, sid, user, &kind, &probe) == 5) {
                        if (!name_valid(user))
                                die("account name accepted", user);
                        if (uid < first || uid - first >= size)
                                die("uid outside the range accepted", line);
                        if (probe >= 1024 || candidate(sid, first, size, probe) != uid)
                                die("uid that is not its SID's candidate accepted", line);
                        if (getpwnam(user) == NULL)
                                ; /* fine: not a name another source owns (NSS has no module for us here) */
                        else
                                die("account name another NSS source owns accepted", user);
                } else if (sscanf(line, "pool\t%1099[^\t]\t%u", name, &uid) == 2) {
                        check_pool(name, root);
                        check_pool_account(whole, name, uid);
                }
        }
        free(whole);
}

#ifdef FUZZ_LDIF
/* After an accepted LDIF: the registry's own LDIF export imports again,
 * as a no-op (a farm's hosts exchange it back and forth). */
static void ldif_round_trip(void)
{
        char *text = NULL, *after = dump(), *again;
        FILE *f;

        if (apid_registry_export_ldif(ctx, NULL, NULL, NULL, &text) != APID_OK)
                die("export --ldif", apid_error_message());
        f = fopen(input, "w");
        if (!f)
                die("input", input);
        fputs(text, f);
        fclose(f);
        apid_free(text);
        if (apid_registry_import_ldif(ctx, input) != APID_OK)
                die("own LDIF export refused", apid_error_message());
        again = dump();
        if (strcmp(after, again) != 0)
                die("own LDIF export changed the registry", input);
        free(after);
        free(again);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *before, *after;
        FILE *f;
        int r;

        if (!base[0]) {
                snprintf(base, sizeof(base), "%s", access("/dev/shm", W_OK) == 0 ? "/dev/shm/apid-fuzz-XXXXXX"
                                                                               : "/tmp/apid-fuzz-XXXXXX");
                if (!mkdtemp(base))
                        die("mkdtemp", base);
                snprintf(state, sizeof(state), "%s/state", base);
                snprintf(input, sizeof(input), "%s/input.tsv", base);
                snprintf(dumpfile, sizeof(dumpfile), "%s/dump.tsv", base);
                fresh_registry();
        }
        if (accepted >= 64)
                fresh_registry();
        f = fopen(input, "w");
        if (!f)
                die("input", input);
        fwrite(data, 1, size, f);
        fclose(f);
        before = dump();
#ifdef FUZZ_LDIF
        r = apid_registry_import_ldif(ctx, input);
#else
        r = apid_registry_import(ctx, input);
#endif
        after = dump();
        if (r != APID_OK) {
                char prefix[200];

                snprintf(prefix, sizeof(prefix), "import %s", input);
                if (strncmp(apid_error_message(), prefix, strlen(prefix)) != 0)
                        die("refusal without the file named", apid_error_message());
                if (strcmp(before, after) != 0)
                        die("refused import changed the registry", apid_error_message());
        } else {
                accepted++;
                check_added(before, after);
#ifdef FUZZ_LDIF
                ldif_round_trip();
#endif
        }
        free(before);
        free(after);
        return 0;
}
