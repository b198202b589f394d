/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Values that are part of the ABI although no symbol carries them: statuses,
 * log levels and limits. They are never renumbered; this file fails to
 * compile if one is. */
#include <apppoolid.h>

_Static_assert(APID_OK == 0, "APID_OK");
_Static_assert(APID_EINVAL == -1, "APID_EINVAL");
_Static_assert(APID_ENOMEM == -2, "APID_ENOMEM");
_Static_assert(APID_ENOTFOUND == -3, "APID_ENOTFOUND");
_Static_assert(APID_EEXISTS == -4, "APID_EEXISTS");
_Static_assert(APID_ECOLLISION == -5, "APID_ECOLLISION");
_Static_assert(APID_EPERM == -6, "APID_EPERM");
_Static_assert(APID_ESYS == -7, "APID_ESYS");
_Static_assert(APID_EUNSUPPORTED == -8, "APID_EUNSUPPORTED");
_Static_assert(APID_ERANGE == -9, "APID_ERANGE");
_Static_assert(APID_ECORRUPT == -10, "APID_ECORRUPT");
_Static_assert(APID_EBUSY == -11, "APID_EBUSY");
_Static_assert(APID_LOG_ERROR == 3 && APID_LOG_WARNING == 4 && APID_LOG_INFO == 6 && APID_LOG_DEBUG == 7,
               "log levels");
_Static_assert(APID_SID_MAX_SUBAUTHORITIES == 15 && APID_SID_MAX_BYTES == 68, "SID limits");
_Static_assert(APID_SID_MAX_STRING == 183, "SID string limit");
_Static_assert(APID_POOL_NAME_MAX == 64 && APID_SERVICE_NAME_MAX == 256, "name limits");
_Static_assert(APID_ACL_MAX_DEPTH == 4096 && APID_ACL_DEFAULT_DEPTH == 256, "ACL walk depths");

int main(void)
{
        /* The longest SID string fits APID_SID_MAX_STRING: S-1-0x + 12 hex + 15 x "-4294967295". */
        return sizeof("S-1-0xFFFFFFFFFFFF") - 1 + 15 * (sizeof("-4294967295") - 1) == APID_SID_MAX_STRING ? 0 : 1;
}
