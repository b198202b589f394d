/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The idmap layer (lib/idmap/): the one NSS resolver, uid/gid choice, user
 * names and the built-in identities. Private to the library; the layer sits
 * below store (lib/store/registry.c, lib/store/settings.c) and above the public objects
 * (lib/pool.c, lib/identity.c, lib/config.c). See ../../docs and DESIGN.md
 * "Where the tree is going". */
#ifndef APID_IDMAP_H
#define APID_IDMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../internal.h"

/* ---- resolver.c: the one NSS resolver ----
 *
 * Every NSS lookup the library makes goes through these. They use only the
 * reentrant calls (getpwnam_r ...), so they are safe on any thread, grow
 * their buffer on ERANGE (a group with thousands of members is found, never
 * taken for "unknown"), and tell "not found" (APID_ENOTFOUND, no message set)
 * from a failure of the source (APID_ESYS, message naming the key): a
 * directory that does not answer is never taken to mean "free".
 * out may be NULL to ask only whether the entry exists. Callers must hold no
 * registry transaction and no library lock: NSS may go to LDAP or SSSD. */
struct apid__nss_user {
        uint32_t uid, gid;
        char *name, *gecos, *dir;
};
struct apid__nss_group {
        uint32_t gid;
        char *name;
};
int apid__nss_user_by_name(const char *name, struct apid__nss_user *out);
int apid__nss_user_by_uid(uint32_t uid, struct apid__nss_user *out);
int apid__nss_group_by_name(const char *name, struct apid__nss_group *out);
int apid__nss_group_by_gid(uint32_t gid, struct apid__nss_group *out);
void apid__nss_user_clear(struct apid__nss_user *u);
void apid__nss_group_clear(struct apid__nss_group *g);
/* The groups of user (with its primary group gid): *out malloc'd, *n set. */
/* Shorthands: the id of a user or group name (APID_OK, APID_ENOTFOUND or a
 * failure); whether a user name, or an id or name as user or group, is known
 * (1, 0, or a failure < 0). */
int apid__nss_user_id(const char *name, uint32_t *uid);
int apid__nss_group_id(const char *name, uint32_t *gid);
int apid__nss_user_exists(const char *name);
int apid__nss_id_known(uint32_t id);
int apid__nss_name_known(const char *name);
int apid__nss_grouplist(const char *user, uint32_t gid, gid_t **out, int *n);

/* idmap.c: find or assign the POSIX account record of a SID (kind
 * APID__POSIX_*) inside a write transaction run by apid__idmap_run: the
 * first uid of the SID's probe sequence free in the registry and in NSS, or
 * the one NSS serves as this very identity. (Declared in internal.h.)
 * apid__posix_record_check: the rules every record obeys, chosen by pool add
 * or carried by an import: a valid POSIX name (and, with check_nss, one no
 * NSS source serves as another identity), the kind's SID, a uid in the id
 * range that is candidate a->probe of the SID's sequence. Fails with a
 * message naming the value (no prefix). */

/* idmap.c: candidate i of sid's probe sequence in [first, first + size). */
uint32_t apid__idmap_candidate(const apid_sid *sid, uint32_t first, uint32_t size, uint32_t i);
/* idmap.c: 1 if an NSS account or group has id and is not user, the account
 * of SID sid_text, as a farm's directory serves it; 0 if free or ours. */
int apid__idmap_id_foreign(uint32_t id, const char *user, const char *sid_text);
/* The candidate index of uid in sid_text's probe sequence (APID_ECOLLISION
 * if it is none of the first candidates pool add tries). */
int apid__idmap_probe_of(struct sqlite3 *db, const char *sid_text, uint32_t uid, uint32_t *probe);

/* Run fn in a registry transaction (apid__reg_run) with every NSS lookup it
 * makes answered from answers gathered outside the transaction, rounds
 * repeated until no question is new (see resolver.c). gather: count a
 * question not yet answered as "not found" for the round (for imports that
 * ask many). Inside a round, apid__nss_in_round() is 1. */
#define APID__EAGAIN_NSS (-1000) /* internal: never returned to a caller */
int apid__idmap_run(apid_ctx *ctx, int write, int create, apid__reg_fn fn, void *arg, int gather);
int apid__nss_in_round(void);
/* How many questions the round's cache holds (0 outside a round). */
size_t apid__nss_asked(void);

#endif
