/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SIDs: Windows-printed vectors, parse/format, binary form, ordering, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <apppoolid.h>

#include "testutil.h"


/* Every row of tests/vectors.tsv: a SID a real Windows machine printed for a
 * pool or service name, with its source. */
static void sids_match_windows(void **state)
{
        struct vector *v;
        size_t n, i, pools = 0, services = 0;

        v = vectors_load(&n);
        for (i = 0; i < n; i++) {
                int pool = strcmp(v[i].kind, "pool") == 0;
                apid_sid *sid = NULL;
                char *s;

                assert_int_equal(pool ? apid_sid_for_pool(v[i].name, &sid) : apid_sid_for_service(v[i].name, &sid),
                                 APID_OK);
                s = sid_string(sid);
                if (strcmp(s, v[i].sid) != 0)
                        fail_msg("%s '%s': computed %s, Windows printed %s", v[i].kind, v[i].name, s, v[i].sid);
                assert_int_equal(apid_sid_is_pool(sid), pool);
                assert_int_equal(apid_sid_is_service(sid), !pool);
                pools += pool;
                services += !pool;
                apid_free(s);
                apid_sid_free(sid);
        }
        /* The file must hold real evidence for both algorithms. */
        assert_true(pools >= 10);
        assert_true(services >= 10);
        vectors_free(v, n);
}

static void pool_sid_ignores_case(void **state)
{
        apid_sid *a = NULL, *b = NULL, *c = NULL;

        assert_int_equal(apid_sid_for_pool("DefaultAppPool", &a), APID_OK);
        assert_int_equal(apid_sid_for_pool("DEFAULTAPPPOOL", &b), APID_OK);
        assert_int_equal(apid_sid_for_pool("defaultapppool", &c), APID_OK);
        assert_true(apid_sid_equal(a, b));
        assert_true(apid_sid_equal(a, c));
        apid_sid_free(a);
        apid_sid_free(b);
        apid_sid_free(c);
        /* Non-ASCII letters fold too: 'É' (U+00C9) and 'é' (U+00E9). */
        assert_int_equal(apid_sid_for_pool("Caf\xc3\x89", &a), APID_OK);
        assert_int_equal(apid_sid_for_pool("caf\xc3\xa9", &b), APID_OK);
        assert_true(apid_sid_equal(a, b));
        apid_sid_free(a);
        apid_sid_free(b);
}

static void service_sid_ignores_case(void **state)
{
        apid_sid *a = NULL, *b = NULL;

        assert_int_equal(apid_sid_for_service("trustedinstaller", &a), APID_OK);
        assert_int_equal(apid_sid_for_service("TRUSTEDINSTALLER", &b), APID_OK);
        assert_true(apid_sid_equal(a, b));
        apid_sid_free(a);
        apid_sid_free(b);
}

static void pool_and_service_sids_differ(void **state)
{
        apid_sid *a = NULL, *b = NULL;

        assert_int_equal(apid_sid_for_pool("W3SVC", &a), APID_OK);
        assert_int_equal(apid_sid_for_service("W3SVC", &b), APID_OK);
        assert_false(apid_sid_equal(a, b));
        apid_sid_free(a);
        apid_sid_free(b);
}

static void bad_names_are_refused(void **state)
{
        apid_sid *sid = (apid_sid *)0x1;

        assert_int_equal(apid_sid_for_pool("a/b", &sid), APID_EINVAL);
        assert_string_equal(apid_error_message(), "pool name 'a/b': character '/' is not allowed");
        assert_ptr_equal(sid, (apid_sid *)0x1); /* untouched on failure */
        assert_int_equal(apid_sid_for_pool(NULL, &sid), APID_EINVAL);
        assert_int_equal(apid_sid_for_pool("x", NULL), APID_EINVAL);
        assert_int_equal(apid_sid_for_service("a\\b", &sid), APID_EINVAL);
        assert_string_equal(apid_error_message(), "service name 'a\\b': character '\\' is not allowed");
        assert_int_equal(apid_sid_for_service("", &sid), APID_EINVAL);
        assert_int_equal(apid_sid_for_service("bad\xff", &sid), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "not valid UTF-8 at byte 3"));
        assert_ptr_equal(sid, (apid_sid *)0x1);
}

static void parse_and_format_round_trip(void **state)
{
        static const char *const good[] = {
                "S-1-5-18", "S-1-1-0", "S-1-5-32-568", "S-1-5-80-0", "S-1-5",
                "S-1-5-21-2127521184-1604012920-1887927527-72713",
                "S-1-5-82-4294967295-0-1-2-3",
                "S-1-4294967295-1",
                "S-1-0x000100000000-1",
                "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15",
        };
        size_t i;

        for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                apid_sid *sid = NULL;
                char *s;

                assert_int_equal(apid_sid_parse(good[i], &sid), APID_OK);
                s = sid_string(sid);
                assert_string_equal(s, good[i]);
                apid_free(s);
                apid_sid_free(sid);
        }
}

static void parse_accepts_windows_variants(void **state)
{
        apid_sid *sid = NULL;
        char *s;

        /* Lower-case 's' and lower-case hex parse; Windows prints the canonical form. */
        assert_int_equal(apid_sid_parse("s-1-5-18", &sid), APID_OK);
        s = sid_string(sid);
        assert_string_equal(s, "S-1-5-18");
        apid_free(s);
        apid_sid_free(sid);
        assert_int_equal(apid_sid_parse("S-1-0xabcdef012345-7", &sid), APID_OK);
        assert_true(apid_sid_authority(sid) == UINT64_C(0xabcdef012345));
        s = sid_string(sid);
        assert_string_equal(s, "S-1-0xABCDEF012345-7");
        apid_free(s);
        apid_sid_free(sid);
        /* A hexadecimal authority below 2^32 is printed in decimal. */
        assert_int_equal(apid_sid_parse("S-1-0x000000000005-18", &sid), APID_OK);
        s = sid_string(sid);
        assert_string_equal(s, "S-1-5-18");
        apid_free(s);
        apid_sid_free(sid);
}

static void parse_refuses_malformed(void **state)
{
        static const struct {
                const char *text;
                const char *message_part;
        } bad[] = {
                { "", "must start with 'S-1-'" },
                { "S-2-5-18", "must start with 'S-1-'" },
                { "X-1-5-18", "must start with 'S-1-'" },
                { "S-1-", "authority at position 5" },
                { "S-1--5", "authority at position 5" },
                { "S-1-05-18", "authority at position 5" },
                { "S-1-4294967296-1", "authority at position 5" },
                { "S-1-5-", "sub-authority at position 7" },
                { "S-1-5-018", "sub-authority at position 7" },
                { "S-1-5-4294967296", "sub-authority at position 7" },
                { "S-1-5-+1", "sub-authority at position 7" },
                { "S-1-5-18 ", "unexpected character at position 9" },
                { " S-1-5-18", "must start with 'S-1-'" },
                { "S-1-5-18-", "sub-authority at position 10" },
                { "S-1-0x12345-1", "12 digits after '0x'" },
                { "S-1-0x00000000000g-1", "12 digits after '0x'" },
                { "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", "more than 15 sub-authorities" },
                { "S-1-5-18\n", "unexpected character" },
        };
        size_t i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                apid_sid *sid = NULL;

                assert_int_equal(apid_sid_parse(bad[i].text, &sid), APID_EINVAL);
                assert_null(sid);
                if (!strstr(apid_error_message(), bad[i].message_part))
                        fail_msg("'%s': message '%s' lacks '%s'", bad[i].text, apid_error_message(),
                                 bad[i].message_part);
        }
        assert_int_equal(apid_sid_parse(NULL, NULL), APID_EINVAL);
}

static void binary_form_matches_windows(void **state)
{
        /* Raymond Chen, "How do I convert a SID between binary and string forms?" */
        static const uint8_t chen[] = {
                0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x15, 0x00, 0x00, 0x00,
                0xA0, 0x65, 0xCF, 0x7E, 0x78, 0x4B, 0x9B, 0x5F, 0xE7, 0x7C, 0x87, 0x70,
                0x09, 0x1C, 0x01, 0x00,
        };
        uint8_t buf[APID_SID_MAX_BYTES];
        apid_sid *sid = NULL, *back = NULL;
        size_t written = 0;
        char *s;

        assert_int_equal(apid_sid_parse("S-1-5-21-2127521184-1604012920-1887927527-72713", &sid), APID_OK);
        assert_int_equal(apid_sid_byte_size(sid), sizeof(chen));
        assert_int_equal(apid_sid_to_bytes(sid, buf, sizeof(buf), &written), APID_OK);
        assert_int_equal(written, sizeof(chen));
        assert_memory_equal(buf, chen, sizeof(chen));
        assert_int_equal(apid_sid_from_bytes(chen, sizeof(chen), &back), APID_OK);
        assert_true(apid_sid_equal(sid, back));
        s = sid_string(back);
        assert_string_equal(s, "S-1-5-21-2127521184-1604012920-1887927527-72713");
        apid_free(s);
        /* Too small a buffer: APID_ERANGE, nothing written. */
        memset(buf, 0xaa, sizeof(buf));
        assert_int_equal(apid_sid_to_bytes(sid, buf, sizeof(chen) - 1, &written), APID_ERANGE);
        assert_int_equal(buf[0], 0xaa);
        apid_sid_free(sid);
        apid_sid_free(back);
}

static void pool_sid_binary_is_the_digest(void **state)
{
        /* Sub-authorities 1..5 of a pool SID are the SHA-1 digest byte for byte:
         * SHA1(UTF-16LE "defaultapppool") = e29c36b3138f4819ec090a682f26612f5fd1b2ee. */
        static const uint8_t digest[20] = {
                0xe2, 0x9c, 0x36, 0xb3, 0x13, 0x8f, 0x48, 0x19, 0xec, 0x09,
                0x0a, 0x68, 0x2f, 0x26, 0x61, 0x2f, 0x5f, 0xd1, 0xb2, 0xee,
        };
        uint8_t buf[APID_SID_MAX_BYTES];
        apid_sid *sid = NULL;
        size_t n = 0;

        assert_int_equal(apid_sid_for_pool("DefaultAppPool", &sid), APID_OK);
        assert_int_equal(apid_sid_to_bytes(sid, buf, sizeof(buf), &n), APID_OK);
        assert_int_equal(n, 32);
        assert_int_equal(buf[1], 6);
        assert_int_equal(buf[8], 82);
        assert_memory_equal(buf + 12, digest, sizeof(digest));
        apid_sid_free(sid);
}

static void from_bytes_refuses_malformed(void **state)
{
        uint8_t b[APID_SID_MAX_BYTES + 4] = { 1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0 };
        apid_sid *sid = NULL;

        assert_int_equal(apid_sid_from_bytes(b, 12, &sid), APID_OK);
        apid_sid_free(sid);
        sid = NULL;
        assert_int_equal(apid_sid_from_bytes(b, 11, &sid), APID_EINVAL);
        assert_int_equal(apid_sid_from_bytes(b, 13, &sid), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "13 bytes, but 1 sub-authorities need 12"));
        assert_int_equal(apid_sid_from_bytes(b, 7, &sid), APID_EINVAL);
        b[0] = 2;
        assert_int_equal(apid_sid_from_bytes(b, 12, &sid), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "revision 2"));
        b[0] = 1;
        b[1] = 16;
        assert_int_equal(apid_sid_from_bytes(b, 8 + 64, &sid), APID_EINVAL);
        assert_null(sid);
}

static void from_parts_checks_limits(void **state)
{
        uint32_t sub[16] = { 32, 544 };
        apid_sid *sid = NULL;
        uint32_t v = 0;
        char *s;

        assert_int_equal(apid_sid_from_parts(5, sub, 2, &sid), APID_OK);
        s = sid_string(sid);
        assert_string_equal(s, "S-1-5-32-544");
        apid_free(s);
        assert_int_equal(apid_sid_subauthority_count(sid), 2);
        assert_int_equal(apid_sid_get_subauthority(sid, 1, &v), APID_OK);
        assert_int_equal(v, 544);
        assert_int_equal(apid_sid_get_subauthority(sid, 2, &v), APID_ERANGE);
        apid_sid_free(sid);
        sid = NULL;
        assert_int_equal(apid_sid_from_parts(UINT64_C(1) << 48, sub, 1, &sid), APID_EINVAL);
        assert_int_equal(apid_sid_from_parts(5, sub, 16, &sid), APID_EINVAL);
        assert_int_equal(apid_sid_from_parts(5, NULL, 1, &sid), APID_EINVAL);
        assert_null(sid);
        assert_int_equal(apid_sid_from_parts(5, NULL, 0, &sid), APID_OK);
        s = sid_string(sid);
        assert_string_equal(s, "S-1-5");
        apid_free(s);
        apid_sid_free(sid);
}

static void compare_orders_sids(void **state)
{
        apid_sid *a = NULL, *b = NULL, *c = NULL, *d = NULL, *a2 = NULL;

        assert_int_equal(apid_sid_parse("S-1-5-18", &a), APID_OK);
        assert_int_equal(apid_sid_parse("S-1-5-19", &b), APID_OK);
        assert_int_equal(apid_sid_parse("S-1-5-18-1", &c), APID_OK);
        assert_int_equal(apid_sid_parse("S-1-16-0", &d), APID_OK);
        assert_int_equal(apid_sid_dup(a, &a2), APID_OK);
        assert_true(apid_sid_compare(a, b) < 0);
        assert_true(apid_sid_compare(b, a) > 0);
        assert_true(apid_sid_compare(a, c) < 0);
        assert_true(apid_sid_compare(b, c) > 0);
        assert_true(apid_sid_compare(c, d) < 0);
        assert_int_equal(apid_sid_compare(a, a2), 0);
        assert_true(apid_sid_equal(a, a2));
        assert_false(apid_sid_equal(a, c));
        assert_true(apid_sid_compare(NULL, a) < 0);
        assert_true(apid_sid_compare(a, NULL) > 0);
        assert_int_equal(apid_sid_compare(NULL, NULL), 0);
        assert_false(apid_sid_equal(NULL, NULL));
        apid_sid_free(a);
        apid_sid_free(b);
        apid_sid_free(c);
        apid_sid_free(d);
        apid_sid_free(a2);
        apid_sid_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(sids_match_windows),
                cmocka_unit_test(pool_sid_ignores_case),
                cmocka_unit_test(service_sid_ignores_case),
                cmocka_unit_test(pool_and_service_sids_differ),
                cmocka_unit_test(bad_names_are_refused),
                cmocka_unit_test(parse_and_format_round_trip),
                cmocka_unit_test(parse_accepts_windows_variants),
                cmocka_unit_test(parse_refuses_malformed),
                cmocka_unit_test(binary_form_matches_windows),
                cmocka_unit_test(pool_sid_binary_is_the_digest),
                cmocka_unit_test(from_bytes_refuses_malformed),
                cmocka_unit_test(from_parts_checks_limits),
                cmocka_unit_test(compare_orders_sids),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
