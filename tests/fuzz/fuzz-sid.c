/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz the SID parsers: the string form and the binary form. Properties:
 * no crash, no leak, and whatever parses formats back to a string that
 * parses to the same SID (and to the same bytes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apppoolid.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const apid_sid *sid)
{
        uint8_t bytes[APID_SID_MAX_BYTES];
        apid_sid *again = NULL, *from_bytes = NULL;
        char *text = NULL;
        size_t n = 0;

        if (apid_sid_to_string(sid, &text) != APID_OK)
                abort();
        if (strlen(text) > APID_SID_MAX_STRING)
                abort();
        if (apid_sid_parse(text, &again) != APID_OK || !apid_sid_equal(sid, again))
                abort();
        if (apid_sid_to_bytes(sid, bytes, sizeof(bytes), &n) != APID_OK || n != apid_sid_byte_size(sid))
                abort();
        if (apid_sid_from_bytes(bytes, n, &from_bytes) != APID_OK || apid_sid_compare(sid, from_bytes) != 0)
                abort();
        apid_free(text);
        apid_sid_free(again);
        apid_sid_free(from_bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        apid_sid *sid = NULL;
        char *text;

        /* The input as binary. */
        if (apid_sid_from_bytes(data, size, &sid) == APID_OK) {
                check_round_trip(sid);
                apid_sid_free(sid);
                sid = NULL;
        }
        /* The input as a string. */
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (apid_sid_parse(text, &sid) == APID_OK) {
                check_round_trip(sid);
                apid_sid_free(sid);
        } else if (apid_error_message()[0] == '\0') {
                abort(); /* every refusal explains itself */
        }
        free(text);
        return 0;
}
