/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libldap with dlopen(), for registry publish only.
 *
 * Linking libldap made every apppoolctl command load it and the ten
 * libraries it needs (gnutls, p11-kit, sasl2, ...): about 1.2 ms of CPU per
 * run, more than `apppoolctl run` may cost in total (issue 17). Of the two
 * ways out, a helper program for publish or dlopen() here, dlopen() is the
 * one with fewer parts that can break: no second executable to install,
 * find (libexecdir, relocations, tests running from the build tree) and
 * keep in step, no protocol between the two, the same error paths and exit
 * codes, and the same process for ASan to check. What dlopen() could get
 * wrong is made impossible or loud instead:
 *  - which library: the soname, read by meson from the very libldap.so the
 *    ldap dependency resolves to (DT_SONAME), the name the linker would
 *    have recorded as DT_NEEDED; the soname is the ABI promise, so the
 *    library found at run time is one the headers describe. Never a path
 *    or name from the environment (apppoolctl runs as root).
 *  - which signatures: each pointer's type is __typeof__ of the prototype
 *    in <ldap.h>, so calls are checked by the compiler as before.
 *  - missing pieces: RTLD_NOW resolves the library's own dependencies at
 *    once and every symbol is looked up before the first call, so a broken
 *    install fails before publish touches the directory, with dlerror()'s
 *    words (the library, the symbol).
 * The library stays loaded (no dlclose()): libldap and gnutls keep global
 * state and run destructors at exit. RTLD_LOCAL keeps its symbols (and
 * those of its dependencies) from interposing on anything else loaded later.
 * (systemd loads its optional libraries the same way, dlopen_many_sym_or_warn
 * in src/shared/dlfcn-util.c; the idea is learned from there, no code.) */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "apppoolctl.h"
#include "ldap-dl.h"

#ifndef APPPOOLCTL_LDAP_SONAME
#error "APPPOOLCTL_LDAP_SONAME (libldap's soname) comes from meson"
#endif

#define LDAP_DL_DEFINE(name) __typeof__(name) *sym_##name;
LDAP_DL_SYMBOLS(LDAP_DL_DEFINE)
#undef LDAP_DL_DEFINE

/* dlsym() returns a void *; POSIX guarantees it converts to a function
 * pointer, which is copied byte for byte into the typed pointer (no cast
 * between object and function pointers, which ISO C leaves undefined). */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers are not the size of void *");

static const struct {
        const char *name;
        void *slot; /* &sym_NAME */
} symbols[] = {
#define LDAP_DL_ENTRY(name) { #name, &sym_##name },
        LDAP_DL_SYMBOLS(LDAP_DL_ENTRY)
#undef LDAP_DL_ENTRY
};

int ldap_dl_open(void)
{
        static int loaded;
        void *lib, *p;
        const char *err;
        size_t i;

        if (loaded)
                return 0;
        lib = dlopen(APPPOOLCTL_LDAP_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
                err = dlerror();
                fprintf(stderr, "%s: registry publish: cannot load %s (libldap, OpenLDAP's client library): %s\n",
                        program_name, APPPOOLCTL_LDAP_SONAME, err ? err : "unknown error");
                return EXIT_LIBRARY;
        }
        for (i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
                dlerror();
                p = dlsym(lib, symbols[i].name);
                err = dlerror();
                if (!p || err) {
                        fprintf(stderr, "%s: registry publish: %s has no symbol %s: %s\n", program_name,
                                APPPOOLCTL_LDAP_SONAME, symbols[i].name, err ? err : "NULL");
                        /* Leave nothing half-resolved behind. */
                        for (i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++)
                                memset(symbols[i].slot, 0, sizeof(p));
                        return EXIT_LIBRARY;
                }
                memcpy(symbols[i].slot, &p, sizeof(p));
        }
        loaded = 1;
        return 0;
}
