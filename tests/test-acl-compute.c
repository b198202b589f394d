/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rights computation alone (lib/acl/compute.c): an ACL in, an ACL out,
 * no file system. One row per case: docs/acl.md's rights mapping (every
 * simple right on a file and on a directory), the mask rules, the
 * inheritance flags (OI)(CI)(IO)(NP), deny, remove, replace, reset and the
 * special trustees. ACLs are written as libacl's short text with numeric ids.
 * Two things the rows record as they are: the result always has a mask entry
 * (acl_calc_mask() adds one, also to a minimal ACL), and a reset file's
 * group-class entries are clipped to the mask the creation mode leaves
 * (the same effective rights the kernel would give a new file). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <acl/libacl.h>
#include <sys/acl.h>

#include "acl/acl-internal.h"

#define POOL 70000u /* a pool's gid (== its own uid) */
#define USER 1000u

#define FILE_ACL "u::rw-,g::r--,o::r--"
#define DIR_ACL "u::rwx,g::r-x,o::r-x"

struct row {
        const char *name;
        int op, tag;
        uint32_t id;
        const char *perm;    /* flags and rights, as after "TRUSTEE:" */
        int is_dir;
        const char *acc;     /* the input access ACL */
        const char *def;     /* the input default ACL, or NULL */
        const char *parent;  /* a reset: the parent's default ACL, or NULL */
        const char *want_acc;
        const char *want_def; /* NULL: no default ACL written (a file, or a directory's left as it was) */
        const char *note;     /* a substring of the approximation reported, or NULL for none */
};

static const struct row rows[] = {
        /* docs/acl.md, "Rights: never more than asked": the pool's group entry. */
        { "R file", APID_ACL_GRANT, APID__T_POOL, POOL, "R", 0, FILE_ACL, NULL, NULL,
          "user::rw-,group::r--,group:70000:r--,mask::r--,other::r--", NULL, NULL },
        { "R dir", APID_ACL_GRANT, APID__T_POOL, POOL, "R", 1, DIR_ACL, NULL, NULL,
          "user::rwx,group::r-x,group:70000:r--,mask::r-x,other::r-x", NULL, NULL },
        { "RX file", APID_ACL_GRANT, APID__T_POOL, POOL, "RX", 0, FILE_ACL, NULL, NULL,
          "user::rw-,group::r--,group:70000:r-x,mask::r-x,other::r--", NULL, NULL },
        { "RX dir", APID_ACL_GRANT, APID__T_POOL, POOL, "RX", 1, DIR_ACL, NULL, NULL,
          "user::rwx,group::r-x,group:70000:r-x,mask::r-x,other::r-x", NULL, NULL },
        { "W file", APID_ACL_GRANT, APID__T_POOL, POOL, "W", 0, FILE_ACL, NULL, NULL,
          "user::rw-,group::r--,group:70000:-w-,mask::rw-,other::r--", NULL, "write attributes" },
        { "W dir", APID_ACL_GRANT, APID__T_POOL, POOL, "W", 1, DIR_ACL, NULL, NULL,
          "user::rwx,group::r-x,mask::r-x,other::r-x", NULL, "grant DC too" },
        { "M file", APID_ACL_GRANT, APID__T_POOL, POOL, "M", 0, FILE_ACL, NULL, NULL,
          "user::rw-,group::r--,group:70000:rwx,mask::rwx,other::r--", NULL, "delete" },
        { "M dir", APID_ACL_GRANT, APID__T_POOL, POOL, "M", 1, DIR_ACL, NULL, NULL,
          "user::rwx,group::r-x,group:70000:r-x,mask::r-x,other::r-x", NULL, "grant DC too" },
        { "F file", APID_ACL_GRANT, APID__T_POOL, POOL, "F", 0, FILE_ACL, NULL, NULL,
          "user::rw-,group::r--,group:70000:rwx,mask::rwx,other::r--", NULL, "delete" },
        { "F dir", APID_ACL_GRANT, APID__T_POOL, POOL, "F", 1, DIR_ACL, NULL, NULL,
          "user::rwx,group::r-x,group:70000:rwx,mask::rwx,other::r-x", NULL, "delete" },
        { "D file", APID_ACL_GRANT, APID__T_POOL, POOL, "D", 0, FILE_ACL, NULL, NULL, "user::rw-,group::r--,mask::r--,other::r--",
          NULL, "delete" },
        { "D dir", APID_ACL_GRANT, APID__T_POOL, POOL, "D", 1, DIR_ACL, NULL, NULL, "user::rwx,group::r-x,mask::r-x,other::r-x",
          NULL, "delete" },
        { "N file", APID_ACL_GRANT, APID__T_POOL, POOL, "N", 0, FILE_ACL, NULL, NULL, "user::rw-,group::r--,mask::r--,other::r--",
          NULL, NULL },
        { "N dir", APID_ACL_GRANT, APID__T_POOL, POOL, "N", 1, DIR_ACL, NULL, NULL, "user::rwx,group::r-x,mask::r-x,other::r-x",
          NULL, NULL },
        { "specific rights: RD,WD,AD,DC,X on a dir is rwx", APID_ACL_GRANT, APID__T_POOL, POOL, "(RD,WD,AD,DC,X)", 1,
          DIR_ACL, NULL, NULL, "user::rwx,group::r-x,group:70000:rwx,mask::rwx,other::r-x", NULL, NULL },

        /* "The mask": rights the old mask hid stay hidden, and a raised mask widens no other entry. */
        { "mask hides: clipped first", APID_ACL_GRANT, APID__T_POOL, POOL, "R", 0,
          "u::rw-,u:1000:rwx,g::rw-,m::r--,o::---", NULL, NULL,
          "user::rw-,user:1000:r--,group::r--,group:70000:r--,mask::r--,other::---", NULL, NULL },
        { "mask raised for the grant only", APID_ACL_GRANT, APID__T_POOL, POOL, "RX", 0,
          "u::rw-,u:1000:rwx,g::r--,m::r--,o::---", NULL, NULL,
          "user::rw-,user:1000:r--,group::r--,group:70000:r-x,mask::r-x,other::---", NULL, NULL },
        { "grant to a hidden entry does not wake its old rights", APID_ACL_GRANT, APID__T_GROUP, 2000, "R", 0,
          "u::rw-,g::r--,g:2000:rwx,m::---,o::---", NULL, NULL,
          "user::rw-,group::---,group:2000:r--,mask::r--,other::---", NULL, NULL },
        { "mask kept at other's bits so a deny holds", APID_ACL_DENY, APID__T_USER, USER, "R", 0,
          "u::rw-,g::---,o::r--", NULL, NULL, "user::rw-,user:1000:---,group::---,mask::r--,other::r--", NULL, NULL },

        /* "Inheritance". */
        { "(OI)(CI) on a dir: access and default", APID_ACL_GRANT, APID__T_POOL, POOL, "(OI)(CI)RX", 1, DIR_ACL, NULL,
          NULL, "user::rwx,group::r-x,group:70000:r-x,mask::r-x,other::r-x",
          "user::rwx,group::r-x,group:70000:r-x,mask::r-x,other::r-x", NULL },
        { "(OI)(CI) on a file: access only", APID_ACL_GRANT, APID__T_POOL, POOL, "(OI)(CI)RX", 0, FILE_ACL, NULL, NULL,
          "user::rw-,group::r--,group:70000:r-x,mask::r-x,other::r--", NULL, NULL },
        { "(OI)(CI)(IO): default only", APID_ACL_GRANT, APID__T_POOL, POOL, "(OI)(CI)(IO)RX", 1, DIR_ACL, NULL, NULL,
          "user::rwx,group::r-x,mask::r-x,other::r-x", "user::rwx,group::r-x,group:70000:r-x,mask::r-x,other::r-x", NULL },
        { "(OI) alone: access only, reported", APID_ACL_GRANT, APID__T_POOL, POOL, "(OI)RX", 1, DIR_ACL, NULL, NULL,
          "user::rwx,group::r-x,group:70000:r-x,mask::r-x,other::r-x", NULL, "(OI) without (CI)" },
        { "(CI) alone: access only, reported", APID_ACL_GRANT, APID__T_POOL, POOL, "(CI)RX", 1, DIR_ACL, NULL, NULL,
          "user::rwx,group::r-x,group:70000:r-x,mask::r-x,other::r-x", NULL, "(CI) without (OI)" },
        { "(NP): access only, reported", APID_ACL_GRANT, APID__T_POOL, POOL, "(OI)(CI)(NP)RX", 1, DIR_ACL, NULL, NULL,
          "user::rwx,group::r-x,group:70000:r-x,mask::r-x,other::r-x", NULL, "(NP)" },
        { "(OI)(CI) adds to an existing default", APID_ACL_GRANT, APID__T_POOL, POOL, "(OI)(CI)R", 1, DIR_ACL,
          "u::rwx,g::r-x,g:2000:rwx,m::rwx,o::---", NULL, "user::rwx,group::r-x,group:70000:r--,mask::r-x,other::r-x",
          "user::rwx,group::r-x,group:2000:rwx,group:70000:r--,mask::rwx,other::---", NULL },

        /* Replace, remove, deny; the previous release's user entry on the pool's uid. */
        { "replace", APID_ACL_GRANT_REPLACE, APID__T_POOL, POOL, "R", 0,
          "u::rw-,g::r--,g:70000:rwx,m::rwx,o::r--", NULL, NULL,
          "user::rw-,group::r--,group:70000:r--,mask::r--,other::r--", NULL, NULL },
        { "replace drops the old user entry", APID_ACL_GRANT_REPLACE, APID__T_POOL, POOL, "RX", 0,
          "u::rw-,u:70000:rw-,g::r--,m::rw-,o::r--", NULL, NULL,
          "user::rw-,group::r--,group:70000:r-x,mask::r-x,other::r--", NULL, NULL },
        { "grant converts the old user entry", APID_ACL_GRANT, APID__T_POOL, POOL, "R", 0,
          "u::rw-,u:70000:rw-,g::r--,m::rw-,o::r--", NULL, NULL,
          "user::rw-,user:70000:rw-,group::r--,group:70000:rw-,mask::rw-,other::r--", NULL, NULL },
        { "remove both entries, default too", APID_ACL_REMOVE, APID__T_POOL, POOL, NULL, 1,
          "u::rwx,u:70000:r-x,g::r-x,g:70000:r-x,m::r-x,o::r-x", "u::rwx,g::r-x,g:70000:r-x,m::r-x,o::r-x", NULL,
          "user::rwx,group::r-x,mask::r-x,other::r-x", "user::rwx,group::r-x,mask::r-x,other::r-x", NULL },
        { "deny a user: what it has minus the denial", APID_ACL_DENY, APID__T_USER, USER, "W", 0,
          "u::rw-,g::r--,o::rw-", NULL, NULL, "user::rw-,user:1000:r--,group::r--,mask::r--,other::rw-", NULL,
          "write attributes" },
        { "deny a group: its entry only, reported", APID_ACL_DENY, APID__T_GROUP, 2000, "R", 0,
          "u::rw-,g::r--,g:2000:r--,m::r--,o::r--", NULL, NULL,
          "user::rw-,group::r--,group:2000:---,mask::r--,other::r--", NULL, "no deny entries" },
        { "deny Everyone: every entry", APID_ACL_DENY, APID__T_OTHER, 0, "W", 0,
          "u::rw-,u:1000:rw-,g::rw-,m::rw-,o::rw-", NULL, NULL,
          "user::r--,user:1000:r--,group::r--,mask::r--,other::r--", NULL, "write attributes" },

        /* Special trustees. */
        { "Everyone R", APID_ACL_GRANT, APID__T_OTHER, 0, "R", 0, "u::rw-,g::r--,o::---", NULL, NULL,
          "user::rw-,group::r--,mask::r--,other::r--", NULL, NULL },
        { "CREATOR OWNER: the default's owner entry only", APID_ACL_GRANT, APID__T_OWNER, 0, "(OI)(CI)F", 1,
          "u::rwx,g::r-x,o::---", NULL, NULL, "user::rwx,group::r-x,mask::r-x,other::---",
          "user::rwx,group::r-x,mask::r-x,other::---",
          "delete" },

        /* Reset: from the parent's default ACL, or from the mode. */
        { "reset a file from the parent's default", 0, 0, 0, NULL, 0, "u::rw-,u:1000:rwx,g::r--,m::rwx,o::r--", NULL,
          "u::rwx,g::r-x,g:70000:r-x,m::r-x,o::r-x", "user::rw-,group::r--,group:70000:r--,mask::r--,other::r--", NULL,
          NULL },
        { "reset a dir from the parent's default", 0, 0, 0, NULL, 1, "u::rwx,g::r-x,o::---", NULL,
          "u::rwx,g::r-x,g:70000:r-x,m::r-x,o::r-x", "user::rwx,group::r-x,group:70000:r-x,mask::r-x,other::r-x",
          "user::rwx,group::r-x,group:70000:r-x,mask::r-x,other::r-x", NULL },
        { "reset without a parent default: the mode", 0, 0, 0, NULL, 1, "u::rwx,g::r-x,g:2000:rwx,m::rwx,o::---",
          "u::rwx,g::r-x,o::---", NULL, "user::rwx,group::r-x,mask::r-x,other::r-x", "", NULL },
};

struct notes {
        char text[1024];
};

static void note(void *data, size_t ace, int kind, const char *what)
{
        struct notes *n = data;
        size_t len = strlen(n->text);

        (void)ace;
        (void)kind;
        snprintf(n->text + len, sizeof(n->text) - len, "%s; ", what);
}

static char *text_of(acl_t acl)
{
        char *t = acl_to_any_text(acl, NULL, ',', TEXT_NUMERIC_IDS);
        char *copy;

        assert_non_null(t);
        copy = strdup(t);
        acl_free(t);
        return copy;
}

static acl_t parse(const char *text)
{
        acl_t acl = acl_from_text(text);

        if (!acl)
                fail_msg("bad ACL text in the table: %s", text);
        return acl;
}

static int failures;

#define row_fail(...) (print_error(__VA_ARGS__), print_error("\n"), failures++)

static void run_row(const struct row *w)
{
        struct apid__ace a;
        struct apid__acl_rules rules;
        struct apid__acl_input in;
        struct notes notes = { "" };
        struct stat st;
        acl_t out_acc = NULL, out_def = NULL;
        char *got;
        int kind;

        memset(&a, 0, sizeof(a));
        memset(&rules, 0, sizeof(rules));
        if (w->op) {
                struct apid__ace_spec s;
                char spec[128];

                snprintf(spec, sizeof(spec), "x%s%s", w->perm ? ":" : "", w->perm ? w->perm : "");
                assert_int_equal(apid__acl_spec_parse(spec, w->op != APID_ACL_REMOVE, &s), APID_OK);
                a.op = w->op;
                a.t.tag = w->tag;
                a.t.id = w->id;
                a.mask = s.mask;
                a.flags = s.flags;
                a.wuid = POOL;
                a.shared = (uint32_t)-1;
                for (kind = 0; kind < 2; kind++)
                        a.bits[kind] = apid__acl_bits(a.mask, kind, a.lost[kind], sizeof(a.lost[kind]));
                snprintf(a.spec, sizeof(a.spec), "%s", spec);
                rules.aces = &a;
                rules.n_aces = 1;
        }
        rules.reset = !w->op;
        rules.note = note;
        rules.note_data = &notes;
        memset(&st, 0, sizeof(st));
        st.st_mode = w->is_dir ? S_IFDIR | 0755 : S_IFREG | 0644;
        in.acc = parse(w->acc);
        in.def = w->is_dir ? (w->def ? parse(w->def) : acl_init(0)) : NULL;
        in.parent_def = w->parent ? parse(w->parent) : NULL;
        in.st = &st;
        in.is_dir = w->is_dir;
        in.rel = w->name;
        assert_int_equal(apid__acl_compute(&rules, &in, &out_acc, &out_def), APID_OK);
        got = text_of(out_acc);
        if (strcmp(got, w->want_acc) != 0)
                row_fail("%s: access ACL\n  want %s\n  got  %s", w->name, w->want_acc, got);
        free(got);
        if (!w->want_def) {
                if (out_def && acl_entries(out_def) > 0 && (!in.def || acl_cmp(out_def, in.def) != 0))
                        row_fail("%s: a default ACL was made", w->name);
        } else {
                assert_non_null(out_def);
                got = acl_entries(out_def) > 0 ? text_of(out_def) : strdup("");
                if (strcmp(got, w->want_def) != 0)
                        row_fail("%s: default ACL\n  want %s\n  got  %s", w->name, w->want_def, got);
                free(got);
        }
        if (w->note ? !strstr(notes.text, w->note) : notes.text[0] != '\0')
                row_fail("%s: approximation\n  want %s\n  got  %s", w->name, w->note ? w->note : "(none)", notes.text);
        acl_free(in.acc);
        acl_free(in.def);
        acl_free(in.parent_def);
        acl_free(out_acc);
        acl_free(out_def);
}

static void every_row(void **state)
{
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
                run_row(&rows[i]);
        assert_int_equal(failures, 0);
}

/* The computation is pure: the same input twice gives the same output, and
 * the input ACLs are not changed. */
static void input_untouched(void **state)
{
        struct apid__ace a;
        struct apid__acl_rules rules = { &a, 1, 0, NULL, NULL };
        struct apid__acl_input in;
        struct stat st;
        acl_t acc = parse("u::rw-,u:1000:rwx,g::r--,m::r--,o::r--"), out1, def1, out2, def2;
        char *before = text_of(acc), *after;

        memset(&a, 0, sizeof(a));
        a.op = APID_ACL_GRANT;
        a.t.tag = APID__T_POOL;
        a.t.id = POOL;
        a.bits[0] = a.bits[1] = APID__R | APID__X;
        memset(&st, 0, sizeof(st));
        st.st_mode = S_IFREG | 0644;
        in = (struct apid__acl_input){ acc, NULL, NULL, &st, 0, "f" };
        assert_int_equal(apid__acl_compute(&rules, &in, &out1, &def1), APID_OK);
        assert_int_equal(apid__acl_compute(&rules, &in, &out2, &def2), APID_OK);
        assert_int_equal(acl_cmp(out1, out2), 0);
        after = text_of(acc);
        assert_string_equal(before, after);
        free(before);
        free(after);
        acl_free(acc);
        acl_free(out1);
        acl_free(out2);
        acl_free(def1);
        acl_free(def2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_row),
                cmocka_unit_test(input_untouched),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
