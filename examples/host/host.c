/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppool-host: a small multi-pool web host on libapppoolid (the WAS of this
 * project). It ensures each configured pool exists, grants each pool read
 * access to its own document root, opens the sites' listening sockets
 * itself, and runs each site's workers under its pool's restricted token,
 * passing only that site's socket. One event loop over the workers' pidfds,
 * a signalfd and a timerfd: crashed workers restart, rapid-fail protection
 * stops a pool, SIGHUP (or a period) recycles without dropping requests,
 * SIGUSR1 logs the status, SIGTERM stops everything and leaves nothing behind.
 * Usage: apppool-host --config FILE */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <apppoolid.h>

#include "config.h"

#ifndef WORKER_PROGRAM
#define WORKER_PROGRAM "/usr/local/libexec/apppool-worker"
#endif
#define MAX_CRASHES_KEPT 1024

struct worker {
        apid_process *proc;
        int site;
        int retiring;
        struct worker *next;
};

struct pool_state {
        apid_token *token;
        uint32_t uid;
        time_t crashes[MAX_CRASHES_KEPT];
        int n_crashes;
        int stopped;
        time_t last_recycle;
};

static struct config cfg;
static struct pool_state pools[MAX_POOLS];
static int site_fd[MAX_SITES], site_pool[MAX_SITES];
static struct worker *workers;
static int epfd, shutting_down;
static time_t deadline;

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
        char when[32];
        time_t now = time(NULL);
        va_list ap;

        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime(&now));
        fprintf(stderr, "%s apppool-host: ", when);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static int fail(const char *what)
{
        logmsg("%s: %s", what, apid_error_message());
        return -1;
}

static int start_worker(int s)
{
        struct site_config *site = &cfg.sites[s];
        struct pool_state *pool = &pools[site_pool[s]];
        const char *argv[] = { site->program, site->root, NULL };
        apid_launch_attr *attr = NULL;
        struct epoll_event ev;
        struct worker *w;
        int r;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -1;
        r = apid_launch_attr_new(&attr);
        if (r == APID_OK)
                r = apid_launch_attr_pass_fd(attr, site_fd[s], 3);
        if (r == APID_OK)
                r = apid_launch_attr_set_parent_death_signal(attr, SIGKILL);
        if (r == APID_OK)
                r = apid_launch(pool->token, attr, site->program, argv, &w->proc);
        apid_launch_attr_free(attr);
        if (r != APID_OK) {
                free(w);
                logmsg("site %s: cannot start a worker: %s", site->name, apid_error_message());
                return -1;
        }
        w->site = s;
        ev.events = EPOLLIN;
        ev.data.ptr = w;
        epoll_ctl(epfd, EPOLL_CTL_ADD, apid_process_get_fd(w->proc), &ev);
        w->next = workers;
        workers = w;
        logmsg("worker started: site %s, pool %s, pid %d, uid %u", site->name, site->pool,
               apid_process_get_pid(w->proc), pool->uid);
        return 0;
}

static void retire(struct worker *w, int sig)
{
        w->retiring = 1;
        if (apid_process_signal(w->proc, sig) != APID_OK && apid_error_errno() != ESRCH)
                logmsg("signal %d to pid %d: %s", sig, apid_process_get_pid(w->proc), apid_error_message());
}

static void stop_pool(int p, const char *why)
{
        struct worker *w;

        pools[p].stopped = 1;
        logmsg("pool %s stopped: %s", cfg.pools[p].name, why);
        for (w = workers; w; w = w->next)
                if (site_pool[w->site] == p && !w->retiring)
                        retire(w, SIGTERM);
}

/* Start new workers first, then retire the old ones: the listening socket
 * is shared, so requests keep being accepted throughout. */
static void recycle_pool(int p, const char *why)
{
        struct worker *w, *old = workers;
        int s, i;

        if (pools[p].stopped || shutting_down)
                return;
        for (s = 0; s < cfg.n_sites; s++)
                if (site_pool[s] == p)
                        for (i = 0; i < cfg.sites[s].workers; i++)
                                start_worker(s);
        for (w = old; w; w = w->next)
                if (site_pool[w->site] == p && !w->retiring)
                        retire(w, SIGTERM);
        pools[p].last_recycle = time(NULL);
        logmsg("pool %s recycled (%s)", cfg.pools[p].name, why);
}

static void status(void)
{
        struct worker *w;
        int p;

        for (p = 0; p < cfg.n_pools; p++) {
                char pids[1024] = "";

                for (w = workers; w; w = w->next)
                        if (site_pool[w->site] == p)
                                snprintf(pids + strlen(pids), sizeof(pids) - strlen(pids), " %d%s",
                                         apid_process_get_pid(w->proc), w->retiring ? "(retiring)" : "");
                logmsg("status: pool %s (uid %u) %s; workers:%s", cfg.pools[p].name, pools[p].uid,
                       pools[p].stopped ? "stopped" : "started", pids[0] ? pids : " none");
        }
}

static void reap(struct worker *w)
{
        struct worker **pp;
        int s = w->site, p = site_pool[s], code, sig, n = 0, i;
        time_t now = time(NULL);

        if (apid_process_wait(w->proc, 0) != APID_OK)
                return;
        code = apid_process_exit_code(w->proc);
        sig = apid_process_term_signal(w->proc);
        if (sig)
                logmsg("worker exited: site %s, pid %d, killed by signal %d", cfg.sites[s].name,
                       apid_process_get_pid(w->proc), sig);
        else
                logmsg("worker exited: site %s, pid %d, status %d", cfg.sites[s].name, apid_process_get_pid(w->proc),
                       code);
        epoll_ctl(epfd, EPOLL_CTL_DEL, apid_process_get_fd(w->proc), NULL);
        for (pp = &workers; *pp; pp = &(*pp)->next)
                if (*pp == w) {
                        *pp = w->next;
                        break;
                }
        if (!w->retiring && !shutting_down && !pools[p].stopped) {
                /* A failure: rapid-fail protection counts it (IIS: N in T seconds). */
                struct pool_state *ps = &pools[p];

                if (ps->n_crashes == MAX_CRASHES_KEPT) {
                        memmove(ps->crashes, ps->crashes + 1, sizeof(ps->crashes[0]) * (MAX_CRASHES_KEPT - 1));
                        ps->n_crashes--;
                }
                ps->crashes[ps->n_crashes++] = now;
                for (i = 0; i < ps->n_crashes; i++)
                        n += ps->crashes[i] > now - cfg.pools[p].interval;
                if (n >= cfg.pools[p].max_crashes) {
                        char why[128];

                        snprintf(why, sizeof(why), "rapid-fail protection, %d failures in %d s", n,
                                 cfg.pools[p].interval);
                        stop_pool(p, why);
                } else {
                        start_worker(s);
                }
        }
        apid_process_free(w->proc);
        free(w);
}

static int open_listener(struct site_config *s)
{
        struct sockaddr_in a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)s->port);
        inet_pton(AF_INET, s->address, &a.sin_addr);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 512) < 0) {
                logmsg("site %s: cannot listen on %s:%d: %s", s->name, s->address, s->port, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        return fd;
}

/* A document root that does not exist yet gets a first page. */
static int ensure_root(struct site_config *s)
{
        char path[1100], page[512];
        struct stat st;
        char *p;
        int fd, n;

        if (stat(s->root, &st) == 0)
                return S_ISDIR(st.st_mode) ? 0 : (logmsg("site %s: root %s is not a directory", s->name, s->root), -1);
        snprintf(path, sizeof(path), "%s", s->root);
        for (p = path + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        mkdir(path, 0755);
                        *p = '/';
                }
        if (mkdir(path, 0750) < 0) {
                logmsg("site %s: cannot create %s: %s", s->name, s->root, strerror(errno));
                return -1;
        }
        snprintf(path, sizeof(path), "%s/index.html", s->root);
        n = snprintf(page, sizeof(page),
                     "<!doctype html>\n<title>%s</title>\n<h1>Site %s</h1>\n<p>Served by a worker of the "
                     "application pool %s, running as IIS APPPOOL\\%s.</p>\n",
                     s->name, s->name, s->pool, s->pool);
        fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
        if (fd < 0 || write(fd, page, (size_t)n) != n) {
                logmsg("site %s: cannot write %s: %s", s->name, path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        close(fd);
        logmsg("site %s: created the document root %s", s->name, s->root);
        return 0;
}

static int setup(apid_ctx *ctx)
{
        int p, s;

        for (p = 0; p < cfg.n_pools; p++) {
                apid_pool *pool = NULL;
                apid_identity *id = NULL;

                if (apid_pool_open(ctx, cfg.pools[p].name, &pool) != APID_OK) {
                        if (apid_error_status() != APID_ENOTFOUND || apid_pool_create(ctx, cfg.pools[p].name, &pool) != APID_OK)
                                return fail(cfg.pools[p].name);
                        logmsg("pool %s created", cfg.pools[p].name);
                }
                if (apid_pool_get_identity(pool, &id) != APID_OK || apid_token_new(id, &pools[p].token) != APID_OK) {
                        apid_pool_free(pool);
                        apid_identity_free(id);
                        return fail(cfg.pools[p].name);
                }
                pools[p].uid = apid_identity_get_uid(id);
                pools[p].last_recycle = time(NULL);
                apid_identity_free(id);
                apid_pool_free(pool);
        }
        for (s = 0; s < cfg.n_sites; s++) {
                struct site_config *site = &cfg.sites[s];
                apid_acl_edit *edit = NULL;
                char spec[300];

                for (p = 0; p < cfg.n_pools; p++)
                        if (strcmp(cfg.pools[p].name, site->pool) == 0)
                                site_pool[s] = p;
                if (ensure_root(site) < 0)
                        return -1;
                /* The pool reads its own root: (OI)(CI)RX, through the tree. */
                snprintf(spec, sizeof(spec), "IIS AppPool\\%s:(OI)(CI)RX", site->pool);
                if (apid_acl_edit_new(ctx, &edit) != APID_OK || apid_acl_edit_add(edit, APID_ACL_GRANT, spec) != APID_OK ||
                    apid_acl_edit_set_flags(edit, APID_ACL_RECURSIVE) != APID_OK ||
                    apid_acl_edit_apply(edit, site->root) != APID_OK) {
                        apid_acl_edit_free(edit);
                        return fail(site->root);
                }
                logmsg("site %s: granted %s on %s (%llu paths changed)", site->name, spec, site->root,
                       (unsigned long long)apid_acl_edit_count(edit, APID_ACL_CHANGED));
                apid_acl_edit_free(edit);
                site_fd[s] = open_listener(site);
                if (site_fd[s] < 0)
                        return -1;
                logmsg("site %s: listening on http://%s:%d/ for pool %s", site->name, site->address, site->port,
                       site->pool);
        }
        return 0;
}

static int read_file(const char *path, char **out)
{
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        if (!f)
                return -1;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        if (n < 0 || n > (1 << 20) || !(buf = malloc((size_t)n + 1))) {
                fclose(f);
                errno = EFBIG;
                return -1;
        }
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                fclose(f);
                return -1;
        }
        buf[n] = '\0';
        fclose(f);
        *out = buf;
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        const char *config_path = NULL, *program = getenv("APPPOOL_WORKER");
        struct epoll_event ev, events[32];
        struct itimerspec tick = { { 1, 0 }, { 1, 0 } };
        static int signal_tag, timer_tag;
        apid_ctx *ctx = NULL;
        char *text = NULL;
        sigset_t mask;
        int c, s, p, i, sfd, tfd;

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
                switch (c) {
                case 'c': config_path = optarg; break;
                case 'h':
                        printf("Usage: apppool-host --config FILE\n"
                               "\n"
                               "Serve static sites, each site's workers running as its application pool under a\n"
                               "restricted token. Signals: SIGHUP recycles every pool, SIGUSR1 logs the status,\n"
                               "SIGTERM or SIGINT stops. The configuration (INI) has [pool NAME] sections\n"
                               "(rapid_fail_max_crashes, rapid_fail_interval, recycle_interval) and [site NAME]\n"
                               "sections (pool, root, listen = 127.0.0.1:PORT, workers, program).\n"
                               "APPPOOL_WORKER names the worker program (default %s).\n", WORKER_PROGRAM);
                        return 0;
                default:
                        fprintf(stderr, "apppool-host: bad option; try --help\n");
                        return 2;
                }
        }
        if (!config_path) {
                fprintf(stderr, "apppool-host: --config FILE is needed; try --help\n");
                return 2;
        }
        if (read_file(config_path, &text) < 0) {
                fprintf(stderr, "apppool-host: %s: %s\n", config_path, strerror(errno));
                return 1;
        }
        if (config_parse(text, program ? program : WORKER_PROGRAM, &cfg) < 0) {
                fprintf(stderr, "apppool-host: %s: %s\n", config_path, cfg.error);
                free(text);
                return 1;
        }
        free(text);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGUSR1);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        if (apid_ctx_new(&ctx) != APID_OK) {
                fail("context");
                return 1;
        }
        if (setup(ctx) < 0)
                return 1;
        epfd = epoll_create1(EPOLL_CLOEXEC);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        timerfd_settime(tfd, 0, &tick, NULL);
        ev.events = EPOLLIN;
        ev.data.ptr = &signal_tag;
        epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
        ev.data.ptr = &timer_tag;
        epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
        for (s = 0; s < cfg.n_sites; s++)
                for (i = 0; i < cfg.sites[s].workers; i++)
                        start_worker(s);
        while (!shutting_down || workers) {
                int n = epoll_wait(epfd, events, 32, -1);

                for (i = 0; i < n; i++) {
                        if (events[i].data.ptr == &signal_tag) {
                                struct signalfd_siginfo si;

                                while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                        if (si.ssi_signo == SIGHUP) {
                                                for (p = 0; p < cfg.n_pools; p++)
                                                        recycle_pool(p, "on demand");
                                        } else if (si.ssi_signo == SIGUSR1) {
                                                status();
                                        } else if (!shutting_down) {
                                                struct worker *w;

                                                shutting_down = 1;
                                                deadline = time(NULL) + cfg.shutdown_timeout;
                                                logmsg("stopping: signal %d", si.ssi_signo);
                                                for (w = workers; w; w = w->next)
                                                        retire(w, SIGTERM);
                                        }
                                }
                        } else if (events[i].data.ptr == &timer_tag) {
                                uint64_t expirations;
                                time_t now = time(NULL);

                                if (read(tfd, &expirations, sizeof(expirations)) < 0)
                                        continue;
                                if (shutting_down && now >= deadline) {
                                        struct worker *w;

                                        for (w = workers; w; w = w->next)
                                                retire(w, SIGKILL);
                                }
                                for (p = 0; p < cfg.n_pools; p++)
                                        if (cfg.pools[p].recycle && now - pools[p].last_recycle >= cfg.pools[p].recycle)
                                                recycle_pool(p, "periodic");
                        } else {
                                reap(events[i].data.ptr);
                        }
                }
        }
        for (p = 0; p < cfg.n_pools; p++)
                apid_token_free(pools[p].token);
        for (s = 0; s < cfg.n_sites; s++)
                close(site_fd[s]);
        apid_ctx_unref(ctx);
        logmsg("stopped");
        return 0;
}
