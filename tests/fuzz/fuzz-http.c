/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz the example host's HTTP request parser. Properties: no crash; the
 * answer is 1, 0 or one of -400, -413, -431; a parsed request consumed no
 * more than it was given (and at most HTTP_MAX_HEADER), and its path is
 * safe to open below a root: it starts with '/', has no empty segment but
 * a final one, no "." or ".." segment, no '\\', no control byte, and is
 * valid UTF-8 without overlong forms (checked here independently). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/host/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int utf8_ok(const unsigned char *s)
{
        while (*s) {
                size_t n = *s < 0x80 ? 1 : (*s & 0xe0) == 0xc0 ? 2 : (*s & 0xf0) == 0xe0 ? 3 : (*s & 0xf8) == 0xf0 ? 4 : 0;
                uint32_t cp;
                size_t i;

                if (n == 0)
                        return 0;
                cp = n == 1 ? *s : (uint32_t)(*s & (0x7f >> n));
                for (i = 1; i < n; i++) {
                        if ((s[i] & 0xc0) != 0x80)
                                return 0;
                        cp = cp << 6 | (s[i] & 0x3f);
                }
                if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return 0;
                s += n;
        }
        return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct http_request req;
        int r = http_parse((const char *)data, size, &req);

        if (r != 1 && r != 0 && r != -400 && r != -413 && r != -431)
                abort();
        if (r == 1) {
                const char *seg, *p = req.path;

                if (req.length > size || req.length > HTTP_MAX_HEADER || req.path[0] != '/')
                        abort();
                for (; *p; p++)
                        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
                                abort();
                for (seg = req.path; seg; seg = strchr(seg + 1, '/')) {
                        size_t len = strcspn(seg + 1, "/");

                        if (len == 0 && seg[1] == '/')
                                abort(); /* an empty segment before another */
                        if ((len == 1 && seg[1] == '.') || (len == 2 && seg[1] == '.' && seg[2] == '.'))
                                abort();
                }
                if (!utf8_ok((const unsigned char *)req.path))
                        abort();
        }
        return 0;
}
