/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SIDs: the MS-DTYP 2.4.2 layout, its string form (2.4.2.1), and the SIDs
 * Windows derives from pool and service names. */
#include <stdio.h>
#include <string.h>

#include <nettle/sha1.h>

#include "internal.h"

struct apid_sid {
        uint64_t authority; /* 48 bits */
        uint8_t count;
        uint32_t sub[APID_SID_MAX_SUBAUTHORITIES];
};

#define AUTHORITY_MAX ((UINT64_C(1) << 48) - 1)
#define SECURITY_NT_AUTHORITY 5
#define SECURITY_SERVICE_ID_BASE_RID 80
#define SECURITY_APPPOOL_ID_BASE_RID 82

static int sid_new(uint64_t authority, const uint32_t *sub, uint32_t count, apid_sid **out)
{
        apid_sid *sid = calloc(1, sizeof(*sid));

        if (!sid)
                return apid__fail_oom();
        sid->authority = authority;
        sid->count = (uint8_t)count;
        if (count)
                memcpy(sid->sub, sub, count * sizeof(uint32_t));
        *out = sid;
        return APID_OK;
}

APID_EXPORT int apid_sid_from_parts(uint64_t authority, const uint32_t *subauthorities, uint32_t count,
                                    apid_sid **out)
{
        if (!out || (count > 0 && !subauthorities))
                return apid__fail(APID_EINVAL, 0, "apid_sid_from_parts: NULL argument");
        if (authority > AUTHORITY_MAX)
                return apid__fail(APID_EINVAL, 0, "SID authority %llu: above the 48-bit maximum %llu",
                                  (unsigned long long)authority, (unsigned long long)AUTHORITY_MAX);
        if (count > APID_SID_MAX_SUBAUTHORITIES)
                return apid__fail(APID_EINVAL, 0, "SID with %u sub-authorities: at most %d allowed", count,
                                  APID_SID_MAX_SUBAUTHORITIES);
        return sid_new(authority, subauthorities, count, out);
}

/* Parse an unsigned decimal with no sign, no leading zero, at most max. */
static const char *parse_decimal(const char *p, uint64_t max, uint64_t *value)
{
        uint64_t v = 0;

        if (*p < '0' || *p > '9')
                return NULL;
        if (*p == '0' && p[1] >= '0' && p[1] <= '9')
                return NULL; /* MS-DTYP 2.4.2.1: no leading "0" */
        while (*p >= '0' && *p <= '9') {
                v = v * 10 + (uint64_t)(*p - '0');
                if (v > max)
                        return NULL;
                p++;
        }
        *value = v;
        return p;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

APID_EXPORT int apid_sid_parse(const char *text, apid_sid **out)
{
        uint32_t sub[APID_SID_MAX_SUBAUTHORITIES];
        uint64_t authority = 0, v;
        uint32_t count = 0;
        const char *p, *q;
        char quoted[256];

        if (!text || !out)
                return apid__fail(APID_EINVAL, 0, "apid_sid_parse: NULL argument");
        apid__quote(quoted, sizeof(quoted), text, 200);
        p = text;
        if ((p[0] != 'S' && p[0] != 's') || p[1] != '-' || p[2] != '1' || p[3] != '-')
                return apid__fail(APID_EINVAL, 0, "SID '%s': must start with 'S-1-'", quoted);
        p += 4;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
                int i;

                for (i = 0; i < 12; i++) {
                        int h = hexval(p[2 + i]);

                        if (h < 0)
                                return apid__fail(APID_EINVAL, 0,
                                                  "SID '%s': a hexadecimal authority needs 12 digits after '0x' "
                                                  "(position %td)", quoted, (p + 2 + i) - text + 1);
                        authority = (authority << 4) | (uint64_t)h;
                }
                p += 14;
        } else {
                q = parse_decimal(p, UINT32_MAX, &authority);
                if (!q)
                        return apid__fail(APID_EINVAL, 0,
                                          "SID '%s': the authority at position %td must be a decimal number below "
                                          "2^32 without leading zeros, or 0x and 12 hexadecimal digits",
                                          quoted, p - text + 1);
                p = q;
        }
        while (*p == '-') {
                if (count == APID_SID_MAX_SUBAUTHORITIES)
                        return apid__fail(APID_EINVAL, 0, "SID '%s': more than %d sub-authorities", quoted,
                                          APID_SID_MAX_SUBAUTHORITIES);
                q = parse_decimal(p + 1, UINT32_MAX, &v);
                if (!q)
                        return apid__fail(APID_EINVAL, 0,
                                          "SID '%s': the sub-authority at position %td must be a decimal number "
                                          "below 2^32 without leading zeros", quoted, p - text + 2);
                sub[count++] = (uint32_t)v;
                p = q;
        }
        if (*p != '\0')
                return apid__fail(APID_EINVAL, 0, "SID '%s': unexpected character at position %td", quoted,
                                  p - text + 1);
        return sid_new(authority, sub, count, out);
}

APID_EXPORT int apid_sid_from_bytes(const void *data, size_t size, apid_sid **out)
{
        const uint8_t *b = data;
        uint32_t sub[APID_SID_MAX_SUBAUTHORITIES];
        uint64_t authority = 0;
        uint32_t i, count;

        if (!data || !out)
                return apid__fail(APID_EINVAL, 0, "apid_sid_from_bytes: NULL argument");
        if (size < 8)
                return apid__fail(APID_EINVAL, 0, "binary SID of %zu bytes: at least 8 needed", size);
        if (b[0] != 1)
                return apid__fail(APID_EINVAL, 0, "binary SID: revision %u, only revision 1 exists", b[0]);
        count = b[1];
        if (count > APID_SID_MAX_SUBAUTHORITIES)
                return apid__fail(APID_EINVAL, 0, "binary SID: %u sub-authorities, at most %d allowed", count,
                                  APID_SID_MAX_SUBAUTHORITIES);
        if (size != 8 + 4 * (size_t)count)
                return apid__fail(APID_EINVAL, 0, "binary SID: %zu bytes, but %u sub-authorities need %u", size,
                                  count, 8 + 4 * count);
        for (i = 0; i < 6; i++)
                authority = (authority << 8) | b[2 + i];
        for (i = 0; i < count; i++) {
                const uint8_t *s = b + 8 + 4 * i;

                sub[i] = (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
        }
        return sid_new(authority, sub, count, out);
}

APID_EXPORT int apid_sid_dup(const apid_sid *sid, apid_sid **out)
{
        if (!sid || !out)
                return apid__fail(APID_EINVAL, 0, "apid_sid_dup: NULL argument");
        return sid_new(sid->authority, sid->sub, sid->count, out);
}

APID_EXPORT void apid_sid_free(apid_sid *sid)
{
        free(sid);
}

/* "-%u" of v at buf + o, without snprintf: a SID's text is made on every
 * lookup by SID (seven snprintf calls cost more than the lookup). */
static size_t put_dash_u32(char *buf, size_t o, uint32_t v)
{
        char digits[10];
        size_t n = 0;

        do
                digits[n++] = (char)('0' + v % 10);
        while ((v /= 10) != 0);
        buf[o++] = '-';
        while (n)
                buf[o++] = digits[--n];
        buf[o] = '\0';
        return o;
}

APID_EXPORT int apid_sid_to_string(const apid_sid *sid, char **out)
{
        char buf[APID_SID_MAX_STRING + 1];
        size_t o;
        uint32_t i;
        char *s;

        if (!sid || !out)
                return apid__fail(APID_EINVAL, 0, "apid_sid_to_string: NULL argument");
        if (sid->authority <= UINT32_MAX)
                o = put_dash_u32(memcpy(buf, "S-1", 3), 3, (uint32_t)sid->authority);
        else
                o = (size_t)snprintf(buf, sizeof(buf), "S-1-0x%012llX", (unsigned long long)sid->authority);
        for (i = 0; i < sid->count; i++)
                o = put_dash_u32(buf, o, sid->sub[i]);
        s = strdup(buf);
        if (!s)
                return apid__fail_oom();
        *out = s;
        return APID_OK;
}

APID_EXPORT uint32_t apid_sid_byte_size(const apid_sid *sid)
{
        return sid ? 8u + 4u * sid->count : 0;
}

APID_EXPORT int apid_sid_to_bytes(const apid_sid *sid, void *buf, size_t size, size_t *out_written)
{
        uint8_t *b = buf;
        size_t need;
        uint32_t i;

        if (!sid || !buf)
                return apid__fail(APID_EINVAL, 0, "apid_sid_to_bytes: NULL argument");
        need = apid_sid_byte_size(sid);
        if (size < need)
                return apid__fail(APID_ERANGE, 0, "binary SID needs %zu bytes, the buffer has %zu", need, size);
        b[0] = 1;
        b[1] = sid->count;
        for (i = 0; i < 6; i++)
                b[2 + i] = (uint8_t)(sid->authority >> (8 * (5 - i)));
        for (i = 0; i < sid->count; i++) {
                uint8_t *s = b + 8 + 4 * i;

                s[0] = (uint8_t)sid->sub[i];
                s[1] = (uint8_t)(sid->sub[i] >> 8);
                s[2] = (uint8_t)(sid->sub[i] >> 16);
                s[3] = (uint8_t)(sid->sub[i] >> 24);
        }
        if (out_written)
                *out_written = need;
        return APID_OK;
}

APID_EXPORT uint64_t apid_sid_authority(const apid_sid *sid)
{
        return sid ? sid->authority : 0;
}

APID_EXPORT uint32_t apid_sid_subauthority_count(const apid_sid *sid)
{
        return sid ? sid->count : 0;
}

APID_EXPORT int apid_sid_get_subauthority(const apid_sid *sid, uint32_t index, uint32_t *out)
{
        if (!sid || !out)
                return apid__fail(APID_EINVAL, 0, "apid_sid_get_subauthority: NULL argument");
        if (index >= sid->count)
                return apid__fail(APID_ERANGE, 0, "sub-authority %u: the SID has %u", index, sid->count);
        *out = sid->sub[index];
        return APID_OK;
}

APID_EXPORT int apid_sid_compare(const apid_sid *a, const apid_sid *b)
{
        uint32_t i, n;

        if (!a || !b)
                return (a != NULL) - (b != NULL);
        if (a->authority != b->authority)
                return a->authority < b->authority ? -1 : 1;
        n = a->count < b->count ? a->count : b->count;
        for (i = 0; i < n; i++)
                if (a->sub[i] != b->sub[i])
                        return a->sub[i] < b->sub[i] ? -1 : 1;
        return (a->count > b->count) - (a->count < b->count);
}

APID_EXPORT int apid_sid_equal(const apid_sid *a, const apid_sid *b)
{
        return a && b && apid_sid_compare(a, b) == 0;
}

/* S-1-5-<base>-h0-h1-h2-h3-h4: SHA-1 of the case-mapped UTF-16LE name, read as
 * five little-endian words (MS-LSAT 3.1.1.1.2). */
static int hashed_sid(const char *name, enum apid_case mode, uint32_t base, const char *what, apid_sid **out)
{
        _cleanup_free_ unsigned char *utf16 = NULL;
        uint8_t digest[SHA1_DIGEST_SIZE];
        uint32_t sub[6];
        struct sha1_ctx sha;
        size_t size;
        int i, r;

        r = apid__utf16le(name, mode, &utf16, &size, what);
        if (r < 0)
                return r;
        sha1_init(&sha);
        sha1_update(&sha, size, utf16);
        sha1_digest(&sha, sizeof(digest), digest);
        sub[0] = base;
        for (i = 0; i < 5; i++) {
                const uint8_t *d = digest + 4 * i;

                sub[1 + i] = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
        }
        return sid_new(SECURITY_NT_AUTHORITY, sub, 6, out);
}

APID_EXPORT int apid_sid_for_pool(const char *pool_name, apid_sid **out)
{
        int r;

        if (!out)
                return apid__fail(APID_EINVAL, 0, "apid_sid_for_pool: out is NULL");
        r = apid_pool_name_check(pool_name);
        if (r < 0)
                return r;
        return hashed_sid(pool_name, APID_CASE_LOWER, SECURITY_APPPOOL_ID_BASE_RID, "pool name", out);
}

APID_EXPORT int apid_sid_for_service(const char *service_name, apid_sid **out)
{
        int r;

        if (!out)
                return apid__fail(APID_EINVAL, 0, "apid_sid_for_service: out is NULL");
        r = apid__service_name_check(service_name);
        if (r < 0)
                return r;
        return hashed_sid(service_name, APID_CASE_UPPER, SECURITY_SERVICE_ID_BASE_RID, "service name", out);
}

static int is_hashed(const apid_sid *sid, uint32_t base)
{
        return sid && sid->authority == SECURITY_NT_AUTHORITY && sid->count == 6 && sid->sub[0] == base;
}

APID_EXPORT int apid_sid_is_pool(const apid_sid *sid)
{
        return is_hashed(sid, SECURITY_APPPOOL_ID_BASE_RID);
}

APID_EXPORT int apid_sid_is_service(const apid_sid *sid)
{
        return is_hashed(sid, SECURITY_SERVICE_ID_BASE_RID);
}
