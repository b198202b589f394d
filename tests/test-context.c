/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context: state directory (default, environment, API), logging, references. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static void default_state_dir_without_environment(void **state)
{
        apid_ctx *ctx = NULL;

        unsetenv(APID_STATE_DIR_ENV);
        assert_int_equal(apid_ctx_new(&ctx), APID_OK);
        assert_string_equal(apid_ctx_get_state_dir(ctx), apid_ctx_default_state_dir());
        assert_string_equal(apid_ctx_default_state_dir(), "/var/lib/apppoolid");
        apid_ctx_unref(ctx);
}

static void environment_overrides_default(void **state)
{
        apid_ctx *ctx = NULL;

        setenv(APID_STATE_DIR_ENV, "/tmp/apid-state//", 1);
        assert_int_equal(apid_ctx_new(&ctx), APID_OK);
        assert_string_equal(apid_ctx_get_state_dir(ctx), "/tmp/apid-state");
        /* The API overrides the environment. */
        assert_int_equal(apid_ctx_set_state_dir(ctx, "/srv/pools"), APID_OK);
        assert_string_equal(apid_ctx_get_state_dir(ctx), "/srv/pools");
        assert_int_equal(apid_ctx_set_state_dir(ctx, "/"), APID_OK);
        assert_string_equal(apid_ctx_get_state_dir(ctx), "/");
        apid_ctx_unref(ctx);
        unsetenv(APID_STATE_DIR_ENV);
}

static void bad_environment_is_named(void **state)
{
        apid_ctx *ctx = NULL;

        setenv(APID_STATE_DIR_ENV, "relative/dir", 1);
        assert_int_equal(apid_ctx_new(&ctx), APID_EINVAL);
        assert_string_equal(apid_error_message(),
                            "environment variable APPPOOLID_STATE_DIR 'relative/dir': must be an absolute path");
        assert_null(ctx);
        setenv(APID_STATE_DIR_ENV, "", 1);
        assert_int_equal(apid_ctx_new(&ctx), APID_EINVAL);
        assert_string_equal(apid_error_message(), "environment variable APPPOOLID_STATE_DIR '': must not be empty");
        setenv(APID_STATE_DIR_ENV, "/a\tb", 1);
        assert_int_equal(apid_ctx_new(&ctx), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "control character at byte 2"));
        assert_null(ctx);
        unsetenv(APID_STATE_DIR_ENV);
        assert_int_equal(apid_ctx_new(NULL), APID_EINVAL);
}

static void bad_state_dir_changes_nothing(void **state)
{
        char longpath[5000];
        apid_ctx *ctx = NULL;

        unsetenv(APID_STATE_DIR_ENV);
        assert_int_equal(apid_ctx_new(&ctx), APID_OK);
        assert_int_equal(apid_ctx_set_state_dir(ctx, "/srv/a"), APID_OK);
        assert_int_equal(apid_ctx_set_state_dir(ctx, "srv/b"), APID_EINVAL);
        assert_string_equal(apid_error_message(), "state directory 'srv/b': must be an absolute path");
        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = '\0';
        assert_int_equal(apid_ctx_set_state_dir(ctx, longpath), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "4999 bytes, at most 4000 allowed"));
        assert_int_equal(apid_ctx_set_state_dir(ctx, NULL), APID_EINVAL);
        assert_int_equal(apid_ctx_set_state_dir(NULL, "/x"), APID_EINVAL);
        assert_string_equal(apid_ctx_get_state_dir(ctx), "/srv/a");
        assert_null(apid_ctx_get_state_dir(NULL));
        apid_ctx_unref(ctx);
}

struct log_record {
        int calls;
        int level;
        char message[256];
};

static void record_log(int level, const char *message, void *userdata)
{
        struct log_record *r = userdata;

        r->calls++;
        r->level = level;
        snprintf(r->message, sizeof(r->message), "%s", message);
}

static void log_callback_respects_level(void **state)
{
        struct log_record rec = { 0 };
        apid_ctx *ctx = NULL;

        unsetenv(APID_STATE_DIR_ENV);
        assert_int_equal(apid_ctx_new(&ctx), APID_OK);
        assert_int_equal(apid_ctx_set_log_fn(ctx, record_log, &rec), APID_OK);
        /* Default level is warning: a debug message is dropped. */
        assert_int_equal(apid_ctx_set_state_dir(ctx, "/srv/x"), APID_OK);
        assert_int_equal(rec.calls, 0);
        assert_int_equal(apid_ctx_set_log_level(ctx, APID_LOG_DEBUG), APID_OK);
        assert_int_equal(apid_ctx_set_state_dir(ctx, "/srv/y"), APID_OK);
        assert_int_equal(rec.calls, 1);
        assert_int_equal(rec.level, APID_LOG_DEBUG);
        assert_string_equal(rec.message, "state directory set to /srv/y");
        assert_int_equal(apid_ctx_set_log_level(ctx, 5), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "log level 5"));
        assert_int_equal(apid_ctx_set_log_fn(ctx, NULL, NULL), APID_OK);
        assert_int_equal(apid_ctx_set_state_dir(ctx, "/srv/z"), APID_OK);
        assert_int_equal(rec.calls, 1);
        assert_int_equal(apid_ctx_set_log_fn(NULL, NULL, NULL), APID_EINVAL);
        assert_int_equal(apid_ctx_set_log_level(NULL, APID_LOG_DEBUG), APID_EINVAL);
        apid_ctx_unref(ctx);
}

static void references_keep_the_context_alive(void **state)
{
        apid_ctx *ctx = NULL;

        unsetenv(APID_STATE_DIR_ENV);
        assert_int_equal(apid_ctx_new(&ctx), APID_OK);
        assert_ptr_equal(apid_ctx_ref(ctx), ctx);
        apid_ctx_unref(ctx);
        /* Still alive: one reference left (AddressSanitizer would catch a use after free). */
        assert_string_equal(apid_ctx_get_state_dir(ctx), "/var/lib/apppoolid");
        apid_ctx_unref(ctx);
        assert_null(apid_ctx_ref(NULL));
        apid_ctx_unref(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(default_state_dir_without_environment),
                cmocka_unit_test(environment_overrides_default),
                cmocka_unit_test(bad_environment_is_named),
                cmocka_unit_test(bad_state_dir_changes_nothing),
                cmocka_unit_test(log_callback_respects_level),
                cmocka_unit_test(references_keep_the_context_alive),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
