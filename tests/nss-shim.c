/* An LD_PRELOAD shim that makes NSS slow or failing, for the process it is
 * preloaded into only: APID_SHIM_DELAY_MS=N delays every getpwnam_r,
 * getpwuid_r, getgrnam_r and getgrgid_r by N ms (a directory that answers
 * slowly); APID_SHIM_ERRNO=E makes getpwuid_r and getgrgid_r fail with errno
 * E (a directory that does not answer); APID_SHIM_MARK=FILE creates FILE on
 * the first lookup and APID_SHIM_HOLD=FILE then waits while FILE exists (a
 * directory that hangs, until the test lets it go), for getpwnam_r of the
 * name APID_SHIM_NAME only if that is set. Used by
 * tests/cli/test-idmap.sh. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

static void delay_name(const char *name);

static void delay(void)
{
        delay_name(NULL);
}

static void delay_name(const char *name)
{
        const char *mark = getenv("APID_SHIM_MARK"), *hold = getenv("APID_SHIM_HOLD");
        const char *v = getenv("APID_SHIM_DELAY_MS");

        const char *only = getenv("APID_SHIM_NAME");

        if (only && (!name || strcmp(name, only) != 0))
                mark = hold = NULL;
        if (mark) {
                int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

                if (fd >= 0)
                        close(fd);
        }
        while (hold && access(hold, F_OK) == 0) {
                struct timespec t = { 0, 10000000L };

                nanosleep(&t, NULL);
        }
        long ms = v ? atol(v) : 0;
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

        if (ms > 0)
                while (nanosleep(&ts, &ts) != 0)
                        ;
}

static int fail(void)
{
        const char *v = getenv("APID_SHIM_ERRNO");

        return v ? atoi(v) : 0;
}

/* The next definition (glibc's), through memcpy: ISO C has no cast from an
 * object pointer to a function pointer. */
#define NEXT(name, f)                                   \
        do {                                            \
                void *p_ = dlsym(RTLD_NEXT, #name);     \
                memcpy(&(f), &p_, sizeof(f));           \
        } while (0)

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t size, struct passwd **res)
{
        delay_name(name);
        __typeof__(getpwnam_r) *f;

        NEXT(getpwnam_r, f);
        return f(name, pw, buf, size, res);
}

int getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t size, struct passwd **res)
{
        delay();
        if (fail()) {
                *res = NULL;
                return fail();
        }
        __typeof__(getpwuid_r) *f;

        NEXT(getpwuid_r, f);
        return f(uid, pw, buf, size, res);
}

int getgrnam_r(const char *name, struct group *gr, char *buf, size_t size, struct group **res)
{
        delay();
        __typeof__(getgrnam_r) *f;

        NEXT(getgrnam_r, f);
        return f(name, gr, buf, size, res);
}

int getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t size, struct group **res)
{
        delay();
        if (fail()) {
                *res = NULL;
                return fail();
        }
        __typeof__(getgrgid_r) *f;

        NEXT(getgrgid_r, f);
        return f(gid, gr, buf, size, res);
}
