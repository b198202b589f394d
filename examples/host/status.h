/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The example host's status page: a snapshot of the pools (filled by the
 * host), rendered as HTML or JSON with every value escaped, and a tiny
 * HTTP/1.1 server for it on a loopback admin listener. */
#ifndef APPPOOL_HOST_STATUS_H
#define APPPOOL_HOST_STATUS_H

#include <stddef.h>

struct status_worker {
        int pid;
        const char *site;
        const char *state;              /* "ready", "starting", "retiring" */
        long long uptime;               /* s */
        unsigned long long requests;    /* as the worker last reported them */
        long long private_kb, virtual_kb; /* -1: unknown */
};

struct status_pool {
        const char *name, *account, *sid;
        unsigned uid;
        const char *state;              /* "running", "idle", "stopped" */
        const char *start_mode;         /* "OnDemand", "AlwaysRunning" */
        int restarts, recycles;
        int failures, max_failures, interval, tripped; /* rapid-fail protection */
        long long last_recycle;         /* epoch s; 0: never */
        const char *last_why;
        const char *stop_why;           /* a stopped pool: why (rapid-fail protection, an administrator); else NULL */
        struct status_worker *workers;
        int n_workers;
};

struct status_snapshot {
        int host_pid;
        long long now;                  /* epoch s */
        struct status_pool *pools;
        int n_pools;
};

/* A malloc'd document and its length; NULL when out of memory. */
char *status_html(const struct status_snapshot *s, size_t *len);
char *status_json(const struct status_snapshot *s, size_t *len);

/* The admin listener. status_open() returns an epoll descriptor to watch
 * for reading (it holds the listener and the open connections), or -1 with
 * errno. status_run() serves what is ready, calling fill() for a snapshot
 * and release() after it; status_sweep() closes connections older than 5 s. */
struct status_server;
struct status_server *status_open(const char *address, int port, int *epoll_fd);
void status_run(struct status_server *srv, void (*fill)(struct status_snapshot *),
                void (*release)(struct status_snapshot *));
void status_sweep(struct status_server *srv);
void status_close(struct status_server *srv);

/* The worker's memory from /proc: virtual (VmSize) and private
 * (smaps_rollup Private_Clean + Private_Dirty + Private_Hugetlb; where that
 * cannot be read, /proc/PID/status RssAnon + VmSwap), in KB. 0, or -1. */
int proc_memory(int pid, long long *virtual_kb, long long *private_kb);

#endif
