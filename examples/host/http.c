/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HTTP/1.1 request heads: request line, headers, percent-decoded path. */
#include <string.h>
#include <strings.h>

#include "http.h"

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

/* Decode the target's path (the query is dropped); refuse NUL, '\\' and "..". */
static int decode_path(const char *s, size_t n, char *out)
{
        size_t i, o = 0;
        const char *seg;

        if (n == 0 || s[0] != '/')
                return -1;
        for (i = 0; i < n && s[i] != '?' && s[i] != '#'; i++) {
                char c = s[i];

                if (c == '%') {
                        int h, l;

                        if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
                                return -1;
                        c = (char)(h * 16 + l);
                        i += 2;
                }
                if (c == '\0' || c == '\\' || (unsigned char)c < 0x20 || c == 0x7f)
                        return -1;
                if (o + 1 >= HTTP_MAX_PATH)
                        return -1;
                out[o++] = c;
        }
        out[o] = '\0';
        /* No segment may be "..": the path stays below the document root
         * (links inside it are for the kernel to allow or deny). */
        for (seg = out; seg; seg = strchr(seg + 1, '/')) {
                const char *p = seg + 1;
                size_t len = strcspn(p, "/");

                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return -1;
        }
        return 0;
}

static int token_char(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

int http_parse(const char *buf, size_t len, struct http_request *req)
{
        const char *end = NULL, *line, *eol, *sp1, *sp2;
        size_t i;
        int minor;

        for (i = 0; i + 3 < len; i++)
                if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
                        end = buf + i + 4;
                        break;
                }
        if (!end)
                return len > HTTP_MAX_HEADER ? -2 : 0;
        if ((size_t)(end - buf) > HTTP_MAX_HEADER)
                return -2;
        memset(req, 0, sizeof(*req));
        req->length = (size_t)(end - buf);
        /* Request line: METHOD SP TARGET SP HTTP/1.x CRLF */
        eol = memchr(buf, '\r', (size_t)(end - buf));
        sp1 = memchr(buf, ' ', (size_t)(eol - buf));
        if (!sp1 || sp1 == buf)
                return -1;
        for (line = buf; line < sp1; line++)
                if (!token_char(*line))
                        return -1;
        sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
        if (!sp2 || eol - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || (sp2[8] != '0' && sp2[8] != '1'))
                return -1;
        minor = sp2[8] - '0';
        if (sp1 - buf == 3 && memcmp(buf, "GET", 3) == 0)
                req->method = HTTP_GET;
        else if (sp1 - buf == 4 && memcmp(buf, "HEAD", 4) == 0)
                req->method = HTTP_HEAD;
        else
                req->method = HTTP_OTHER;
        if (decode_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), req->path) < 0)
                return -1;
        req->keep_alive = minor == 1;
        /* Headers: NAME ":" VALUE CRLF; only Connection matters here. */
        for (line = eol + 2; line < end - 2; line = eol + 2) {
                const char *colon;

                eol = memchr(line, '\r', (size_t)(end - line));
                if (!eol || eol[1] != '\n')
                        return -1;
                colon = memchr(line, ':', (size_t)(eol - line));
                if (!colon || colon == line)
                        return -1;
                for (i = 0; line + i < colon; i++)
                        if (!token_char(line[i]))
                                return -1;
                if (colon - line == 10 && strncasecmp(line, "Connection", 10) == 0) {
                        const char *v = colon + 1;

                        while (v < eol && (*v == ' ' || *v == '\t'))
                                v++;
                        if ((size_t)(eol - v) >= 5 && strncasecmp(v, "close", 5) == 0)
                                req->keep_alive = 0;
                        else if ((size_t)(eol - v) >= 10 && strncasecmp(v, "keep-alive", 10) == 0)
                                req->keep_alive = 1;
                }
        }
        return 1;
}
