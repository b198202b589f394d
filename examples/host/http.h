/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The example host's HTTP/1.1 request parser: a pure function, fuzzed. */
#ifndef APPPOOL_HOST_HTTP_H
#define APPPOOL_HOST_HTTP_H

#include <stddef.h>

#define HTTP_MAX_HEADER 8192
#define HTTP_MAX_PATH 2048

struct http_request {
        int method;             /* HTTP_GET, HTTP_HEAD, HTTP_OTHER */
        char path[HTTP_MAX_PATH]; /* decoded, starts with '/', no ".." segment, no NUL */
        int keep_alive;         /* what the client asked, HTTP/1.1 default on */
        size_t length;          /* bytes of the request (head) consumed */
};

enum { HTTP_GET = 1, HTTP_HEAD = 2, HTTP_OTHER = 3 };

/* Parse one request head at buf. Returns 1 when a whole head was parsed
 * into req, 0 when more bytes are needed, -1 for a malformed request
 * (answer 400), -2 for a head longer than HTTP_MAX_HEADER (answer 431). */
int http_parse(const char *buf, size_t len, struct http_request *req);

#endif
