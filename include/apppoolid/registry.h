/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid/registry.h
 * @brief The registry as a whole: its settings, export and import, and the
 *        host's network identity.
 *
 * The registry is one SQLite database, "registry.db" in the context's state
 * directory (WAL mode, schema versioned). Besides the pools it holds settings
 * that every process using it must agree on, so they are stored there and
 * not in a context:
 *
 * | setting | default | meaning |
 * | --- | --- | --- |
 * | idRangeStart | 1879048192 (0x70000000) | first uid/gid of pool identities |
 * | idRangeSize | 16777216 (2^24) | number of ids in the range |
 * | sharedGroup | "" (none) | a group every pool identity carries as a supplementary group |
 * | localSystemUser | root | the account LocalSystem pools run as |
 * | localServiceUser | apppool-localservice | the account LocalService pools run as |
 * | networkServiceUser | apppool-networkservice | the account NetworkService pools run as |
 * | profileRoot | "" (STATE_DIR/profiles) | where profile directories are made: absolute, at most 1024 bytes, no ':', control character, empty, "." or ".." component |
 * | networkPrincipal | "" (detected) | the host's name on the network (DOMAIN\\HOST$) |
 *
 * docs/identities.md explains the id range and why it is safe.
 */
#ifndef APPPOOLID_REGISTRY_H
#define APPPOOLID_REGISTRY_H

#include "apppoolid/common.h"
#include "apppoolid/context.h"

/** @defgroup apid_registry Registry
 *  @{ */

APID_BEGIN_DECLS

/**
 * @brief Read a registry setting (the table above).
 * @param ctx       the context.
 * @param setting   the setting's name (case-insensitive).
 * @param[out] out  receives the value as text; free it with apid_free().
 * @return #APID_OK; #APID_EINVAL for an unknown setting; #APID_ESYS;
 *         #APID_ECORRUPT; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_registry_get(apid_ctx *ctx, const char *setting, char **out);

/**
 * @brief Change a registry setting, in one transaction.
 *
 * Existing pools keep their ids when the id range changes; the range must
 * lie within 65536 to 2^31 - 1 (above every range Debian and systemd give to
 * system, regular and dynamic users, below the ids the kernel treats as
 * negative). A sharedGroup that NSS does not know is provisioned by the
 * library, with a gid derived like a pool's uid from the SID of BUILTIN\\IIS_IUSRS.
 * @param ctx      the context.
 * @param setting  the setting's name (case-insensitive).
 * @param value    the new value, as text ("" restores the default).
 * @return #APID_OK; #APID_EINVAL for an unknown setting or a bad value (the
 *         message names both); #APID_ENOTFOUND for an unknown user;
 *         #APID_ESYS; #APID_ECORRUPT; #APID_EBUSY.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_registry_set(apid_ctx *ctx, const char *setting, const char *value);

/**
 * @brief Write every pool, its settings and its id assignment, and the
 *        registry settings, to a file other hosts can import.
 *
 * The file is text, one tab-separated record per line after the line
 * "apppoolid-export 1" (docs/identities.md describes it), and is written
 * atomically (a temporary file renamed into place), mode 0640 (it holds what
 * the registry holds).
 * @param ctx   the context.
 * @param path  the file to write.
 * @return #APID_OK; #APID_EINVAL; #APID_ESYS; #APID_ECORRUPT; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_registry_export(apid_ctx *ctx, const char *path);

/**
 * @brief Import a file written by apid_registry_export(), so that this host
 *        uses the same id assignments as the one that wrote it.
 *
 * Pools that exist here already must have the same uid; pools that do not are
 * created with the uid the file gives. All or nothing: any conflict (a uid
 * used by another pool or account here, a malformed line) fails the whole
 * import with a message naming the line, and nothing is written.
 *
 * The file is untrusted input: every record passes the checks pool add, pool
 * set and registry set make (POSIX user names that NSS does not know yet, a
 * uid in the id range that is its SID's candidate, a pool on its own SID's
 * account, settings as registry set checks them); docs/pools.md lists them.
 * @param ctx   the context.
 * @param path  the file to read: a regular file (a FIFO, socket, device or
 *              directory is refused at once, never read from).
 * @return #APID_OK; #APID_EINVAL for a malformed file, a value the checks
 *         refuse, or a path that is not a regular file; #APID_ECOLLISION for an id or name conflict, or a uid that
 *         is not the SID's; #APID_ERANGE for a uid outside the id range;
 *         #APID_ENOTFOUND for a setting naming a missing account or pool;
 *         #APID_EPERM; #APID_ESYS; #APID_ECORRUPT; #APID_EBUSY; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_registry_import(apid_ctx *ctx, const char *path);

/**
 * @brief The registry's identities as LDIF (RFC 2849) for a directory that
 *        serves them to every host of a web farm (docs/farm.md).
 *
 * One entry per live pool and provisioned LocalService/NetworkService
 * account (objectClass account, posixAccount and sambaIdmapEntry: uid,
 * uidNumber, gidNumber == uidNumber, cn and, when ASCII, gecos
 * "IIS APPPOOL\name", homeDirectory the profile directory or /nonexistent,
 * loginShell /usr/sbin/nologin, sambaSID), one posixGroup per account (its
 * own group, cn the user name, gidNumber its uid), and the provisioned
 * shared group (posixGroup and sambaIdmapEntry, sambaSID S-1-5-32-568, a
 * memberUid per pool). Values LDIF cannot carry plainly are base64. Entries
 * are "uid=USER,USER_OU,BASE" and "cn=GROUP,GROUP_OU,BASE"; the OUs
 * themselves are not written. The directory needs the two definitions of
 * apppoolid-sid.schema (installed in DATADIR/apppoolid). Pool settings are
 * not in it: apid_registry_export() carries those.
 * @param ctx       the context.
 * @param base      the base DN, or NULL for "dc=example,dc=org".
 * @param user_ou   the users' container relative to base, or NULL for "ou=People".
 * @param group_ou  the groups' container relative to base, or NULL for "ou=Group".
 * @param[out] out  receives the LDIF text (NUL-terminated, "" entries when
 *                  there is no registry yet); free it with apid_free().
 * @return #APID_OK; #APID_EINVAL for a NULL argument or a DN part that is
 *         empty, has no '=', a control character or more than 1024 bytes;
 *         #APID_ESYS; #APID_ECORRUPT; #APID_ENOMEM.
 * @note Thread-safe on distinct contexts, like every registry call.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_registry_export_ldif(apid_ctx *ctx, const char *base, const char *user_ou,
                                                           const char *group_ou, char **out);

/**
 * @brief Import the identities of an LDIF file written by
 *        apid_registry_export_ldif(), or `ldapsearch -LLL` output of such
 *        entries, so that a host joining a farm uses the farm's ids.
 *
 * Entries with objectClass posixAccount whose gecos or cn is
 * "IIS APPPOOL\name" are pools (sambaSID, if present, must be that pool's
 * SID); posixAccount entries with sambaSID S-1-5-19 or S-1-5-20 are the
 * built-in accounts; the posixGroup with sambaSID S-1-5-32-568 is the shared
 * group. Every other entry is skipped (a directory holds other accounts).
 * Each becomes an account record (and a pool, with default settings, when
 * it does not exist here) and passes the same checks as
 * apid_registry_import() and pool add. Folded lines, comments, base64 values
 * and "changetype: add" are read; values by URL (":<") are refused.
 * All or nothing, in one transaction; a refusal names the file and the line
 * of the entry's dn.
 * @param ctx   the context.
 * @param path  the LDIF file: a regular file, as for apid_registry_import().
 * @return #APID_OK; #APID_EINVAL for malformed LDIF, a value the checks
 *         refuse or a path that is not a regular file; #APID_ECOLLISION for an id, name or SID conflict;
 *         #APID_ERANGE for a uid outside the id range; #APID_EPERM;
 *         #APID_ESYS; #APID_ECORRUPT; #APID_EBUSY; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_registry_import_ldif(apid_ctx *ctx, const char *path);

/**
 * @brief The host's identity on the network, which every pool uses there (the
 *        "machine account" of IIS).
 *
 * The networkPrincipal setting if set; else, where /etc/krb5.conf names a
 * default_realm, "REALM\\HOST$" (the first label of the realm and the short
 * host name, upper case, as Windows writes a machine account); else the host name.
 * @param ctx       the context.
 * @param[out] out  receives the name; free it with apid_free().
 * @return #APID_OK; #APID_EINVAL; #APID_ESYS; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_registry_network_principal(apid_ctx *ctx, char **out);

APID_END_DECLS

/** @} */

#endif /* APPPOOLID_REGISTRY_H */
