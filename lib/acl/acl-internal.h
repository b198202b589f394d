/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private declarations of the ACL engine (lib/acl/). */
#ifndef APID_ACL_INTERNAL_H
#define APID_ACL_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "internal.h"

/* Inheritance flags of a spec. */
#define APID__ACE_OI 1u
#define APID__ACE_CI 2u
#define APID__ACE_IO 4u
#define APID__ACE_NP 8u
#define APID__ACE_INHERITED 16u

/* POSIX permission bits. */
#define APID__R 4u
#define APID__W 2u
#define APID__X 1u

struct apid__ace_spec {
        char trustee[512];
        uint32_t mask;  /* Windows access mask */
        uint32_t flags; /* APID__ACE_* */
        int has_perm;
        int rights_seen;
};

/* What a trustee is in a POSIX ACL. */
enum { APID__T_USER = 1, APID__T_GROUP, APID__T_OTHER, APID__T_OWNER, APID__T_OWNING_GROUP,
       APID__T_POOL /* IIS AppPool\X: the pool's group entry (id: its gid, == its own uid); docs/acl.md */ };
struct apid__trustee {
        int tag;
        uint32_t id;
        char name[256]; /* as given, quoted, for messages */
};

int apid__acl_spec_parse(const char *spec, int need_perm, struct apid__ace_spec *out);
unsigned apid__acl_bits(uint32_t mask, int is_dir, char *lost, size_t size);
int apid__acl_trustee_resolve(apid_ctx *ctx, const char *name, struct apid__trustee *t);

/* One resolved change. */
struct apid__ace {
        int op;
        struct apid__trustee t;
        uint32_t mask, flags;
        unsigned bits[2];      /* POSIX bits for a file [0] and a directory [1] */
        char lost[2][512];     /* what could not be given, per kind */
        int reported[2];       /* approximation reported once per kind */
        gid_t *groups;         /* deny for a user: the user's groups; for a pool: its worker's */
        int n_groups;
        uint32_t wuid, shared; /* deny for a pool: its worker's uid, the shared group (or -1) */
        char spec[600];
};

struct apid_acl_edit {
        apid_ctx *ctx;
        struct apid__ace *aces;
        size_t n_aces;
        int reset;
        uint32_t flags;
        unsigned max_depth; /* directory levels below the top that a walk enters */
        apid_acl_report_fn report;
        void *report_data;
        apid_acl_progress_fn progress;
        void *progress_data;
        char *journal_path;
        FILE *journal;
        /* during apply */
        pthread_mutex_t lock; /* callbacks, counts, journal, first error */
        uint64_t counts[6];
        int first_error;                    /* its status, or 0 */
        struct apid__error_state first;     /* its status, errno and message */
        int stop;
        const char *root_display; /* the path as given, leading '/' removed, for saves and the journal */
        uid_t tree_uid;           /* owner of the top: foreign hard links below it are skipped */
        struct apid__namecache *names; /* the journal's owner and entry names, for one apply */
};

/* ---- compute.c: the rights computation, pure (libacl only, no file system) ---- */

/* What the computation is given about one file. */
struct apid__acl_input {
        acl_t acc;        /* its access ACL (from the mode when it has none) */
        acl_t def;        /* a directory's default ACL (maybe 0 entries); NULL for a file */
        acl_t parent_def; /* a reset: the parent's default ACL, NULL when it has none */
        const struct stat *st; /* its owner, group and mode (data only) */
        int is_dir;
        const char *rel;  /* for messages */
};

/* An approximation found while computing: ace is an index into aces. */
typedef void (*apid__acl_note_fn)(void *data, size_t ace, int kind, const char *what);

struct apid__acl_rules {
        const struct apid__ace *aces;
        size_t n_aces;
        int reset;
        apid__acl_note_fn note; /* may be NULL */
        void *note_data;
};

/* The new access and default ACLs (*out_def NULL: a directory's default
 * ACL is left as it is, or a file) from in; the caller frees them. */
/* A failed call's errno as a status, with rel and what in the message. */
int apid__acl_sys_fail(const char *rel, const char *what);
int apid__acl_compute(const struct apid__acl_rules *rules, const struct apid__acl_input *in, acl_t *out_acc,
                      acl_t *out_def);
/* Whether the result depends on more than the ACL and the mode: the owner
 * (deny, CREATOR OWNER/GROUP) or the parent directory (reset). */
int apid__acl_rules_cacheable(const struct apid__acl_rules *rules);
unsigned apid__acl_entry_bits(acl_entry_t en);
int apid__acl_entry_add(acl_t *acl, acl_tag_t tag, uint32_t id, unsigned bits);

/* ---- xattr.c: the kernel's ACL bytes, read and written by name or through a pinned descriptor ---- */

#define APID__XATTR_ACCESS "system.posix_acl_access"
#define APID__XATTR_DEFAULT "system.posix_acl_default"
#define APID__BLOB_MAX 4096
#define APID__BLOB_NONE (-1)    /* no such xattr */
#define APID__BLOB_TOO_BIG (-2) /* larger than APID__BLOB_MAX: computed without the cache */

struct apid__blob {
        ssize_t len;
        unsigned char data[APID__BLOB_MAX];
};

/* One open file: a descriptor that pins it, for reading and writing. */
struct apid__pinned {
        int fd;
        int use_proc; /* an O_PATH descriptor: xattrs through /proc/self/fd */
        char proc[64];
        struct stat st;
};

/* Open name below dirfd without following a link: O_PATH, or a directory. */
int apid__open_nofollow(int dirfd, const char *name, int directory);
/* xattrs of name below dirfd, never following a link (*xattrat, or /proc/self/fd). */
ssize_t apid__getxattr_at(int dirfd, const char *name, const char *attr, void *buf, size_t size);
int apid__setxattr_at(int dirfd, const char *name, const char *attr, const void *buf, size_t size);
int apid__removexattr_at(int dirfd, const char *name, const char *attr);
/* Pin name below dirfd (never following a link); -1 and errno on failure. */
int apid__pin(int dirfd, const char *name, struct apid__pinned *p);
int apid__blob_read(const struct apid__pinned *p, const char *attr, struct apid__blob *b);
int apid__blob_write(const struct apid__pinned *p, const char *attr, const struct apid__blob *b);
int apid__blob_eq(const struct apid__blob *a, const struct apid__blob *b);
acl_t apid__acl_from_blob(const struct apid__blob *b);
int apid__blob_from_acl(acl_t acl, struct apid__blob *b);

/* ---- walk.c: one walk for every tree operation ---- */

#define APID__WALK_DEFAULT_DEPTH APID_ACL_DEFAULT_DEPTH
#define APID__WALK_MAX_DEPTH APID_ACL_MAX_DEPTH
#define APID__WALK_PRUNE 1 /* from visit: do not descend into this directory */

struct apid__walk_entry {
        int dirfd;            /* the directory it is in */
        const char *name;     /* its name there */
        const char *rel;      /* its path for messages: the top's display path, then joined with '/' */
        int is_dir;
        const struct stat *st; /* with APID__WALK_STAT (and for the top), else NULL */
};

enum { APID__WALK_NOT_FILE = 1, /* a link, a device...: no ACL of its own, skipped */
       APID__WALK_CHANGED,      /* it changed under the walk (vanished, swapped): skipped */
       APID__WALK_ERROR };      /* it could not be walked */

/* One thing the walk could not do, on one entry. */
struct apid__walk_event {
        int kind;
        const char *rel;
        const char *step; /* "stat", "reading the directory", "cannot descend", "depth" */
        int err;          /* errno, 0 when none */
        const char *why;  /* when err is 0 or says too little, what happened */
};

struct apid__walker {
        /* Each entry, the top first; APID_OK, APID__WALK_PRUNE, or < 0 to stop the walk. */
        int (*visit)(void *data, void *local, const struct apid__walk_entry *en);
        /* Each event; APID_OK to go on, < 0 to stop the walk. */
        int (*event)(void *data, const struct apid__walk_event *ev);
        /* Per-thread state for visit (may be NULL). */
        void *(*local_new)(void *data);
        void (*local_free)(void *data, void *local);
        void *data;
        unsigned max_depth; /* directory levels entered below the top */
        unsigned threads;   /* 1: readdir order; more: the top's subdirectories are shared */
        unsigned flags;
};
#define APID__WALK_RECURSIVE 1u
#define APID__WALK_STAT 2u /* fstatat() every entry (else only when readdir cannot say its type) */
#define APID__WALK_BARE_TOP 4u /* a top named "." names its children "x", not "./x" */

/* Walk top (base below pfd, display path top_rel, a file or directory
 * described by *st). Returns the first status < 0 a callback returned, an
 * allocation failure, or APID_OK. */
int apid__walk(const struct apid__walker *w, int pfd, const char *base, const char *top_rel, const struct stat *st);
/* "REL: STEP: WHY" (strerror(err) when there is no why), for messages. */
void apid__walk_event_format(const struct apid__walk_event *ev, char *buf, size_t size);
/* The status for an errno met walking. */
int apid__walk_status(int err);

/* ---- edit.c ---- */
int apid__acl_edit_path(apid_acl_edit *e, int dirfd, const char *name, const char *rel, int is_dir,
                        void *cache);
void apid__acl_event(apid_acl_edit *e, int event, const char *rel, const char *detail);
int apid__acl_failed(apid_acl_edit *e, const char *rel, int status);
void *apid__acl_cache_new(void);
void apid__acl_cache_free(void *cache);

/* ---- journal.c: the old ACLs of a path, appended before it is changed ---- */
int apid__acl_journal_entry(apid_acl_edit *e, const char *rel, int fd, int is_dir);

/* ---- save.c: one entry in the getfacl format ---- */
int apid__acl_write_entry(FILE *f, const char *path, int fd, int is_dir);
/* The same, names through a walk's cache (NULL: none; lib/idmap/namecache.h). */
struct apid__namecache;
int apid__acl_write_entry_names(FILE *f, const char *path, int fd, int is_dir, struct apid__namecache *names);

#endif
