/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private: the default seccomp filter of a token (lib/launch/filter.c). */
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

/* The same without the cache or the build's program: libseccomp and the
 * compaction, every time. *compacted (if not NULL): whether the compaction
 * (and its check by emulation) succeeded, else *out is libseccomp's. */
int apid__filter_compile(char *const *deny, size_t n_deny, struct sock_filter **out, size_t *len, int *compacted);

/* libseccomp's program alone, without the compaction (what the compaction
 * must answer as: tests/test-filter-compact.c). */
int apid__filter_libseccomp(char *const *deny, size_t n_deny, struct sock_filter **out, size_t *len);

/* The default program compiled at build time (filter-default.h), when this
 * process may use it: the running libseccomp has the major.minor version it
 * was made with, the running architecture is the one it was made for and
 * its hash matches. 1 and *p (static, not to be freed), *n; else 0. */
int apid__filter_prebuilt(const struct sock_filter **p, size_t *n);

/* FNV-1a (64-bit) of a program's instructions, as filter-default.h records it. */
uint64_t apid__filter_hash(const struct sock_filter *p, size_t n);

/* filter-compact.c: the same program as p, written as a binary search over
 * runs of system call numbers with one answer; 0 and *out (malloc'd), or -1
 * when p is not of the form expected (then keep p). arch: the native
 * AUDIT_ARCH_* value. */
int apid__filter_compact(const struct sock_filter *p, size_t n, uint32_t arch, struct sock_filter **out,
                         size_t *out_len);

/* Write "seccomp...: ..." lines describing that filter (insns: the length of
 * its program), for apid_token_describe(). */
void apid__filter_describe(FILE *f, char *const *deny, size_t n_deny, size_t insns);

#endif
