/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A "libldap" that lacks most of libldap (test-ldap-load.sh mounts it over
 * the real one, with the real one's soname): an old or broken install. It
 * has the first two functions apppoolctl looks up, not the third
 * (ldap_first_entry), so the lookup must go on past found symbols and name
 * the one missing. Never called: the signatures do not matter. */
int ldap_add_ext_s(void);
int ldap_err2string(void);

int ldap_add_ext_s(void)
{
        return -1;
}

int ldap_err2string(void)
{
        return -1;
}
