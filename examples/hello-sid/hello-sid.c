/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The smallest program on libapppoolid: print the SID of an application pool.
 *
 *   cc hello-sid.c $(pkg-config --cflags --libs apppoolid) -o hello-sid
 *   ./hello-sid DefaultAppPool
 */
#include <stdio.h>

#include <apppoolid.h>

int main(int argc, char **argv)
{
        const char *pool = argc > 1 ? argv[1] : "DefaultAppPool";
        apid_sid *sid = NULL;
        char *text = NULL;

        if (apid_sid_for_pool(pool, &sid) != APID_OK || apid_sid_to_string(sid, &text) != APID_OK) {
                fprintf(stderr, "hello-sid: %s\n", apid_error_message());
                apid_sid_free(sid);
                return 1;
        }
        printf("IIS APPPOOL\\%s %s\n", pool, text);
        apid_free(text);
        apid_sid_free(sid);
        return 0;
}
