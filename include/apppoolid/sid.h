/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid/sid.h
 * @brief Windows security identifiers: parse, format, compare, binary form,
 *        and the SIDs Windows derives from pool and service names.
 *
 * A SID is stored exactly as Windows stores it: a revision (always 1), a
 * 48-bit identifier authority and up to 15 32-bit sub-authorities. The
 * string form is "S-1-<authority>-<sub>-<sub>...", the binary form the
 * self-relative layout of MS-DTYP 2.4.2.2 (authority big-endian,
 * sub-authorities little-endian).
 *
 * apid_sid_for_pool() and apid_sid_for_service() compute, bit for bit, the
 * SIDs Windows gives to "IIS APPPOOL\\{pool}" (S-1-5-82-...) and
 * "NT SERVICE\\{service}" (S-1-5-80-...): the SHA-1 of the name in UTF-16LE,
 * lower-cased for pools and upper-cased for services, read as five
 * little-endian 32-bit sub-authorities (MS-LSAT 3.1.1.1.2 for services;
 * the pool form is what every published Windows value reproduces).
 */
#ifndef APPPOOLID_SID_H
#define APPPOOLID_SID_H

#include "apppoolid/common.h"

/** @defgroup apid_sid SIDs
 *  @{ */

/** @brief A security identifier (opaque, immutable once made). @since 1.0 */
typedef struct apid_sid apid_sid;

/** @brief The largest number of sub-authorities a SID can have (MS-DTYP 2.4.2.2). @since 1.0 */
#define APID_SID_MAX_SUBAUTHORITIES 15
/** @brief The size in bytes of the largest binary SID: 8 + 4 * 15. @since 1.0 */
#define APID_SID_MAX_BYTES 68
/** @brief The length of the longest SID string, without its terminating NUL. @since 1.0 */
#define APID_SID_MAX_STRING 183
/** @brief The longest service name Windows accepts, in UTF-16 code units (CreateService). @since 1.0 */
#define APID_SERVICE_NAME_MAX 256

APID_BEGIN_DECLS

/**
 * @brief Parse a SID from its string form.
 *
 * Accepts what ConvertStringSidToSid() accepts for literal SIDs:
 * "S-1-<authority>(-<sub-authority>){0,15}", with "S" or "s", the authority
 * in decimal (below 2^32) or as twelve hexadecimal digits after "0x" (as
 * Windows prints authorities of 2^32 and above), and each sub-authority in
 * decimal below 2^32. No leading zeros except "0" itself, no signs, no spaces.
 * SDDL aliases such as "SY" are account names, not SIDs: see
 * apid_account_to_sid().
 *
 * @param text      the string, NUL-terminated.
 * @param[out] out  receives the SID; free it with apid_sid_free(). Untouched on failure.
 * @return #APID_OK; #APID_EINVAL for a NULL argument or a malformed string
 *         (the message quotes the string and names the position); #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_sid_parse(const char *text, apid_sid **out);

/**
 * @brief Make a SID from its binary (self-relative) form.
 * @param data      the bytes: revision 1, a sub-authority count of at most 15,
 *                  the 6-byte authority, then the sub-authorities.
 * @param size      the number of bytes; must be exactly 8 + 4 * count.
 * @param[out] out  receives the SID; free it with apid_sid_free(). Untouched on failure.
 * @return #APID_OK; #APID_EINVAL for a NULL argument, a wrong revision, a count
 *         above 15 or a size that does not match the count; #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_sid_from_bytes(const void *data, size_t size, apid_sid **out);

/**
 * @brief Make a SID from its parts.
 * @param authority      the identifier authority, below 2^48 (5 for NT AUTHORITY).
 * @param subauthorities the sub-authorities; may be NULL when @p count is 0.
 * @param count          how many, at most #APID_SID_MAX_SUBAUTHORITIES.
 * @param[out] out       receives the SID; free it with apid_sid_free(). Untouched on failure.
 * @return #APID_OK; #APID_EINVAL for a NULL argument, an authority of 2^48 or
 *         more, or too many sub-authorities; #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_sid_from_parts(uint64_t authority, const uint32_t *subauthorities,
                                                     uint32_t count, apid_sid **out);

/**
 * @brief Copy a SID.
 * @param sid       the SID.
 * @param[out] out  receives the copy; free it with apid_sid_free(). Untouched on failure.
 * @return #APID_OK, #APID_EINVAL for a NULL argument, #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_sid_dup(const apid_sid *sid, apid_sid **out);

/**
 * @brief Free a SID.
 * @param sid  the SID; NULL is a no-op.
 * @note Thread-safe with respect to other SIDs.
 * @since 1.0
 */
APID_EXPORT void apid_sid_free(apid_sid *sid);

/**
 * @brief Format a SID in its string form, as Windows prints it.
 *
 * Authorities below 2^32 are printed in decimal, larger ones as "0x" and
 * twelve upper-case hexadecimal digits, as ConvertSidToStringSid() does.
 * @param sid       the SID.
 * @param[out] out  receives the string; free it with apid_free(). Untouched on failure.
 * @return #APID_OK, #APID_EINVAL for a NULL argument, #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_sid_to_string(const apid_sid *sid, char **out);

/**
 * @brief The size of a SID's binary form in bytes (8 + 4 * sub-authority count).
 * @param sid  the SID.
 * @return The size, or 0 if @p sid is NULL.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT uint32_t apid_sid_byte_size(const apid_sid *sid);

/**
 * @brief Write a SID's binary (self-relative) form.
 * @param sid       the SID.
 * @param buf       where to write; at least apid_sid_byte_size() bytes
 *                  (#APID_SID_MAX_BYTES always suffices).
 * @param size      the size of @p buf.
 * @param[out] out_written  receives the number of bytes written; may be NULL.
 * @return #APID_OK; #APID_EINVAL for a NULL @p sid or @p buf; #APID_ERANGE if
 *         @p size is too small (nothing is written).
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_sid_to_bytes(const apid_sid *sid, void *buf, size_t size,
                                                   size_t *out_written);

/**
 * @brief The SID's identifier authority (5 for NT AUTHORITY).
 * @param sid  the SID.
 * @return The authority, below 2^48; 0 if @p sid is NULL.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT uint64_t apid_sid_authority(const apid_sid *sid);

/**
 * @brief The number of sub-authorities of a SID (0 to 15).
 * @param sid  the SID.
 * @return The count; 0 if @p sid is NULL.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT uint32_t apid_sid_subauthority_count(const apid_sid *sid);

/**
 * @brief One sub-authority of a SID.
 * @param sid        the SID.
 * @param index      0 for the first sub-authority.
 * @param[out] out   receives the value. Untouched on failure.
 * @return #APID_OK; #APID_EINVAL for a NULL argument; #APID_ERANGE if
 *         @p index is not below apid_sid_subauthority_count().
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_sid_get_subauthority(const apid_sid *sid, uint32_t index, uint32_t *out);

/**
 * @brief Order two SIDs.
 *
 * SIDs are ordered by authority, then sub-authority by sub-authority, a
 * shorter SID before a longer one that starts with it. NULL orders before
 * any SID.
 * @param a  a SID or NULL.
 * @param b  a SID or NULL.
 * @return A negative number, 0 or a positive number as @p a orders before,
 *         equal to or after @p b.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT int apid_sid_compare(const apid_sid *a, const apid_sid *b);

/**
 * @brief Whether two SIDs are the same (EqualSid()).
 * @param a  a SID or NULL.
 * @param b  a SID or NULL.
 * @return 1 if both are SIDs and equal, else 0.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT int apid_sid_equal(const apid_sid *a, const apid_sid *b);

/**
 * @brief The SID of the virtual account "IIS APPPOOL\\{pool}", as Windows computes it.
 *
 * S-1-5-82 followed by the SHA-1 of the lower-cased pool name in UTF-16LE
 * as five little-endian 32-bit words. Names that differ only in case give
 * the same SID. The name is checked first (apid_pool_name_check()).
 * @param pool_name  the pool name, UTF-8.
 * @param[out] out   receives the SID; free it with apid_sid_free(). Untouched on failure.
 * @return #APID_OK; #APID_EINVAL for a NULL argument or an invalid pool name
 *         (the message names the name and the rule); #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_sid_for_pool(const char *pool_name, apid_sid **out);

/**
 * @brief The service SID of "NT SERVICE\\{service}", as Windows computes it (sc showsid).
 *
 * S-1-5-80 followed by the SHA-1 of the upper-cased service name in UTF-16LE
 * as five little-endian 32-bit words (MS-LSAT 3.1.1.1.2). A service name is
 * 1 to #APID_SERVICE_NAME_MAX UTF-16 code units of valid UTF-8 without
 * '/', '\\' or control characters (CreateService()).
 * @param service_name  the service name, UTF-8.
 * @param[out] out      receives the SID; free it with apid_sid_free(). Untouched on failure.
 * @return #APID_OK; #APID_EINVAL for a NULL argument or an invalid service
 *         name (the message names the name and the rule); #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_sid_for_service(const char *service_name, apid_sid **out);

/**
 * @brief Whether a SID is an application-pool SID (S-1-5-82 and five sub-authorities after 82).
 * @param sid  a SID or NULL.
 * @return 1 if it has the shape of a pool SID, else 0.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT int apid_sid_is_pool(const apid_sid *sid);

/**
 * @brief Whether a SID is a per-service SID (S-1-5-80 and five sub-authorities after 80).
 * @param sid  a SID or NULL.
 * @return 1 if it has the shape of a service SID, else 0.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT int apid_sid_is_service(const apid_sid *sid);

APID_END_DECLS

/** @} */

#endif /* APPPOOLID_SID_H */
