/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pool-name and service-name rules, comparison and canonical form.
 * docs/names.md gives the source of every rule. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* The IIS configuration validator "applicationPoolName" refuses these. */
static const char pool_forbidden[] = "|<>&\\\"/[]+=;:,?*@";

static int is_unicode_space(uint32_t cp)
{
        return cp == 0x20 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
               cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

static int is_control(uint32_t cp)
{
        return cp < 0x20 || cp == 0x7f;
}

static void describe_char(char *buf, size_t size, uint32_t cp, const unsigned char *bytes, size_t n)
{
        if (cp >= 0x21 && cp < 0x7f)
                snprintf(buf, size, "'%c'", (char)cp);
        else if (cp < 0x80 || n == 0)
                snprintf(buf, size, "U+%04X", (unsigned)cp);
        else
                snprintf(buf, size, "'%.*s' (U+%04X)", (int)n, (const char *)bytes, (unsigned)cp);
}

/* Walk a name once: UTF-8 validity, characters, white space at the ends,
 * and the length in UTF-16 code units. */
static int check_name(const char *name, const char *what, const char *forbidden, size_t max_units)
{
        const unsigned char *s = (const unsigned char *)name;
        size_t len = strlen(name), i = 0, units = 0;
        char q[256], c[64];

/* The name, quoted for a message: only on failure (every lookup by pool
 * name checks it). */
#define QUOTE() apid__quote(q, sizeof(q), name, 128)
        if (len == 0)
                return apid__fail(APID_EINVAL, 0, "%s '': must not be empty", what);
        while (i < len) {
                uint32_t cp;
                size_t n = apid__utf8_decode(s + i, len - i, &cp);

                if (n == 0) {
                        QUOTE();
                        return apid__fail(APID_EINVAL, 0, "%s '%s': not valid UTF-8 at byte %zu", what, q, i);
                }
                if (is_control(cp) || (cp < 0x80 && strchr(forbidden, (int)cp))) {
                        describe_char(c, sizeof(c), cp, s + i, n);
                        QUOTE();
                        return apid__fail(APID_EINVAL, 0, "%s '%s': character %s is not allowed", what, q, c);
                }
                if (is_unicode_space(cp) && (i == 0 || i + n == len)) {
                        describe_char(c, sizeof(c), cp, s + i, n);
                        QUOTE();
                        return apid__fail(APID_EINVAL, 0, "%s '%s': must not %s with white space (%s)", what, q,
                                          i == 0 ? "start" : "end", c);
                }
                units += cp > 0xffff ? 2 : 1;
                i += n;
        }
        if (units > max_units) {
                QUOTE();
                return apid__fail(APID_EINVAL, 0, "%s '%s': %zu characters (UTF-16 code units), at most %zu allowed",
                                  what, q, units, max_units);
        }
        return APID_OK;
#undef QUOTE
}

APID_EXPORT int apid_pool_name_check(const char *name)
{
        if (!name)
                return apid__fail(APID_EINVAL, 0, "pool name: NULL");
        return check_name(name, "pool name", pool_forbidden, APID_POOL_NAME_MAX);
}

int apid__service_name_check(const char *name)
{
        if (!name)
                return apid__fail(APID_EINVAL, 0, "service name: NULL");
        /* CreateService(): "Forward-slash (/) and backslash (\) are not valid
         * service name characters", at most 256 characters. */
        return check_name(name, "service name", "/\\", APID_SERVICE_NAME_MAX);
}

/* The canonical form: every BMP code point folded to upper case (IIS compares
 * configuration keys ordinally, ignoring case). */
static int fold(const char *name, char **out)
{
        const unsigned char *s = (const unsigned char *)name;
        size_t len = strlen(name), i = 0, o = 0;
        char *buf;

        buf = malloc(len * 2 + 1); /* a folded character may need one more UTF-8 byte */
        if (!buf)
                return apid__fail_oom();
        while (i < len) {
                uint32_t cp = 0, mapped;
                size_t n = apid__utf8_decode(s + i, len - i, &cp);

                if (apid__case_map(cp, APID_CASE_UPPER, &mapped) < 0) {
                        char q[256];

                        free(buf);
                        apid__quote(q, sizeof(q), name, 128);
                        return apid__fail(APID_EUNSUPPORTED, 0,
                                          "pool name '%s': comparing non-ASCII names needs the C.UTF-8 locale, "
                                          "which this system lacks", q);
                }
                o += apid__utf8_encode(mapped, buf + o);
                i += n;
        }
        buf[o] = '\0';
        *out = buf;
        return APID_OK;
}

APID_EXPORT int apid_pool_name_canonical(const char *name, char **out)
{
        int r;

        if (!out)
                return apid__fail(APID_EINVAL, 0, "apid_pool_name_canonical: out is NULL");
        r = apid_pool_name_check(name);
        if (r < 0)
                return r;
        return fold(name, out);
}

APID_EXPORT int apid_pool_name_equal(const char *a, const char *b)
{
        _cleanup_free_ char *fa = NULL;
        _cleanup_free_ char *fb = NULL;
        int r;

        r = apid_pool_name_canonical(a, &fa);
        if (r < 0)
                return r;
        r = apid_pool_name_canonical(b, &fb);
        if (r < 0)
                return r;
        return strcmp(fa, fb) == 0;
}

/* A POSIX user or group name as useradd accepts by default: [a-z_][a-z0-9_-]*,
 * at most 32 bytes. Shared with the NSS module, which checks what it reads. */
int apid__posix_name_valid(const char *name)
{
        size_t i, len = strlen(name);

        if (len == 0 || len > 32 || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
                return 0;
        for (i = 1; i < len; i++)
                if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_' ||
                      name[i] == '-'))
                        return 0;
        return 1;
}
