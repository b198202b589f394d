/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-walk name cache: see namecache.h. A direct-mapped table per kind
 * (like a CPU cache: the slot is the id's hash, a collision evicts), so a
 * tree with a million distinct owners costs the same memory as one with
 * two. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "namecache.h"

#define SLOTS 1024     /* per kind: ~290 KiB in all */
#define NAME_MAX_LEN 128 /* longer names are looked up each time, not cached */

struct slot {
        uint32_t id;
        signed char state; /* 0 empty, 1 named, -1 no such id */
        char name[NAME_MAX_LEN + 1];
};

struct apid__namecache {
        pthread_mutex_t lock;
        uint64_t asked;
        struct slot users[SLOTS], groups[SLOTS];
};

struct apid__namecache *apid__namecache_new(void)
{
        struct apid__namecache *c = calloc(1, sizeof(*c));

        if (c)
                pthread_mutex_init(&c->lock, NULL);
        return c;
}

void apid__namecache_free(struct apid__namecache *c)
{
        if (!c)
                return;
        pthread_mutex_destroy(&c->lock);
        free(c);
}

uint64_t apid__namecache_asked(const struct apid__namecache *c)
{
        return c ? c->asked : 0;
}

static unsigned slot_of(uint32_t id)
{
        return (unsigned)((id * 2654435761u) >> 22) % SLOTS; /* Knuth's multiplicative hash */
}

/* Ask NSS (no lock held: it may go to a directory): 1 named, 2 named but
 * longer than buf (buf then holds the number), 0 no such id, < 0 failure. */
static int ask(int group, uint32_t id, char *buf, size_t size)
{
        int r, named = 0, long_name = 0;

        if (group) {
                struct apid__nss_group g = { 0 };

                r = apid__nss_group_by_gid(id, &g);
                if (r == 0 && g.name && strlen(g.name) < size) {
                        memcpy(buf, g.name, strlen(g.name) + 1);
                        named = 1;
                }
                long_name = r == 0 && g.name && !named;
                apid__nss_group_clear(&g);
        } else {
                struct apid__nss_user u = { 0 };

                r = apid__nss_user_by_uid(id, &u);
                if (r == 0 && u.name && strlen(u.name) < size) {
                        memcpy(buf, u.name, strlen(u.name) + 1);
                        named = 1;
                }
                long_name = r == 0 && u.name && !named;
                apid__nss_user_clear(&u);
        }
        if (named)
                return 1;
        snprintf(buf, size, "%u", (unsigned)id);
        return long_name ? 2 : r == APID_ENOTFOUND || r == 0 ? 0 : r;
}

/* buf gets name (r == 1) or the number. */
static int answer(int r, const char *name, uint32_t id, char *buf, size_t size)
{
        if (r == 1 && strlen(name) < size) {
                memcpy(buf, name, strlen(name) + 1);
                return 1;
        }
        snprintf(buf, size, "%u", (unsigned)id);
        return r < 0 ? r : 0;
}

static int lookup(struct apid__namecache *c, int group, uint32_t id, char *buf, size_t size)
{
        char name[1024];
        struct slot *s;
        int r;

        if (!c)
                return answer(ask(group, id, name, sizeof(name)), name, id, buf, size);
        s = &(group ? c->groups : c->users)[slot_of(id)];
        pthread_mutex_lock(&c->lock);
        if (s->state != 0 && s->id == id) {
                r = answer(s->state > 0, s->name, id, buf, size);
                pthread_mutex_unlock(&c->lock);
                return r;
        }
        c->asked++;
        pthread_mutex_unlock(&c->lock);
        r = ask(group, id, name, sizeof(name));
        /* A failure of the source is asked again next time; so is a name
         * too long for a slot. */
        if (r == 0 || (r == 1 && strlen(name) <= NAME_MAX_LEN)) {
                pthread_mutex_lock(&c->lock);
                s->id = id;
                s->state = r == 1 ? 1 : -1;
                if (r == 1)
                        memcpy(s->name, name, strlen(name) + 1);
                pthread_mutex_unlock(&c->lock);
        }
        return answer(r == 2 ? 0 : r, name, id, buf, size);
}

int apid__namecache_user(struct apid__namecache *c, uint32_t uid, char *buf, size_t size)
{
        return lookup(c, 0, uid, buf, size);
}

int apid__namecache_group(struct apid__namecache *c, uint32_t gid, char *buf, size_t size)
{
        return lookup(c, 1, gid, buf, size);
}
