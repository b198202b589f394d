/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz the example host's configuration reader. Properties: no crash; a
 * configuration it accepts is complete (every site has a pool, a root and a
 * port, and its pool is known; the process model is within range; the
 * status page is on loopback); a refusal explains itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/host/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct config c;
        char *text = malloc(size + 1);
        int i, j;

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (config_parse(text, "/usr/libexec/apppool-worker", &c) == 0) {
                for (i = 0; i < c.n_sites; i++) {
                        int known = 0;

                        if (!c.sites[i].pool[0] || c.sites[i].root[0] != '/' || c.sites[i].port < 1 ||
                            c.sites[i].workers < 1)
                                abort();
                        for (j = 0; j < c.n_pools; j++)
                                known |= strcmp(c.pools[j].name, c.sites[i].pool) == 0;
                        if (!known)
                                abort();
                }
                /* The process model is within IIS's ranges, whatever was read. */
                for (j = 0; j < c.n_pools; j++) {
                        const struct pm_config *pm = &c.pools[j].pm;

                        if (pm->ping_interval < 1 || pm->ping_response < 1 || pm->max_processes < 1 ||
                            pm->max_processes > MAX_WORKERS || pm->queue_length < 10 || pm->queue_length > 65535 ||
                            pm->idle_timeout < 0 || pm->requests < 0 || pm->memory_kb < 0 || pm->private_kb < 0 ||
                            pm->n_schedule < 0 || pm->n_schedule > MAX_SCHEDULE)
                                abort();
                        for (i = 0; i < pm->n_schedule; i++)
                                if (pm->schedule[i] < 0 || pm->schedule[i] >= 86400)
                                        abort();
                }
                if (c.status_port && strncmp(c.status_address, "127.", 4) != 0)
                        abort(); /* the status page is on loopback only */
        } else if (!c.error[0]) {
                abort();
        }
        free(text);
        return 0;
}
