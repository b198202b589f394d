/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the cmocka tests. Include after <cmocka.h>. */
#ifndef APID_TESTUTIL_H
#define APID_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apppoolid.h>

/* The string form of a SID; free with apid_free(). */
static inline char *sid_string(const apid_sid *sid)
{
        char *s = NULL;

        assert_int_equal(apid_sid_to_string(sid, &s), APID_OK);
        return s;
}

/* A row of tests/vectors.tsv: kind ("pool" or "service"), name, SID, source. */
struct vector {
        char kind[16];
        char name[512];
        char sid[256];
};

/* Load tests/vectors.tsv (its path in $APID_TEST_VECTORS). Lines starting
 * with '#' and blank lines are skipped. */
static inline struct vector *vectors_load(size_t *count)
{
        const char *path = getenv("APID_TEST_VECTORS");
        struct vector *v = NULL;
        char line[2048];
        size_t n = 0;
        FILE *f;

        if (!path)
                fail_msg("APID_TEST_VECTORS is not set");
        f = fopen(path, "r");
        if (!f)
                fail_msg("cannot open %s", path);
        while (fgets(line, sizeof(line), f)) {
                char *kind, *name, *sid, *save = NULL;

                if (line[0] == '#' || line[0] == '\n')
                        continue;
                line[strcspn(line, "\n")] = '\0';
                kind = strtok_r(line, "\t", &save);
                name = strtok_r(NULL, "\t", &save);
                sid = strtok_r(NULL, "\t", &save);
                if (!kind || !name || !sid || (strcmp(kind, "pool") != 0 && strcmp(kind, "service") != 0))
                        fail_msg("%s: malformed line '%s'", path, line);
                v = realloc(v, (n + 1) * sizeof(*v));
                assert_non_null(v);
                snprintf(v[n].kind, sizeof(v[n].kind), "%s", kind);
                snprintf(v[n].name, sizeof(v[n].name), "%s", name);
                snprintf(v[n].sid, sizeof(v[n].sid), "%s", sid);
                n++;
        }
        fclose(f);
        *count = n;
        return v;
}

static inline void vectors_free(struct vector *v, size_t n)
{
        (void)n;
        free(v);
}

#endif
