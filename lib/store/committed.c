/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What this process committed: the generation of its last write to each
 * registry, noted right after COMMIT, before the snapshot is published.
 * The library's lookup cache (lib/lookup.c) answers from the published
 * snapshot; with this it knows when that snapshot is older than a change
 * this very process made (its publication failed, or another thread of the
 * process is between COMMIT and publication) and asks SQLite instead, so a
 * lookup after a write in the same process always sees the write.
 *
 * A counter that every commit bumps lets a lookup check this with one
 * atomic load; the table behind it (a few state directories, a mutex) is
 * read only when the counter moved. */
#include <pthread.h>
#include <string.h>

#include "committed.h"
#include "../internal.h"

struct mark {
        char *dir;
        uint64_t generation;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct mark *marks;
static size_t n_marks;
static unsigned commits;
static int lost;

void apid__store_committed(const char *dir, uint64_t generation)
{
        size_t i;

        pthread_mutex_lock(&lock);
        for (i = 0; i < n_marks; i++)
                if (strcmp(marks[i].dir, dir) == 0)
                        break;
        if (i == n_marks) {
                struct mark *m = realloc(marks, (n_marks + 1) * sizeof(*m));
                char *copy = strdup(dir);

                if (!m || !copy) {
                        /* Out of memory: no mark, so from now on no
                         * snapshot is trusted to hold this process's writes
                         * (every generation is taken as older). */
                        if (m)
                                marks = m;
                        free(copy);
                        lost = 1;
                        __atomic_add_fetch(&commits, 1, __ATOMIC_RELEASE);
                        pthread_mutex_unlock(&lock);
                        return;
                }
                marks = m;
                marks[n_marks++] = (struct mark){ copy, 0 };
        }
        if (generation > marks[i].generation)
                marks[i].generation = generation;
        __atomic_add_fetch(&commits, 1, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&lock);
}

unsigned apid__store_commits(void)
{
        return __atomic_load_n(&commits, __ATOMIC_ACQUIRE);
}

uint64_t apid__store_committed_generation(const char *dir)
{
        uint64_t g = 0;
        size_t i;

        pthread_mutex_lock(&lock);
        for (i = 0; i < n_marks; i++)
                if (strcmp(marks[i].dir, dir) == 0)
                        g = marks[i].generation;
        if (lost)
                g = UINT64_MAX;
        pthread_mutex_unlock(&lock);
        return g;
}
