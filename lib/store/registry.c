/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry: one SQLite database in the state directory. This is the only
 * file that speaks SQL. WAL mode, a versioned schema with migrations, every
 * mutation one BEGIN IMMEDIATE transaction. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite-dl.h"

#include "internal.h"
#include "store/committed.h"

#define REGISTRY_FILE "registry.db"
#define BUSY_TIMEOUT_MS 10000

/* Schema migrations: migrations[i] takes user_version i to i + 1. Never edit
 * a released step; append new ones. */
static const char *const migrations[] = {
        /* 0 -> 1 */
        "CREATE TABLE config ("
        "  name TEXT PRIMARY KEY,"
        "  value TEXT NOT NULL);"
        /* Every id ever assigned. Rows are never deleted: a deleted pool's uid
         * stays reserved for its SID and is never given to another pool. */
        "CREATE TABLE accounts ("
        "  uid INTEGER PRIMARY KEY CHECK (uid BETWEEN 0 AND 2147483647),"
        "  sid TEXT NOT NULL UNIQUE,"
        "  user TEXT NOT NULL UNIQUE,"
        "  kind INTEGER NOT NULL,"
        "  probe INTEGER NOT NULL);"
        "CREATE TABLE pools ("
        "  key TEXT PRIMARY KEY,"          /* the canonical (case-folded) name */
        "  name TEXT NOT NULL,"            /* as created */
        "  uid INTEGER NOT NULL UNIQUE REFERENCES accounts(uid));"
        "CREATE TABLE settings ("
        "  key TEXT NOT NULL REFERENCES pools(key) ON DELETE CASCADE,"
        "  name TEXT NOT NULL,"
        "  value TEXT NOT NULL,"
        "  PRIMARY KEY (key, name));",
        /* 1 -> 2: the uids whose snapshot records changed since the last
         * complete snapshot (lib/store/nssfile.c writes a delta of these), kept
         * by triggers so that no write path can forget one; -1: a change
         * of the registry's settings, which needs a complete snapshot. */
        "CREATE TABLE snapshot_changes (uid INTEGER PRIMARY KEY);"
        "CREATE INDEX accounts_groups ON accounts(kind) WHERE kind = 2;"
        "CREATE TRIGGER snapshot_accounts_insert AFTER INSERT ON accounts BEGIN"
        "  INSERT OR IGNORE INTO snapshot_changes VALUES (new.uid); END;"
        "CREATE TRIGGER snapshot_accounts_update AFTER UPDATE ON accounts BEGIN"
        "  INSERT OR IGNORE INTO snapshot_changes VALUES (old.uid);"
        "  INSERT OR IGNORE INTO snapshot_changes VALUES (new.uid); END;"
        "CREATE TRIGGER snapshot_accounts_delete AFTER DELETE ON accounts BEGIN"
        "  INSERT OR IGNORE INTO snapshot_changes VALUES (old.uid); END;"
        "CREATE TRIGGER snapshot_pools_insert AFTER INSERT ON pools BEGIN"
        "  INSERT OR IGNORE INTO snapshot_changes VALUES (new.uid); END;"
        "CREATE TRIGGER snapshot_pools_update AFTER UPDATE ON pools BEGIN"
        "  INSERT OR IGNORE INTO snapshot_changes VALUES (old.uid);"
        "  INSERT OR IGNORE INTO snapshot_changes VALUES (new.uid); END;"
        "CREATE TRIGGER snapshot_pools_delete AFTER DELETE ON pools BEGIN"
        "  INSERT OR IGNORE INTO snapshot_changes VALUES (old.uid); END;"
        "CREATE TRIGGER snapshot_settings_insert AFTER INSERT ON settings BEGIN"
        "  INSERT OR IGNORE INTO snapshot_changes SELECT uid FROM pools WHERE key = new.key; END;"
        "CREATE TRIGGER snapshot_settings_update AFTER UPDATE ON settings BEGIN"
        "  INSERT OR IGNORE INTO snapshot_changes SELECT uid FROM pools WHERE key IN (old.key, new.key); END;"
        "CREATE TRIGGER snapshot_settings_delete AFTER DELETE ON settings BEGIN"
        "  INSERT OR IGNORE INTO snapshot_changes SELECT uid FROM pools WHERE key = old.key; END;"
        "CREATE TRIGGER snapshot_config_insert AFTER INSERT ON config WHEN new.name NOT LIKE 'nss.%' BEGIN"
        "  INSERT OR IGNORE INTO snapshot_changes VALUES (-1); END;"
        "CREATE TRIGGER snapshot_config_update AFTER UPDATE ON config WHEN new.name NOT LIKE 'nss.%' BEGIN"
        "  INSERT OR IGNORE INTO snapshot_changes VALUES (-1); END;"
        "CREATE TRIGGER snapshot_config_delete AFTER DELETE ON config WHEN old.name NOT LIKE 'nss.%' BEGIN"
        "  INSERT OR IGNORE INTO snapshot_changes VALUES (-1); END;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int commit_guard(void *arg);

/* The uids whose pools this write transaction changed, for the launch
 * settings file (lib/launchsettings.c), which is rebuilt from the previous
 * generation's file and these. The snapshot's log (snapshot_changes) holds
 * every change since the last complete snapshot, up to 128; this one only
 * the transaction's: TEMP, the connection's own, on every writer
 * connection (no schema change; readers never make it), emptied when
 * read. The same triggers as the snapshot's but the registry settings'
 * (a change of those is the snapshot log's -1: its next build is complete
 * and empties that log, so -1 there is always this transaction's). */
#define LAUNCH_LOG_TRIGGER(table, when, uid) \
        "CREATE TEMP TRIGGER IF NOT EXISTS launch_" table "_" when " AFTER " when " ON main." table \
        " BEGIN INSERT OR IGNORE INTO launch_changes " uid "; END;"
#define LAUNCH_LOG \
        "CREATE TEMP TABLE IF NOT EXISTS launch_changes (uid INTEGER PRIMARY KEY);" \
        LAUNCH_LOG_TRIGGER("accounts", "INSERT", "VALUES (new.uid)") \
        LAUNCH_LOG_TRIGGER("accounts", "UPDATE", "VALUES (old.uid), (new.uid)") \
        LAUNCH_LOG_TRIGGER("accounts", "DELETE", "VALUES (old.uid)") \
        LAUNCH_LOG_TRIGGER("pools", "INSERT", "VALUES (new.uid)") \
        LAUNCH_LOG_TRIGGER("pools", "UPDATE", "VALUES (old.uid), (new.uid)") \
        LAUNCH_LOG_TRIGGER("pools", "DELETE", "VALUES (old.uid)") \
        LAUNCH_LOG_TRIGGER("settings", "INSERT", "SELECT uid FROM main.pools WHERE key = new.key") \
        LAUNCH_LOG_TRIGGER("settings", "UPDATE", "SELECT uid FROM main.pools WHERE key IN (old.key, new.key)") \
        LAUNCH_LOG_TRIGGER("settings", "DELETE", "SELECT uid FROM main.pools WHERE key = old.key")
static int launch_log(sqlite3 *db);

static int db_fail(sqlite3 *db, int rc, const char *what)
{
        int status, err = 0;

        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                status = APID_EBUSY;
                break;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
        case SQLITE_FORMAT:
                status = APID_ECORRUPT;
                break;
        case SQLITE_NOMEM:
                return apid__fail_oom();
        case SQLITE_CONSTRAINT:
                status = APID_EEXISTS;
                break;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                status = APID_EPERM;
                err = db ? sqlite3_system_errno(db) : 0;
                break;
        default:
                status = APID_ESYS;
                err = db ? sqlite3_system_errno(db) : 0;
        }
        const char *file = db ? sqlite3_db_filename(db, "main") : NULL;

        return apid__fail(status, err, "registry %s%s%s: %s%s%s", file && file[0] ? file : "", file && file[0] ? ": " : "",
                          what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), err ? ": " : "", err ? strerror(err) : "");
}

static int exec(sqlite3 *db, const char *sql, const char *what)
{
        int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

        return rc == SQLITE_OK ? APID_OK : db_fail(db, rc, what);
}

static int user_version(sqlite3 *db, int *version)
{
        sqlite3_stmt *st;
        int rc;

        rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return db_fail(db, rc, "reading the schema version");
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
                sqlite3_finalize(st);
                return db_fail(db, rc, "reading the schema version");
        }
        *version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return APID_OK;
}

/* Bring the schema up to date, inside the caller's write transaction. */
static int migrate(sqlite3 *db, const char *path)
{
        char sql[64];
        int version, r;

        r = user_version(db, &version);
        if (r < 0)
                return r;
        if (version > SCHEMA_VERSION)
                return apid__fail(APID_ECORRUPT, 0,
                                  "registry %s: schema version %d is newer than this library knows (%d)", path,
                                  version, SCHEMA_VERSION);
        for (; version < SCHEMA_VERSION; version++) {
                r = exec(db, migrations[version], "migrating the schema");
                if (r < 0)
                        return r;
                snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
                r = exec(db, sql, "migrating the schema");
                if (r < 0)
                        return r;
        }
        return APID_OK;
}

/* The state directory holds what root trusts (the registry) and what every
 * process reads (the NSS snapshot): it must belong to root or to this
 * process's user (a private test or user registry), and nobody else may
 * write it, or they could swap the registry or the snapshot under us. */
static int check_state_dir(const char *dir, const struct stat *st)
{
        if (!S_ISDIR(st->st_mode))
                return apid__fail(APID_ESYS, ENOTDIR, "state directory %s: not a directory", dir);
        if (st->st_uid != 0 && st->st_uid != geteuid())
                return apid__fail(APID_EPERM, 0,
                                  "state directory %s: owned by uid %u; it must belong to root or to uid %u (this "
                                  "process)", dir, (unsigned)st->st_uid, (unsigned)geteuid());
        if (st->st_mode & 022)
                return apid__fail(APID_EPERM, 0, "state directory %s: mode %04o lets group or others write it; "
                                  "chmod go-w %s", dir, (unsigned)(st->st_mode & 07777), dir);
        return APID_OK;
}

/* The state directory and the path to it (lib/util/safepath.c: no one but
 * root, or this process's user, can swap any of it), then the directory
 * itself; *real is its path without symbolic links, for SQLite, which
 * opens the registry with SQLITE_OPEN_NOFOLLOW. */
static int safe_state_dir(const char *dir, char **real)
{
        struct stat st;
        int r = apid__safe_dir(dir, "state directory", real, &st);

        if (r < 0)
                return r;
        r = check_state_dir(dir, &st);
        if (r < 0) {
                free(*real);
                *real = NULL;
        }
        return r;
}

int apid__safe_state_dir(const char *dir, char **real)
{
        return safe_state_dir(dir, real);
}

static int ensure_state_dir(const char *dir, char **real)
{
        int r = safe_state_dir(dir, real);

        if (r != APID_ENOTFOUND || apid_error_errno() != ENOENT)
                return r;
        /* Missing: made where its (checked) parent is, then checked again. */
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return apid__fail(errno == EACCES || errno == EPERM || errno == EROFS ? APID_EPERM : APID_ESYS, errno,
                                  "state directory %s: cannot create it: %s", dir, strerror(errno));
        return safe_state_dir(dir, real);
}

/* The registry and its -wal and -shm are for root and the administrators:
 * mode 0640, group the state directory's group (chgrp the directory to an
 * admin group to let its members read; docs/pools.md). Never world-readable:
 * pools must not read each other's settings (IIS keeps
 * applicationHost.config from worker identities). The NSS snapshot beside it
 * stays 0644: every process reads it. */
#define REGISTRY_MODE 0640

/* By path, never through a descriptor of our own: closing any descriptor of
 * a file drops every POSIX lock this process holds on it, SQLite's included
 * (it broke concurrent writers with SQLITE_PROTOCOL). lstat() first: only a
 * regular file of ours is changed, and the state directory, which only its
 * owner may write, keeps anyone from swapping it in between. */
static void fix_file(const char *path, gid_t gid)
{
        struct stat st;

        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
                return;
        if (st.st_gid != gid && lchown(path, (uid_t)-1, gid) < 0)
                (void)0; /* a group this user is not in: the mode alone protects it */
        if ((st.st_mode & 07777) != REGISTRY_MODE)
                (void)chmod(path, REGISTRY_MODE);
}

/* Bring the registry files to REGISTRY_MODE and the directory's group: new
 * files are made so (before SQLite makes the -wal and -shm, which take the
 * database's mode), old (0644) ones repaired by the next writer. */
static void fix_modes(const char *dir)
{
        static const char *const suffix[] = { "", "-wal", "-shm" };
        char path[4200];
        struct stat st;
        size_t i;

        if (stat(dir, &st) < 0)
                return;
        for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s%s", dir, REGISTRY_FILE, suffix[i]);
                fix_file(path, st.st_gid);
        }
}


/* Readers write nothing, even as root. SQLite's unix VFS opens the -wal
 * O_RDWR|O_CREAT on a read-only connection and, when the process is root,
 * fchown()s the -wal and -shm to the database's owner on every open. Both
 * go through its replaceable system calls: while this thread runs a
 * reader's open or transaction (reader_thread set), "open" refuses write
 * access with EROFS, as a read-only mount would (SQLite then opens the file
 * read-only, which it supports), and "fchown" does nothing. Every other
 * thread and connection, and every writer, goes straight through. */
static _Thread_local int reader_thread;
static sqlite3_syscall_ptr real_open, real_fchown;

static int guarded_open(const char *path, int flags, mode_t mode)
{
        if (reader_thread && (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC))) {
                errno = EROFS;
                return -1;
        }
        return ((int (*)(const char *, int, mode_t))(void (*)(void))real_open)(path, flags, mode);
}

static int guarded_fchown(int fd, uid_t uid, gid_t gid)
{
        if (reader_thread)
                return 0;
        return ((int (*)(int, uid_t, gid_t))(void (*)(void))real_fchown)(fd, uid, gid);
}

static void install_guard(void)
{
        sqlite3_vfs *vfs = sqlite3_vfs_find("unix");

        if (!vfs || vfs->iVersion < 3 || !vfs->xGetSystemCall || !vfs->xSetSystemCall)
                return;
        real_open = vfs->xGetSystemCall(vfs, "open");
        real_fchown = vfs->xGetSystemCall(vfs, "fchown");
        if (real_open && vfs->xSetSystemCall(vfs, "open", (sqlite3_syscall_ptr)guarded_open) != SQLITE_OK)
                real_open = NULL;
        if (real_fchown && vfs->xSetSystemCall(vfs, "fchown", (sqlite3_syscall_ptr)guarded_fchown) != SQLITE_OK)
                real_fchown = NULL;
}

static void reader_guard(int on)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;

        pthread_once(&once, install_guard);
        reader_thread = on;
}

/* SQLite shares one -shm mapping among all connections of a process to a
 * file; opened read-only by a reader it makes every writer of the process
 * fail ("attempt to write a readonly database"). So a process-wide gate
 * keeps readers on read-only connections and writers apart: either kind
 * runs alongside its own kind, a writer waits for the readers in flight,
 * new readers wait for the writers. A thread already inside a read passes
 * (no nesting deadlock). Reader connections stay open in their context
 * between reads (a lookup must not reopen SQLite), listed in ro_ctxs; a
 * writer, once no reader is in flight, closes them all before it starts. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static unsigned gate_readers, gate_writers;
static _Thread_local unsigned gate_depth;
struct ro_entry {
        apid_ctx *ctx;
        sqlite3 *db;
};
static struct ro_entry *ro_list;
static size_t ro_n, ro_cap;
static pid_t ro_pid;

static void reader_guard(int on);

static void close_reader(sqlite3 *db)
{
        reader_guard(1);
        sqlite3_close_v2(db);
        reader_guard(0);
}

/* Under gate_lock. In a child after fork(), the parent's reader connections
 * are closed (a read-only connection writes, syncs and checkpoints nothing,
 * and fcntl locks are not inherited, so the parent's stay): left open, their
 * read-only -shm mapping, inherited, would make the child's writers fail. */
static void ro_after_fork(void)
{
        size_t i;

        if (ro_pid == getpid())
                return;
        for (i = 0; i < ro_n; i++)
                close_reader(ro_list[i].db);
        ro_n = 0;
        ro_pid = getpid();
}

/* Under gate_lock. */
static void ro_forget(apid_ctx *ctx)
{
        size_t i;

        for (i = 0; i < ro_n; i++)
                if (ro_list[i].ctx == ctx) {
                        ro_list[i] = ro_list[--ro_n];
                        return;
                }
}

/* Under gate_lock, no reader in flight. */
static void ro_close_all(void)
{
        size_t i;

        ro_after_fork();
        for (i = 0; i < ro_n; i++) {
                close_reader(ro_list[i].db);
                *apid__ctx_db(ro_list[i].ctx, 1) = NULL;
        }
        ro_n = 0;
}

/* Under gate_lock: remember ctx's reader connection. 0, or -1 out of memory. */
static int ro_remember(apid_ctx *ctx, sqlite3 *db)
{
        ro_after_fork();
        if (ro_n == ro_cap) {
                size_t cap = ro_cap ? ro_cap * 2 : 8;
                struct ro_entry *grown = realloc(ro_list, cap * sizeof(*grown));

                if (!grown)
                        return -1;
                ro_list = grown;
                ro_cap = cap;
        }
        ro_list[ro_n++] = (struct ro_entry){ ctx, db };
        return 0;
}

void apid__reg_close(apid_ctx *ctx)
{
        struct sqlite3 **db = apid__ctx_db(ctx, 0);

        if (*db)
                sqlite3_close_v2(*db);
        *db = NULL;
        pthread_mutex_lock(&gate_lock);
        ro_after_fork();
        db = apid__ctx_db(ctx, 1);
        if (*db)
                close_reader(*db);
        *db = NULL;
        ro_forget(ctx);
        pthread_mutex_unlock(&gate_lock);
}

static void gate_enter(int write)
{
        pthread_mutex_lock(&gate_lock);
        if (write) {
                gate_writers++;
                while (gate_readers)
                        pthread_cond_wait(&gate_cond, &gate_lock);
                ro_close_all();
        } else {
                while (gate_writers && !gate_depth)
                        pthread_cond_wait(&gate_cond, &gate_lock);
                ro_after_fork();
                gate_readers++;
                gate_depth++;
        }
        pthread_mutex_unlock(&gate_lock);
}

static void gate_leave(int write)
{
        pthread_mutex_lock(&gate_lock);
        if (write) {
                gate_writers--;
        } else {
                gate_readers--;
                gate_depth--;
        }
        pthread_cond_broadcast(&gate_cond);
        pthread_mutex_unlock(&gate_lock);
}

/* "file:" URI of path, with the characters a URI gives meaning to escaped. */
static char *file_uri(const char *path, const char *query)
{
        size_t n = strlen(path), i, o = 0;
        char *uri = malloc(3 * n + strlen(query) + 8);

        if (!uri)
                return NULL;
        o += (size_t)sprintf(uri, "file:");
        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)path[i];

                if (c == '%' || c == '?' || c == '#' || c < 0x21 || c >= 0x7f)
                        o += (size_t)sprintf(uri + o, "%%%02X", c);
                else
                        uri[o++] = (char)c;
        }
        sprintf(uri + o, "%s", query);
        return uri;
}

/* A reader's connection writes nothing under the state directory (issue
 * 17): mode=ro opens the database read-only, readonly_shm=1 opens the -shm
 * read-only too (without it SQLite opens it O_RDWR|O_CREAT, fchown()s it
 * when root and writes a byte into each of its pages), and
 * NO_CKPT_ON_CLOSE keeps the last connection to close from checkpointing
 * the WAL into registry.db (11 pwrite64 and 2 fdatasync per `apppoolctl
 * run`). With no writer attached SQLite reads the WAL into heap memory
 * instead of the shared index; it still sees every committed change. */
static int reg_open_reader(const char *path, sqlite3 **out)
{
        _cleanup_free_ char *uri = file_uri(path, "?mode=ro&readonly_shm=1");
        sqlite3 *db = NULL;
        int rc, r;

        if (!uri)
                return apid__fail_oom();
        reader_guard(1);
        rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX |
                                               SQLITE_OPEN_NOFOLLOW, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
        if (rc != SQLITE_OK) {
                r = db_fail(db, rc, "opening");
                sqlite3_close_v2(db);
                reader_guard(0);
                return r;
        }
        reader_guard(0);
        sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
        sqlite3_extended_result_codes(db, 1);
        *out = db;
        return APID_OK;
}

/* The -wal and -shm that writers keep (SQLITE_FCNTL_PERSIST_WAL) are
 * missing only for a registry no writer of this library has opened since
 * it was copied into place: a read-only reader cannot start without them,
 * so that first read opens as a writer and they are made, once. */
static int reader_files_missing(const char *path)
{
        char aux[4200];

        snprintf(aux, sizeof(aux), "%s-wal", path);
        if (access(aux, F_OK) < 0 && errno == ENOENT)
                return access(path, W_OK) == 0;
        snprintf(aux, sizeof(aux), "%s-shm", path);
        if (access(aux, F_OK) < 0 && errno == ENOENT)
                return access(path, W_OK) == 0;
        return 0;
}

static int reg_open(apid_ctx *ctx, int write, int create, sqlite3 **out)
{
        const char *dir = apid_ctx_get_state_dir(ctx);
        struct sqlite3 **cached = apid__ctx_db(ctx, 0);
        struct sqlite3 **cached_ro = apid__ctx_db(ctx, 1);
        _cleanup_free_ char *path = NULL, *real = NULL;
        sqlite3 *db = NULL;
        int rc, r;

        /* A process that writes reads through its writer's connection: its
         * -shm mapping is shared anyway, and it saves an open. */
        if (*cached) {
                *out = *cached;
                return APID_OK;
        }
        if (!write && *cached_ro) {
                *out = *cached_ro;
                return APID_OK;
        }
        if (asprintf(&path, "%s/%s", dir, REGISTRY_FILE) < 0) {
                path = NULL;
                return apid__fail_oom();
        }
        if (!create) {
                if (access(path, F_OK) < 0) {
                        if (errno == ENOENT)
                                return apid__fail(APID_ENOTFOUND, 0, "registry %s: does not exist yet", path);
                        if (errno == EACCES)
                                return apid__fail(APID_EPERM, errno,
                                                  "registry %s: %s (the registry is for root and the state "
                                                  "directory's group)", path, strerror(errno));
                        return apid__fail(APID_ESYS, errno, "registry %s: %s", path, strerror(errno));
                }
                r = safe_state_dir(dir, &real);
                if (r < 0)
                        return r;
                if (access(path, R_OK) < 0)
                        return apid__fail(APID_EPERM, errno,
                                          "registry %s: %s (the registry is for root and the state directory's "
                                          "group)", path, strerror(errno));
        } else {
                r = ensure_state_dir(dir, &real);
                if (r < 0)
                        return r;
        }
        free(path);
        if (asprintf(&path, "%s/%s", strcmp(real, "/") == 0 ? "" : real, REGISTRY_FILE) < 0) {
                path = NULL;
                return apid__fail_oom();
        }
        if (!write && !reader_files_missing(path)) {
                r = reg_open_reader(path, &db);
                if (r < 0)
                        return r;
                pthread_mutex_lock(&gate_lock);
                if (ro_remember(ctx, db) < 0) {
                        pthread_mutex_unlock(&gate_lock);
                        sqlite3_close_v2(db);
                        return apid__fail_oom();
                }
                *cached_ro = db;
                pthread_mutex_unlock(&gate_lock);
                *out = db;
                return APID_OK;
        }
        rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_FULLMUTEX |
                                     SQLITE_OPEN_NOFOLLOW,
                             NULL);
        if (rc != SQLITE_OK) {
                r = db_fail(db, rc, "opening");
                sqlite3_close_v2(db);
                return r;
        }
        if (create)
                fix_modes(dir); /* before the -wal and -shm exist */
        sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
        sqlite3_extended_result_codes(db, 1);
        /* WAL: readers never block the writer; synchronous=FULL: a committed
         * pool survives a power cut. foreign_keys keeps settings with pools.
         * Switching a new database to WAL takes an exclusive lock without
         * calling the busy handler, so processes opening a new registry
         * together retry here. */
        for (int tries = 0;; tries++) {
                rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
                if ((rc & 0xff) != SQLITE_BUSY || tries == BUSY_TIMEOUT_MS / 5)
                        break;
                usleep(5000);
        }
        r = rc == SQLITE_OK ? exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", "opening")
                            : db_fail(db, rc, "opening (journal mode)");
        if (r < 0) {
                sqlite3_close_v2(db);
                return r;
        }
        /* Nothing commits on this connection but apid__reg_run's COMMIT. A
         * statement that fails for want of memory or I/O may make SQLite roll
         * the whole transaction back on its own; a caller that went on would
         * then run its next statements each in a transaction of its own, and
         * commit half a change (the fault-injection test found it). The hook
         * turns any such commit into a rollback. */
        sqlite3_commit_hook(db, commit_guard, NULL);
        /* Keep the -wal and -shm files when the last writer closes, so that
         * read-only readers (which cannot create them) can open the registry. */
        {
                int persist = 1;

                sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
        }
        *cached = db;
        *out = db;
        return APID_OK;
}

static _Thread_local int committing; /* apid__reg_run's own COMMIT in progress */

/* A COMMIT whose fsync of the WAL failed has written its frames, commit
 * mark included: SQLite reports the error and keeps them out of the WAL
 * index, but the next process that recovers the WAL (the first to open it
 * after the last connection closed) would read them back, and the change
 * the caller was told had failed would appear. A write of nothing (the
 * schema cookie set to itself) at once puts a new frame where the failed
 * ones start and breaks their checksum chain. If that fails too, the disk
 * is failing and the caller has the first error. */
static void overwrite_failed_commit(sqlite3 *db)
{
        struct apid__error_state e;
        char sql[64];
        int version;

        apid__error_save(&e);
        if (user_version(db, &version) == APID_OK) {
                snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; PRAGMA user_version = %d; COMMIT", version);
                committing = 1;
                if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
                        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                committing = 0;
        }
        apid__error_restore(&e);
}

static int commit_guard(void *arg)
{
        (void)arg;
        return !committing; /* non-zero: the commit becomes a rollback */
}

int apid__reg_run(apid_ctx *ctx, int write, int create, apid__reg_fn fn, void *arg)
{
        const char *dir = apid_ctx_get_state_dir(ctx);
        sqlite3 *db = NULL;
        struct apid__nss_build snap = { 0 };
        uint64_t announced = 0; /* the launch settings' generation announced before this write */
        int r, version, ephemeral = 0, announcing = 0; /* ephemeral: on the reader connection */

        r = apid__sqlite_load(); /* the first use of the registry in this process */
        if (r < 0)
                return r;
        apid__ctx_lock(ctx);
        gate_enter(write);
        if (write) {
                char path[4200];

                snprintf(path, sizeof(path), "%s/%s", dir, REGISTRY_FILE);
                if (access(path, W_OK) < 0 && errno == EACCES) {
                        r = apid__fail(APID_EPERM, EACCES,
                                       "registry %s: not writable by uid %u (reading works; changing pools needs "
                                       "write access, usually root)", path, (unsigned)geteuid());
                        goto out;
                }
        }
        r = reg_open(ctx, write, create, &db);
        if (r < 0)
                goto out;
        ephemeral = db == *apid__ctx_db(ctx, 1);
        if (write)
                fix_modes(dir); /* writers only: a reader changes nothing */
        reader_guard(ephemeral); /* the -wal and -shm are opened on the first read */
        r = exec(db, write ? "BEGIN IMMEDIATE" : "BEGIN", "starting a transaction");
        if (r < 0)
                goto out;
        if (write) {
                r = migrate(db, dir);
                if (r == APID_OK)
                        r = launch_log(db);
        } else {
                /* A read-only connection (readonly_shm) that meets a writer
                 * of another process in the middle of updating the WAL index
                 * gets SQLITE_READONLY_RECOVERY or _CANTINIT ("attempt to
                 * write a readonly database") on its first read: it may not
                 * take the lock that would let it wait. Transient, like
                 * SQLITE_BUSY: the read starts again, a bounded number of
                 * times (found by the ThreadSanitizer run of lookups from 8
                 * threads while a process writes). */
                for (int tries = 0;; tries++) {
                        int ext;

                        r = user_version(db, &version);
                        ext = sqlite3_extended_errcode(db);
                        if (r == APID_OK || tries == 200 ||
                            (ext != SQLITE_READONLY_RECOVERY && ext != SQLITE_READONLY_CANTINIT &&
                             (ext & 0xff) != SQLITE_BUSY))
                                break;
                        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                        usleep(1000);
                        r = exec(db, "BEGIN", "starting a transaction");
                        if (r < 0)
                                goto out;
                }
                if (r == APID_OK && version != SCHEMA_VERSION)
                        r = version == 0 ? apid__fail(APID_ENOTFOUND, 0, "registry in %s: empty", dir)
                                         : apid__fail(APID_ECORRUPT, 0,
                                                      "registry in %s: schema version %d, this library knows %d",
                                                      dir, version, SCHEMA_VERSION);
        }
        if (r == APID_OK)
                r = fn(ctx, db, arg);
        if (r == APID_OK && write)
                r = apid__nss_snapshot_build(ctx, db, &snap); /* inside the transaction: what commits */
        if (r != APID_OK) {
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                goto out;
        }
        committing = 1;
        r = sqlite3_get_autocommit(db) ? apid__fail(APID_ESYS, 0, "registry in %s: the transaction was rolled back "
                                                    "under us (a failed statement)", dir)
                                        : APID_OK;
        /* Launches trust the launch settings file only of the generation
         * announced here: a crash after COMMIT leaves the older file
         * untrusted (lib/store/launchfile.c). */
        if (r == APID_OK && write && snap.launch) {
                announced = apid__launch_pending_get(dir);
                announcing = 1;
                r = apid__launch_pending_set(dir, snap.generation);
        }
        if (r == APID_OK)
                r = exec(db, "COMMIT", "committing");
        committing = 0;
        if (r < 0) {
                /* Not committed: the generation announced before, again
                 * (if that fails too, launches ask SQLite until the next
                 * write: safe, only slower). */
                if (announcing) {
                        struct apid__error_state saved;

                        apid__error_save(&saved);
                        (void)apid__launch_pending_reset(dir, announced);
                        apid__error_restore(&saved);
                }
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                if (write)
                        overwrite_failed_commit(db);
                goto out;
        }
        /* This process's lookup caches must not answer from an older
         * snapshot from now on (lib/store/committed.c). */
        if (write)
                apid__store_committed(dir, snap.generation);
        /* Committed: the change stands whatever happens to the snapshot; a
         * snapshot that cannot be put in place is left to the next writer. */
        if (write && apid__nss_snapshot_publish(ctx, &snap) < 0)
                apid__log(ctx, APID_LOG_WARNING, "%s (the change is committed; the next change publishes it)",
                          apid_error_message());
out:
        apid__nss_build_clear(&snap);
        reader_guard(0);
        gate_leave(write);
        apid__ctx_unlock(ctx);
        return r;
}

/* ---- statements ---- */

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
        int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

        return rc == SQLITE_OK ? APID_OK : db_fail(db, rc, "preparing a statement");
}

/* Step a statement that changes rows, then finalize it. */
static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
        int rc = sqlite3_step(st);

        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? APID_OK : db_fail(db, rc, what);
}

static char *column_dup(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);

        return strdup(t ? (const char *)t : "");
}

int apid__reg_config_get(sqlite3 *db, const char *name, char **value)
{
        sqlite3_stmt *st;
        int r, rc;

        r = prepare(db, "SELECT value FROM config WHERE name = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *value = column_dup(st, 0);
                r = *value ? APID_OK : apid__fail_oom();
        } else {
                r = rc == SQLITE_DONE ? APID_ENOTFOUND : db_fail(db, rc, "reading a setting");
        }
        sqlite3_finalize(st);
        return r;
}

int apid__reg_config_set(sqlite3 *db, const char *name, const char *value)
{
        sqlite3_stmt *st;
        int r;

        r = prepare(db, value[0] ? "INSERT OR REPLACE INTO config (name, value) VALUES (?, ?)"
                                 : "DELETE FROM config WHERE name = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (value[0])
                sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        return step_done(db, st, "writing a setting");
}

void apid__pool_row_clear(struct apid__pool_row *row)
{
        size_t i;

        for (i = 0; i < row->n_settings; i++) {
                free(row->setting_names[i]);
                free(row->setting_values[i]);
        }
        free(row->setting_names);
        free(row->setting_values);
        free(row->name);
        free(row->key);
        memset(row, 0, sizeof(*row));
}

int apid__reg_pool_get(sqlite3 *db, const char *key, struct apid__pool_row *row)
{
        sqlite3_stmt *st;
        int r, rc;

        memset(row, 0, sizeof(*row));
        r = prepare(db, "SELECT name, key, uid FROM pools WHERE key = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
                sqlite3_finalize(st);
                return rc == SQLITE_DONE ? APID_ENOTFOUND : db_fail(db, rc, "reading a pool");
        }
        row->name = column_dup(st, 0);
        row->key = column_dup(st, 1);
        row->uid = (uint32_t)sqlite3_column_int64(st, 2);
        sqlite3_finalize(st);
        if (!row->name || !row->key) {
                apid__pool_row_clear(row);
                return apid__fail_oom();
        }
        r = prepare(db, "SELECT name, value FROM settings WHERE key = ? ORDER BY name", &st);
        if (r < 0) {
                apid__pool_row_clear(row);
                return r;
        }
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                char **n = realloc(row->setting_names, (row->n_settings + 1) * sizeof(char *));
                char **v = n ? realloc(row->setting_values, (row->n_settings + 1) * sizeof(char *)) : NULL;

                if (n)
                        row->setting_names = n;
                if (v)
                        row->setting_values = v;
                if (!n || !v) {
                        rc = SQLITE_NOMEM;
                        break;
                }
                n[row->n_settings] = column_dup(st, 0);
                v[row->n_settings] = column_dup(st, 1);
                row->n_settings++;
                if (!n[row->n_settings - 1] || !v[row->n_settings - 1]) {
                        rc = SQLITE_NOMEM;
                        break;
                }
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
                apid__pool_row_clear(row);
                return db_fail(db, rc, "reading pool settings");
        }
        return APID_OK;
}

int apid__reg_pool_keys(sqlite3 *db, char ***names, size_t *count)
{
        sqlite3_stmt *st;
        char **list = NULL;
        size_t n = 0, i;
        int r, rc;

        r = prepare(db, "SELECT name FROM pools ORDER BY key", &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                char **grown = realloc(list, (n + 1) * sizeof(char *));

                if (!grown || !(grown[n] = column_dup(st, 0))) {
                        list = grown ? grown : list;
                        rc = SQLITE_NOMEM;
                        break;
                }
                list = grown;
                n++;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
                for (i = 0; i < n; i++)
                        free(list[i]);
                free(list);
                return db_fail(db, rc, "listing pools");
        }
        *names = list;
        *count = n;
        return APID_OK;
}

int apid__reg_pool_count(sqlite3 *db, size_t *count)
{
        sqlite3_stmt *st;
        int r, rc;

        r = prepare(db, "SELECT count(*) FROM pools", &st);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *count = (size_t)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return rc == SQLITE_ROW ? APID_OK : db_fail(db, rc, "counting pools");
}

int apid__reg_pool_insert(sqlite3 *db, const char *key, const char *name, uint32_t uid)
{
        sqlite3_stmt *st;
        int r;

        r = prepare(db, "INSERT INTO pools (key, name, uid) VALUES (?, ?, ?)", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, uid);
        return step_done(db, st, "adding a pool");
}

int apid__reg_pool_remove(sqlite3 *db, const char *key)
{
        sqlite3_stmt *st;
        int r;

        r = prepare(db, "DELETE FROM pools WHERE key = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        r = step_done(db, st, "deleting a pool");
        if (r == APID_OK && sqlite3_changes(db) == 0)
                return APID_ENOTFOUND;
        return r;
}

int apid__reg_pool_key_by_uid(sqlite3 *db, uint32_t uid, char **key)
{
        sqlite3_stmt *st;
        int r, rc;

        r = prepare(db, "SELECT key FROM pools WHERE uid = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, uid);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *key = column_dup(st, 0);
                r = *key ? APID_OK : apid__fail_oom();
        } else {
                r = rc == SQLITE_DONE ? APID_ENOTFOUND : db_fail(db, rc, "finding a pool");
        }
        sqlite3_finalize(st);
        return r;
}

int apid__reg_setting_put(sqlite3 *db, const char *key, const char *name, const char *value)
{
        sqlite3_stmt *st;
        int r;

        r = prepare(db, value ? "INSERT OR REPLACE INTO settings (key, name, value) VALUES (?, ?, ?)"
                              : "DELETE FROM settings WHERE key = ? AND name = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (value)
                sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
        return step_done(db, st, "writing a pool setting");
}

static int account_query(sqlite3 *db, const char *where, const char *text, int64_t number,
                         struct apid__posix_record *out)
{
        char sql[128];
        sqlite3_stmt *st;
        int r, rc;

        snprintf(sql, sizeof(sql), "SELECT uid, sid, user, kind, probe FROM accounts WHERE %s%s", where,
                 text || number >= 0 ? " = ?" : "");
        r = prepare(db, sql, &st);
        if (r < 0)
                return r;
        if (text)
                sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        else if (number >= 0)
                sqlite3_bind_int64(st, 1, number);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                out->uid = (uint32_t)sqlite3_column_int64(st, 0);
                snprintf(out->sid, sizeof(out->sid), "%s", (const char *)sqlite3_column_text(st, 1));
                snprintf(out->user, sizeof(out->user), "%s", (const char *)sqlite3_column_text(st, 2));
                out->kind = sqlite3_column_int(st, 3);
                out->probe = (uint32_t)sqlite3_column_int64(st, 4);
                r = APID_OK;
        } else {
                r = rc == SQLITE_DONE ? APID_ENOTFOUND : db_fail(db, rc, "reading an id record");
        }
        sqlite3_finalize(st);
        return r;
}

int apid__reg_record_by_sid(sqlite3 *db, const char *sid, struct apid__posix_record *out)
{
        return account_query(db, "sid", sid, 0, out);
}

int apid__reg_record_by_uid(sqlite3 *db, uint32_t uid, struct apid__posix_record *out)
{
        return account_query(db, "uid", NULL, uid, out);
}

int apid__reg_record_by_user(sqlite3 *db, const char *user, struct apid__posix_record *out)
{
        return account_query(db, "user", user, 0, out);
}

int apid__reg_record_insert(sqlite3 *db, const struct apid__posix_record *a)
{
        sqlite3_stmt *st;
        int r;

        r = prepare(db, "INSERT INTO accounts (uid, sid, user, kind, probe) VALUES (?, ?, ?, ?, ?)", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, a->uid);
        sqlite3_bind_text(st, 2, a->sid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, a->user, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, a->kind);
        sqlite3_bind_int64(st, 5, a->probe);
        return step_done(db, st, "recording an id");
}

static int records_query(sqlite3 *db, const char *where,
                         int (*fn)(const struct apid__posix_record *a, const char *pool_name, int loads_profile,
                                   void *arg),
                         void *arg)
{
        char sql[512];
        sqlite3_stmt *st;
        int r = APID_OK, rc;

        snprintf(sql, sizeof(sql),
                 "SELECT a.uid, a.sid, a.user, a.kind, a.probe, p.name,"
                 "       (SELECT value FROM settings s WHERE s.key = p.key"
                 "          AND s.name = 'processModel.loadUserProfile')"
                 "  FROM accounts a LEFT JOIN pools p ON p.uid = a.uid%s ORDER BY a.uid", where);
        r = prepare(db, sql, &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct apid__posix_record a;
                const unsigned char *pool = sqlite3_column_text(st, 5);
                const unsigned char *profile = sqlite3_column_text(st, 6);

                a.uid = (uint32_t)sqlite3_column_int64(st, 0);
                snprintf(a.sid, sizeof(a.sid), "%s", (const char *)sqlite3_column_text(st, 1));
                snprintf(a.user, sizeof(a.user), "%s", (const char *)sqlite3_column_text(st, 2));
                a.kind = sqlite3_column_int(st, 3);
                a.probe = (uint32_t)sqlite3_column_int64(st, 4);
                r = fn(&a, (const char *)pool, profile && strcmp((const char *)profile, "true") == 0, arg);
                if (r < 0)
                        break;
        }
        sqlite3_finalize(st);
        if (r < 0)
                return r;
        return rc == SQLITE_DONE ? APID_OK : db_fail(db, rc, "listing id records");
}

int apid__reg_records_each(sqlite3 *db,
                            int (*fn)(const struct apid__posix_record *a, const char *pool_name, int loads_profile, void *arg),
                            void *arg)
{
        return records_query(db, "", fn, arg);
}

/* The uids a change log (a table of one uid column) lists, in order; a row
 * that is no uid (a whole-registry change) sets *all. */
static int uid_list(sqlite3 *db, const char *sql, const char *what, uint32_t **uids, size_t *count, int *all)
{
        sqlite3_stmt *st;
        uint32_t *list = NULL;
        size_t n = 0, cap = 0;
        int r, rc;

        *all = 0;
        r = prepare(db, sql, &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                int64_t uid = sqlite3_column_int64(st, 0);

                if (uid < 0 || uid > UINT32_MAX) {
                        *all = 1;
                        continue;
                }
                if (n == cap) {
                        uint32_t *grown = realloc(list, (cap ? 2 * cap : 16) * sizeof(*list));

                        if (!grown) {
                                rc = SQLITE_NOMEM;
                                break;
                        }
                        list = grown;
                        cap = cap ? 2 * cap : 16;
                }
                list[n++] = (uint32_t)uid;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
                free(list);
                return db_fail(db, rc, what);
        }
        *uids = list;
        *count = n;
        return APID_OK;
}

int apid__reg_snapshot_changes(sqlite3 *db, uint32_t **uids, size_t *count, int *all)
{
        return uid_list(db, "SELECT uid FROM snapshot_changes ORDER BY uid", "listing snapshot changes", uids, count,
                        all);
}

/* The launch log on this connection, made once: its table exists only with
 * its triggers (made in one transaction), so one prepared SELECT says. */
static int launch_log(sqlite3 *db)
{
        sqlite3_stmt *st = NULL;

        if (sqlite3_prepare_v2(db, "SELECT 1 FROM temp.launch_changes", -1, &st, NULL) == SQLITE_OK) {
                sqlite3_finalize(st);
                return APID_OK;
        }
        sqlite3_finalize(st);
        return exec(db, LAUNCH_LOG, "starting the launch settings' change log");
}

int apid__reg_launch_changes(sqlite3 *db, uint32_t **uids, size_t *count, int *all)
{
        int r = uid_list(db, "SELECT uid FROM temp.launch_changes ORDER BY uid", "listing launch settings changes",
                         uids, count, all);

        if (r < 0)
                return r;
        r = exec(db, "DELETE FROM temp.launch_changes", "clearing launch settings changes");
        if (r < 0) {
                free(*uids);
                *uids = NULL;
                *count = 0;
                return r;
        }
        return APID_OK;
}

int apid__reg_in_transaction(sqlite3 *db)
{
        return !sqlite3_get_autocommit(db);
}

int apid__reg_snapshot_changes_clear(sqlite3 *db)
{
        return exec(db, "DELETE FROM snapshot_changes", "clearing snapshot changes");
}

int apid__reg_records_changed_each(sqlite3 *db,
                                   int (*fn)(const struct apid__posix_record *a, const char *pool_name,
                                             int loads_profile, void *arg),
                                   void *arg)
{
        return records_query(db, " WHERE a.uid IN (SELECT uid FROM snapshot_changes)", fn, arg);
}

int apid__reg_pool_users_each(sqlite3 *db, int (*fn)(const char *user, uint32_t uid, void *arg), void *arg)
{
        sqlite3_stmt *st;
        int r = APID_OK, rc;

        rc = sqlite3_prepare_v2(db, "SELECT a.user, a.uid FROM accounts a JOIN pools p ON p.uid = a.uid ORDER BY a.uid",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return db_fail(db, rc, "preparing a statement");
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const unsigned char *user = sqlite3_column_text(st, 0);

                r = fn(user ? (const char *)user : "", (uint32_t)sqlite3_column_int64(st, 1), arg);
                if (r < 0)
                        break;
        }
        sqlite3_finalize(st);
        if (r < 0)
                return r;
        return rc == SQLITE_DONE ? APID_OK : db_fail(db, rc, "listing pool users");
}

int apid__reg_shared_group(sqlite3 *db, struct apid__posix_record *out)
{
        /* A literal, so that the partial index accounts_groups answers it
         * (every write that publishes a delta asks). */
        return account_query(db, "kind = 2", NULL, -1, out);
}
