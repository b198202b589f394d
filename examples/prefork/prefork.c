/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppool-prefork: the pre-fork model (Apache's prefork MPM, PHP-FPM) on
 * libapppoolid. The parent runs as root, opens each site's listening socket
 * (so a site may use port 80), and forks N children per site. Each child
 * keeps only its own site's socket, applies its pool's restricted token to
 * itself with apid_token_apply_self(), and only then accepts connections: a
 * request is never handled with root's rights. It serves static files with
 * minimal, correct HTTP/1.0 (GET and HEAD, one request per connection), and
 * it is the kernel, checking the pool's uid against the files' ACLs, that
 * decides what a site may read: 403 when it refuses.
 *
 * The other model, where the supervisor launches a fresh program under the
 * token (apid_launch()), is examples/host. Pre-fork fits servers whose
 * workers are copies of the parent: no execve(), the code and the
 * configuration are already loaded.
 *
 * Usage: apppool-prefork [-n CHILDREN] POOL PORT DOCROOT [POOL PORT DOCROOT]...
 * Listens on 127.0.0.1:PORT. SIGTERM or SIGINT stops every child, then the
 * parent. README.md explains each step. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apppoolid.h>

#define MAX_SITES 16
#define MAX_CHILDREN 64
/* A child that cannot apply its token exits with this: do not fork it again. */
#define EXIT_SETUP 3

struct site {
        const char *pool;
        const char *docroot;
        int port;
        int listen_fd;
        apid_token *token;  /* made by the root parent, applied by each child */
        pid_t children[MAX_CHILDREN];
};

static struct site sites[MAX_SITES];
static int n_sites, n_children = 2;

/* ---- The child: one request per connection ---------------------------- */

/* Send all of buf (a short write on a blocking socket is not an error). */
static int send_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* An error: the status line, and the same as a short text body (none for
 * HEAD, whose response has the headers of a GET but never a body). */
static void respond_status(int fd, const char *status, int head_only)
{
        char head[256];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n%s\n",
                         status, strlen(status) + 1, status);

        if (head_only)  /* cut after the blank line */
                n = (int)(strstr(head, "\r\n\r\n") + 4 - head);
        send_all(fd, head, (size_t)n);
}

/* Read the request head (up to the blank line) into buf; 0 when complete. */
static int read_head(int fd, char *buf, size_t size)
{
        size_t used = 0;

        while (used < size - 1) {
                ssize_t n = recv(fd, buf + used, size - 1 - used, 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;  /* closed, or the receive timeout passed */
                used += (size_t)n;
                buf[used] = '\0';
                if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
                        return 0;
        }
        return -2;  /* too large */
}

/* A path the document root can serve: absolute, printable, no "..", no "%"
 * (no percent-decoding in this minimal server: such a request is refused,
 * never misread). "/" means "/index.html". Returns the path relative to the
 * root, or NULL. */
static const char *relative_path(char *target)
{
        char *p;

        if (target[0] != '/')
                return NULL;
        for (p = target; *p; p++)
                if (*p <= ' ' || *p == 0x7f || *p == '%' || *p == '\\')
                        return NULL;
        if ((p = strchr(target, '?')))  /* the query is not part of the file */
                *p = '\0';
        for (p = target; (p = strstr(p, "..")); p += 2)
                if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
                        return NULL;
        return strcmp(target, "/") == 0 ? "index.html" : target + 1;
}

static void serve(int fd, int root_fd)
{
        char buf[8192], method[16], target[4096], version[16], head[256];
        const char *path;
        struct stat st;
        off_t off = 0;
        int file, n, head_only;

        if ((n = read_head(fd, buf, sizeof(buf))) < 0) {
                if (n == -2)
                        respond_status(fd, "431 Request Header Fields Too Large", 0);
                return;
        }
        /* The request line: METHOD TARGET HTTP/1.x */
        if (sscanf(buf, "%15s %4095s %15s", method, target, version) != 3 ||
            strncmp(version, "HTTP/1.", 7) != 0 || !(path = relative_path(target))) {
                respond_status(fd, "400 Bad Request", 0);
                return;
        }
        head_only = strcmp(method, "HEAD") == 0;
        if (strcmp(method, "GET") != 0 && !head_only) {
                respond_status(fd, "405 Method Not Allowed", 0);
                return;
        }
        /* The kernel decides, as the pool's uid: EACCES is 403, not a check
         * of ours. Symbolic links are followed; their targets are checked
         * the same way. */
        file = openat(root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (file < 0) {
                respond_status(fd, errno == EACCES || errno == EPERM ? "403 Forbidden" : "404 Not Found", head_only);
                return;
        }
        if (fstat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
                respond_status(fd, "404 Not Found", head_only);
                close(file);
                return;
        }
        n = snprintf(head, sizeof(head),
                     "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     "Content-Length: %lld\r\nConnection: close\r\n\r\n", (long long)st.st_size);
        if (send_all(fd, head, (size_t)n) == 0 && !head_only)
                while (off < st.st_size && sendfile(fd, file, &off, (size_t)(st.st_size - off)) > 0)
                        ;
        close(file);
}

static void child_main(int s)
{
        struct site *site = &sites[s];
        struct timeval timeout = { 10, 0 };
        int i, root_fd;

        /* 1. Keep stdin, stdout, stderr and this site's listening socket,
         *    nothing else: a child of pool A must not hold pool B's socket
         *    (it could accept B's requests as A), nor any descriptor that
         *    whoever started the parent left open. */
        for (i = 0; i < n_sites; i++)
                if (i != s)
                        close(sites[i].listen_fd);
        if ((site->listen_fd > 3 && close_range(3, (unsigned int)site->listen_fd - 1, 0) < 0) ||
            close_range((unsigned int)site->listen_fd + 1, ~0U, 0) < 0) {
                perror("apppool-prefork: close_range");
                _exit(EXIT_SETUP);
        }
        /* 2. Become the pool, irreversibly: its uid, gid and groups, no
         *    capabilities, no_new_privs, locked securebits, the seccomp
         *    filter, its umask. The process is single-threaded, as the call
         *    requires. A failure may leave it half-restricted: exit. */
        if (apid_token_apply_self(site->token) != APID_OK) {
                fprintf(stderr, "apppool-prefork: pool %s: %s\n", site->pool, apid_error_message());
                _exit(EXIT_SETUP);
        }
        /* 3. Open the document root as the pool: if the pool may not search
         *    it, this child has nothing to serve. */
        root_fd = open(site->docroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                fprintf(stderr, "apppool-prefork: pool %s: %s: %s\n", site->pool, site->docroot, strerror(errno));
                _exit(EXIT_SETUP);
        }
        /* A client that goes away mid-response is an error of that write,
         * not a signal that kills the child (sendfile() raises SIGPIPE). */
        signal(SIGPIPE, SIG_IGN);
        /* 4. Only now accept: every request is handled as the pool. The
         *    children of a site share its socket; the kernel hands each
         *    connection to one of them. */
        for (;;) {
                int fd = accept4(site->listen_fd, NULL, NULL, SOCK_CLOEXEC);

                if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE)
                                continue;
                        _exit(1);
                }
                /* A client that sends nothing must not hold the child forever. */
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
                serve(fd, root_fd);
                close(fd);
        }
}

/* ---- The parent: root, sockets, children ------------------------------- */

static pid_t spawn(int s)
{
        pid_t pid = fork();

        if (pid == 0) {
                sigset_t none;

                /* The parent blocks its signals to wait for them; a child
                 * takes SIGTERM the ordinary way (and dies of it). */
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                child_main(s);
        }
        if (pid < 0)
                perror("apppool-prefork: fork");
        else
                fprintf(stderr, "apppool-prefork: child %d for pool %s (port %d)\n", (int)pid, sites[s].pool,
                        sites[s].port);
        return pid;
}

/* A token for the pool, which is created (with IIS's defaults) if missing. */
static int make_token(apid_ctx *ctx, struct site *site)
{
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        int r;

        r = apid_pool_open(ctx, site->pool, &pool);
        if (r == APID_ENOTFOUND)
                r = apid_pool_create(ctx, site->pool, &pool);
        if (r == APID_OK)
                r = apid_pool_get_identity(pool, &id);
        if (r == APID_OK)
                r = apid_token_new(id, &site->token);
        if (r != APID_OK)
                fprintf(stderr, "apppool-prefork: pool %s: %s\n", site->pool, apid_error_message());
        apid_identity_free(id);
        apid_pool_free(pool);
        return r;
}

static int open_listener(struct site *site)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)site->port) };
        int one = 1;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        /* CLOEXEC: nothing is ever executed here, but a listener must not
         * leak into a program a future version might run. */
        site->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (site->listen_fd < 0 || setsockopt(site->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(site->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(site->listen_fd, 128) < 0) {
                fprintf(stderr, "apppool-prefork: 127.0.0.1:%d: %s\n", site->port, strerror(errno));
                return -1;
        }
        return 0;
}

static int usage(void)
{
        fprintf(stderr, "Usage: apppool-prefork [-n CHILDREN] POOL PORT DOCROOT [POOL PORT DOCROOT]...\n");
        return 2;
}

int main(int argc, char **argv)
{
        apid_ctx *ctx = NULL;
        sigset_t mask;
        int i, s, c, stopping = 0;

        while ((c = getopt(argc, argv, "n:")) != -1) {
                if (c != 'n' || (n_children = atoi(optarg)) < 1 || n_children > MAX_CHILDREN)
                        return usage();
        }
        if (argc - optind < 3 || (argc - optind) % 3 != 0 || (argc - optind) / 3 > MAX_SITES)
                return usage();
        for (i = optind; i < argc; i += 3) {
                struct site *site = &sites[n_sites++];

                site->pool = argv[i];
                site->port = atoi(argv[i + 1]);
                site->docroot = argv[i + 2];
                if (site->port < 1 || site->port > 65535 || site->docroot[0] != '/')
                        return usage();
        }
        /* Tokens first, with the registry open; then the context goes, so
         * that no child inherits the registry's descriptor (a pool must not
         * be able to write root's database through an inherited fd). */
        if (apid_ctx_new(&ctx) != APID_OK) {
                fprintf(stderr, "apppool-prefork: %s\n", apid_error_message());
                return 1;
        }
        for (s = 0; s < n_sites; s++)
                if (make_token(ctx, &sites[s]) != APID_OK)
                        return 1;
        apid_ctx_unref(ctx);
        /* Bind as root: a port below 1024 needs no capability in the children. */
        for (s = 0; s < n_sites; s++)
                if (open_listener(&sites[s]) < 0)
                        return 1;
        /* The parent waits for signals synchronously (no handlers, no races):
         * block them before the first fork. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        for (s = 0; s < n_sites; s++)
                for (i = 0; i < n_children; i++)
                        sites[s].children[i] = spawn(s);
        for (;;) {
                int sig = sigwaitinfo(&mask, NULL), status, alive = 0;
                pid_t pid;

                if (sig == SIGTERM || sig == SIGINT) {
                        stopping = 1;
                        for (s = 0; s < n_sites; s++)
                                for (i = 0; i < n_children; i++)
                                        if (sites[s].children[i] > 0)
                                                kill(sites[s].children[i], SIGTERM);
                }
                /* Reap every child that ended; replace it unless stopping, or
                 * unless it could not become its pool (it would fail again). */
                while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
                        for (s = 0; s < n_sites; s++)
                                for (i = 0; i < n_children; i++)
                                        if (sites[s].children[i] == pid) {
                                                sites[s].children[i] = 0;
                                                if (!stopping && !(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SETUP))
                                                        sites[s].children[i] = spawn(s);
                                        }
                for (s = 0; s < n_sites; s++)
                        for (i = 0; i < n_children; i++)
                                alive += sites[s].children[i] > 0;
                if (!alive)
                        break;
        }
        for (s = 0; s < n_sites; s++) {
                close(sites[s].listen_fd);
                apid_token_free(sites[s].token);
        }
        return stopping ? 0 : 1;
}
