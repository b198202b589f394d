/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a pool's resource limits from the configuration (limits.h); no
 * system call here, so the configuration fuzzer runs it too. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "limits.h"

void limits_defaults(struct pool_limits *l)
{
        memset(l, 0, sizeof(*l));
        l->cpu_action = CPU_NO_ACTION;
        l->reset_interval = 300;
}

static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
        char *end;
        unsigned long long n;

        if (!isdigit((unsigned char)v[0]))
                return -1;
        errno = 0;
        n = strtoull(v, &end, 10);
        if (*end || errno || n > max)
                return -1;
        *out = n;
        return 0;
}

/* An IIS timeSpan: [d.]hh:mm:ss, or plain seconds. */
static int parse_timespan(const char *v, uint64_t *out)
{
        unsigned d = 0, h, m, s;
        char end;

        if (parse_u64(v, 86400u * 366, out) == 0)
                return 0;
        if (sscanf(v, "%u.%u:%u:%u%c", &d, &h, &m, &s, &end) == 4 ||
            (d = 0, sscanf(v, "%u:%u:%u%c", &h, &m, &s, &end) == 3)) {
                if (h > 23 || m > 59 || s > 59 || d > 365)
                        return -1;
                *out = (uint64_t)d * 86400 + h * 3600 + m * 60 + s;
                return 0;
        }
        return -1;
}

int limits_config_key(struct pool_limits *l, const char *key, const char *value, char *error, size_t size)
{
        static const char *const actions[] = { "NoAction", "KillW3wp", "Throttle", "ThrottleUnderLoad" };
        uint64_t n;
        int i;

        if (strcmp(key, "cpu.limit") == 0) {
                if (parse_u64(value, 100000, &n) < 0) {
                        snprintf(error, size, "cpu.limit = '%s': 0 (off) to 100000 (1/1000ths of a percent of "
                                 "all CPUs: 50000 is 50%%)", value);
                        return -1;
                }
                l->cpu_limit = (uint32_t)n;
                return 1;
        }
        if (strcmp(key, "cpu.action") == 0) {
                for (i = 0; i < 4; i++)
                        if (strcasecmp(value, actions[i]) == 0) {
                                l->cpu_action = i;
                                return 1;
                        }
                snprintf(error, size, "cpu.action = '%s': NoAction, KillW3wp, Throttle or ThrottleUnderLoad", value);
                return -1;
        }
        if (strcmp(key, "cpu.resetInterval") == 0) {
                if (parse_timespan(value, &n) < 0 || n > 86400) {
                        snprintf(error, size, "cpu.resetInterval = '%s': a time span hh:mm:ss up to 1.00:00:00 "
                                 "(00:00:00: no monitoring)", value);
                        return -1;
                }
                l->reset_interval = (uint32_t)n;
                return 1;
        }
        if (strcmp(key, "recycling.periodicRestart.privateMemory") == 0) {
                /* Below a few MB no worker starts: say so rather than loop on OOM kills. */
                if (parse_u64(value, UINT32_MAX, &n) < 0 || (n && n < 4096)) {
                        snprintf(error, size, "recycling.periodicRestart.privateMemory = '%s': KB, 0 (off) or "
                                 "4096 to 4294967295", value);
                        return -1;
                }
                l->private_memory = n;
                return 1;
        }
        if (strcmp(key, "linux.pidsMax") == 0) {
                if (parse_u64(value, 4194304, &n) < 0) {
                        snprintf(error, size, "linux.pidsMax = '%s': 0 (off) or 1 to 4194304 processes and threads",
                                 value);
                        return -1;
                }
                l->pids_max = (uint32_t)n;
                return 1;
        }
        return 0;
}

