/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid/pool.h
 * @brief Application pools: create, open, list, delete, and their settings.
 *
 * Pools live in the registry, an SQLite database in the context's state
 * directory. Every change is one transaction: several processes may create,
 * change and delete pools at once, and a change either happens whole or not
 * at all. Creating a pool gives it an identity (see apppoolid/identity.h):
 * its Windows SID, a POSIX user and group with a uid derived from the SID,
 * and, if asked, a profile directory.
 *
 * Settings use the names appcmd uses ("processModel.identityType",
 * "failure.rapidFailProtectionMaxCrashes", ...), with IIS's defaults;
 * apid_pool_setting_name() lists them.
 *
 * Thread-safety: a pool handle is a snapshot of one pool; different handles
 * may be used from different threads, one handle not from two at once.
 */
#ifndef APPPOOLID_POOL_H
#define APPPOOLID_POOL_H

#include "apppoolid/common.h"
#include "apppoolid/context.h"

/** @defgroup apid_pool Pools
 *  @{ */

/** @brief An application pool (opaque). @since 1.0 */
typedef struct apid_pool apid_pool;
/** @brief A list of pool names (opaque). @since 1.0 */
typedef struct apid_pool_list apid_pool_list;

/**
 * @brief Identity types, with the values IIS uses for processModel.identityType.
 * @since 1.0
 */
enum apid_identity_type {
        APID_IDENTITY_LOCAL_SYSTEM = 0,             /**< LocalSystem: runs as root. */
        APID_IDENTITY_LOCAL_SERVICE = 1,            /**< LocalService: a low-privileged account the library provisions. */
        APID_IDENTITY_NETWORK_SERVICE = 2,          /**< NetworkService: a low-privileged account the library provisions. */
        APID_IDENTITY_SPECIFIC_USER = 3,            /**< SpecificUser: an existing account, looked up through NSS. */
        APID_IDENTITY_APPLICATION_POOL_IDENTITY = 4 /**< ApplicationPoolIdentity: the pool's own identity (the default). */
};

/**
 * @brief Flags for apid_pool_delete(): exactly one of the two must be given.
 * @since 1.0
 */
enum apid_pool_delete_flags {
        APID_POOL_DELETE_KEEP_PROFILE = 1,  /**< Leave the pool's profile directory on disk. */
        APID_POOL_DELETE_REMOVE_PROFILE = 2 /**< Remove the pool's profile directory and everything in it. */
};

APID_BEGIN_DECLS

/**
 * @brief Create a pool with IIS's default settings (ApplicationPoolIdentity,
 *        loadUserProfile false).
 *
 * The state directory is created (0755) if it is missing. The pool gets its
 * SID, POSIX user name and uid in the same transaction that records it.
 * @param ctx       the context.
 * @param name      the pool name, UTF-8 (apid_pool_name_check()).
 * @param[out] out  receives the new pool (free with apid_pool_free()); may be NULL.
 * @return #APID_OK; #APID_EINVAL for a bad argument or name; #APID_EEXISTS if a
 *         pool of that name (ignoring case) exists; #APID_ECOLLISION if another
 *         pool has the same SID (IIS event 9001; the message names both);
 *         #APID_ERANGE if the uid range has no free id; #APID_ESYS,
 *         #APID_EPERM for a state directory that cannot be created or written;
 *         #APID_ECORRUPT for a damaged registry; #APID_EBUSY; #APID_ENOMEM.
 *         On failure nothing is written.
 * @note Thread-safe and safe across processes.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_pool_create(apid_ctx *ctx, const char *name, apid_pool **out);

/**
 * @brief Open an existing pool by name (case-insensitive).
 * @param ctx       the context; the pool keeps a reference to it.
 * @param name      the pool name, UTF-8.
 * @param[out] out  receives the pool; free it with apid_pool_free(). Untouched on failure.
 * @return #APID_OK; #APID_ENOTFOUND if there is no such pool (or no registry
 *         yet); #APID_EINVAL; #APID_ESYS; #APID_ECORRUPT; #APID_EBUSY; #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_pool_open(apid_ctx *ctx, const char *name, apid_pool **out);

/**
 * @brief Delete a pool.
 *
 * The pool's uid is not given to another pool afterwards: it stays reserved
 * for the pool's SID, so a pool created again under the same name gets it back.
 * @param ctx    the context.
 * @param name   the pool name, UTF-8.
 * @param flags  exactly one of #APID_POOL_DELETE_KEEP_PROFILE and
 *               #APID_POOL_DELETE_REMOVE_PROFILE.
 * @return #APID_OK; #APID_ENOTFOUND; #APID_EINVAL for a bad name or flags;
 *         #APID_ESYS if the profile cannot be removed (the pool is deleted
 *         from the registry only after its profile is gone); #APID_ECORRUPT;
 *         #APID_EBUSY.
 * @note Thread-safe and safe across processes.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_pool_delete(apid_ctx *ctx, const char *name, int flags);

/**
 * @brief Free a pool handle (the pool itself stays in the registry).
 * @param pool  the pool; NULL is a no-op.
 * @since 1.0
 */
APID_EXPORT void apid_pool_free(apid_pool *pool);

/**
 * @brief The pool's name as it was created (case preserved).
 * @param pool  the pool.
 * @return A string owned by the pool; NULL if @p pool is NULL.
 * @since 1.0
 */
APID_EXPORT const char *apid_pool_get_name(const apid_pool *pool);

/**
 * @brief Read a setting.
 * @param pool      the pool.
 * @param setting   an appcmd-style name, e.g. "processModel.maxProcesses"
 *                  (case-insensitive; see apid_pool_setting_name()).
 * @param[out] out  receives the value as text (IIS spelling: "true", "00:20:00",
 *                  "ApplicationPoolIdentity"); free it with apid_free().
 * @return #APID_OK; #APID_EINVAL for an unknown setting (the message names it)
 *         or a NULL argument; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_pool_get(const apid_pool *pool, const char *setting, char **out);

/**
 * @brief Change a setting, in the registry and in this handle, in one transaction.
 *
 * Values are checked as IIS checks them: booleans "true"/"false", unsigned
 * integers within the setting's range, time spans "[d.]hh:mm:ss", identity
 * types by name. Setting processModel.identityType to SpecificUser needs
 * processModel.userName first (an account NSS knows). Turning
 * processModel.loadUserProfile on creates the pool's profile directory.
 * @param pool     the pool.
 * @param setting  an appcmd-style name (case-insensitive).
 * @param value    the new value, as text.
 * @return #APID_OK; #APID_EINVAL for an unknown setting or a bad value (the
 *         message names both); #APID_ENOTFOUND if the pool was deleted
 *         meanwhile or the user name is unknown; #APID_ESYS; #APID_ECORRUPT;
 *         #APID_EBUSY. On failure nothing changes.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_pool_set(apid_pool *pool, const char *setting, const char *value);

/**
 * @brief Check a setting's name and the form of a value without changing anything.
 *
 * The checks apid_pool_set() makes before it writes, except those that need
 * the system (that a user exists): for a tool that takes several settings
 * and wants to refuse a bad one before applying any.
 * @param setting  an appcmd-style name (case-insensitive).
 * @param value    the value, as text.
 * @return #APID_OK, or #APID_EINVAL naming the setting and the value.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_pool_check_setting(const char *setting, const char *value);

/**
 * @brief The name of the i-th pool setting, for listing them all.
 * @param index  0, 1, 2, ...
 * @return A static string, or NULL past the last setting.
 * @since 1.0
 */
APID_EXPORT const char *apid_pool_setting_name(uint32_t index);

/**
 * @brief The pool's identity type.
 * @param pool  the pool.
 * @return One of #apid_identity_type, or #APID_EINVAL if @p pool is NULL.
 * @since 1.0
 */
APID_EXPORT int apid_pool_get_identity_type(const apid_pool *pool);

/**
 * @brief Whether the pool loads a user profile (processModel.loadUserProfile).
 * @param pool  the pool.
 * @return 1 or 0; #APID_EINVAL if @p pool is NULL.
 * @since 1.0
 */
APID_EXPORT int apid_pool_loads_profile(const apid_pool *pool);

/**
 * @brief List the pools, sorted by canonical name.
 * @param ctx       the context.
 * @param[out] out  receives the list; free it with apid_pool_list_free().
 * @return #APID_OK (an empty list when there is no registry yet); #APID_EINVAL;
 *         #APID_ESYS; #APID_ECORRUPT; #APID_EBUSY; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_pool_list_new(apid_ctx *ctx, apid_pool_list **out);

/**
 * @brief The number of pools in a list.
 * @param list  the list.
 * @return The count; 0 if @p list is NULL.
 * @since 1.0
 */
APID_EXPORT uint32_t apid_pool_list_count(const apid_pool_list *list);

/**
 * @brief The name of the i-th pool of a list.
 * @param list   the list.
 * @param index  below apid_pool_list_count().
 * @return A string owned by the list; NULL if out of range.
 * @since 1.0
 */
APID_EXPORT const char *apid_pool_list_get(const apid_pool_list *list, uint32_t index);

/**
 * @brief Free a list.
 * @param list  the list; NULL is a no-op.
 * @since 1.0
 */
APID_EXPORT void apid_pool_list_free(apid_pool_list *list);

APID_END_DECLS

/** @} */

#endif /* APPPOOLID_POOL_H */
