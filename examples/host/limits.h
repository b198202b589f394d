/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The resource limits of a pool, as the configuration gives them (IIS names;
 * cgroup.c applies them):
 *
 *   [pool Shop]
 *   cpu.limit = 50000             ; 1/1000ths of a percent of all CPUs (IIS); 0 = off
 *   cpu.action = Throttle         ; NoAction, KillW3wp, Throttle, ThrottleUnderLoad
 *   cpu.resetInterval = 00:05:00  ; KillW3wp's measuring window (IIS); 00:00:00 = no monitoring
 *   recycling.periodicRestart.privateMemory = 262144   ; KB; the pool's memory limit
 *   linux.pidsMax = 256           ; our extension: processes and threads of the pool
 */
#ifndef APPPOOL_HOST_LIMITS_H
#define APPPOOL_HOST_LIMITS_H

#include <stddef.h>
#include <stdint.h>

enum cpu_action { CPU_NO_ACTION, CPU_KILL_W3WP, CPU_THROTTLE, CPU_THROTTLE_UNDER_LOAD };

struct pool_limits {
        uint32_t cpu_limit;        /* 1/1000ths of a percent; 0 = off */
        int cpu_action;            /* enum cpu_action */
        uint32_t reset_interval;   /* s; IIS default 5 minutes */
        uint64_t private_memory;   /* KB; 0 = off */
        uint32_t pids_max;         /* 0 = off */
        int freeze;                /* processModel.idleTimeoutAction = Suspend: a cgroup v2 to freeze */
};

/* Defaults (IIS: limit 0, NoAction, resetInterval 00:05:00). */
void limits_defaults(struct pool_limits *l);

/* One [pool] key: 1 if it is a limit key and its value is good, 0 if the key
 * is not one of these, -1 with error naming the key and the value (nothing
 * changes). */
int limits_config_key(struct pool_limits *l, const char *key, const char *value, char *error, size_t size);

#endif
