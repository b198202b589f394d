/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pool names: the IIS rules, comparison, canonical form. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static void iis_default_names_are_valid(void **state)
{
        static const char *const names[] = {
                "DefaultAppPool", "Classic .NET AppPool", ".NET v2.0", ".NET v2.0 Classic", ".NET v4.5",
                ".NET v4.5 Classic", "ASP.NET v4.0", "MSExchangeOWAAppPool", "a", "caf\xc3\xa9",
                "\xe6\xb1\xa0", /* CJK */ "pool\xf0\x9f\x98\x80" /* emoji, outside the BMP */,
                "a b", "x.y_z-1!$%^(){}'~`#",
        };
        size_t i;

        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (apid_pool_name_check(names[i]) != APID_OK)
                        fail_msg("'%s' refused: %s", names[i], apid_error_message());
}

static void each_forbidden_character_is_named(void **state)
{
        const char *forbidden = "|<>&\\\"/[]+=;:,?*@";
        const char *p;

        for (p = forbidden; *p; p++) {
                char name[8], expect[128];

                snprintf(name, sizeof(name), "a%cb", *p);
                snprintf(expect, sizeof(expect), "pool name '%s': character '%c' is not allowed", name, *p);
                assert_int_equal(apid_pool_name_check(name), APID_EINVAL);
                assert_string_equal(apid_error_message(), expect);
                assert_int_equal(apid_error_status(), APID_EINVAL);
                assert_int_equal(apid_error_errno(), 0);
        }
}

static void control_characters_are_refused(void **state)
{
        unsigned c;

        for (c = 1; c < 0x20; c++) {
                char name[4] = { 'a', (char)c, 'b', 0 };

                assert_int_equal(apid_pool_name_check(name), APID_EINVAL);
                assert_non_null(strstr(apid_error_message(), "is not allowed"));
        }
        assert_int_equal(apid_pool_name_check("a\x7f"), APID_EINVAL);
        /* The message escapes what it quotes. */
        assert_int_equal(apid_pool_name_check("a\nb"), APID_EINVAL);
        assert_string_equal(apid_error_message(), "pool name 'a\\x0Ab': character U+000A is not allowed");
}

static void empty_and_white_space_ends_are_refused(void **state)
{
        assert_int_equal(apid_pool_name_check(""), APID_EINVAL);
        assert_string_equal(apid_error_message(), "pool name '': must not be empty");
        assert_int_equal(apid_pool_name_check(" x"), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "must not start with white space"));
        assert_int_equal(apid_pool_name_check("x "), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "must not end with white space"));
        assert_int_equal(apid_pool_name_check("x\xc2\xa0"), APID_EINVAL); /* NO-BREAK SPACE */
        assert_int_equal(apid_pool_name_check(" "), APID_EINVAL);
        assert_int_equal(apid_pool_name_check(NULL), APID_EINVAL);
}

static void length_counts_utf16_units(void **state)
{
        char name[APID_POOL_NAME_MAX * 4 + 8];
        int i;

        memset(name, 'a', APID_POOL_NAME_MAX);
        name[APID_POOL_NAME_MAX] = '\0';
        assert_int_equal(apid_pool_name_check(name), APID_OK);
        name[APID_POOL_NAME_MAX] = 'a';
        name[APID_POOL_NAME_MAX + 1] = '\0';
        assert_int_equal(apid_pool_name_check(name), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "65 characters (UTF-16 code units), at most 64 allowed"));
        /* 'é' is 2 UTF-8 bytes but one UTF-16 unit: 64 of them fit. */
        for (i = 0; i < APID_POOL_NAME_MAX; i++)
                memcpy(name + 2 * i, "\xc3\xa9", 2);
        name[2 * APID_POOL_NAME_MAX] = '\0';
        assert_int_equal(apid_pool_name_check(name), APID_OK);
        /* An emoji is 4 UTF-8 bytes and two UTF-16 units: 32 fit, 33 do not. */
        for (i = 0; i < 33; i++)
                memcpy(name + 4 * i, "\xf0\x9f\x98\x80", 4);
        name[4 * 32] = '\0';
        assert_int_equal(apid_pool_name_check(name), APID_OK);
        name[4 * 32] = '\xf0';
        name[4 * 33] = '\0';
        assert_int_equal(apid_pool_name_check(name), APID_EINVAL);
}

static void invalid_utf8_is_refused(void **state)
{
        static const char *const bad[] = {
                "a\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80" /* surrogate */,
                "\xf4\x90\x80\x80" /* > U+10FFFF */, "\xf5\x80\x80\x80", "\xe6\xb1", "\xff",
                "a\xc3", "\xf0\x80\x80\xaf",
        };
        size_t i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(apid_pool_name_check(bad[i]), APID_EINVAL);
                assert_non_null(strstr(apid_error_message(), "not valid UTF-8 at byte"));
        }
}

static void names_compare_ignoring_case(void **state)
{
        assert_int_equal(apid_pool_name_equal("DefaultAppPool", "defaultapppool"), 1);
        assert_int_equal(apid_pool_name_equal("DefaultAppPool", "DEFAULTAPPPOOL"), 1);
        assert_int_equal(apid_pool_name_equal("DefaultAppPool", "DefaultAppPool2"), 0);
        assert_int_equal(apid_pool_name_equal("Caf\xc3\x89", "caf\xc3\xa9"), 1); /* É, é */
        /* No normalisation: precomposed 'é' and 'e' + combining acute differ, as on Windows. */
        assert_int_equal(apid_pool_name_equal("caf\xc3\xa9", "cafe\xcc\x81"), 0);
        /* Outside the BMP nothing folds (Windows maps UTF-16 units one at a time):
         * DESERET CAPITAL LONG I (U+10400) and its small letter (U+10428) differ. */
        assert_int_equal(apid_pool_name_equal("\xf0\x90\x90\x80", "\xf0\x90\x90\xa8"), 0);
        assert_int_equal(apid_pool_name_equal("a/b", "a/b"), APID_EINVAL);
        assert_int_equal(apid_pool_name_equal(NULL, "a"), APID_EINVAL);
}

static void canonical_form_is_the_key(void **state)
{
        char *a = NULL, *b = NULL;

        assert_int_equal(apid_pool_name_canonical("Classic .NET AppPool", &a), APID_OK);
        assert_string_equal(a, "CLASSIC .NET APPPOOL");
        assert_int_equal(apid_pool_name_canonical("classic .net apppool", &b), APID_OK);
        assert_string_equal(a, b);
        apid_free(a);
        apid_free(b);
        /* 'ɐ' (U+0250, 2 bytes) folds to 'Ɐ' (U+2C6F, 3 bytes): the form may grow. */
        assert_int_equal(apid_pool_name_canonical("\xc9\x90\xc9\x90", &a), APID_OK);
        assert_string_equal(a, "\xe2\xb1\xaf\xe2\xb1\xaf");
        apid_free(a);
        a = (char *)0x1;
        assert_int_equal(apid_pool_name_canonical("a:b", &a), APID_EINVAL);
        assert_ptr_equal(a, (char *)0x1);
        assert_int_equal(apid_pool_name_canonical("a", NULL), APID_EINVAL);
}

static void kelvin_sign_is_another_pool_with_the_same_sid(void **state)
{
        /* KELVIN SIGN (U+212A) folds to itself in upper case but to 'k' in lower
         * case. Comparing (upper) says two pools; hashing (lower) gives one SID:
         * the IIS event 9001 case that the registry must refuse. */
        apid_sid *a = NULL, *b = NULL;

        assert_int_equal(apid_pool_name_equal("\xe2\x84\xaa", "k"), 0);
        assert_int_equal(apid_sid_for_pool("\xe2\x84\xaa", &a), APID_OK);
        assert_int_equal(apid_sid_for_pool("k", &b), APID_OK);
        assert_true(apid_sid_equal(a, b));
        apid_sid_free(a);
        apid_sid_free(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(iis_default_names_are_valid),
                cmocka_unit_test(each_forbidden_character_is_named),
                cmocka_unit_test(control_characters_are_refused),
                cmocka_unit_test(empty_and_white_space_ends_are_refused),
                cmocka_unit_test(length_counts_utf16_units),
                cmocka_unit_test(invalid_utf8_is_refused),
                cmocka_unit_test(names_compare_ignoring_case),
                cmocka_unit_test(canonical_form_is_the_key),
                cmocka_unit_test(kelvin_sign_is_another_pool_with_the_same_sid),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
