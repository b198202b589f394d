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
                FAIL("[host] %s = '%s': unknown key or bad value (shutdown_timeout, startup_timeout, "
                     "header_timeout, idle_timeout: 1..3600 seconds)", key, value);
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
                        pc->max_crashes = 5;
                        pc->interval = 300;
                        limits_defaults(&pc->limits);
                }
                if (strcmp(key, "rapid_fail_max_crashes") == 0 && number(value, 1, 1000000, &pc->max_crashes) == 0)
                        return 1;
                if (strcmp(key, "rapid_fail_interval") == 0 && number(value, 1, 86400, &pc->interval) == 0)
                        return 1;
                if (strcmp(key, "recycle_interval") == 0 && number(value, 0, 86400 * 30, &pc->recycle) == 0)
                        return 1;
                {
                        char why[256];
                        int r = limits_config_key(&pc->limits, key, value, why, sizeof(why));

                        if (r > 0)
                                return 1;
                        if (r < 0)
                                FAIL("[%s] %s", section, why);
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
                        sc->workers = 1;
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
                        const char *colon = strrchr(value, ':');
                        struct in_addr a;
                        char addr[64];

                        if (!colon || (size_t)(colon - value) >= sizeof(addr))
                                FAIL("[%s] listen = '%s': expected ADDRESS:PORT", section, value);
                        memcpy(addr, value, (size_t)(colon - value));
                        addr[colon - value] = '\0';
                        if (inet_pton(AF_INET, addr, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)
                                FAIL("[%s] listen = '%s': only loopback addresses (127.0.0.0/8) are served", section, value);
                        if (number(colon + 1, 1, 65535, &sc->port) < 0)
                                FAIL("[%s] listen = '%s': the port must be 1..65535", section, value);
                        snprintf(sc->address, sizeof(sc->address), "%s", addr);
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
                        c->pools[c->n_pools].max_crashes = 5;
                        c->pools[c->n_pools].interval = 300;
                        limits_defaults(&c->pools[c->n_pools].limits);
                        c->n_pools++;
                }
                for (j = 0; j < i; j++)
                        if (c->sites[j].port == s->port && strcmp(c->sites[j].address, s->address) == 0) {
                                snprintf(c->error, sizeof(c->error), "[site %s]: %s:%d is also [site %s]'s", s->name,
                                         s->address, s->port, c->sites[j].name);
                                return -1;
                        }
        }
        return 0;
}
