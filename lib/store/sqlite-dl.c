/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SQLite loaded on demand (see sqlite-dl.h). */
#define APID__SQLITE_DL_IMPL
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "store/sqlite-dl.h"

#define APID__SQLITE_DEFINE(f) __typeof__(f) *apid__dl_##f;
APID__SQLITE_FUNCS(APID__SQLITE_DEFINE)
#undef APID__SQLITE_DEFINE

/* The oldest SQLite whose features the registry uses (SQLITE_OPEN_NOFOLLOW). */
#define MIN_VERSION 3031000

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[512]; /* empty: loaded */

static void load(void)
{
        void *h, *sym;
        const char *e;

        dlerror();
        /* Never unloaded: the pointers stay valid for the process's life.
         * Global, and resolved as the dynamic linker bound them when SQLite
         * was linked (RTLD_DEFAULT: the program first), so that a program
         * that defines an SQLite function (a test counting statements, an
         * application's wrapper) still has its calls. */
        h = dlopen(APID__SQLITE_SONAME, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
        if (!h) {
                e = dlerror();
                snprintf(failure, sizeof(failure), "%s", e ? e : "unknown error");
                return;
        }
#define APID__SQLITE_RESOLVE(f)                                                                    \
        sym = dlsym(RTLD_DEFAULT, #f);                                                                      \
        if (!sym) {                                                                                \
                e = dlerror();                                                                     \
                snprintf(failure, sizeof(failure), "%s", e ? e : "no symbol " #f);                 \
                return;                                                                            \
        }                                                                                          \
        memcpy(&apid__dl_##f, &sym, sizeof(sym)); /* object to function pointer, as POSIX allows */
        APID__SQLITE_FUNCS(APID__SQLITE_RESOLVE)
#undef APID__SQLITE_RESOLVE
        if (apid__dl_sqlite3_libversion_number() < MIN_VERSION)
                snprintf(failure, sizeof(failure), "version %d, the registry needs %d or later",
                         apid__dl_sqlite3_libversion_number(), MIN_VERSION);
}

int apid__sqlite_load(void)
{
        pthread_once(&once, load);
        if (failure[0])
                return apid__fail(APID_ESYS, 0, "SQLite (%s) could not be loaded, so the registry cannot be "
                                  "opened: %s", APID__SQLITE_SONAME, failure);
        return APID_OK;
}
