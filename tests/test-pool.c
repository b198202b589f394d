/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pools and identities against a real SQLite registry in a private state
 * directory: create, open, list, delete, settings, identities, ids. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "testutil.h"
#include "testutil-state.h"

#define RANGE_START 1879048192u
#define RANGE_SIZE 16777216u

static void create_open_list_delete(void **state)
{
        struct fixture *f = *state;
        apid_pool *pool = NULL;
        apid_pool_list *list = NULL;
        char path[512];

        assert_int_equal(pool_count(f->ctx), 0); /* no registry yet: an empty list */
        must(apid_pool_create(f->ctx, "DefaultAppPool", &pool));
        assert_string_equal(apid_pool_get_name(pool), "DefaultAppPool");
        apid_pool_free(pool);
        must(apid_pool_create(f->ctx, "Classic .NET AppPool", NULL));
        /* Open ignores case; the name keeps the case it was created with. */
        must(apid_pool_open(f->ctx, "defaultapppool", &pool));
        assert_string_equal(apid_pool_get_name(pool), "DefaultAppPool");
        apid_pool_free(pool);
        must(apid_pool_list_new(f->ctx, &list));
        assert_int_equal(apid_pool_list_count(list), 2);
        assert_string_equal(apid_pool_list_get(list, 0), "Classic .NET AppPool");
        assert_string_equal(apid_pool_list_get(list, 1), "DefaultAppPool");
        assert_null(apid_pool_list_get(list, 2));
        apid_pool_list_free(list);
        must(apid_pool_delete(f->ctx, "DEFAULTAPPPOOL", APID_POOL_DELETE_KEEP_PROFILE));
        assert_int_equal(apid_pool_open(f->ctx, "DefaultAppPool", &pool), APID_ENOTFOUND);
        assert_string_equal(apid_error_message(), "pool 'DefaultAppPool': no such pool");
        assert_int_equal(apid_pool_delete(f->ctx, "DefaultAppPool", APID_POOL_DELETE_KEEP_PROFILE), APID_ENOTFOUND);
        assert_int_equal(pool_count(f->ctx), 1);
        /* The registry is one SQLite file in WAL mode. */
        snprintf(path, sizeof(path), "%s/registry.db", f->dir);
        {
                sqlite3 *db = NULL;
                sqlite3_stmt *st = NULL;

                assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
                assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
                assert_int_equal(sqlite3_step(st), SQLITE_ROW);
                assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
                sqlite3_finalize(st);
                sqlite3_close(db);
        }
}

static void duplicates_and_collisions_are_refused(void **state)
{
        struct fixture *f = *state;
        apid_pool *pool = NULL;

        must(apid_pool_create(f->ctx, "Web", NULL));
        assert_int_equal(apid_pool_create(f->ctx, "WEB", &pool), APID_EEXISTS);
        assert_string_equal(apid_error_message(), "pool 'WEB': already exists (as 'Web')");
        assert_null(pool);
        /* KELVIN SIGN: another name under IIS's comparison, the same SID: event 9001. */
        must(apid_pool_create(f->ctx, "k", NULL));
        assert_int_equal(apid_pool_create(f->ctx, "\xe2\x84\xaa", &pool), APID_ECOLLISION);
        assert_non_null(strstr(apid_error_message(), "is already mapped to pool 'k' (IIS event 9001)"));
        assert_non_null(strstr(apid_error_message(), "pool '\xe2\x84\xaa'"));
        assert_int_equal(pool_count(f->ctx), 2); /* nothing half written */
        assert_int_equal(apid_pool_open(f->ctx, "\xe2\x84\xaa", &pool), APID_ENOTFOUND);
}

static void bad_input_writes_nothing(void **state)
{
        struct fixture *f = *state;
        char path[512];
        struct stat st;
        apid_pool *pool = NULL;

        assert_int_equal(apid_pool_create(f->ctx, "a/b", &pool), APID_EINVAL);
        assert_string_equal(apid_error_message(), "pool name 'a/b': character '/' is not allowed");
        assert_int_equal(apid_pool_create(f->ctx, "", &pool), APID_EINVAL);
        assert_int_equal(apid_pool_create(NULL, "x", &pool), APID_EINVAL);
        assert_int_equal(apid_pool_open(f->ctx, "a:b", &pool), APID_EINVAL);
        assert_int_equal(apid_pool_delete(f->ctx, "x", 0), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "flags 0: give exactly one"));
        assert_int_equal(apid_pool_delete(f->ctx, "x", 3), APID_EINVAL);
        assert_null(pool);
        /* None of that created the registry. */
        snprintf(path, sizeof(path), "%s/registry.db", f->dir);
        assert_int_equal(stat(path, &st), -1);
        assert_int_equal(errno, ENOENT);
}

static void state_dir_problems_are_named(void **state)
{
        struct fixture *f = *state;
        char path[512];
        apid_ctx *ctx = NULL;
        int fd;

        /* A state directory that cannot be created. */
        must(apid_ctx_new(&ctx));
        must(apid_ctx_set_state_dir(ctx, "/proc/self/apid-state"));
        assert_true(apid_pool_create(ctx, "x", NULL) < 0);
        assert_non_null(strstr(apid_error_message(), "/proc/self/apid-state"));
        /* A state directory that is a file. */
        snprintf(path, sizeof(path), "%s/file", f->dir);
        fd = open(path, O_CREAT | O_WRONLY, 0644);
        assert_true(fd >= 0);
        close(fd);
        must(apid_ctx_set_state_dir(ctx, path));
        assert_int_equal(apid_pool_create(ctx, "x", NULL), APID_ESYS);
        assert_non_null(strstr(apid_error_message(), "not a directory"));
        /* A missing state directory is created (0755). */
        snprintf(path, sizeof(path), "%s/new", f->dir);
        must(apid_ctx_set_state_dir(ctx, path));
        must(apid_pool_create(ctx, "x", NULL));
        apid_ctx_unref(ctx);
}

static void read_only_state_dir_is_named(void **state)
{
        struct fixture *f = *state;
        char message[1024] = "";
        int fds[2], status, r = 0;
        ssize_t n;
        pid_t pid;

        if (geteuid() != 0)
                skip(); /* root ignores permission bits: the test drops to nobody */
        /* The reader is in the state directory's group: the registry is 0640. */
        assert_int_equal(chown(f->dir, 0, 4242), 0);
        must(apid_pool_create(f->ctx, "x", NULL));
        assert_int_equal(chmod(f->dir, 0755), 0);
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                apid_ctx *ctx = NULL;

                gid_t admin = 4242;

                close(fds[0]);
                if (setgroups(1, &admin) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(2);
                if (apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, f->dir) != APID_OK)
                        _exit(3);
                /* Reading works without write access; writing is refused. */
                if (pool_count(ctx) != 1)
                        _exit(5);
                r = apid_pool_create(ctx, "y", NULL);
                if (write(fds[1], &r, sizeof(r)) < 0 ||
                    write(fds[1], apid_error_message(), strlen(apid_error_message())) < 0)
                        _exit(4);
                _exit(0);
        }
        close(fds[1]);
        assert_int_equal(read(fds[0], &r, sizeof(r)), sizeof(r));
        n = read(fds[0], message, sizeof(message) - 1);
        close(fds[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        message[n > 0 ? n : 0] = '\0';
        if (r != APID_EPERM)
                fail_msg("a read-only registry gave %d: %s", r, message);
        assert_non_null(strstr(message, "not writable by uid 65534"));
        if (!strstr(message, f->dir))
                fail_msg("message does not name the directory: %s", message);
        assert_int_equal(pool_count(f->ctx), 1); /* nothing written */
}

static void corrupt_registry_is_refused_and_kept(void **state)
{
        struct fixture *f = *state;
        static const char garbage[] = "this is not an SQLite database, it is a torn file ......................";
        char path[512], back[sizeof(garbage)];
        apid_pool *pool = NULL;
        int fd;

        snprintf(path, sizeof(path), "%s/registry.db", f->dir);
        fd = open(path, O_CREAT | O_WRONLY, 0644);
        assert_int_equal(write(fd, garbage, sizeof(garbage)), sizeof(garbage));
        close(fd);
        assert_int_equal(apid_pool_create(f->ctx, "x", NULL), APID_ECORRUPT);
        assert_non_null(strstr(apid_error_message(), "registry"));
        assert_int_equal(apid_pool_open(f->ctx, "x", &pool), APID_ECORRUPT);
        fd = open(path, O_RDONLY);
        assert_int_equal(read(fd, back, sizeof(back)), sizeof(garbage));
        close(fd);
        assert_memory_equal(back, garbage, sizeof(garbage)); /* untouched */
}

static void newer_schema_is_refused(void **state)
{
        struct fixture *f = *state;
        char path[512];
        sqlite3 *db = NULL;

        must(apid_pool_create(f->ctx, "x", NULL));
        apid_ctx_unref(f->ctx); /* close the cached connection */
        must(apid_ctx_new(&f->ctx));
        must(apid_ctx_set_state_dir(f->ctx, f->dir));
        snprintf(path, sizeof(path), "%s/registry.db", f->dir);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(apid_pool_create(f->ctx, "y", NULL), APID_ECORRUPT);
        assert_non_null(strstr(apid_error_message(), "schema version 99 is newer than this library knows (2)"));
}

static void settings_have_iis_defaults_and_checks(void **state)
{
        struct fixture *f = *state;
        apid_pool *pool = NULL, *again = NULL;
        char *v = NULL;

        must(apid_pool_create(f->ctx, "p", &pool));
        static const char *const defaults[][2] = {
                { "processModel.identityType", "ApplicationPoolIdentity" },
                { "processModel.loadUserProfile", "false" },
                { "processModel.maxProcesses", "1" },
                { "processModel.idleTimeout", "00:20:00" },
                { "failure.rapidFailProtection", "true" },
                { "failure.rapidFailProtectionInterval", "00:05:00" },
                { "failure.rapidFailProtectionMaxCrashes", "5" },
                { "recycling.periodicRestart.time", "1.05:00:00" },
                { "queueLength", "1000" },
                { "startMode", "OnDemand" },
        };
        size_t i;

        for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
                must(apid_pool_get(pool, defaults[i][0], &v));
                assert_string_equal(v, defaults[i][1]);
                apid_free(v);
        }
        assert_int_equal(apid_pool_get_identity_type(pool), APID_IDENTITY_APPLICATION_POOL_IDENTITY);
        assert_int_equal(apid_pool_loads_profile(pool), 0);
        /* Values are normalised to IIS's spelling; names ignore case. */
        must(apid_pool_set(pool, "PROCESSMODEL.MAXPROCESSES", "4"));
        must(apid_pool_set(pool, "failure.rapidFailProtection", "FALSE"));
        must(apid_pool_set(pool, "processModel.idleTimeout", "1.2:03:04"));
        must(apid_pool_set(pool, "startmode", "alwaysrunning"));
        /* Bad values: a clear error naming both, nothing changed. */
        assert_int_equal(apid_pool_set(pool, "processModel.maxProcesses", "-1"), APID_EINVAL);
        assert_string_equal(apid_error_message(),
                            "processModel.maxProcesses '-1': not a whole number from 0 to 2147483647");
        assert_int_equal(apid_pool_set(pool, "failure.rapidFailProtectionMaxCrashes", "0"), APID_EINVAL);
        assert_int_equal(apid_pool_set(pool, "processModel.idleTimeout", "25:00:00"), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "not a time span [d.]hh:mm:ss"));
        assert_int_equal(apid_pool_set(pool, "processModel.identityType", "Admin"), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "not one of LocalSystem, LocalService, NetworkService"));
        assert_int_equal(apid_pool_set(pool, "autoStart", "yes"), APID_EINVAL);
        assert_int_equal(apid_pool_set(pool, "processModel.frobnicate", "1"), APID_EINVAL);
        assert_string_equal(apid_error_message(), "pool setting 'processModel.frobnicate': no such setting");
        assert_int_equal(apid_pool_check_setting("queueLength", "5"), APID_EINVAL);
        assert_int_equal(apid_pool_check_setting("queueLength", "50"), APID_OK);
        /* Another handle (another process would do the same) sees what was committed. */
        must(apid_pool_open(f->ctx, "p", &again));
        must(apid_pool_get(again, "processModel.maxProcesses", &v));
        assert_string_equal(v, "4");
        apid_free(v);
        must(apid_pool_get(again, "processModel.idleTimeout", &v));
        assert_string_equal(v, "1.02:03:04");
        apid_free(v);
        must(apid_pool_get(again, "failure.rapidFailProtection", &v));
        assert_string_equal(v, "false");
        apid_free(v);
        must(apid_pool_get(again, "startMode", &v));
        assert_string_equal(v, "AlwaysRunning");
        apid_free(v);
        assert_non_null(apid_pool_setting_name(0));
        assert_null(apid_pool_setting_name(1000));
        apid_pool_free(again);
        /* A handle whose pool was deleted meanwhile cannot write. */
        must(apid_pool_delete(f->ctx, "p", APID_POOL_DELETE_KEEP_PROFILE));
        assert_int_equal(apid_pool_set(pool, "processModel.maxProcesses", "2"), APID_ENOTFOUND);
        apid_pool_free(pool);
}

static void pool_identity_is_windows_and_posix(void **state)
{
        struct fixture *f = *state;
        apid_pool *pool = NULL;
        apid_identity *id = NULL, *by = NULL;
        apid_sid *expect = NULL;
        char *s = NULL;

        must(apid_pool_create(f->ctx, "DefaultAppPool", &pool));
        must(apid_pool_get_identity(pool, &id));
        must(apid_sid_for_pool("DefaultAppPool", &expect));
        assert_true(apid_sid_equal(apid_identity_get_sid(id), expect));
        assert_string_equal(apid_identity_get_account(id), "IIS APPPOOL\\DefaultAppPool");
        assert_string_equal(apid_identity_get_user(id), "apppool-defaultapppool");
        assert_string_equal(apid_identity_get_pool_name(id), "DefaultAppPool");
        assert_int_equal(apid_identity_get_type(id), APID_IDENTITY_APPLICATION_POOL_IDENTITY);
        assert_true(apid_identity_get_uid(id) >= RANGE_START && apid_identity_get_uid(id) < RANGE_START + RANGE_SIZE);
        assert_int_equal(apid_identity_get_gid(id), apid_identity_get_uid(id));
        assert_null(apid_identity_get_profile_dir(id));
        assert_int_equal(apid_identity_get_shared_gid(id), (uint32_t)-1);
        /* Lookups by SID, uid, POSIX name and account name find the same identity. */
        must(apid_identity_from_sid(f->ctx, expect, &by));
        assert_int_equal(apid_identity_get_uid(by), apid_identity_get_uid(id));
        apid_identity_free(by);
        must(apid_identity_from_uid(f->ctx, apid_identity_get_uid(id), &by));
        assert_string_equal(apid_identity_get_pool_name(by), "DefaultAppPool");
        apid_identity_free(by);
        must(apid_identity_from_user(f->ctx, "apppool-defaultapppool", &by));
        assert_int_equal(apid_identity_get_uid(by), apid_identity_get_uid(id));
        apid_identity_free(by);
        must(apid_identity_from_user(f->ctx, "iis apppool\\DEFAULTAPPPOOL", &by));
        assert_int_equal(apid_identity_get_uid(by), apid_identity_get_uid(id));
        apid_identity_free(by);
        by = NULL;
        assert_int_equal(apid_identity_from_uid(f->ctx, 12345, &by), APID_ENOTFOUND);
        assert_string_equal(apid_error_message(), "uid 12345: no pool has this identity");
        assert_int_equal(apid_identity_from_user(f->ctx, "root", &by), APID_ENOTFOUND);
        assert_null(by);
        /* User names: lower case, at most 32, unique; lossy names get a SID suffix. */
        apid_identity_free(id);
        apid_pool_free(pool);
        must(apid_pool_create(f->ctx, "A Very Long Application Pool Name For Testing", &pool));
        must(apid_pool_get_identity(pool, &id));
        s = (char *)apid_identity_get_user(id);
        assert_true(strlen(s) <= 32);
        assert_memory_equal(s, "apppool-a-very-long-appli", 25);
        assert_int_equal(s[25], '-');
        apid_identity_free(id);
        apid_pool_free(pool);
        apid_sid_free(expect);
}

static void builtin_identity_types(void **state)
{
        struct fixture *f = *state;
        apid_pool *pool = NULL;
        apid_identity *id = NULL;

        must(apid_pool_create(f->ctx, "sys", &pool));
        must(apid_pool_set(pool, "processModel.identityType", "LocalSystem"));
        must(apid_pool_get_identity(pool, &id));
        assert_int_equal(apid_identity_get_uid(id), 0);
        assert_string_equal(apid_identity_get_user(id), "root");
        assert_string_equal(apid_identity_get_account(id), "NT AUTHORITY\\SYSTEM");
        apid_identity_free(id);
        /* LocalService: an account the library provisions, never nobody. */
        must(apid_pool_set(pool, "processModel.identityType", "LocalService"));
        must(apid_pool_get_identity(pool, &id));
        assert_string_equal(apid_identity_get_user(id), "apppool-localservice");
        assert_string_equal(apid_identity_get_account(id), "NT AUTHORITY\\LOCAL SERVICE");
        assert_true(apid_identity_get_uid(id) >= RANGE_START);
        assert_int_not_equal(apid_identity_get_uid(id), 65534);
        apid_identity_free(id);
        must(apid_pool_set(pool, "processModel.identityType", "NetworkService"));
        must(apid_pool_get_identity(pool, &id));
        assert_string_equal(apid_identity_get_user(id), "apppool-networkservice");
        apid_identity_free(id);
        /* SpecificUser needs a user NSS knows. */
        assert_int_equal(apid_pool_set(pool, "processModel.identityType", "SpecificUser"), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "set processModel.userName first"));
        assert_int_equal(apid_pool_set(pool, "processModel.userName", "no-such-user-here"), APID_ENOTFOUND);
        assert_int_equal(apid_pool_set(pool, "processModel.userName", "Bad User"), APID_EINVAL);
        must(apid_pool_set(pool, "processModel.userName", "nobody"));
        must(apid_pool_set(pool, "processModel.identityType", "SpecificUser"));
        must(apid_pool_get_identity(pool, &id));
        assert_int_equal(apid_identity_get_uid(id), getpwnam("nobody")->pw_uid);
        apid_identity_free(id);
        apid_pool_free(pool);
}

static void ids_are_deterministic_across_hosts(void **state)
{
        struct fixture *f = *state;
        static const char *const names[] = { "DefaultAppPool", "web", "api", "Classic .NET AppPool", "caf\xc3\xa9" };
        char dir2[256];
        apid_ctx *host2 = other_host(dir2, sizeof(dir2));
        size_t i;

        /* Created in opposite orders on two hosts: the same uids. */
        for (i = 0; i < 5; i++)
                must(apid_pool_create(f->ctx, names[i], NULL));
        for (i = 5; i-- > 0;)
                must(apid_pool_create(host2, names[i], NULL));
        for (i = 0; i < 5; i++)
                assert_int_equal(pool_uid(f->ctx, names[i], NULL), pool_uid(host2, names[i], NULL));
        apid_ctx_unref(host2);
        rm_tree(dir2);
}

static void probing_and_no_recycling(void **state)
{
        struct fixture *f = *state;
        char dir2[256], name[16];
        apid_ctx *alone;
        uint32_t uids[4], probe, first, i, j;

        /* A range of four ids: four pools fill it, each uid used once. */
        must(apid_registry_set(f->ctx, "idRangeStart", "2000000000"));
        must(apid_registry_set(f->ctx, "idRangeSize", "4"));
        for (i = 0; i < 4; i++) {
                snprintf(name, sizeof(name), "pool%u", i);
                must(apid_pool_create(f->ctx, name, NULL));
                uids[i] = pool_uid(f->ctx, name, &probe);
                assert_true(uids[i] >= 2000000000u && uids[i] < 2000000004u);
                for (j = 0; j < i; j++)
                        assert_int_not_equal(uids[i], uids[j]);
                /* Probe 0 means the SID's first choice: what the pool gets alone. */
                alone = other_host(dir2, sizeof(dir2));
                must(apid_registry_set(alone, "idRangeStart", "2000000000"));
                must(apid_registry_set(alone, "idRangeSize", "4"));
                must(apid_pool_create(alone, name, NULL));
                first = pool_uid(alone, name, NULL);
                if (probe == 0)
                        assert_int_equal(uids[i], first);
                else
                        assert_int_not_equal(uids[i], first);
                apid_ctx_unref(alone);
                rm_tree(dir2);
        }
        assert_int_equal(apid_pool_create(f->ctx, "pool4", NULL), APID_ERANGE);
        assert_non_null(strstr(apid_error_message(), "no free id in 2000000000..2000000003"));
        /* A deleted pool's uid is not given to another pool... */
        must(apid_pool_delete(f->ctx, "pool0", APID_POOL_DELETE_KEEP_PROFILE));
        assert_int_equal(apid_pool_create(f->ctx, "pool4", NULL), APID_ERANGE);
        /* ...but the same pool gets it back. */
        must(apid_pool_create(f->ctx, "POOL0", NULL));
        assert_int_equal(pool_uid(f->ctx, "pool0", NULL), uids[0]);
        /* Range settings are checked. */
        assert_int_equal(apid_registry_set(f->ctx, "idRangeStart", "1000"), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "idRangeStart '1000': not a whole number from 65536"));
        assert_int_equal(apid_registry_set(f->ctx, "idRangeSize", "2000000000"), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "would pass 2147483647"));
}

static void profiles_are_private_and_removed_safely(void **state)
{
        struct fixture *f = *state;
        char outside[512], link[1024], nested[1024], path[600];
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        struct stat st;
        int fd;

        if (geteuid() != 0)
                skip(); /* giving the directory to the pool's uid needs root */
        must(apid_pool_create(f->ctx, "prof", &pool));
        must(apid_pool_set(pool, "processModel.loadUserProfile", "true"));
        must(apid_pool_get_identity(pool, &id));
        assert_non_null(apid_identity_get_profile_dir(id));
        snprintf(path, sizeof(path), "%s/profiles/%s", f->dir, apid_identity_get_user(id));
        assert_string_equal(apid_identity_get_profile_dir(id), path);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(st.st_uid, apid_identity_get_uid(id));
        assert_int_equal(st.st_gid, apid_identity_get_gid(id));
        /* The pool plants a link to a file outside and nests directories. */
        snprintf(outside, sizeof(outside), "%s/outside", f->dir);
        fd = open(outside, O_CREAT | O_WRONLY, 0644);
        close(fd);
        snprintf(link, sizeof(link), "%s/link", path);
        assert_int_equal(symlink(outside, link), 0);
        snprintf(nested, sizeof(nested), "%s/a", path);
        assert_int_equal(mkdir(nested, 0700), 0);
        snprintf(nested, sizeof(nested), "%s/a/b", path);
        assert_int_equal(mkdir(nested, 0700), 0);
        snprintf(link, sizeof(link), "%s/a/b/up", path);
        assert_int_equal(symlink(f->dir, link), 0);
        /* Keep: the directory stays. */
        must(apid_pool_delete(f->ctx, "prof", APID_POOL_DELETE_KEEP_PROFILE));
        assert_int_equal(stat(path, &st), 0);
        /* Created again, the pool gets the same uid and its old profile back. */
        apid_pool_free(pool);
        must(apid_pool_create(f->ctx, "prof", &pool));
        must(apid_pool_set(pool, "processModel.loadUserProfile", "true"));
        /* Remove: everything inside goes, nothing outside. */
        must(apid_pool_delete(f->ctx, "prof", APID_POOL_DELETE_REMOVE_PROFILE));
        assert_int_equal(stat(path, &st), -1);
        assert_int_equal(stat(outside, &st), 0);
        snprintf(path, sizeof(path), "%s/registry.db", f->dir);
        assert_int_equal(stat(path, &st), 0);
        apid_identity_free(id);
        apid_pool_free(pool);
}

static void shared_group_and_snapshot(void **state)
{
        struct fixture *f = *state;
        apid_identity *id = NULL;
        apid_pool *pool = NULL;
        char path[512], text[4096];
        char *v = NULL;
        ssize_t n;
        int fd;

        must(apid_pool_create(f->ctx, "one", NULL));
        must(apid_pool_create(f->ctx, "two", &pool));
        must(apid_registry_set(f->ctx, "sharedGroup", "apppool-users"));
        must(apid_registry_get(f->ctx, "sharedGroup", &v));
        assert_string_equal(v, "apppool-users");
        apid_free(v);
        must(apid_pool_get_identity(pool, &id));
        assert_true(apid_identity_get_shared_gid(id) >= RANGE_START);
        /* The NSS snapshot lists both pools and the group with its members. */
        snprintf(path, sizeof(path), "%s/nss-snapshot", f->dir);
        fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        n = read(fd, text, sizeof(text) - 1);
        close(fd);
        assert_true(n > 0);
        /* Binary (lib/store/snapshot.h): its strings, NUL-separated, a
         * user's name, gecos, home, key and SID in a row. */
#define HAS(lit) assert_non_null(memmem(text, (size_t)n, lit, sizeof(lit) - 1))
        assert_memory_equal(text, "APIDSNAP", 8);
        HAS("\0apppool-one\0");
        HAS("apppool-two\0IIS APPPOOL\\two\0/nonexistent\0TWO\0S-1-5-82-");
        HAS("\0apppool-users\0");
        HAS("\0apppool-one,apppool-two\0");
#undef HAS
        assert_int_equal(apid_registry_set(f->ctx, "sharedGroup", "Bad Group"), APID_EINVAL);
        assert_int_equal(apid_registry_set(f->ctx, "frobnicate", "1"), APID_EINVAL);
        assert_string_equal(apid_error_message(), "registry setting 'frobnicate': no such setting");
        apid_identity_free(id);
        apid_pool_free(pool);
}

static void export_and_import(void **state)
{
        struct fixture *f = *state;
        char dir2[256], dir3[256], file[512], bad[512];
        apid_ctx *host2, *host3;
        apid_pool *pool = NULL;
        char *v = NULL;
        FILE *fp;

        must(apid_pool_create(f->ctx, "alpha", &pool));
        must(apid_pool_set(pool, "processModel.maxProcesses", "3"));
        apid_pool_free(pool);
        must(apid_pool_create(f->ctx, "beta", NULL));
        snprintf(file, sizeof(file), "%s/farm.tsv", f->dir);
        must(apid_registry_export(f->ctx, file));
        /* A new host imports and gets the same assignments and settings. */
        host2 = other_host(dir2, sizeof(dir2));
        must(apid_registry_import(host2, file));
        assert_int_equal(pool_uid(host2, "alpha", NULL), pool_uid(f->ctx, "alpha", NULL));
        assert_int_equal(pool_uid(host2, "beta", NULL), pool_uid(f->ctx, "beta", NULL));
        must(apid_pool_open(host2, "alpha", &pool));
        must(apid_pool_get(pool, "processModel.maxProcesses", &v));
        assert_string_equal(v, "3");
        apid_free(v);
        apid_pool_free(pool);
        /* Importing again changes nothing and succeeds. */
        must(apid_registry_import(host2, file));
        /* A host where alpha's uid is taken by another pool refuses the whole file. */
        host3 = other_host(dir3, sizeof(dir3));
        must(apid_registry_set(host3, "idRangeStart", "2000000000"));
        must(apid_registry_set(host3, "idRangeSize", "1"));
        must(apid_pool_create(host3, "gamma", NULL));
        snprintf(bad, sizeof(bad), "%s/conflict.tsv", dir3);
        fp = fopen(bad, "w");
        fprintf(fp, "apppoolid-export 1\naccount\t2000000000\tS-1-5-82-1-2-3-4-5\tapppool-delta\t0\t0\n"
                    "pool\tdelta\t2000000000\n");
        fclose(fp);
        assert_int_equal(apid_registry_import(host3, bad), APID_ECOLLISION);
        assert_non_null(strstr(apid_error_message(), "line 2: uid 2000000000 is S-1-5-82-"));
        assert_int_equal(pool_count(host3), 1);
        /* Malformed files are refused with the line named, nothing written. */
        fp = fopen(bad, "w");
        fprintf(fp, "apppoolid-export 1\npool\tepsilon\n");
        fclose(fp);
        assert_int_equal(apid_registry_import(host3, bad), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "line 2"));
        fp = fopen(bad, "w");
        fprintf(fp, "hello\n");
        fclose(fp);
        assert_int_equal(apid_registry_import(host3, bad), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "not an apppoolid export"));
        assert_int_equal(pool_count(host3), 1);
        apid_ctx_unref(host2);
        apid_ctx_unref(host3);
        rm_tree(dir2);
        rm_tree(dir3);
}

static void network_principal(void **state)
{
        struct fixture *f = *state;
        char krb5[512], host[256], expect[300];
        char *v = NULL;
        size_t i;
        FILE *fp;

        snprintf(krb5, sizeof(krb5), "%s/krb5.conf", f->dir);
        setenv("KRB5_CONFIG", krb5, 1);
        gethostname(host, sizeof(host));
        must(apid_registry_network_principal(f->ctx, &v)); /* no realm: the host name */
        assert_string_equal(v, host);
        apid_free(v);
        fp = fopen(krb5, "w");
        fprintf(fp, "[libdefaults]\n    default_realm = CONTOSO.EXAMPLE.COM\n");
        fclose(fp);
        must(apid_registry_network_principal(f->ctx, &v));
        host[strcspn(host, ".")] = '\0';
        host[15] = '\0';
        for (i = 0; host[i]; i++)
                host[i] = (char)(host[i] >= 'a' && host[i] <= 'z' ? host[i] - 32 : host[i]);
        snprintf(expect, sizeof(expect), "CONTOSO\\%s$", host);
        assert_string_equal(v, expect);
        apid_free(v);
        must(apid_registry_set(f->ctx, "networkPrincipal", "FABRIKAM\\WEB01$"));
        must(apid_registry_network_principal(f->ctx, &v));
        assert_string_equal(v, "FABRIKAM\\WEB01$");
        apid_free(v);
        unsetenv("KRB5_CONFIG");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
                T(create_open_list_delete),
                T(duplicates_and_collisions_are_refused),
                T(bad_input_writes_nothing),
                T(state_dir_problems_are_named),
                T(read_only_state_dir_is_named),
                T(corrupt_registry_is_refused_and_kept),
                T(newer_schema_is_refused),
                T(settings_have_iis_defaults_and_checks),
                T(pool_identity_is_windows_and_posix),
                T(builtin_identity_types),
                T(ids_are_deterministic_across_hosts),
                T(probing_and_no_recycling),
                T(profiles_are_private_and_removed_safely),
                T(shared_group_and_snapshot),
                T(export_and_import),
                T(network_principal),
        };

        unsetenv(APID_STATE_DIR_ENV);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
