/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A private state directory and a context pointing at it, for the tests that
 * use the registry. Include after <cmocka.h> and testutil.h. */
#ifndef APID_TESTUTIL_STATE_H
#define APID_TESTUTIL_STATE_H

#include <ftw.h>
#include <unistd.h>

struct fixture {
        char dir[256];
        apid_ctx *ctx;
};

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static inline void rm_tree(const char *dir)
{
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int fixture_setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/apid-test-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        assert_int_equal(apid_ctx_new(&f->ctx), APID_OK);
        assert_int_equal(apid_ctx_set_state_dir(f->ctx, f->dir), APID_OK);
        *state = f;
        return 0;
}

static inline int fixture_teardown(void **state)
{
        struct fixture *f = *state;

        apid_ctx_unref(f->ctx);
        rm_tree(f->dir);
        free(f);
        return 0;
}

/* A context on another private state directory (another "host"). */
static inline apid_ctx *other_host(char *dir, size_t size)
{
        apid_ctx *ctx = NULL;

        snprintf(dir, size, "/tmp/apid-host-XXXXXX");
        assert_non_null(mkdtemp(dir));
        assert_int_equal(apid_ctx_new(&ctx), APID_OK);
        assert_int_equal(apid_ctx_set_state_dir(ctx, dir), APID_OK);
        return ctx;
}

static inline uint32_t pool_uid(apid_ctx *ctx, const char *name, uint32_t *probe)
{
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        uint32_t uid;

        if (apid_pool_open(ctx, name, &pool) != APID_OK)
                fail_msg("open %s: %s", name, apid_error_message());
        assert_int_equal(apid_pool_get_identity(pool, &id), APID_OK);
        uid = apid_identity_get_uid(id);
        if (probe)
                *probe = apid_identity_get_uid_probe(id);
        apid_identity_free(id);
        apid_pool_free(pool);
        return uid;
}

static inline uint32_t pool_count(apid_ctx *ctx)
{
        apid_pool_list *l = NULL;
        uint32_t n;

        assert_int_equal(apid_pool_list_new(ctx, &l), APID_OK);
        n = apid_pool_list_count(l);
        apid_pool_list_free(l);
        return n;
}

static inline void must(int status)
{
        if (status != APID_OK)
                fail_msg("%s (%d)", apid_error_message(), status);
}

#endif
