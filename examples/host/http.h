/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The example host's HTTP/1.1 request parser: a pure function, fuzzed. */
#ifndef APPPOOL_HOST_HTTP_H
#define APPPOOL_HOST_HTTP_H

#include <stddef.h>

#define HTTP_MAX_HEADER 8192
#define HTTP_MAX_PATH 2048

struct http_request {
        int method;             /* HTTP_GET, HTTP_HEAD, HTTP_OTHER */
        /* Decoded, valid UTF-8, starts with '/'; segments are separated by
         * single '/' (an empty segment is allowed only at the end: a
         * directory), none is "." or "..", no byte is '\\', NUL or a control
         * character. So it is always a relative path below a root once the
         * leading '/' is dropped, whatever the encoding the client used. */
        char path[HTTP_MAX_PATH];
        int keep_alive;         /* what the client asked, HTTP/1.1 default on */
        size_t length;          /* bytes of the request (head) consumed */
};

enum { HTTP_GET = 1, HTTP_HEAD = 2, HTTP_OTHER = 3 };

/* Parse one request head at buf. Returns 1 when a whole head was parsed
 * into req, 0 when more bytes are needed, or minus the status to answer
 * before closing the connection:
 *   -400  malformed request line, header or path (see struct http_request),
 *         a Transfer-Encoding, a bad or repeated Content-Length;
 *   -413  a body (Content-Length > 0): this server takes none, and a body
 *         left in the buffer would be read as the next request (smuggling);
 *   -431  a head longer than HTTP_MAX_HEADER.
 * Every negative answer means: the connection must close after the reply. */
int http_parse(const char *buf, size_t len, struct http_request *req);

#endif
