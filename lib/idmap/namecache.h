/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A name cache for one walk (lib/idmap/namecache.c): uid -> user name and
 * gid -> group name, through the one NSS resolver, each id asked once. */
#ifndef APID_IDMAP_NAMECACHE_H
#define APID_IDMAP_NAMECACHE_H

#include <stddef.h>
#include <stdint.h>

/* A walk (a save, a journal) names the owner, the group and every named
 * entry of every file: getfacl asks NSS each time, which is most of its
 * run time with names. The cache remembers answers, "no such id" too, in a
 * fixed table (its memory is bounded whatever the tree: an id that collides
 * replaces the older one, which is then asked again). A failure of the
 * source (APID_ESYS) is not remembered. Thread-safe (one lock, never held
 * across an NSS call). */
struct apid__namecache;

/* NULL without memory. */
struct apid__namecache *apid__namecache_new(void);
void apid__namecache_free(struct apid__namecache *c);
/* The name of uid (user) or gid (group) copied into buf: 1 when named,
 * 0 when NSS knows no such id or the name does not fit (buf then holds the
 * number, as getfacl prints it), < 0 when the source failed (buf holds the
 * number too). c may be NULL: no caching. */
int apid__namecache_user(struct apid__namecache *c, uint32_t uid, char *buf, size_t size);
int apid__namecache_group(struct apid__namecache *c, uint32_t gid, char *buf, size_t size);
/* How many NSS questions the cache has asked (for tests and benchmarks). */
uint64_t apid__namecache_asked(const struct apid__namecache *c);

#endif
