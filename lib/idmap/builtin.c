/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built-in identities the library provisions: LocalService (S-1-5-19)
 * and NetworkService (S-1-5-20) run as accounts of the library's own id
 * range, unless the administrator names an existing account. The facts
 * (type, SID, account name, setting) are account.c's table. */
#include <string.h>

#include "idmap.h"

/* Inside the caller's transaction, run by apid__idmap_run (NSS answers come
 * from the round's cache). */
int apid__provision_builtin(apid_ctx *ctx, struct sqlite3 *db, int type)
{
        const struct apid__builtin *b = apid__builtin_by_type(type);
        _cleanup_free_ char *user = NULL;
        struct apid__posix_record a;
        apid_sid *sid = NULL;
        int r;

        if (!b || type == APID_IDENTITY_LOCAL_SYSTEM)
                return apid__fail(APID_EINVAL, 0, "identity type %d: not a provisioned built-in identity", type);
        r = apid__config(db, b->setting, &user);
        if (r < 0)
                return r;
        r = apid__reg_record_by_user(db, user, &a);
        if (r == APID_OK) {
                if (a.kind == APID__POSIX_BUILTIN)
                        return APID_OK;
                return apid__fail(APID_EEXISTS, 0, "account %s: the name is taken by a pool", user);
        }
        if (r != APID_ENOTFOUND)
                return r; /* the registry failed: not "absent" */
        r = apid__nss_user_exists(user);
        if (r != 0)
                return r < 0 ? r : APID_OK; /* an account the administrator made */
        r = apid_sid_parse(b->sid, &sid);
        if (r == APID_OK)
                r = apid__posix_record_assign(ctx, db, sid, APID__POSIX_BUILTIN, user, &a);
        apid_sid_free(sid);
        if (r == APID_OK)
                apid__log(ctx, APID_LOG_INFO, "provisioned account %s (uid %u) for %s", user, a.uid, b->sid);
        return r;
}
