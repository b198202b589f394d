/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppoolctl sid, apppoolctl lookup: SIDs and account names. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "apppoolctl.h"

struct resolved {
        char *name;    /* as given */
        char *account; /* DOMAIN\name */
        char *sid;     /* S-1-... */
        char *pool_group; /* a pool of this host: its group (what getfacl shows for IIS AppPool\X) */
        uint32_t pool_gid;
};

static void resolved_free(struct resolved *r, int n)
{
        int i;

        for (i = 0; i < n; i++) {
                apid_free(r[i].account);
                apid_free(r[i].sid);
                free(r[i].pool_group);
        }
        free(r);
}

static void print_resolved(const struct resolved *r, int n, int json, int sid_only)
{
        int i;

        for (i = 0; i < n; i++) {
                if (!json) {
                        if (sid_only)
                                printf("%s\n", r[i].sid);
                        else
                                printf("%s\t%s\n", r[i].account, r[i].sid);
                        continue;
                }
                /* JSON Lines: one object per argument, in order. */
                fputs("{\"name\":", stdout);
                json_string(stdout, r[i].name);
                fputs(",\"account\":", stdout);
                json_string(stdout, r[i].account);
                fputs(",\"sid\":", stdout);
                json_string(stdout, r[i].sid);
                if (r[i].pool_group) {
                        fputs(",\"poolGroup\":", stdout);
                        json_string(stdout, r[i].pool_group);
                        printf(",\"poolGid\":%u", r[i].pool_gid);
                }
                fputs("}\n", stdout);
        }
}

static int sid_of(const char *name, int service, struct resolved *out)
{
        apid_sid *sid = NULL;
        int r;

        r = service ? apid_sid_for_service(name, &sid) : apid_sid_for_pool(name, &sid);
        if (r == APID_OK)
                r = apid_sid_to_string(sid, &out->sid);
        if (r == APID_OK)
                r = service ? apid_account_for_service(name, &out->account)
                            : apid_account_for_pool(name, &out->account);
        apid_sid_free(sid);
        return r;
}

int cmd_sid(int argc, char **argv)
{
        static const struct option options[] = {
                { "service", no_argument, NULL, 's' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct resolved *res;
        int service = 0, json = 0, c, i, n;

        while ((c = getopt_long(argc, argv, "+sjh", options, NULL)) != -1) {
                switch (c) {
                case 's': service = 1; break;
                case 'j': json = 1; break;
                case 'h':
                        printf("Usage: %s sid [--service] [--json] NAME...\n"
                               "\n"
                               "Print the SID Windows gives to the application pool NAME (IIS APPPOOL\\NAME,\n"
                               "S-1-5-82-...), or with --service to the service NAME (NT SERVICE\\NAME,\n"
                               "S-1-5-80-..., as 'sc showsid' prints it). One line per NAME; with --json one\n"
                               "JSON object per NAME with the keys name, account and sid. If any NAME is\n"
                               "invalid, nothing is printed on stdout and the exit status is 1.\n",
                               program_name);
                        return 0;
                default:
                        return fail_usage("sid: bad option");
                }
        }
        if (optind >= argc)
                return fail_usage("sid: a pool or service NAME is needed");
        n = argc - optind;
        res = calloc((size_t)n, sizeof(*res));
        if (!res)
                return fail_usage("out of memory");
        /* Resolve every name before printing anything: all or nothing. */
        for (i = 0; i < n; i++) {
                res[i].name = argv[optind + i];
                if (sid_of(res[i].name, service, &res[i]) < 0) {
                        resolved_free(res, n);
                        return fail_library();
                }
        }
        print_resolved(res, n, json, 1);
        resolved_free(res, n);
        return 0;
}

/* A pool of this host by its POSIX name (apppool-web, as getfacl and ls -l
 * show its group), or the group of the pool a SID names: both need the
 * registry. 0 when found. */
static int pool_here(apid_ctx **ctx, const char *user, const apid_sid *sid, struct resolved *out)
{
        apid_identity *id = NULL;
        apid_sid *own = NULL;
        int r;

        if (!*ctx && apid_ctx_new(ctx) != APID_OK)
                return -1;
        r = sid ? apid_identity_from_sid(*ctx, sid, &id) : apid_identity_from_user(*ctx, user, &id);
        if (r != APID_OK)
                return -1;
        out->pool_gid = apid_identity_get_pool_gid(id);
        out->pool_group = strdup(apid_identity_get_pool_group(id));
        if (!sid && apid_sid_for_pool(apid_identity_get_pool_name(id), &own) == APID_OK) {
                if (apid_sid_to_string(own, &out->sid) != APID_OK ||
                    apid_account_for_pool(apid_identity_get_pool_name(id), &out->account) != APID_OK)
                        r = -1;
                apid_sid_free(own);
        }
        apid_identity_free(id);
        return r == APID_OK && out->pool_group ? 0 : -1;
}

int cmd_lookup(int argc, char **argv)
{
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct resolved *res;
        apid_ctx *ctx = NULL;
        int json = 0, c, i, n, r;

        while ((c = getopt_long(argc, argv, "+jh", options, NULL)) != -1) {
                switch (c) {
                case 'j': json = 1; break;
                case 'h':
                        printf("Usage: %s lookup [--json] ACCOUNT|SID...\n"
                               "\n"
                               "Resolve account names ('IIS AppPool\\DefaultAppPool', 'NT SERVICE\\W32Time',\n"
                               "'NT AUTHORITY\\SYSTEM', 'IIS_IUSRS', ...) to SIDs and SIDs (S-1-...) to account\n"
                               "names. Prints 'ACCOUNT<TAB>SID' per argument; with --json one JSON object per\n"
                               "argument with the keys name, account and sid, and for a pool of this host\n"
                               "poolGroup and poolGid: the group that grants to IIS AppPool\\NAME are entries\n"
                               "for, and that every worker of the pool carries. A pool's POSIX name\n"
                               "(apppool-web, as getfacl and ls -l show it) resolves too.\n",
                               program_name);
                        return 0;
                default:
                        return fail_usage("lookup: bad option");
                }
        }
        if (optind >= argc)
                return fail_usage("lookup: an ACCOUNT or SID is needed");
        n = argc - optind;
        res = calloc((size_t)n, sizeof(*res));
        if (!res)
                return fail_usage("out of memory");
        for (i = 0; i < n; i++) {
                const char *arg = argv[optind + i];
                apid_sid *sid = NULL;

                res[i].name = (char *)arg;
                if ((arg[0] == 'S' || arg[0] == 's') && arg[1] == '-') {
                        r = apid_sid_parse(arg, &sid);
                        if (r == APID_OK)
                                r = apid_sid_to_account(NULL, sid, &res[i].account);
                } else {
                        const char *slash = strchr(arg, '\\');

                        r = apid_account_to_sid(NULL, arg, &sid);
                        if (r < 0 && !slash && pool_here(&ctx, arg, NULL, &res[i]) == 0)
                                continue; /* apppool-web: the pool's user and group */
                        if (r < 0 && !slash)
                                r = apid_account_to_sid(NULL, arg, &sid); /* its message again */
                        /* Pool and service SIDs cannot be turned back into names: print
                         * the account in the form Windows prints, from the name given. */
                        if (r == APID_OK && apid_sid_is_pool(sid))
                                r = apid_account_for_pool(slash + 1, &res[i].account);
                        else if (r == APID_OK && apid_sid_is_service(sid))
                                r = apid_account_for_service(slash + 1, &res[i].account);
                        else if (r == APID_OK)
                                r = apid_sid_to_account(NULL, sid, &res[i].account);
                }
                if (r == APID_OK)
                        r = apid_sid_to_string(sid, &res[i].sid);
                if (r == APID_OK && apid_sid_is_pool(sid))
                        (void)pool_here(&ctx, NULL, sid, &res[i]); /* not a pool of this host: no group */
                apid_sid_free(sid);
                if (r < 0) {
                        resolved_free(res, n);
                        apid_ctx_unref(ctx);
                        return fail_library();
                }
        }
        print_resolved(res, n, json, 0);
        resolved_free(res, n);
        apid_ctx_unref(ctx);
        return 0;
}
