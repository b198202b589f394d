/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Run-time version of the library. */
#include "internal.h"

APID_EXPORT const char *apid_version(void)
{
        return APID_VERSION;
}

APID_EXPORT uint32_t apid_version_number(void)
{
        return APID_VERSION_NUMBER;
}

APID_EXPORT int apid_version_at_least(uint32_t major, uint32_t minor, uint32_t patch)
{
        uint64_t want = (uint64_t)major * 10000 + (uint64_t)minor * 100 + patch;

        if (minor > 99 || patch > 99)
                return 0;
        return want <= APID_VERSION_NUMBER;
}
