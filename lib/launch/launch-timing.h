/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where a launch spends its time, for tuning only: a build with
 * -Dc_args=-DAPID_LAUNCH_TIMING (never a release build) stamps each step of
 * the parent and of the child (which shares its memory until execve) with
 * CLOCK_MONOTONIC, and prints the median of each step's time over all the
 * launches of the process to stderr at exit (tests/bench/bench-launch.c).
 * Without the define, the stamps compile to nothing. */
#ifndef APID_LAUNCH_TIMING_H
#define APID_LAUNCH_TIMING_H

#ifdef APID_LAUNCH_TIMING
#include <stdint.h>
#include <time.h>

#define APID__TIMING_POINTS(X) \
        X(P_ENTER) X(P_PRIV) X(P_AREA) X(P_RESOLVE) X(P_PLAN) X(P_FDS) X(P_CGROUPS) X(P_ALLOC) \
        X(P_CLONE) X(C_START) X(C_CGROUP) X(C_SIGNALS) X(C_SETSID) X(C_FDS) X(C_KEYRING) X(C_PERSONALITY) \
        X(C_RLIMIT) X(C_SETGROUPS) X(C_SETRESGID) X(C_BOUNDING) X(C_SECUREBITS) X(C_SETRESUID) X(C_CAPS) \
        X(C_NNP) X(C_CWD) X(C_PDEATH) X(C_SECCOMP) X(C_SIGMASK) X(P_EOF) X(P_DONE) X(P_END) X(W_ENTER) \
        X(W_POLL) X(W_REAPED) X(F_END)
#define APID__TIMING_ENUM(n) APID__T_##n,
enum { APID__TIMING_POINTS(APID__TIMING_ENUM) APID__T_COUNT };

extern volatile uint64_t apid__timing_now[APID__T_COUNT];

static inline __attribute__((no_sanitize("address", "undefined"), always_inline)) void
apid__timing_stamp(int point)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        apid__timing_now[point] = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
/* The parent, once the launch's process is freed: keep this launch's stamps. */
void apid__timing_commit(void);
#define APID__STAMP(point) apid__timing_stamp(APID__T_##point)
#define APID__TIMING_COMMIT() apid__timing_commit()
#else
#define APID__STAMP(point) ((void)0)
#define APID__TIMING_COMMIT() ((void)0)
#endif

#endif
