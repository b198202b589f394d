/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid/account.h
 * @brief Account names and SIDs, resolved both ways.
 *
 * The names are the ones Windows prints ("NT AUTHORITY\\SYSTEM",
 * "BUILTIN\\IIS_IUSRS", "IIS APPPOOL\\DefaultAppPool"); lookups ignore case
 * in the domain and in the name, as LookupAccountName() does, and accept a
 * well-known name without its domain ("SYSTEM", "IIS_IUSRS"). Pool and
 * service accounts are derived from their names (apid_sid_for_pool(),
 * apid_sid_for_service()); the way back from such a SID to a name needs a
 * record of the name, since the SID is a one-way hash of it.
 */
#ifndef APPPOOLID_ACCOUNT_H
#define APPPOOLID_ACCOUNT_H

#include "apppoolid/common.h"
#include "apppoolid/context.h"
#include "apppoolid/sid.h"

/** @defgroup apid_account Accounts
 *  @{ */

/** @brief The domain of application-pool virtual accounts, as Windows prints it. @since 1.0 */
#define APID_POOL_DOMAIN "IIS APPPOOL"
/** @brief The domain of per-service accounts, as Windows prints it. @since 1.0 */
#define APID_SERVICE_DOMAIN "NT SERVICE"

APID_BEGIN_DECLS

/**
 * @brief Resolve an account name to its SID.
 *
 * Understands "IIS APPPOOL\\{pool}" (any case of the domain, so also the
 * "IIS AppPool\\{pool}" that the IIS documentation writes), "NT SERVICE\\{service}",
 * and the well-known accounts and groups IIS uses, with or without their
 * domain: Everyone, LOCAL, CONSOLE LOGON, CREATOR OWNER, CREATOR GROUP,
 * NT AUTHORITY\\NETWORK, BATCH, INTERACTIVE, SERVICE, ANONYMOUS LOGON,
 * Authenticated Users, This Organization, IUSR, SYSTEM, LOCAL SERVICE,
 * NETWORK SERVICE; BUILTIN\\Administrators, Users, Guests, IIS_IUSRS;
 * NT SERVICE\\ALL SERVICES; and the domains themselves (NT AUTHORITY,
 * BUILTIN, NT SERVICE, IIS APPPOOL).
 *
 * @param ctx       a context, or NULL. Reserved for lookups that need the
 *                  registry; not used by this release.
 * @param account   the name, UTF-8.
 * @param[out] out  receives the SID; free it with apid_sid_free(). Untouched on failure.
 * @return #APID_OK; #APID_EINVAL for a NULL argument or a pool or service
 *         name that breaks the naming rules; #APID_ENOTFOUND for a name that
 *         is none of the above (the message quotes it); #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_account_to_sid(apid_ctx *ctx, const char *account, apid_sid **out);

/**
 * @brief The account name of a SID, as Windows prints it ("DOMAIN\\name", or
 *        "name" alone for the few that have no domain, such as "Everyone").
 * @param ctx       a context, or NULL. Reserved for lookups that need the
 *                  registry; not used by this release.
 * @param sid       the SID.
 * @param[out] out  receives the name; free it with apid_free(). Untouched on failure.
 * @return #APID_OK; #APID_EINVAL for a NULL argument; #APID_ENOTFOUND for a
 *         SID with no known name, which this release says of every pool and
 *         service SID (they are one-way hashes of the name); #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_sid_to_account(apid_ctx *ctx, const apid_sid *sid, char **out);

/**
 * @brief The account name of a pool: "IIS APPPOOL\\{pool}".
 * @param pool_name  the pool name, UTF-8; checked with apid_pool_name_check().
 * @param[out] out   receives the name; free it with apid_free(). Untouched on failure.
 * @return #APID_OK; #APID_EINVAL for a NULL argument or an invalid pool name; #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_account_for_pool(const char *pool_name, char **out);

/**
 * @brief The account name of a service: "NT SERVICE\\{service}".
 * @param service_name  the service name, UTF-8; checked as apid_sid_for_service() does.
 * @param[out] out      receives the name; free it with apid_free(). Untouched on failure.
 * @return #APID_OK; #APID_EINVAL for a NULL argument or an invalid service name; #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_account_for_service(const char *service_name, char **out);

APID_END_DECLS

/** @} */

#endif /* APPPOOLID_ACCOUNT_H */
