/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* UTF-8 decoding and encoding, UTF-16LE conversion, and the per-code-unit
 * case mappings that Windows applies to names before hashing or comparing. */
#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>

#include "internal.h"

size_t apid__utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
        uint32_t c;
        size_t n, i;

        if (len == 0)
                return 0;
        if (s[0] < 0x80) {
                *cp = s[0];
                return 1;
        } else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                c = s[0] & 0x1f;
                n = 2;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                c = s[0] & 0x0f;
                n = 3;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                c = s[0] & 0x07;
                n = 4;
        } else {
                return 0; /* continuation byte, overlong lead 0xc0/0xc1, or > U+10FFFF */
        }
        if (len < n)
                return 0;
        for (i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)))
                return 0; /* overlong or out of range */
        if (c >= 0xd800 && c <= 0xdfff)
                return 0; /* UTF-16 surrogates are not characters */
        *cp = c;
        return n;
}

size_t apid__utf8_encode(uint32_t cp, char *out)
{
        unsigned char *o = (unsigned char *)out;

        if (cp < 0x80) {
                o[0] = (unsigned char)cp;
                return 1;
        } else if (cp < 0x800) {
                o[0] = (unsigned char)(0xc0 | (cp >> 6));
                o[1] = (unsigned char)(0x80 | (cp & 0x3f));
                return 2;
        } else if (cp < 0x10000) {
                o[0] = (unsigned char)(0xe0 | (cp >> 12));
                o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
                o[2] = (unsigned char)(0x80 | (cp & 0x3f));
                return 3;
        }
        o[0] = (unsigned char)(0xf0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (unsigned char)(0x80 | (cp & 0x3f));
        return 4;
}

/* glibc's C.UTF-8 locale carries the Unicode simple case mappings and, unlike
 * the process locale, does not depend on what the program set with setlocale(). */
static locale_t unicode_locale;
static pthread_once_t unicode_once = PTHREAD_ONCE_INIT;

static void unicode_locale_init(void)
{
        unicode_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

int apid__case_map(uint32_t cp, enum apid_case mode, uint32_t *out)
{
        wint_t m;

        if (mode == APID_CASE_KEEP || cp > 0xffff) {
                /* Windows maps UTF-16 code units one at a time, so characters
                 * outside the BMP (surrogate pairs) keep their case. */
                *out = cp;
                return 0;
        }
        if (cp < 0x80) {
                if (mode == APID_CASE_LOWER && cp >= 'A' && cp <= 'Z')
                        cp += 'a' - 'A';
                else if (mode == APID_CASE_UPPER && cp >= 'a' && cp <= 'z')
                        cp -= 'a' - 'A';
                *out = cp;
                return 0;
        }
        pthread_once(&unicode_once, unicode_locale_init);
        if (unicode_locale == (locale_t)0)
                return -1;
        m = mode == APID_CASE_LOWER ? towlower_l((wint_t)cp, unicode_locale)
                                    : towupper_l((wint_t)cp, unicode_locale);
        /* A simple mapping never leaves the BMP for a BMP character; keep the
         * character if it ever would, since one UTF-16 unit must map to one. */
        *out = (m > 0xffff || (m >= 0xd800 && m <= 0xdfff)) ? cp : (uint32_t)m;
        return 0;
}

int apid__utf16le(const char *utf8, enum apid_case mode, unsigned char **out, size_t *out_size,
                  const char *what)
{
        const unsigned char *s = (const unsigned char *)utf8;
        size_t len = strlen(utf8), i = 0, o = 0;
        unsigned char *buf;

        /* Every UTF-8 byte yields at most one UTF-16 code unit (4 bytes -> 2 units). */
        buf = malloc(len * 2 + 1);
        if (!buf)
                return apid__fail_oom();
        while (i < len) {
                uint32_t cp, mapped;
                size_t n = apid__utf8_decode(s + i, len - i, &cp);
                char q[256];

                if (n == 0 || apid__case_map(cp, mode, &mapped) < 0) {
                        free(buf);
                        apid__quote(q, sizeof(q), utf8, 128);
                        if (n == 0)
                                return apid__fail(APID_EINVAL, 0, "%s '%s': not valid UTF-8 at byte %zu", what, q, i);
                        return apid__fail(APID_EUNSUPPORTED, 0,
                                          "%s '%s': changing the case of non-ASCII characters needs the C.UTF-8 locale, "
                                          "which this system lacks", what, q);
                }
                if (mapped < 0x10000) {
                        buf[o++] = (unsigned char)(mapped & 0xff);
                        buf[o++] = (unsigned char)(mapped >> 8);
                } else {
                        uint32_t v = mapped - 0x10000;
                        uint32_t hi = 0xd800 | (v >> 10), lo = 0xdc00 | (v & 0x3ff);

                        buf[o++] = (unsigned char)(hi & 0xff);
                        buf[o++] = (unsigned char)(hi >> 8);
                        buf[o++] = (unsigned char)(lo & 0xff);
                        buf[o++] = (unsigned char)(lo >> 8);
                }
                i += n;
        }
        *out = buf;
        *out_size = o;
        return APID_OK;
}
