/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid/identity.h
 * @brief Identities: who a pool's workers run as, in Windows and in POSIX terms.
 *
 * For ApplicationPoolIdentity the identity is the pool's own: the SID and
 * account name Windows would give it, a POSIX user name, and a uid with a
 * primary group of the same number (gid == uid). The uid is a pure function
 * of the SID into the registry's id range (the idRangeStart and idRangeSize
 * settings, apid_registry_set()), so the
 * same pool name gives the same uid on every host with the same range; when
 * that id is taken (by another pool or by an existing account or group),
 * the next id of a probe sequence derived from the SID is used, and
 * apid_identity_get_uid_probe() says how far it went.
 *
 * The other identity types map to Linux accounts: LocalSystem to root,
 * LocalService and NetworkService to low-privileged accounts the library
 * provisions (named by the localServiceUser and networkServiceUser settings,
 * apid_registry_set()), SpecificUser to an
 * existing account. The pool's SID is still reported for them, as IIS
 * injects it into the token; its Linux form is the pool's own group
 * (apid_identity_get_pool_gid()), which every worker carries.
 *
 * An identity is an immutable snapshot: it may be shared between threads.
 */
#ifndef APPPOOLID_IDENTITY_H
#define APPPOOLID_IDENTITY_H

#include "apppoolid/common.h"
#include "apppoolid/context.h"
#include "apppoolid/pool.h"
#include "apppoolid/sid.h"

/** @defgroup apid_identity Identities
 *  @{ */

/** @brief An identity (opaque, immutable). @since 1.0 */
typedef struct apid_identity apid_identity;

APID_BEGIN_DECLS

/**
 * @brief The identity a pool's workers run as.
 * @param pool      the pool.
 * @param[out] out  receives the identity; free it with apid_identity_free().
 * @return #APID_OK; #APID_EINVAL, also when the account the pool runs as
 *         has another pool's own uid or gid (it would carry that pool's
 *         group: apid_identity_get_pool_gid()); #APID_ENOTFOUND if a
 *         SpecificUser account no longer exists; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_pool_get_identity(const apid_pool *pool, apid_identity **out);

/**
 * @brief Look up a pool identity by its SID.
 * @param ctx       the context.
 * @param sid       an application-pool SID.
 * @param[out] out  receives the identity; free it with apid_identity_free().
 * @return #APID_OK; #APID_ENOTFOUND if no pool has that SID; #APID_EINVAL;
 *         #APID_ESYS; #APID_ECORRUPT; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_identity_from_sid(apid_ctx *ctx, const apid_sid *sid, apid_identity **out);

/**
 * @brief Look up a pool identity by its uid.
 * @param ctx       the context.
 * @param uid       the uid.
 * @param[out] out  receives the identity; free it with apid_identity_free().
 * @return #APID_OK; #APID_ENOTFOUND if no pool has that uid; #APID_EINVAL;
 *         #APID_ESYS; #APID_ECORRUPT; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_identity_from_uid(apid_ctx *ctx, uint32_t uid, apid_identity **out);

/**
 * @brief Look up a pool identity by its POSIX user name or by its account
 *        name ("IIS APPPOOL\\DefaultAppPool", any case).
 * @param ctx       the context.
 * @param user      the name, UTF-8.
 * @param[out] out  receives the identity; free it with apid_identity_free().
 * @return #APID_OK; #APID_ENOTFOUND; #APID_EINVAL; #APID_ESYS; #APID_ECORRUPT; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_identity_from_user(apid_ctx *ctx, const char *user, apid_identity **out);

/**
 * @brief Free an identity.
 * @param identity  the identity; NULL is a no-op.
 * @since 1.0
 */
APID_EXPORT void apid_identity_free(apid_identity *identity);

/**
 * @brief The pool's SID (S-1-5-82-...), whatever the identity type.
 * @param identity  the identity.
 * @return A SID owned by the identity; NULL if @p identity is NULL.
 * @since 1.0
 */
APID_EXPORT const apid_sid *apid_identity_get_sid(const apid_identity *identity);

/**
 * @brief The Windows account name: "IIS APPPOOL\\{pool}" for ApplicationPoolIdentity,
 *        else the built-in account ("NT AUTHORITY\\SYSTEM", ...) or the user name.
 * @param identity  the identity.
 * @return A string owned by the identity; NULL if @p identity is NULL.
 * @since 1.0
 */
APID_EXPORT const char *apid_identity_get_account(const apid_identity *identity);

/**
 * @brief The name of the pool the identity belongs to.
 * @param identity  the identity.
 * @return A string owned by the identity; NULL if @p identity is NULL.
 * @since 1.0
 */
APID_EXPORT const char *apid_identity_get_pool_name(const apid_identity *identity);

/**
 * @brief The POSIX user name the workers run as.
 * @param identity  the identity.
 * @return A string owned by the identity; NULL if @p identity is NULL.
 * @since 1.0
 */
APID_EXPORT const char *apid_identity_get_user(const apid_identity *identity);

/**
 * @brief The identity type (#apid_identity_type).
 * @param identity  the identity.
 * @return The type, or #APID_EINVAL if @p identity is NULL.
 * @since 1.0
 */
APID_EXPORT int apid_identity_get_type(const apid_identity *identity);

/**
 * @brief The uid the workers run as.
 * @param identity  the identity.
 * @return The uid; (uint32_t)-1 if @p identity is NULL.
 * @since 1.0
 */
APID_EXPORT uint32_t apid_identity_get_uid(const apid_identity *identity);

/**
 * @brief The primary gid (equal to the uid for pool identities).
 * @param identity  the identity.
 * @return The gid; (uint32_t)-1 if @p identity is NULL.
 * @since 1.0
 */
APID_EXPORT uint32_t apid_identity_get_gid(const apid_identity *identity);

/**
 * @brief How far down its probe sequence the uid is: 0 when the uid is the
 *        SID's first choice, n when n earlier candidates were taken.
 * @param identity  the identity.
 * @return The probe index; 0 for identity types other than ApplicationPoolIdentity.
 * @since 1.0
 */
APID_EXPORT uint32_t apid_identity_get_uid_probe(const apid_identity *identity);

/**
 * @brief The profile directory, when the pool loads its profile.
 * @param identity  the identity.
 * @return A string owned by the identity, or NULL when the pool does not
 *         load a profile.
 * @since 1.0
 */
APID_EXPORT const char *apid_identity_get_profile_dir(const apid_identity *identity);

/**
 * @brief The shared supplementary group every pool identity carries (the
 *        IIS_IUSRS of this library), if one is configured.
 * @param identity  the identity.
 * @return The gid, or (uint32_t)-1 when none is configured.
 * @since 1.0
 */
APID_EXPORT uint32_t apid_identity_get_shared_gid(const apid_identity *identity);

/**
 * @brief The pool's own POSIX group: the Linux form of the pool SID that IIS
 *        injects into every worker's token.
 *
 * Every pool has a group whose gid equals its own uid (derived from the SID,
 * see apid_identity_get_uid()), whatever its identity type. Every worker of
 * the pool carries it: as its primary group for ApplicationPoolIdentity, as
 * a supplementary group for the other types (apid_token_new()). An ACL grant
 * to "IIS AppPool\{pool}" is an entry for this group, so it reaches the
 * pool's workers, and no other pool's, whichever account they run as.
 * @param identity  the identity.
 * @return The gid; (uint32_t)-1 if @p identity is NULL.
 * @since 1.0
 */
APID_EXPORT uint32_t apid_identity_get_pool_gid(const apid_identity *identity);

/**
 * @brief The name of the pool's own group (apid_identity_get_pool_gid()):
 *        the pool's POSIX user name, "apppool-{pool}" (docs/identities.md),
 *        whatever the identity type. The NSS module lists the group under
 *        this name, so getfacl and ls -l show grants to "IIS AppPool\{pool}"
 *        by it; getgrnam("IIS APPPOOL\{pool}") finds it too.
 * @param identity  the identity.
 * @return A string owned by the identity; NULL if @p identity is NULL.
 * @since 1.0
 */
APID_EXPORT const char *apid_identity_get_pool_group(const apid_identity *identity);

APID_END_DECLS

/** @} */

#endif /* APPPOOLID_IDENTITY_H */
