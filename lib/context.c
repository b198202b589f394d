/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library context: state directory, log callback, reference count. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "lookup.h"

#ifndef APID_DEFAULT_STATE_DIR
#error "APID_DEFAULT_STATE_DIR must be set by the build"
#endif

#define STATE_DIR_MAX 4000

struct apid_ctx {
        unsigned refs; /* changed with __atomic builtins only */
        char *state_dir;
        apid_log_fn log_fn;
        void *log_userdata;
        int log_level;
        pthread_mutex_t lock;   /* serialises registry transactions on db */
        struct sqlite3 *db;     /* the registry connection for writes, opened on first write */
        struct sqlite3 *db_ro;  /* a read-only one for reads (lib/store/registry.c may close it) */
        pid_t db_pid;           /* the process that opened them: never reuse them after fork() */
        struct apid__lookup *lookup; /* the lookup cache (lib/lookup.c) */
};

struct apid__lookup *apid__ctx_lookup(apid_ctx *ctx)
{
        return ctx->lookup;
}

struct sqlite3 **apid__ctx_db(apid_ctx *ctx, int readonly)
{
        if ((ctx->db || ctx->db_ro) && ctx->db_pid != getpid()) {
                /* a connection must not cross fork(); the parent keeps its own */
                ctx->db = NULL;
                ctx->db_ro = NULL;
        }
        ctx->db_pid = getpid();
        return readonly ? &ctx->db_ro : &ctx->db;
}

void apid__ctx_lock(apid_ctx *ctx)
{
        pthread_mutex_lock(&ctx->lock);
}

void apid__ctx_unlock(apid_ctx *ctx)
{
        pthread_mutex_unlock(&ctx->lock);
}

void apid__log(apid_ctx *ctx, int level, const char *fmt, ...)
{
        char msg[2048];
        va_list ap;

        if (!ctx || !ctx->log_fn || level > ctx->log_level)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        ctx->log_fn(level, msg, ctx->log_userdata);
}

/* Validate a state directory and return a malloc'd copy without trailing
 * slashes. "what" names where the value came from, for the message. */
static int state_dir_copy(const char *path, const char *what, char **out)
{
        size_t len = strlen(path), i;
        char q[256];
        char *copy;

        apid__quote(q, sizeof(q), path, 200);
        if (len == 0)
                return apid__fail(APID_EINVAL, 0, "%s '': must not be empty", what);
        if (path[0] != '/')
                return apid__fail(APID_EINVAL, 0, "%s '%s': must be an absolute path", what, q);
        if (len > STATE_DIR_MAX)
                return apid__fail(APID_EINVAL, 0, "%s '%s': %zu bytes, at most %d allowed", what, q, len,
                                  STATE_DIR_MAX);
        for (i = 0; i < len; i++)
                if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
                        return apid__fail(APID_EINVAL, 0, "%s '%s': control character at byte %zu", what, q, i);
        while (len > 1 && path[len - 1] == '/')
                len--;
        copy = strndup(path, len);
        if (!copy)
                return apid__fail_oom();
        *out = copy;
        return APID_OK;
}

APID_EXPORT int apid_ctx_new(apid_ctx **out)
{
        const char *env;
        apid_ctx *ctx;
        int r;

        if (!out)
                return apid__fail(APID_EINVAL, 0, "apid_ctx_new: out is NULL");
        ctx = calloc(1, sizeof(*ctx));
        if (!ctx)
                return apid__fail_oom();
        ctx->refs = 1;
        ctx->log_level = APID_LOG_WARNING;
        /* Every write needs a context: from now on writes build the launch
         * settings file (lib/launchsettings.c). */
        apid__store_set_launch_builder(apid__launch_build);
        ctx->lookup = apid__lookup_new();
        if (!ctx->lookup) {
                free(ctx);
                return apid__fail_oom();
        }
        pthread_mutex_init(&ctx->lock, NULL);
        /* secure_getenv(): a setuid program must not let its caller move the registry. */
        env = secure_getenv(APID_STATE_DIR_ENV);
        if (env)
                r = state_dir_copy(env, "environment variable " APID_STATE_DIR_ENV, &ctx->state_dir);
        else
                r = state_dir_copy(APID_DEFAULT_STATE_DIR, "default state directory", &ctx->state_dir);
        if (r < 0) {
                pthread_mutex_destroy(&ctx->lock);
                apid__lookup_free(ctx->lookup);
                free(ctx);
                return r;
        }
        *out = ctx;
        return APID_OK;
}

APID_EXPORT apid_ctx *apid_ctx_ref(apid_ctx *ctx)
{
        if (ctx)
                __atomic_add_fetch(&ctx->refs, 1, __ATOMIC_RELAXED);
        return ctx;
}

APID_EXPORT void apid_ctx_unref(apid_ctx *ctx)
{
        if (!ctx || __atomic_sub_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL) != 0)
                return;
        apid__reg_close(ctx);
        apid__lookup_free(ctx->lookup);
        pthread_mutex_destroy(&ctx->lock);
        free(ctx->state_dir);
        free(ctx);
}

APID_EXPORT int apid_ctx_set_state_dir(apid_ctx *ctx, const char *path)
{
        char *copy;
        int r;

        if (!ctx || !path)
                return apid__fail(APID_EINVAL, 0, "apid_ctx_set_state_dir: NULL argument");
        r = state_dir_copy(path, "state directory", &copy);
        if (r < 0)
                return r;
        apid__reg_close(ctx); /* the next registry access opens the new directory's */
        apid__lookup_reset(ctx->lookup);
        free(ctx->state_dir);
        ctx->state_dir = copy;
        apid__log(ctx, APID_LOG_DEBUG, "state directory set to %s", copy);
        return APID_OK;
}

APID_EXPORT const char *apid_ctx_get_state_dir(const apid_ctx *ctx)
{
        return ctx ? ctx->state_dir : NULL;
}

APID_EXPORT const char *apid_ctx_default_state_dir(void)
{
        return APID_DEFAULT_STATE_DIR;
}

APID_EXPORT int apid_ctx_set_log_fn(apid_ctx *ctx, apid_log_fn fn, void *userdata)
{
        if (!ctx)
                return apid__fail(APID_EINVAL, 0, "apid_ctx_set_log_fn: ctx is NULL");
        ctx->log_fn = fn;
        ctx->log_userdata = userdata;
        return APID_OK;
}

APID_EXPORT int apid_ctx_set_log_level(apid_ctx *ctx, int level)
{
        if (!ctx)
                return apid__fail(APID_EINVAL, 0, "apid_ctx_set_log_level: ctx is NULL");
        if (level != APID_LOG_ERROR && level != APID_LOG_WARNING && level != APID_LOG_INFO && level != APID_LOG_DEBUG)
                return apid__fail(APID_EINVAL, 0, "log level %d: not one of 3 (error), 4 (warning), 6 (info), 7 (debug)",
                                  level);
        ctx->log_level = level;
        return APID_OK;
}
