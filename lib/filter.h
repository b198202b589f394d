/* Private: the default seccomp filter of a token (lib/filter.c). */
#ifndef APID_FILTER_H
#define APID_FILTER_H

#include <linux/filter.h>
#include <stdio.h>

#include "internal.h"

/* Compile the allow-list, with each of deny[0..n_deny) failing with EPERM
 * on top, into a classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER).
 * *out is malloc'd (*len instructions); on failure nothing is set. The
 * program without deny names is compiled once per process and copied. */
int apid__filter_build(char *const *deny, size_t n_deny, struct sock_filter **out, size_t *len);

/* Write "seccomp...: ..." lines describing that filter, for
 * apid_token_describe(). */
void apid__filter_describe(FILE *f, char *const *deny, size_t n_deny);

#endif
