/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The example host's configuration file (INI, read with libinih):
 *
 *   [pool DefaultAppPool]
 *   rapid_fail_max_crashes = 5        ; IIS defaults: 5 crashes in 5 minutes
 *   rapid_fail_interval = 300
 *   failure.rapidFailProtection = true ; (rapid_fail_max_crashes, _interval: also
 *   failure.rapidFailProtectionMaxCrashes = 5    ; under appcmd's names)
 *   failure.rapidFailProtectionInterval = 00:05:00
 *   failure.loadBalancerCapabilities = HttpLevel ; a stopped pool: 503 (TcpLevel: reset)
 *   recycling.periodicRestart.time = 1.05:00:00  ; 0 = off (recycle_interval: its old name)
 *   startMode = OnDemand              ; the IIS process model, appcmd's names
 *   processModel.idleTimeout = 00:20:00   ; (struct pm_config, pm_key())
 *   processModel.idleTimeoutAction = Terminate ; or Suspend (cgroup v2 freezer)
 *   processModel.pingingEnabled = true
 *   processModel.pingInterval = 00:00:30
 *   processModel.pingResponseTime = 00:01:30
 *   processModel.maxProcesses = 1
 *   queueLength = 1000
 *   recycling.periodicRestart.requests = 0
 *   recycling.periodicRestart.memory = 0          ; KB
 *   recycling.periodicRestart.privateMemory = 0   ; KB
 *   recycling.periodicRestart.schedule = 03:00:00,15:30:00
 *
 *   [site Default]
 *   pool = DefaultAppPool
 *   root = /srv/apppool-host/default
 *   listen = 127.0.0.1:8081
 *   workers = 2
 *   program = /usr/lib/apppoolid/apppool-worker   ; optional
 *
 *   [host]
 *   shutdown_timeout = 10   ; seconds
 *   startup_timeout = 30    ; a recycle's new workers must be ready by then
 *   header_timeout = 10     ; the worker closes a connection whose head is late
 *   idle_timeout = 5        ; ... and an idle keep-alive connection
 *   status = 127.0.0.1:8090 ; the status page (loopback only); none by default
 *   control = /var/lib/apppoolid/host/control ; the control socket (the default: STATE_DIR/host/control); or none
 */
#ifndef APPPOOL_HOST_CONFIG_H
#define APPPOOL_HOST_CONFIG_H

#include "limits.h"
#include <stddef.h>

#define MAX_POOLS 32
/* The most failures rapid-fail protection can count in its window: the host
 * keeps the time of each (host.c), so a larger maxCrashes could never trip. */
#define MAX_CRASHES 1024
#define MAX_SITES 32
#define MAX_WORKERS 64

#define MAX_SCHEDULE 24

/* The IIS process model of one pool, under appcmd's names (see pm_key()). */
struct pm_config {
        int always_running;     /* startMode: 0 = OnDemand (IIS default), 1 = AlwaysRunning */
        int idle_timeout;       /* processModel.idleTimeout, s: 1200; 0 = never */
        int suspend;            /* processModel.idleTimeoutAction: 0 = Terminate (IIS default), 1 = Suspend */
        int pinging;            /* processModel.pingingEnabled: 1 */
        int ping_interval;      /* processModel.pingInterval, s: 30 */
        int ping_response;      /* processModel.pingResponseTime, s: 90 */
        int max_processes;      /* processModel.maxProcesses (web garden): 1 */
        int queue_length;       /* queueLength, the listen backlog: 1000 */
        long long requests;     /* recycling.periodicRestart.requests: 0 = off */
        long long memory_kb;    /* recycling.periodicRestart.memory (virtual), KB: 0 = off */
        long long private_kb;   /* recycling.periodicRestart.privateMemory, KB: 0 = off */
        int schedule[MAX_SCHEDULE]; /* recycling.periodicRestart.schedule: seconds after midnight */
        int n_schedule;
};

struct pool_config {
        char name[128];
        int max_crashes;        /* failure.rapidFailProtectionMaxCrashes (rapid_fail_max_crashes): 5 */
        int interval;           /* failure.rapidFailProtectionInterval (rapid_fail_interval), s: 300 */
        int rapid_fail;         /* failure.rapidFailProtection: 1 */
        int tcp_level;          /* failure.loadBalancerCapabilities: 0 = HttpLevel (503, IIS default), 1 = TcpLevel */
        int recycle;            /* recycling.periodicRestart.time (recycle_interval), s: 104400 (29 h); 0 = off */
        char recycle_key[40];   /* the key that set it, "": the default */
        struct pool_limits limits; /* cpu.*, privateMemory, linux.pidsMax: limits.h */
        struct pm_config pm;
};

struct site_config {
        char name[128];
        char pool[128];
        char root[1024];
        char address[64];
        int port;
        int workers;            /* 0 until set: the pool's maxProcesses */
        char program[1024];
};

struct config {
        struct pool_config pools[MAX_POOLS];
        int n_pools;
        struct site_config sites[MAX_SITES];
        int n_sites;
        int shutdown_timeout;   /* s: SIGTERM, then SIGKILL after this */
        int startup_timeout;    /* s: a recycle's new worker must be ready within this */
        int header_timeout;     /* s: a request head must arrive within this */
        int idle_timeout;       /* s: an idle keep-alive connection closes after this */
        char status_address[64]; /* the status page (loopback only); "" = off */
        int status_port;
        char control_path[108];  /* the control socket (control.h); "": the default, in the state directory */
        int control_off;         /* control = none */
        char error[512];
};

/* One process-model key of a pool (appcmd's name): 1 if it is one and
 * valid, 0 if it is not one of them, -1 with error set when the value is bad. */
int pm_key(struct pm_config *pm, const char *key, const char *value, char *error, size_t size);
void pm_defaults(struct pm_config *pm);

/* IIS's periodic recycle: recycling.periodicRestart.time's default, 1.05:00:00. */
#define PERIODIC_RESTART_DEFAULT (29 * 3600)

/* Read a configuration from text (the file's contents). Returns 0, or -1
 * with config->error naming the line, the key and the value. */
int config_parse(const char *text, const char *default_program, struct config *config);

#endif
