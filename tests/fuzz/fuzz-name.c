/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz pool-name validation, comparison, canonical form, SID derivation and
 * account resolution. Properties: no crash, no leak; a name that passes the
 * check folds to a canonical form that is itself valid and stable, equals
 * itself, and derives the same SID as its canonical form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apppoolid.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        apid_sid *sid = NULL, *sid2 = NULL;
        char *name, *canon = NULL, *canon2 = NULL;

        name = malloc(size + 1);
        if (!name)
                return 0;
        memcpy(name, data, size);
        name[size] = '\0';

        if (apid_pool_name_check(name) == APID_OK) {
                if (apid_pool_name_equal(name, name) != 1)
                        abort();
                if (apid_pool_name_canonical(name, &canon) != APID_OK)
                        abort();
                if (apid_pool_name_canonical(canon, &canon2) != APID_OK || strcmp(canon, canon2) != 0)
                        abort(); /* folding is idempotent */
                if (apid_pool_name_equal(name, canon) != 1)
                        abort();
                if (apid_sid_for_pool(name, &sid) != APID_OK || !apid_sid_is_pool(sid))
                        abort();
                apid_free(canon);
                apid_free(canon2);
                apid_sid_free(sid);
                sid = NULL;
        } else if (apid_pool_name_equal(name, "x") >= 0 || apid_sid_for_pool(name, &sid) == APID_OK) {
                abort(); /* an invalid name is refused everywhere */
        }
        if (apid_sid_for_service(name, &sid) == APID_OK)
                apid_sid_free(sid);
        sid = NULL;
        if (apid_account_to_sid(NULL, name, &sid) == APID_OK) {
                char *back = NULL;

                if (apid_sid_to_account(NULL, sid, &back) == APID_OK) {
                        /* A well-known name resolves back to a name of the same SID. */
                        if (apid_account_to_sid(NULL, back, &sid2) != APID_OK || !apid_sid_equal(sid, sid2))
                                abort();
                        apid_free(back);
                        apid_sid_free(sid2);
                }
                apid_sid_free(sid);
        }
        free(name);
        return 0;
}
