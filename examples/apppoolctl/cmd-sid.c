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
};

static void resolved_free(struct resolved *r, int n)
{
        int i;

        for (i = 0; i < n; i++) {
                apid_free(r[i].account);
                apid_free(r[i].sid);
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

int cmd_lookup(int argc, char **argv)
{
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct resolved *res;
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
                               "argument with the keys name, account and sid.\n",
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
                apid_sid_free(sid);
                if (r < 0) {
                        resolved_free(res, n);
                        return fail_library();
                }
        }
        print_resolved(res, n, json, 0);
        resolved_free(res, n);
        return 0;
}
