/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's control socket (control.h): the command parser, and a small
 * non-blocking server for it in an epoll set of its own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"

void control_escape(const char *in, size_t len, char *out, size_t size)
{
        size_t i, o = 0;

        if (!size)
                return;
        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)in[i];
                int need = c >= 0x20 && c < 0x7f && c != '\\' ? 1 : 4;

                if (o + need + 4 > size) { /* room for "..." and the NUL */
                        memcpy(out + o, "...", 3);
                        o += 3;
                        break;
                }
                if (need == 1)
                        out[o++] = (char)c;
                else
                        o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
        }
        out[o] = '\0';
}

static const struct {
        const char *word;
        enum control_verb verb;
} verbs[] = {
        { "start", CONTROL_START },
        { "stop", CONTROL_STOP },
        { "recycle", CONTROL_RECYCLE },
        { "list", CONTROL_LIST },
};

#define EXPECTED "expected start POOL, stop POOL, recycle POOL or list"

int control_parse(const char *msg, size_t len, struct control_cmd *cmd, char *error, size_t size)
{
        const char *space = memchr(msg, ' ', len), *name;
        size_t word = space ? (size_t)(space - msg) : len, name_len, i, v;
        char shown[96];

        memset(cmd, 0, sizeof(*cmd));
        if (len > CONTROL_MSG_MAX) {
                snprintf(error, size, "error: a command of %zu bytes: at most %d", len, CONTROL_MSG_MAX);
                return -1;
        }
        for (v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
                if (strlen(verbs[v].word) == word && memcmp(verbs[v].word, msg, word) == 0)
                        break;
        if (v == sizeof(verbs) / sizeof(verbs[0])) {
                control_escape(msg, word, shown, sizeof(shown));
                snprintf(error, size, "error: unknown command '%s' (" EXPECTED ")", shown);
                return -1;
        }
        cmd->verb = verbs[v].verb;
        if (cmd->verb == CONTROL_LIST) {
                if (space) {
                        control_escape(space + 1, len - word - 1, shown, sizeof(shown));
                        snprintf(error, size, "error: list takes no argument, not '%s'", shown);
                        return -1;
                }
                return 0;
        }
        name = space ? space + 1 : msg + len;
        name_len = space ? len - word - 1 : 0;
        if (!name_len) {
                snprintf(error, size, "error: %s needs a pool name (" EXPECTED ")", verbs[v].word);
                return -1;
        }
        control_escape(name, name_len, shown, sizeof(shown));
        if (name_len > CONTROL_NAME_MAX) {
                snprintf(error, size, "error: pool name '%s' of %zu bytes: at most %d", shown, name_len,
                         CONTROL_NAME_MAX);
                return -1;
        }
        for (i = 0; i < name_len; i++)
                if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
                        snprintf(error, size, "error: pool name '%s': a %s byte at offset %zu (no pool has one)",
                                 shown, name[i] ? "control" : "NUL", i);
                        return -1;
                }
        memcpy(cmd->pool, name, name_len);
        cmd->pool[name_len] = '\0';
        return 0;
}

/* The server. */

struct conn {
        int fd;                 /* -1: free */
        uid_t uid;
        long long deadline;     /* ms, monotonic */
};

struct control_server {
        int epfd, listen_fd, n;
        char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        struct conn conns[CONTROL_CONNS];
        char reply[CONTROL_REPLY_MAX];
};

static long long mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct control_server *control_open(const char *path, int *epoll_fd)
{
        struct control_server *srv = calloc(1, sizeof(*srv));
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        struct epoll_event ev = { .events = EPOLLIN };
        mode_t old;
        int i, r, e;

        if (!srv)
                return NULL;
        if (strlen(path) >= sizeof(a.sun_path)) {
                free(srv);
                errno = ENAMETOOLONG;
                return NULL;
        }
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        snprintf(srv->path, sizeof(srv->path), "%s", path);
        for (i = 0; i < CONTROL_CONNS; i++)
                srv->conns[i].fd = -1;
        srv->epfd = epoll_create1(EPOLL_CLOEXEC);
        srv->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (srv->epfd < 0 || srv->listen_fd < 0)
                goto fail;
        /* 0600 from the start: a chmod() after bind() would leave a window
         * in which others could connect (and keep the connection). */
        old = umask(0177);
        r = bind(srv->listen_fd, (struct sockaddr *)&a, sizeof(a));
        umask(old);
        if (r < 0)
                goto fail;
        ev.data.ptr = NULL; /* NULL: the listener */
        if (listen(srv->listen_fd, CONTROL_CONNS) < 0 || epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->listen_fd, &ev) < 0) {
                e = errno;
                unlink(path);
                errno = e;
                goto fail;
        }
        *epoll_fd = srv->epfd;
        return srv;
fail:
        e = errno;
        if (srv->listen_fd >= 0)
                close(srv->listen_fd);
        if (srv->epfd >= 0)
                close(srv->epfd);
        free(srv);
        errno = e;
        return NULL;
}

static void drop(struct control_server *srv, struct conn *c)
{
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
        srv->n--;
}

/* An answer on a fresh socket never blocks (a message fits in an empty
 * send buffer); a peer that has gone, or does not read, loses it. */
static void answer(int fd, const char *text)
{
        (void)send(fd, text, strlen(text), MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Close a connection answered at once (refused, or busy). What the client
 * already sent is read first: closing a unix socket with unread messages
 * makes the peer's next recv() fail with ECONNRESET before it reads the
 * answer waiting for it. */
static void answer_close(int fd, const char *text)
{
        char buf[CONTROL_MSG_MAX + 1];
        int i;

        answer(fd, text);
        for (i = 0; i < 8 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
                ;
        close(fd);
}

static void accept_all(struct control_server *srv, control_refused_fn refused)
{
        int k;

        for (k = 0; k < 32; k++) {
                struct epoll_event ev = { .events = EPOLLIN };
                struct ucred cred;
                socklen_t len = sizeof(cred);
                struct conn *c = NULL;
                int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;

                if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        return; /* EAGAIN: none left; EMFILE: they wait */
                }
                /* The credentials the peer had when it connected, from the
                 * kernel: what it says about itself is never asked. */
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred)) {
                        answer_close(fd, "error: the host cannot tell who you are (SO_PEERCRED)\n");
                        continue;
                }
                if (cred.uid != 0 && cred.uid != geteuid()) {
                        char text[160];

                        if (geteuid() == 0)
                                snprintf(text, sizeof(text),
                                         "error: permission denied: uid %u may not command this host (only root)\n",
                                         (unsigned)cred.uid);
                        else
                                snprintf(text, sizeof(text),
                                         "error: permission denied: uid %u may not command this host (only root, or "
                                         "uid %u)\n", (unsigned)cred.uid, (unsigned)geteuid());
                        answer_close(fd, text);
                        if (refused)
                                refused(cred.uid, cred.pid);
                        continue;
                }
                for (i = 0; i < CONTROL_CONNS && !c; i++)
                        if (srv->conns[i].fd < 0)
                                c = &srv->conns[i];
                if (!c) {
                        answer_close(fd, "error: busy: too many control connections are open; try again\n");
                        continue;
                }
                ev.data.ptr = c;
                if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        close(fd);
                        continue;
                }
                c->fd = fd;
                c->uid = cred.uid;
                c->deadline = mono_ms() + CONTROL_TIMEOUT_MS;
                srv->n++;
        }
}

/* One command, its answer, and the connection is closed. */
static void serve(struct control_server *srv, struct conn *c, control_exec_fn exec)
{
        char msg[CONTROL_MSG_MAX + 1];
        struct iovec iov = { msg, sizeof(msg) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        struct control_cmd cmd;
        ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) { /* gone, or closed without a word */
                drop(srv, c);
                return;
        }
        if (mh.msg_flags & MSG_TRUNC)
                snprintf(srv->reply, sizeof(srv->reply), "error: a command longer than %d bytes", CONTROL_MSG_MAX);
        else if (control_parse(msg, (size_t)n, &cmd, srv->reply, sizeof(srv->reply)) == 0)
                exec(&cmd, c->uid, srv->reply, sizeof(srv->reply));
        if (srv->reply[0] && srv->reply[strlen(srv->reply) - 1] != '\n' && strlen(srv->reply) + 1 < sizeof(srv->reply))
                strcat(srv->reply, "\n");
        answer(c->fd, srv->reply);
        drop(srv, c);
}

void control_run(struct control_server *srv, control_exec_fn exec, control_refused_fn refused)
{
        struct epoll_event events[CONTROL_CONNS + 1];
        int n = epoll_wait(srv->epfd, events, CONTROL_CONNS + 1, 0), i;

        for (i = 0; i < n; i++) {
                struct conn *c = events[i].data.ptr;

                if (!c)
                        accept_all(srv, refused);
                else if (c->fd >= 0)
                        serve(srv, c, exec);
        }
}

void control_sweep(struct control_server *srv)
{
        long long now = mono_ms();
        int i;

        for (i = 0; i < CONTROL_CONNS; i++)
                if (srv->conns[i].fd >= 0 && now >= srv->conns[i].deadline) {
                        answer(srv->conns[i].fd, "error: no command within 5 s\n");
                        drop(srv, &srv->conns[i]);
                }
}

void control_close(struct control_server *srv)
{
        int i;

        if (!srv)
                return;
        for (i = 0; i < CONTROL_CONNS; i++)
                if (srv->conns[i].fd >= 0)
                        drop(srv, &srv->conns[i]);
        close(srv->listen_fd);
        close(srv->epfd);
        unlink(srv->path);
        free(srv);
}
