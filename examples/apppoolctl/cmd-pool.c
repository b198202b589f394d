/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppoolctl pool add|list|show|delete|set, apppoolctl identity, apppoolctl
 * registry get|set|export|import|principal: appcmd's apppool commands. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apppoolctl.h"
#include "regular.h"

static const char *const type_names[] = {
        "LocalSystem", "LocalService", "NetworkService", "SpecificUser", "ApplicationPoolIdentity",
};

/* Warnings reach the administrator: a pool that did not get its first-choice
 * uid (an account already on it, here or in the farm's directory) says so. */
static void log_warning(int level, const char *message, void *userdata)
{
        if (level <= APID_LOG_WARNING)
                fprintf(stderr, "%s: warning: %s\n", program_name, message);
}

static int open_ctx(apid_ctx **ctx)
{
        if (apid_ctx_new(ctx) != APID_OK)
                return fail_library();
        if (apid_ctx_set_log_fn(*ctx, log_warning, NULL) != APID_OK) {
                apid_ctx_unref(*ctx);
                return fail_library();
        }
        return 0;
}

static void print_identity_json(const apid_pool *pool, const apid_identity *id)
{
        char *sid = NULL;
        const char *profile = apid_identity_get_profile_dir(id);
        uint32_t i, shared = apid_identity_get_shared_gid(id);

        if (apid_sid_to_string(apid_identity_get_sid(id), &sid) != APID_OK)
                sid = NULL;
        fputs("{\"name\":", stdout);
        json_string(stdout, apid_identity_get_pool_name(id));
        fputs(",\"sid\":", stdout);
        json_string(stdout, sid ? sid : "");
        fputs(",\"account\":", stdout);
        json_string(stdout, apid_identity_get_account(id));
        fputs(",\"user\":", stdout);
        json_string(stdout, apid_identity_get_user(id));
        printf(",\"uid\":%u,\"gid\":%u,\"profile\":", apid_identity_get_uid(id), apid_identity_get_gid(id));
        if (profile)
                json_string(stdout, profile);
        else
                fputs("null", stdout);
        fputs(",\"identityType\":", stdout);
        json_string(stdout, type_names[apid_identity_get_type(id)]);
        printf(",\"uidProbe\":%u", apid_identity_get_uid_probe(id));
        printf(",\"poolGid\":%u,\"poolGroup\":", apid_identity_get_pool_gid(id));
        json_string(stdout, apid_identity_get_pool_group(id));
        if (shared != (uint32_t)-1)
                printf(",\"sharedGid\":%u", shared);
        if (pool) {
                const char *name;

                fputs(",\"settings\":{", stdout);
                for (i = 0; (name = apid_pool_setting_name(i)); i++) {
                        char *v = NULL;

                        if (apid_pool_get(pool, name, &v) != APID_OK)
                                continue;
                        if (i)
                                fputc(',', stdout);
                        json_string(stdout, name);
                        fputc(':', stdout);
                        json_string(stdout, v);
                        apid_free(v);
                }
                fputc('}', stdout);
        }
        fputs("}\n", stdout);
        apid_free(sid);
}

/* The pool's own group: in every worker's token (the pool SID, injected). */
static void print_pool_group(const apid_identity *id)
{
        printf("pool group:    %u %s (%s of every worker: grants to IIS AppPool\\%s)\n",
               apid_identity_get_pool_gid(id), apid_identity_get_pool_group(id),
               apid_identity_get_type(id) == APID_IDENTITY_APPLICATION_POOL_IDENTITY ? "the primary group"
                                                                                      : "a supplementary group",
               apid_identity_get_pool_name(id));
}

static void print_identity_text(const apid_pool *pool, const apid_identity *id)
{
        char *sid = NULL;
        const char *profile = apid_identity_get_profile_dir(id), *name;
        uint32_t i, probe = apid_identity_get_uid_probe(id), shared = apid_identity_get_shared_gid(id);

        if (apid_sid_to_string(apid_identity_get_sid(id), &sid) != APID_OK)
                sid = NULL;
        printf("name:          %s\n", apid_identity_get_pool_name(id));
        printf("sid:           %s\n", sid ? sid : "?");
        printf("account:       %s\n", apid_identity_get_account(id));
        printf("identity type: %s\n", type_names[apid_identity_get_type(id)]);
        printf("user:          %s\n", apid_identity_get_user(id));
        if (probe)
                printf("uid:           %u (not the first choice: %u earlier candidates were taken)\n",
                       apid_identity_get_uid(id), probe);
        else
                printf("uid:           %u\n", apid_identity_get_uid(id));
        printf("gid:           %u\n", apid_identity_get_gid(id));
        print_pool_group(id);
        if (shared != (uint32_t)-1)
                printf("shared group:  %u\n", shared);
        printf("profile:       %s\n", profile ? profile : "(none: loadUserProfile is false)");
        if (pool) {
                printf("settings:\n");
                for (i = 0; (name = apid_pool_setting_name(i)); i++) {
                        char *v = NULL;

                        if (apid_pool_get(pool, name, &v) == APID_OK)
                                printf("  %-42s %s\n", name, v);
                        apid_free(v);
                }
        }
        apid_free(sid);
}

static int pool_add(apid_ctx *ctx, int argc, char **argv, int json)
{
        int i;

        for (i = 0; i < argc; i++)
                if (apid_pool_name_check(argv[i]) != APID_OK)
                        return fail_library();
        for (i = 0; i < argc; i++) {
                apid_pool *pool = NULL;
                apid_identity *id = NULL;

                if (apid_pool_create(ctx, argv[i], &pool) != APID_OK || apid_pool_get_identity(pool, &id) != APID_OK) {
                        apid_pool_free(pool);
                        return fail_library();
                }
                if (json)
                        print_identity_json(NULL, id);
                else
                        printf("APPPOOL object \"%s\" added (%s, uid %u)\n", argv[i], apid_identity_get_user(id),
                               apid_identity_get_uid(id));
                apid_identity_free(id);
                apid_pool_free(pool);
        }
        return 0;
}

static int pool_list(apid_ctx *ctx, int json)
{
        apid_pool_list *list = NULL;
        uint32_t i;

        if (apid_pool_list_new(ctx, &list) != APID_OK)
                return fail_library();
        if (json)
                fputc('[', stdout);
        for (i = 0; i < apid_pool_list_count(list); i++) {
                const char *name = apid_pool_list_get(list, i);
                apid_pool *pool = NULL;
                apid_identity *id = NULL;

                if (apid_pool_open(ctx, name, &pool) != APID_OK || apid_pool_get_identity(pool, &id) != APID_OK) {
                        apid_pool_free(pool);
                        apid_pool_list_free(list);
                        return fail_library();
                }
                if (json) {
                        fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
                        json_string(stdout, name);
                        printf(",\"user\":\"%s\",\"uid\":%u,\"identityType\":\"%s\"}", apid_identity_get_user(id),
                               apid_identity_get_uid(id), type_names[apid_identity_get_type(id)]);
                } else {
                        printf("APPPOOL \"%s\" (%s, %s, uid %u)\n", name, type_names[apid_identity_get_type(id)],
                               apid_identity_get_user(id), apid_identity_get_uid(id));
                }
                apid_identity_free(id);
                apid_pool_free(pool);
        }
        if (json)
                fputs("]\n", stdout);
        apid_pool_list_free(list);
        return 0;
}

static int pool_show(apid_ctx *ctx, const char *name, int json)
{
        apid_pool *pool = NULL;
        apid_identity *id = NULL;

        if (apid_pool_open(ctx, name, &pool) != APID_OK || apid_pool_get_identity(pool, &id) != APID_OK) {
                apid_pool_free(pool);
                return fail_library();
        }
        if (json)
                print_identity_json(pool, id);
        else
                print_identity_text(pool, id);
        apid_identity_free(id);
        apid_pool_free(pool);
        return 0;
}

/* "setting=value" or appcmd's "/setting:value". */
static int split_setting(char *arg, char **name, char **value)
{
        char *sep;

        if (arg[0] == '/') {
                arg++;
                sep = strchr(arg, ':');
        } else {
                sep = strchr(arg, '=');
        }
        if (!sep)
                return -1;
        *sep = '\0';
        *name = arg;
        *value = sep + 1;
        return 0;
}

static int pool_set(apid_ctx *ctx, int argc, char **argv)
{
        apid_pool *pool = NULL;
        int i;

        if (argc < 2)
                return fail_usage("pool set: NAME and at least one SETTING=VALUE are needed");
        /* Check every setting before changing any. */
        for (i = 1; i < argc; i++) {
                char *copy = strdup(argv[i]), *name, *value;
                int bad = !copy || split_setting(copy, &name, &value) < 0;

                if (bad) {
                        free(copy);
                        return fail_usage("pool set: '%s' is not SETTING=VALUE or /SETTING:VALUE", argv[i]);
                }
                if (apid_pool_check_setting(name, value) != APID_OK) {
                        free(copy);
                        return fail_library();
                }
                free(copy);
        }
        if (apid_pool_open(ctx, argv[0], &pool) != APID_OK)
                return fail_library();
        for (i = 1; i < argc; i++) {
                char *name = NULL, *value = NULL;

                split_setting(argv[i], &name, &value); /* checked above */
                if (apid_pool_set(pool, name, value) != APID_OK) {
                        apid_pool_free(pool);
                        return fail_library();
                }
        }
        printf("APPPOOL object \"%s\" changed\n", apid_pool_get_name(pool));
        apid_pool_free(pool);
        return 0;
}

static int pool_delete(apid_ctx *ctx, int argc, char **argv, int flags)
{
        int i;

        if (!flags)
                return fail_usage("pool delete: say what happens to the profile: --keep-profile or --remove-profile");
        for (i = 0; i < argc; i++) {
                if (apid_pool_delete(ctx, argv[i], flags) != APID_OK)
                        return fail_library();
                printf("APPPOOL object \"%s\" deleted\n", argv[i]);
        }
        return 0;
}

int cmd_pool(int argc, char **argv)
{
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "keep-profile", no_argument, NULL, 'k' },
                { "remove-profile", no_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        apid_ctx *ctx = NULL;
        const char *verb;
        int json = 0, flags = 0, c, r;

        while ((c = getopt_long(argc, argv, "jh", options, NULL)) != -1) {
                switch (c) {
                case 'j': json = 1; break;
                case 'k': flags |= APID_POOL_DELETE_KEEP_PROFILE; break;
                case 'r': flags |= APID_POOL_DELETE_REMOVE_PROFILE; break;
                case 'h':
                        printf("Usage: %s pool add NAME... [--json]\n"
                               "       %s pool list [--json]\n"
                               "       %s pool show NAME [--json]\n"
                               "       %s pool set NAME SETTING=VALUE... (or /SETTING:VALUE, as appcmd)\n"
                               "       %s pool delete NAME... --keep-profile|--remove-profile\n"
                               "\n"
                               "Manage application pools in the registry ($APPPOOLID_STATE_DIR or %s).\n"
                               "Settings use appcmd's names, e.g. processModel.identityType, processModel.loadUserProfile,\n"
                               "processModel.maxProcesses, failure.rapidFailProtectionMaxCrashes; 'pool show' lists them.\n"
                               "'pool set' checks every setting first, then applies them in order, each in its own\n"
                               "transaction. 'pool show' exits 1 for a pool that does not exist.\n",
                               program_name, program_name, program_name, program_name, program_name,
                               apid_ctx_default_state_dir());
                        return 0;
                default:
                        return fail_usage("pool: bad option");
                }
        }
        if (optind >= argc)
                return fail_usage("pool: a verb is needed (add, list, show, set, delete)");
        if (flags == (APID_POOL_DELETE_KEEP_PROFILE | APID_POOL_DELETE_REMOVE_PROFILE))
                return fail_usage("pool delete: --keep-profile and --remove-profile exclude each other");
        verb = argv[optind++];
        argc -= optind;
        argv += optind;
        if (strcmp(verb, "list") == 0 && argc != 0)
                return fail_usage("pool list takes no NAME");
        if (strcmp(verb, "show") == 0 && argc != 1)
                return fail_usage("pool show: exactly one NAME is needed");
        if ((strcmp(verb, "add") == 0 || strcmp(verb, "delete") == 0) && argc < 1)
                return fail_usage("pool %s: a NAME is needed", verb);
        if (strcmp(verb, "add") && strcmp(verb, "list") && strcmp(verb, "show") && strcmp(verb, "set") &&
            strcmp(verb, "delete"))
                return fail_usage("pool: unknown verb '%s'", verb);
        r = open_ctx(&ctx);
        if (r)
                return r;
        if (strcmp(verb, "add") == 0)
                r = pool_add(ctx, argc, argv, json);
        else if (strcmp(verb, "list") == 0)
                r = pool_list(ctx, json);
        else if (strcmp(verb, "show") == 0)
                r = pool_show(ctx, argv[0], json);
        else if (strcmp(verb, "set") == 0)
                r = pool_set(ctx, argc, argv);
        else
                r = pool_delete(ctx, argc, argv, flags);
        apid_ctx_unref(ctx);
        return r;
}

int cmd_identity(int argc, char **argv)
{
        apid_ctx *ctx = NULL;
        int json = 0, i = 1, r = 0;

        if (argc > 1 && strcmp(argv[1], "--help") == 0) {
                printf("Usage: %s identity [--json] UID|USER|SID|'IIS APPPOOL\\NAME'...\n"
                       "\n"
                       "Show the pool identity with that uid, POSIX user name, SID or account name.\n",
                       program_name);
                return 0;
        }
        if (argc > 1 && strcmp(argv[1], "--json") == 0)
                json = 1, i = 2;
        if (i >= argc)
                return fail_usage("identity: a UID, USER or SID is needed");
        r = open_ctx(&ctx);
        if (r)
                return r;
        for (; i < argc && r == 0; i++) {
                const char *arg = argv[i];
                apid_identity *id = NULL;
                apid_sid *sid = NULL;
                char *end;
                unsigned long uid = strtoul(arg, &end, 10);
                int s;

                if (arg[0] >= '0' && arg[0] <= '9' && !*end)
                        s = apid_identity_from_uid(ctx, (uint32_t)uid, &id);
                else if ((arg[0] == 'S' || arg[0] == 's') && arg[1] == '-')
                        s = apid_sid_parse(arg, &sid) == APID_OK ? apid_identity_from_sid(ctx, sid, &id) : -1;
                else
                        s = apid_identity_from_user(ctx, arg, &id);
                apid_sid_free(sid);
                if (s != APID_OK) {
                        r = fail_library();
                        break;
                }
                if (json)
                        print_identity_json(NULL, id);
                else
                        print_identity_text(NULL, id);
                apid_identity_free(id);
        }
        apid_ctx_unref(ctx);
        return r;
}

/* registry export --ldif [--base DN] [--user-ou OU] [--group-ou OU] [FILE]
 * (standard output without FILE) and registry import --ldif FILE. */
static int registry_ldif(int argc, char **argv)
{
        const char *base = NULL, *user_ou = NULL, *group_ou = NULL, *file = NULL;
        apid_ctx *ctx = NULL;
        char *text = NULL;
        int i, r, import = strcmp(argv[1], "import") == 0;

        for (i = 3; i < argc; i++) {
                const char **opt = strcmp(argv[i], "--base") == 0       ? &base
                                   : strcmp(argv[i], "--user-ou") == 0  ? &user_ou
                                   : strcmp(argv[i], "--group-ou") == 0 ? &group_ou
                                                                        : NULL;

                if (opt && !import && i + 1 < argc)
                        *opt = argv[++i];
                else if (!opt && !file && argv[i][0] != '-')
                        file = argv[i];
                else
                        return fail_usage("registry: expected export --ldif [--base DN] [--user-ou OU] "
                                          "[--group-ou OU] [FILE] or import --ldif FILE");
        }
        if (import && !file)
                return fail_usage("registry import --ldif: expected FILE");
        r = open_ctx(&ctx);
        if (r)
                return r;
        if (import) {
                r = apid_registry_import_ldif(ctx, file);
        } else {
                r = apid_registry_export_ldif(ctx, base, user_ou, group_ou, &text);
        }
        apid_ctx_unref(ctx);
        if (r != APID_OK)
                return fail_library();
        if (text) {
                const char *kind = NULL;
                /* A file named by the user: a regular file or nothing (a
                 * FIFO would block this command until someone reads it). */
                int fd = file ? apid__open_regular(file, O_WRONLY | O_CREAT | O_TRUNC, &kind) : -1;
                FILE *f = !file ? stdout : fd >= 0 ? fdopen(fd, "w") : NULL;
                int bad;

                if (file && fd >= 0 && !f)
                        close(fd);
                if (kind) {
                        apid_free(text);
                        fprintf(stderr, "%s: export %s: is %s, not a regular file\n", program_name, file, kind);
                        return 1;
                }
                bad = !f || fputs(text, f) == EOF;

                if (f && file)
                        bad |= fclose(f) != 0;
                else if (f)
                        bad |= fflush(f) != 0;
                apid_free(text);
                if (bad) {
                        fprintf(stderr, "%s: %s: %s\n", program_name, file ? file : "standard output",
                                strerror(errno));
                        return 1;
                }
        }
        return 0;
}

int cmd_registry(int argc, char **argv)
{
        apid_ctx *ctx = NULL;
        const char *verb = argc > 1 ? argv[1] : "";
        char *value = NULL;
        int r;

        if (strcmp(verb, "--help") == 0) {
                printf("Usage: %s registry get SETTING\n"
                       "       %s registry set SETTING VALUE\n"
                       "       %s registry export FILE\n"
                       "       %s registry import FILE\n"
                       "       %s registry export --ldif [--base DN] [--user-ou OU] [--group-ou OU] [FILE]\n"
                       "       %s registry import --ldif FILE\n"
                       "       %s registry publish URI [--base DN] [--user-ou OU] [--group-ou OU] [--bind-file FILE]\n"
                       "       %s registry principal\n"
                       "\n"
                       "Registry-wide settings: idRangeStart, idRangeSize, sharedGroup, localSystemUser,\n"
                       "localServiceUser, networkServiceUser, profileRoot, networkPrincipal. export and import\n"
                       "share one set of pool id assignments across a web farm (import is all or nothing).\n"
                       "--ldif writes the identities as RFC 2307 entries with sambaSID for a directory\n"
                       "(OpenLDAP + nslcd or SSSD; docs/farm.md), and reads them back (ldapsearch -LLL too).\n"
                       "publish puts those entries into the directory at URI: adds what is missing, modifies\n"
                       "what differs, deletes nothing (SASL EXTERNAL over ldapi://, or a simple bind with the\n"
                       "DN and password on the two lines of a mode 0600 --bind-file; StartTLS on ldap://).\n"
                       "principal prints the name pools use on the network (DOMAIN\\HOST$ or the host name).\n",
                       program_name, program_name, program_name, program_name, program_name, program_name,
                       program_name, program_name);
                return 0;
        }
        if (strcmp(verb, "publish") == 0) {
#ifdef APPPOOLCTL_LDAP
                return cmd_registry_publish(argc, argv);
#else
                fprintf(stderr, "%s: registry publish: this apppoolctl was built without LDAP "
                        "(meson -Dldap=enabled, libldap-dev)\n", program_name);
                return EXIT_USAGE;
#endif
        }
        if ((strcmp(verb, "export") == 0 || strcmp(verb, "import") == 0) && argc > 2 &&
            strcmp(argv[2], "--ldif") == 0)
                return registry_ldif(argc, argv);
        if (!((strcmp(verb, "get") == 0 && argc == 3) || (strcmp(verb, "set") == 0 && argc == 4) ||
              (strcmp(verb, "export") == 0 && argc == 3) || (strcmp(verb, "import") == 0 && argc == 3) ||
              (strcmp(verb, "principal") == 0 && argc == 2)))
                return fail_usage("registry: expected get SETTING, set SETTING VALUE, export FILE, import FILE "
                                  "or principal");
        r = open_ctx(&ctx);
        if (r)
                return r;
        if (strcmp(verb, "get") == 0)
                r = apid_registry_get(ctx, argv[2], &value);
        else if (strcmp(verb, "set") == 0)
                r = apid_registry_set(ctx, argv[2], argv[3]);
        else if (strcmp(verb, "export") == 0)
                r = apid_registry_export(ctx, argv[2]);
        else if (strcmp(verb, "import") == 0)
                r = apid_registry_import(ctx, argv[2]);
        else
                r = apid_registry_network_principal(ctx, &value);
        apid_ctx_unref(ctx);
        if (r != APID_OK)
                return fail_library();
        if (value)
                printf("%s\n", value);
        apid_free(value);
        return 0;
}
