/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* getfacl's entry lines without an NSS question per entry. libacl's
 * acl_to_any_text() calls getpwuid()/getgrgid() for every named entry of
 * every file; on a saved tree of 100,000 files that is most of the time.
 * The format (and libacl's quoting of names) is reproduced here; the test
 * acl-names compares it with acl_to_any_text() itself. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <acl/libacl.h>

#include "names.h"

/* libacl quotes ':', ',', white space, CR and LF in a name as \ooo and a
 * backslash as "\\" (its __acl_quote, with ":, \t\n\r"). */
static void put_name(FILE *f, const char *name)
{
        for (; *name; name++) {
                unsigned char c = (unsigned char)*name;

                if (c == ':' || c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')
                        fprintf(f, "\\%03o", c);
                else if (c == '\\')
                        fputs("\\\\", f);
                else
                        fputc(c, f);
        }
}

static unsigned perm_bits(acl_entry_t en)
{
        acl_permset_t ps;
        unsigned b = 0;

        if (acl_get_permset(en, &ps) < 0)
                return 0;
        b |= acl_get_perm(ps, ACL_READ) == 1 ? 4u : 0u;
        b |= acl_get_perm(ps, ACL_WRITE) == 1 ? 2u : 0u;
        b |= acl_get_perm(ps, ACL_EXECUTE) == 1 ? 1u : 0u;
        return b;
}

static void put_bits(FILE *f, unsigned b)
{
        fputc(b & 4 ? 'r' : '-', f);
        fputc(b & 2 ? 'w' : '-', f);
        fputc(b & 1 ? 'x' : '-', f);
}

int apid__acl_print_text(FILE *f, acl_t acl, const char *prefix, struct apid__namecache *names)
{
        acl_entry_t en;
        unsigned mask = 7;
        int has_mask = 0, w;

        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;

                if (acl_get_tag_type(en, &t) == 0 && t == ACL_MASK) {
                        mask = perm_bits(en);
                        has_mask = 1;
                }
        }
        if (w < 0)
                return -1;
        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                char name[256];
                acl_tag_t t;
                unsigned b = perm_bits(en);
                int masked = 0;

                if (acl_get_tag_type(en, &t) < 0)
                        return -1;
                if (prefix)
                        fputs(prefix, f);
                switch (t) {
                case ACL_USER_OBJ:
                        fputs("user::", f);
                        break;
                case ACL_USER:
                case ACL_GROUP: {
                        id_t *q = acl_get_qualifier(en);

                        if (!q)
                                return -1;
                        if (t == ACL_USER)
                                apid__namecache_user(names, (uint32_t)*q, name, sizeof(name));
                        else
                                apid__namecache_group(names, (uint32_t)*q, name, sizeof(name));
                        acl_free(q);
                        fputs(t == ACL_USER ? "user:" : "group:", f);
                        put_name(f, name);
                        fputc(':', f);
                        masked = 1;
                        break;
                }
                case ACL_GROUP_OBJ:
                        fputs("group::", f);
                        masked = 1;
                        break;
                case ACL_MASK:
                        fputs("mask::", f);
                        break;
                case ACL_OTHER:
                        fputs("other::", f);
                        break;
                default:
                        errno = EINVAL;
                        return -1;
                }
                put_bits(f, b);
                if (masked && has_mask && (b & mask) != b) {
                        fputs("\t#effective:", f);
                        put_bits(f, b & mask);
                }
                fputc('\n', f);
        }
        if (w < 0)
                return -1;
        return ferror(f) ? -1 : 0;
}
