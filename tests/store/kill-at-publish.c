/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LD_PRELOAD shim for tests: with APID_TEST_KILL_AT_PUBLISH set, the
 * process is killed with SIGKILL when it takes the NSS snapshot's lock,
 * that is after its registry COMMIT and before the snapshot is published:
 * a real kill -9 at that point, with no test hook in the library. */
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

int flock(int fd, int op);
int flock(int fd, int op)
{
        static int (*real)(int, int);
        void *sym;

        if (getenv("APID_TEST_KILL_AT_PUBLISH"))
                raise(SIGKILL);
        if (!real) {
                sym = dlsym(RTLD_NEXT, "flock");
                memcpy(&real, &sym, sizeof(real)); /* object to function pointer, as POSIX allows */
        }
        return real(fd, op);
}
