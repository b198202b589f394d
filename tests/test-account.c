/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Account names <-> SIDs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static const struct {
        const char *account; /* as Windows prints it */
        const char *sid;
} well_known[] = {
        { "Everyone", "S-1-1-0" },
        { "LOCAL", "S-1-2-0" },
        { "CONSOLE LOGON", "S-1-2-1" },
        { "CREATOR OWNER", "S-1-3-0" },
        { "CREATOR GROUP", "S-1-3-1" },
        { "NT AUTHORITY", "S-1-5" },
        { "NT AUTHORITY\\NETWORK", "S-1-5-2" },
        { "NT AUTHORITY\\BATCH", "S-1-5-3" },
        { "NT AUTHORITY\\INTERACTIVE", "S-1-5-4" },
        { "NT AUTHORITY\\SERVICE", "S-1-5-6" },
        { "NT AUTHORITY\\ANONYMOUS LOGON", "S-1-5-7" },
        { "NT AUTHORITY\\Authenticated Users", "S-1-5-11" },
        { "NT AUTHORITY\\This Organization", "S-1-5-15" },
        { "NT AUTHORITY\\IUSR", "S-1-5-17" },
        { "NT AUTHORITY\\SYSTEM", "S-1-5-18" },
        { "NT AUTHORITY\\LOCAL SERVICE", "S-1-5-19" },
        { "NT AUTHORITY\\NETWORK SERVICE", "S-1-5-20" },
        { "BUILTIN", "S-1-5-32" },
        { "BUILTIN\\Administrators", "S-1-5-32-544" },
        { "BUILTIN\\Users", "S-1-5-32-545" },
        { "BUILTIN\\Guests", "S-1-5-32-546" },
        { "BUILTIN\\IIS_IUSRS", "S-1-5-32-568" },
        { "NT SERVICE", "S-1-5-80" },
        { "NT SERVICE\\ALL SERVICES", "S-1-5-80-0" },
        { "IIS APPPOOL", "S-1-5-82" },
};

static void well_known_resolve_both_ways(void **state)
{
        size_t i;

        for (i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++) {
                apid_sid *sid = NULL;
                char *s, *name = NULL;

                if (apid_account_to_sid(NULL, well_known[i].account, &sid) != APID_OK)
                        fail_msg("%s: %s", well_known[i].account, apid_error_message());
                s = sid_string(sid);
                assert_string_equal(s, well_known[i].sid);
                assert_int_equal(apid_sid_to_account(NULL, sid, &name), APID_OK);
                assert_string_equal(name, well_known[i].account);
                apid_free(s);
                apid_free(name);
                apid_sid_free(sid);
        }
}

static void lookups_ignore_case_and_domain(void **state)
{
        static const struct {
                const char *account;
                const char *sid;
        } forms[] = {
                { "SYSTEM", "S-1-5-18" },
                { "nt authority\\system", "S-1-5-18" },
                { "iis_iusrs", "S-1-5-32-568" },
                { "IUSR", "S-1-5-17" },
                { "everyone", "S-1-1-0" },
                { "Local Service", "S-1-5-19" },
                { "iis apppool", "S-1-5-82" },
        };
        size_t i;

        for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
                apid_sid *sid = NULL;
                char *s;

                assert_int_equal(apid_account_to_sid(NULL, forms[i].account, &sid), APID_OK);
                s = sid_string(sid);
                assert_string_equal(s, forms[i].sid);
                apid_free(s);
                apid_sid_free(sid);
        }
}

static void pool_and_service_accounts_are_derived(void **state)
{
        apid_sid *a = NULL, *b = NULL;
        char *name = NULL;

        /* The IIS documentation writes "IIS AppPool\"; Windows prints "IIS APPPOOL\". */
        assert_int_equal(apid_account_to_sid(NULL, "IIS AppPool\\DefaultAppPool", &a), APID_OK);
        assert_int_equal(apid_sid_for_pool("DefaultAppPool", &b), APID_OK);
        assert_true(apid_sid_equal(a, b));
        apid_sid_free(a);
        apid_sid_free(b);
        assert_int_equal(apid_account_to_sid(NULL, "nt service\\TrustedInstaller", &a), APID_OK);
        assert_int_equal(apid_sid_for_service("TrustedInstaller", &b), APID_OK);
        assert_true(apid_sid_equal(a, b));
        /* The way back needs a record of the name. */
        assert_int_equal(apid_sid_to_account(NULL, a, &name), APID_ENOTFOUND);
        assert_non_null(strstr(apid_error_message(), "one-way hash"));
        assert_null(name);
        apid_sid_free(a);
        apid_sid_free(b);
        assert_int_equal(apid_account_for_pool("Classic .NET AppPool", &name), APID_OK);
        assert_string_equal(name, "IIS APPPOOL\\Classic .NET AppPool");
        apid_free(name);
        assert_int_equal(apid_account_for_service("W32Time", &name), APID_OK);
        assert_string_equal(name, "NT SERVICE\\W32Time");
        apid_free(name);
}

static void bad_accounts_are_refused(void **state)
{
        apid_sid *sid = NULL;
        char *name = NULL;

        assert_int_equal(apid_account_to_sid(NULL, "IIS APPPOOL\\a/b", &sid), APID_EINVAL);
        assert_string_equal(apid_error_message(), "pool name 'a/b': character '/' is not allowed");
        assert_int_equal(apid_account_to_sid(NULL, "IIS APPPOOL\\", &sid), APID_EINVAL);
        assert_int_equal(apid_account_to_sid(NULL, "NT SERVICE\\", &sid), APID_EINVAL);
        assert_int_equal(apid_account_to_sid(NULL, "nobody", &sid), APID_ENOTFOUND);
        assert_non_null(strstr(apid_error_message(), "account 'nobody': not a known account"));
        assert_int_equal(apid_account_to_sid(NULL, "NT AUTHORITY\\Administrators", &sid), APID_ENOTFOUND);
        assert_int_equal(apid_account_to_sid(NULL, "BUILTIN\\SYSTEM", &sid), APID_ENOTFOUND);
        assert_int_equal(apid_account_to_sid(NULL, NULL, &sid), APID_EINVAL);
        assert_int_equal(apid_account_to_sid(NULL, "SYSTEM", NULL), APID_EINVAL);
        assert_null(sid);
        assert_int_equal(apid_sid_parse("S-1-5-21-1-2-3-500", &sid), APID_OK);
        assert_int_equal(apid_sid_to_account(NULL, sid, &name), APID_ENOTFOUND);
        assert_string_equal(apid_error_message(), "SID S-1-5-21-1-2-3-500: not a known account");
        assert_int_equal(apid_sid_to_account(NULL, NULL, &name), APID_EINVAL);
        assert_int_equal(apid_sid_to_account(NULL, sid, NULL), APID_EINVAL);
        assert_null(name);
        apid_sid_free(sid);
        assert_int_equal(apid_account_for_pool("a:b", &name), APID_EINVAL);
        assert_int_equal(apid_account_for_service("a/b", &name), APID_EINVAL);
        assert_int_equal(apid_account_for_pool("a", NULL), APID_EINVAL);
        assert_null(name);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(well_known_resolve_both_ways),
                cmocka_unit_test(lookups_ignore_case_and_domain),
                cmocka_unit_test(pool_and_service_accounts_are_derived),
                cmocka_unit_test(bad_accounts_are_refused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
