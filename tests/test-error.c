/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Status texts, the per-thread last error, version. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>

#include "testutil.h"

static void every_status_has_a_text(void **state)
{
        int s;

        for (s = APID_EBUSY; s <= APID_OK; s++) {
                assert_non_null(apid_strerror(s));
                assert_string_not_equal(apid_strerror(s), "unknown status");
        }
        assert_string_equal(apid_strerror(APID_ENOTFOUND), "not found");
        assert_string_equal(apid_strerror(1), "unknown status");
        assert_string_equal(apid_strerror(-12345), "unknown status");
}

static void *fail_in_thread(void *arg)
{
        char *seen = arg;

        /* A new thread starts with no error, whatever the main thread did. */
        snprintf(seen, 256, "%d:%s", apid_error_status(), apid_error_message());
        if (apid_pool_name_check("x|y") != APID_EINVAL)
                snprintf(seen, 256, "x|y accepted");
        return NULL;
}

static void last_error_is_per_thread(void **state)
{
        char seen[256] = "";
        pthread_t t;

        assert_int_equal(apid_pool_name_check("a/b"), APID_EINVAL);
        assert_int_equal(pthread_create(&t, NULL, fail_in_thread, seen), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_string_equal(seen, "0:");
        /* The other thread's failure did not touch this thread's error. */
        assert_string_equal(apid_error_message(), "pool name 'a/b': character '/' is not allowed");
        assert_int_equal(apid_error_status(), APID_EINVAL);
        /* A success does not clear it (documented). */
        assert_int_equal(apid_pool_name_check("ok"), APID_OK);
        assert_int_equal(apid_error_status(), APID_EINVAL);
}

static void long_values_are_cut_in_messages(void **state)
{
        char name[600];

        memset(name, 'x', sizeof(name) - 2);
        name[sizeof(name) - 2] = '/';
        name[sizeof(name) - 1] = '\0';
        assert_int_equal(apid_pool_name_check(name), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "xxx...': character '/' is not allowed"));
        assert_true(strlen(apid_error_message()) < 300);
}

static void version_agrees_with_headers(void **state)
{
        assert_string_equal(apid_version(), APID_VERSION);
        assert_int_equal(apid_version_number(), APID_VERSION_NUMBER);
        assert_true(apid_version_at_least(APID_VERSION_MAJOR, APID_VERSION_MINOR, APID_VERSION_PATCH));
        assert_true(apid_version_at_least(0, 9, 0));
        assert_false(apid_version_at_least(APID_VERSION_MAJOR + 1, 0, 0));
        assert_false(apid_version_at_least(APID_VERSION_MAJOR, APID_VERSION_MINOR + 1, 0));
        assert_false(apid_version_at_least(APID_VERSION_MAJOR, 0, 100));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_status_has_a_text),
                cmocka_unit_test(last_error_is_per_thread),
                cmocka_unit_test(long_values_are_cut_in_messages),
                cmocka_unit_test(version_agrees_with_headers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
