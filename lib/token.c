/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tokens: what a worker runs with, recorded; and applying one to the
 * calling process. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "launch/filter.h"
#include "launch/launch-internal.h"

#define DEFAULT_PATH "PATH=" APID__DEFAULT_PATH

/* Compile the token's filter (lib/launch/filter.c: the allow-list, its deny names
 * on top) once, here; every launch loads the same program. */
static int build_filter(struct apid_token *t)
{
        struct sock_filter *bpf;
        size_t len;
        int r = apid__filter_build(t->deny, t->n_deny, &bpf, &len);

        if (r == APID_OK) {
                free(t->bpf);
                t->bpf = bpf;
                t->bpf_len = len;
        }
        return r;
}

static int env_set(struct apid_token *t, const char *name, const char *value)
{
        size_t len = strlen(name), i;
        char *entry = NULL;

        if (value && asprintf(&entry, "%s=%s", name, value) < 0)
                return apid__fail_oom();
        for (i = 0; i < t->n_env; i++)
                if (strncmp(t->env[i], name, len) == 0 && t->env[i][len] == '=')
                        break;
        if (i < t->n_env) {
                free(t->env[i]);
                if (entry) {
                        t->env[i] = entry;
                } else {
                        memmove(&t->env[i], &t->env[i + 1], (t->n_env - i) * sizeof(char *));
                        t->n_env--;
                }
                return APID_OK;
        }
        if (!entry)
                return APID_OK;
        {
                char **grown = realloc(t->env, (t->n_env + 2) * sizeof(char *));

                if (!grown) {
                        free(entry);
                        return apid__fail_oom();
                }
                t->env = grown;
                t->env[t->n_env++] = entry;
                t->env[t->n_env] = NULL;
        }
        return APID_OK;
}

APID_EXPORT void apid_token_free(apid_token *t)
{
        size_t i;

        if (!t)
                return;
        for (i = 0; i < t->n_env; i++)
                free(t->env[i]);
        free(t->env);
        for (i = 0; i < t->n_deny; i++)
                free(t->deny[i]);
        free(t->deny);
        free(t->bpf);
        free(t->user);
        free(t->account);
        free(t->pool_group);
        free(t->profile);
        free(t);
}

/* "<group name> (IIS APPPOOL\\<pool>)", for describe: the group has the
 * pool's POSIX user name (lib/store/nssfile.c lists both). */
static int pool_group_name(const apid_identity *id, char **out)
{
        _cleanup_free_ char *account = NULL;
        int r = apid_account_for_pool(apid_identity_get_pool_name(id), &account);

        if (r < 0)
                return r;
        if (asprintf(out, "%s (%s)", apid_identity_get_pool_group(id), account) < 0) {
                *out = NULL;
                return apid__fail_oom();
        }
        return APID_OK;
}

/* The resource limits every default token sets, so that a worker does not
 * run with root's (docs/security.md#resource-limits): a per-pool process
 * ceiling against fork bombs (RLIMIT_NPROC counts every process and thread
 * of the pool's uid), systemd's descriptor limits (select()-safe soft limit,
 * a hard limit a server may raise it to), no core dumps (a dump holds what
 * the worker held in memory, written where it runs), the kernel's default
 * locked-memory allowance, and no real-time or raised scheduling priority.
 * The rest (CPU, file size, data, stack, address space...) stays as the caller
 * has it: raising what an administrator limited would be worse. */
#define DEFAULT_NPROC 4096
#define DEFAULT_NOFILE_SOFT 1024
#define DEFAULT_NOFILE_HARD 524288
#define DEFAULT_MEMLOCK (8 * 1024 * 1024)

/* A default never goes above the caller's own hard limit: raising it needs
 * CAP_SYS_RESOURCE, and would undo a limit an administrator set on the host. */
static int default_rlimit(apid_token *t, int resource, uint64_t soft, uint64_t hard)
{
        struct rlimit own;

        if (getrlimit(resource, &own) == 0 && own.rlim_max != RLIM_INFINITY && (uint64_t)own.rlim_max < hard)
                hard = own.rlim_max;
        return apid_token_set_rlimit(t, resource, soft < hard ? soft : hard, hard);
}

static int default_rlimits(apid_token *t)
{
        int r = default_rlimit(t, RLIMIT_NPROC, DEFAULT_NPROC, DEFAULT_NPROC);

        if (r == APID_OK)
                r = default_rlimit(t, RLIMIT_NOFILE, DEFAULT_NOFILE_SOFT, DEFAULT_NOFILE_HARD);
        if (r == APID_OK)
                r = default_rlimit(t, RLIMIT_CORE, 0, 0);
        if (r == APID_OK)
                r = default_rlimit(t, RLIMIT_MEMLOCK, DEFAULT_MEMLOCK, DEFAULT_MEMLOCK);
        if (r == APID_OK)
                r = default_rlimit(t, RLIMIT_RTPRIO, 0, 0);
        if (r == APID_OK)
                r = default_rlimit(t, RLIMIT_NICE, 0, 0);
        return r;
}

static const char *rlimit_name(int resource)
{
        switch (resource) {
        case RLIMIT_CPU: return "RLIMIT_CPU";
        case RLIMIT_FSIZE: return "RLIMIT_FSIZE";
        case RLIMIT_DATA: return "RLIMIT_DATA";
        case RLIMIT_STACK: return "RLIMIT_STACK";
        case RLIMIT_CORE: return "RLIMIT_CORE";
        case RLIMIT_RSS: return "RLIMIT_RSS";
        case RLIMIT_NPROC: return "RLIMIT_NPROC";
        case RLIMIT_NOFILE: return "RLIMIT_NOFILE";
        case RLIMIT_MEMLOCK: return "RLIMIT_MEMLOCK";
        case RLIMIT_AS: return "RLIMIT_AS";
        case RLIMIT_LOCKS: return "RLIMIT_LOCKS";
        case RLIMIT_SIGPENDING: return "RLIMIT_SIGPENDING";
        case RLIMIT_MSGQUEUE: return "RLIMIT_MSGQUEUE";
        case RLIMIT_NICE: return "RLIMIT_NICE";
        case RLIMIT_RTPRIO: return "RLIMIT_RTPRIO";
        case RLIMIT_RTTIME: return "RLIMIT_RTTIME";
        default: return "RLIMIT_?";
        }
}

static void describe_limit(FILE *f, uint64_t v)
{
        if (v == (uint64_t)RLIM_INFINITY)
                fputs("unlimited", f);
        else
                fprintf(f, "%llu", (unsigned long long)v);
}

APID_EXPORT int apid_token_new(const apid_identity *id, apid_token **out)
{
        const char *profile;
        apid_token *t;
        int r;

        if (!id || !out)
                return apid__fail(APID_EINVAL, 0, "apid_token_new: NULL argument");
        t = calloc(1, sizeof(*t));
        if (!t)
                return apid__fail_oom();
        t->uid = apid_identity_get_uid(id);
        t->gid = apid_identity_get_gid(id);
        t->shared_gid = apid_identity_get_shared_gid(id);
        /* The Linux form of IIS injecting the pool SID into the token: the
         * pool's own group, whatever account the worker runs as. */
        t->pool_gid = apid_identity_get_pool_gid(id);
        t->keep_shared = 1;
        t->seccomp = 1;
        t->umask = 027;
        t->user = strdup(apid_identity_get_user(id));
        t->account = strdup(apid_identity_get_account(id));
        t->env = calloc(2, sizeof(char *));
        r = t->user && t->account && t->env ? APID_OK : apid__fail_oom();
        if (r == APID_OK)
                r = pool_group_name(id, &t->pool_group);
        if (r == APID_OK) {
                t->env[0] = strdup(DEFAULT_PATH);
                t->n_env = 1;
                r = t->env[0] ? APID_OK : apid__fail_oom();
        }
        profile = apid_identity_get_profile_dir(id);
        /* The worker's default working directory (else "/"). */
        if (r == APID_OK && profile && !(t->profile = strdup(profile)))
                r = apid__fail_oom();
        if (r == APID_OK)
                r = default_rlimits(t);
        if (r == APID_OK && profile) {
                _cleanup_free_ char *tmp = NULL;

                r = env_set(t, "HOME", profile);
                if (r == APID_OK)
                        r = env_set(t, "USER", t->user);
                if (r == APID_OK)
                        r = env_set(t, "LOGNAME", t->user);
                if (r == APID_OK && asprintf(&tmp, "%s/tmp", profile) < 0) {
                        tmp = NULL;
                        r = apid__fail_oom();
                }
                if (r == APID_OK)
                        r = env_set(t, "TMPDIR", tmp);
        }
        if (r == APID_OK)
                r = build_filter(t);
        if (r < 0) {
                apid_token_free(t);
                return r;
        }
        *out = t;
        return APID_OK;
}

APID_EXPORT int apid_token_keep_cap(apid_token *t, const char *name)
{
        cap_value_t v;
        char buf[64];

        if (!t || !name)
                return apid__fail(APID_EINVAL, 0, "apid_token_keep_cap: NULL argument");
        /* libcap spells them "cap_net_bind_service"; take any case, with or without "cap_". */
        snprintf(buf, sizeof(buf), "%s%s", strncasecmp(name, "cap_", 4) == 0 ? "" : "cap_", name);
        for (char *c = buf; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        if (cap_from_name(buf, &v) < 0 || v < 0 || v > 63 || (int)v > (int)cap_max_bits() - 1) {
                char q[128];

                apid__quote(q, sizeof(q), name, 64);
                return apid__fail(APID_EINVAL, 0, "capability '%s': unknown", q);
        }
        if (v == CAP_SETPCAP)
                return apid__fail(APID_EINVAL, 0,
                                  "capability '%s': a worker with CAP_SETPCAP could unlock its securebits; not kept",
                                  name);
        t->keep_caps |= UINT64_C(1) << v;
        return APID_OK;
}

APID_EXPORT int apid_token_set_groups(apid_token *t, int shared)
{
        if (!t)
                return apid__fail(APID_EINVAL, 0, "apid_token_set_groups: token is NULL");
        t->keep_shared = !!shared;
        return APID_OK;
}

APID_EXPORT int apid_token_set_seccomp(apid_token *t, int enable)
{
        if (!t)
                return apid__fail(APID_EINVAL, 0, "apid_token_set_seccomp: token is NULL");
        t->seccomp = !!enable;
        return APID_OK;
}

APID_EXPORT int apid_token_deny_syscall(apid_token *t, const char *name)
{
        char **grown, *copy;
        int r;

        if (!t || !name)
                return apid__fail(APID_EINVAL, 0, "apid_token_deny_syscall: NULL argument");
        if (seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR) {
                char q[128];

                apid__quote(q, sizeof(q), name, 64);
                return apid__fail(APID_EINVAL, 0, "system call '%s': unknown on this architecture", q);
        }
        copy = strdup(name);
        grown = copy ? realloc(t->deny, (t->n_deny + 1) * sizeof(char *)) : NULL;
        if (!grown) {
                free(copy);
                return apid__fail_oom();
        }
        t->deny = grown;
        t->deny[t->n_deny++] = copy;
        r = build_filter(t);
        if (r < 0)
                free(t->deny[--t->n_deny]);
        return r;
}

APID_EXPORT int apid_token_set_rlimit(apid_token *t, int resource, uint64_t soft, uint64_t hard)
{
        int i;

        if (!t)
                return apid__fail(APID_EINVAL, 0, "apid_token_set_rlimit: token is NULL");
        if (resource < 0 || resource >= RLIMIT_NLIMITS)
                return apid__fail(APID_EINVAL, 0, "resource limit %d: unknown", resource);
        if (soft > hard)
                return apid__fail(APID_EINVAL, 0, "resource limit %d: soft %llu above hard %llu", resource,
                                  (unsigned long long)soft, (unsigned long long)hard);
        for (i = 0; i < t->n_rlimits; i++)
                if (t->rlimits[i].resource == resource)
                        break;
        if (i == APID__MAX_RLIMITS)
                return apid__fail(APID_ERANGE, 0, "too many resource limits");
        t->rlimits[i].resource = resource;
        t->rlimits[i].soft = soft;
        t->rlimits[i].hard = hard;
        if (i == t->n_rlimits)
                t->n_rlimits++;
        return APID_OK;
}

APID_EXPORT int apid_token_set_umask(apid_token *t, uint32_t mask)
{
        if (!t || mask > 0777)
                return apid__fail(APID_EINVAL, 0, "umask %o: must be at most 0777", mask);
        t->umask = mask;
        return APID_OK;
}

APID_EXPORT int apid_token_setenv(apid_token *t, const char *name, const char *value)
{
        char q[128];

        if (!t || !name)
                return apid__fail(APID_EINVAL, 0, "apid_token_setenv: NULL argument");
        if (!name[0] || strchr(name, '=')) {
                apid__quote(q, sizeof(q), name, 64);
                return apid__fail(APID_EINVAL, 0, "environment variable '%s': a name is not empty and has no '='", q);
        }
        return env_set(t, name, value);
}

APID_EXPORT int apid_token_describe(const apid_token *t, char **out)
{
        char *buf = NULL;
        size_t size = 0, i;
        FILE *f;
        int c, first = 1;

        if (!t || !out)
                return apid__fail(APID_EINVAL, 0, "apid_token_describe: NULL argument");
        f = open_memstream(&buf, &size);
        if (!f)
                return apid__fail_oom();
        fprintf(f, "account: %s\nuser: %s\nuid: %u\ngid: %u\n", t->account, t->user, t->uid, t->gid);
        {
                struct apid__plan p;

                if (apid__token_plan(t, &p) < 0)
                        p.n_groups = 0;
                fputs("groups:", f);
                for (i = 0; i < (size_t)p.n_groups; i++)
                        fprintf(f, " %u", (unsigned)p.groups[i]);
                fputc('\n', f);
        }
        fprintf(f, "pool group: %u %s, %s: grants to the pool reach this worker through it (the pool SID, "
                "injected)\n", t->pool_gid, t->pool_group,
                t->pool_gid == t->gid ? "the primary group" : "a supplementary group");
        fputs("capabilities: ", f);
        for (c = 0; c < 64; c++)
                if ((t->keep_caps >> c) & 1) {
                        char *n = cap_to_name((cap_value_t)c);

                        fprintf(f, "%s%s", first ? "" : ",", n ? n : "?");
                        cap_free(n);
                        first = 0;
                }
        fprintf(f, "%s\n", first ? "none (effective, permitted, inheritable, ambient and bounding sets empty)"
                                  : " (ambient, permitted, effective, inheritable and bounding; nothing else)");
        fputs("no_new_privs: yes\n", f);
        if (t->keep_caps)
                fputs("securebits: noroot (locked), no_setuid_fixup off (locked); keep_caps only across the uid "
                      "change\n", f);
        else
                fputs("securebits: noroot (locked), no_setuid_fixup off (locked), keep_caps off (locked), "
                      "no_cap_ambient_raise (locked)\n", f);
        if (t->seccomp)
                apid__filter_describe(f, t->deny, t->n_deny, t->bpf_len);
        else
                fputs("seccomp: off\n", f);
        fprintf(f, "umask: %04o\n", t->umask);
        for (i = 0; i < (size_t)t->n_rlimits; i++) {
                fprintf(f, "rlimit %s: ", rlimit_name(t->rlimits[i].resource));
                describe_limit(f, t->rlimits[i].soft);
                fputs(" soft, ", f);
                describe_limit(f, t->rlimits[i].hard);
                fputs(" hard\n", f);
        }
        fprintf(f, "working directory: %s\n", t->profile ? t->profile : "/");
        for (i = 0; i < t->n_env; i++)
                fprintf(f, "env: %s\n", t->env[i]);
        if (fclose(f) != 0) {
                free(buf);
                return apid__fail_oom();
        }
        *out = buf;
        return APID_OK;
}

/* ---- privileges, plans, and applying to oneself ---- */

int apid__privileged_enough(const char *what)
{
        static const struct {
                int cap;
                const char *name;
        } need[] = { { CAP_SETUID, "CAP_SETUID" }, { CAP_SETGID, "CAP_SETGID" }, { CAP_SETPCAP, "CAP_SETPCAP" } };
        /* The raw call: once per launch, and libcap's cap_get_proc() would
         * allocate for three bits. */
        struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct data[2];
        char missing[128] = "";
        size_t i;

        memset(data, 0, sizeof(data));
        if (syscall(SYS_capget, &hdr, data) < 0)
                return apid__fail(APID_ESYS, errno, "%s: cannot read this process's capabilities", what);
        for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
                if (!((data[need[i].cap / 32].effective >> (need[i].cap % 32)) & 1))
                        snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
                                 missing[0] ? ", " : "", need[i].name);
        if (missing[0])
                return apid__fail(APID_EPERM, EPERM,
                                  "%s: changing to another identity needs CAP_SETUID, CAP_SETGID and CAP_SETPCAP "
                                  "(run as root); this process (uid %u) lacks %s", what, (unsigned)geteuid(), missing);
        return APID_OK;
}

int apid__token_plan(const struct apid_token *t, struct apid__plan *p)
{
        memset(p, 0, sizeof(*p));
        p->token = t;
        p->uid = t->uid;
        p->gid = t->gid;
        p->groups[p->n_groups++] = (gid_t)t->gid;
        if (t->pool_gid != (uint32_t)-1 && t->pool_gid != t->gid)
                p->groups[p->n_groups++] = (gid_t)t->pool_gid;
        if (t->keep_shared && t->shared_gid != (uint32_t)-1 && t->shared_gid != t->gid)
                p->groups[p->n_groups++] = (gid_t)t->shared_gid;
        p->keep_caps = t->keep_caps;
        p->last_cap = (int)cap_max_bits() - 1;
        if (p->last_cap < 0 || p->last_cap > 63)
                return apid__fail(APID_ESYS, 0, "cannot tell the kernel's last capability");
        p->parent = getpid();
        return APID_OK;
}

static const char *step_name(int step)
{
        switch (step) {
        case APID__STEP_CGROUP: return "write";
        case APID__STEP_SIGNALS: return "sigaction";
        case APID__STEP_SETSID: return "setsid";
        case APID__STEP_FDS: return "dup3";
        case APID__STEP_CTTY: return "ioctl(TIOCSCTTY)";
        case APID__STEP_KEYRING: return "keyctl(KEYCTL_JOIN_SESSION_KEYRING)";
        case APID__STEP_PERSONALITY: return "personality(PER_LINUX)";
        case APID__STEP_RLIMIT: return "prlimit";
        case APID__STEP_SETGROUPS: return "setgroups";
        case APID__STEP_SETRESGID: return "setresgid";
        case APID__STEP_BOUNDING: return "prctl(PR_CAPBSET_DROP)";
        case APID__STEP_SECUREBITS: return "prctl(PR_SET_SECUREBITS)";
        case APID__STEP_SETRESUID: return "setresuid";
        case APID__STEP_CAPSET: return "capset";
        case APID__STEP_AMBIENT: return "prctl(PR_CAP_AMBIENT)";
        case APID__STEP_NO_NEW_PRIVS: return "prctl(PR_SET_NO_NEW_PRIVS)";
        case APID__STEP_CHDIR: return "chdir";
        case APID__STEP_PDEATHSIG: return "prctl(PR_SET_PDEATHSIG)";
        case APID__STEP_PARENT_GONE: return "getppid (the parent exited)";
        case APID__STEP_SECCOMP: return "seccomp(SECCOMP_SET_MODE_FILTER)";
        case APID__STEP_SIGMASK: return "sigprocmask";
        case APID__STEP_EXECVE: return "execve";
        default: return "launch";
        }
}

/* "(/sys/fs/cgroup/memory/apppoolid/x/cgroup.procs)": the file the child
 * could not write to (descriptor fd, still open in the caller). */
static void cgroup_arg(int fd, char *out, size_t size)
{
        char link[64], path[4096];
        ssize_t n;

        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, path, sizeof(path) - 1);
        if (n < 0)
                n = 0;
        path[n] = '\0';
        snprintf(out, size, "(%s)", path);
}

int apid__step_fail(const struct apid__plan *p)
{
        char arg[4200] = "";
        int err = p->failed_errno;

        if (p->failed_step == APID__STEP_CGROUP)
                cgroup_arg(p->failed_arg, arg, sizeof(arg));
        else if (p->failed_step == APID__STEP_EXECVE)
                snprintf(arg, sizeof(arg), "(%s)", p->path);
        else if (p->failed_step == APID__STEP_CHDIR)
                snprintf(arg, sizeof(arg), "(%s)", p->cwd);
        else if (p->failed_step == APID__STEP_SETRESUID || p->failed_step == APID__STEP_SETRESGID ||
                 p->failed_step == APID__STEP_RLIMIT || p->failed_step == APID__STEP_FDS ||
                 p->failed_step == APID__STEP_BOUNDING)
                snprintf(arg, sizeof(arg), "(%d)", p->failed_arg);
        return apid__fail(err == ENOENT && p->failed_step == APID__STEP_EXECVE ? APID_ENOTFOUND
                          : err == EPERM || err == EACCES                     ? APID_EPERM
                                                                              : APID_ESYS,
                          err, "%s%s: %s", step_name(p->failed_step), arg, strerror(err));
}

int apid__thread_count(void)
{
        char line[256];
        FILE *f = fopen("/proc/self/status", "re");
        int n = -1;

        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "Threads: %d", &n) == 1)
                        break;
        if (f)
                fclose(f);
        return n;
}

APID_EXPORT int apid_token_apply_self(const apid_token *t)
{
        struct apid__plan p;
        int r, n;

        if (!t)
                return apid__fail(APID_EINVAL, 0, "apid_token_apply_self: token is NULL");
        n = apid__thread_count();
        if (n != 1)
                return apid__fail(APID_EINVAL, 0,
                                  "apid_token_apply_self: the process has %d threads; credentials are per thread on "
                                  "Linux, so apply a token before starting threads (or launch a worker instead)", n);
        r = apid__privileged_enough("apid_token_apply_self");
        if (r < 0)
                return r;
        r = apid__token_plan(t, &p);
        if (r < 0)
                return r;
        if (apid__child_steps(&p, 0, 0) < 0)
                return apid__step_fail(&p);
        return APID_OK;
}
