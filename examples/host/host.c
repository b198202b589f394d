/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppool-host: a small multi-pool web host on libapppoolid (the WAS of this
 * project). It ensures each configured pool exists, grants each pool read
 * access to its own document root, opens the sites' listening sockets
 * itself, and runs each site's workers under its pool's restricted token,
 * passing only that site's socket. One event loop over the workers' pidfds,
 * a signalfd and a timerfd: crashed workers restart, rapid-fail protection
 * stops a pool, SIGHUP (or a period) recycles without dropping requests,
 * SIGUSR1 logs the status, SIGTERM stops everything and leaves nothing behind.
 * Each worker writes to its own log pipe, which the host reads and copies
 * into its log, every line prefixed with the site, the pool and the pid.
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
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <apppoolid.h>

#include "cgroup.h"
#include "regular.h"
#include "config.h"
#include "control.h"
#include "status.h"
#include "unavailable.h"

#ifndef WORKER_PROGRAM
#define WORKER_PROGRAM "/usr/local/libexec/apppool-worker"
#endif
#define LOG_LINE 2048

enum { TAG_PROC, TAG_LOG, TAG_READY, TAG_CTL, TAG_LISTEN, TAG_ADMIN };

struct worker;
struct tag {
        int kind;
        struct worker *w;
};

struct worker {
        apid_process *proc;
        int pid, site;
        int retiring;   /* told to stop (or killed): not restarted */
        long long kill_at; /* ms, monotonic: SIGKILL then if still alive after SIGTERM; 0 none */
        int ready;      /* wrote READY=1 on descriptor 4 */
        int fresh;      /* started by the recycle in progress, not ready yet */
        int old;        /* stops once the recycle's fresh workers are ready */
        int log_fd;     /* read end of the worker's stdout+stderr, -1 once closed */
        int ready_fd;   /* read end of its readiness pipe, -1 once closed */
        int ctl_fd;     /* the host's end of its control socket (descriptor 5), -1 once closed */
        long long started_ms;           /* monotonic */
        unsigned long long requests;    /* served, as the worker last reported */
        int conns;                      /* open connections, as last reported */
        long long ping_sent, next_ping; /* ms, monotonic; ping_sent 0: no ping outstanding */
        int hung;                       /* killed for not answering a ping: replaced */
        char line[LOG_LINE];
        size_t line_len;
        struct tag proc_tag, log_tag, ready_tag, ctl_tag;
        struct worker *next;
};

struct pool_state {
        apid_token *token;
        uint32_t uid;
        time_t crashes[MAX_CRASHES];
        int n_crashes;
        int stopped;
        int tripped;                    /* stopped by rapid-fail protection (not by an administrator) */
        char stop_why[192];             /* why it is stopped, for list, the status page and SIGUSR1 */
        time_t last_recycle;
        int recycling, recycle_again;
        time_t recycle_deadline;
        char recycle_why[192];
        /* The process model (pm_*() below). */
        int idle;                       /* OnDemand and no workers: the next connection starts them */
        int suspended;                  /* idleTimeoutAction Suspend: its cgroup is frozen; the next connection thaws it */
        long long last_activity;        /* ms, monotonic: a request, or a connection open */
        time_t schedule_checked;        /* recycling.periodicRestart.schedule: times up to this are done */
        long long measure_after;        /* ms: no recycle by measurement before (after a failed recycle) */
        long long activate_after;       /* ms: an idle pool whose start failed waits until then */
        int restarts, recycles;
        time_t last_recycle_done;       /* wall clock, for the status page; 0: never */
        char last_why[192];
        char *account, *sid;
};

static struct config cfg;
static struct pool_state pools[MAX_POOLS];
static int site_fd[MAX_SITES], site_pool[MAX_SITES];
static struct worker *workers, *graveyard;
static int epfd = -1, devnull = -1, shutting_down, broken;
static time_t deadline;
static struct tag listen_tags[MAX_SITES]; /* the listening sockets of idle, suspended and stopped pools */
static int listen_watched[MAX_SITES];
static int refuse_paused[MAX_SITES];    /* a stopped pool's socket, unwatched while the 503 set is full */
static struct status_server *status_srv;
static struct unavailable *unavail;
static struct control_server *control_srv;

static long long mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* The event loop's own machinery failed: say so, and leave the loop; main()
 * then stops every worker and exits 1 (never a spinning loop, never an
 * orphaned worker). */
static void fatal(const char *what)
{
        logmsg("event loop: %s: %s; stopping every worker and exiting", what, strerror(errno));
        broken = 1;
}

static int watch(int fd, struct tag *tag)
{
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

        return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* One line of a worker's output into the host's log, prefixed with who
 * wrote it; a control byte (an escape sequence, a '\r' that would hide
 * the prefix) is shown as '?'. */
static void log_line(struct worker *w)
{
        struct site_config *site = &cfg.sites[w->site];
        size_t i;

        for (i = 0; i < w->line_len; i++)
                if ((unsigned char)w->line[i] < 0x20 || w->line[i] == 0x7f)
                        w->line[i] = '?';
        logmsg("site %s, pool %s, pid %d: %.*s", site->name, site->pool, w->pid, (int)w->line_len, w->line);
        w->line_len = 0;
}

/* Read what the worker wrote; at EOF close the pipe. */
static void read_log(struct worker *w)
{
        char buf[4096];
        ssize_t n;

        while (w->log_fd >= 0) {
                n = read(w->log_fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        if (w->line_len)
                                log_line(w);
                        close(w->log_fd); /* also leaves the epoll set */
                        w->log_fd = -1;
                        return;
                }
                for (ssize_t i = 0; i < n; i++) {
                        if (buf[i] == '\n') {
                                log_line(w);
                                continue;
                        }
                        w->line[w->line_len++] = buf[i];
                        if (w->line_len == sizeof(w->line))
                                log_line(w); /* an overlong line is cut, never merged */
                }
        }
}

static void kill_and_reap(struct worker *w)
{
        if (apid_process_signal(w->proc, SIGKILL) != APID_OK)
                logmsg("SIGKILL to pid %d: %s", w->pid, apid_error_message());
        if (apid_process_wait(w->proc, -1) != APID_OK)
                logmsg("wait for pid %d: %s", w->pid, apid_error_message());
}

static void free_worker(struct worker *w)
{
        if (w->log_fd >= 0)
                close(w->log_fd);
        if (w->ready_fd >= 0)
                close(w->ready_fd);
        if (w->ctl_fd >= 0)
                close(w->ctl_fd);
        apid_process_free(w->proc);
        free(w);
}

/* Start one worker of site s: its own log pipe as stdout and stderr (never
 * the host's: a worker could truncate or forge the host's log), /dev/null
 * as stdin, the site's socket as 3, a readiness pipe as 4. */
static struct worker *start_worker(int s, int fresh)
{
        struct site_config *site = &cfg.sites[s];
        struct pool_state *pool = &pools[site_pool[s]];
        char header[16], idle[16];
        const char *argv[] = { site->program, "--header-timeout", header, "--idle-timeout", idle, site->root, NULL };
        apid_launch_attr *attr = NULL;
        int logp[2] = { -1, -1 }, readyp[2] = { -1, -1 }, ctl[2] = { -1, -1 }, r;
        struct worker *w;

        snprintf(header, sizeof(header), "%d", cfg.header_timeout);
        snprintf(idle, sizeof(idle), "%d", cfg.idle_timeout);
        w = calloc(1, sizeof(*w));
        if (!w || pipe2(logp, O_CLOEXEC) < 0 || pipe2(readyp, O_CLOEXEC) < 0 ||
            fcntl(logp[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(readyp[0], F_SETFL, O_NONBLOCK) < 0 ||
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0 || fcntl(ctl[0], F_SETFL, O_NONBLOCK) < 0) {
                logmsg("site %s: cannot start a worker: %s", site->name, strerror(errno));
                for (r = 0; r < 2; r++) {
                        if (logp[r] >= 0)
                                close(logp[r]);
                        if (readyp[r] >= 0)
                                close(readyp[r]);
                        if (ctl[r] >= 0)
                                close(ctl[r]);
                }
                free(w);
                return NULL;
        }
        r = apid_launch_attr_new(&attr);
        if (r == APID_OK)
                r = apid_launch_attr_pass_fd(attr, devnull, 0);
        if (r == APID_OK)
                r = apid_launch_attr_pass_fd(attr, logp[1], 1);
        if (r == APID_OK)
                r = apid_launch_attr_pass_fd(attr, logp[1], 2);
        if (r == APID_OK)
                r = apid_launch_attr_pass_fd(attr, site_fd[s], 3);
        if (r == APID_OK)
                r = apid_launch_attr_pass_fd(attr, readyp[1], 4);
        if (r == APID_OK)
                r = apid_launch_attr_pass_fd(attr, ctl[1], 5);
        if (r == APID_OK)
                r = apid_launch_attr_set_parent_death_signal(attr, SIGKILL);
        if (r == APID_OK)
                r = limits_attach(site_pool[s], attr);
        if (r == APID_OK)
                r = apid_launch(pool->token, attr, site->program, argv, &w->proc);
        apid_launch_attr_free(attr);
        close(logp[1]);
        close(readyp[1]);
        close(ctl[1]);
        w->log_fd = logp[0];
        w->ready_fd = readyp[0];
        w->ctl_fd = ctl[0];
        if (r != APID_OK) {
                logmsg("site %s: cannot start a worker: %s", site->name, apid_error_message());
                w->proc = NULL;
                free_worker(w);
                return NULL;
        }
        w->site = s;
        w->pid = apid_process_get_pid(w->proc);
        w->fresh = fresh;
        w->proc_tag = (struct tag){ TAG_PROC, w };
        w->log_tag = (struct tag){ TAG_LOG, w };
        w->ready_tag = (struct tag){ TAG_READY, w };
        w->ctl_tag = (struct tag){ TAG_CTL, w };
        w->started_ms = mono_ms();
        w->next_ping = w->started_ms + cfg.pools[site_pool[s]].pm.ping_interval * 1000LL;
        if (watch(apid_process_get_fd(w->proc), &w->proc_tag) < 0 || watch(w->log_fd, &w->log_tag) < 0 ||
            watch(w->ready_fd, &w->ready_tag) < 0 || watch(w->ctl_fd, &w->ctl_tag) < 0) {
                /* Nobody would reap it: it must not outlive this call. */
                fatal("epoll_ctl(ADD) for a new worker");
                kill_and_reap(w);
                read_log(w);
                free_worker(w);
                return NULL;
        }
        w->next = workers;
        workers = w;
        logmsg("worker started: site %s, pool %s, pid %d, uid %u", site->name, site->pool, w->pid, pool->uid);
        return w;
}

static void retire(struct worker *w, int sig)
{
        w->retiring = 1;
        /* A worker may ignore SIGTERM: it is killed shutdown_timeout later
         * (IIS's shutdownTimeLimit), or it would live on with the site's
         * socket, outside every count of the pool's workers. */
        if (sig != SIGKILL && !w->kill_at)
                w->kill_at = mono_ms() + cfg.shutdown_timeout * 1000LL;
        else if (sig == SIGKILL)
                w->kill_at = 0;
        if (apid_process_signal(w->proc, sig) != APID_OK)
                logmsg("signal %d to pid %d: %s", sig, w->pid, apid_error_message());
}

/* Retired workers still alive shutdown_timeout after their SIGTERM. */
static void retire_overdue(void)
{
        long long now = mono_ms();
        struct worker *w;

        for (w = workers; w; w = w->next)
                if (w->retiring && w->kill_at && now >= w->kill_at) {
                        logmsg("worker pid %d (site %s) still runs %d s after SIGTERM (shutdown_timeout): SIGKILL",
                               w->pid, cfg.sites[w->site].name, cfg.shutdown_timeout);
                        retire(w, SIGKILL);
                }
}

static void pm_watch_listeners(int p, int on);
static void pm_thaw(int p);

/* Rapid-fail protection stopped the pool. As HTTP.sys does for IIS, the host
 * keeps its listening sockets and answers what arrives there itself, no
 * worker started: 503 (failure.loadBalancerCapabilities HttpLevel) or a
 * reset (TcpLevel); refuse() below. */
static void stop_pool(int p, const char *why)
{
        struct worker *w;

        pools[p].stopped = 1; /* (first: the thaw must not top the pool up) */
        pm_thaw(p); /* (a frozen worker would not see its SIGTERM) */
        pools[p].recycling = 0;
        pools[p].recycle_again = 0;
        snprintf(pools[p].stop_why, sizeof(pools[p].stop_why), "%s", why);
        logmsg("pool %s stopped: %s; its connections are answered %s (failure.loadBalancerCapabilities %s)",
               cfg.pools[p].name, why, cfg.pools[p].tcp_level ? "with a reset" : "503 Service Unavailable",
               cfg.pools[p].tcp_level ? "TcpLevel" : "HttpLevel");
        for (w = workers; w; w = w->next)
                if (site_pool[w->site] == p && !w->retiring)
                        retire(w, SIGTERM);
        pm_watch_listeners(p, 1);
}

/* A connection waits on site s of a stopped pool: the host answers it. */
static void refuse(int s)
{
        int p = site_pool[s], r = unavailable_accept(unavail, site_fd[s], cfg.pools[p].tcp_level);

        if (r == -2) {
                /* A process of the pool shut the shared socket down: it
                 * reports readable (EPOLLHUP) for ever, and the host spun on
                 * it. Nothing can be accepted there again. */
                logmsg("site %s: its listening socket no longer listens (shut down by a process of pool %s): "
                       "not answered any more",
                       cfg.sites[s].name, cfg.pools[p].name);
                if (epoll_ctl(epfd, EPOLL_CTL_DEL, site_fd[s], NULL) < 0)
                        fatal("epoll_ctl(DEL) for a stopped pool's socket");
                listen_watched[s] = 0;
                return;
        }
        if (r < 0) {
                /* The answering set is full: the rest wait in the queue
                 * (level-triggered: unwatched until there is room). */
                if (epoll_ctl(epfd, EPOLL_CTL_DEL, site_fd[s], NULL) < 0)
                        fatal("epoll_ctl(DEL) for a stopped pool's socket");
                listen_watched[s] = 0;
                refuse_paused[s] = 1;
        }
}

/* Once a second: a stopped pool's sockets watched again when there is room. */
static void refuse_resume(void)
{
        int s;

        for (s = 0; s < cfg.n_sites && !unavailable_full(unavail); s++)
                if (refuse_paused[s]) {
                        refuse_paused[s] = 0;
                        pm_watch_listeners(site_pool[s], 1);
                }
}

/* Each site of pool p gets back to its configured number of workers. */
static void top_up(int p)
{
        struct worker *w;
        int s, n;

        for (s = 0; s < cfg.n_sites; s++) {
                if (site_pool[s] != p)
                        continue;
                for (n = 0, w = workers; w; w = w->next)
                        n += w->site == s && !w->retiring;
                for (; n < cfg.sites[s].workers; n++)
                        if (!start_worker(s, 0))
                                break;
        }
}

static void recycle_pool(int p, const char *why);

/* A recycle that cannot complete: its new workers go, the old ones stay. */
static void recycle_abort(int p, const char *reason)
{
        struct worker *w;

        for (w = workers; w; w = w->next) {
                if (site_pool[w->site] != p)
                        continue;
                if (w->fresh && !w->retiring)
                        retire(w, SIGKILL);
                w->fresh = w->old = 0;
        }
        pools[p].recycling = 0;
        /* A limit still exceeded would retry at once, and again: wait. */
        pools[p].measure_after = mono_ms() + cfg.startup_timeout * 1000LL;
        logmsg("pool %s: recycle (%s) failed: %s; the old workers keep serving", cfg.pools[p].name,
               pools[p].recycle_why, reason);
        top_up(p);
}

/* Once every new worker is ready, the old ones stop. */
static void recycle_check(int p)
{
        struct worker *w;

        if (!pools[p].recycling)
                return;
        for (w = workers; w; w = w->next)
                if (site_pool[w->site] == p && w->fresh && !w->ready)
                        return;
        for (w = workers; w; w = w->next) {
                if (site_pool[w->site] != p)
                        continue;
                if (w->old && !w->retiring)
                        retire(w, SIGTERM);
                w->fresh = w->old = 0;
        }
        pools[p].recycling = 0;
        pools[p].last_recycle = time(NULL);
        pools[p].last_recycle_done = pools[p].last_recycle;
        pools[p].recycles++;
        memcpy(pools[p].last_why, pools[p].recycle_why, sizeof(pools[p].last_why)); /* same size */
        logmsg("pool %s recycled (%s)", cfg.pools[p].name, pools[p].recycle_why);
        if (pools[p].recycle_again) {
                pools[p].recycle_again = 0;
                recycle_pool(p, "queued");
        }
}

/* Start new workers first; retire the old ones when the new ones are
 * ready. The listening socket is shared, so requests keep being accepted
 * throughout, and the old workers finish every connection they accepted. */
static void recycle_pool(int p, const char *why)
{
        struct pool_state *ps = &pools[p];
        struct worker *w;
        int s, i;

        if (ps->stopped || ps->idle || shutting_down || broken)
                return; /* (an idle pool has nothing to recycle: its next worker is new) */
        pm_thaw(p); /* a suspended pool's new workers would be born frozen */
        if (ps->recycling) {
                ps->recycle_again = 1;
                return;
        }
        snprintf(ps->recycle_why, sizeof(ps->recycle_why), "%s", why);
        ps->recycling = 1;
        ps->recycle_deadline = time(NULL) + cfg.startup_timeout;
        for (w = workers; w; w = w->next)
                if (site_pool[w->site] == p && !w->retiring)
                        w->old = 1;
        for (s = 0; s < cfg.n_sites; s++)
                if (site_pool[s] == p)
                        for (i = 0; i < cfg.sites[s].workers; i++)
                                if (!start_worker(s, 1)) {
                                        recycle_abort(p, "a new worker could not be started");
                                        return;
                                }
        recycle_check(p);
}

static void on_ready(struct worker *w)
{
        char buf[64];
        ssize_t n = read(w->ready_fd, buf, sizeof(buf) - 1);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n > 0) {
                buf[n] = '\0';
                w->ready = strstr(buf, "READY=1") != NULL;
        }
        close(w->ready_fd); /* one message, or EOF: done either way */
        w->ready_fd = -1;
        if (w->ready)
                recycle_check(site_pool[w->site]);
}

static void status(void)
{
        struct worker *w;
        int p;

        for (p = 0; p < cfg.n_pools; p++) {
                char pids[1024] = "";

                for (w = workers; w; w = w->next)
                        if (site_pool[w->site] == p)
                                snprintf(pids + strlen(pids), sizeof(pids) - strlen(pids), " %d%s", w->pid,
                                         w->retiring ? "(retiring)" : w->ready ? "" : "(starting)");
                logmsg("status: pool %s (uid %u) %s%s%s%s; workers:%s", cfg.pools[p].name, pools[p].uid,
                       pools[p].stopped ? "stopped" : pools[p].idle ? "idle" : pools[p].suspended ? "suspended" : "started",
                       pools[p].stopped ? " (" : "", pools[p].stopped ? pools[p].stop_why : "",
                       pools[p].stopped ? ")" : "", pids[0] ? pids : " none");
        }
}

/* The IIS process model (appcmd's names; docs/host.md):
 *  - startMode OnDemand: an idle pool has no worker; the host watches its
 *    listening sockets, and the first connection starts its workers, which
 *    accept that connection from the shared socket (nothing is dropped);
 *  - processModel.idleTimeout: a pool with no request and no open
 *    connection for that long stops its workers and is idle again;
 *  - processModel.pinging*: a ready worker is sent "ping" on its control
 *    socket every pingInterval; one that does not answer within
 *    pingResponseTime is killed and replaced (a failure, as in IIS);
 *  - recycling.periodicRestart.requests, .memory, .privateMemory,
 *    .schedule: an overlapping recycle (recycle_pool()), with the reason.
 * Activity: each worker reports "report REQUESTS CONNECTIONS" on its control
 * socket when they change (at most once a second) and answers a ping with
 * "pong REQUESTS CONNECTIONS"; the host never looks at the traffic itself. */
static void pm_watch_listeners(int p, int on)
{
        int s;

        for (s = 0; s < cfg.n_sites; s++) {
                struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listen_tags[s] };

                if (site_pool[s] != p)
                        continue;
                refuse_paused[s] = 0;
                if (listen_watched[s] == on)
                        continue;
                listen_tags[s] = (struct tag){ TAG_LISTEN, NULL };
                if (epoll_ctl(epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, site_fd[s], on ? &ev : NULL) < 0 &&
                    !(!on && errno == ENOENT))
                        fatal(on ? "epoll_ctl(ADD) for a listening socket" : "epoll_ctl(DEL) for a listening socket");
                listen_watched[s] = on;
        }
}

/* processModel.idleTimeoutAction = Suspend. Is a connection open on one of
 * pool p's sites (established, or closed by the client and not yet by the
 * worker)? The workers report their connections at most once a second, so
 * the kernel's own table (/proc/net/tcp) is asked before a freeze and right
 * after it: a worker frozen with a connection would leave its client
 * hanging until the next connection thaws the pool. */
static int pm_pool_has_connections(int p)
{
        char line[512], local[32];
        FILE *f = fopen("/proc/net/tcp", "re");
        int s, busy = 0;

        if (!f)
                return 1; /* cannot tell: not idle */
        while (!busy && fgets(line, sizeof(line), f)) {
                unsigned state;
                char addr[32];

                if (sscanf(line, " %*s %31s %*s %x", addr, &state) != 2 ||
                    (state != 0x01 && state != 0x03 && state != 0x08)) /* ESTABLISHED, SYN_RECV, CLOSE_WAIT */
                        continue;
                for (s = 0; s < cfg.n_sites && !busy; s++) {
                        struct in_addr a;

                        if (site_pool[s] != p || inet_pton(AF_INET, cfg.sites[s].address, &a) != 1)
                                continue;
                        /* The kernel prints the address as the raw 32-bit word, in hex. */
                        snprintf(local, sizeof(local), "%08X:%04X", (unsigned)a.s_addr, (unsigned)cfg.sites[s].port);
                        busy = strcmp(addr, local) == 0;
                }
        }
        fclose(f);
        return busy;
}

/* A suspended pool runs again: thawed, pinged afresh (a frozen worker
 * answers no ping), its sockets left to its workers, and any worker that
 * died meanwhile replaced. */
static void pm_thaw(int p)
{
        long long now = mono_ms();
        struct worker *w;

        if (!pools[p].suspended)
                return;
        pools[p].suspended = 0;
        pools[p].last_activity = now;
        if (limits_freeze(p, 0) < 0) {
                /* A worker that stays frozen serves nobody: replace them all. */
                logmsg("pool %s: cannot thaw its cgroup (cgroup.freeze): %s; its workers are killed and replaced",
                       cfg.pools[p].name, strerror(errno));
                for (w = workers; w; w = w->next)
                        if (site_pool[w->site] == p && !w->retiring && apid_process_signal(w->proc, SIGKILL) != APID_OK)
                                logmsg("SIGKILL to pid %d: %s", w->pid, apid_error_message());
        }
        for (w = workers; w; w = w->next)
                if (site_pool[w->site] == p) {
                        w->ping_sent = 0;
                        w->next_ping = now + cfg.pools[p].pm.ping_interval * 1000LL;
                }
        pm_watch_listeners(p, 0);
        if (!pools[p].stopped && !shutting_down && !broken)
                top_up(p);
}

/* idleTimeout passed with idleTimeoutAction = Suspend: freeze the pool's
 * cgroup; 0, or -1 when it cannot be (the caller terminates instead). */
static int pm_suspend(int p)
{
        if (pm_pool_has_connections(p))
                return 1; /* not idle after all */
        if (limits_freeze(p, 1) < 0) {
                logmsg("pool %s: cannot freeze its cgroup (cgroup.freeze): %s; its workers stop instead",
                       cfg.pools[p].name, strerror(errno));
                return -1;
        }
        pools[p].suspended = 1;
        if (pm_pool_has_connections(p)) { /* one was accepted just before the freeze */
                pm_thaw(p);
                return 1;
        }
        logmsg("pool %s idle for %d s (processModel.idleTimeout): suspended, its cgroup frozen "
               "(processModel.idleTimeoutAction Suspend); the next connection thaws it",
               cfg.pools[p].name, cfg.pools[p].pm.idle_timeout);
        pm_watch_listeners(p, 1);
        return 0;
}

/* A connection waits on site s of a suspended pool: thaw it; its workers
 * accept the connection from the shared socket once they run again, so
 * nothing is served frozen. */
static void pm_resume(int s)
{
        int p = site_pool[s];

        pm_thaw(p);
        logmsg("pool %s resumed (cgroup thawed): a connection to site %s", cfg.pools[p].name, cfg.sites[s].name);
}

static int pool_has_workers(int p)
{
        struct worker *w;

        for (w = workers; w; w = w->next)
                if (site_pool[w->site] == p && !w->retiring)
                        return 1;
        return 0;
}

/* A connection is waiting on site s of an idle pool: start the pool. */
static void pm_activate(int s)
{
        int p = site_pool[s];

        pm_watch_listeners(p, 0); /* level-triggered: never leave it watched */
        if (!pools[p].idle || pools[p].stopped || shutting_down || broken)
                return;
        pools[p].idle = 0;
        pools[p].last_activity = mono_ms();
        logmsg("pool %s started on demand: a connection to site %s", cfg.pools[p].name, cfg.sites[s].name);
        top_up(p);
        if (!pool_has_workers(p)) {
                /* Not a launch a second: the connections wait in the queue. */
                pools[p].idle = 1;
                pools[p].activate_after = pools[p].last_activity + cfg.startup_timeout * 1000LL;
                logmsg("pool %s: cannot start on demand; its connections wait, and it is tried again in %d s",
                       cfg.pools[p].name, cfg.startup_timeout);
        }
}

static void pm_go_idle(int p)
{
        struct worker *w;

        if (cfg.pools[p].pm.suspend) {
                int r = pm_suspend(p);

                if (r > 0)
                        pools[p].last_activity = mono_ms();
                if (r >= 0)
                        return;
        }
        logmsg("pool %s idle for %d s (processModel.idleTimeout): its workers stop; the next connection starts them",
               cfg.pools[p].name, cfg.pools[p].pm.idle_timeout);
        for (w = workers; w; w = w->next)
                if (site_pool[w->site] == p && !w->retiring)
                        retire(w, SIGTERM);
        pools[p].idle = 1;
        pm_watch_listeners(p, 1);
}

/* At start: AlwaysRunning pools get their workers, OnDemand ones wait. */
static void pm_start(void)
{
        int p;

        for (p = 0; p < cfg.n_pools && !broken; p++) {
                pools[p].schedule_checked = time(NULL);
                if (cfg.pools[p].pm.always_running) {
                        top_up(p);
                } else {
                        pools[p].idle = 1;
                        pm_watch_listeners(p, 1);
                }
        }
}

/* Messages on a worker's control socket (the worker is not trusted: what it
 * says only steers its own pool's idle timeout and recycling). */
static void pm_on_ctl(struct worker *w)
{
        int p = site_pool[w->site], i;
        long long now = mono_ms();

        for (i = 0; i < 32 && w->ctl_fd >= 0; i++) {
                unsigned long long requests;
                char msg[64];
                int conns;
                ssize_t n = recv(w->ctl_fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);

                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                if (n <= 0) {
                        close(w->ctl_fd); /* also leaves the epoll set */
                        w->ctl_fd = -1;
                        return;
                }
                msg[n] = '\0';
                if (sscanf(msg, "pong %llu %d", &requests, &conns) == 2) {
                        w->ping_sent = 0;
                        w->next_ping = now + cfg.pools[p].pm.ping_interval * 1000LL;
                } else if (sscanf(msg, "report %llu %d", &requests, &conns) != 2) {
                        continue;
                }
                if (requests != w->requests || conns > 0)
                        pools[p].last_activity = now;
                w->requests = requests;
                w->conns = conns > 0 ? conns : 0;
        }
}

/* The first time of day of the schedule in (from, to], local time; -1 if none. */
static int pm_schedule_due(const struct pm_config *pm, time_t from, time_t to)
{
        struct tm day;
        int i, back;

        if (!localtime_r(&to, &day))
                return -1;
        for (back = 1; back >= 0; back--)
                for (i = 0; i < pm->n_schedule; i++) {
                        struct tm t = day;
                        time_t when;

                        t.tm_mday -= back;
                        t.tm_hour = pm->schedule[i] / 3600;
                        t.tm_min = pm->schedule[i] / 60 % 60;
                        t.tm_sec = pm->schedule[i] % 60;
                        t.tm_isdst = -1;
                        when = mktime(&t);
                        if (when != (time_t)-1 && when > from && when <= to)
                                return pm->schedule[i];
                }
        return -1;
}

/* Why pool p must be recycled now (requests, memory, schedule), or "". */
static void pm_recycle_reason(int p, time_t wall, char *why, size_t size)
{
        const struct pm_config *pm = &cfg.pools[p].pm;
        long long now_ms = mono_ms();
        struct worker *w;
        int t;

        why[0] = '\0';
        for (w = workers; w && !why[0]; w = w->next) {
                long long vm, priv;

                if (site_pool[w->site] != p || w->retiring || !w->ready)
                        continue;
                if (cfg.pools[p].recycle && now_ms - w->started_ms >= cfg.pools[p].recycle * 1000LL)
                        snprintf(why, size, "time: pid %d has run %lld s, recycling.periodicRestart.time %d s", w->pid,
                                 (now_ms - w->started_ms) / 1000, cfg.pools[p].recycle);
                else if (pm->requests && w->requests >= (unsigned long long)pm->requests)
                        snprintf(why, size, "requests: pid %d served %llu requests, limit %lld", w->pid, w->requests,
                                 pm->requests);
                else if ((pm->memory_kb || pm->private_kb) && proc_memory(w->pid, &vm, &priv) == 0) {
                        if (pm->private_kb && priv > pm->private_kb)
                                snprintf(why, size, "privateMemory: pid %d uses %lld KB, limit %lld KB", w->pid, priv,
                                         pm->private_kb);
                        else if (pm->memory_kb && vm > pm->memory_kb)
                                snprintf(why, size, "memory: pid %d uses %lld KB of virtual memory, limit %lld KB",
                                         w->pid, vm, pm->memory_kb);
                }
        }
        if (!why[0] && (t = pm_schedule_due(pm, pools[p].schedule_checked, wall)) >= 0)
                snprintf(why, size, "schedule: %02d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
}

/* Once a second: pings, idle timeouts, recycling by measurement. */
static void pm_tick(void)
{
        long long now = mono_ms();
        time_t wall = time(NULL);
        int p;

        for (p = 0; p < cfg.n_pools && !broken; p++) {
                const struct pm_config *pm = &cfg.pools[p].pm;
                struct pool_state *ps = &pools[p];
                struct worker *w;
                char why[192];
                int busy = 0;

                if (ps->idle && ps->activate_after && now >= ps->activate_after) {
                        ps->activate_after = 0;
                        pm_watch_listeners(p, 1); /* a connection still waiting starts it again */
                }
                if (ps->stopped || ps->idle || ps->suspended) {
                        ps->schedule_checked = wall; /* no worker, or a frozen one: nothing to recycle, none to ping */
                        continue;
                }
                for (w = workers; w; w = w->next) {
                        if (site_pool[w->site] != p || w->retiring)
                                continue;
                        busy |= w->conns > 0;
                        if (!pm->pinging || !w->ready || w->hung)
                                continue;
                        if (w->ping_sent && now - w->ping_sent >= pm->ping_response * 1000LL) {
                                logmsg("pool %s: worker pid %d did not answer a ping within %d s "
                                       "(processModel.pingResponseTime); it is killed and replaced",
                                       cfg.pools[p].name, w->pid, pm->ping_response);
                                w->hung = 1;
                                if (apid_process_signal(w->proc, SIGKILL) != APID_OK)
                                        logmsg("SIGKILL to pid %d: %s", w->pid, apid_error_message());
                        } else if (!w->ping_sent && now >= w->next_ping) {
                                /* Unanswered (a full socket, a closed one) is as good as no answer. */
                                if (w->ctl_fd >= 0)
                                        (void)send(w->ctl_fd, "ping", 4, MSG_DONTWAIT | MSG_NOSIGNAL);
                                w->ping_sent = now;
                        }
                }
                if (ps->recycling)
                        continue; /* (the schedule is looked at again after it) */
                if (busy)
                        ps->last_activity = now;
                /* (Terminate stops an OnDemand pool only; Suspend keeps the
                 * workers, so an AlwaysRunning pool is suspended too.) */
                if ((!pm->always_running || pm->suspend) && pm->idle_timeout &&
                    now - ps->last_activity >= pm->idle_timeout * 1000LL) {
                        pm_go_idle(p);
                        continue;
                }
                if (now < ps->measure_after)
                        continue; /* (the schedule too: it is looked at again after that) */
                pm_recycle_reason(p, wall, why, sizeof(why));
                ps->schedule_checked = wall;
                if (why[0])
                        recycle_pool(p, why);
        }
}

/* The status page's snapshot: pools, identities, workers, measured now. */
static void status_fill(struct status_snapshot *snap)
{
        long long now = mono_ms();
        time_t wall = time(NULL);
        int p, i;

        memset(snap, 0, sizeof(*snap));
        snap->host_pid = getpid();
        snap->now = wall;
        snap->pools = calloc((size_t)cfg.n_pools, sizeof(*snap->pools));
        if (!snap->pools)
                return;
        snap->n_pools = cfg.n_pools;
        for (p = 0; p < cfg.n_pools; p++) {
                struct status_pool *sp = &snap->pools[p];
                struct pool_state *ps = &pools[p];
                struct worker *w;
                int n = 0;

                sp->name = cfg.pools[p].name;
                sp->account = ps->account;
                sp->sid = ps->sid;
                sp->uid = ps->uid;
                sp->state = ps->stopped ? "stopped" : ps->idle ? "idle" : ps->suspended ? "suspended" : "running";
                sp->start_mode = cfg.pools[p].pm.always_running ? "AlwaysRunning" : "OnDemand";
                sp->restarts = ps->restarts;
                sp->recycles = ps->recycles;
                for (i = 0; i < ps->n_crashes; i++)
                        sp->failures += ps->crashes[i] > wall - cfg.pools[p].interval;
                sp->max_failures = cfg.pools[p].max_crashes;
                sp->interval = cfg.pools[p].interval;
                sp->tripped = ps->stopped && ps->tripped;
                sp->stop_why = ps->stopped ? ps->stop_why : NULL;
                sp->last_recycle = ps->last_recycle_done;
                sp->last_why = ps->last_why;
                for (w = workers; w; w = w->next)
                        n += site_pool[w->site] == p;
                sp->workers = n ? calloc((size_t)n, sizeof(*sp->workers)) : NULL;
                if (!sp->workers)
                        continue;
                for (w = workers; w; w = w->next) {
                        struct status_worker *sw;

                        if (site_pool[w->site] != p)
                                continue;
                        sw = &sp->workers[sp->n_workers++];
                        sw->pid = w->pid;
                        sw->site = cfg.sites[w->site].name;
                        sw->state = w->retiring ? "retiring" : w->ready ? "ready" : "starting";
                        sw->uptime = (now - w->started_ms) / 1000;
                        sw->requests = w->requests;
                        proc_memory(w->pid, &sw->virtual_kb, &sw->private_kb);
                }
        }
}

static void status_release(struct status_snapshot *snap)
{
        int p;

        for (p = 0; p < snap->n_pools; p++)
                free(snap->pools[p].workers);
        free(snap->pools);
}

/* The administrator's commands (control.h), appcmd's start, stop, recycle
 * and list apppool. Bad input never gets here (control_parse()); a pool
 * that does not exist, or is in the wrong state, is refused and nothing
 * changes. */

/* An administrator starts a stopped pool: rapid-fail protection forgets
 * its failures, the host stops answering for it, and it runs as at the
 * host's start (AlwaysRunning: its workers now; OnDemand: at the next
 * connection, which waits in the queue meanwhile). */
static void start_pool(int p)
{
        struct pool_state *ps = &pools[p];

        ps->stopped = 0;
        ps->tripped = 0;
        ps->stop_why[0] = '\0';
        ps->n_crashes = 0;
        ps->measure_after = 0;
        ps->activate_after = 0;
        ps->last_activity = mono_ms();
        ps->schedule_checked = time(NULL);
        if (cfg.pools[p].pm.always_running) {
                ps->idle = 0;
                pm_watch_listeners(p, 0); /* its workers accept again */
                top_up(p);
        } else {
                ps->idle = 1;
                pm_watch_listeners(p, 1); /* the next connection starts it */
        }
}

/* The pool named name: an exact match, else the one that matches ignoring
 * ASCII case (IIS's pool names are case-insensitive); -1 if none or two. */
static int find_pool(const char *name)
{
        int p, found = -1, n = 0;

        for (p = 0; p < cfg.n_pools; p++)
                if (strcmp(cfg.pools[p].name, name) == 0)
                        return p;
        for (p = 0; p < cfg.n_pools; p++)
                if (strcasecmp(cfg.pools[p].name, name) == 0) {
                        found = p;
                        n++;
                }
        return n == 1 ? found : -1;
}

static int live_workers(int p)
{
        struct worker *w;
        int n = 0;

        for (w = workers; w; w = w->next)
                n += site_pool[w->site] == p && !w->retiring;
        return n;
}

/* list: one line a pool, as appcmd list apppool prints them. */
static void control_list(char *reply, size_t size)
{
        size_t len = 0;
        int p;

        reply[0] = '\0';
        for (p = 0; p < cfg.n_pools && len + 1 < size; p++) {
                struct pool_state *ps = &pools[p];
                const char *activity = ps->stopped ? "none" : ps->idle ? "idle" : ps->suspended ? "suspended" : "running";
                char name[sizeof(cfg.pools[p].name) * 4];

                control_escape(cfg.pools[p].name, strlen(cfg.pools[p].name), name, sizeof(name));
                len += (size_t)snprintf(reply + len, size - len,
                                        "APPPOOL \"%s\" (state:%s,startMode:%s,workers:%d,activity:%s%s%s)\n", name,
                                        ps->stopped ? "Stopped" : "Started",
                                        cfg.pools[p].pm.always_running ? "AlwaysRunning" : "OnDemand", live_workers(p),
                                        activity,
                                        ps->stopped ? ",stoppedBy:" : "", ps->stopped ? ps->stop_why : "");
        }
}

static void control_exec(const struct control_cmd *cmd, uid_t uid, char *reply, size_t size)
{
        static const char *const words[] = { "start", "stop", "recycle", "list" };
        char name[sizeof(cmd->pool) * 4], why[192];
        int p;

        if (cmd->verb == CONTROL_LIST) {
                control_list(reply, size); /* (not logged: a monitor may ask every second) */
                return;
        }
        control_escape(cmd->pool, strlen(cmd->pool), name, sizeof(name));
        p = find_pool(cmd->pool);
        if (p < 0) {
                size_t len = (size_t)snprintf(reply, size, "error: no pool named '%s' in this host (its pools:", name);
                int i;

                for (i = 0; i < cfg.n_pools && len + 1 < size; i++)
                        len += (size_t)snprintf(reply + len, size - len, "%s '%s'", i ? "," : "", cfg.pools[i].name);
                if (len + 1 < size)
                        snprintf(reply + len, size - len, ")");
        } else if (shutting_down) {
                snprintf(reply, size, "error: pool '%s': the host is stopping", cfg.pools[p].name);
        } else if (cmd->verb == CONTROL_START) {
                if (!pools[p].stopped) {
                        snprintf(reply, size, "error: pool '%s' is already started", cfg.pools[p].name);
                } else {
                        logmsg("pool %s started by an administrator (control socket, uid %u); it was stopped: %s",
                               cfg.pools[p].name, (unsigned)uid, pools[p].stop_why);
                        start_pool(p);
                        if (cfg.pools[p].pm.always_running)
                                snprintf(reply, size, "pool '%s' started: workers starting: %d", cfg.pools[p].name,
                                         live_workers(p));
                        else
                                snprintf(reply, size,
                                         "pool '%s' started (startMode OnDemand: its workers start at the next "
                                         "connection)", cfg.pools[p].name);
                }
        } else if (cmd->verb == CONTROL_STOP) {
                if (pools[p].stopped) {
                        snprintf(reply, size, "error: pool '%s' is already stopped: %s", cfg.pools[p].name,
                                 pools[p].stop_why);
                } else {
                        int n = live_workers(p);

                        snprintf(why, sizeof(why), "an administrator's stop command (control socket, uid %u)",
                                 (unsigned)uid);
                        pools[p].tripped = 0;
                        stop_pool(p, why);
                        snprintf(reply, size, "pool '%s' stopped: workers told to stop (SIGTERM): %d",
                                 cfg.pools[p].name, n);
                }
        } else if (pools[p].stopped) {
                snprintf(reply, size, "error: pool '%s' is stopped (%s): start it first", cfg.pools[p].name,
                         pools[p].stop_why);
        } else if (pools[p].idle) {
                snprintf(reply, size, "pool '%s' is idle (no worker): nothing to recycle; its next worker is new",
                         cfg.pools[p].name);
        } else {
                int queued = pools[p].recycling;

                snprintf(why, sizeof(why), "an administrator (control socket, uid %u)", (unsigned)uid);
                recycle_pool(p, why);
                snprintf(reply, size, queued ? "pool '%s': a recycle is in progress; another is queued after it"
                                             : "pool '%s' recycling: new workers start, the old ones stop once they "
                                               "are ready", cfg.pools[p].name);
        }
        logmsg("control: uid %u: %s %s: %s", (unsigned)uid, words[cmd->verb], name, reply);
}

static void control_refused(uid_t uid, pid_t pid)
{
        logmsg("control: refused a connection from uid %u (pid %d): only root%s may command the host",
               (unsigned)uid, (int)pid, geteuid() ? " or the host's own uid" : "");
}

/* The control socket's directory must be one only root (or the host's
 * uid) can write: else another user could put a socket of their own there
 * (a fake host the administrator's commands go to) or remove ours. A live
 * socket at the path is another host: refused; a dead one is replaced. */
static int open_control(apid_ctx *ctx, int *fd)
{
        char path[sizeof(cfg.control_path)], dir[sizeof(cfg.control_path)], *slash;
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        struct stat st;
        int n;

        if (cfg.control_path[0])
                n = snprintf(path, sizeof(path), "%s", cfg.control_path);
        else
                n = snprintf(path, sizeof(path), "%s/host/control", apid_ctx_get_state_dir(ctx));
        if (n < 0 || (size_t)n >= sizeof(path)) {
                logmsg("control socket %s/host/control: longer than %zu bytes; set [host] control",
                       apid_ctx_get_state_dir(ctx), sizeof(path) - 1);
                return -1;
        }
        memcpy(dir, path, sizeof(dir));
        slash = strrchr(dir, '/');
        *slash = '\0';
        if (!dir[0])
                strcpy(dir, "/");
        if (!cfg.control_path[0] && mkdir(dir, 0700) < 0 && errno != EEXIST) {
                logmsg("control socket: cannot create %s: %s", dir, strerror(errno));
                return -1;
        }
        /* Every directory above it too: who may rename one on the way could
         * swap the checked directory for another after the check. The
         * socket is then made in the directory the links led to. */
        {
                char *real = realpath(dir, NULL), *p;

                if (!real) {
                        logmsg("control socket %s: its directory %s: %s", path, dir, strerror(errno));
                        return -1;
                }
                for (p = real; p; p = strchr(p + 1, '/')) {
                        char c = p[1];

                        p[1] = '\0';
                        n = lstat(real, &st);
                        p[1] = c;
                        if (n == 0 && (st.st_uid != 0 || ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))) {
                                p[p == real ? 1 : 0] = '\0';
                                logmsg("control socket %s: the directory %s above it is owned by uid %u, mode %04o: "
                                       "whoever may write it could swap the socket's directory; every directory "
                                       "above must be root's, not group- or world-writable (unless sticky)",
                                       path, real, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
                                free(real);
                                return -1;
                        }
                        if (p == real && !p[1])
                                break;
                }
                n = snprintf(path, sizeof(path), "%s/%s", strcmp(real, "/") ? real : "", slash + 1);
                snprintf(dir, sizeof(dir), "%s", real);
                free(real);
                if (n < 0 || (size_t)n >= sizeof(path) || (size_t)n >= sizeof(a.sun_path)) {
                        logmsg("control socket in %s: the path is too long", dir);
                        return -1;
                }
        }
        errno = 0;
        if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                logmsg("control socket %s: its directory %s: %s", path, dir,
                       errno ? strerror(errno) : "not a directory");
                return -1;
        }
        if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
                logmsg("control socket %s: its directory %s is owned by uid %u, mode %04o: it must be one only root "
                       "can write (owned by root, not group- or world-writable)",
                       path, dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
                return -1;
        }
        if (lstat(path, &st) == 0) {
                int probe;

                if (!S_ISSOCK(st.st_mode)) {
                        logmsg("control socket %s: exists and is not a socket; remove it or set [host] control", path);
                        return -1;
                }
                probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
                if (probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof(a)) == 0) {
                        close(probe);
                        logmsg("control socket %s: another host answers on it; set [host] control", path);
                        return -1;
                }
                if (probe >= 0)
                        close(probe);
                unlink(path); /* a host that was killed left it */
        }
        control_srv = control_open(path, fd);
        if (!control_srv) {
                logmsg("control socket %s: %s", path, strerror(errno));
                return -1;
        }
        logmsg("control socket %s (apppool-host --control %s list)", path, path);
        return 0;
}

static void reap(struct worker *w)
{
        struct worker **pp;
        int s = w->site, p = site_pool[s], code, sig, n = 0, i, failure;
        time_t now = time(NULL);
        const char *limit;
        char what[64];

        if (apid_process_wait(w->proc, 0) != APID_OK)
                return;
        read_log(w); /* its last words first */
        code = apid_process_exit_code(w->proc);
        sig = apid_process_term_signal(w->proc);
        if (sig)
                snprintf(what, sizeof(what), "killed by signal %d", sig);
        else
                snprintf(what, sizeof(what), "status %d", code);
        limit = limits_exit_reason(p, sig, &failure);
        logmsg("worker exited: site %s, pid %d, %s%s%s", cfg.sites[s].name, w->pid, what, limit ? ", " : "",
               limit ? limit : "");
        if (epoll_ctl(epfd, EPOLL_CTL_DEL, apid_process_get_fd(w->proc), NULL) < 0)
                fatal("epoll_ctl(DEL) for a worker");
        for (pp = &workers; *pp; pp = &(*pp)->next)
                if (*pp == w) {
                        *pp = w->next;
                        break;
                }
        /* Freed after this batch of events: one may still name it. */
        w->next = graveyard;
        graveyard = w;
        if (w->retiring || shutting_down || broken || pools[p].stopped)
                return;
        if (w->fresh) {
                char why[128];

                snprintf(why, sizeof(why), "new worker pid %d exited (%s) before it was ready", w->pid, what);
                recycle_abort(p, why);
                return;
        }
        if (!failure) { /* killed by the host for a limit: a new worker, no failure counted */
                if (!(w->old && pools[p].recycling) && !pools[p].suspended) /* (suspended: at the thaw) */
                        start_worker(s, 0);
                return;
        }
        /* A failure: rapid-fail protection counts it (IIS: N in T seconds). */
        if (pools[p].n_crashes == MAX_CRASHES) {
                memmove(pools[p].crashes, pools[p].crashes + 1, sizeof(pools[p].crashes[0]) * (MAX_CRASHES - 1));
                pools[p].n_crashes--;
        }
        pools[p].crashes[pools[p].n_crashes++] = now;
        for (i = 0; i < pools[p].n_crashes; i++)
                n += pools[p].crashes[i] > now - cfg.pools[p].interval;
        if (cfg.pools[p].rapid_fail && n >= cfg.pools[p].max_crashes) {
                char why[128];

                snprintf(why, sizeof(why), "rapid-fail protection, %d failures in %d s", n, cfg.pools[p].interval);
                pools[p].tripped = 1;
                stop_pool(p, why);
        } else if (!(w->old && pools[p].recycling) && !pools[p].suspended) {
                /* (An old worker that dies during a recycle is being replaced
                 * already; one of a suspended pool, when the pool thaws.) */
                pools[p].restarts++;
                start_worker(s, 0);
        }
}

/* cpu.action KillW3wp: the pool's workers are killed when its CPU use over
 * cpu.resetInterval passed cpu.limit; reap() starts new ones. */
static void cpu_limit(int p, time_t now)
{
        struct worker *w;
        char why[192];

        if (!limits_tick(p, now, why, sizeof(why)))
                return;
        logmsg("pool %s: %s: killing its workers", cfg.pools[p].name, why);
        for (w = workers; w; w = w->next)
                if (site_pool[w->site] == p && !w->retiring) {
                        limits_note_cpu_kill(p);
                        if (apid_process_signal(w->proc, SIGKILL) != APID_OK)
                                logmsg("SIGKILL to pid %d: %s", w->pid, apid_error_message());
                }
        limits_kill_rest(p);
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
            bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            listen(fd, cfg.pools[site_pool[s - cfg.sites]].pm.queue_length) < 0) { /* IIS queueLength */
                logmsg("site %s: cannot listen on %s:%d: %s", s->name, s->address, s->port, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        return fd;
}

/* The path to a document root, up to its parent directory, must be one no
 * pool can redirect: the host runs as root and grants the site's pool
 * (OI)(CI)RX on whatever the path leads to. A pool that owns a directory
 * above the parent (sites/a, root sites/a/app/html) could rename app and
 * put a link to another tree in its place (/var/www, holding an html/ of
 * another site's), and be granted that tree. So the parent is reached as
 * lib/util/safepath.c reaches the state directory: one component at a time
 * with openat(O_PATH | O_NOFOLLOW), every directory passed through root's
 * and not writable by group or others (unless sticky), every symbolic link
 * root's, followed by hand. The parent itself may be anyone's (a pool may
 * own its site's directory): nothing above it can change, and the root's
 * last component is never followed (the ACL walk refuses a link there).
 * The walk is written again here, not shared: the examples link only the
 * public API. Returns an O_PATH descriptor of the parent, or -1 (logged). */
static int refuse_way(const struct site_config *s, const char *real, const char *kind, const struct stat *st)
{
        logmsg("site %s: document root %s: %s %s is owned by uid %u (mode %04o): whoever owns a directory on the "
               "way can redirect the grant; every directory above the document root's parent and every link on "
               "the way must be root's, and not writable by group or others (unless sticky)",
               s->name, s->root, kind, real[0] ? real : "/", (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777));
        return -1;
}

static int walk_fail(const struct site_config *s, int fd, const char *what)
{
        logmsg("site %s: document root %s: %s: %s", s->name, s->root, what, strerror(errno));
        if (fd >= 0)
                close(fd);
        return -1;
}

static int open_root_parent(const struct site_config *s, const char *parent)
{
        char todo[2200], real[2200], name[256], target[1100], next[2200];
        struct stat st;
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), links = 0;

        real[0] = '\0';
        snprintf(todo, sizeof(todo), "%s", parent);
        while (fd >= 0 && todo[0]) {
                size_t len = strcspn(todo, "/");
                int nfd;

                if (len == 0 || (len == 1 && todo[0] == '.')) {
                        memmove(todo, todo + len + (todo[len] == '/'), strlen(todo + len + (todo[len] == '/')) + 1);
                        continue;
                }
                if (len >= sizeof(name))
                        return errno = ENAMETOOLONG, walk_fail(s, fd, todo);
                memcpy(name, todo, len);
                name[len] = '\0';
                memmove(todo, todo + len, strlen(todo + len) + 1);
                if (fstat(fd, &st) < 0)
                        return walk_fail(s, fd, real[0] ? real : "/");
                if (st.st_uid != 0 || ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))
                        return close(fd), refuse_way(s, real, "directory", &st);
                nfd = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0 || fstat(nfd, &st) < 0) {
                        if (nfd >= 0)
                                close(nfd);
                        return walk_fail(s, fd, name);
                }
                if (S_ISLNK(st.st_mode)) {
                        ssize_t n;

                        snprintf(next, sizeof(next), "%s/%s", real, name);
                        if (st.st_uid != 0)
                                return close(nfd), close(fd), refuse_way(s, next, "symbolic link", &st);
                        n = readlinkat(nfd, "", target, sizeof(target) - 1);
                        close(nfd);
                        if (n < 0)
                                return walk_fail(s, fd, next);
                        if (++links > 32)
                                return errno = ELOOP, walk_fail(s, fd, next);
                        target[n] = '\0';
                        if ((size_t)snprintf(next, sizeof(next), "%s/%s", target, todo) >= sizeof(next))
                                return errno = ENAMETOOLONG, walk_fail(s, fd, target);
                        memcpy(todo, next, strlen(next) + 1);
                        if (target[0] == '/') { /* from the root again */
                                close(fd);
                                fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                real[0] = '\0';
                        }
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        close(nfd);
                        return errno = ENOTDIR, walk_fail(s, fd, name);
                }
                if (strcmp(name, "..") == 0) {
                        char *slash = strrchr(real, '/');

                        if (slash)
                                *slash = '\0';
                } else if ((size_t)snprintf(next, sizeof(next), "%s/%s", real, name) < sizeof(real)) {
                        memcpy(real, next, strlen(next) + 1);
                }
                close(fd);
                fd = nfd;
        }
        if (fd < 0)
                return walk_fail(s, -1, "/");
        return fd;
}

/* A document root that does not exist yet gets a first page. It is made
 * relative to its parent, reached by open_root_parent(): never through a
 * link, and its page never through one (a pool owning the parent could
 * swap the new directory for a link between the mkdir and the page). */
static int ensure_root(struct site_config *s)
{
        char path[1100], page[512], *p, *base;
        struct stat st;
        int pfd, dfd = -1, fd = -1, n, r = -1;

        snprintf(path, sizeof(path), "%s", s->root);
        while (strlen(path) > 1 && path[strlen(path) - 1] == '/')
                path[strlen(path) - 1] = '\0';
        base = strrchr(path, '/');
        if (!base[1]) /* the root is "/": nothing above it */
                return 0;
        *base++ = '\0';
        if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
                logmsg("site %s: document root %s: ends in '%s'; name the directory itself", s->name, s->root, base);
                return -1;
        }
        /* The parents a new root needs, as before; what they lead to is checked next. */
        for (p = path + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        mkdir(path, 0755);
                        *p = '/';
                }
        if (path[0])
                mkdir(path, 0755);
        pfd = open_root_parent(s, path[0] ? path : "/");
        if (pfd < 0)
                return -1;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                close(pfd);
                if (S_ISDIR(st.st_mode))
                        return 0;
                logmsg("site %s: root %s is not a directory%s", s->name, s->root,
                       S_ISLNK(st.st_mode) ? " (a symbolic link, not followed)" : "");
                return -1;
        }
        if (mkdirat(pfd, base, 0750) < 0) {
                logmsg("site %s: cannot create %s: %s", s->name, s->root, strerror(errno));
                goto out;
        }
        n = snprintf(page, sizeof(page),
                     "<!doctype html>\n<title>%s</title>\n<h1>Site %s</h1>\n<p>Served by a worker of the "
                     "application pool %s, running as IIS APPPOOL\\%s.</p>\n",
                     s->name, s->name, s->pool, s->pool);
        dfd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        fd = dfd < 0 ? -1 : openat(dfd, "index.html", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0 || write(fd, page, (size_t)n) != n) {
                logmsg("site %s: cannot write %s/index.html: %s", s->name, s->root, strerror(errno));
                goto out;
        }
        logmsg("site %s: created the document root %s", s->name, s->root);
        r = 0;
out:
        if (fd >= 0)
                close(fd);
        if (dfd >= 0)
                close(dfd);
        close(pfd);
        return r;
}

/* The account and SID, as the status page shows them. */
static int pool_identity_strings(int p, const apid_identity *id)
{
        char *sid = NULL;

        if (apid_sid_to_string(apid_identity_get_sid(id), &sid) != APID_OK)
                return -1;
        pools[p].sid = strdup(sid);
        apid_free(sid);
        pools[p].account = strdup(apid_identity_get_account(id));
        return pools[p].sid && pools[p].account ? 0 : -1;
}

static int setup(apid_ctx *ctx)
{
        int p, s;

        for (p = 0; p < cfg.n_pools; p++) {
                apid_pool *pool = NULL;
                apid_identity *id = NULL;

                /* Branch on the status returned, never on apid_error_status(). */
                int r = apid_pool_open(ctx, cfg.pools[p].name, &pool);

                if (r == APID_ENOTFOUND) {
                        if (apid_pool_create(ctx, cfg.pools[p].name, &pool) != APID_OK)
                                return fail(cfg.pools[p].name);
                        logmsg("pool %s created", cfg.pools[p].name);
                } else if (r != APID_OK) {
                        return fail(cfg.pools[p].name);
                }
                if (apid_pool_get_identity(pool, &id) != APID_OK || apid_token_new(id, &pools[p].token) != APID_OK) {
                        apid_pool_free(pool);
                        apid_identity_free(id);
                        return fail(cfg.pools[p].name);
                }
                pools[p].uid = apid_identity_get_uid(id);
                cfg.pools[p].limits.freeze = cfg.pools[p].pm.suspend; /* Suspend: a cgroup v2 to freeze */
                if (limits_setup(p, apid_identity_get_user(id), &cfg.pools[p].limits, logmsg) < 0) {
                        logmsg("pool %s: its cgroups cannot be set up (above); stopping", cfg.pools[p].name);
                        apid_identity_free(id);
                        apid_pool_free(pool);
                        return -1;
                }
                pools[p].last_recycle = time(NULL);
                if (pool_identity_strings(p, id) < 0) {
                        apid_identity_free(id);
                        apid_pool_free(pool);
                        return fail(cfg.pools[p].name);
                }
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

/* The configuration file: a regular file only (a FIFO would block the
 * start for ever; *kind says what it was instead). */
static int read_file(const char *path, char **out, const char **kind)
{
        int fd = apid__open_regular(path, 0, kind);
        FILE *f = fd < 0 ? NULL : fdopen(fd, "r");
        char *buf;
        long n;

        if (!f) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
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

/* apppool-host --control SOCKET COMMAND: one command to a running host,
 * appcmd's grammar accepted too (start apppool /apppool.name:X). The answer
 * on stdout; a refusal on stderr, and exit status 1. */
static int control_client(const char *path, int argc, char **argv)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        struct timeval tv = { 10, 0 };
        static char reply[CONTROL_REPLY_MAX + 1];
        const char *verb, *name = NULL;
        char msg[CONTROL_MSG_MAX + 2];
        ssize_t n;
        int fd, len;

        if (argc < 1) {
                fprintf(stderr, "apppool-host: --control SOCKET needs a command: start POOL, stop POOL, recycle POOL "
                                "or list\n");
                return 2;
        }
        verb = argv[0];
        argc--, argv++;
        if (argc && strcmp(argv[0], "apppool") == 0) /* appcmd: start apppool ... */
                argc--, argv++;
        if (argc > 1) {
                fprintf(stderr, "apppool-host: --control: one pool name after %s (quote a name with spaces)\n", verb);
                return 2;
        }
        if (argc == 1) {
                name = argv[0];
                if (strncmp(name, "/apppool.name:", 14) == 0)
                        name += 14;
        }
        len = snprintf(msg, sizeof(msg), "%s%s%s", verb, name ? " " : "", name ? name : "");
        if (len < 0 || (size_t)len >= sizeof(msg))
                len = (int)sizeof(msg) - 1; /* the host says it is too long */
        if (strlen(path) >= sizeof(a.sun_path)) {
                fprintf(stderr, "apppool-host: --control %s: longer than %zu bytes\n", path, sizeof(a.sun_path) - 1);
                return 1;
        }
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                fprintf(stderr, "apppool-host: --control %s: %s\n", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return 1;
        }
        /* (EPIPE: the host answered at once, a refusal, and closed; the
         * answer still waits to be read.) */
        if (send(fd, msg, (size_t)len, MSG_NOSIGNAL) < 0 && errno != EPIPE) {
                fprintf(stderr, "apppool-host: --control %s: send: %s\n", path, strerror(errno));
                close(fd);
                return 1;
        }
        n = recv(fd, reply, sizeof(reply) - 1, 0);
        if (n < 0 && errno == ECONNRESET) /* (the host closed with our message unread: its answer still waits) */
                n = recv(fd, reply, sizeof(reply) - 1, MSG_DONTWAIT);
        close(fd);
        if (n <= 0) {
                fprintf(stderr, "apppool-host: --control %s: %s\n", path,
                        n == 0 ? "the host closed the connection without an answer"
                               : errno == EAGAIN ? "no answer within 10 s" : strerror(errno));
                return 1;
        }
        reply[n] = '\0';
        if (strncmp(reply, "error: ", 7) == 0) {
                fprintf(stderr, "apppool-host: %s", reply + 7);
                return 1;
        }
        fputs(reply, stdout);
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "control", required_argument, NULL, 'C' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        const char *config_path = NULL, *control_path = NULL, *program = getenv("APPPOOL_WORKER"), *kind;
        struct epoll_event events[32];
        struct itimerspec tick = { { 1, 0 }, { 1, 0 } };
        static struct tag signal_tag, timer_tag, admin_tag, unavail_tag, control_tag;
        apid_ctx *ctx = NULL;
        char *text = NULL;
        sigset_t mask;
        int c, s, p, i, sfd, tfd, status_code, control_fd = -1;

        /* ("+": options end at the first command word, so that a pool name
         * that starts with '-' is a name.) */
        while ((c = getopt_long(argc, argv, "+c:h", options, NULL)) != -1) {
                switch (c) {
                case 'c': config_path = optarg; break;
                case 'C': control_path = optarg; break;
                case 'h':
                        printf("Usage: apppool-host --config FILE\n"
                               "       apppool-host --control SOCKET start|stop|recycle [apppool] POOL\n"
                               "       apppool-host --control SOCKET list\n"
                               "\n"
                               "Serve static sites, each site's workers running as its application pool under a\n"
                               "restricted token. Signals: SIGHUP recycles every pool, SIGUSR1 logs the status,\n"
                               "SIGTERM or SIGINT stops. The configuration (INI) has [pool NAME] sections\n"
                               "(rapid_fail_max_crashes, rapid_fail_interval, recycle_interval, and IIS's\n"
                               "startMode, processModel.*, queueLength, failure.*, recycling.periodicRestart.*),\n"
                               "[site NAME] "
                               "sections (pool, root, listen = 127.0.0.1:PORT, workers, program) and [host]\n"
                               "(shutdown_timeout, startup_timeout, header_timeout, idle_timeout, status, control).\n"
                               "--control sends one command to a running host's control socket (appcmd's\n"
                               "start, stop, recycle apppool and list apppool; POOL may be /apppool.name:POOL);\n"
                               "the exit status is 1 when the host refuses it.\n"
                               "See apppool-host.ini(5).\n"
                               "APPPOOL_WORKER names the worker program (default %s).\n", WORKER_PROGRAM);
                        return 0;
                default:
                        fprintf(stderr, "apppool-host: bad option; try --help\n");
                        return 2;
                }
        }
        if (control_path && !config_path)
                return control_client(control_path, argc - optind, argv + optind);
        if (!config_path || control_path || optind < argc) {
                fprintf(stderr, "apppool-host: --config FILE, or --control SOCKET COMMAND, is needed; try --help\n");
                return 2;
        }
        if (read_file(config_path, &text, &kind) < 0) {
                if (kind)
                        fprintf(stderr, "apppool-host: %s: is %s, not a regular file\n", config_path, kind);
                else
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
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                perror("apppool-host: sigprocmask");
                return 1;
        }
        signal(SIGPIPE, SIG_IGN);
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0) {
                perror("apppool-host: /dev/null");
                return 1;
        }
        if (apid_ctx_new(&ctx) != APID_OK) {
                fail("context");
                return 1;
        }
        limits_instance(apid_ctx_get_state_dir(ctx), apid_ctx_default_state_dir());
        /* A configured control socket is checked (and bound) first: a bad
         * one stops the host before any pool or ACL is touched. The default
         * one lives in the state directory, which setup() may create. */
        if (!cfg.control_off && cfg.control_path[0] && open_control(ctx, &control_fd) < 0) {
                apid_ctx_unref(ctx);
                return 1;
        }
        if (setup(ctx) < 0) {
                control_close(control_srv);
                apid_ctx_unref(ctx); /* (leak checkers run at exit) */
                return 1;
        }
        epfd = epoll_create1(EPOLL_CLOEXEC);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (epfd < 0 || sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &tick, NULL) < 0) {
                logmsg("event loop: cannot create it: %s", strerror(errno));
                control_close(control_srv);
                apid_ctx_unref(ctx);
                return 1;
        }
        if (watch(sfd, &signal_tag) < 0 || watch(tfd, &timer_tag) < 0) {
                logmsg("event loop: epoll_ctl: %s", strerror(errno));
                control_close(control_srv);
                apid_ctx_unref(ctx);
                return 1;
        }
        {
                int unavail_fd;

                unavail = unavailable_open(cfg.header_timeout, &unavail_fd);
                if (!unavail || watch(unavail_fd, &unavail_tag) < 0) {
                        logmsg("event loop: the stopped pools' answers: %s", strerror(errno));
                        control_close(control_srv);
                apid_ctx_unref(ctx);
                        return 1;
                }
        }
        if (cfg.status_port) {
                int admin_fd;

                status_srv = status_open(cfg.status_address, cfg.status_port, &admin_fd);
                if (!status_srv || watch(admin_fd, &admin_tag) < 0) {
                        logmsg("status page: cannot listen on %s:%d: %s", cfg.status_address, cfg.status_port,
                               strerror(errno));
                        control_close(control_srv);
                apid_ctx_unref(ctx);
                        return 1;
                }
                logmsg("status page on http://%s:%d/ (and /status.json)", cfg.status_address, cfg.status_port);
        }
        if (!cfg.control_off) {
                if ((!control_srv && open_control(ctx, &control_fd) < 0) || watch(control_fd, &control_tag) < 0) {
                        if (control_srv)
                                logmsg("event loop: the control socket: %s", strerror(errno));
                        control_close(control_srv);
                        status_close(status_srv);
                        unavailable_close(unavail);
                        apid_ctx_unref(ctx);
                        return 1;
                }
        }
        pm_start();
        while (!broken && (!shutting_down || workers)) {
                int n = epoll_wait(epfd, events, 32, -1);

                if (n < 0 && errno != EINTR) {
                        fatal("epoll_wait");
                        break;
                }
                for (i = 0; i < n && !broken; i++) {
                        struct tag *tag = events[i].data.ptr;

                        if (tag == &signal_tag) {
                                struct signalfd_siginfo si;
                                ssize_t got;

                                while ((got = read(sfd, &si, sizeof(si))) == sizeof(si)) {
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
                                                for (p = 0; p < cfg.n_pools; p++) {
                                                        pm_thaw(p); /* frozen, a worker would not see SIGTERM */
                                                        pools[p].recycling = 0;
                                                }
                                                for (w = workers; w; w = w->next)
                                                        if (!w->retiring)
                                                                retire(w, SIGTERM);
                                        }
                                }
                                if (got < 0 && errno != EAGAIN && errno != EINTR)
                                        fatal("read(signalfd)");
                        } else if (tag == &timer_tag) {
                                uint64_t expirations;
                                time_t now = time(NULL);

                                if (read(tfd, &expirations, sizeof(expirations)) < 0) {
                                        if (errno != EAGAIN && errno != EINTR)
                                                fatal("read(timerfd)");
                                        continue;
                                }
                                if (shutting_down && now >= deadline) {
                                        struct worker *w;

                                        for (w = workers; w; w = w->next)
                                                retire(w, SIGKILL);
                                }
                                retire_overdue();
                                for (p = 0; p < cfg.n_pools; p++) {
                                        if (pools[p].recycling && now >= pools[p].recycle_deadline) {
                                                char why[96];

                                                snprintf(why, sizeof(why), "new workers not ready within %d s",
                                                         cfg.startup_timeout);
                                                recycle_abort(p, why);
                                        }
                                        cpu_limit(p, now);
                                }
                                unavailable_sweep(unavail);
                                refuse_resume();
                                if (control_srv)
                                        control_sweep(control_srv);
                                if (!shutting_down && !broken) {
                                        pm_tick();
                                        if (status_srv)
                                                status_sweep(status_srv);
                                }
                        } else if (tag == &admin_tag) {
                                status_run(status_srv, status_fill, status_release);
                        } else if (tag == &unavail_tag) {
                                unavailable_run(unavail);
                        } else if (tag == &control_tag) {
                                control_run(control_srv, control_exec, control_refused);
                        } else if (tag->kind == TAG_LISTEN) {
                                int site = (int)(tag - listen_tags);

                                if (pools[site_pool[site]].stopped)
                                        refuse(site);
                                else if (pools[site_pool[site]].suspended)
                                        pm_resume(site);
                                else
                                        pm_activate(site);
                        } else if (tag->kind == TAG_CTL) {
                                pm_on_ctl(tag->w);
                        } else if (tag->kind == TAG_PROC) {
                                reap(tag->w);
                        } else if (tag->kind == TAG_LOG) {
                                read_log(tag->w);
                        } else if (tag->w->ready_fd >= 0) {
                                on_ready(tag->w);
                        }
                }
                while (graveyard) {
                        struct worker *w = graveyard;

                        graveyard = w->next;
                        free_worker(w);
                }
        }
        status_code = 0;
        if (broken) {
                /* Nothing may outlive a host that cannot watch its workers. */
                while (workers) {
                        struct worker *w = workers;

                        workers = w->next;
                        kill_and_reap(w);
                        read_log(w);
                        logmsg("worker stopped: site %s, pid %d", cfg.sites[w->site].name, w->pid);
                        free_worker(w);
                }
                status_code = 1;
        }
        control_close(control_srv);
        status_close(status_srv);
        unavailable_close(unavail);
        for (p = 0; p < cfg.n_pools; p++) {
                apid_token_free(pools[p].token);
                free(pools[p].account);
                free(pools[p].sid);
        }
        for (s = 0; s < cfg.n_sites; s++)
                close(site_fd[s]);
        apid_ctx_unref(ctx);
        logmsg(broken ? "stopped after a failure" : "stopped");
        return status_code;
}
