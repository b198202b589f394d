/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz the example host's HTTP request parser. Properties: no crash; a parsed
 * request consumed no more than it was given, and its path starts with '/'
 * and has no ".." segment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/host/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct http_request req;
        int r = http_parse((const char *)data, size, &req);

        if (r == 1) {
                const char *seg;

                if (req.length > size || req.path[0] != '/')
                        abort();
                for (seg = req.path; seg; seg = strchr(seg + 1, '/'))
                        if (strncmp(seg, "/..", 3) == 0 && (seg[3] == '/' || seg[3] == '\0'))
                                abort();
        }
        return 0;
}
