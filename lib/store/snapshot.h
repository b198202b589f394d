/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NSS snapshot's binary format (version 2): what libnss_apppoolid and
 * the library read without SQLite. One file, written whole by the library
 * (lib/nssfile.c), memory-mapped by readers, trusted in nothing: the header
 * is checked (magic, version, sizes, the file's size, a header check value)
 * and every offset and string is bounds-checked on each access, every name
 * and id validated before it is answered.
 *
 *   header | user records | group records | index arrays | strings
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
#define APID__SNAP_VERSION 2u
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
        uint32_t check; /* FNV-1a of the header bytes before it */
};

/* Records: strings are offsets into the string table (NUL-terminated). */
struct apid__snap_urec {
        uint32_t name, uid, gecos, home, key, sid;
};
struct apid__snap_grec {
        uint32_t name, gid, members; /* members: "a,b,c" */
};

/* A checked snapshot in memory. */
struct apid__snap {
        const unsigned char *data;
        size_t size;
        const struct apid__snap_header *h;
        int mapped;
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
 * bounds; s points into data. */
int apid__snap_check(const void *data, size_t size, struct apid__snap *s);
/* Open and map path, O_NONBLOCK, fstat() first: a regular file, not group-
 * or world-writable, owned by root (or, unless root_only, by this euid), at
 * most max_size bytes. 0 on success; -1 if absent or refused. *st_out (may
 * be NULL) receives the file's stat for revalidation. */
struct stat;
int apid__snap_open(const char *path, int root_only, size_t max_size, struct apid__snap *s, struct stat *st_out);
void apid__snap_close(struct apid__snap *s);

/* Record i, checked. 0 if valid. */
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

#endif
