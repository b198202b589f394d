/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppoolctl grant|deny|remove|reset and apppoolctl acl show|save|restore:
 * icacls for libapppoolid. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apppoolctl.h"

struct output {
        int json, quiet;
        int progress_shown;
};

static const char *const event_names[] = { "", "changed", "unchanged", "skipped", "failed", "approximated" };

static void report(int event, const char *path, const char *detail, void *userdata)
{
        struct output *o = userdata;

        if (o->progress_shown) {
                fputs("\r\033[K", stderr);
                o->progress_shown = 0;
        }
        if (o->json) {
                printf("{\"event\":\"%s\",\"path\":", event_names[event]);
                json_string(stdout, path);
                if (detail[0]) {
                        fputs(",\"detail\":", stdout);
                        json_string(stdout, detail);
                }
                fputs("}\n", stdout);
                return;
        }
        if (event == APID_ACL_FAILED)
                fprintf(stderr, "%s: %s\n", program_name, detail);
        else if (event == APID_ACL_APPROXIMATED)
                printf("approximated: %s: %s\n", path, detail);
        else if (event == APID_ACL_CHANGED && !o->quiet)
                printf("processed file: %s\n", path);
        else if (event == APID_ACL_SKIPPED && !o->quiet)
                printf("skipped: %s: %s\n", path, detail);
}

static void progress(uint64_t visited, uint64_t changed, void *userdata)
{
        struct output *o = userdata;

        fprintf(stderr, "\r\033[K%llu paths, %llu changed", (unsigned long long)visited, (unsigned long long)changed);
        o->progress_shown = 1;
}

static int usage_acl(void)
{
        printf("Usage: %s grant PATH SPEC... [options]     (icacls PATH /grant SPEC; --replace for /grant:r)\n"
               "       %s deny PATH SPEC... [options]      (icacls PATH /deny SPEC)\n"
               "       %s remove PATH TRUSTEE... [options] (icacls PATH /remove TRUSTEE)\n"
               "       %s reset PATH [options]             (icacls PATH /reset)\n"
               "\n"
               "SPEC is TRUSTEE:RIGHTS as icacls writes it, e.g. 'IIS AppPool\\DefaultAppPool:(OI)(CI)RX'.\n"
               "Options: -R (icacls /T), --strict (refuse approximations), --continue (/C),\n"
               "         --dry-run, --json, --quiet (/Q), --journal FILE (for rollback with 'acl restore'),\n"
               "         --max-depth N (directory levels entered below PATH with -R; default 256),\n"
               "         --follow-hardlinks (also edit a file with several links that a pool may have\n"
               "         planted: not the tree owner's, or in a directory others can write).\n"
               "Only changed and skipped paths, approximations and failures are printed. docs/acl.md has the mapping.\n",
               program_name, program_name, program_name, program_name);
        return 0;
}

int cmd_acl_edit(int argc, char **argv)
{
        static const struct option options[] = {
                { "recursive", no_argument, NULL, 'R' },
                { "strict", no_argument, NULL, 's' },
                { "continue", no_argument, NULL, 'c' },
                { "dry-run", no_argument, NULL, 'n' },
                { "json", no_argument, NULL, 'j' },
                { "quiet", no_argument, NULL, 'q' },
                { "replace", no_argument, NULL, 'r' },
                { "journal", required_argument, NULL, 'J' },
                { "follow-hardlinks", no_argument, NULL, 'H' },
                { "max-depth", required_argument, NULL, 'D' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        const char *verb = argv[0], *journal = NULL, *max_depth = NULL;
        struct output o = { 0, 0, 0 };
        uint32_t flags = 0;
        apid_acl_edit *edit = NULL;
        apid_ctx *ctx = NULL;
        int op, replace = 0, c, i, r;

        while ((c = getopt_long(argc, argv, "RscnjqrJ:h", options, NULL)) != -1) {
                switch (c) {
                case 'R': flags |= APID_ACL_RECURSIVE; break;
                case 's': flags |= APID_ACL_STRICT; break;
                case 'c': flags |= APID_ACL_CONTINUE; break;
                case 'n': flags |= APID_ACL_DRY_RUN; break;
                case 'j': o.json = 1; break;
                case 'q': o.quiet = 1; break;
                case 'r': replace = 1; break;
                case 'J': journal = optarg; break;
                case 'H': flags |= APID_ACL_FOLLOW_HARDLINKS; break;
                case 'D': max_depth = optarg; break;
                case 'h': return usage_acl();
                default: return fail_usage("%s: bad option", verb);
                }
        }
        op = strcmp(verb, "grant") == 0 ? (replace ? APID_ACL_GRANT_REPLACE : APID_ACL_GRANT)
             : strcmp(verb, "deny") == 0 ? APID_ACL_DENY
             : strcmp(verb, "remove") == 0 ? APID_ACL_REMOVE
                                           : 0;
        if (replace && op != APID_ACL_GRANT_REPLACE)
                return fail_usage("--replace goes with grant");
        if (optind >= argc)
                return fail_usage("%s: a PATH is needed", verb);
        if (op && optind + 1 >= argc)
                return fail_usage("%s: at least one %s is needed after PATH", verb,
                                  op == APID_ACL_REMOVE ? "TRUSTEE" : "SPEC");
        if (!op && optind + 1 != argc)
                return fail_usage("reset takes only a PATH");
        if (apid_ctx_new(&ctx) != APID_OK || apid_acl_edit_new(ctx, &edit) != APID_OK) {
                apid_ctx_unref(ctx);
                return fail_library();
        }
        r = 0;
        /* Every spec is parsed and its trustee resolved before anything is applied. */
        for (i = optind + 1; i < argc && !r; i++)
                if (apid_acl_edit_add(edit, op, argv[i]) != APID_OK)
                        r = fail_library();
        if (!r && !op && apid_acl_edit_reset(edit) != APID_OK)
                r = fail_library();
        if (!r) {
                if (apid_acl_edit_set_flags(edit, flags) != APID_OK ||
                    apid_acl_edit_set_report_fn(edit, report, &o) != APID_OK ||
                    (isatty(STDERR_FILENO) && !o.json && (flags & APID_ACL_RECURSIVE) &&
                     apid_acl_edit_set_progress_fn(edit, progress, &o) != APID_OK) ||
                    (journal && apid_acl_edit_set_journal(edit, journal) != APID_OK))
                        r = fail_library();
        }
        if (!r && max_depth) {
                char *end;
                unsigned long depth;

                errno = 0;
                depth = strtoul(max_depth, &end, 10);
                if (errno || end == max_depth || *end || max_depth[0] == '-' || depth > UINT_MAX)
                        r = fail_usage("--max-depth '%s': not a number", max_depth);
                else if (apid_acl_edit_set_max_depth(edit, (unsigned)depth) != APID_OK)
                        r = fail_library();
        }
        if (!r) {
                int s = apid_acl_edit_apply(edit, argv[optind]);
                uint64_t ok = apid_acl_edit_count(edit, APID_ACL_CHANGED) + apid_acl_edit_count(edit, APID_ACL_UNCHANGED);
                uint64_t failed = apid_acl_edit_count(edit, APID_ACL_FAILED);

                if (o.progress_shown)
                        fputs("\r\033[K", stderr);
                if (s != APID_OK && ok == 0 && failed == 0) {
                        r = fail_library(); /* refused before any path: strict, a bad path */
                } else if (o.json)
                        printf("{\"summary\":{\"changed\":%llu,\"unchanged\":%llu,\"skipped\":%llu,\"failed\":%llu,"
                               "\"approximated\":%llu,\"dryRun\":%s}}\n",
                               (unsigned long long)apid_acl_edit_count(edit, APID_ACL_CHANGED),
                               (unsigned long long)apid_acl_edit_count(edit, APID_ACL_UNCHANGED),
                               (unsigned long long)apid_acl_edit_count(edit, APID_ACL_SKIPPED),
                               (unsigned long long)apid_acl_edit_count(edit, APID_ACL_FAILED),
                               (unsigned long long)apid_acl_edit_count(edit, APID_ACL_APPROXIMATED),
                               (flags & APID_ACL_DRY_RUN) ? "true" : "false");
                else {
                        /* Skipped paths were each reported above with why; the count says how many. */
                        uint64_t skipped = apid_acl_edit_count(edit, APID_ACL_SKIPPED);
                        char skip[48] = "";

                        if (skipped)
                                snprintf(skip, sizeof(skip), ", %llu skipped", (unsigned long long)skipped);
                        printf("Successfully processed %llu files (%llu changed%s%s); Failed processing %llu files\n",
                               (unsigned long long)ok,
                               (unsigned long long)apid_acl_edit_count(edit, APID_ACL_CHANGED), skip,
                               (flags & APID_ACL_DRY_RUN) ? ", dry run: nothing written" : "",
                               (unsigned long long)failed);
                }
                if (s != APID_OK && !r)
                        r = EXIT_LIBRARY; /* each failure was printed as it happened */
        }
        apid_acl_edit_free(edit);
        apid_ctx_unref(ctx);
        return r;
}

int cmd_acl(int argc, char **argv)
{
        apid_ctx *ctx = NULL;
        const char *verb = argc > 1 ? argv[1] : "";
        int recursive = 0, r, i;
        unsigned depth = 256; /* apid_acl_save()'s */
        const char *base = ".", *max_depth = NULL;
        const char *args[3];
        int n = 0;

        if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
                printf("Usage: %s acl show PATH [-R] [--max-depth N]\n"
                       "       %s acl save PATH FILE [-R] [--max-depth N] (icacls PATH /save FILE [/T])\n"
                       "       %s acl restore FILE [--base DIR] (icacls DIR /restore FILE)\n"
                       "\n"
                       "The format is what 'getfacl -R' prints and 'setfacl --restore' reads. Paths in a save\n"
                       "file are relative (getfacl drops the leading '/'): restore with --base / for absolute\n"
                       "paths; the default base is the current directory, as for setfacl.\n"
                       "--max-depth N: directory levels entered below PATH with -R (1 to 4096; default 256);\n"
                       "a deeper directory fails the save, and FILE is left as it was.\n",
                       program_name, program_name, program_name);
                return 0;
        }
        for (i = 2; i < argc; i++) {
                if (strcmp(argv[i], "-R") == 0 || strcmp(argv[i], "--recursive") == 0)
                        recursive = 1;
                else if (strcmp(argv[i], "--base") == 0 && i + 1 < argc)
                        base = argv[++i];
                else if (strcmp(argv[i], "--max-depth") == 0 && i + 1 < argc && strcmp(verb, "restore") != 0)
                        max_depth = argv[++i];
                else if (argv[i][0] == '-' && argv[i][1])
                        return fail_usage("acl %s: bad option '%s'", verb, argv[i]);
                else if (n < 3)
                        args[n++] = argv[i];
                else
                        return fail_usage("acl %s: too many arguments", verb);
        }
        if (!((strcmp(verb, "show") == 0 && n == 1) || (strcmp(verb, "save") == 0 && n == 2) ||
              (strcmp(verb, "restore") == 0 && n == 1)))
                return fail_usage("acl: expected show PATH, save PATH FILE or restore FILE");
        if (max_depth) { /* as for grant --max-depth; the library checks the range */
                char *end;
                unsigned long d;

                errno = 0;
                d = strtoul(max_depth, &end, 10);
                if (errno || end == max_depth || *end || max_depth[0] == '-' || d > UINT_MAX)
                        return fail_usage("--max-depth '%s': not a number", max_depth);
                depth = (unsigned)d;
        }
        if (apid_ctx_new(&ctx) != APID_OK)
                return fail_library();
        if (strcmp(verb, "show") == 0) {
                char tmp[] = "/tmp/apppoolctl-acl-XXXXXX";
                int fd = mkstemp(tmp);

                r = fd < 0 ? -1 : apid_acl_save_depth(ctx, args[0], tmp, recursive ? APID_ACL_RECURSIVE : 0, depth);
                if (r == APID_OK) {
                        FILE *f = fopen(tmp, "r");
                        char line[4096];

                        while (f && fgets(line, sizeof(line), f))
                                fputs(line, stdout);
                        if (f)
                                fclose(f);
                }
                if (fd >= 0) {
                        close(fd);
                        unlink(tmp);
                }
        } else if (strcmp(verb, "save") == 0) {
                r = apid_acl_save_depth(ctx, args[0], args[1], recursive ? APID_ACL_RECURSIVE : 0, depth);
        } else {
                r = apid_acl_restore(ctx, args[0], base, 0);
        }
        apid_ctx_unref(ctx);
        return r == APID_OK ? 0 : fail_library();
}
