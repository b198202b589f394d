/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private declarations of the ACL engine (lib/acl/). */
#ifndef APID_ACL_INTERNAL_H
#define APID_ACL_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/acl.h>

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
};

/* edit.c */
int apid__acl_edit_path(apid_acl_edit *e, int dirfd, const char *name, const char *rel, int is_dir,
                        void *cache);
void apid__acl_event(apid_acl_edit *e, int event, const char *rel, const char *detail);
int apid__acl_failed(apid_acl_edit *e, const char *rel, int status);
void *apid__acl_cache_new(void);
void apid__acl_cache_free(void *cache);

/* walk.c */
int apid__acl_walk(apid_acl_edit *e, const char *path);
/* Open name below dirfd without following a link: O_PATH, or a directory. */
int apid__open_nofollow(int dirfd, const char *name, int directory);
/* xattrs of name below dirfd, never following a link (*xattrat, or /proc/self/fd). */
ssize_t apid__getxattr_at(int dirfd, const char *name, const char *attr, void *buf, size_t size);
int apid__setxattr_at(int dirfd, const char *name, const char *attr, const void *buf, size_t size);
int apid__removexattr_at(int dirfd, const char *name, const char *attr);

/* save.c: one entry in the getfacl format. */
int apid__acl_write_entry(FILE *f, const char *path, int fd, int is_dir);

#endif
