/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rights computation: a file's ACLs in, its new ACLs out, through
 * libacl. Pure: no file system, no NSS, no registry (the trustees were
 * resolved when the edit was built); what it cannot express exactly is
 * passed to the caller's note function. docs/acl.md has the mapping;
 * tests/test-acl-compute.c checks it row by row. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <acl/libacl.h>
#include <sys/acl.h>

#include "internal.h"
#include "acl-internal.h"

static void approximated(const struct apid__acl_rules *rules, const struct apid__ace *a, int kind, const char *what)
{
        if (rules->note)
                rules->note(rules->note_data, (size_t)(a - rules->aces), kind, what);
}

/* ---- libacl helpers ---- */

unsigned apid__acl_entry_bits(acl_entry_t en)
{
        acl_permset_t ps;
        unsigned b = 0;

        if (acl_get_permset(en, &ps) < 0)
                return 0;
        if (acl_get_perm(ps, ACL_READ) == 1)
                b |= APID__R;
        if (acl_get_perm(ps, ACL_WRITE) == 1)
                b |= APID__W;
        if (acl_get_perm(ps, ACL_EXECUTE) == 1)
                b |= APID__X;
        return b;
}

static void set_bits(acl_entry_t en, unsigned b)
{
        acl_permset_t ps;

        if (acl_get_permset(en, &ps) < 0)
                return;
        acl_clear_perms(ps);
        if (b & APID__R)
                acl_add_perm(ps, ACL_READ);
        if (b & APID__W)
                acl_add_perm(ps, ACL_WRITE);
        if (b & APID__X)
                acl_add_perm(ps, ACL_EXECUTE);
        acl_set_permset(en, ps);
}

static acl_tag_t posix_tag(int tag)
{
        switch (tag) {
        case APID__T_USER: return ACL_USER;
        case APID__T_GROUP: return ACL_GROUP;
        case APID__T_POOL: return ACL_GROUP;
        case APID__T_OTHER: return ACL_OTHER;
        case APID__T_OWNER: return ACL_USER_OBJ;
        default: return ACL_GROUP_OBJ;
        }
}

/* Find the entry with tag (and, for named entries, the id). */
static int find_entry(acl_t acl, acl_tag_t tag, uint32_t id, acl_entry_t *out)
{
        acl_entry_t en;
        int w;

        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;

                if (acl_get_tag_type(en, &t) < 0 || t != tag)
                        continue;
                if (tag == ACL_USER || tag == ACL_GROUP) {
                        id_t *q = acl_get_qualifier(en);
                        int same = q && *q == (id_t)id;

                        acl_free(q);
                        if (!same)
                                continue;
                }
                *out = en;
                return 1;
        }
        return 0;
}

int apid__acl_entry_add(acl_t *acl, acl_tag_t tag, uint32_t id, unsigned bits)
{
        acl_entry_t en;
        id_t q = (id_t)id;

        if (acl_create_entry(acl, &en) < 0 || acl_set_tag_type(en, tag) < 0 ||
            ((tag == ACL_USER || tag == ACL_GROUP) && acl_set_qualifier(en, &q) < 0))
                return -1;
        set_bits(en, bits);
        return 0;
}

static unsigned mask_bits(acl_t acl, int *has_mask)
{
        acl_entry_t en;

        *has_mask = find_entry(acl, ACL_MASK, 0, &en);
        if (*has_mask)
                return apid__acl_entry_bits(en);
        return find_entry(acl, ACL_GROUP_OBJ, 0, &en) ? apid__acl_entry_bits(en) : 7;
}

/* Before an edit: clip every group-class entry (named users, the owning
 * group, named groups) to what the mask lets it have. Effective rights do
 * not change, but afterwards the recomputed mask cannot wake up rights the
 * old mask hid, for any entry, named by the edit or not. */
static void normalize(acl_t acl)
{
        acl_entry_t en;
        int w, has_mask;
        unsigned m = mask_bits(acl, &has_mask);

        if (!has_mask)
                return;
        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;

                if (acl_get_tag_type(en, &t) == 0 && (t == ACL_USER || t == ACL_GROUP || t == ACL_GROUP_OBJ))
                        set_bits(en, apid__acl_entry_bits(en) & m);
        }
}

/* What a process with uid and groups gets from an ACL, in the kernel's
 * order (fs/posix_acl.c, posix_acl_permission()): the owner entry; else its
 * named user entry (under the mask); else, if any group-class entry (the
 * owning group, named groups) matches one of its groups, what those grant
 * (under the mask); else other. *via says which: 0 owner, 1 named user,
 * 2 group class, 3 other. uid (uint32_t)-1 asks for the groups alone. */
static unsigned access_of(acl_t acl, const struct stat *st, uint32_t uid, const gid_t *groups, int n_groups,
                          int *via)
{
        acl_entry_t en;
        unsigned bits = 0;
        int w, in_group = 0, has_mask, i;
        unsigned m = mask_bits(acl, &has_mask);

        if (uid != (uint32_t)-1 && (uint32_t)st->st_uid == uid) {
                *via = 0;
                return find_entry(acl, ACL_USER_OBJ, 0, &en) ? apid__acl_entry_bits(en) : 0;
        }
        if (uid != (uint32_t)-1 && find_entry(acl, ACL_USER, uid, &en)) {
                *via = 1;
                return apid__acl_entry_bits(en) & m;
        }
        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;
                uint32_t gid;

                if (acl_get_tag_type(en, &t) < 0)
                        continue;
                if (t == ACL_GROUP_OBJ) {
                        gid = (uint32_t)st->st_gid;
                } else if (t == ACL_GROUP) {
                        id_t *q = acl_get_qualifier(en);

                        gid = q ? (uint32_t)*q : (uint32_t)-1;
                        acl_free(q);
                } else {
                        continue;
                }
                for (i = 0; i < n_groups; i++)
                        if ((uint32_t)groups[i] == gid) {
                                bits |= apid__acl_entry_bits(en) & m;
                                in_group = 1;
                        }
        }
        *via = in_group ? 2 : 3;
        if (in_group)
                return bits;
        return find_entry(acl, ACL_OTHER, 0, &en) ? apid__acl_entry_bits(en) : 0;
}

/* What a user gets from a file's ACL today, for deny. */
static unsigned user_access(acl_t acl, const struct apid__ace *a, const struct stat *st, int *is_owner)
{
        int via;
        unsigned bits = access_of(acl, st, a->t.id, a->groups, a->n_groups, &via);

        *is_owner = via == 0;
        return bits;
}

/* Set the entry (tag, id) to bits, adding it if needed; 0 bits and
 * drop_empty delete it. */
static int put_entry(acl_t *acl, acl_tag_t tag, uint32_t id, unsigned bits, int drop_empty)
{
        acl_entry_t en;

        if (find_entry(*acl, tag, id, &en)) {
                if (!bits && drop_empty)
                        return acl_delete_entry(*acl, en);
                set_bits(en, bits);
                return 0;
        }
        return bits || !drop_empty ? apid__acl_entry_add(acl, tag, id, bits) : 0;
}

/* The kernel consults an ACL only when the group bits of the mode (the
 * mask) are not empty (fs/namei.c, acl_permission_check()); with mask::---
 * it goes by the mode alone and gives other's bits to everyone but the owner
 * and the owning group, so a named entry of --- (a deny) would not hold. When
 * a named entry asks for less than other gives, keep the mask at other's
 * bits: every group-class entry is within the old, empty mask, i.e. ---, so
 * the mask grants nothing and the kernel checks the entries. After
 * acl_calc_mask(). */
static void keep_acl_checked(acl_t acl)
{
        acl_entry_t en, mask, other;
        int w, has_mask, named = 0;
        unsigned m = mask_bits(acl, &has_mask), o;

        if (!has_mask || m || !find_entry(acl, ACL_OTHER, 0, &other) || !(o = apid__acl_entry_bits(other)))
                return;
        for (w = acl_get_entry(acl, ACL_FIRST_ENTRY, &en); w == 1; w = acl_get_entry(acl, ACL_NEXT_ENTRY, &en)) {
                acl_tag_t t;

                if (acl_get_tag_type(en, &t) == 0 && (t == ACL_USER || t == ACL_GROUP))
                        named = 1;
        }
        if (named && find_entry(acl, ACL_MASK, 0, &mask))
                set_bits(mask, o);
}

/* Deny for a pool, on an access ACL. Its own uid's entry, exact whenever the
 * pool runs as itself (ApplicationPoolIdentity, now or after a change of
 * type back), and its group entry, which every worker of the pool matches:
 * each gets what it gives today minus the denial. Then what the pool's
 * worker of today would get is checked: another entry (the shared account's
 * own, the owner's, another group's) may still give it the rights. */
static int deny_pool(const struct apid__acl_rules *e, const struct apid__ace *a, acl_t *acl, int kind,
                     const struct stat *st)
{
        unsigned deny = a->bits[kind], have_u, have_g, left;
        gid_t own[2] = { (gid_t)a->t.id, (gid_t)a->shared };
        acl_entry_t en;
        acl_t after;
        int via;

        have_u = access_of(*acl, st, a->t.id, own, a->shared == (uint32_t)-1 ? 1 : 2, &via);
        if (via == 0) {
                approximated(e, a, kind, "the pool's own uid owns the file and can give the rights back");
                if (find_entry(*acl, ACL_USER_OBJ, 0, &en))
                        set_bits(en, apid__acl_entry_bits(en) & ~deny);
        } else if (put_entry(acl, ACL_USER, a->t.id, (find_entry(*acl, ACL_USER, a->t.id, &en) ? apid__acl_entry_bits(en)
                                                                                             : have_u) & ~deny, 0) < 0) {
                return -1;
        }
        have_g = access_of(*acl, st, (uint32_t)-1, a->groups, a->n_groups, &via);
        if (put_entry(acl, ACL_GROUP, a->t.id,
                      (find_entry(*acl, ACL_GROUP, a->t.id, &en) ? apid__acl_entry_bits(en) : have_g) & ~deny, 0) < 0)
                return -1;
        after = acl_dup(*acl);
        if (!after || acl_calc_mask(&after) < 0) {
                acl_free(after);
                return -1;
        }
        keep_acl_checked(after);
        left = access_of(after, st, a->wuid, a->groups, a->n_groups, &via) & deny;
        acl_free(after);
        if (left && via != 0) {
                char why[300];

                snprintf(why, sizeof(why), "the pool's workers run as uid %u, and %s still gives them what was "
                         "denied (POSIX has no deny entries)", a->wuid,
                         via == 1 ? "that account's own entry (shared with every pool of the same identity)"
                         : via == 2 ? "another group entry they match" : "other");
                approximated(e, a, kind, why);
        } else if (left) {
                approximated(e, a, kind, "the pool's workers own the file and can give the rights back");
        }
        return 0;
}

/* A change for IIS AppPool\X: the pool's group entry. A user entry on the
 * pool's own uid (written by the previous release, or by a deny) is kept in
 * step, as the kernel checks it before any group. docs/acl.md says why. */
static int apply_pool(const struct apid__acl_rules *e, const struct apid__ace *a, acl_t *acl, int kind,
                      const struct stat *st, int is_default)
{
        unsigned bits = a->bits[kind];
        acl_entry_t en;

        switch (a->op) {
        case APID_ACL_GRANT: {
                unsigned old = 0;

                /* A user entry alone is the previous release's grant: the new
                 * group entry starts from it (the grant converts it). */
                if (find_entry(*acl, ACL_USER, a->t.id, &en)) {
                        old = apid__acl_entry_bits(en);
                        set_bits(en, old | bits);
                }
                if (find_entry(*acl, ACL_GROUP, a->t.id, &en))
                        set_bits(en, apid__acl_entry_bits(en) | bits);
                else if (old | bits)
                        return apid__acl_entry_add(acl, ACL_GROUP, a->t.id, old | bits);
                return 0;
        }
        case APID_ACL_GRANT_REPLACE: /* the pool's entries become this grant: the old form goes */
                if (put_entry(acl, ACL_USER, a->t.id, 0, 1) < 0)
                        return -1;
                return put_entry(acl, ACL_GROUP, a->t.id, bits, 1);
        case APID_ACL_REMOVE:
                if (put_entry(acl, ACL_USER, a->t.id, 0, 1) < 0)
                        return -1;
                return put_entry(acl, ACL_GROUP, a->t.id, 0, 1);
        default: /* deny */
                if (!is_default)
                        return deny_pool(e, a, acl, kind, st);
                if (find_entry(*acl, ACL_USER, a->t.id, &en))
                        set_bits(en, apid__acl_entry_bits(en) & ~bits);
                if (find_entry(*acl, ACL_GROUP, a->t.id, &en))
                        set_bits(en, apid__acl_entry_bits(en) & ~bits);
                return 0;
        }
}

/* Apply one change to one ACL (access or default). */
static int apply_ace(const struct apid__acl_rules *e, const struct apid__ace *a, acl_t *acl, int kind,
                     const struct stat *st, int is_default)
{
        acl_tag_t tag = posix_tag(a->t.tag);
        unsigned bits = a->bits[kind];
        acl_entry_t en;
        int found, owner;

        if ((a->t.tag == APID__T_OWNER || a->t.tag == APID__T_OWNING_GROUP) && !is_default)
                return 0; /* CREATOR OWNER / GROUP speak only of what new files inherit */
        if (a->t.tag == APID__T_POOL)
                return apply_pool(e, a, acl, kind, st, is_default);
        found = find_entry(*acl, tag, a->t.id, &en);
        switch (a->op) {
        case APID_ACL_GRANT:
                if (found)
                        set_bits(en, apid__acl_entry_bits(en) | bits);
                else if (bits && apid__acl_entry_add(acl, tag, a->t.id, bits) < 0)
                        return -1;
                break;
        case APID_ACL_GRANT_REPLACE:
                if (found && bits == 0 && (tag == ACL_USER || tag == ACL_GROUP))
                        return acl_delete_entry(*acl, en);
                if (found)
                        set_bits(en, bits);
                else if (bits && apid__acl_entry_add(acl, tag, a->t.id, bits) < 0)
                        return -1;
                break;
        case APID_ACL_REMOVE:
                if (found && (tag == ACL_USER || tag == ACL_GROUP))
                        return acl_delete_entry(*acl, en);
                if (found && tag == ACL_OTHER)
                        set_bits(en, 0);
                break;
        case APID_ACL_DENY: {
                unsigned deny = a->bits[kind];
                int w;

                if (a->t.tag == APID__T_OTHER) { /* Everyone: everybody loses the rights */
                        for (w = acl_get_entry(*acl, ACL_FIRST_ENTRY, &en); w == 1;
                             w = acl_get_entry(*acl, ACL_NEXT_ENTRY, &en))
                                set_bits(en, apid__acl_entry_bits(en) & ~deny);
                        break;
                }
                if (a->t.tag == APID__T_USER && !is_default) {
                        /* A named entry overrides the group and other classes for
                         * that user: what the user has today, minus the denial. */
                        unsigned have = user_access(*acl, a, st, &owner);

                        if (owner) {
                                approximated(e, a, kind, "the user owns the file and can give the rights back");
                                if (find_entry(*acl, ACL_USER_OBJ, 0, &en))
                                        set_bits(en, apid__acl_entry_bits(en) & ~deny);
                        } else if (found) {
                                set_bits(en, apid__acl_entry_bits(en) & ~deny);
                        } else if (apid__acl_entry_add(acl, ACL_USER, a->t.id, have & ~deny) < 0) {
                                return -1;
                        }
                        break;
                }
                if (found)
                        set_bits(en, apid__acl_entry_bits(en) & ~deny);
                if (a->t.tag == APID__T_GROUP)
                        approximated(e, a, kind,
                                     "POSIX has no deny entries: the group's own entry loses the rights, but its "
                                     "members may still get them through other entries");
                break;
        }
        }
        return 0;
}

/* Copy the base entries (owner, owning group, other) of an access ACL into
 * a new default ACL, as setfacl does when it creates one. */
static acl_t default_from(acl_t access)
{
        acl_t d = acl_init(4);
        acl_entry_t en;
        static const acl_tag_t base[] = { ACL_USER_OBJ, ACL_GROUP_OBJ, ACL_OTHER };
        size_t i;

        if (!d)
                return NULL;
        /* The access ACL was normalized: its group entry holds only what the mask allowed. */
        for (i = 0; i < 3; i++)
                if (find_entry(access, base[i], 0, &en) && apid__acl_entry_add(&d, base[i], 0, apid__acl_entry_bits(en)) < 0) {
                        acl_free(d);
                        return NULL;
                }
        return d;
}

/* A failed system or libacl call on path rel, doing what: its errno
 * mapped to a status, the message naming both. Shared with edit.c. */
int apid__acl_sys_fail(const char *rel, const char *what)
{
        int err = errno;
        int status = err == EPERM || err == EACCES ? APID_EPERM
                     : err == EOPNOTSUPP       ? APID_EUNSUPPORTED
                     : err == ENOENT           ? APID_ENOTFOUND
                                               : APID_ESYS;

        if (err == EOPNOTSUPP)
                return apid__fail(status, err, "%s: %s: the file system does not support POSIX ACLs", rel, what);
        return apid__fail(status, err, "%s: %s: %s", rel, what, strerror(err));
}

/* What a new file gets from a default ACL: the kernel ANDs the owner,
 * group-class and other entries with the creation mode (0666 for a file). */
static void as_created_file(acl_t acl)
{
        static const acl_tag_t masked[] = { ACL_USER_OBJ, ACL_MASK, ACL_OTHER };
        acl_entry_t en;
        int has_mask;
        size_t i;

        mask_bits(acl, &has_mask);
        for (i = 0; i < 3; i++)
                if (find_entry(acl, masked[i], 0, &en))
                        set_bits(en, apid__acl_entry_bits(en) & ~APID__X);
        if (!has_mask && find_entry(acl, ACL_GROUP_OBJ, 0, &en))
                set_bits(en, apid__acl_entry_bits(en) & ~APID__X);
}


/* The new ACLs of one path, from its current ones, with libacl. */
int apid__acl_compute(const struct apid__acl_rules *e, const struct apid__acl_input *in, acl_t *out_acc,
                      acl_t *out_def)
{
        const struct stat *st = in->st;
        const char *rel = in->rel;
        int is_dir = in->is_dir, kind = is_dir ? 1 : 0, r = APID_OK;
        acl_t nacc = NULL, ndef = NULL;
        size_t i;

        *out_acc = *out_def = NULL;
        if (e->reset) {
                acl_t pd = in->parent_def && acl_entries(in->parent_def) > 0 ? in->parent_def : NULL;

                nacc = pd ? acl_dup(pd) : acl_from_mode(st->st_mode);
                if (nacc && pd && !is_dir)
                        as_created_file(nacc);
                if (is_dir)
                        ndef = pd ? acl_dup(pd) : acl_init(0);
        } else {
                nacc = acl_dup(in->acc);
                if (is_dir && in->def && acl_entries(in->def) > 0)
                        ndef = acl_dup(in->def);
        }
        if (!nacc || (is_dir && e->reset && !ndef)) {
                acl_free(nacc);
                acl_free(ndef);
                return apid__fail_oom();
        }
        normalize(nacc);
        if (ndef)
                normalize(ndef);
        for (i = 0; i < e->n_aces && r == APID_OK; i++) {
                const struct apid__ace *a = &e->aces[i];
                int inherit = is_dir && (a->flags & APID__ACE_OI) && (a->flags & APID__ACE_CI) &&
                              !(a->flags & APID__ACE_NP);

                if (a->lost[kind][0] && a->op != APID_ACL_REMOVE)
                        approximated(e, a, kind, a->lost[kind]);
                if (is_dir && (a->flags & (APID__ACE_OI | APID__ACE_CI)) && !inherit && a->op != APID_ACL_REMOVE)
                        approximated(e, a, kind,
                                     "POSIX default ACLs apply to new files and directories alike and to all "
                                     "levels: (OI) without (CI), (CI) without (OI), and (NP) are not inherited; "
                                     "use -R to reach what exists");
                if (!(is_dir && (a->flags & APID__ACE_IO)) && apply_ace(e, a, &nacc, kind, st, 0) < 0)
                        r = apid__acl_sys_fail(rel, "editing the ACL");
                if (r == APID_OK && is_dir && (inherit || (a->op != APID_ACL_GRANT && a->op != APID_ACL_GRANT_REPLACE &&
                                                           ndef))) {
                        if (!ndef) {
                                ndef = default_from(nacc);
                                if (!ndef) {
                                        r = apid__fail_oom();
                                        break;
                                }
                        }
                        if (apply_ace(e, a, &ndef, kind, st, 1) < 0)
                                r = apid__acl_sys_fail(rel, "editing the default ACL");
                }
        }
        if (r == APID_OK && (acl_calc_mask(&nacc) < 0 || (ndef && acl_entries(ndef) > 0 && acl_calc_mask(&ndef) < 0)))
                r = apid__acl_sys_fail(rel, "computing the ACL mask");
        if (r == APID_OK) {
                keep_acl_checked(nacc);
                if (ndef && acl_entries(ndef) > 0)
                        keep_acl_checked(ndef);
        }
        if (r == APID_OK && (acl_valid(nacc) < 0 || (ndef && acl_entries(ndef) > 0 && acl_valid(ndef) < 0)))
                r = apid__fail(APID_EINVAL, 0, "%s: the edit gives an invalid ACL", rel);
        if (r < 0) {
                acl_free(nacc);
                acl_free(ndef);
                return r;
        }
        *out_acc = nacc;
        *out_def = ndef;
        return APID_OK;
}

int apid__acl_rules_cacheable(const struct apid__acl_rules *rules)
{
        size_t i;

        if (rules->reset)
                return 0;
        for (i = 0; i < rules->n_aces; i++)
                if (rules->aces[i].op == APID_ACL_DENY || rules->aces[i].t.tag == APID__T_OWNER ||
                    rules->aces[i].t.tag == APID__T_OWNING_GROUP)
                        return 0;
        return 1;
}
