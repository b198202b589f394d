/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppool-worker: the example host's worker. It serves static files over
 * HTTP/1.1 (GET and HEAD, keep-alive) from DOCROOT, on the listening socket
 * the host passes as descriptor 3, and runs as its pool: every file is opened
 * by the kernel's rules for the pool's identity, beneath the document root
 * (openat2 RESOLVE_BENEATH), so a file the pool may not read answers 403
 * whatever the path, and no path leaves the root.
 * Descriptor 4, when open, is the host's readiness pipe: "READY=1\n" is
 * written to it once the worker accepts connections.
 * Descriptor 5, when open, is the host's control socket (SOCK_SEQPACKET):
 * the host's "ping" is answered with "pong REQUESTS CONNECTIONS", and the
 * worker reports "report REQUESTS CONNECTIONS" when those change, at most
 * once a second (the host's idle timeout and request-count recycling).
 * SIGTERM: stop accepting, finish every connection already accepted
 * (including one whose request has not arrived yet, bounded by the header
 * timeout; an idle keep-alive one by the idle timeout), exit 0.
 * Usage: apppool-worker [--header-timeout S] [--idle-timeout S] DOCROOT */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

#define LISTEN_FD 3
#define READY_FD 4
#define CTL_FD 5
#define REPORT_MS 1000        /* activity reports to the host at most this often */
#define MAX_EVENTS 64
#define SWEEP_MS 250          /* timeouts are checked this often */
#define ACCEPT_BACKOFF_MS 100 /* no accept for this long after EMFILE */
#define LINGER_MS 2000        /* a closing connection's unread bytes are drained this long */

struct conn {
        int fd;
        char in[HTTP_MAX_HEADER + 1];
        size_t in_len;
        char out[512];
        size_t out_len, out_off;
        int file;
        off_t file_off, file_end;
        int keep_alive;
        int draining;       /* answered with "close": reading what is left until EOF */
        long long deadline; /* ms, monotonic: the connection closes then */
        struct conn *prev, *next;
};

static int root_fd = -1, epfd = -1, stopping = 0, open_conns = 0;
static int header_timeout_ms = 10000, idle_timeout_ms = 5000;
static int listening = 0, have_openat2 = 1;
static long long accept_paused_until = 0;
static struct conn *conns;
static int ctl_fd = -1, reported_conns = -1;
static unsigned long long served, reported_served;
static long long next_report;

static void die(const char *what)
{
        fprintf(stderr, "apppool-worker[%d]: %s: %s\n", getpid(), what, strerror(errno));
        exit(1);
}

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* Watch the listening socket again (after a back-off, or at start). */
static void listen_on(void)
{
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

        accept_paused_until = 0;
        if (listening || stopping)
                return;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, LISTEN_FD, &ev) < 0)
                die("epoll_ctl(listening socket)");
        listening = 1;
}

static void listen_off(void)
{
        if (listening && epoll_ctl(epfd, EPOLL_CTL_DEL, LISTEN_FD, NULL) < 0)
                die("epoll_ctl(listening socket)");
        listening = 0;
}

static void conn_close(struct conn *c)
{
        /* close() removes it from the epoll set too. */
        close(c->fd);
        if (c->file >= 0)
                close(c->file);
        if (c->prev)
                c->prev->next = c->next;
        else
                conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        free(c);
        open_conns--;
        if (accept_paused_until)
                listen_on(); /* a descriptor is free again */
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

/* Without openat2 (Linux < 5.6, or a filter that answers ENOSYS): one
 * component at a time, never following a link, so nothing can lead out
 * of the root (links inside the root are then refused too). */
static int open_walk(const char *rel)
{
        char buf[HTTP_MAX_PATH + 16], *comp, *next;
        int dir = root_fd, fd;

        snprintf(buf, sizeof(buf), "%s", rel);
        for (comp = buf; (next = strchr(comp, '/')); comp = next + 1) {
                *next = '\0';
                fd = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dir != root_fd)
                        close(dir);
                if (fd < 0)
                        return -1;
                dir = fd;
        }
        fd = openat(dir, comp, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (dir != root_fd) {
                int e = errno;

                close(dir);
                errno = e;
        }
        return fd;
}

/* Open a path below the root, as this process (the pool) may: the kernel
 * resolves it and refuses ("..", an absolute link, /proc magic links)
 * whatever would leave the root. */
static int open_beneath(const char *rel)
{
        struct open_how how = {
                .flags = O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        int fd;

        if (have_openat2) {
                fd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
                if (fd >= 0 || errno != ENOSYS)
                        return fd;
                have_openat2 = 0;
        }
        return open_walk(rel);
}

static void respond(struct conn *c, const struct http_request *req)
{
        char rel[HTTP_MAX_PATH + 16];
        struct stat st;
        int fd;

        if (req->method == HTTP_OTHER) {
                respond_status(c, 405, "Method Not Allowed");
                return;
        }
        /* The parser guarantees: no empty, "." or ".." segment but a final
         * empty one, so rel is relative; the kernel does the rest. */
        snprintf(rel, sizeof(rel), "%s", req->path[1] ? req->path + 1 : ".");
        fd = open_beneath(rel);
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
                size_t n = strlen(rel);

                close(fd);
                snprintf(rel + n, sizeof(rel) - n, "%sindex.html", rel[n - 1] == '/' ? "" : "/");
                fd = open_beneath(rel);
                if (fd >= 0 && fstat(fd, &st) < 0) {
                        close(fd);
                        fd = -1;
                }
        }
        if (fd < 0) {
                /* EXDEV: the path leaves the root; ELOOP: a magic link (or,
                 * in the fallback walk, any link). */
                if (errno == EACCES || errno == EPERM || errno == EXDEV || errno == ELOOP)
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
                c->deadline = now_ms() + idle_timeout_ms; /* a reader that stalls */
        }
        while (c->file >= 0 && c->file_off < c->file_end) {
                ssize_t n = sendfile(c->fd, c->file, &c->file_off, (size_t)(c->file_end - c->file_off));

                if (n < 0)
                        return errno == EAGAIN ? 0 : -1;
                if (n == 0)
                        return -1; /* the file shrank */
                c->deadline = now_ms() + idle_timeout_ms;
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
                        if (!c->keep_alive) {
                                /* Lingering close (as nginx does): closing with
                                 * unread bytes would send a reset that can
                                 * destroy the answer before the client reads it. */
                                c->draining = 1;
                                c->in_len = 0;
                                c->deadline = now_ms() + LINGER_MS;
                                return shutdown(c->fd, SHUT_WR) < 0 ? -1 : 0;
                        }
                        /* Answered: idle until the next request starts. */
                        c->deadline = now_ms() + (c->in_len ? header_timeout_ms : idle_timeout_ms);
                }
                r = http_parse(c->in, c->in_len, &req);
                if (r == 0)
                        return 0; /* wait for the rest (or the next request), within the deadline */
                if (r < 0) {
                        /* The rest of the buffer cannot be trusted to be a
                         * request (a body, a smuggled second request): answer
                         * and close. */
                        c->keep_alive = 0;
                        if (r == -431)
                                respond_status(c, 431, "Request Header Fields Too Large");
                        else if (r == -413)
                                respond_status(c, 413, "Content Too Large");
                        else
                                respond_status(c, 400, "Bad Request");
                        c->in_len = 0;
                        continue;
                }
                /* Once told to stop, every answer closes its connection. */
                c->keep_alive = req.keep_alive && !stopping;
                served++;
                memmove(c->in, c->in + req.length, c->in_len - req.length);
                c->in_len -= req.length;
                respond(c, &req);
        }
}

static void on_conn(struct conn *c, uint32_t events)
{
        if (c->draining) {
                char sink[4096];
                ssize_t n;

                while ((n = read(c->fd, sink, sizeof(sink))) > 0)
                        ;
                if (n == 0 || errno != EAGAIN || events & (EPOLLHUP | EPOLLERR))
                        conn_close(c);
                return;
        }
        if (events & EPOLLIN) {
                size_t before = c->in_len;

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
                /* A request started: its head must be whole within the header timeout. */
                if (before == 0 && c->in_len > 0 && !c->out_len && c->file < 0)
                        c->deadline = now_ms() + header_timeout_ms;
        }
        if (events & (EPOLLHUP | EPOLLERR) && !(events & EPOLLIN)) {
                conn_close(c);
                return;
        }
        if (serve(c) < 0)
                conn_close(c);
}

static void accept_all(void)
{
        for (;;) {
                int fd = accept4(LISTEN_FD, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
                struct epoll_event ev;
                struct conn *c;

                if (fd < 0) {
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                                /* The socket stays readable: watching it now would
                                 * spin. Look again after a while, or as soon as
                                 * one of our connections closes. */
                                listen_off();
                                accept_paused_until = now_ms() + ACCEPT_BACKOFF_MS;
                        }
                        return;
                }
                c = calloc(1, sizeof(*c));
                if (!c) {
                        close(fd);
                        return;
                }
                c->fd = fd;
                c->file = -1;
                c->deadline = now_ms() + header_timeout_ms;
                /* No Nagle delay between a response and the next request's answer. */
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
                ev.data.ptr = c;
                if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        fprintf(stderr, "apppool-worker[%d]: epoll_ctl(connection): %s\n", getpid(), strerror(errno));
                        close(fd);
                        free(c);
                        continue;
                }
                c->next = conns;
                if (conns)
                        conns->prev = c;
                conns = c;
                open_conns++;
        }
}

/* Close every connection past its deadline: a slow head (slowloris), an
 * idle keep-alive connection, a reader that stopped reading. */
static void sweep(long long now)
{
        struct conn *c = conns, *next;

        for (; c; c = next) {
                next = c->next;
                if (now >= c->deadline)
                        conn_close(c);
        }
}

/* The host's control socket: answer its pings; -1 once it is gone. */
static void on_ctl(void)
{
        char msg[64], reply[64];
        ssize_t n;
        int len;

        while ((n = recv(ctl_fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
                msg[n] = '\0';
                if (strcmp(msg, "ping") != 0)
                        continue;
                len = snprintf(reply, sizeof(reply), "pong %llu %d", served, open_conns);
                if (send(ctl_fd, reply, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN)
                        break;
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                close(ctl_fd); /* also leaves the epoll set */
                ctl_fd = -1;
        }
}

/* Tell the host what changed, at most once a second; the epoll timeout
 * (returned) wakes the loop for a report that had to wait. */
static int report(long long now, int timeout)
{
        char msg[64];
        int len;

        if (ctl_fd < 0 || (served == reported_served && open_conns == reported_conns))
                return timeout;
        if (now < next_report) {
                int wait = (int)(next_report - now);

                return timeout < 0 || wait < timeout ? wait : timeout;
        }
        len = snprintf(msg, sizeof(msg), "report %llu %d", served, open_conns);
        if (send(ctl_fd, msg, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) == len) {
                reported_served = served;
                reported_conns = open_conns;
        }
        next_report = now + REPORT_MS;
        return timeout < 0 || REPORT_MS < timeout ? REPORT_MS : timeout;
}

static int seconds(const char *v, int *out_ms)
{
        char *end;
        long n = strtol(v, &end, 10);

        if (!v[0] || *end || n < 1 || n > 3600)
                return -1;
        *out_ms = (int)n * 1000;
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "header-timeout", required_argument, NULL, 'H' },
                { "idle-timeout", required_argument, NULL, 'I' },
                { NULL, 0, NULL, 0 },
        };
        struct epoll_event ev, events[MAX_EVENTS];
        static int signal_tag, ctl_tag;
        long long next_sweep = 0;
        sigset_t mask;
        int sfd, i, c, ready_pipe;

        while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
                if ((c == 'H' && seconds(optarg, &header_timeout_ms) == 0) ||
                    (c == 'I' && seconds(optarg, &idle_timeout_ms) == 0))
                        continue;
                fprintf(stderr, "usage: apppool-worker [--header-timeout S] [--idle-timeout S] DOCROOT "
                                "(a listening socket as descriptor 3)\n");
                return 2;
        }
        if (optind != argc - 1) {
                fprintf(stderr, "usage: apppool-worker [--header-timeout S] [--idle-timeout S] DOCROOT "
                                "(a listening socket as descriptor 3)\n");
                return 2;
        }
        /* Before anything else takes descriptor 4. */
        ready_pipe = fcntl(READY_FD, F_GETFD) >= 0;
        {
                /* Only the host's kind of socket: a descriptor 5 inherited
                 * from elsewhere is left alone. */
                int type = 0;
                socklen_t len = sizeof(type);

                if (getsockopt(CTL_FD, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET &&
                    fcntl(CTL_FD, F_SETFD, FD_CLOEXEC) == 0)
                        ctl_fd = CTL_FD;
        }
        root_fd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                fprintf(stderr, "apppool-worker[%d]: document root %s: %s\n", getpid(), argv[optind], strerror(errno));
                return 1;
        }
        if (fcntl(LISTEN_FD, F_SETFL, O_NONBLOCK) < 0) {
                fprintf(stderr, "apppool-worker[%d]: no listening socket as descriptor 3\n", getpid());
                return 1;
        }
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                die("sigprocmask");
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                die("signalfd");
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0)
                die("epoll_create1");
        ev.events = EPOLLIN;
        ev.data.ptr = &signal_tag;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev) < 0)
                die("epoll_ctl(signalfd)");
        if (ctl_fd >= 0) {
                ev.events = EPOLLIN;
                ev.data.ptr = &ctl_tag;
                if (epoll_ctl(epfd, EPOLL_CTL_ADD, ctl_fd, &ev) < 0)
                        die("epoll_ctl(control socket)");
        }
        listen_on();
        /* Ready: the host may now retire the workers this one replaces. */
        if (ready_pipe) {
                if (write(READY_FD, "READY=1\n", 8) != 8)
                        fprintf(stderr, "apppool-worker[%d]: readiness pipe: %s\n", getpid(), strerror(errno));
                close(READY_FD);
        }
        while (!stopping || open_conns > 0) {
                long long now = now_ms();
                int timeout = -1, n;

                if (open_conns > 0)
                        timeout = SWEEP_MS;
                if (accept_paused_until && (timeout < 0 || accept_paused_until - now < timeout))
                        timeout = accept_paused_until > now ? (int)(accept_paused_until - now) : 0;
                timeout = report(now, timeout);
                n = epoll_wait(epfd, events, MAX_EVENTS, timeout);
                if (n < 0 && errno != EINTR)
                        die("epoll_wait");
                for (i = 0; i < n; i++) {
                        if (events[i].data.ptr == NULL) {
                                if (!stopping)
                                        accept_all();
                        } else if (events[i].data.ptr == &ctl_tag) {
                                on_ctl();
                        } else if (events[i].data.ptr == &signal_tag) {
                                struct signalfd_siginfo si;

                                while (read(sfd, &si, sizeof(si)) == sizeof(si))
                                        stopping = 1;
                                /* Stop accepting (the host's other workers take
                                 * over); what was accepted is served. */
                                listen_off();
                                accept_paused_until = 0;
                                close(LISTEN_FD);
                        } else {
                                on_conn(events[i].data.ptr, events[i].events);
                        }
                }
                now = now_ms();
                if (accept_paused_until && now >= accept_paused_until)
                        listen_on();
                if (now >= next_sweep) {
                        sweep(now);
                        next_sweep = now + SWEEP_MS;
                }
        }
        return 0;
}
