/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The example host's configuration: INI through libinih, every value checked. */
#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct parse {
        struct config *c;
        const char *program;
        int line;
};

static int number(const char *v, int min, int max, int *out)
{
        char *end;
        long n;

        errno = 0;
        n = strtol(v, &end, 10);
        if (!v[0] || *end || errno || n < min || n > max)
                return -1;
        *out = (int)n;
        return 0;
}

static int copy(char *dst, size_t size, const char *v)
{
        if (strlen(v) >= size)
                return -1;
        memcpy(dst, v, strlen(v) + 1);
        return 0;
}

/* "127.x.y.z:PORT": -1 not ADDRESS:PORT, -2 not loopback, -3 bad port. */
static int loopback_address(const char *value, char *address, size_t size, int *port)
{
        const char *colon = strrchr(value, ':');
        struct in_addr a;
        char addr[64];

        if (!colon || (size_t)(colon - value) >= sizeof(addr) || (size_t)(colon - value) >= size)
                return -1;
        memcpy(addr, value, (size_t)(colon - value));
        addr[colon - value] = '\0';
        if (inet_pton(AF_INET, addr, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
                return -2;
        if (number(colon + 1, 1, 65535, port) < 0)
                return -3;
        snprintf(address, size, "%s", addr);
        return 0;
}

static int timespan(const char *v, long long min, long long max, int *out);

/* A pool's defaults, IIS's: rapid-fail protection on, 5 failures in
 * 00:05:00, a 503 when the pool is stopped, a recycle every 29 hours. */
static void pool_defaults(struct pool_config *pc)
{
        pc->max_crashes = 5;
        pc->interval = 300;
        pc->rapid_fail = 1;
        pc->tcp_level = 0;
        pc->recycle = PERIODIC_RESTART_DEFAULT;
        limits_defaults(&pc->limits);
        pm_defaults(&pc->pm);
}

#define FAIL(...)                                                                      \
        do {                                                                           \
                snprintf(p->c->error, sizeof(p->c->error), __VA_ARGS__);               \
                return 0;                                                              \
        } while (0)

static int handler(void *user, const char *section, const char *key, const char *value)
{
        struct parse *p = user;
        struct config *c = p->c;

        if (strcmp(section, "host") == 0) {
                if (strcmp(key, "shutdown_timeout") == 0 && number(value, 1, 3600, &c->shutdown_timeout) == 0)
                        return 1;
                if (strcmp(key, "startup_timeout") == 0 && number(value, 1, 3600, &c->startup_timeout) == 0)
                        return 1;
                if (strcmp(key, "header_timeout") == 0 && number(value, 1, 3600, &c->header_timeout) == 0)
                        return 1;
                if (strcmp(key, "idle_timeout") == 0 && number(value, 1, 3600, &c->idle_timeout) == 0)
                        return 1;
                if (strcmp(key, "status") == 0) {
                        if (loopback_address(value, c->status_address, sizeof(c->status_address), &c->status_port) < 0)
                                FAIL("[host] status = '%s': expected 127.x.y.z:PORT (the status page is served on "
                                     "loopback only), port 1..65535", value);
                        return 1;
                }
                if (strcmp(key, "control") == 0) {
                        /* An absolute path that fits a sockaddr_un, or none. */
                        if (strcmp(value, "none") == 0) {
                                c->control_off = 1;
                                return 1;
                        }
                        if (value[0] != '/' || copy(c->control_path, sizeof(c->control_path), value) < 0 ||
                            value[strlen(value) - 1] == '/')
                                FAIL("[host] control = '%s': expected an absolute path of at most %zu bytes (the "
                                     "control socket, in a directory only root can write), or none",
                                     value, sizeof(c->control_path) - 1);
                        c->control_off = 0;
                        return 1;
                }
                FAIL("[host] %s = '%s': unknown key or bad value (shutdown_timeout, startup_timeout, "
                     "header_timeout, idle_timeout: 1..3600 seconds; status; control)", key, value);
        }
        if (strncmp(section, "pool ", 5) == 0) {
                struct pool_config *pc = NULL;
                int i;

                for (i = 0; i < c->n_pools; i++)
                        if (strcmp(c->pools[i].name, section + 5) == 0)
                                pc = &c->pools[i];
                if (!pc) {
                        if (c->n_pools == MAX_POOLS)
                                FAIL("[%s]: more than %d pools", section, MAX_POOLS);
                        pc = &c->pools[c->n_pools++];
                        if (copy(pc->name, sizeof(pc->name), section + 5) < 0 || !pc->name[0])
                                FAIL("[%s]: a pool needs a name of at most 127 bytes", section);
                        pool_defaults(pc);
                }
                if (strcmp(key, "rapid_fail_max_crashes") == 0 || strcmp(key, "failure.rapidFailProtectionMaxCrashes") == 0) {
                        if (number(value, 1, MAX_CRASHES, &pc->max_crashes) < 0)
                                FAIL("[%s] %s = '%s': expected a number of failures, 1 to %d", section, key, value,
                                     MAX_CRASHES);
                        return 1;
                }
                if (strcmp(key, "rapid_fail_interval") == 0 && number(value, 1, 86400, &pc->interval) == 0)
                        return 1;
                /* IIS's <failure> element, appcmd's names. */
                if (strcmp(key, "failure.rapidFailProtection") == 0) {
                        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
                                FAIL("[%s] %s = '%s': expected true or false", section, key, value);
                        pc->rapid_fail = value[0] == 't';
                        return 1;
                }
                if (strcmp(key, "failure.rapidFailProtectionInterval") == 0) {
                        if (timespan(value, 1, 86400, &pc->interval) < 0)
                                FAIL("[%s] %s = '%s': expected a time span, HH:MM:SS or seconds, 1 s to 1 day", section,
                                     key, value);
                        return 1;
                }
                if (strcmp(key, "failure.loadBalancerCapabilities") == 0) {
                        if (strcmp(value, "HttpLevel") != 0 && strcmp(value, "TcpLevel") != 0)
                                FAIL("[%s] %s = '%s': expected HttpLevel (a 503 answer) or TcpLevel (the connection "
                                     "is reset)", section, key, value);
                        pc->tcp_level = value[0] == 'T';
                        return 1;
                }
                /* IIS's periodic recycle; recycle_interval (seconds) is its
                 * older name, kept as an alias: one of the two, not both. */
                if (strcmp(key, "recycling.periodicRestart.time") == 0 || strcmp(key, "recycle_interval") == 0) {
                        int old = strcmp(key, "recycle_interval") == 0;

                        if (pc->recycle_key[0] && strcmp(pc->recycle_key, key) != 0)
                                FAIL("[%s] %s = '%s': the period is already set by %s (recycle_interval is the "
                                     "older name of recycling.periodicRestart.time: use one of them)", section, key,
                                     value, pc->recycle_key);
                        if (old ? number(value, 0, 86400 * 30, &pc->recycle) < 0
                                : timespan(value, 0, 86400 * 30, &pc->recycle) < 0)
                                FAIL("[%s] %s = '%s': expected %s, 0 (off) to 30 days", section, key, value,
                                     old ? "seconds" : "a time span, [D.]HH:MM:SS or seconds");
                        snprintf(pc->recycle_key, sizeof(pc->recycle_key), "%s", key);
                        return 1;
                }
                {
                        char why[300];
                        /* Both read recycling.periodicRestart.privateMemory:
                         * the recycle threshold (pm) and the cgroup's backstop
                         * (limits). */
                        int r2 = pm_key(&pc->pm, key, value, why, sizeof(why)), r;

                        if (r2 < 0)
                                FAIL("[%s] %s = '%s': %s", section, key, value, why);
                        r = limits_config_key(&pc->limits, key, value, why, sizeof(why));
                        if (r < 0)
                                FAIL("[%s] %s", section, why);
                        if (r > 0 || r2 > 0)
                                return 1;
                }
                FAIL("[%s] %s = '%s': unknown key or bad value", section, key, value);
        }
        if (strncmp(section, "site ", 5) == 0) {
                struct site_config *sc = NULL;
                int i;

                for (i = 0; i < c->n_sites; i++)
                        if (strcmp(c->sites[i].name, section + 5) == 0)
                                sc = &c->sites[i];
                if (!sc) {
                        if (c->n_sites == MAX_SITES)
                                FAIL("[%s]: more than %d sites", section, MAX_SITES);
                        sc = &c->sites[c->n_sites++];
                        if (copy(sc->name, sizeof(sc->name), section + 5) < 0 || !sc->name[0])
                                FAIL("[%s]: a site needs a name of at most 127 bytes", section);
                        snprintf(sc->program, sizeof(sc->program), "%s", p->program);
                }
                if (strcmp(key, "pool") == 0 && copy(sc->pool, sizeof(sc->pool), value) == 0 && value[0])
                        return 1;
                if (strcmp(key, "root") == 0 && value[0] == '/' && copy(sc->root, sizeof(sc->root), value) == 0)
                        return 1;
                if (strcmp(key, "program") == 0 && value[0] == '/' && copy(sc->program, sizeof(sc->program), value) == 0)
                        return 1;
                if (strcmp(key, "workers") == 0 && number(value, 1, MAX_WORKERS, &sc->workers) == 0)
                        return 1;
                if (strcmp(key, "listen") == 0) {
                        int r = loopback_address(value, sc->address, sizeof(sc->address), &sc->port);

                        if (r == -1)
                                FAIL("[%s] listen = '%s': expected ADDRESS:PORT", section, value);
                        if (r == -2)
                                FAIL("[%s] listen = '%s': only loopback addresses (127.0.0.0/8) are served", section, value);
                        if (r == -3)
                                FAIL("[%s] listen = '%s': the port must be 1..65535", section, value);
                        return 1;
                }
                FAIL("[%s] %s = '%s': unknown key or bad value", section, key, value);
        }
        FAIL("[%s]: unknown section (expected [host], [pool NAME] or [site NAME])", section);
}

int config_parse(const char *text, const char *default_program, struct config *c)
{
        struct parse p = { c, default_program, 0 };
        int line, i, j;

        memset(c, 0, sizeof(*c));
        c->shutdown_timeout = 10;
        c->startup_timeout = 30;
        c->header_timeout = 10;
        c->idle_timeout = 5;
        line = ini_parse_string(text, handler, &p);
        if (line != 0) {
                char detail[sizeof(c->error) - 32];

                snprintf(detail, sizeof(detail), "%.*s", (int)sizeof(detail) - 1, c->error[0] ? c->error : "syntax error");
                snprintf(c->error, sizeof(c->error), "line %d: %s", line, detail);
                return -1;
        }
        if (c->n_sites == 0) {
                snprintf(c->error, sizeof(c->error), "no [site NAME] section");
                return -1;
        }
        for (i = 0; i < c->n_sites; i++) {
                struct site_config *s = &c->sites[i];
                int found = 0;

                if (!s->pool[0] || !s->root[0] || !s->port) {
                        snprintf(c->error, sizeof(c->error), "[site %s]: pool, root and listen are required", s->name);
                        return -1;
                }
                for (j = 0; j < c->n_pools; j++)
                        found |= strcmp(c->pools[j].name, s->pool) == 0;
                if (!found) { /* a pool named only by a site: IIS defaults */
                        if (c->n_pools == MAX_POOLS) {
                                snprintf(c->error, sizeof(c->error), "too many pools");
                                return -1;
                        }
                        snprintf(c->pools[c->n_pools].name, sizeof(c->pools[0].name), "%s", s->pool);
                        pool_defaults(&c->pools[c->n_pools]);
                        c->n_pools++;
                }
                /* A web garden: a site runs its pool's maxProcesses unless it says. */
                for (j = 0; j < c->n_pools && !s->workers; j++)
                        if (strcmp(c->pools[j].name, s->pool) == 0)
                                s->workers = c->pools[j].pm.max_processes;
                for (j = 0; j < i; j++)
                        if (c->sites[j].port == s->port && strcmp(c->sites[j].address, s->address) == 0) {
                                snprintf(c->error, sizeof(c->error), "[site %s]: %s:%d is also [site %s]'s", s->name,
                                         s->address, s->port, c->sites[j].name);
                                return -1;
                        }
                if (c->status_port == s->port && strcmp(c->status_address, s->address) == 0) {
                        snprintf(c->error, sizeof(c->error), "[host] status = %s:%d is also [site %s]'s listen",
                                 c->status_address, c->status_port, s->name);
                        return -1;
                }
        }
        return 0;
}

/* The IIS process model, under appcmd's names and with IIS's defaults
 * (applicationHost.config schema, system.applicationHost/applicationPools). */
void pm_defaults(struct pm_config *pm)
{
        memset(pm, 0, sizeof(*pm));
        pm->idle_timeout = 20 * 60;
        pm->pinging = 1;
        pm->ping_interval = 30;
        pm->ping_response = 90;
        pm->max_processes = 1;
        pm->queue_length = 1000;
}

/* A TimeSpan as appcmd writes it ("[D.]HH:MM:SS") or plain seconds. */
static int timespan(const char *v, long long min, long long max, int *out)
{
        long long days = 0, h, m, sec;
        char *end;

        if (!v[0] || strspn(v, "0123456789.:") != strlen(v))
                return -1;
        if (!strchr(v, ':')) {
                errno = 0;
                sec = strtoll(v, &end, 10);
                if (*end || errno)
                        return -1;
        } else {
                const char *dot = strchr(v, '.');

                if (dot && dot < strchr(v, ':')) {
                        days = strtoll(v, &end, 10);
                        if (end != dot || days > 10000)
                                return -1;
                        v = dot + 1;
                }
                int n = 0;

                if (sscanf(v, "%2lld:%2lld:%2lld%n", &h, &m, &sec, &n) != 3 || (size_t)n != strlen(v) || h > 23 ||
                    m > 59 || sec > 59 || v[n - 3] != ':')
                        return -1;
                sec += days * 86400 + h * 3600 + m * 60;
        }
        if (sec < min || sec > max)
                return -1;
        *out = (int)sec;
        return 0;
}

static int count(const char *v, long long max, long long *out)
{
        char *end;
        long long n;

        if (!v[0] || v[0] == '-' || v[0] == '+')
                return -1;
        errno = 0;
        n = strtoll(v, &end, 10);
        if (*end || errno || n < 0 || n > max)
                return -1;
        *out = n;
        return 0;
}

/* "03:00:00,15:30:00": times of day, each HH:MM:SS (or HH:MM). */
static int schedule(struct pm_config *pm, const char *v, char *error, size_t size)
{
        char buf[512], *item, *save = NULL;

        pm->n_schedule = 0;
        if (strlen(v) >= sizeof(buf)) {
                snprintf(error, size, "too long");
                return -1;
        }
        snprintf(buf, sizeof(buf), "%s", v);
        for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                int h, m, s = 0, n = 0, t;

                while (*item == ' ')
                        item++;
                if ((sscanf(item, "%2d:%2d:%2d%n", &h, &m, &s, &n) != 3 &&
                     (s = 0, sscanf(item, "%2d:%2d%n", &h, &m, &n) != 2)) ||
                    strspn(item + n, " ") != strlen(item + n) || h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 59 ||
                    strspn(item, "0123456789:") < (size_t)n) {
                        snprintf(error, size, "'%.40s' is not a time of day (HH:MM:SS, 00:00:00 to 23:59:59)", item);
                        return -1;
                }
                if (pm->n_schedule == MAX_SCHEDULE) {
                        snprintf(error, size, "more than %d times", MAX_SCHEDULE);
                        return -1;
                }
                t = h * 3600 + m * 60 + s;
                pm->schedule[pm->n_schedule++] = t;
        }
        return 0;
}

int pm_key(struct pm_config *pm, const char *key, const char *value, char *error, size_t size)
{
        long long n;

        if (strcmp(key, "startMode") == 0) {
                if (strcmp(value, "OnDemand") == 0 || strcmp(value, "AlwaysRunning") == 0) {
                        pm->always_running = value[0] == 'A';
                        return 1;
                }
                snprintf(error, size, "expected OnDemand or AlwaysRunning");
                return -1;
        }
        if (strcmp(key, "processModel.idleTimeoutAction") == 0) {
                if (strcmp(value, "Terminate") == 0 || strcmp(value, "Suspend") == 0) {
                        pm->suspend = value[0] == 'S';
                        return 1;
                }
                snprintf(error, size, "expected Terminate (stop the workers) or Suspend (freeze them: cgroup v2)");
                return -1;
        }
        if (strcmp(key, "processModel.pingingEnabled") == 0) {
                if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
                        pm->pinging = value[0] == 't';
                        return 1;
                }
                snprintf(error, size, "expected true or false");
                return -1;
        }
        if (strcmp(key, "processModel.idleTimeout") == 0) {
                if (timespan(value, 0, 30 * 86400, &pm->idle_timeout) == 0)
                        return 1;
                snprintf(error, size, "expected a time span, HH:MM:SS or seconds, 0 (never) to 30 days");
                return -1;
        }
        if (strcmp(key, "processModel.pingInterval") == 0 || strcmp(key, "processModel.pingResponseTime") == 0) {
                if (timespan(value, 1, 86400, key[17] == 'I' ? &pm->ping_interval : &pm->ping_response) == 0)
                        return 1;
                snprintf(error, size, "expected a time span, HH:MM:SS or seconds, 1 s to 1 day");
                return -1;
        }
        if (strcmp(key, "processModel.maxProcesses") == 0) {
                if (count(value, MAX_WORKERS, &n) == 0 && n >= 1) {
                        pm->max_processes = (int)n;
                        return 1;
                }
                snprintf(error, size, "expected a number of workers, 1 to %d", MAX_WORKERS);
                return -1;
        }
        if (strcmp(key, "queueLength") == 0) {
                if (count(value, 65535, &n) == 0 && n >= 10) {
                        pm->queue_length = (int)n;
                        return 1;
                }
                snprintf(error, size, "expected a listen backlog, 10 to 65535 (IIS's range)");
                return -1;
        }
        if (strcmp(key, "recycling.periodicRestart.requests") == 0 ||
            strcmp(key, "recycling.periodicRestart.memory") == 0 ||
            strcmp(key, "recycling.periodicRestart.privateMemory") == 0) {
                long long *dst = key[26] == 'r' ? &pm->requests : key[26] == 'm' ? &pm->memory_kb : &pm->private_kb;

                if (count(value, 4294967295LL, dst) == 0)
                        return 1;
                snprintf(error, size, "expected %s, 0 (off) to 4294967295",
                         key[26] == 'r' ? "a number of requests" : "a size in KB");
                return -1;
        }
        if (strcmp(key, "recycling.periodicRestart.schedule") == 0)
                return schedule(pm, value, error, size) < 0 ? -1 : 1;
        return 0;
}
