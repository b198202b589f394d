/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid/context.h
 * @brief The library context: configuration that every other handle hangs from.
 *
 * A context holds the state directory (where the pool registry and the
 * profile directories live), a log callback and a log level. Create one with apid_ctx_new(),
 * configure it, then use it. Contexts are reference-counted: every handle
 * made from a context holds a reference, so the order in which a program
 * (or a garbage-collected binding) releases handles does not matter.
 *
 * Thread-safety: apid_ctx_ref() and apid_ctx_unref() may be called from any
 * thread. The setters are not synchronised with other users of the same
 * context: configure a context before sharing it between threads.
 */
#ifndef APPPOOLID_CONTEXT_H
#define APPPOOLID_CONTEXT_H

#include "apppoolid/common.h"

/** @defgroup apid_ctx Context
 *  @{ */

/** @brief A library context (opaque). @since 1.0 */
typedef struct apid_ctx apid_ctx;

/**
 * @brief Log levels, ordered as syslog orders them (lower is more severe).
 * @since 1.0
 */
enum apid_log_level {
        APID_LOG_ERROR = 3,   /**< A failure the caller is also told about. */
        APID_LOG_WARNING = 4, /**< Something worked, but not as asked (an approximation, a fallback). */
        APID_LOG_INFO = 6,    /**< A change the library made (a pool created, a file granted). */
        APID_LOG_DEBUG = 7    /**< Detail for debugging. */
};

/**
 * @brief A log callback.
 * @param level     one of #apid_log_level.
 * @param message   the message, UTF-8, without a trailing newline; valid only during the call.
 * @param userdata  the pointer given to apid_ctx_set_log_fn().
 *
 * Called synchronously, on the thread that made the library call that logs.
 * It must not call back into the library with the same context.
 * @since 1.0
 */
typedef void (*apid_log_fn)(int level, const char *message, void *userdata);

/** @brief The environment variable that overrides the default state directory. @since 1.0 */
#define APID_STATE_DIR_ENV "APPPOOLID_STATE_DIR"

APID_BEGIN_DECLS

/**
 * @brief Create a context with the default configuration.
 *
 * The state directory is the value of the environment variable
 * #APID_STATE_DIR_ENV when it is set (read with secure_getenv(), so it is
 * ignored in setuid and setgid programs), else the directory chosen at
 * build time (apid_ctx_default_state_dir()). The directory is not created
 * or opened here. When the registry is opened, the path to the directory is
 * checked from / on: a directory on the way, or a symbolic link, that
 * belongs to anyone but root or the calling user, or a directory on the way
 * that group or others may write without the sticky bit, is refused with
 * #APID_EPERM naming it (docs/security.md, "The safe-path rule"). No log
 * callback is set; the log level is #APID_LOG_WARNING.
 *
 * @param[out] out  receives the new context, holding one reference; release
 *                  it with apid_ctx_unref(). Untouched on failure.
 * @return #APID_OK; #APID_EINVAL if @p out is NULL or if #APID_STATE_DIR_ENV
 *         is set to a value that is not a valid state directory (the message
 *         names the variable and the value); #APID_ENOMEM.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_ctx_new(apid_ctx **out);

/**
 * @brief Take one more reference on a context.
 * @param ctx  the context; NULL is allowed and returned as is.
 * @return @p ctx.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT apid_ctx *apid_ctx_ref(apid_ctx *ctx);

/**
 * @brief Drop one reference on a context; the last one frees it.
 * @param ctx  the context; NULL is a no-op.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT void apid_ctx_unref(apid_ctx *ctx);

/**
 * @brief Set the state directory, overriding the environment and the default.
 *
 * The path must be absolute, at most 4000 bytes, and hold no control
 * characters; trailing slashes are removed. The directory need not exist yet.
 * @param ctx   the context.
 * @param path  the directory, UTF-8 or any bytes the file system accepts; copied.
 * @return #APID_OK; #APID_EINVAL for a NULL argument or an invalid path (the
 *         message names the path and the rule); #APID_ENOMEM. On failure the
 *         context keeps its previous state directory.
 * @note Not synchronised: configure a context before sharing it.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_ctx_set_state_dir(apid_ctx *ctx, const char *path);

/**
 * @brief The context's state directory.
 * @param ctx  the context.
 * @return A string owned by the context, valid until the context is freed
 *         or its state directory is set again; NULL if @p ctx is NULL.
 * @note Thread-safe as long as no thread changes the state directory.
 * @since 1.0
 */
APID_EXPORT const char *apid_ctx_get_state_dir(const apid_ctx *ctx);

/**
 * @brief The state directory used when neither the API nor the environment sets one.
 * @return A static string chosen at build time (by default /var/lib/apppoolid).
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT const char *apid_ctx_default_state_dir(void);

/**
 * @brief Send the library's log messages to a callback.
 * @param ctx       the context.
 * @param fn        the callback, or NULL to discard messages.
 * @param userdata  passed to every call of @p fn; not touched by the library.
 * @return #APID_OK, or #APID_EINVAL if @p ctx is NULL.
 * @note Not synchronised: configure a context before sharing it.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_ctx_set_log_fn(apid_ctx *ctx, apid_log_fn fn, void *userdata);

/**
 * @brief Set the most verbose level passed to the log callback.
 * @param ctx    the context.
 * @param level  one of #apid_log_level; messages less severe are dropped.
 * @return #APID_OK, or #APID_EINVAL if @p ctx is NULL or @p level is not an
 *         #apid_log_level value.
 * @note Not synchronised: configure a context before sharing it.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_ctx_set_log_level(apid_ctx *ctx, int level);

APID_END_DECLS

/** @} */

#endif /* APPPOOLID_CONTEXT_H */
