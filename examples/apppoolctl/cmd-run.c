/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppoolctl run POOL -- PROGRAM ARGS..., apppoolctl token show POOL: a
 * command as a pool's worker would run, and what such a worker gets. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "apppoolctl.h"

struct token_opts {
        const char *caps[64];
        int n_caps;
        const char *env[256];
        int n_env;
        const char *cwd;
        int no_seccomp;
        int no_shared_group;
};

static int parse_token_opts(int argc, char **argv, struct token_opts *o, const char *verb)
{
        static const struct option options[] = {
                { "cap", required_argument, NULL, 'c' },
                { "env", required_argument, NULL, 'e' },
                { "cwd", required_argument, NULL, 'd' },
                { "no-seccomp", no_argument, NULL, 's' },
                { "no-shared-group", no_argument, NULL, 'g' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int c;

        while ((c = getopt_long(argc, argv, "+c:e:d:h", options, NULL)) != -1) {
                switch (c) {
                case 'c':
                        if (o->n_caps == 64)
                                return fail_usage("%s: too many --cap", verb);
                        o->caps[o->n_caps++] = optarg;
                        break;
                case 'e':
                        if (o->n_env == 256 || !strchr(optarg, '='))
                                return fail_usage("%s: --env takes NAME=VALUE ('%s')", verb, optarg);
                        o->env[o->n_env++] = optarg;
                        break;
                case 'd': o->cwd = optarg; break;
                case 's': o->no_seccomp = 1; break;
                case 'g': o->no_shared_group = 1; break;
                case 'h':
                        printf("Usage: %s run POOL [--cap NAME]... [--env NAME=VALUE]... [--cwd DIR] [--no-seccomp]\n"
                               "              [--no-shared-group] -- PROGRAM [ARGS...]\n"
                               "       %s token show POOL [same options]\n"
                               "\n"
                               "run starts PROGRAM as the pool's worker would run: the pool's identity, no\n"
                               "capabilities but those named, no_new_privs, the seccomp deny list, a clean\n"
                               "environment. Its exit status is passed through (128+N when killed by signal N).\n"
                               "token show prints what such a worker gets. Both need root.\n",
                               program_name, program_name);
                        exit(0);
                default:
                        return fail_usage("%s: bad option", verb);
                }
        }
        return 0;
}

static int make_token(apid_ctx *ctx, const char *pool_name, const struct token_opts *o, apid_token **out)
{
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        apid_token *t = NULL;
        int i, r = 0;

        if (apid_pool_open(ctx, pool_name, &pool) != APID_OK || apid_pool_get_identity(pool, &id) != APID_OK ||
            apid_token_new(id, &t) != APID_OK)
                r = fail_library();
        for (i = 0; !r && i < o->n_caps; i++)
                if (apid_token_keep_cap(t, o->caps[i]) != APID_OK)
                        r = fail_library();
        for (i = 0; !r && i < o->n_env; i++) {
                char *copy = strdup(o->env[i]), *eq = copy ? strchr(copy, '=') : NULL;

                if (!eq) {
                        free(copy);
                        r = fail_usage("out of memory");
                        break;
                }
                *eq = '\0';
                if (apid_token_setenv(t, copy, eq + 1) != APID_OK)
                        r = fail_library();
                free(copy);
        }
        if (!r && o->no_seccomp && apid_token_set_seccomp(t, 0) != APID_OK)
                r = fail_library();
        if (!r && o->no_shared_group && apid_token_set_groups(t, 0) != APID_OK)
                r = fail_library();
        apid_identity_free(id);
        apid_pool_free(pool);
        if (r) {
                apid_token_free(t);
                return r;
        }
        *out = t;
        return 0;
}

int cmd_run(int argc, char **argv)
{
        struct token_opts o;
        apid_launch_attr *attr = NULL;
        apid_process *proc = NULL;
        apid_token *t = NULL;
        apid_ctx *ctx = NULL;
        int r;

        memset(&o, 0, sizeof(o));
        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
                return parse_token_opts(argc, argv, &o, "run");
        if (argc < 2 || argv[1][0] == '-')
                return fail_usage("run: POOL comes first: run POOL [options] -- PROGRAM [ARGS...]");
        /* run POOL [options] -- PROGRAM ARGS: the options follow the pool. */
        r = parse_token_opts(argc - 1, argv + 1, &o, "run");
        if (r)
                return r;
        if (optind >= argc - 1)
                return fail_usage("run: a PROGRAM (after --) is needed");
        if (apid_ctx_new(&ctx) != APID_OK)
                return fail_library();
        r = make_token(ctx, argv[1], &o, &t);
        if (!r && (apid_launch_attr_new(&attr) != APID_OK || apid_launch_attr_set_cwd(attr, o.cwd) != APID_OK ||
                   apid_launch(t, attr, argv[1 + optind], (const char *const *)&argv[1 + optind], &proc) != APID_OK ||
                   apid_process_wait(proc, -1) != APID_OK))
                r = fail_library();
        if (!r)
                r = apid_process_exit_code(proc) >= 0 ? apid_process_exit_code(proc)
                                                      : 128 + apid_process_term_signal(proc);
        apid_process_free(proc);
        apid_launch_attr_free(attr);
        apid_token_free(t);
        apid_ctx_unref(ctx);
        return r;
}

int cmd_token(int argc, char **argv)
{
        struct token_opts o;
        apid_token *t = NULL;
        apid_ctx *ctx = NULL;
        char *text = NULL;
        int r;

        memset(&o, 0, sizeof(o));
        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
                return parse_token_opts(argc, argv, &o, "token");
        if (argc < 3 || strcmp(argv[1], "show") != 0 || argv[2][0] == '-')
                return fail_usage("token: expected 'token show POOL [options]'");
        r = parse_token_opts(argc - 2, argv + 2, &o, "token show");
        if (r)
                return r;
        if (optind != argc - 2)
                return fail_usage("token show: exactly one POOL is needed");
        if (apid_ctx_new(&ctx) != APID_OK)
                return fail_library();
        r = make_token(ctx, argv[2], &o, &t);
        if (!r && apid_token_describe(t, &text) != APID_OK)
                r = fail_library();
        if (!r)
                fputs(text, stdout);
        apid_free(text);
        apid_token_free(t);
        apid_ctx_unref(ctx);
        return r;
}
