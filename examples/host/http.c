/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HTTP/1.1 request heads: request line, headers, percent-decoded path.
 * Strict on purpose: anything a filesystem or a second parser (a proxy in
 * front) could read differently is refused, not normalised. */
#include <stdint.h>
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

/* Bytes a path may hold raw (RFC 3986 pchar, '/' and UTF-8 bytes, which
 * some clients send unencoded): no space, no '\\', no control, no '"<>^`{|}'. */
static int path_char(unsigned char c)
{
        return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("-._~!$&'()*+,;=:@/%", c));
}

/* Strict UTF-8 (RFC 3629): no overlong form (so no %C0%AE for '.'), no
 * surrogate, nothing above U+10FFFF, and no C0 or C1 control character. */
static int valid_utf8(const unsigned char *s, size_t n)
{
        size_t i = 0;

        while (i < n) {
                unsigned char c = s[i];
                uint32_t cp;
                size_t k, len;

                if (c < 0x80) {
                        if (c < 0x20 || c == 0x7f)
                                return 0;
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        len = 2;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        len = 3;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        len = 4;
                        cp = c & 0x07;
                } else {
                        return 0; /* 0x80..0xc1 (continuation, overlong lead) and 0xf5.. */
                }
                if (i + len > n)
                        return 0;
                for (k = 1; k < len; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return 0;
                        cp = cp << 6 | (s[i + k] & 0x3f);
                }
                if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
                        return 0;
                i += len;
        }
        return 1;
}

/* Decode the target's path (the query is dropped). Origin form only: an
 * absolute-form target ("http://x/etc/passwd") or '*' is refused. */
static int decode_path(const char *s, size_t n, char *out)
{
        size_t i, o = 0;
        const char *seg;

        if (n == 0 || s[0] != '/')
                return -1;
        for (i = 0; i < n && s[i] != '?'; i++) {
                char c = s[i];

                if (!path_char((unsigned char)c))
                        return -1; /* '#', '\\', controls, spaces... raw */
                if (c == '%') {
                        int h, l;

                        if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
                                return -1;
                        c = (char)(h * 16 + l);
                        i += 2;
                        /* An encoded separator would be one for the filesystem
                         * and not for us: refuse %2F and %5C, and NUL. */
                        if (c == '/' || c == '\\' || c == '\0')
                                return -1;
                }
                if (c == '\\' || (unsigned char)c < 0x20 || c == 0x7f)
                        return -1;
                if (o + 1 >= HTTP_MAX_PATH)
                        return -1;
                out[o++] = c;
        }
        out[o] = '\0';
        if (!valid_utf8((const unsigned char *)out, o))
                return -1;
        /* Segments, decoded: none empty ("//etc" would make "/etc" absolute
         * below a root), except the last (a directory's index); none "." or
         * "..", whatever encoding spelled the dots. */
        for (seg = out; seg; seg = strchr(seg + 1, '/')) {
                const char *p = seg + 1;
                size_t len = strcspn(p, "/");

                if (len == 0 && p[0] == '/')
                        return -1;
                if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return -1;
        }
        return 0;
}

static int token_char(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Content-Length: digits only, one value (a list, even "5, 5", is refused). */
static int content_length(const char *v, const char *end, unsigned long long *out)
{
        unsigned long long n = 0;

        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        if (v == end)
                return -1;
        for (; v < end; v++) {
                if (*v < '0' || *v > '9' || n > 1000000000000ULL)
                        return -1;
                n = n * 10 + (unsigned long long)(*v - '0');
        }
        *out = n;
        return 0;
}

int http_parse(const char *buf, size_t len, struct http_request *req)
{
        const char *end = NULL, *line, *eol, *sp1, *sp2;
        unsigned long long length = 0;
        int minor, seen_length = 0;
        size_t i;

        for (i = 0; i + 3 < len && i + 4 <= HTTP_MAX_HEADER; i++)
                if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
                        end = buf + i + 4;
                        break;
                }
        if (!end)
                return len >= HTTP_MAX_HEADER ? -431 : 0;
        memset(req, 0, sizeof(*req));
        req->length = (size_t)(end - buf);
        /* Request line: METHOD SP TARGET SP HTTP/1.x CRLF */
        eol = memchr(buf, '\r', (size_t)(end - buf));
        sp1 = memchr(buf, ' ', (size_t)(eol - buf));
        if (!sp1 || sp1 == buf || eol[1] != '\n')
                return -400;
        for (line = buf; line < sp1; line++)
                if (!token_char(*line))
                        return -400;
        sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
        if (!sp2 || eol - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || (sp2[8] != '0' && sp2[8] != '1'))
                return -400;
        minor = sp2[8] - '0';
        if (sp1 - buf == 3 && memcmp(buf, "GET", 3) == 0)
                req->method = HTTP_GET;
        else if (sp1 - buf == 4 && memcmp(buf, "HEAD", 4) == 0)
                req->method = HTTP_HEAD;
        else
                req->method = HTTP_OTHER;
        if (decode_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), req->path) < 0)
                return -400;
        req->keep_alive = minor == 1;
        /* Headers: NAME ":" VALUE CRLF. No folded line, no control byte in a
         * value; Connection, Content-Length and Transfer-Encoding matter. */
        for (line = eol + 2; line < end - 2; line = eol + 2) {
                const char *colon, *v;

                eol = memchr(line, '\r', (size_t)(end - line));
                if (!eol || eol[1] != '\n')
                        return -400;
                colon = memchr(line, ':', (size_t)(eol - line));
                if (!colon || colon == line)
                        return -400;
                for (i = 0; line + i < colon; i++)
                        if (!token_char(line[i]))
                                return -400;
                for (v = colon + 1; v < eol; v++)
                        if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
                                return -400;
                v = colon + 1;
                while (v < eol && (*v == ' ' || *v == '\t'))
                        v++;
                if (colon - line == 10 && strncasecmp(line, "Connection", 10) == 0) {
                        if ((size_t)(eol - v) >= 5 && strncasecmp(v, "close", 5) == 0)
                                req->keep_alive = 0;
                        else if ((size_t)(eol - v) >= 10 && strncasecmp(v, "keep-alive", 10) == 0)
                                req->keep_alive = 1;
                } else if (colon - line == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
                        if (seen_length++ || content_length(v, eol, &length) < 0)
                                return -400;
                } else if (colon - line == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
                        return -400; /* no body is taken, and chunked + length is the classic smuggle */
                }
        }
        if (length > 0)
                return -413;
        return 1;
}
