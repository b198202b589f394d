/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hostile registry imports, profile trees and state directories (issue 15):
 * every name, path and number an import carries is checked as `pool add`
 * checks it, refusals name the line and the value in a whole message, and
 * nothing of a refused file is kept. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>

#include "testutil.h"
#include "testutil-state.h"

#define RANGE_START 1879048192u
#define RANGE_END (1879048192u + 16777216u - 1)
#define ADMIN_GID 4242u

/* An account line of an export, split. */
struct acct {
        unsigned uid, kind, probe;
        char sid[200], user[64];
};

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "r");
        char *buf;
        long n;

        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        buf = calloc(1, (size_t)n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        return buf;
}

static void spit(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void spit(const char *path, const char *fmt, ...)
{
        FILE *f = fopen(path, "w");
        va_list ap;

        assert_non_null(f);
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fclose(f);
}

/* The registry as its export, for "nothing changed" comparisons. */
static char *dump(apid_ctx *ctx, const char *dir)
{
        char path[512];
        char *text;

        snprintf(path, sizeof(path), "%s/dump.tsv", dir);
        must(apid_registry_export(ctx, path));
        text = slurp(path);
        unlink(path);
        return text;
}

/* The account line of a user in ctx's export. */
static void account_of(apid_ctx *ctx, const char *dir, const char *user, struct acct *a)
{
        char *text = dump(ctx, dir), *line, *save = NULL;

        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (sscanf(line, "account\t%u\t%199[^\t]\t%63[^\t]\t%u\t%u", &a->uid, a->sid, a->user, &a->kind,
                           &a->probe) == 5 &&
                    strcmp(a->user, user) == 0) {
                        free(text);
                        return;
                }
        fail_msg("no account %s in the export", user);
}

/* Import file into ctx; expect status and exactly the message (with %s for
 * the file's path). Then the registry must be as it was. */
static void refused(apid_ctx *ctx, const char *dir, const char *file, int status, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static void refused(apid_ctx *ctx, const char *dir, const char *file, int status, const char *fmt, ...)
{
        char expect[2048], tmp[1024];
        char *before = dump(ctx, dir), *after;
        va_list ap;
        int r;

        va_start(ap, fmt);
        vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        snprintf(expect, sizeof(expect), "import %s, line %s", file, tmp);
        r = apid_registry_import(ctx, file);
        if (r != status || strcmp(apid_error_message(), expect) != 0)
                fail_msg("import gave %d '%s'\n  expected %d '%s'", r, apid_error_message(), status, expect);
        after = dump(ctx, dir);
        assert_string_equal(before, after);
        free(before);
        free(after);
}

/* A source host with pool "web" alive and pool "old" deleted. */
static apid_ctx *source_host(char *dir, size_t size, struct acct *web, struct acct *old)
{
        apid_ctx *src = other_host(dir, size);

        must(apid_pool_create(src, "web", NULL));
        must(apid_pool_create(src, "old", NULL));
        must(apid_pool_delete(src, "old", APID_POOL_DELETE_KEEP_PROFILE));
        account_of(src, dir, "apppool-web", web);
        account_of(src, dir, "apppool-old", old);
        return src;
}

static void import_refuses_bad_user_names(void **state)
{
        struct fixture *f = *state;
        static const char *const bad[] = { "../../etc", "../../../../etc", "a/b", "Web", "-x", ".", "web~",
                                           "abcdefghijabcdefghijabcdefghijabc" };
        char dir[256], file[512];
        struct acct web, old;
        apid_ctx *src = source_host(dir, sizeof(dir), &web, &old);
        size_t i;

        snprintf(file, sizeof(file), "%s/in.tsv", f->dir);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                spit(file, "apppoolid-export 1\naccount\t%u\t%s\t%s\t0\t%u\npool\tweb\t%u\n", web.uid, web.sid, bad[i],
                     web.probe, web.uid);
                refused(f->ctx, f->dir, file, APID_EINVAL,
                        "2: account user name '%s': not a valid user or group name (lower case, at most 32, "
                        "^[a-z_][a-z0-9_-]*$)", bad[i]);
        }
        assert_int_equal(pool_count(f->ctx), 0);
        apid_ctx_unref(src);
        rm_tree(dir);
}

static void import_refuses_names_other_sources_own(void **state)
{
        struct fixture *f = *state;
        static const char *const owned[] = { "root", "daemon", "nobody" };
        char dir[256], file[512];
        struct acct web, old;
        apid_ctx *src = source_host(dir, sizeof(dir), &web, &old);
        size_t i;

        snprintf(file, sizeof(file), "%s/in.tsv", f->dir);
        for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
                spit(file, "apppoolid-export 1\naccount\t%u\t%s\t%s\t0\t%u\n", web.uid, web.sid, owned[i], web.probe);
                refused(f->ctx, f->dir, file, APID_ECOLLISION,
                        "2: account user name '%s': already a user or group on this host (NSS)", owned[i]);
        }
        /* The shared group's name too. */
        spit(file, "apppoolid-export 1\naccount\t%u\tS-1-5-32-568\troot\t2\t0\n", RANGE_START);
        refused(f->ctx, f->dir, file, APID_ECOLLISION,
                "2: account user name 'root': already a user or group on this host (NSS)");
        apid_ctx_unref(src);
        rm_tree(dir);
}

static void import_refuses_uids_that_are_not_the_sids(void **state)
{
        struct fixture *f = *state;
        char dir[256], file[512];
        struct acct web, old;
        apid_ctx *src = source_host(dir, sizeof(dir), &web, &old);
        unsigned other = web.uid == RANGE_END ? web.uid - 1 : web.uid + 1;

        snprintf(file, sizeof(file), "%s/in.tsv", f->dir);
        /* Below the range: a uid the NSS module hides and useradd hands out. */
        spit(file, "apppoolid-export 1\naccount\t4242\t%s\tapppool-web\t0\t0\npool\tweb\t4242\n", web.sid);
        refused(f->ctx, f->dir, file, APID_ERANGE, "2: %s: uid 4242 is outside the id range %u..%u", web.sid,
                RANGE_START, RANGE_END);
        /* In the range but not the SID's candidate. */
        spit(file, "apppoolid-export 1\naccount\t%u\t%s\tapppool-web\t0\t%u\npool\tweb\t%u\n", other, web.sid,
             web.probe, other);
        refused(f->ctx, f->dir, file, APID_ECOLLISION, "2: %s: uid %u is not its candidate %u (that is %u)", web.sid,
                other, web.probe, web.uid);
        /* A probe index past what pool add would ever try. */
        spit(file, "apppoolid-export 1\naccount\t%u\t%s\tapppool-web\t0\t5000\n", web.uid, web.sid);
        refused(f->ctx, f->dir, file, APID_ECOLLISION, "2: %s: uid %u is candidate 5000, past the 1024 pool add tries",
                web.sid, web.uid);
        /* A pool on a deleted pool's uid: it would run as apppool-old. */
        spit(file, "apppoolid-export 1\naccount\t%u\t%s\tapppool-old\t0\t%u\npool\tweb\t%u\n", old.uid, old.sid,
             old.probe, old.uid);
        refused(f->ctx, f->dir, file, APID_ECOLLISION,
                "3: pool 'web': uid %u is the account of %s, not of the pool's SID %s", old.uid, old.sid, web.sid);
        /* A pool whose uid has no account at all. */
        spit(file, "apppoolid-export 1\npool\tweb\t%u\n", web.uid);
        refused(f->ctx, f->dir, file, APID_ECOLLISION, "2: pool 'web': uid %u has no account record", web.uid);
        /* A pool account's user name that pool add would not give the pool. */
        spit(file, "apppoolid-export 1\naccount\t%u\t%s\tapppool-other\t0\t%u\npool\tweb\t%u\n", web.uid, web.sid,
             web.probe, web.uid);
        refused(f->ctx, f->dir, file, APID_ECOLLISION,
                "3: pool 'web': its account is named 'apppool-other', pool add names it 'apppool-web'");
        /* A pool account claiming a built-in SID, and the other way round. */
        spit(file, "apppoolid-export 1\naccount\t%u\tS-1-5-18\tapppool-web\t0\t0\n", web.uid);
        refused(f->ctx, f->dir, file, APID_EINVAL, "2: account kind 0 (pool): SID S-1-5-18 is not a pool's SID");
        spit(file, "apppoolid-export 1\naccount\t%u\t%s\tapppool-web\t1\t%u\n", web.uid, web.sid, web.probe);
        refused(f->ctx, f->dir, file, APID_EINVAL,
                "2: account kind 1 (LocalService/NetworkService): SID %s is not S-1-5-19 or S-1-5-20", web.sid);
        /* The real thing still imports, with the same uid. */
        spit(file, "apppoolid-export 1\naccount\t%u\t%s\tapppool-web\t0\t%u\npool\tweb\t%u\n", web.uid, web.sid,
             web.probe, web.uid);
        must(apid_registry_import(f->ctx, file));
        assert_int_equal(pool_uid(f->ctx, "web", NULL), web.uid);
        apid_ctx_unref(src);
        rm_tree(dir);
}

static void import_checks_settings_as_registry_set_does(void **state)
{
        struct fixture *f = *state;
        char file[512], root[1100];
        struct acct a;
        char *before;

        snprintf(file, sizeof(file), "%s/in.tsv", f->dir);
        assert_int_equal(apid_registry_set(f->ctx, "idRangeStart", "2147483647"), APID_EINVAL);
        assert_string_equal(apid_error_message(),
                            "idRangeStart '2147483647': the id range 2147483647..2164260862 would pass 2147483647 "
                            "(2^31 - 1)");
        spit(file, "apppoolid-export 1\nsetting\tidRangeStart\t2147483647\n");
        refused(f->ctx, f->dir, file, APID_EINVAL,
                "2: idRangeStart '2147483647': the id range 2147483647..2164260862 would pass 2147483647 (2^31 - 1)");
        /* Both numbers of a range the file moves are taken together. */
        spit(file, "apppoolid-export 1\nsetting\tidRangeStart\t2000000000\nsetting\tidRangeSize\t200000000\n");
        refused(f->ctx, f->dir, file, APID_EINVAL,
                "2: idRangeStart '2000000000': the id range 2000000000..2199999999 would pass 2147483647 (2^31 - 1)");
        spit(file, "apppoolid-export 1\nsetting\tidRangeStart\t2000000000\nsetting\tidRangeSize\t1000\n");
        must(apid_registry_import(f->ctx, file));
        /* A range moved after the accounts it governs would leave them outside. */
        must(apid_pool_create(f->ctx, "inrange", NULL));
        account_of(f->ctx, f->dir, "apppool-inrange", &a);
        spit(file, "apppoolid-export 1\naccount\t%u\t%s\tapppool-inrange\t0\t%u\nsetting\tidRangeStart\t1879048192\n",
             a.uid, a.sid, a.probe);
        refused(f->ctx, f->dir, file, APID_EINVAL, "3: idRangeStart '1879048192': after the accounts of line 2; the "
                "id range comes first (as export writes it)");
        /* The shared group's account is made where its line stands: the
         * range cannot move after it, nor be given twice (found by fuzz-import:
         * the group took its uid from the first of two ranges). */
        spit(file, "apppoolid-export 1\nsetting\tsharedGroup\tapppool-users\nsetting\tidRangeStart\t939524096\n");
        refused(f->ctx, f->dir, file, APID_EINVAL, "3: idRangeStart '939524096': after the accounts of line 2; the "
                "id range comes first (as export writes it)");
        spit(file, "apppoolid-export 1\nsetting\tidRangeStart\t1879049812\nsetting\tsharedGroup\tapppool-users\n"
             "setting\tIDRANGESTART\t939524096\n");
        refused(f->ctx, f->dir, file, APID_EINVAL, "4: idRangeStart: set twice (first on line 2)");
        spit(file, "apppoolid-export 1\nsetting\tprofileRoot\t/srv/a\nsetting\tprofileRoot\t/srv/b\n");
        refused(f->ctx, f->dir, file, APID_EINVAL, "3: profileRoot: set twice (first on line 2)");
        must(apid_pool_delete(f->ctx, "inrange", APID_POOL_DELETE_KEEP_PROFILE));
        must(apid_registry_set(f->ctx, "idRangeStart", "1879048192"));
        must(apid_registry_set(f->ctx, "idRangeSize", "16777216"));
        /* localSystemUser must exist, as registry set says. */
        assert_int_equal(apid_registry_set(f->ctx, "localSystemUser", "no-such-user"), APID_ENOTFOUND);
        assert_string_equal(apid_error_message(), "localSystemUser 'no-such-user': no such account");
        spit(file, "apppoolid-export 1\nsetting\tlocalSystemUser\tno-such-user\n");
        refused(f->ctx, f->dir, file, APID_ENOTFOUND, "2: localSystemUser 'no-such-user': no such account");
        /* profileRoot: nothing a passwd line cannot carry. */
        spit(file, "apppoolid-export 1\nsetting\tprofileRoot\t/srv/a:b\n");
        refused(f->ctx, f->dir, file, APID_EINVAL,
                "2: profileRoot '/srv/a:b': ':' cannot appear in a passwd line's home directory");
        memset(root, 'a', sizeof(root));
        root[0] = '/';
        root[1025] = '\0';
        spit(file, "apppoolid-export 1\nsetting\tprofileRoot\t%s\n", root);
        before = apid_error_message()[0] ? strdup(root) : NULL;
        assert_int_equal(apid_registry_import(f->ctx, file), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "line 2: profileRoot '/aaaa"));
        assert_non_null(strstr(apid_error_message(), "': 1025 bytes, at most 1024"));
        free(before);
        /* Nothing of that changed what pool add does. */
        must(apid_pool_create(f->ctx, "after", NULL));
        assert_true(pool_uid(f->ctx, "after", NULL) >= RANGE_START);
}

static void profile_root_rules(void **state)
{
        struct fixture *f = *state;
        char root[1100];

        assert_int_equal(apid_registry_set(f->ctx, "profileRoot", "/srv/a:b"), APID_EINVAL);
        assert_string_equal(apid_error_message(),
                            "profileRoot '/srv/a:b': ':' cannot appear in a passwd line's home directory");
        assert_int_equal(apid_registry_set(f->ctx, "profileRoot", "/srv/a\nb"), APID_EINVAL);
        assert_string_equal(apid_error_message(), "profileRoot '/srv/a\\x0Ab': control character");
        assert_int_equal(apid_registry_set(f->ctx, "profileRoot", "/srv/../etc"), APID_EINVAL);
        assert_string_equal(apid_error_message(), "profileRoot '/srv/../etc': '.' and '..' components are not allowed");
        assert_int_equal(apid_registry_set(f->ctx, "profileRoot", "/srv//p"), APID_EINVAL);
        assert_string_equal(apid_error_message(), "profileRoot '/srv//p': empty path component");
        memset(root, 'a', sizeof(root));
        root[0] = '/';
        root[1025] = '\0';
        assert_int_equal(apid_registry_set(f->ctx, "profileRoot", root), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "': 1025 bytes, at most 1024"));
        root[1024] = '\0';
        must(apid_registry_set(f->ctx, "profileRoot", root));
        must(apid_registry_set(f->ctx, "profileRoot", "/srv/profiles/"));
}

static void import_messages_are_whole(void **state)
{
        struct fixture *f = *state;
        char dir[256], file[512];
        struct acct web, old;
        apid_ctx *src = source_host(dir, sizeof(dir), &web, &old);

        snprintf(file, sizeof(file), "%s/in.tsv", f->dir);
        spit(file, "apppoolid-export 1\nsetting\tfrobnicate\t1\n");
        refused(f->ctx, f->dir, file, APID_EINVAL, "2: registry setting 'frobnicate': no such setting");
        spit(file, "apppoolid-export 1\nsetting\tidRangeSize\tlots\n");
        refused(f->ctx, f->dir, file, APID_EINVAL, "2: idRangeSize 'lots': not a whole number from 1 to 2147418112");
        spit(file, "apppoolid-export 1\naccount\t%u\t%s\tapppool-web\t0\t%u\npool\tweb\t%u\n"
                   "poolsetting\tweb\tqueueLength\t5\n", web.uid, web.sid, web.probe, web.uid);
        refused(f->ctx, f->dir, file, APID_EINVAL, "4: queueLength '5': not a whole number from 10 to 65535");
        spit(file, "apppoolid-export 1\naccount\t%u\t%s\tapppool-web\t0\t%u\npool\tweb\t%u\n"
                   "poolsetting\tweb\tfrobnicate\t5\n", web.uid, web.sid, web.probe, web.uid);
        refused(f->ctx, f->dir, file, APID_EINVAL, "4: pool setting 'frobnicate': no such setting");
        spit(file, "apppoolid-export 1\npoolsetting\tnowhere\tqueueLength\t50\n");
        refused(f->ctx, f->dir, file, APID_ENOTFOUND, "2: pool 'nowhere': no such pool (yet) for its setting");
        spit(file, "apppoolid-export 1\naccount\tx\t%s\tapppool-web\t0\t0\n", web.sid);
        refused(f->ctx, f->dir, file, APID_EINVAL, "2: malformed account record");
        spit(file, "apppoolid-export 1\naccount\t%u\tS-1-2-x\tapppool-web\t0\t0\n", web.uid);
        refused(f->ctx, f->dir, file, APID_EINVAL, "2: malformed account record");
        spit(file, "apppoolid-export 1\npool\tweb\n");
        refused(f->ctx, f->dir, file, APID_EINVAL, "2: not a record this library knows");
        spit(file, "apppoolid-export 1\npool\ta/b\t%u\n", web.uid);
        refused(f->ctx, f->dir, file, APID_EINVAL, "2: malformed pool record: pool name 'a/b': character '/' is not "
                                                   "allowed");
        apid_ctx_unref(src);
        rm_tree(dir);
}

static void import_conflict_messages_are_whole(void **state)
{
        struct fixture *f = *state;
        char dir[256], file[512], expect[1024];
        struct acct web, old;
        apid_ctx *src = source_host(dir, sizeof(dir), &web, &old);
        unsigned other = web.uid == RANGE_END ? web.uid - 1 : web.uid + 1;
        FILE *fp;

        must(apid_pool_create(f->ctx, "web", NULL)); /* the same uid as on the source */
        snprintf(file, sizeof(file), "%s/in.tsv", f->dir);
        spit(file, "apppoolid-export 1\naccount\t%u\t%s\tapppool-web\t0\t%u\n", other, web.sid, web.probe);
        refused(f->ctx, f->dir, file, APID_ECOLLISION, "2: %s has uid %u here and %u in the file", web.sid, web.uid,
                other);
        spit(file, "apppoolid-export 1\naccount\t%u\t%s\tapppool-other\t0\t%u\n", web.uid, web.sid, web.probe);
        refused(f->ctx, f->dir, file, APID_ECOLLISION, "2: %s is user apppool-web here and apppool-other in the file",
                web.sid);
        spit(file, "apppoolid-export 1\npool\tweb\t%u\n", other);
        refused(f->ctx, f->dir, file, APID_ECOLLISION, "2: pool 'web' has uid %u here and %u in the file", web.uid,
                other);
        spit(file, "apppoolid-export 1\npool\tweb\tx\n");
        refused(f->ctx, f->dir, file, APID_EINVAL, "2: malformed pool record: uid 'x'");
        spit(file, "apppoolid-export 1\npoolsetting\ta/b\tqueueLength\t50\n");
        refused(f->ctx, f->dir, file, APID_EINVAL,
                "2: malformed pool setting record: pool name 'a/b': character '/' is not allowed");
        spit(file, "apppoolid-export 1\npoolsetting\tweb\tprocessModel.userName\tno-such-user\n");
        refused(f->ctx, f->dir, file, APID_ENOTFOUND, "2: processModel.userName 'no-such-user': no such account");
        spit(file, "apppoolid-export 1\naccount\t%u\t%s\tapppool-users\t2\t0\n", old.uid, old.sid);
        refused(f->ctx, f->dir, file, APID_EINVAL, "2: account kind 2 (shared group): SID %s is not S-1-5-32-568",
                old.sid);
        /* Whole-file refusals. */
        spit(file, "apppoolid-export 1\npoolsetting\tweb\tprocessModel.identityType\tSpecificUser\n");
        assert_int_equal(apid_registry_import(f->ctx, file), APID_EINVAL);
        snprintf(expect, sizeof(expect),
                 "import %s: pool 'web': processModel.identityType 'SpecificUser' without processModel.userName", file);
        assert_string_equal(apid_error_message(), expect);
        spit(file, "hello\n");
        assert_int_equal(apid_registry_import(f->ctx, file), APID_EINVAL);
        snprintf(expect, sizeof(expect), "import %s: not an apppoolid export (first line is not 'apppoolid-export 1')",
                 file);
        assert_string_equal(apid_error_message(), expect);
        fp = fopen(file, "w");
        assert_non_null(fp);
        fwrite("apppoolid-export 1\nsetting\0x\n", 1, 29, fp);
        fclose(fp);
        assert_int_equal(apid_registry_import(f->ctx, file), APID_EINVAL);
        snprintf(expect, sizeof(expect), "import %s, line 2: NUL byte", file);
        assert_string_equal(apid_error_message(), expect);
        assert_int_equal(pool_count(f->ctx), 1);
        apid_ctx_unref(src);
        rm_tree(dir);
}

static void refused_import_keeps_nothing(void **state)
{
        struct fixture *f = *state;
        char dir[256], file[512];
        struct acct web, old;
        apid_ctx *src = source_host(dir, sizeof(dir), &web, &old);

        snprintf(file, sizeof(file), "%s/in.tsv", f->dir);
        /* Good lines first, then a bad one: none of it is kept. */
        spit(file, "apppoolid-export 1\nsetting\tsharedGroup\tapppool-users\naccount\t%u\t%s\tapppool-web\t0\t%u\n"
                   "pool\tweb\t%u\naccount\t%u\t%s\t../x\t0\t%u\n", web.uid, web.sid, web.probe, web.uid, old.uid,
             old.sid, old.probe);
        refused(f->ctx, f->dir, file, APID_EINVAL,
                "5: account user name '../x': not a valid user or group name (lower case, at most 32, "
                "^[a-z_][a-z0-9_-]*$)");
        assert_int_equal(pool_count(f->ctx), 0);
        apid_ctx_unref(src);
        rm_tree(dir);
}

/* Run fn as the pool's uid in a child process; return its exit status. */
static int as_pool(uint32_t uid, void (*fn)(const char *dir), const char *dir)
{
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(90);
                fn(dir);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

static const char *outside_file, *outside_dir;

/* What a hostile worker leaves in its profile: 300 nested directories, links
 * out of the tree at every level and a file at the bottom. */
static void plant_deep_tree(const char *profile)
{
        int fd = open(profile, O_RDONLY | O_DIRECTORY), next, i;

        if (fd < 0)
                _exit(10);
        for (i = 0; i < 300; i++) {
                if (symlinkat(outside_file, fd, "file-link") < 0 || symlinkat(outside_dir, fd, "dir-link") < 0)
                        _exit(11);
                if (mkdirat(fd, "d", 0700) < 0)
                        _exit(12);
                next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
                if (next < 0)
                        _exit(13);
                close(fd);
                fd = next;
        }
        next = openat(fd, "bottom", O_CREAT | O_WRONLY, 0600);
        if (next < 0 || write(next, "x", 1) != 1)
                _exit(14);
        _exit(0);
}

static void remove_tmp(const char *profile)
{
        char path[600];

        snprintf(path, sizeof(path), "%s/tmp", profile);
        _exit(rmdir(path) == 0 ? 0 : 20);
}

static void profile_trees_of_any_depth_are_removed(void **state)
{
        struct fixture *f = *state;
        char ofile[512], odir[512], inside[600], path[600];
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        struct stat st;
        int fd;

        if (geteuid() != 0)
                skip(); /* a real pool process needs setuid */
        assert_int_equal(chmod(f->dir, 0755), 0);
        snprintf(ofile, sizeof(ofile), "%s/outside-file", f->dir);
        snprintf(odir, sizeof(odir), "%s/outside-dir", f->dir);
        fd = open(ofile, O_CREAT | O_WRONLY, 0644);
        close(fd);
        assert_int_equal(mkdir(odir, 0755), 0);
        snprintf(inside, sizeof(inside), "%s/keep", odir);
        fd = open(inside, O_CREAT | O_WRONLY, 0644);
        close(fd);
        outside_file = ofile;
        outside_dir = odir;
        must(apid_pool_create(f->ctx, "deep", &pool));
        must(apid_pool_set(pool, "processModel.loadUserProfile", "true"));
        must(apid_pool_get_identity(pool, &id));
        assert_int_equal(as_pool(apid_identity_get_uid(id), plant_deep_tree, apid_identity_get_profile_dir(id)), 0);
        must(apid_pool_delete(f->ctx, "deep", APID_POOL_DELETE_REMOVE_PROFILE));
        assert_int_equal(lstat(apid_identity_get_profile_dir(id), &st), -1);
        assert_int_equal(errno, ENOENT);
        /* Nothing the links pointed at was touched. */
        assert_int_equal(stat(ofile, &st), 0);
        assert_int_equal(stat(inside, &st), 0);
        snprintf(path, sizeof(path), "%s/registry.db", f->dir);
        assert_int_equal(stat(path, &st), 0);
        apid_identity_free(id);
        apid_pool_free(pool);
}

/* The same on a kernel without openat2 (before 5.6): a seccomp filter makes
 * it ENOSYS in a child, which then removes the tree by the O_NOFOLLOW walk. */
static void profile_removal_without_openat2(void **state)
{
        struct fixture *f = *state;
        char ofile[512], odir[512], inside[600];
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        struct stat st;
        int fd, status;
        pid_t pid;

        if (geteuid() != 0)
                skip();
        assert_int_equal(chmod(f->dir, 0755), 0);
        snprintf(ofile, sizeof(ofile), "%s/outside-file", f->dir);
        snprintf(odir, sizeof(odir), "%s/outside-dir", f->dir);
        fd = open(ofile, O_CREAT | O_WRONLY, 0644);
        close(fd);
        assert_int_equal(mkdir(odir, 0755), 0);
        snprintf(inside, sizeof(inside), "%s/keep", odir);
        fd = open(inside, O_CREAT | O_WRONLY, 0644);
        close(fd);
        outside_file = ofile;
        outside_dir = odir;
        must(apid_pool_create(f->ctx, "walk", &pool));
        must(apid_pool_set(pool, "processModel.loadUserProfile", "true"));
        must(apid_pool_get_identity(pool, &id));
        assert_int_equal(as_pool(apid_identity_get_uid(id), plant_deep_tree, apid_identity_get_profile_dir(id)), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                scmp_filter_ctx sc = seccomp_init(SCMP_ACT_ALLOW);
                struct open_how how = { .flags = O_RDONLY };
                apid_ctx *ctx = NULL;

                if (!sc || seccomp_rule_add(sc, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) < 0 ||
                    seccomp_load(sc) < 0)
                        _exit(2);
                if (syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how)) >= 0 || errno != ENOSYS)
                        _exit(3); /* the filter did not take */
                if (apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, f->dir) != APID_OK)
                        _exit(4);
                if (apid_pool_delete(ctx, "walk", APID_POOL_DELETE_REMOVE_PROFILE) != APID_OK) {
                        fprintf(stderr, "%s\n", apid_error_message());
                        _exit(5);
                }
                apid_ctx_unref(ctx);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(lstat(apid_identity_get_profile_dir(id), &st), -1);
        assert_int_equal(stat(ofile, &st), 0);
        assert_int_equal(stat(inside, &st), 0);
        apid_identity_free(id);
        apid_pool_free(pool);
}

/* The pool moves part of its tree out, while it is being removed, to a
 * directory of its own beside a root-owned file. Climbing back through ".."
 * must notice (device and inode) and never clear the directory it came out
 * in (without the check, this removed the victim). */
static char race_src[700], race_dst[700], race_start[700];

/* Wait until the removal has started (the first level's link is gone), then
 * move the subtree it is working in out of the profile, once. */
static void mover(const char *unused)
{
        struct stat st;

        (void)unused;
        while (lstat(race_start, &st) == 0)
                ;
        _exit(rename(race_src, race_dst) == 0 ? 0 : 1);
}

static void moving_tree_round(struct fixture *f, const char *sticky, const char *victim, int round)
{
        char own[600], name[32];
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        struct stat st;
        int r, status;
        pid_t pid;

        snprintf(own, sizeof(own), "%s/own%d", sticky, round);
        snprintf(name, sizeof(name), "mover%d", round);
        must(apid_pool_create(f->ctx, name, &pool));
        must(apid_pool_set(pool, "processModel.loadUserProfile", "true"));
        must(apid_pool_get_identity(pool, &id));
        assert_int_equal(mkdir(own, 0700), 0);
        assert_int_equal(chown(own, apid_identity_get_uid(id), apid_identity_get_gid(id)), 0);
        assert_int_equal(as_pool(apid_identity_get_uid(id), plant_deep_tree, apid_identity_get_profile_dir(id)), 0);
        snprintf(race_src, sizeof(race_src), "%s/d/d", apid_identity_get_profile_dir(id));
        snprintf(race_dst, sizeof(race_dst), "%s/d", own);
        snprintf(race_start, sizeof(race_start), "%s/file-link", apid_identity_get_profile_dir(id));
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                uint32_t uid = apid_identity_get_uid(id);

                if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(90);
                mover(NULL);
        }
        r = apid_pool_delete(f->ctx, name, APID_POOL_DELETE_REMOVE_PROFILE);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (r != APID_OK && r != APID_EBUSY)
                fail_msg("removal under a moving tree: %d %s", r, apid_error_message());
        /* What the links and the moves pointed at is all there. */
        assert_int_equal(stat(victim, &st), 0);
        assert_int_equal(stat(own, &st), 0);
        apid_identity_free(id);
        apid_pool_free(pool);
}

static void profile_removal_survives_a_moving_tree(void **state)
{
        struct fixture *f = *state;
        static char sticky[512], victim[600]; /* static: outside_file/dir point at them */
        int fd, round;

        if (geteuid() != 0)
                skip();
        assert_int_equal(chmod(f->dir, 0755), 0);
        snprintf(sticky, sizeof(sticky), "%s/sticky", f->dir);
        assert_int_equal(mkdir(sticky, 0777), 0);
        assert_int_equal(chmod(sticky, 01777), 0);
        snprintf(victim, sizeof(victim), "%s/victim", sticky);
        fd = open(victim, O_CREAT | O_WRONLY, 0644);
        close(fd);
        outside_file = victim;
        outside_dir = sticky;
        for (round = 0; round < 3; round++)
                moving_tree_round(f, sticky, victim, round);
}

static void profile_root_others_can_write_is_refused(void **state)
{
        struct fixture *f = *state;
        char root[512], expect[1200];
        apid_pool *pool = NULL;

        if (geteuid() != 0)
                skip();
        snprintf(root, sizeof(root), "%s/shared-profiles", f->dir);
        assert_int_equal(mkdir(root, 0777), 0);
        assert_int_equal(chmod(root, 01777), 0);
        must(apid_registry_set(f->ctx, "profileRoot", root));
        must(apid_pool_create(f->ctx, "p", &pool));
        assert_int_equal(apid_pool_set(pool, "processModel.loadUserProfile", "true"), APID_EPERM);
        snprintf(expect, sizeof(expect), "profile root %s: mode 1777 lets group or others write it; chmod go-w %s",
                 root, root);
        assert_string_equal(apid_error_message(), expect);
        assert_int_equal(chmod(root, 0755), 0);
        must(apid_pool_set(pool, "processModel.loadUserProfile", "true"));
        apid_pool_free(pool);
}

static void profiles_have_their_tmp(void **state)
{
        struct fixture *f = *state;
        char tmp[600];
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        apid_token *t = NULL;
        char want[700];
        char *desc = NULL;
        struct stat st;

        if (geteuid() != 0)
                skip();
        assert_int_equal(chmod(f->dir, 0755), 0);
        must(apid_pool_create(f->ctx, "tmpdir", &pool));
        must(apid_pool_set(pool, "processModel.loadUserProfile", "true"));
        must(apid_pool_get_identity(pool, &id));
        snprintf(tmp, sizeof(tmp), "%s/tmp", apid_identity_get_profile_dir(id));
        assert_int_equal(lstat(tmp, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(st.st_uid, apid_identity_get_uid(id));
        assert_int_equal(st.st_gid, apid_identity_get_gid(id));
        /* TMPDIR names it. */
        must(apid_token_new(id, &t));
        must(apid_token_describe(t, &desc));
        snprintf(want, sizeof(want), "TMPDIR=%s", tmp);
        if (!strstr(desc, want))
                fail_msg("token without %s:\n%s", want, desc);
        apid_free(desc);
        /* The pool removes it; the next change of the pool puts it back. */
        assert_int_equal(as_pool(apid_identity_get_uid(id), remove_tmp, apid_identity_get_profile_dir(id)), 0);
        assert_int_equal(lstat(tmp, &st), -1);
        must(apid_pool_set(pool, "processModel.loadUserProfile", "true"));
        assert_int_equal(lstat(tmp, &st), 0);
        assert_int_equal(st.st_uid, apid_identity_get_uid(id));
        apid_token_free(t);
        apid_identity_free(id);
        apid_pool_free(pool);
}

static void state_dir_must_be_private(void **state)
{
        struct fixture *f = *state;
        char expect[1024], dir[256];

        memcpy(dir, f->dir, sizeof(dir)); /* a copy: gcc -fsanitize=undefined warns on f->dir as a %s */

        assert_int_equal(chmod(f->dir, 0777), 0);
        assert_int_equal(apid_pool_create(f->ctx, "x", NULL), APID_EPERM);
        snprintf(expect, sizeof(expect),
                 "state directory %s: mode 0777 lets group or others write it; chmod go-w %s", dir, dir);
        assert_string_equal(apid_error_message(), expect);
        assert_int_equal(chmod(f->dir, 0775), 0);
        assert_int_equal(apid_pool_create(f->ctx, "x", NULL), APID_EPERM);
        assert_int_equal(chmod(f->dir, 0755), 0);
        must(apid_pool_create(f->ctx, "x", NULL));
        /* Readers refuse it too: they would trust what others wrote. */
        assert_int_equal(chmod(f->dir, 0757), 0);
        {
                apid_ctx *ctx = NULL;
                apid_pool_list *l = NULL;

                must(apid_ctx_new(&ctx));
                must(apid_ctx_set_state_dir(ctx, f->dir));
                assert_int_equal(apid_pool_list_new(ctx, &l), APID_EPERM);
                assert_non_null(strstr(apid_error_message(), "mode 0757 lets group or others write it"));
                apid_ctx_unref(ctx);
        }
        assert_int_equal(chmod(f->dir, 0755), 0);
        if (geteuid() != 0)
                return;
        /* Root does not use a directory another user owns. */
        assert_int_equal(chown(f->dir, 65534, 0), 0);
        {
                apid_ctx *ctx = NULL;

                must(apid_ctx_new(&ctx));
                must(apid_ctx_set_state_dir(ctx, f->dir));
                assert_int_equal(apid_pool_create(ctx, "y", NULL), APID_EPERM);
                snprintf(expect, sizeof(expect),
                         "state directory %s: owned by uid 65534; it must belong to root or to uid 0 (this process)",
                         dir);
                assert_string_equal(apid_error_message(), expect);
                apid_ctx_unref(ctx);
        }
        assert_int_equal(chown(f->dir, 0, 0), 0);
}

static void check_mode(const char *dir, const char *name, gid_t gid)
{
        char path[512];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (stat(path, &st) < 0)
                fail_msg("%s: %s", path, strerror(errno));
        if ((st.st_mode & 07777) != 0640 || st.st_gid != gid)
                fail_msg("%s: mode %04o group %u, want 0640 group %u", path, st.st_mode & 07777, st.st_gid, gid);
}

/* As uid 65534, with or without the admin group: the number of pools, or a
 * negative status; the message goes to msg. */
static int count_as_nobody(const char *dir, int with_group, char *msg, size_t size)
{
        int fds[2], status, r = 0;
        ssize_t n;
        pid_t pid;

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                gid_t g = ADMIN_GID;
                apid_ctx *ctx = NULL;
                apid_pool_list *l = NULL;

                close(fds[0]);
                if (setgroups(with_group ? 1 : 0, &g) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(2);
                if (apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, dir) != APID_OK)
                        _exit(3);
                r = apid_pool_list_new(ctx, &l);
                if (r == APID_OK)
                        r = (int)apid_pool_list_count(l);
                if (write(fds[1], &r, sizeof(r)) < 0 ||
                    write(fds[1], apid_error_message(), strlen(apid_error_message())) < 0)
                        _exit(4);
                _exit(0);
        }
        close(fds[1]);
        assert_int_equal(read(fds[0], &r, sizeof(r)), sizeof(r));
        n = read(fds[0], msg, size - 1);
        close(fds[0]);
        msg[n > 0 ? n : 0] = '\0';
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        return r;
}

static void registry_is_for_root_and_admins(void **state)
{
        struct fixture *f = *state;
        char msg[1024], snap[512];
        struct stat st;
        int r;

        if (geteuid() != 0)
                skip();
        /* The admin group is the state directory's group. */
        assert_int_equal(chown(f->dir, 0, ADMIN_GID), 0);
        assert_int_equal(chmod(f->dir, 0755), 0);
        must(apid_pool_create(f->ctx, "x", NULL));
        check_mode(f->dir, "registry.db", ADMIN_GID);
        check_mode(f->dir, "registry.db-wal", ADMIN_GID);
        check_mode(f->dir, "registry.db-shm", ADMIN_GID);
        /* The NSS snapshot stays readable by every process. */
        snprintf(snap, sizeof(snap), "%s/nss-snapshot", f->dir);
        assert_int_equal(stat(snap, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        /* An export holds what the registry holds: not world-readable either. */
        snprintf(snap, sizeof(snap), "%s/farm.tsv", f->dir);
        must(apid_registry_export(f->ctx, snap));
        assert_int_equal(stat(snap, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        r = count_as_nobody(f->dir, 0, msg, sizeof(msg));
        if (r != APID_EPERM || !strstr(msg, "registry.db") || !strstr(msg, "ermission denied"))
                fail_msg("nobody read the registry: %d %s", r, msg);
        r = count_as_nobody(f->dir, 1, msg, sizeof(msg));
        if (r != 1)
                fail_msg("a member of the admin group could not read the registry: %d %s", r, msg);
}

static void old_world_readable_registry_is_repaired(void **state)
{
        struct fixture *f = *state;
        char path[512];

        if (geteuid() != 0)
                skip();
        assert_int_equal(chmod(f->dir, 0755), 0);
        must(apid_pool_create(f->ctx, "x", NULL));
        snprintf(path, sizeof(path), "%s/registry.db", f->dir);
        assert_int_equal(chmod(path, 0644), 0);
        snprintf(path, sizeof(path), "%s/registry.db-wal", f->dir);
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(chown(f->dir, 0, ADMIN_GID), 0);
        must(apid_pool_create(f->ctx, "y", NULL)); /* the next write repairs */
        check_mode(f->dir, "registry.db", ADMIN_GID);
        check_mode(f->dir, "registry.db-wal", ADMIN_GID);
        check_mode(f->dir, "registry.db-shm", ADMIN_GID);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
                T(import_refuses_bad_user_names),
                T(import_refuses_names_other_sources_own),
                T(import_refuses_uids_that_are_not_the_sids),
                T(import_checks_settings_as_registry_set_does),
                T(profile_root_rules),
                T(import_messages_are_whole),
                T(import_conflict_messages_are_whole),
                T(refused_import_keeps_nothing),
                T(profile_trees_of_any_depth_are_removed),
                T(profile_removal_without_openat2),
                T(profile_removal_survives_a_moving_tree),
                T(profile_root_others_can_write_is_refused),
                T(profiles_have_their_tmp),
                T(state_dir_must_be_private),
                T(registry_is_for_root_and_admins),
                T(old_world_readable_registry_is_repaired),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
