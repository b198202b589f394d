/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The generations this process committed, per state directory (see
 * committed.c). Thread-safe. */
#ifndef APID_STORE_COMMITTED_H
#define APID_STORE_COMMITTED_H

#include <stdint.h>

/* Called by the registry right after a write transaction's COMMIT. */
void apid__store_committed(const char *dir, uint64_t generation);
/* How many commits this process made so far (any directory): when it has
 * not moved, nothing below changed. */
unsigned apid__store_commits(void);
/* The highest generation this process committed to dir's registry, 0 if
 * none. */
uint64_t apid__store_committed_generation(const char *dir);

#endif
