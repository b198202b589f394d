/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid/name.h
 * @brief Application pool names: the rules IIS enforces, comparison, canonical form.
 *
 * A pool name is UTF-8 text that IIS would accept as the name of an
 * application pool:
 * - not empty (WAS event 5051 ignores a zero-length pool id);
 * - at most #APID_POOL_NAME_MAX UTF-16 code units (WAS event 5050 ignores
 *   a pool whose id exceeds the length limit);
 * - none of the characters the IIS configuration validator
 *   "applicationPoolName" refuses:
 *   @verbatim | < > & \ " / [ ] + = ; : , ? * @ @endverbatim
 * - no control characters (U+0000 to U+001F, U+007F): IIS keeps pool names
 *   in applicationHost.config, and XML 1.0 cannot carry most of them and
 *   turns tab, line feed and carriage return in attributes into spaces;
 * - no leading or trailing white space;
 * - valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
 *
 * Pool names compare case-insensitively, as IIS compares configuration keys
 * (ordinal, ignoring case): each UTF-16 code unit is folded to upper case
 * with the simple Unicode case mapping; no normalisation is applied, so
 * "é" (U+00E9) and "e" + U+0301 are different pools, as on Windows.
 * docs/names.md cites the sources of each rule.
 */
#ifndef APPPOOLID_NAME_H
#define APPPOOLID_NAME_H

#include "apppoolid/common.h"

/** @defgroup apid_name Pool names
 *  @{ */

/** @brief The longest pool name, in UTF-16 code units. @since 1.0 */
#define APID_POOL_NAME_MAX 64

APID_BEGIN_DECLS

/**
 * @brief Check a pool name against the rules above.
 * @param name  the name, UTF-8, NUL-terminated.
 * @return #APID_OK for a valid name; #APID_EINVAL for NULL or a name that
 *         breaks a rule, with a message that quotes the name and names the
 *         rule and the offending character ("pool name 'a/b': character '/'
 *         is not allowed").
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_pool_name_check(const char *name);

/**
 * @brief Whether two pool names name the same pool (case-insensitive).
 * @param a  a pool name, UTF-8.
 * @param b  a pool name, UTF-8.
 * @return 1 if they name the same pool, 0 if not; #APID_EINVAL (negative)
 *         if either is NULL or not a valid pool name.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT int apid_pool_name_equal(const char *a, const char *b);

/**
 * @brief The canonical form of a pool name: the key two names share when
 *        they name the same pool.
 *
 * The name folded to upper case as described above, in UTF-8. Two valid
 * names are equal (apid_pool_name_equal()) exactly when their canonical
 * forms are byte for byte the same, so the canonical form is what to index
 * or store as a unique key. Display the name as the user wrote it.
 * @param name      the pool name, UTF-8.
 * @param[out] out  receives the canonical form; free it with apid_free().
 *                  Untouched on failure.
 * @return #APID_OK; #APID_EINVAL for NULL or an invalid name; #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_pool_name_canonical(const char *name, char **out);

APID_END_DECLS

/** @} */

#endif /* APPPOOLID_NAME_H */
