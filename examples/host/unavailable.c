/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's own answer for a stopped pool (see unavailable.h): IIS's
 * HTTP.sys answers a pool that rapid-fail protection stopped with 503, or
 * drops the connection (failure.loadBalancerCapabilities). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "unavailable.h"

#define HEAD_MAX 8192
#define LINGER_MS 2000

enum { C_FREE, C_READING, C_WRITING, C_DRAINING };

struct conn {
        int fd, state;
        long long deadline;     /* ms, monotonic */
        size_t seen;            /* bytes of the head read so far */
        char tail[4];           /* the last bytes read: "\r\n\r\n" may span reads */
        int head_only;          /* a HEAD request: no body in the answer */
        const char *out;
        size_t out_len, sent;
};

struct unavailable {
        int epfd, header_ms, n;
        struct conn conns[UNAVAILABLE_CONNS];
};

static const char body[] =
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Service Unavailable</title></head>\n"
        "<body><h1>Service Unavailable</h1>\n<p>HTTP Error 503. The service is unavailable: its application pool "
        "is stopped.</p></body></html>\n";
static char answer[512], answer_head[256];
static size_t answer_len, answer_head_len;

static long long mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct unavailable *unavailable_open(int header_timeout, int *epoll_fd)
{
        struct unavailable *u = calloc(1, sizeof(*u));
        int i, n;

        if (!u)
                return NULL;
        u->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (u->epfd < 0) {
                free(u);
                return NULL;
        }
        u->header_ms = header_timeout * 1000;
        for (i = 0; i < UNAVAILABLE_CONNS; i++)
                u->conns[i].fd = -1;
        n = snprintf(answer_head, sizeof(answer_head),
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n", sizeof(body) - 1);
        answer_head_len = (size_t)n;
        memcpy(answer, answer_head, answer_head_len);
        memcpy(answer + answer_head_len, body, sizeof(body) - 1);
        answer_len = answer_head_len + sizeof(body) - 1;
        *epoll_fd = u->epfd;
        return u;
}

static void drop(struct unavailable *u, struct conn *c)
{
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
        c->state = C_FREE;
        u->n--;
}

/* Send what is left of the answer; then stop writing and drain. */
static void send_answer(struct unavailable *u, struct conn *c)
{
        while (c->sent < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->sent, c->out_len - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

                        c->state = C_WRITING;
                        if (epoll_ctl(u->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
                                drop(u, c);
                        return;
                }
                if (n <= 0) {
                        drop(u, c);
                        return;
                }
                c->sent += (size_t)n;
        }
        /* A lingering close: FIN now, then read until the client closes,
         * so that bytes it still sends do not make the kernel reset the
         * connection before the client has read the answer. */
        shutdown(c->fd, SHUT_WR);
        if (c->state == C_WRITING) {
                struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

                if (epoll_ctl(u->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
                        drop(u, c);
                        return;
                }
        }
        c->state = C_DRAINING;
        c->deadline = mono_ms() + LINGER_MS;
}

/* Read (and drop) the head until its blank line, then answer; in
 * C_DRAINING, read until EOF. */
static void on_read(struct unavailable *u, struct conn *c)
{
        char buf[4096];

        for (;;) {
                ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT), i;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) { /* the client closed (or reset): nothing to answer */
                        drop(u, c);
                        return;
                }
                if (c->state != C_READING)
                        continue;
                if (c->seen == 0)
                        c->head_only = n >= 5 && memcmp(buf, "HEAD ", 5) == 0;
                for (i = 0; i < n; i++) {
                        memmove(c->tail, c->tail + 1, 3);
                        c->tail[3] = buf[i];
                        if (memcmp(c->tail, "\r\n\r\n", 4) == 0 || memcmp(c->tail + 2, "\n\n", 2) == 0)
                                break;
                }
                c->seen += (size_t)n;
                if (i < n || c->seen >= HEAD_MAX) {
                        c->out = answer;
                        c->out_len = c->head_only ? answer_head_len : answer_len;
                        send_answer(u, c);
                        if (c->state == C_FREE || c->state == C_WRITING)
                                return;
                }
        }
}

static void on_alarm(int sig)
{
        (void)sig; /* only to interrupt accept4() */
}

/* accept4() that never blocks for long, whatever mode the socket is in.
 * The listening socket is shared with the pool's workers, and O_NONBLOCK
 * belongs to the open file description they hold too: a worker of the
 * stopped pool that ignores SIGTERM (or a process it forked) could clear
 * it between our fcntl() and accept4(), and the host would sleep in
 * accept4() until the next connection to that site, serving no other pool
 * and deaf to SIGTERM (seen). An interval timer interrupts a blocked call
 * (the handler is installed without SA_RESTART: EINTR); it repeats, so a
 * tick that lands just before accept4() starts does not leave it blocked.
 * SIGALRM is not used elsewhere in the host. Returns the descriptor, or -1
 * with errno (EINTR: nothing was waiting). */
static int accept_bounded(int listen_fd)
{
        struct sigaction sa = { .sa_handler = on_alarm }, old_sa;
        struct itimerval tick = { { 0, 50000 }, { 0, 50000 } }, off = { { 0, 0 }, { 0, 0 } };
        sigset_t alrm, old_mask;
        int fd, err;

        sigemptyset(&sa.sa_mask);
        sigemptyset(&alrm);
        sigaddset(&alrm, SIGALRM);
        if (sigaction(SIGALRM, &sa, &old_sa) < 0)
                return -1;
        sigprocmask(SIG_UNBLOCK, &alrm, &old_mask);
        setitimer(ITIMER_REAL, &tick, NULL);
        fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        err = errno;
        setitimer(ITIMER_REAL, &off, NULL); /* a tick already pending runs on_alarm here */
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        sigaction(SIGALRM, &old_sa, NULL);
        errno = err;
        return fd;
}

int unavailable_accept(struct unavailable *u, int listen_fd, int tcp_level)
{
        int flags = fcntl(listen_fd, F_GETFL), accepted = 0;

        /* The socket is shared with the pool's (retiring) workers: never
         * block on it, whatever mode they left it in. */
        if (flags < 0 || (!(flags & O_NONBLOCK) && fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0))
                return 0;
        while (accepted < 32) {
                struct epoll_event ev = { .events = EPOLLIN };
                struct conn *c = NULL;
                int fd, i;

                if (!tcp_level && u->n == UNAVAILABLE_CONNS) {
                        accepted = -1; /* the rest wait in the queue */
                        break;
                }
                fd = accept_bounded(listen_fd);
                if (fd < 0) {
                        if (errno == ECONNABORTED)
                                continue;
                        if (errno == EINVAL) /* shutdown() by a worker: not listening */
                                accepted = -2;
                        break; /* EAGAIN (or EINTR, blocked): none left; EMFILE: they wait */
                }
                accepted++;
                if (tcp_level) {
                        /* Close with SO_LINGER 0: a reset, not a FIN. */
                        struct linger lg = { 1, 0 };

                        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
                        close(fd);
                        continue;
                }
                for (i = 0; i < UNAVAILABLE_CONNS && !c; i++)
                        if (u->conns[i].state == C_FREE)
                                c = &u->conns[i];
                if (!c) { /* (cannot be: u->n counts the used ones) */
                        close(fd);
                        continue;
                }
                memset(c, 0, sizeof(*c));
                c->fd = fd;
                c->state = C_READING;
                c->deadline = mono_ms() + u->header_ms;
                ev.data.ptr = c;
                if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        close(fd);
                        c->fd = -1;
                        c->state = C_FREE;
                        continue;
                }
                u->n++;
        }
        if (!(flags & O_NONBLOCK))
                fcntl(listen_fd, F_SETFL, flags);
        return accepted;
}

void unavailable_run(struct unavailable *u)
{
        struct epoll_event events[UNAVAILABLE_CONNS];
        int n = epoll_wait(u->epfd, events, UNAVAILABLE_CONNS, 0), i;

        for (i = 0; i < n; i++) {
                struct conn *c = events[i].data.ptr;

                if (c->state == C_FREE)
                        continue; /* dropped by an earlier event of this batch */
                if (c->state == C_WRITING)
                        send_answer(u, c);
                else
                        on_read(u, c);
        }
}

void unavailable_sweep(struct unavailable *u)
{
        long long now = mono_ms();
        int i;

        for (i = 0; i < UNAVAILABLE_CONNS; i++)
                if (u->conns[i].state != C_FREE && now >= u->conns[i].deadline)
                        drop(u, &u->conns[i]); /* a late head gets no answer, as a slow client at a worker */
}

int unavailable_full(const struct unavailable *u)
{
        return u->n == UNAVAILABLE_CONNS;
}

void unavailable_close(struct unavailable *u)
{
        int i;

        if (!u)
                return;
        for (i = 0; i < UNAVAILABLE_CONNS; i++)
                if (u->conns[i].state != C_FREE)
                        drop(u, &u->conns[i]);
        close(u->epfd);
        free(u);
}
