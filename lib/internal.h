/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private declarations shared by the files in lib/. Nothing here is exported. */
#ifndef APID_INTERNAL_H
#define APID_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "apppoolid.h"

#define APID_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* error.c: record the calling thread's last error and return status. */
int apid__fail(int status, int sys_errno, const char *fmt, ...) APID_PRINTF(3, 4);
int apid__fail_oom(void);
/* A copy of the thread's last error: status, errno and message together.
 * Cleanup that may fail saves it first and restores it after, so a free
 * never replaces the caller's error (as libgit2's git_error_save/restore);
 * a walk keeps its first failure in one. restore returns the saved status. */
struct apid__error_state {
        int status;
        int sys_errno;
        char message[1024];
};
void apid__error_save(struct apid__error_state *s);
int apid__error_restore(const struct apid__error_state *s);
/* Quote untrusted text for a message: printable ASCII as is, the rest as \xNN,
 * cut with "..." past max bytes. Writes a NUL-terminated string into buf. */
void apid__quote(char *buf, size_t size, const char *text, size_t max);

/* Free helpers for __attribute__((cleanup)); used in every file that allocates. */
static inline void apid__freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ __attribute__((cleanup(apid__freep)))

/* context.c */
void apid__log(apid_ctx *ctx, int level, const char *fmt, ...) APID_PRINTF(3, 4);

/* text.c: UTF-8 <-> UTF-16 and the simple Unicode case mappings Windows applies
 * per UTF-16 code unit. */
enum apid_case { APID_CASE_KEEP, APID_CASE_LOWER, APID_CASE_UPPER };

/* Decode one UTF-8 sequence at s (len bytes left). Returns its length and sets
 * *cp, or 0 for an invalid sequence (overlong, surrogate, > U+10FFFF, cut). */
size_t apid__utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
/* Encode cp as UTF-8 into out (4 bytes at least); returns the length. */
size_t apid__utf8_encode(uint32_t cp, char *out);
/* Map one code point; only the Basic Multilingual Plane is mapped, as Windows
 * maps UTF-16 code units one at a time. Returns -1 for a non-ASCII code point
 * when the C.UTF-8 locale (the case tables) is unavailable. */
int apid__case_map(uint32_t cp, enum apid_case mode, uint32_t *out);
/* UTF-8 (already validated) to UTF-16LE bytes, case-mapped. *out is malloc'd. */
int apid__utf16le(const char *utf8, enum apid_case mode, unsigned char **out, size_t *out_size,
                  const char *what);

/* name.c: the service-name rule (the pool-name rule is public), and POSIX
 * user and group names ([a-z_][a-z0-9_-]*, at most 32 bytes). */
int apid__service_name_check(const char *name);
int apid__posix_name_valid(const char *name);

/* atomicfile.c: write a file whole or not at all: fill a temporary file in
 * the same directory, fsync it, rename it over path. "what" names the file
 * in messages. */
int apid__write_atomic(const char *path, const char *what, mode_t mode, int (*fill)(FILE *f, void *arg),
                       void *arg);
/* atomicfile.c: a new file name in dirfd (none there: O_EXCL) holding size
 * bytes of data, complete and synced before it has its name (O_TMPFILE +
 * linkat, or created by name where O_TMPFILE is missing), mode whatever
 * the umask. 0, or -1 with errno and nothing left behind. */
int apid__write_temp_at(int dirfd, const char *name, mode_t mode, const void *data, size_t size);
/* Open path, a file the caller named, for reading, only when it is a
 * regular file (lib/util/regular.h: a FIFO, socket or device is refused at once,
 * never read). "what" starts the messages; a missing file gives
 * enoent_status. */
int apid__fopen_regular(const char *path, const char *what, int enoent_status, FILE **out);

/* safepath.c: walk the absolute path of a directory root trusts from /, by
 * openat(O_PATH | O_NOFOLLOW), following symbolic links by hand, and refuse
 * (APID_EPERM, naming the component, its owner and mode) a directory or
 * link on the way that belongs to anyone but root or this process's user,
 * or a directory passed through that group or others may write without the
 * sticky bit. APID_OK with *st the directory's stat and *real (malloc'd,
 * when real is not NULL) its path without links; APID_ENOTFOUND (errno
 * ENOENT) when a component is missing. "what" starts the messages. */
struct stat;
int apid__safe_dir(const char *path, const char *what, char **real, struct stat *st);
/* store/registry.c: apid__safe_dir() of a state directory, and the
 * directory itself (root's or this process's user's, no group or other
 * write): what the registry is opened through, and the lookup cache's
 * snapshot (lookup.c). *real as for apid__safe_dir (NULL on failure). */
int apid__safe_state_dir(const char *dir, char **real);
/* safepath.c: open (O_RDONLY | O_DIRECTORY, in *fd) a directory an
 * administrator named, following only symbolic links that belong to root or
 * this process's user (a pool's link in a directory it may write would send
 * root elsewhere); directories on the way may be anyone's. A relative path
 * starts at the working directory. APID_EPERM names a refused link. */
int apid__open_dir_trusted_links(const char *path, const char *what, int *fd);

/* account.c: the built-in identities (LocalSystem, LocalService,
 * NetworkService): type APID_IDENTITY_*, SID, Windows account name, and the
 * registry setting that names the POSIX account. NULL when not built in.
 * The provisioned ones are LocalService and NetworkService. */
struct apid__builtin {
        int type;
        const char *sid;
        const char *account;
        const char *setting;
};
const struct apid__builtin *apid__builtin_by_type(int type);
const struct apid__builtin *apid__builtin_by_sid(const char *sid);

/* ---- registry (lib/store/registry.c is the only file that speaks SQL) ---- */
struct sqlite3;

/* A POSIX account record: an id assignment, every uid the registry ever
 * gave out (never deleted), with the POSIX user name. ("Account" alone means
 * a Windows account name, "IIS APPPOOL\web".) */
struct apid__posix_record {
        uint32_t uid;
        uint32_t probe;
        int kind; /* APID__POSIX_* */
        char sid[APID_SID_MAX_STRING + 1];
        char user[33];
};
enum { APID__POSIX_POOL = 0, APID__POSIX_BUILTIN = 1, APID__POSIX_GROUP = 2 };

/* A pool's row: names and its non-default settings. */
struct apid__pool_row {
        char *name;
        char *key;
        uint32_t uid;
        size_t n_settings;
        char **setting_names;
        char **setting_values;
};
void apid__pool_row_clear(struct apid__pool_row *row);

/* Run fn inside one registry transaction (BEGIN IMMEDIATE when write is set),
 * holding the context's registry lock. With create unset and no registry
 * file, returns APID_ENOTFOUND without creating anything. fn returns a
 * status; anything but APID_OK rolls back. After a committed write the NSS
 * snapshot is rewritten. */
typedef int (*apid__reg_fn)(apid_ctx *ctx, struct sqlite3 *db, void *arg);
int apid__reg_run(apid_ctx *ctx, int write, int create, apid__reg_fn fn, void *arg);
void apid__reg_close(apid_ctx *ctx);

int apid__reg_config_get(struct sqlite3 *db, const char *name, char **value); /* ENOTFOUND if unset */
int apid__reg_config_set(struct sqlite3 *db, const char *name, const char *value); /* "" deletes */
int apid__reg_pool_get(struct sqlite3 *db, const char *key, struct apid__pool_row *row);
int apid__reg_pool_keys(struct sqlite3 *db, char ***names, size_t *count); /* display names, by key */
int apid__reg_pool_count(struct sqlite3 *db, size_t *count);
/* 1 while db's transaction is open (a failed statement can roll it back). */
int apid__reg_in_transaction(struct sqlite3 *db);
/* Inside a write transaction: the uids whose accounts, pools or pool
 * settings this transaction changed (sorted; *all: never set, a registry
 * setting is in the snapshot's log), and the log emptied. */
int apid__reg_launch_changes(struct sqlite3 *db, uint32_t **uids, size_t *count, int *all);
int apid__reg_pool_insert(struct sqlite3 *db, const char *key, const char *name, uint32_t uid);
int apid__reg_pool_remove(struct sqlite3 *db, const char *key);
int apid__reg_pool_key_by_uid(struct sqlite3 *db, uint32_t uid, char **key);
int apid__reg_setting_put(struct sqlite3 *db, const char *key, const char *name, const char *value);
int apid__reg_record_by_sid(struct sqlite3 *db, const char *sid, struct apid__posix_record *out);
int apid__reg_record_by_uid(struct sqlite3 *db, uint32_t uid, struct apid__posix_record *out);
int apid__reg_record_by_user(struct sqlite3 *db, const char *user, struct apid__posix_record *out);
int apid__reg_record_insert(struct sqlite3 *db, const struct apid__posix_record *a);
/* Call fn for every account, ordered by uid, with the name of the live pool
 * that uses it (NULL for none) and whether that pool loads its profile. */
int apid__reg_records_each(struct sqlite3 *db, int (*fn)(const struct apid__posix_record *a, const char *pool_name,
                                                          int loads_profile, void *arg), void *arg);
/* The snapshot's change log (issue 17): the uids whose records changed since
 * the last complete snapshot (*all set when a registry setting changed, and
 * only a complete one will do), kept by triggers; cleared when a complete
 * snapshot is built. records_changed_each is accounts_each for those uids. */
int apid__reg_snapshot_changes(struct sqlite3 *db, uint32_t **uids, size_t *count, int *all);
int apid__reg_snapshot_changes_clear(struct sqlite3 *db);
int apid__reg_records_changed_each(struct sqlite3 *db, int (*fn)(const struct apid__posix_record *a,
                                                                 const char *pool_name, int loads_profile,
                                                                 void *arg), void *arg);
/* Every live pool's user and uid, by uid; the shared group's record. */
int apid__reg_pool_users_each(struct sqlite3 *db, int (*fn)(const char *user, uint32_t uid, void *arg), void *arg);
int apid__reg_shared_group(struct sqlite3 *db, struct apid__posix_record *out);

/* config.c, for ldif.c: one "account" or "pool" record of the TSV export
 * format, checked and stored as registry import does; the checks import
 * makes after its last record. Inside a write transaction. */
int apid__import_record(apid_ctx *ctx, struct sqlite3 *db, char *line);
int apid__import_complete(apid_ctx *ctx, struct sqlite3 *db);

/* context.c: the cached registry connections (the writer's, or with
 * readonly set the reader's) and their lock. */
struct sqlite3 **apid__ctx_db(apid_ctx *ctx, int readonly);
void apid__ctx_lock(apid_ctx *ctx);
void apid__ctx_unlock(apid_ctx *ctx);

/* ---- settings (lib/store/settings.c) ---- */
enum { APID__S_BOOL, APID__S_UINT, APID__S_TIMESPAN, APID__S_ENUM, APID__S_USER, APID__S_PATH, APID__S_TEXT };
struct apid__setting {
        const char *name;
        int kind;
        const char *def;
        uint64_t min, max;
        const char *const *values; /* APID__S_ENUM */
};
extern const struct apid__setting apid__pool_settings[];    /* NULL-terminated */
extern const struct apid__setting apid__registry_settings[]; /* NULL-terminated */
/* Index of a setting (case-insensitive), or APID_EINVAL naming it. */
int apid__setting_find(const struct apid__setting *table, const char *name, const char *what);
/* The longest path setting (profileRoot): the profile path it starts must
 * fit the NSS module's home field with a user name after it. */
#define APID__PATH_SETTING_MAX 1024
/* Check a value and return its canonical spelling (malloc'd). */
int apid__setting_normalize(const struct apid__setting *s, const char *value, char **out);
int apid__identity_type_from_name(const char *name);

/* ---- identities (lib/identity.c) ---- */
/* Settings of the registry with their defaults (lib/registry-settings in pool.c). */
int apid__config(struct sqlite3 *db, const char *name, char **value); /* value or default */
/* lib/idmap/idmap.h declares the POSIX account records' rules and choice
 * (apid__posix_record_check, apid__posix_record_assign): */
int apid__posix_record_assign(apid_ctx *ctx, struct sqlite3 *db, const apid_sid *sid, int kind,
                              const char *user_base, struct apid__posix_record *out);
int apid__posix_record_check(struct sqlite3 *db, const struct apid__posix_record *a, int check_nss);
/* 1 if user is a name pool add could give pool_name (a variant), 0 if not;
 * expect receives the first choice. */
int apid__pool_user_name_matches(const char *pool_name, const char *user, char expect[33]);
/* The deterministic POSIX user name for a pool name. */
int apid__pool_user_name(const char *pool_name, const apid_sid *sid, int variant, char out[33]);
/* The profile root (malloc'd): profileRoot, or STATE_DIR/profiles. */
int apid__profile_root(apid_ctx *ctx, struct sqlite3 *db, char **out);
/* The profile directory of a user (malloc'd) under the profile root. */
int apid__profile_path(apid_ctx *ctx, struct sqlite3 *db, const char *user, char **out);

/* pool.c: what identity.c needs of a pool handle. */
apid_ctx *apid__pool_ctx(const apid_pool *pool);
uint32_t apid__pool_uid(const apid_pool *pool);
const char *apid__pool_value(const apid_pool *pool, const char *setting);
int apid__pool_open_key(apid_ctx *ctx, const char *key, apid_pool **out);
/* pool.c: provision the LocalService/NetworkService account (type
 * APID_IDENTITY_*) as pool set does, inside the caller's transaction. */
int apid__provision_builtin(apid_ctx *ctx, struct sqlite3 *db, int type);
/* identity.c: the identity of a pool, inside the caller's transaction. */
int apid__identity_build(apid_ctx *ctx, struct sqlite3 *db, const apid_pool *pool, apid_identity **out);

/* ---- profiles (lib/profile.c) ---- */
/* ROOT/USER (user a valid POSIX name, checked again here), opened beneath
 * root without following links; create also makes ROOT/USER/tmp. */
int apid__profile_create(const char *root, const char *user, uint32_t uid, uint32_t gid);
int apid__profile_remove(const char *root, const char *user);

/* ---- the NSS snapshot (lib/store/nssfile.c), written by the library, read by libnss_apppoolid ---- */
#define APID__NSS_FILE "nss-snapshot"
/* The largest snapshot the module reads (and so the writer writes): about
 * 200,000 pools. The writer refuses to write a bigger one rather than have
 * the module ignore it. */
#define APID__NSS_MAX_SNAPSHOT (64u << 20)
/* Inside a write transaction: bump the registry's snapshot generation and
 * build the snapshot of what the transaction will commit, in memory. */
struct apid__nss_build {
        char *data;
        size_t size;
        uint64_t generation;
        uint64_t base_generation; /* 0: complete (published as a base too); else a delta over it */
        char *launch;             /* the launch settings of the same generation (launchsettings.c) */
        size_t launch_size;
};
int apid__nss_snapshot_build(apid_ctx *ctx, struct sqlite3 *db, struct apid__nss_build *out);
/* After COMMIT: put it in place atomically, unless a newer generation is
 * there already. Never called for a transaction that did not commit. */
int apid__nss_snapshot_publish(apid_ctx *ctx, const struct apid__nss_build *b);
void apid__nss_build_clear(struct apid__nss_build *b);
/* Inside a transaction: the registry's snapshot generation (0 before the
 * first write that published one). */
int apid__nss_generation_get(struct sqlite3 *db, uint64_t *gen);

/* ---- the launch settings file (lib/launchsettings.c; published by lib/store/launchfile.c): root's ---- */
#define APID__LAUNCH_FILE "launch-settings"
#define APID__LAUNCH_PENDING "launch-settings.pending"
#define APID__LAUNCH_MAX (64u << 20)
/* Inside a write transaction: the file of the pools as they will commit. */
/* changed, all: the snapshot's change log (apid__reg_snapshot_changes), the
 * uids whose records changed since the last complete snapshot, sorted: the
 * file of generation - 1 in place gives the other pools' records. */
int apid__launch_build(apid_ctx *ctx, struct sqlite3 *db, uint64_t generation, const uint32_t *changed,
                       size_t n_changed, int all, char **data, size_t *size);
/* The store builds it through this hook, which the pool layer sets
 * (apid_ctx_new): the store knows no pools. NULL: no file is built. */
typedef int (*apid__launch_builder)(apid_ctx *ctx, struct sqlite3 *db, uint64_t generation,
                                    const uint32_t *changed, size_t n_changed, int all, char **data, size_t *size);
void apid__store_set_launch_builder(apid__launch_builder fn);
apid__launch_builder apid__store_launch_builder(void);
/* After COMMIT, under the snapshot's lock: put it in place in dirfd (the
 * state directory dir, for messages). */
int apid__launch_publish(const char *dir, int dirfd, const char *data, size_t size);
/* Right before a write's COMMIT (root's, when it built a file): the
 * generation about to commit goes into APID__LAUNCH_PENDING, durably. A
 * reader takes a launch settings file only when its generation is the
 * pending one: if the writer dies after COMMIT, or another writer's older
 * file lands after it, the file in place is not the registry's and
 * launches ask SQLite (which sees the registry's generation). */
int apid__launch_pending_set(const char *dir, uint64_t generation);
/* The pending generation, 0 when there is none a reader may trust (missing,
 * not a regular file of root's alone, malformed). Reads only. */
uint64_t apid__launch_pending_get(const char *dir);
/* After a failed COMMIT: the generation announced before (0: none, the
 * file removed). */
int apid__launch_pending_reset(const char *dir, uint64_t generation);
/* Pool key's row and identity from the file of this generation, its uid
 * uid: APID_OK, or APID__LOOKUP_MISS (lookup.h) when the file cannot say. */
int apid__launch_entry(apid_ctx *ctx, uint64_t generation, const char *key, uint32_t uid,
                       struct apid__pool_row *row, apid_identity **id);
/* identity.c: what the file keeps of an ApplicationPoolIdentity identity
 * (the rest is derived from the pool's name). export: 0, or -1 for an
 * identity the file does not keep (another type, or built from NSS). */
struct apid__launch_id {
        uint32_t uid, probe, shared_gid;
        const char *user, *profile; /* profile "" for none */
};
int apid__identity_export(const apid_identity *id, struct apid__launch_id *out);
int apid__identity_import(apid_ctx *ctx, const char *pool_name, const struct apid__launch_id *in,
                          apid_identity **out);

/* identity.c: a provisioned LocalService/NetworkService account's uid, by
 * name, in a read transaction (for when the NSS module is not enabled). */
int apid__builtin_uid_lookup(apid_ctx *ctx, const char *name, uint32_t *uid);

/* identity.c: the provisioned shared group's gid, in a read transaction. */
int apid__shared_gid_lookup(apid_ctx *ctx, const char *name, uint32_t *gid);

#endif
