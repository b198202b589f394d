/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An ACL as getfacl prints it, names through a per-walk cache (names.c). */
#ifndef APID_ACL_NAMES_H
#define APID_ACL_NAMES_H

#include <stdio.h>
#include <sys/acl.h>

#include "../idmap/namecache.h"

/* Write acl to f exactly as acl_to_any_text(acl, prefix, '\n',
 * TEXT_SOME_EFFECTIVE) followed by '\n' would (getfacl's entry lines: named
 * entries by name, quoted the way libacl quotes them, a number when NSS knows
 * none, "\t#effective:" where the mask takes rights away), with every name
 * from names (which may be NULL: no cache). Nothing for an ACL without
 * entries. 0, or -1 with errno set (libacl, or f). */
int apid__acl_print_text(FILE *f, acl_t acl, const char *prefix, struct apid__namecache *names);

#endif
