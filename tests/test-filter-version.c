/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The build-time seccomp program is taken only under the libseccomp
 * major.minor it was made with (lib/filter.c); under another one (an
 * upgrade since the build) the default program is compiled at run time.
 * This test defines seccomp_version() over libseccomp's, to play the
 * upgrade, and links the library's filter sources (the functions are
 * internal). */
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <seccomp.h>

#include "filter.h"

/* 0: libseccomp's answer; else that much added to the minor (or major). */
static int minor_shift, major_shift;
static struct scmp_version played;

const struct scmp_version *seccomp_version(void)
{
        const struct scmp_version *(*real)(void);
        const struct scmp_version *v;

        *(void **)&real = dlsym(RTLD_NEXT, "seccomp_version"); /* POSIX dlsym idiom */
        v = real ? real() : NULL;

        if (!v || (!minor_shift && !major_shift))
                return v;
        played = *v;
        played.minor += (unsigned)minor_shift;
        played.major += (unsigned)major_shift;
        return &played;
}

/* The libseccomp the build used: the program is taken. */
static void same_version_takes_the_program(void **state)
{
        const struct sock_filter *pre = NULL;
        size_t n = 0;

        (void)state;
        minor_shift = major_shift = 0;
        if (!apid__filter_prebuilt(&pre, &n))
                skip(); /* a cross build, or another architecture: no program to take */
        assert_true(n > 0);
}

/* Another minor or major version: not taken, and the default program is
 * compiled at run time, the same as a fresh compile. */
static void another_version_compiles_at_run_time(void **state)
{
        const struct sock_filter *pre = NULL;
        struct sock_filter *p = NULL, *q = NULL;
        size_t n_pre = 0, n = 0, m = 0;

        (void)state;
        minor_shift = major_shift = 0;
        if (!apid__filter_prebuilt(&pre, &n_pre))
                skip();
        minor_shift = 1;
        assert_false(apid__filter_prebuilt(&pre, &n_pre));
        minor_shift = 0;
        major_shift = 1;
        assert_false(apid__filter_prebuilt(&pre, &n_pre));
        major_shift = 0;
        minor_shift = -1;
        assert_false(apid__filter_prebuilt(&pre, &n_pre));
        /* apid__filter_build caches the default program per process; this
         * is the first call in this process, under the played upgrade. */
        assert_int_equal(apid__filter_build(NULL, 0, &p, &n), 0);
        minor_shift = 0;
        assert_int_equal(apid__filter_compile(NULL, 0, &q, &m, NULL), 0);
        assert_int_equal(n, m);
        assert_memory_equal(p, q, n * sizeof(*p));
        free(p);
        free(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(same_version_takes_the_program),
                cmocka_unit_test(another_version_compiles_at_run_time),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
