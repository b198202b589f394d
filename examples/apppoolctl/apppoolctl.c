/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppoolctl: appcmd and icacls for libapppoolid, on the public API only. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "apppoolctl.h"

const char *program_name = "apppoolctl";

static const struct command {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} commands[] = {
        { "sid", cmd_sid, "print the SID of pools or services" },
        { "lookup", cmd_lookup, "resolve account names to SIDs and SIDs to account names" },
        { "pool", cmd_pool, "add, list, show, set and delete application pools" },
        { "identity", cmd_identity, "show a pool identity by uid, user name or SID" },
        { "registry", cmd_registry, "registry settings, export and import, the network principal" },
        { "grant", cmd_acl_edit, "grant a trustee rights on files (icacls /grant), -R for a tree" },
        { "deny", cmd_acl_edit, "take rights away (icacls /deny)" },
        { "remove", cmd_acl_edit, "remove a trustee's entries (icacls /remove)" },
        { "reset", cmd_acl_edit, "reset ACLs to what the parent gives (icacls /reset)" },
        { "acl", cmd_acl, "show, save and restore ACLs (icacls /save, /restore)" },
        { "run", cmd_run, "run a command as a pool's worker, under its restricted token" },
        { "token", cmd_token, "show what a pool's worker gets (token show POOL)" },
        { "doctor", cmd_doctor, "check the host settings that weaken pool isolation (exit 1 if any)" },
};

static void usage(FILE *f)
{
        size_t i;

        fprintf(f,
                "Usage: %s [--help] [--version] COMMAND [ARGS...]\n"
                "\n"
                "Application pool identities for Linux.\n"
                "\n"
                "Commands:\n", program_name);
        for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
        fprintf(f,
                "\n"
                "Run '%s COMMAND --help' for a command's options.\n"
                "Exit status: 0 success, 1 the library refused (the message says why), 2 bad usage.\n",
                program_name);
}

int fail_library(void)
{
        fprintf(stderr, "%s: %s\n", program_name, apid_error_message());
        return EXIT_LIBRARY;
}

int fail_usage(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s: ", program_name);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry '%s --help'.\n", program_name);
        return EXIT_USAGE;
}

void json_string(FILE *f, const char *s)
{
        const unsigned char *p = (const unsigned char *)s;

        fputc('"', f);
        for (; *p; p++) {
                switch (*p) {
                case '"': fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                case '\t': fputs("\\t", f); break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

int main(int argc, char **argv)
{
        size_t i;

        if (argc < 2)
                return fail_usage("a command is needed");
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                usage(stdout);
                return 0;
        }
        if (strcmp(argv[1], "--version") == 0) {
                printf("apppoolctl %s (libapppoolid %s)\n", APID_VERSION, apid_version());
                return 0;
        }
        for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(argv[1], commands[i].name) == 0)
                        return commands[i].run(argc - 1, argv + 1);
        return fail_usage("unknown command '%s'", argv[1]);
}
