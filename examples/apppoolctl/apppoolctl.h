/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppoolctl: shared declarations of the command-line tool. It uses only the
 * public API of libapppoolid. */
#ifndef APPPOOLCTL_H
#define APPPOOLCTL_H

#include <stdio.h>

#include <apppoolid.h>

/* Exit statuses: 0 success, 1 the library refused, 2 bad usage. */
#define EXIT_LIBRARY 1
#define EXIT_USAGE 2

extern const char *program_name;

/* Print "apppoolctl: <library message>" on stderr and return EXIT_LIBRARY. */
int fail_library(void);
/* Print "apppoolctl: <message>" and a hint to --help on stderr, return EXIT_USAGE. */
int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write s as a JSON string (with quotes) to f. */
void json_string(FILE *f, const char *s);

int cmd_sid(int argc, char **argv);
int cmd_lookup(int argc, char **argv);
int cmd_pool(int argc, char **argv);
int cmd_identity(int argc, char **argv);
int cmd_registry(int argc, char **argv);
#ifdef APPPOOLCTL_LDAP
int cmd_registry_publish(int argc, char **argv);
#endif
int cmd_acl_edit(int argc, char **argv);
int cmd_acl(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

#endif
