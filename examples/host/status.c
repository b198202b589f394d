/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The example host's status page (see status.h): plain HTML and CSS, no
 * script (the page's Content-Security-Policy forbids any), readable on a
 * phone (a viewport and a table that becomes one card per worker on a narrow
 * screen), and /status.json. Every value is escaped: a pool name may hold
 * ' { } $ ~ and any Unicode letter, a site name anything the INI file holds;
 * bytes that are not UTF-8 become U+FFFD. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "status.h"

#define ADMIN_CONNS 16
#define ADMIN_HEAD 2048
#define ADMIN_TIMEOUT_MS 5000

struct buf {
        char *data;
        size_t len, cap;
        int oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
        if (b->oom)
                return;
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                char *d;

                while (b->len + n + 1 > cap)
                        cap *= 2;
                d = realloc(b->data, cap);
                if (!d) {
                        b->oom = 1;
                        return;
                }
                b->data = d;
                b->cap = cap;
        }
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
}

static void add(struct buf *b, const char *s)
{
        put(b, s, strlen(s));
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct buf *b, const char *fmt, ...)
{
        char tmp[512];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        if (n > 0)
                put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* The length of the valid UTF-8 sequence at s (no overlong form, no
 * surrogate, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
        unsigned c = s[0];
        size_t n, i;
        unsigned cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                n = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                n = 4, cp = c & 0x07;
        else
                return 0;
        for (i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

static void html(struct buf *b, const char *s)
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");

        while (*p) {
                size_t n = utf8_len(p);

                if (n == 0) {
                        put(b, "\xef\xbf\xbd", 3);
                        p++;
                        continue;
                }
                switch (*p) {
                case '&': put(b, "&amp;", 5); break;
                case '<': put(b, "&lt;", 4); break;
                case '>': put(b, "&gt;", 4); break;
                case '"': put(b, "&quot;", 6); break;
                case '\'': put(b, "&#39;", 5); break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                put(b, "\xef\xbf\xbd", 3); /* no control byte in the page */
                        else
                                put(b, (const char *)p, n);
                }
                p += n;
        }
}

/* A JSON string, quotes included; < > & as \u escapes too, so the text is
 * safe wherever it is pasted. */
static void json(struct buf *b, const char *s)
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");

        put(b, "\"", 1);
        while (*p) {
                size_t n = utf8_len(p);

                if (n == 0) {
                        put(b, "\\ufffd", 6);
                        p++;
                        continue;
                }
                if (*p == '"' || *p == '\\')
                        putf(b, "\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '&')
                        putf(b, "\\u%04x", *p);
                else
                        put(b, (const char *)p, n);
                p += n;
        }
        put(b, "\"", 1);
}

static void iso_time(char *out, size_t size, long long t)
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(out, size, "?");
}

static void duration(char *out, size_t size, long long s)
{
        if (s >= 86400)
                snprintf(out, size, "%lldd %lldh", s / 86400, s % 86400 / 3600);
        else if (s >= 3600)
                snprintf(out, size, "%lldh %lldm", s / 3600, s % 3600 / 60);
        else if (s >= 60)
                snprintf(out, size, "%lldm %llds", s / 60, s % 60);
        else
                snprintf(out, size, "%llds", s);
}

static void kb(char *out, size_t size, long long v)
{
        if (v < 0)
                snprintf(out, size, "?");
        else if (v >= 10240)
                snprintf(out, size, "%lld MB", v / 1024);
        else
                snprintf(out, size, "%lld KB", v);
}

static const char style[] =
        "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;padding:1rem;"
        "color:#1f2328;background:#f6f8fa}"
        "h1{font-size:1.35rem;margin:0 0 .25rem}p.meta{margin:0 0 1rem;color:#59636e}"
        "section{background:#fff;border:1px solid #d1d9e0;border-radius:8px;padding:.8rem 1rem;margin:0 0 1rem;"
        "max-width:70rem}"
        "h2{font-size:1.1rem;margin:0 0 .5rem;overflow-wrap:anywhere}"
        "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .9rem;margin:0 0 .8rem}"
        "dt{color:#59636e}dd{margin:0;overflow-wrap:anywhere}"
        ".running{color:#1a7f37;font-weight:600}.idle{color:#9a6700;font-weight:600}"
        ".stopped{color:#d1242f;font-weight:600}"
        "table{border-collapse:collapse;width:100%}"
        "th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #d1d9e0}"
        "th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}"
        "@media (max-width:40rem){dl{grid-template-columns:1fr}dd{margin:0 0 .3rem}"
        "thead{display:none}table,tbody,tr,td{display:block;width:100%;box-sizing:border-box}"
        "tr{border:1px solid #d1d9e0;border-radius:6px;margin:0 0 .5rem}"
        "td,td.n{border:0;text-align:right;padding:.2rem .6rem}"
        "td::before{content:attr(data-label);float:left;color:#59636e;padding-right:1rem}}";

char *status_html(const struct status_snapshot *s, size_t *len)
{
        struct buf b = { 0 };
        char t[64];
        int p, i;

        iso_time(t, sizeof(t), s->now);
        add(&b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<title>apppool-host status</title>\n<style>");
        put(&b, style, sizeof(style) - 1);
        putf(&b, "</style>\n</head>\n<body>\n<h1>apppool-host</h1>\n<p class=\"meta\">host pid %d &middot; %d "
                 "pool%s &middot; as of <time>%s</time> &middot; <a href=\"status.json\">status.json</a></p>\n",
             s->host_pid, s->n_pools, s->n_pools == 1 ? "" : "s", t);
        for (p = 0; p < s->n_pools; p++) {
                const struct status_pool *pool = &s->pools[p];

                putf(&b, "<section class=\"pool\" id=\"pool-%d\">\n<h2>", p);
                html(&b, pool->name);
                add(&b, "</h2>\n<dl>\n<dt>State</dt><dd class=\"state ");
                html(&b, pool->state);
                put(&b, "\">", 2);
                html(&b, pool->state);
                if (pool->stop_why) {
                        add(&b, "</dd>\n<dt>Stopped by</dt><dd class=\"stop-why\">");
                        html(&b, pool->stop_why);
                }
                add(&b, "</dd>\n<dt>Account</dt><dd class=\"account\">");
                html(&b, pool->account);
                add(&b, "</dd>\n<dt>SID</dt><dd class=\"sid\">");
                html(&b, pool->sid);
                putf(&b, "</dd>\n<dt>uid</dt><dd class=\"uid\">%u</dd>\n<dt>Start mode</dt><dd>", pool->uid);
                html(&b, pool->start_mode);
                putf(&b, "</dd>\n<dt>Restarts</dt><dd class=\"restarts\">%d</dd>\n"
                         "<dt>Rapid-fail protection</dt><dd class=\"rapid-fail\">",
                     pool->restarts);
                if (pool->tripped)
                        putf(&b, "tripped: %d failures in %d s, pool stopped", pool->failures, pool->interval);
                else
                        putf(&b, "%d of %d failures in %d s", pool->failures, pool->max_failures, pool->interval);
                putf(&b, "</dd>\n<dt>Recycles</dt><dd class=\"recycles\">%d</dd>\n<dt>Last recycle</dt>"
                         "<dd class=\"last-recycle\">",
                     pool->recycles);
                if (pool->last_recycle) {
                        iso_time(t, sizeof(t), pool->last_recycle);
                        putf(&b, "<time>%s</time>: ", t);
                        html(&b, pool->last_why);
                } else {
                        put(&b, "never", 5);
                }
                add(&b, "</dd>\n</dl>\n");
                if (!pool->n_workers) {
                        add(&b, "<p class=\"no-workers\">No worker.</p>\n");
                        add(&b, "</section>\n");
                        continue;
                }
                add(&b, "<table>\n<thead><tr><th>PID</th><th>Site</th><th>State</th><th>Uptime</th><th>Requests</th>"
                        "<th>Private memory</th><th>Virtual memory</th></tr></thead>\n<tbody>\n");
                for (i = 0; i < pool->n_workers; i++) {
                        const struct status_worker *w = &pool->workers[i];
                        char up[32], pm[32], vm[32];

                        duration(up, sizeof(up), w->uptime);
                        kb(pm, sizeof(pm), w->private_kb);
                        kb(vm, sizeof(vm), w->virtual_kb);
                        putf(&b, "<tr class=\"worker\"><td class=\"pid n\" data-label=\"PID\">%d</td>"
                                 "<td data-label=\"Site\">", w->pid);
                        html(&b, w->site);
                        add(&b, "</td><td data-label=\"State\">");
                        html(&b, w->state);
                        putf(&b, "</td><td class=\"n\" data-label=\"Uptime\">%s</td><td class=\"n\" data-label=\"Requests\">"
                                 "%llu</td><td class=\"n\" data-label=\"Private memory\">%s</td>"
                                 "<td class=\"n\" data-label=\"Virtual memory\">%s</td></tr>\n",
                             up, w->requests, pm, vm);
                }
                add(&b, "</tbody>\n</table>\n</section>\n");
        }
        add(&b, "</body>\n</html>\n");
        if (b.oom) {
                free(b.data);
                return NULL;
        }
        *len = b.len;
        return b.data;
}

char *status_json(const struct status_snapshot *s, size_t *len)
{
        struct buf b = { 0 };
        char t[64];
        int p, i;

        iso_time(t, sizeof(t), s->now);
        putf(&b, "{\"host_pid\": %d, \"time\": \"%s\", \"pools\": [", s->host_pid, t);
        for (p = 0; p < s->n_pools; p++) {
                const struct status_pool *pool = &s->pools[p];

                add(&b, p ? ",\n {\"name\": " : "\n {\"name\": ");
                json(&b, pool->name);
                add(&b, ", \"account\": ");
                json(&b, pool->account);
                add(&b, ", \"sid\": ");
                json(&b, pool->sid);
                putf(&b, ", \"uid\": %u, \"state\": ", pool->uid);
                json(&b, pool->state);
                add(&b, ", \"stopped_by\": ");
                if (pool->stop_why)
                        json(&b, pool->stop_why);
                else
                        add(&b, "null");
                add(&b, ", \"start_mode\": ");
                json(&b, pool->start_mode);
                putf(&b, ", \"restarts\": %d, \"recycles\": %d, \"rapid_fail\": {\"failures\": %d, \"max_failures\": %d, "
                         "\"interval\": %d, \"tripped\": %s}, \"last_recycle\": ",
                     pool->restarts, pool->recycles, pool->failures, pool->max_failures, pool->interval,
                     pool->tripped ? "true" : "false");
                if (pool->last_recycle) {
                        iso_time(t, sizeof(t), pool->last_recycle);
                        putf(&b, "{\"time\": \"%s\", \"reason\": ", t);
                        json(&b, pool->last_why);
                        add(&b, "}");
                } else {
                        add(&b, "null");
                }
                add(&b, ", \"workers\": [");
                for (i = 0; i < pool->n_workers; i++) {
                        const struct status_worker *w = &pool->workers[i];

                        putf(&b, "%s{\"pid\": %d, \"site\": ", i ? ", " : "", w->pid);
                        json(&b, w->site);
                        add(&b, ", \"state\": ");
                        json(&b, w->state);
                        putf(&b, ", \"uptime\": %lld, \"requests\": %llu, \"private_kb\": ", w->uptime, w->requests);
                        putf(&b, w->private_kb < 0 ? "null" : "%lld", w->private_kb);
                        add(&b, ", \"virtual_kb\": ");
                        putf(&b, w->virtual_kb < 0 ? "null" : "%lld", w->virtual_kb);
                        add(&b, "}");
                }
                add(&b, "]}");
        }
        add(&b, "\n]}\n");
        if (b.oom) {
                free(b.data);
                return NULL;
        }
        *len = b.len;
        return b.data;
}

/* The admin listener: one request per connection, answered and closed. */
struct admin_conn {
        int fd;                 /* -1: a free slot */
        char in[ADMIN_HEAD + 1];
        size_t in_len;
        char *out;
        size_t out_len, out_off;
        long long opened;       /* ms */
};

struct status_server {
        int listen_fd, epfd;
        struct admin_conn conns[ADMIN_CONNS];
};

static long long mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct status_server *status_open(const char *address, int port, int *epoll_fd)
{
        struct status_server *srv = calloc(1, sizeof(*srv));
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        int one = 1, i, e;

        if (!srv)
                return NULL;
        srv->listen_fd = srv->epfd = -1;
        for (i = 0; i < ADMIN_CONNS; i++)
                srv->conns[i].fd = -1;
        /* Loopback only: the configuration refuses anything else, and so does this. */
        if (inet_pton(AF_INET, address, &a.sin_addr) != 1 || (ntohl(a.sin_addr.s_addr) >> 24) != 127) {
                free(srv);
                errno = EADDRNOTAVAIL;
                return NULL;
        }
        srv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        srv->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (srv->listen_fd < 0 || srv->epfd < 0 ||
            setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(srv->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(srv->listen_fd, 64) < 0 ||
            epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->listen_fd, &ev) < 0) {
                e = errno;
                status_close(srv);
                errno = e;
                return NULL;
        }
        *epoll_fd = srv->epfd;
        return srv;
}

static void admin_drop(struct status_server *srv, struct admin_conn *c)
{
        (void)srv;
        close(c->fd); /* also leaves the epoll set */
        free(c->out);
        c->fd = -1;
        c->out = NULL;
        c->in_len = c->out_len = c->out_off = 0;
}

static void admin_answer(struct admin_conn *c, void (*fill)(struct status_snapshot *),
                         void (*release)(struct status_snapshot *))
{
        struct status_snapshot snap;
        char method[8], target[256], head[512];
        const char *type = "text/plain; charset=utf-8", *code = "200 OK";
        char *body = NULL;
        size_t body_len = 0;
        int n, head_only = 0;

        if (sscanf(c->in, "%7s %255s HTTP/1.%*1[01]", method, target) != 2) {
                code = "400 Bad Request";
        } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
                code = "405 Method Not Allowed";
        } else {
                head_only = method[0] == 'H';
                target[strcspn(target, "?#")] = '\0';
                if (strcmp(target, "/") == 0 || strcmp(target, "/index.html") == 0 ||
                    strcmp(target, "/status.json") == 0) {
                        fill(&snap);
                        if (target[1] == 's') {
                                body = status_json(&snap, &body_len);
                                type = "application/json";
                        } else {
                                body = status_html(&snap, &body_len);
                                type = "text/html; charset=utf-8";
                        }
                        release(&snap);
                        if (!body)
                                code = "500 Internal Server Error";
                } else {
                        code = "404 Not Found";
                }
        }
        if (!body) {
                body = malloc(64);
                body_len = body ? (size_t)snprintf(body, 64, "%s\n", code) : 0;
        }
        /* No script may run on this page, whatever a value holds. */
        n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
                     "X-Content-Type-Options: nosniff\r\nContent-Security-Policy: default-src 'none'; "
                     "style-src 'unsafe-inline'\r\nConnection: close\r\n\r\n",
                     code, type, body_len);
        c->out = malloc((size_t)n + body_len);
        if (!c->out) {
                free(body);
                return;
        }
        memcpy(c->out, head, (size_t)n);
        if (!head_only && body)
                memcpy(c->out + n, body, body_len);
        c->out_len = (size_t)n + (head_only ? 0 : body_len);
        free(body);
}

/* Read the head, answer, write; 1 when the connection is done. */
static int admin_io(struct status_server *srv, struct admin_conn *c, void (*fill)(struct status_snapshot *),
                    void (*release)(struct status_snapshot *))
{
        while (!c->out) {
                ssize_t n = recv(c->fd, c->in + c->in_len, ADMIN_HEAD - c->in_len, 0);

                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0)
                        return 1;
                c->in_len += (size_t)n;
                c->in[c->in_len] = '\0';
                if (strstr(c->in, "\r\n\r\n") || strstr(c->in, "\n\n")) {
                        struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

                        admin_answer(c, fill, release);
                        if (!c->out || epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
                                return 1;
                } else if (c->in_len == ADMIN_HEAD) {
                        return 1; /* no head that long is ours */
                }
        }
        while (c->out_off < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

                if (n < 0)
                        return errno == EAGAIN ? 0 : 1;
                c->out_off += (size_t)n;
        }
        return 1;
}

void status_run(struct status_server *srv, void (*fill)(struct status_snapshot *),
                void (*release)(struct status_snapshot *))
{
        struct epoll_event events[ADMIN_CONNS + 1];
        int n = epoll_wait(srv->epfd, events, ADMIN_CONNS + 1, 0), i, j;

        for (i = 0; i < n; i++) {
                struct admin_conn *c = events[i].data.ptr;

                if (c) {
                        if (c->fd >= 0 && admin_io(srv, c, fill, release))
                                admin_drop(srv, c);
                        continue;
                }
                for (;;) {
                        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                        struct epoll_event ev = { .events = EPOLLIN };

                        if (fd < 0)
                                break;
                        for (j = 0; j < ADMIN_CONNS && srv->conns[j].fd >= 0; j++)
                                ;
                        if (j == ADMIN_CONNS) {
                                close(fd); /* busy: a status page is not worth more descriptors */
                                continue;
                        }
                        c = &srv->conns[j];
                        c->fd = fd;
                        c->opened = mono_ms();
                        ev.data.ptr = c;
                        if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
                                admin_drop(srv, c);
                }
        }
}

void status_sweep(struct status_server *srv)
{
        long long now = mono_ms();
        int i;

        for (i = 0; i < ADMIN_CONNS; i++)
                if (srv->conns[i].fd >= 0 && now - srv->conns[i].opened >= ADMIN_TIMEOUT_MS)
                        admin_drop(srv, &srv->conns[i]);
}

void status_close(struct status_server *srv)
{
        int i;

        if (!srv)
                return;
        for (i = 0; i < ADMIN_CONNS; i++)
                if (srv->conns[i].fd >= 0)
                        admin_drop(srv, &srv->conns[i]);
        if (srv->listen_fd >= 0)
                close(srv->listen_fd);
        if (srv->epfd >= 0)
                close(srv->epfd);
        free(srv);
}

/* "Key:   123 kB" lines of a /proc file, summed over the keys given. */
static long long proc_sum(const char *path, const char *const *keys)
{
        char line[256];
        long long sum = 0;
        int found = 0, k;
        FILE *f = fopen(path, "re");

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                for (k = 0; keys[k]; k++) {
                        size_t n = strlen(keys[k]);

                        if (strncmp(line, keys[k], n) == 0 && line[n] == ':') {
                                sum += strtoll(line + n + 1, NULL, 10);
                                found = 1;
                        }
                }
        fclose(f);
        return found ? sum : -1;
}

int proc_memory(int pid, long long *virtual_kb, long long *private_kb)
{
        static const char *const vm[] = { "VmSize", NULL };
        static const char *const priv[] = { "Private_Clean", "Private_Dirty", "Private_Hugetlb", NULL };
        static const char *const anon[] = { "RssAnon", "VmSwap", NULL };
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/status", pid);
        *virtual_kb = proc_sum(path, vm);
        /* smaps_rollup needs ptrace-read access (a host without
         * CAP_SYS_PTRACE, as the unit runs it): then anonymous memory. */
        snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
        *private_kb = proc_sum(path, priv);
        if (*private_kb < 0) {
                snprintf(path, sizeof(path), "/proc/%d/status", pid);
                *private_kb = proc_sum(path, anon);
        }
        return *virtual_kb < 0 || *private_kb < 0 ? -1 : 0;
}
