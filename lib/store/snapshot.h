/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NSS snapshot's binary format (version 3): what libnss_apppoolid and
 * the library read without SQLite. Files written whole by the library
 * (lib/store/nssfile.c), memory-mapped by readers, trusted in nothing: the header
 * is checked (magic, version, sizes, the file's size, a header check value)
 * and every offset and string is bounds-checked on each access, every name
 * and id validated before it is answered.
 *
 *   header | user records | group records | index arrays | gone ids | strings
 *
 * Version 3 (issue 17, write cost): the file readers open ("the head") is
 * either complete (base_generation 0) or a delta over a complete base, the
 * file PATH.base-<base_generation> beside it, so that a change rewrites a
 * few records rather than the whole table. A delta holds the users and
 * groups that changed since its base (each replaces the base's record of
 * the same uid or gid) and the uids and gids that are gone (the base's
 * record is hidden). apid__snap_open() maps both and the lookups below merge
 * them; a reader sees a head and the base it names, or nothing.
 *
 * Indexes are arrays of record numbers sorted by their key (user name, uid,
 * SID, canonical pool name; group name, gid), searched by bisection: a
 * lookup is O(log n) with no allocation. An index that is not sorted only
 * makes lookups miss; a hit is compared with the query again. Integers are
 * in host byte order (the file never leaves its host). */
#ifndef APID_STORE_SNAPSHOT_H
#define APID_STORE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define APID__SNAP_MAGIC "APIDSNAP"
#define APID__SNAP_VERSION 3u
#define APID__SNAP_MIN_ID 65536u
#define APID__SNAP_MAX_ID 2147483647u

struct apid__snap_header {
        char magic[8];
        uint32_t version;
        uint32_t header_size;
        uint64_t generation;
        uint64_t size; /* of the whole file */
        uint32_t n_users, n_groups;
        uint32_t users, groups;                   /* record arrays */
        uint32_t by_name, by_uid, by_sid, by_key; /* user indexes */
        uint32_t gr_by_name, gr_by_gid;           /* group indexes */
        uint32_t strings, strings_size;
        uint32_t gone_uids, n_gone_uids;          /* sorted uid array: users removed from the base */
        uint32_t gone_gids, n_gone_gids;          /* sorted gid array: groups removed from the base */
        uint64_t base_generation;                 /* 0: complete; else a delta over that base */
        uint32_t check; /* FNV-1a of the header bytes before it */
};

/* Records: strings are offsets into the string table (NUL-terminated). */
struct apid__snap_urec {
        uint32_t name, uid, gecos, home, key, sid;
};
struct apid__snap_grec {
        uint32_t name, gid, members; /* members: "a,b,c" */
};

/* A checked snapshot in memory. h is what a caller may read: for a delta
 * opened with its base, a copy of the head's header whose n_users and
 * n_groups count the base's records and the delta's together (indexes for
 * apid__snap_user_at and apid__snap_group_at), generation the head's. The
 * other fields are the reader's own. */
struct apid__snap {
        const unsigned char *data; /* the head */
        size_t size;
        const struct apid__snap_header *h;
        int mapped;
        const unsigned char *base_data; /* a delta's base, mapped; NULL if none */
        size_t base_size;
        struct apid__snap_header *view; /* malloc'd h when there is a base */
};

/* A record, every field checked: valid names, ids in 65536..2^31-1, text
 * without control characters or ':', within the string table. */
struct apid__snap_user {
        const char *name, *gecos, *home, *key, *sid;
        uint32_t uid;
};
struct apid__snap_group {
        const char *name, *members;
        uint32_t gid;
};

/* 0 if data (size bytes) holds a snapshot whose header and tables are in
 * bounds; s points into data. A delta checked alone reads as its own
 * records only (no base). */
int apid__snap_check(const void *data, size_t size, struct apid__snap *s);
/* Open and map path, O_NONBLOCK, fstat() first: a regular file, not group-
 * or world-writable, owned by root (or, unless root_only, by this euid), at
 * most max_size bytes; for a delta, its base too, under the same checks,
 * which must be complete and of the generation the delta names (a base
 * replaced in between: the head is read again). 0 on success; -1 if absent
 * or refused. *st_out (may be NULL) receives the head's stat for
 * revalidation: every publication replaces the head. */
struct stat;
int apid__snap_open(const char *path, int root_only, size_t max_size, struct apid__snap *s, struct stat *st_out);
void apid__snap_close(struct apid__snap *s);

/* Record i, checked. 0 if valid. With a base, i < the base's count is the
 * base's record i (-1, as an invalid one, when the delta replaces or
 * removes it), the rest the delta's. */
int apid__snap_user_at(const struct apid__snap *s, uint32_t i, struct apid__snap_user *u);
int apid__snap_group_at(const struct apid__snap *s, uint32_t i, struct apid__snap_group *g);

enum apid__snap_by { APID__SNAP_BY_NAME, APID__SNAP_BY_UID, APID__SNAP_BY_SID, APID__SNAP_BY_KEY };
/* Find a user by name, SID or key (text) or uid (id); a group by name (text)
 * or gid (id, by = APID__SNAP_BY_UID). 0 if found and valid. */
int apid__snap_find_user(const struct apid__snap *s, enum apid__snap_by by, const char *text, uint32_t id,
                         struct apid__snap_user *u);
int apid__snap_find_group(const struct apid__snap *s, enum apid__snap_by by, const char *text, uint32_t id,
                          struct apid__snap_group *g);
/* The same as apid__snap_find_user, returning the record's number (below
 * n_users, stable for the life of the mapping) or -1: the library's lookup
 * cache keeps what it derived from record i beside it. */
/* 1 if user record rec's name, SID or key is text (or its uid id), as the
 * index compares it (bounds-checked, the record not validated: for a
 * record found and validated before). */
int apid__snap_user_is(const struct apid__snap *s, uint32_t rec, enum apid__snap_by by, const char *text, uint32_t id);
int64_t apid__snap_find_user_index(const struct apid__snap *s, enum apid__snap_by by, const char *text, uint32_t id,
                                   struct apid__snap_user *u);

/* The writer's side: build a snapshot from records (strings copied; they
 * must pass the reader's checks, or the build fails with -EINVAL). *out is
 * malloc'd. 0, -ENOMEM, -EINVAL or -E2BIG (past max_size). */
struct apid__snap_user_in {
        const char *name, *gecos, *home, *key, *sid;
        uint32_t uid;
};
struct apid__snap_group_in {
        const char *name, *members;
        uint32_t gid;
};
int apid__snap_build(const struct apid__snap_user_in *users, size_t n_users, const struct apid__snap_group_in *groups,
                     size_t n_groups, uint64_t generation, size_t max_size, void **out, size_t *out_size);
/* A delta over the complete snapshot of generation base_generation (not 0):
 * the users and groups that changed (added or replaced), and the uids and
 * gids removed (any order; duplicates allowed). */
int apid__snap_build_delta(const struct apid__snap_user_in *users, size_t n_users,
                           const struct apid__snap_group_in *groups, size_t n_groups, const uint32_t *gone_uids,
                           size_t n_gone_uids, const uint32_t *gone_gids, size_t n_gone_gids, uint64_t generation,
                           uint64_t base_generation, size_t max_size, void **out, size_t *out_size);
/* The name of a delta's base beside path ("PATH.base-GEN"); 0, or -1 if it
 * does not fit in size bytes. */
int apid__snap_base_path(char *buf, size_t size, const char *path, uint64_t base_generation);

#endif
