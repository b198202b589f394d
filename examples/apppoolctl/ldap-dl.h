/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libldap, loaded only when registry publish runs (see ldap-dl.c for why).
 * <ldap.h> still gives the types and prototypes; each function is called
 * through sym_NAME, a pointer whose type is taken from NAME's own
 * prototype, so a call cannot disagree with the library's header. */
#ifndef APPPOOLCTL_LDAP_DL_H
#define APPPOOLCTL_LDAP_DL_H

#include <ldap.h>

/* Every libldap function apppoolctl calls; nothing else is looked up. */
#define LDAP_DL_SYMBOLS(X)              \
        X(ldap_add_ext_s)               \
        X(ldap_err2string)              \
        X(ldap_first_entry)             \
        X(ldap_get_option)              \
        X(ldap_get_values_len)          \
        X(ldap_initialize)              \
        X(ldap_memfree)                 \
        X(ldap_modify_ext_s)            \
        X(ldap_msgfree)                 \
        X(ldap_parse_result)            \
        X(ldap_result)                  \
        X(ldap_sasl_bind_s)             \
        X(ldap_search_ext)              \
        X(ldap_set_option)              \
        X(ldap_start_tls_s)             \
        X(ldap_unbind_ext_s)            \
        X(ldap_value_free_len)

#define LDAP_DL_DECLARE(name) extern __typeof__(name) *sym_##name;
LDAP_DL_SYMBOLS(LDAP_DL_DECLARE)
#undef LDAP_DL_DECLARE

/* Load libldap (by the soname meson read at build time) and resolve every
 * symbol above, once per process. 0, or EXIT_LIBRARY after a message on
 * stderr naming the library and what failed (dlerror(): the library is
 * missing or broken, or which symbol it lacks). Not thread-safe: apppoolctl
 * calls it from its one thread. */
int ldap_dl_open(void);

#endif
