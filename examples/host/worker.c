/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppool-worker: the example host's worker. It serves static files over
 * HTTP/1.1 (GET and HEAD, keep-alive) from DOCROOT, on the listening socket
 * the host passes as descriptor 3, and runs as its pool: every file is opened
 * by the kernel's rules for the pool's identity, so a file the pool may not
 * read answers 403 whatever the path. SIGTERM: stop accepting, finish what
 * is in flight, exit 0.
 * Usage: apppool-worker DOCROOT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

#define LISTEN_FD 3
#define MAX_EVENTS 64

struct conn {
        int fd;
        char in[HTTP_MAX_HEADER + 1];
        size_t in_len;
        char out[512];
        size_t out_len, out_off;
        int file;
        off_t file_off, file_end;
        int keep_alive;
};

static int root_fd = -1, epfd = -1, stopping = 0, open_conns = 0;

static const char *content_type(const char *path)
{
        static const struct {
                const char *ext, *type;
        } types[] = {
                { ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" },
                { ".txt", "text/plain; charset=utf-8" }, { ".css", "text/css" },
                { ".js", "text/javascript" }, { ".json", "application/json" }, { ".png", "image/png" },
                { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" }, { ".gif", "image/gif" },
                { ".svg", "image/svg+xml" }, { ".ico", "image/x-icon" },
        };
        const char *dot = strrchr(path, '.');
        size_t i;

        for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
                if (strcasecmp(dot, types[i].ext) == 0)
                        return types[i].type;
        return "application/octet-stream";
}

static void conn_close(struct conn *c)
{
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        if (c->file >= 0)
                close(c->file);
        free(c);
        open_conns--;
}

static void respond_status(struct conn *c, int status, const char *reason)
{
        char body[128];
        int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);

        c->out_len = (size_t)snprintf(c->out, sizeof(c->out),
                                      "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                      "Content-Length: %d\r\nConnection: %s\r\n\r\n%s",
                                      status, reason, n, c->keep_alive ? "keep-alive" : "close", body);
        c->out_off = 0;
}

/* Open the file a path names, as this process (the pool) may. */
static void respond(struct conn *c, const struct http_request *req)
{
        const char *rel = req->path + 1;
        struct stat st;
        int fd;

        if (req->method == HTTP_OTHER) {
                respond_status(c, 405, "Method Not Allowed");
                return;
        }
        fd = openat(root_fd, rel[0] ? rel : ".", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
                int index = openat(fd, "index.html", O_RDONLY | O_CLOEXEC | O_NONBLOCK);

                close(fd);
                fd = index;
                if (fd >= 0 && fstat(fd, &st) < 0) {
                        close(fd);
                        fd = -1;
                }
                rel = "index.html";
        }
        if (fd < 0) {
                if (errno == EACCES || errno == EPERM)
                        respond_status(c, 403, "Forbidden");
                else
                        respond_status(c, 404, "Not Found");
                return;
        }
        if (!S_ISREG(st.st_mode)) {
                close(fd);
                respond_status(c, 403, "Forbidden");
                return;
        }
        c->out_len = (size_t)snprintf(c->out, sizeof(c->out),
                                      "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %lld\r\n"
                                      "Connection: %s\r\n\r\n",
                                      content_type(rel), (long long)st.st_size, c->keep_alive ? "keep-alive" : "close");
        c->out_off = 0;
        if (req->method == HTTP_GET && st.st_size > 0) {
                c->file = fd;
                c->file_off = 0;
                c->file_end = st.st_size;
        } else {
                close(fd);
        }
}

/* Write what is pending; 1 when all is written, 0 to wait, -1 to close. */
static int flush(struct conn *c)
{
        while (c->out_off < c->out_len) {
                /* MSG_MORE: the head and the file go out in the same segments. */
                ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                                 c->file >= 0 ? MSG_MORE | MSG_NOSIGNAL : MSG_NOSIGNAL);

                if (n < 0)
                        return errno == EAGAIN ? 0 : -1;
                c->out_off += (size_t)n;
        }
        while (c->file >= 0 && c->file_off < c->file_end) {
                ssize_t n = sendfile(c->fd, c->file, &c->file_off, (size_t)(c->file_end - c->file_off));

                if (n < 0)
                        return errno == EAGAIN ? 0 : -1;
                if (n == 0)
                        return -1; /* the file shrank */
        }
        if (c->file >= 0) {
                close(c->file);
                c->file = -1;
        }
        c->out_len = c->out_off = 0;
        return 1;
}

/* Serve every complete request in the buffer; -1 when the connection must close. */
static int serve(struct conn *c)
{
        for (;;) {
                struct http_request req;
                int r, f;

                if (c->out_len || c->file >= 0) {
                        f = flush(c);
                        if (f <= 0)
                                return f;
                        if (!c->keep_alive)
                                return -1;
                }
                r = http_parse(c->in, c->in_len, &req);
                if (r == 0)
                        return stopping ? -1 : 0; /* idle: on SIGTERM an idle connection closes */
                if (r < 0) {
                        c->keep_alive = 0;
                        if (r == -2)
                                respond_status(c, 431, "Request Header Fields Too Large");
                        else
                                respond_status(c, 400, "Bad Request");
                        c->in_len = 0;
                        continue;
                }
                c->keep_alive = req.keep_alive && !stopping;
                memmove(c->in, c->in + req.length, c->in_len - req.length);
                c->in_len -= req.length;
                respond(c, &req);
        }
}

static void on_conn(struct conn *c, uint32_t events)
{
        if (events & EPOLLIN) {
                for (;;) {
                        ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);

                        if (n > 0) {
                                c->in_len += (size_t)n;
                                if (c->in_len == sizeof(c->in) - 1)
                                        break;
                                continue;
                        }
                        if (n == 0 || errno != EAGAIN) {
                                conn_close(c);
                                return;
                        }
                        break;
                }
        }
        if (events & (EPOLLHUP | EPOLLERR) && !(events & EPOLLIN)) {
                conn_close(c);
                return;
        }
        if (serve(c) < 0)
                conn_close(c);
}

static void accept_all(int listen_fd)
{
        for (;;) {
                int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
                struct epoll_event ev;
                struct conn *c;

                if (fd < 0)
                        return;
                c = calloc(1, sizeof(*c));
                if (!c) {
                        close(fd);
                        return;
                }
                c->fd = fd;
                c->file = -1;
                /* No Nagle delay between a response and the next request's answer. */
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
                ev.data.ptr = c;
                if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        close(fd);
                        free(c);
                        continue;
                }
                open_conns++;
        }
}

int main(int argc, char **argv)
{
        struct epoll_event ev, events[MAX_EVENTS];
        static int listen_tag, signal_tag;
        sigset_t mask;
        int sfd, i;

        if (argc != 2) {
                fprintf(stderr, "usage: apppool-worker DOCROOT (a listening socket as descriptor 3)\n");
                return 2;
        }
        root_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                fprintf(stderr, "apppool-worker[%d]: document root %s: %s\n", getpid(), argv[1], strerror(errno));
                return 1;
        }
        if (fcntl(LISTEN_FD, F_SETFL, O_NONBLOCK) < 0) {
                fprintf(stderr, "apppool-worker[%d]: no listening socket as descriptor 3\n", getpid());
                return 1;
        }
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        epfd = epoll_create1(EPOLL_CLOEXEC);
        ev.events = EPOLLIN;
        ev.data.ptr = &listen_tag;
        epoll_ctl(epfd, EPOLL_CTL_ADD, LISTEN_FD, &ev);
        ev.data.ptr = &signal_tag;
        epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
        while (!stopping || open_conns > 0) {
                int n = epoll_wait(epfd, events, MAX_EVENTS, stopping ? 100 : -1);

                if (n < 0 && errno != EINTR)
                        return 1;
                for (i = 0; i < n; i++) {
                        if (events[i].data.ptr == &listen_tag) {
                                if (!stopping)
                                        accept_all(LISTEN_FD);
                        } else if (events[i].data.ptr == &signal_tag) {
                                struct signalfd_siginfo si;

                                while (read(sfd, &si, sizeof(si)) == sizeof(si))
                                        stopping = 1;
                                /* Stop accepting; the host's other workers take over. */
                                epoll_ctl(epfd, EPOLL_CTL_DEL, LISTEN_FD, NULL);
                                close(LISTEN_FD);
                        } else {
                                on_conn(events[i].data.ptr, events[i].events);
                        }
                }
                if (stopping && n == 0)
                        break; /* what remains is idle: done */
        }
        return 0;
}
