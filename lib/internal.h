/* Private declarations shared by the files in lib/. Nothing here is exported. */
#ifndef APID_INTERNAL_H
#define APID_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "apppoolid.h"

#define APID_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* error.c: record the calling thread's last error and return status. */
int apid__fail(int status, int sys_errno, const char *fmt, ...) APID_PRINTF(3, 4);
int apid__fail_oom(void);
/* Quote untrusted text for a message: printable ASCII as is, the rest as \xNN,
 * cut with "..." past max bytes. Writes a NUL-terminated string into buf. */
void apid__quote(char *buf, size_t size, const char *text, size_t max);

/* Free helpers for __attribute__((cleanup)); used in every file that allocates. */
static inline void apid__freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ __attribute__((cleanup(apid__freep)))

/* context.c */
void apid__log(apid_ctx *ctx, int level, const char *fmt, ...) APID_PRINTF(3, 4);

/* text.c: UTF-8 <-> UTF-16 and the simple Unicode case mappings Windows applies
 * per UTF-16 code unit. */
enum apid_case { APID_CASE_KEEP, APID_CASE_LOWER, APID_CASE_UPPER };

/* Decode one UTF-8 sequence at s (len bytes left). Returns its length and sets
 * *cp, or 0 for an invalid sequence (overlong, surrogate, > U+10FFFF, cut). */
size_t apid__utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
/* Encode cp as UTF-8 into out (4 bytes at least); returns the length. */
size_t apid__utf8_encode(uint32_t cp, char *out);
/* Map one code point; only the Basic Multilingual Plane is mapped, as Windows
 * maps UTF-16 code units one at a time. Returns -1 for a non-ASCII code point
 * when the C.UTF-8 locale (the case tables) is unavailable. */
int apid__case_map(uint32_t cp, enum apid_case mode, uint32_t *out);
/* UTF-8 (already validated) to UTF-16LE bytes, case-mapped. *out is malloc'd. */
int apid__utf16le(const char *utf8, enum apid_case mode, unsigned char **out, size_t *out_size,
                  const char *what);

/* name.c: the service-name rule (the pool-name rule is public). */
int apid__service_name_check(const char *name);

#endif
