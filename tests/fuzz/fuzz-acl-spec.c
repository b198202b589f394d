/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz the icacls spec parser. Properties: no crash, no leak, and every
 * refusal explains itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apppoolid.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *spec = malloc(size + 1);

        if (!spec)
                return 0;
        memcpy(spec, data, size);
        spec[size] = '\0';
        if (apid_acl_spec_check(spec) != APID_OK && apid_error_message()[0] == '\0')
                abort();
        free(spec);
        return 0;
}
