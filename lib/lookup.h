/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context's lookup cache (lookup.c): pool identities answered from the
 * memory-mapped NSS snapshot and what was derived from it, without SQLite. */
#ifndef APID_LOOKUP_H
#define APID_LOOKUP_H

#include <stdint.h>

#include "internal.h"
#include "store/snapshot.h"

/* Not an answer: ask the registry (the cache is off, the snapshot absent,
 * invalid or older than the registry, or the key is not in it). Positive,
 * so never a status a caller sees. */
#define APID__LOOKUP_MISS 1

struct apid__lookup;
/* For apid_ctx_new(): NULL when out of memory. APPPOOLID_LOOKUP_CACHE=0 in
 * the environment turns the cache off (every lookup goes to SQLite, as
 * before it existed: for benchmarks and for comparison). */
struct apid__lookup *apid__lookup_new(void);
void apid__lookup_free(struct apid__lookup *l);
/* The state directory changed: forget the mapping. Not synchronised with
 * lookups (as apid_ctx_set_state_dir() is not). */
void apid__lookup_reset(struct apid__lookup *l);

/* The identity of the pool whose user record has the name or SID text, or
 * uid id (by APID__SNAP_BY_NAME, _SID or _UID). APID_OK with a reference in
 * *out, or APID__LOOKUP_MISS. */
int apid__lookup_identity(apid_ctx *ctx, enum apid__snap_by by, const char *text, uint32_t id,
                          apid_identity **out);
/* apid_pool_open() by canonical key: APID_OK or APID__LOOKUP_MISS. */
int apid__lookup_pool(apid_ctx *ctx, const char *key, apid_pool **out);
/* apid_pool_get_identity() of a pool the cache opened and nobody changed
 * since: APID_OK or APID__LOOKUP_MISS. */
int apid__lookup_pool_identity(const apid_pool *pool, apid_identity **out);

/* context.c */
struct apid__lookup *apid__ctx_lookup(apid_ctx *ctx);
/* pool.c: a pool handle made from a cached row, tagged with the snapshot
 * generation and record it came from; the tag (1 if there is one). */
int apid__pool_from_row(apid_ctx *ctx, const struct apid__pool_row *row, uint64_t gen, uint32_t rec,
                        apid_pool **out);
int apid__pool_cache_tag(const apid_pool *pool, uint64_t *gen, uint32_t *rec);
/* identity.c: another reference to an identity (apid_identity_free() drops
 * one); whether it was built from NSS answers (SpecificUser, an account or
 * a shared group NSS serves), which no snapshot generation covers. */
apid_identity *apid__identity_ref(apid_identity *id);
int apid__identity_from_nss(const apid_identity *id);

#endif
