/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid/common.h
 * @brief Export and declaration macros shared by every public header.
 *
 * Do not include this file directly; include <apppoolid.h>.
 */
#ifndef APPPOOLID_COMMON_H
#define APPPOOLID_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) && __GNUC__ >= 4
/** @brief Marks a declaration as part of the public ABI. */
#  define APID_EXPORT __attribute__((visibility("default")))
/** @brief Asks the compiler to warn when a returned status is ignored. */
#  define APID_WARN_UNUSED __attribute__((warn_unused_result))
#else
#  define APID_EXPORT
#  define APID_WARN_UNUSED
#endif

#ifdef __cplusplus
/** @brief Opens a block of C declarations (extern "C" under C++). */
#  define APID_BEGIN_DECLS extern "C" {
/** @brief Closes a block opened by APID_BEGIN_DECLS. */
#  define APID_END_DECLS }
#else
#  define APID_BEGIN_DECLS
#  define APID_END_DECLS
#endif

#endif /* APPPOOLID_COMMON_H */
