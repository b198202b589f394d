/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppoolctl doctor: the host settings that weaken the isolation of pools,
 * each with the reason and the fix. It only reads: /proc/sys, the mount
 * table of /proc, the state directory, /etc/nsswitch.conf, and a few
 * harmless system calls that tell whether the kernel has a feature. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "apppoolctl.h"

enum { OK, WEAK, UNAVAILABLE };
static const char *const status_names[] = { "ok", "weak", "unavailable" };

struct finding {
        const char *setting;
        char value[4400];
        int status;
        const char *reason; /* why it matters (or why it cannot be checked) */
        const char *fix;
};

#define MAX_FINDINGS 32
static struct finding findings[MAX_FINDINGS];
static int n_findings;

static struct finding *add(const char *setting, int status, const char *reason, const char *fix)
{
        struct finding *f = &findings[n_findings < MAX_FINDINGS - 1 ? n_findings++ : n_findings];

        f->setting = setting;
        f->status = status;
        f->reason = reason;
        f->fix = fix;
        f->value[0] = '\0';
        return f;
}

/* /proc/sys/a/b for "a.b"; the value as a number. -1 when the kernel has no
 * such setting (errno ENOENT) or it cannot be read. */
static int read_sysctl(const char *name, long *value, char *text, size_t size)
{
        char path[256], buf[64], *end;
        size_t i;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/sys/%s", name);
        for (i = strlen("/proc/sys/"); path[i]; i++)
                if (path[i] == '.')
                        path[i] = '/';
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        snprintf(text, size, "%s", buf);
        errno = 0;
        *value = strtol(buf, &end, 10);
        if (errno || end == buf)
                return -1;
        return 0;
}

/* A setting that is safe from `min` up. */
static void sysctl_min(const char *name, long min, const char *reason, const char *fix, const char *missing)
{
        long v;
        char text[64];
        struct finding *f;

        if (read_sysctl(name, &v, text, sizeof(text)) < 0) {
                f = add(name, UNAVAILABLE, missing, fix);
                snprintf(f->value, sizeof(f->value), "(%s)", errno == ENOENT ? "not in this kernel" : strerror(errno));
                return;
        }
        f = add(name, v >= min ? OK : WEAK, reason, fix);
        snprintf(f->value, sizeof(f->value), "%s", text);
}

static void check_sysctls(void)
{
        long v;
        char text[64];
        struct finding *f;

        sysctl_min("fs.protected_hardlinks", 1,
                   "a pool can hard-link a file it does not own (/etc/shadow) into a directory it writes; a later "
                   "'grant -R', chown or backup run by root then acts on the original",
                   "sysctl -w fs.protected_hardlinks=1, and keep it in /etc/sysctl.d/50-apppoolid.conf",
                   "the kernel has no protected_hardlinks (before 3.6)");
        sysctl_min("fs.protected_symlinks", 1,
                   "a pool can plant a symbolic link in a world-writable sticky directory (/tmp) that a root process "
                   "then follows to a file of the pool's choosing",
                   "sysctl -w fs.protected_symlinks=1, and keep it in /etc/sysctl.d/50-apppoolid.conf",
                   "the kernel has no protected_symlinks (before 3.6)");
        sysctl_min("fs.protected_fifos", 1,
                   "a root process creating a file in /tmp can open a FIFO a pool planted there instead, and block "
                   "or be fed data",
                   "sysctl -w fs.protected_fifos=1 (2 also covers group-writable directories)",
                   "the kernel has no protected_fifos (before 4.19)");
        sysctl_min("fs.protected_regular", 1,
                   "a root process creating a file in /tmp with O_CREAT can open a file a pool planted there and "
                   "write what the pool later reads",
                   "sysctl -w fs.protected_regular=1 (2 also covers group-writable directories)",
                   "the kernel has no protected_regular (before 4.19)");
        if (read_sysctl("fs.suid_dumpable", &v, text, sizeof(text)) == 0) {
                f = add("fs.suid_dumpable", v == 1 ? WEAK : OK,
                        "1 (debug) dumps the memory of processes that changed identity as the user they run as: a "
                        "worker launched from root could leave root's secrets in a core file the pool reads",
                        "sysctl -w fs.suid_dumpable=0 (or 2 with an absolute core_pattern or a pipe)");
                snprintf(f->value, sizeof(f->value), "%s", text);
        } else {
                snprintf(add("fs.suid_dumpable", UNAVAILABLE, "cannot be read", "")->value, sizeof(f->value), "(%s)",
                         strerror(errno));
        }
        sysctl_min("kernel.yama.ptrace_scope", 1,
                   "with 0, a process can ptrace any other of the same uid: one compromised worker of a pool "
                   "attaches to its siblings (the worker filter denies ptrace, other processes of the pool do not)",
                   "sysctl -w kernel.yama.ptrace_scope=1 (2 or 3 for administrator-only)",
                   "Yama is not active (CONFIG_SECURITY_YAMA, lsm=): processes of one uid may ptrace each other; "
                   "the worker filter still denies ptrace to workers");
        /* Unprivileged user namespaces: Debian's switch, else the count. */
        if (read_sysctl("kernel.unprivileged_userns_clone", &v, text, sizeof(text)) == 0) {
                f = add("kernel.unprivileged_userns_clone", v == 0 ? OK : WEAK,
                        "any process outside the worker filter can create a user namespace and reach kernel code "
                        "meant for root (the source of many local privilege escalations)",
                        "sysctl -w kernel.unprivileged_userns_clone=0 (root and containers keep working)");
                snprintf(f->value, sizeof(f->value), "%s", text);
        } else if (read_sysctl("user.max_user_namespaces", &v, text, sizeof(text)) == 0) {
                f = add("user.max_user_namespaces", v == 0 ? OK : WEAK,
                        "unprivileged user namespaces are allowed: any process outside the worker filter can create "
                        "one and reach kernel code meant for root (the source of many local privilege escalations)",
                        "sysctl -w user.max_user_namespaces=0 if nothing on the host needs them (this kernel has no "
                        "unprivileged-only switch; rootless containers and browser sandboxes need them)");
                snprintf(f->value, sizeof(f->value), "%s", text);
        } else {
                snprintf(add("user.max_user_namespaces", UNAVAILABLE, "user namespaces are not in this kernel", "")
                                 ->value,
                         sizeof(findings[0].value), "(not in this kernel)");
        }
        if (read_sysctl("kernel.io_uring_disabled", &v, text, sizeof(text)) == 0) {
                f = add("kernel.io_uring_disabled", v >= 1 ? OK : WEAK,
                        "io_uring performs open, socket, connect and more without the corresponding system calls, "
                        "past any system-call filter that does not deny io_uring_setup itself",
                        "sysctl -w kernel.io_uring_disabled=2 (or 1 and io_uring_group for the programs that need it)");
                snprintf(f->value, sizeof(f->value), "%s", text);
        } else if (syscall(SYS_io_uring_setup, 0, NULL) < 0 && errno == ENOSYS) {
                snprintf(add("kernel.io_uring_disabled", OK, "this kernel has no io_uring", "")->value,
                         sizeof(findings[0].value), "(no io_uring)");
        } else {
                snprintf(add("kernel.io_uring_disabled", WEAK,
                             "this kernel has io_uring but no switch to turn it off (before 6.6): only system-call "
                             "filters keep it from processes",
                             "a kernel 6.6 or later with kernel.io_uring_disabled=2, or one built without io_uring")
                                 ->value,
                         sizeof(findings[0].value), "(no such setting)");
        }
        sysctl_min("kernel.unprivileged_bpf_disabled", 1,
                   "every process can load BPF programs, a large kernel attack surface",
                   "sysctl -w kernel.unprivileged_bpf_disabled=2 (1 cannot be undone until reboot)",
                   "the kernel has no unprivileged_bpf_disabled (no BPF, or before 4.4)");
        sysctl_min("kernel.dmesg_restrict", 1,
                   "every process reads the kernel log, with addresses and other processes' messages",
                   "sysctl -w kernel.dmesg_restrict=1", "the kernel has no dmesg_restrict");
}

/* The /proc on top of /proc in this mount namespace, and its hidepid=. */
static void check_hidepid(void)
{
        FILE *m = fopen("/proc/self/mountinfo", "re");
        char line[4096], options[1024] = "", *p;
        int found = 0;
        struct finding *f;
        static const char *const fix =
                "mount -o remount,hidepid=invisible,gid=ADMIN_GROUP /proc, and in /etc/fstab: "
                "proc /proc proc defaults,hidepid=invisible,gid=ADMIN_GROUP 0 0 (systemd services: ProtectProc=invisible)";

        while (m && fgets(line, sizeof(line), m)) {
                char point[1024], *dash = strstr(line, " - ");
                char fstype[64], source[256], super[1024];

                /* id parent major:minor root mountpoint ... - fstype source superoptions */
                if (!dash || sscanf(line, "%*s %*s %*s %*s %1023s", point) != 1 ||
                    sscanf(dash + 3, "%63s %255s %1023s", fstype, source, super) != 3)
                        continue;
                if (strcmp(point, "/proc") == 0 && strcmp(fstype, "proc") == 0) {
                        found = 1; /* the last one is the one on top */
                        snprintf(options, sizeof(options), "%s", super);
                }
        }
        if (m)
                fclose(m);
        if (!found) {
                snprintf(add("proc.hidepid", UNAVAILABLE, "no proc file system on /proc in this mount namespace", fix)
                                 ->value,
                         sizeof(findings[0].value), "(no /proc)");
                return;
        }
        p = strstr(options, "hidepid=");
        if (p) {
                p += strlen("hidepid=");
                p[strcspn(p, ",")] = '\0';
        }
        f = add("proc.hidepid",
                p && strcmp(p, "0") != 0 && strcmp(p, "off") != 0 ? OK : WEAK,
                "every pool sees every process: command lines (secrets given as arguments, such as "
                "'run --env NAME=secret'), start times and owners of other pools' workers and of root's tools",
                fix);
        snprintf(f->value, sizeof(f->value), "%s", p ? p : "(not set)");
}

/* The state directory: root's, not writable by others; the registry read by
 * root (or an administrators' group) only. The NSS snapshot is meant to be
 * world-readable. */
static void check_state_dir(void)
{
        static const char *const files[] = { "registry.db", "registry.db-wal", "registry.db-shm" };
        apid_ctx *ctx = NULL;
        const char *dir;
        struct stat st;
        struct finding *f;
        size_t i;

        if (apid_ctx_new(&ctx) != APID_OK) {
                snprintf(add("state-dir", UNAVAILABLE, "no library context", "")->value, sizeof(findings[0].value),
                         "(%s)", apid_error_message());
                return;
        }
        dir = apid_ctx_get_state_dir(ctx);
        if (lstat(dir, &st) < 0) {
                f = add("state-dir", errno == ENOENT ? OK : UNAVAILABLE,
                        errno == ENOENT ? "no state directory yet (no pool was added)" : "cannot be read", "");
                snprintf(f->value, sizeof(f->value), "%s (%s)", dir, strerror(errno));
                apid_ctx_unref(ctx);
                return;
        }
        f = add("state-dir", S_ISDIR(st.st_mode) && st.st_uid == 0 && !(st.st_mode & 022) ? OK : WEAK,
                "whoever can write the state directory can replace the registry: make any uid a pool, or a pool "
                "any uid",
                "chown root: DIR && chmod 0755 DIR (0750 with an administrators' group)");
        snprintf(f->value, sizeof(f->value), "%s %s owner %u mode %04o", dir,
                 S_ISDIR(st.st_mode) ? "directory" : S_ISLNK(st.st_mode) ? "symbolic link" : "not a directory",
                 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                char path[4096];

                snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
                if (lstat(path, &st) < 0)
                        continue;
                f = add("registry", S_ISREG(st.st_mode) && st.st_uid == 0 && !(st.st_mode & 022) && !(st.st_mode & 04)
                                            ? OK
                                            : WEAK,
                        "the registry holds every pool's settings, environment and SIDs: IIS keeps applicationHost.config "
                        "from worker identities, so must this host (readable by root, or an administrators' group)",
                        "chown root:ADMIN_GROUP FILE && chmod 0640 FILE (the -wal and -shm files too)");
                snprintf(f->value, sizeof(f->value), "%s owner %u mode %04o", path, (unsigned)st.st_uid,
                         (unsigned)(st.st_mode & 07777));
        }
        apid_ctx_unref(ctx);
}

/* The position of "files" (or "compat") and of "apppoolid" in a line of
 * nsswitch.conf; actions ("[NOTFOUND=return]") are not services. */
static void check_nsswitch_db(const char *db, char *line)
{
        char *save = NULL, *tok, *colon = strchr(line, ':');
        int pos = 0, files = -1, ours = -1;
        struct finding *f;

        for (tok = strtok_r(colon + 1, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
                if (tok[0] == '[')
                        continue;
                if ((strcmp(tok, "files") == 0 || strcmp(tok, "compat") == 0) && files < 0)
                        files = pos;
                if (strcmp(tok, "apppoolid") == 0 && ours < 0)
                        ours = pos;
                pos++;
        }
        f = add(strcmp(db, "passwd") == 0 ? "nsswitch.passwd" : "nsswitch.group",
                ours < 0 || (files >= 0 && files < ours) ? OK : WEAK,
                ours < 0 ? "apppoolid is not listed: pool names do not resolve (ls -l shows numbers); nothing weak"
                         : "local accounts must win: with apppoolid before files, a name or id both know resolves to "
                           "the pool instead of the account in /etc/passwd or /etc/group",
                "list files first: 'passwd: files apppoolid' and 'group: files apppoolid' in /etc/nsswitch.conf");
        snprintf(f->value, sizeof(f->value), "%s", ours < 0 ? "(apppoolid not listed)"
                                                  : files < 0 ? "apppoolid without files"
                                                  : files < ours ? "files before apppoolid"
                                                                 : "apppoolid before files");
}

static void check_nsswitch(void)
{
        FILE *n = fopen("/etc/nsswitch.conf", "re");
        char line[1024];
        int seen[2] = { 0, 0 };

        while (n && fgets(line, sizeof(line), n)) {
                size_t skip = strspn(line, " \t");

                if (strncmp(line + skip, "passwd:", 7) == 0 && !seen[0]++)
                        check_nsswitch_db("passwd", line + skip);
                else if (strncmp(line + skip, "group:", 6) == 0 && !seen[1]++)
                        check_nsswitch_db("group", line + skip);
        }
        if (n)
                fclose(n);
        else
                snprintf(add("nsswitch", UNAVAILABLE, "/etc/nsswitch.conf cannot be read", "")->value,
                         sizeof(findings[0].value), "(%s)", strerror(errno));
}

/* Kernel features the library relies on, probed with the system call. */
static void check_features(void)
{
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
        unsigned action = SECCOMP_RET_KILL_PROCESS;
        struct finding *f;
        long r;
        int err;

        r = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof(how));
        err = errno;
        if (r >= 0)
                close((int)r);
        f = add("kernel.openat2", r < 0 && err == ENOSYS ? WEAK : OK,
                "without openat2 (Linux 5.6) paths are confined by a component-by-component O_NOFOLLOW walk in user "
                "space instead of by the kernel (RESOLVE_BENEATH)",
                "a kernel 5.6 or later");
        snprintf(f->value, sizeof(f->value), "%s", r >= 0 ? "available" : err == ENOSYS ? "missing" : strerror(err));

        r = syscall(SYS_pidfd_open, getpid(), 0);
        err = errno;
        if (r >= 0)
                close((int)r);
        f = add("kernel.pidfd_open", r < 0 && err == ENOSYS ? WEAK : OK,
                "without pidfds (Linux 5.3) a worker is signalled and waited for by pid, which can be reused by "
                "another pool's process",
                "a kernel 5.3 or later");
        snprintf(f->value, sizeof(f->value), "%s", r >= 0 ? "available" : err == ENOSYS ? "missing" : strerror(err));

        r = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
        err = errno;
        f = add("kernel.seccomp_filter", r < 0 ? WEAK : OK,
                "without seccomp filters (CONFIG_SECCOMP_FILTER) a worker's system calls are not filtered at all: "
                "launches under a default token fail",
                "a kernel built with CONFIG_SECCOMP_FILTER=y");
        snprintf(f->value, sizeof(f->value), "%s", r == 0 ? "available" : strerror(err));
}

static int usage_doctor(void)
{
        printf("Usage: %s doctor [--json]\n"
               "\n"
               "Check the host settings that weaken the isolation of pools: fs.protected_*, fs.suid_dumpable,\n"
               "hidepid= on /proc, Yama ptrace_scope, unprivileged user namespaces, io_uring, unprivileged BPF,\n"
               "dmesg_restrict, the state directory and registry permissions, the nsswitch.conf order, and\n"
               "the kernel features the library needs (openat2, pidfd_open, seccomp filters).\n"
               "Each weak setting is printed with the reason and the fix. Nothing is changed.\n"
               "\n"
               "Exit status: 0 nothing is weak, 1 something is weak, 2 bad usage.\n"
               "'unavailable' (a setting this kernel does not have) is reported, not counted as weak.\n",
               program_name);
        return 0;
}

int cmd_doctor(int argc, char **argv)
{
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int json = 0, c, i, weak = 0, unavailable = 0;

        while ((c = getopt_long(argc, argv, "jh", options, NULL)) != -1) {
                switch (c) {
                case 'j': json = 1; break;
                case 'h': return usage_doctor();
                default: return fail_usage("doctor: bad option");
                }
        }
        if (optind != argc)
                return fail_usage("doctor takes no arguments");
        n_findings = 0;
        check_sysctls();
        check_hidepid();
        check_state_dir();
        check_nsswitch();
        check_features();
        for (i = 0; i < n_findings; i++) {
                weak += findings[i].status == WEAK;
                unavailable += findings[i].status == UNAVAILABLE;
        }
        if (json) {
                fputs("{\"checks\":[", stdout);
                for (i = 0; i < n_findings; i++) {
                        const struct finding *f = &findings[i];

                        fputs(i ? ",\n{\"setting\":" : "\n{\"setting\":", stdout);
                        json_string(stdout, f->setting);
                        printf(",\"status\":\"%s\",\"value\":", status_names[f->status]);
                        json_string(stdout, f->value);
                        fputs(",\"reason\":", stdout);
                        json_string(stdout, f->reason);
                        fputs(",\"fix\":", stdout);
                        json_string(stdout, f->fix);
                        fputs("}", stdout);
                }
                printf("],\n\"weak\":%d,\"unavailable\":%d,\"checked\":%d}\n", weak, unavailable, n_findings);
        } else {
                for (i = 0; i < n_findings; i++) {
                        const struct finding *f = &findings[i];

                        printf("%-11s %s = %s\n", status_names[f->status], f->setting, f->value);
                        if (f->status == OK)
                                continue;
                        printf("            why: %s\n", f->reason);
                        if (f->fix[0])
                                printf("            fix: %s\n", f->fix);
                }
                printf("%d checked: %d weak, %d unavailable\n", n_findings, weak, unavailable);
        }
        return weak ? 1 : 0;
}
