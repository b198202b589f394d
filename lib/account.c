/* Account names <-> SIDs: the well-known accounts IIS uses, and the derived
 * "IIS APPPOOL\<pool>" and "NT SERVICE\<service>" accounts. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* Names as Windows prints them (LookupAccountSid); MS-DTYP 2.4.2.4. */
static const struct well_known {
        const char *domain; /* NULL: Windows prints the name alone */
        const char *name;   /* NULL: the row is the domain itself */
        uint64_t authority;
        uint32_t count;
        uint32_t sub[2];
} well_known[] = {
        { NULL, "Everyone", 1, 1, { 0 } },
        { NULL, "LOCAL", 2, 1, { 0 } },
        { NULL, "CONSOLE LOGON", 2, 1, { 1 } },
        { NULL, "CREATOR OWNER", 3, 1, { 0 } },
        { NULL, "CREATOR GROUP", 3, 1, { 1 } },
        { "NT AUTHORITY", NULL, 5, 0, { 0 } },
        { "NT AUTHORITY", "NETWORK", 5, 1, { 2 } },
        { "NT AUTHORITY", "BATCH", 5, 1, { 3 } },
        { "NT AUTHORITY", "INTERACTIVE", 5, 1, { 4 } },
        { "NT AUTHORITY", "SERVICE", 5, 1, { 6 } },
        { "NT AUTHORITY", "ANONYMOUS LOGON", 5, 1, { 7 } },
        { "NT AUTHORITY", "Authenticated Users", 5, 1, { 11 } },
        { "NT AUTHORITY", "This Organization", 5, 1, { 15 } },
        { "NT AUTHORITY", "IUSR", 5, 1, { 17 } },
        { "NT AUTHORITY", "SYSTEM", 5, 1, { 18 } },
        { "NT AUTHORITY", "LOCAL SERVICE", 5, 1, { 19 } },
        { "NT AUTHORITY", "NETWORK SERVICE", 5, 1, { 20 } },
        { "BUILTIN", NULL, 5, 1, { 32 } },
        { "BUILTIN", "Administrators", 5, 2, { 32, 544 } },
        { "BUILTIN", "Users", 5, 2, { 32, 545 } },
        { "BUILTIN", "Guests", 5, 2, { 32, 546 } },
        { "BUILTIN", "IIS_IUSRS", 5, 2, { 32, 568 } },
        { APID_SERVICE_DOMAIN, NULL, 5, 1, { 80 } },
        { APID_SERVICE_DOMAIN, "ALL SERVICES", 5, 2, { 80, 0 } },
        { APID_POOL_DOMAIN, NULL, 5, 1, { 82 } },
};

#define N_WELL_KNOWN (sizeof(well_known) / sizeof(well_known[0]))

static int well_known_sid(const struct well_known *w, apid_sid **out)
{
        return apid_sid_from_parts(w->authority, w->sub, w->count, out);
}

static int well_known_matches(const struct well_known *w, const char *domain, size_t domain_len, const char *name)
{
        if (domain) {
                if (!w->domain || strlen(w->domain) != domain_len || strncasecmp(w->domain, domain, domain_len) != 0)
                        return 0;
                return w->name && strcasecmp(w->name, name) == 0;
        }
        /* No domain: a well-known name alone, or a domain name alone. */
        if (w->name)
                return strcasecmp(w->name, name) == 0;
        return strcasecmp(w->domain, name) == 0;
}

static int join(const char *domain, const char *name, char **out)
{
        size_t dl = strlen(domain), nl = strlen(name);
        char *s = malloc(dl + nl + 2);

        if (!s)
                return apid__fail_oom();
        memcpy(s, domain, dl);
        s[dl] = '\\';
        memcpy(s + dl + 1, name, nl + 1);
        *out = s;
        return APID_OK;
}

APID_EXPORT int apid_account_to_sid(apid_ctx *ctx, const char *account, apid_sid **out)
{
        const char *slash, *domain = NULL, *name = account;
        size_t domain_len = 0, i;
        char q[256];

        if (!account || !out)
                return apid__fail(APID_EINVAL, 0, "apid_account_to_sid: NULL argument");
        slash = strchr(account, '\\');
        if (slash) {
                domain = account;
                domain_len = (size_t)(slash - account);
                name = slash + 1;
        }
        if (domain && domain_len == strlen(APID_POOL_DOMAIN) &&
            strncasecmp(domain, APID_POOL_DOMAIN, domain_len) == 0) {
                apid__log(ctx, APID_LOG_DEBUG, "account %s: an application pool", account);
                return apid_sid_for_pool(name, out);
        }
        if (domain && domain_len == strlen(APID_SERVICE_DOMAIN) &&
            strncasecmp(domain, APID_SERVICE_DOMAIN, domain_len) == 0 && strcasecmp(name, "ALL SERVICES") != 0) {
                apid__log(ctx, APID_LOG_DEBUG, "account %s: a service", account);
                return apid_sid_for_service(name, out);
        }
        for (i = 0; i < N_WELL_KNOWN; i++)
                if (well_known_matches(&well_known[i], domain, domain_len, name))
                        return well_known_sid(&well_known[i], out);
        apid__quote(q, sizeof(q), account, 200);
        return apid__fail(APID_ENOTFOUND, 0,
                          "account '%s': not a known account (expected IIS APPPOOL\\<pool>, NT SERVICE\\<service> "
                          "or a well-known name such as NT AUTHORITY\\SYSTEM)", q);
}

APID_EXPORT int apid_sid_to_account(apid_ctx *ctx, const apid_sid *sid, char **out)
{
        _cleanup_free_ char *text = NULL;
        size_t i;
        int r;

        (void)ctx;
        if (!sid || !out)
                return apid__fail(APID_EINVAL, 0, "apid_sid_to_account: NULL argument");
        for (i = 0; i < N_WELL_KNOWN; i++) {
                const struct well_known *w = &well_known[i];
                uint32_t j;

                if (w->authority != apid_sid_authority(sid) || w->count != apid_sid_subauthority_count(sid))
                        continue;
                for (j = 0; j < w->count; j++) {
                        uint32_t v = 0;

                        if (apid_sid_get_subauthority(sid, j, &v) < 0 || v != w->sub[j])
                                break;
                }
                if (j < w->count)
                        continue;
                if (!w->domain || !w->name) {
                        char *s = strdup(w->name ? w->name : w->domain);

                        if (!s)
                                return apid__fail_oom();
                        *out = s;
                        return APID_OK;
                }
                return join(w->domain, w->name, out);
        }
        r = apid_sid_to_string(sid, &text);
        if (r < 0)
                return r;
        if (apid_sid_is_pool(sid) || apid_sid_is_service(sid))
                return apid__fail(APID_ENOTFOUND, 0,
                                  "SID %s: a %s SID is a one-way hash of its name, and no record of the name is known",
                                  text, apid_sid_is_pool(sid) ? "pool" : "service");
        return apid__fail(APID_ENOTFOUND, 0, "SID %s: not a known account", text);
}

APID_EXPORT int apid_account_for_pool(const char *pool_name, char **out)
{
        int r;

        if (!out)
                return apid__fail(APID_EINVAL, 0, "apid_account_for_pool: out is NULL");
        r = apid_pool_name_check(pool_name);
        if (r < 0)
                return r;
        return join(APID_POOL_DOMAIN, pool_name, out);
}

APID_EXPORT int apid_account_for_service(const char *service_name, char **out)
{
        int r;

        if (!out)
                return apid__fail(APID_EINVAL, 0, "apid_account_for_service: out is NULL");
        r = apid__service_name_check(service_name);
        if (r < 0)
                return r;
        return join(APID_SERVICE_DOMAIN, service_name, out);
}

/* The built-in identities a pool can run as, in one place: identity type,
 * SID, Windows account name, and the registry setting naming the POSIX
 * account. (Issue 17: the S-1-5-19/20 mapping was written in five files.) */
static const struct apid__builtin builtins[] = {
        { APID_IDENTITY_LOCAL_SYSTEM, "S-1-5-18", "NT AUTHORITY\\SYSTEM", "localSystemUser" },
        { APID_IDENTITY_LOCAL_SERVICE, "S-1-5-19", "NT AUTHORITY\\LOCAL SERVICE", "localServiceUser" },
        { APID_IDENTITY_NETWORK_SERVICE, "S-1-5-20", "NT AUTHORITY\\NETWORK SERVICE", "networkServiceUser" },
};

const struct apid__builtin *apid__builtin_by_type(int type)
{
        size_t i;

        for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
                if (builtins[i].type == type)
                        return &builtins[i];
        return NULL;
}

const struct apid__builtin *apid__builtin_by_sid(const char *sid)
{
        size_t i;

        for (i = 0; sid && i < sizeof(builtins) / sizeof(builtins[0]); i++)
                if (strcmp(builtins[i].sid, sid) == 0)
                        return &builtins[i];
        return NULL;
}
