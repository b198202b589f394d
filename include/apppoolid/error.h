/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid/error.h
 * @brief Status codes, the thread's last error, and library-owned memory.
 *
 * Every fallible function returns an int status: #APID_OK (0) or one of the
 * negative #apid_status values below. A failing call also records, for the
 * calling thread, a message in English that names the offending value
 * ("pool name 'a/b': character '/' is not allowed"), the status, and the
 * errno the system reported, if any. Read them right after the failure:
 * the next failing call on the same thread replaces them, and a successful
 * call does not clear them, so never use them to decide whether a call
 * failed (the return value says that).
 */
#ifndef APPPOOLID_ERROR_H
#define APPPOOLID_ERROR_H

#include "apppoolid/common.h"

/** @defgroup apid_error Errors
 *  @{ */

/**
 * @brief Status codes returned by every fallible function.
 *
 * Values are part of the ABI: they are never renumbered or reused, and new
 * ones are only added. Functions return them as plain int.
 * @since 1.0
 */
enum apid_status {
        APID_OK = 0,            /**< Success. */
        APID_EINVAL = -1,       /**< An argument is invalid (a NULL pointer, a bad name, a malformed SID). */
        APID_ENOMEM = -2,       /**< Out of memory. */
        APID_ENOTFOUND = -3,    /**< The named object does not exist. */
        APID_EEXISTS = -4,      /**< The object already exists. */
        APID_ECOLLISION = -5,   /**< Two different names map to the same identity. */
        APID_EPERM = -6,        /**< Not privileged enough for the operation. */
        APID_ESYS = -7,         /**< The operating system refused; apid_error_errno() says why. */
        APID_EUNSUPPORTED = -8, /**< The request cannot be expressed or is not supported here. */
        APID_ERANGE = -9,       /**< A value or a buffer is too large or too small. */
        APID_ECORRUPT = -10,    /**< Stored data is damaged or of an unknown format. */
        APID_EBUSY = -11        /**< The resource is in use; retrying later may succeed. */
};

APID_BEGIN_DECLS

/**
 * @brief A static, human-readable description of a status code.
 * @param status  any int, known or not.
 * @return A static string (for an unknown value, "unknown status"); never
 *         NULL, never freed.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT const char *apid_strerror(int status);

/**
 * @brief The message of the last failure on the calling thread.
 * @return A string owned by the library, valid until the next failing call
 *         on this thread; "" when nothing failed yet on this thread. Never NULL.
 *         The message, apid_error_status() and apid_error_errno() always
 *         describe the same failure; the free and unref functions never
 *         change them (they may be called between the failure and the read).
 * @note Thread-safe: every thread has its own last error.
 * @since 1.0
 */
APID_EXPORT const char *apid_error_message(void);

/**
 * @brief The status of the last failure on the calling thread.
 * @return A negative #apid_status, or #APID_OK when nothing failed yet on this thread.
 * @note Thread-safe: every thread has its own last error.
 * @since 1.0
 */
APID_EXPORT int apid_error_status(void);

/**
 * @brief The errno the system reported for the last failure on the calling thread.
 * @return The errno value, or 0 when the failure did not come from a system call.
 * @note Thread-safe: every thread has its own last error.
 * @since 1.0
 */
APID_EXPORT int apid_error_errno(void);

/**
 * @brief Free memory that the library allocated for the caller.
 *
 * Strings and buffers documented as "free with apid_free()" must be released
 * with this function, not with free(): a binding cannot know which allocator
 * the library uses.
 * @param ptr  the memory to free; NULL is a no-op.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT void apid_free(void *ptr);

APID_END_DECLS

/** @} */

#endif /* APPPOOLID_ERROR_H */
