/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The inheritance audit (docs/security.md#inherited-state): a deliberately
 * dirty parent (odd umask, nice, ioprio, scheduler, affinity, ignored and
 * blocked signals, an armed itimer, odd rlimits, a secret in the environment
 * and in its session keyring, a cwd in a private directory, a pty as its
 * controlling terminal and on stdin and stderr, a stray descriptor, ...)
 * runs tests/launch/probe itself, then launches it under a default token
 * (and, in a second test, a child of it execs it in place with
 * apid_launch_exec()).
 * Both dumps are compared with tests/launch/inherited-state.tsv, so a piece
 * of state that starts to leak, or a new one the table does not know, fails.
 * Needs root (skips otherwise).
 * Every key of the table must also be named in docs/security.md#inherited-state.
 * Usage: test-inherit PROBE INHERITED_STATE_TSV SECURITY_MD */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <stdlib.h>

#include <cmocka.h>

#include "testutil.h"
#include "testutil-state.h"

static const char *probe_program, *table_path, *docs_path;
static char docs_section[65536];

#define MAX_KEYS 160
struct dump {
        int n;
        char key[MAX_KEYS][64];
        char value[MAX_KEYS][512];
};

static void parse_dump(struct dump *d, char *text)
{
        char *save = NULL, *line;

        d->n = 0;
        for (line = strtok_r(text, "\n", &save); line && d->n < MAX_KEYS; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');

                if (!eq)
                        continue;
                *eq = '\0';
                snprintf(d->key[d->n], sizeof(d->key[0]), "%s", line);
                snprintf(d->value[d->n], sizeof(d->value[0]), "%s", eq + 1);
                d->n++;
        }
}

static const char *lookup(const struct dump *d, const char *key)
{
        for (int i = 0; i < d->n; i++)
                if (strcmp(d->key[i], key) == 0)
                        return d->value[i];
        return NULL;
}

static void read_all(int fd, char *buf, size_t size)
{
        size_t got = 0;
        ssize_t n;

        while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
                got += (size_t)n;
        buf[got] = '\0';
        close(fd);
}

/* ---- the dirty parent (a forked child of the test) ---- */

static int err_fd = 2;

static void die(const char *what)
{
        dprintf(err_fd, "dirty parent: %s: %s\n", what, strerror(errno));
        _exit(100);
}

static void write_proc(const char *path, const char *value)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0 || write(fd, value, strlen(value)) < 0)
                die(path);
        close(fd);
}

/* What fork() does not pass on (and execve() keeps): a caller that execs in
 * place (apid_launch_exec()) has it as its own. */
static void make_dirty_process(void)
{
        struct itimerval timer = { { 0, 0 }, { 1000, 0 } };
        sigset_t block;

        sigemptyset(&block);
        sigaddset(&block, SIGUSR2);
        sigaddset(&block, SIGTERM);
        sigprocmask(SIG_BLOCK, &block, NULL);
        raise(SIGUSR2); /* pending here */
        kill(getpid(), SIGTERM); /* pending for the process (shared) */
        if (setitimer(ITIMER_REAL, &timer, NULL) < 0)
                die("setitimer");
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGHUP, 0, 0, 0) < 0)
                die("prctl");
}

/* An inheritable and an ambient capability, which a plain child keeps
 * across execve. A launch from a parent whose inheritable set is empty (as
 * root's is) skips capset() and the ambient clear, the uid change having
 * left nothing (lib/launch/child.c, drop_caps()); this parent takes the
 * other path, and its worker must end with empty sets all the same. */
static void make_dirty_caps(void)
{
        struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct data[2];

        if (syscall(SYS_capget, &hdr, data) < 0)
                die("capget");
        data[CAP_NET_BIND_SERVICE / 32].inheritable |= 1u << (CAP_NET_BIND_SERVICE % 32);
        if (syscall(SYS_capset, &hdr, data) < 0 ||
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) < 0)
                die("inheritable and ambient CAP_NET_BIND_SERVICE");
}

static void make_dirty(const char *cwd, const char *secret)
{
        static const struct {
                int resource;
                rlim_t soft;
        } limits[] = {
                /* Odd soft limits under the hard ones: raising a hard limit
                 * needs CAP_SYS_RESOURCE, which a container may lack, and the
                 * launch must still be able to set its own defaults. */
                { RLIMIT_NOFILE, 12345 },
                { RLIMIT_NPROC, 5555 },
                { RLIMIT_CORE, RLIM_INFINITY },
                { RLIMIT_FSIZE, 1ull << 40 },
                { RLIMIT_MSGQUEUE, 99999 },
                { RLIMIT_MEMLOCK, 12288 },
        };
        struct sched_param sp = { 0 };
        cpu_set_t cpus;
        char *pts;
        int master, slave;

        /* A terminal of its own, on 0 and 2, as an administrator's shell has. */
        if (setsid() < 0)
                die("setsid");
        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || !(pts = ptsname(master)))
                die("pty");
        slave = open(pts, O_RDWR); /* no O_NOCTTY: it becomes the controlling terminal */
        if (slave < 0 || dup2(slave, 0) < 0 || dup2(slave, 2) < 0)
                die("pty slave");
        close(slave);
        if (open("/etc/hostname", O_RDONLY) < 0) /* a stray descriptor, not close-on-exec */
                die("stray descriptor");
        umask(0);
        if (setpriority(PRIO_PROCESS, 0, 7) < 0)
                die("setpriority");
        if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (2 << 13) | 6 /* best effort, 6 */) < 0)
                die("ioprio_set");
        if (sched_setscheduler(0, SCHED_BATCH, &sp) < 0)
                die("sched_setscheduler");
        /* One CPU only: the first this process may use (a cpuset may exclude 0). */
        if (sched_getaffinity(0, sizeof(cpus), &cpus) < 0)
                die("sched_getaffinity");
        for (int c = 0; c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, &cpus)) {
                        CPU_ZERO(&cpus);
                        CPU_SET(c, &cpus);
                        break;
                }
        if (sched_setaffinity(0, sizeof(cpus), &cpus) < 0)
                die("sched_setaffinity");
        signal(SIGUSR1, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        make_dirty_process();
        for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
                struct rlimit rl;

                if (getrlimit(limits[i].resource, &rl) < 0)
                        die("getrlimit");
                rl.rlim_cur = limits[i].soft < rl.rlim_max ? limits[i].soft : rl.rlim_max;
                if (setrlimit(limits[i].resource, &rl) < 0)
                        die("setrlimit");
        }
        setenv("APID_DIRTY_SECRET", "hunter2", 1);
        if (chdir(cwd) < 0)
                die("chdir");
        /* A session keyring of its own (not the test's), holding a secret. */
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 ||
            syscall(SYS_add_key, "user", secret, "s3cret", 6, KEY_SPEC_SESSION_KEYRING) < 0)
                die("session keyring");
        if (prctl(PR_SET_TIMERSLACK, 123456, 0, 0, 0) < 0 || prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0 ||
            prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0) < 0)
                die("prctl");
        if (personality(ADDR_NO_RANDOMIZE) < 0)
                die("personality");
        make_dirty_caps();
        write_proc("/proc/self/oom_score_adj", "123");
        write_proc("/proc/self/coredump_filter", "0x7f");
}

/* The probe run directly (fork and exec): what any child of this parent gets. */
static void probe_directly(int out, const char *secret)
{
        pid_t pid = fork();
        int status;

        if (pid < 0)
                die("fork");
        if (pid == 0) {
                const char *argv[] = { probe_program, secret, NULL };

                dup2(out, 1);
                execv(probe_program, (char *const *)argv);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
                die("the probe in the parent");
}

static void probe_in_worker(apid_token *t, int out, const char *secret)
{
        const char *argv[] = { probe_program, secret, NULL };
        apid_launch_attr *attr = NULL;
        apid_process *p = NULL;

        if (apid_launch_attr_new(&attr) != APID_OK || apid_launch_attr_pass_fd(attr, out, 1) != APID_OK ||
            apid_launch(t, attr, probe_program, argv, &p) != APID_OK) {
                dprintf(err_fd, "dirty parent: launch: %s\n", apid_error_message());
                _exit(101);
        }
        if (apid_process_wait(p, -1) != APID_OK || apid_process_exit_code(p) != 0) {
                dprintf(err_fd, "dirty parent: the probe in the worker exited %d\n", apid_process_exit_code(p));
                _exit(102);
        }
        apid_process_free(p);
        apid_launch_attr_free(attr);
}

/* The probe exec'd in place (apid_launch_exec()) by a dirty caller: a child
 * of the dirty parent (a session leader cannot start a session), with what
 * fork() dropped made again. */
static void probe_exec_in_place(apid_token *t, int out, const char *secret)
{
        pid_t pid = fork();
        int status;

        if (pid < 0)
                die("fork");
        if (pid == 0) {
                const char *argv[] = { probe_program, secret, NULL };
                apid_launch_attr *attr = NULL;

                make_dirty_process();
                if (apid_launch_attr_new(&attr) != APID_OK || apid_launch_attr_pass_fd(attr, out, 1) != APID_OK)
                        _exit(103);
                if (apid_launch_exec(t, attr, probe_program, argv) != APID_OK)
                        dprintf(err_fd, "dirty caller: apid_launch_exec: %s\n", apid_error_message());
                _exit(104);
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
                dprintf(err_fd, "dirty parent: the probe exec'd in place: status 0x%x\n", status);
                _exit(105);
        }
}

/* ---- the comparison ---- */

/* The "## Inherited state" section of docs/security.md, which mirrors the table. */
static void load_docs(void)
{
        static char text[1 << 18];
        char *start, *end;
        int fd = open(docs_path, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        read_all(fd, text, sizeof(text));
        start = strstr(text, "\n## Inherited state\n");
        assert_non_null(start);
        end = strstr(start + 1, "\n## ");
        if (end)
                *end = '\0';
        snprintf(docs_section, sizeof(docs_section), "%s", start);
}

/* Does value match one of the |-separated alternatives of expect? */
static int matches(const char *expect, const char *value, const char *parent_value, const char *uid)
{
        char alts[512], *save = NULL, *alt;

        snprintf(alts, sizeof(alts), "%s", expect);
        for (alt = strtok_r(alts, "|", &save); alt; alt = strtok_r(NULL, "|", &save)) {
                char want[600];
                const char *at = strstr(alt, "@UID@");

                if (strcmp(alt, "*") == 0)
                        return 1;
                if (alt[0] && alt[strlen(alt) - 1] == '*') { /* a prefix */
                        if (strncmp(value, alt, strlen(alt) - 1) == 0)
                                return 1;
                        continue;
                }
                if (strcmp(alt, "=parent") == 0) {
                        if (parent_value && strcmp(value, parent_value) == 0)
                                return 1;
                        continue;
                }
                if (strcmp(alt, "!parent") == 0) {
                        if (parent_value && strcmp(value, parent_value) != 0)
                                return 1;
                        continue;
                }
                if (at) {
                        /* @UID@ may appear several times ("U U U U"). */
                        char *w = want;
                        const char *s = alt;

                        while ((at = strstr(s, "@UID@"))) {
                                w += sprintf(w, "%.*s%s", (int)(at - s), s, uid);
                                s = at + 5;
                        }
                        strcpy(w, s);
                } else {
                        snprintf(want, sizeof(want), "%s", alt);
                }
                if (strcmp(want, value) == 0)
                        return 1;
        }
        return 0;
}

static void compare(const struct dump *parent, const struct dump *worker, const char *uid)
{
        char line[2048];
        FILE *f = fopen(table_path, "r");
        int rows = 0, failures = 0, pending = 0, seen[MAX_KEYS] = { 0 };

        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                char *field[5] = { NULL }, *save = NULL, *p;
                const char *pv, *wv;
                int n = 0, ok_worker, ok_parent, i;

                line[strcspn(line, "\n")] = '\0';
                if (!line[0] || line[0] == '#')
                        continue;
                /* key, worker, dirty parent, owner, how it is tested */
                for (p = strtok_r(line, "\t", &save); p && n < 5; p = strtok_r(NULL, "\t", &save))
                        field[n++] = p;
                if (n < 4)
                        fail_msg("%s: a row needs key, worker, parent, owner: %s", table_path, line);
                rows++;
                {
                        char quoted[80];

                        snprintf(quoted, sizeof(quoted), "`%s`", field[0]);
                        if (!strstr(docs_section, quoted)) {
                                print_message("FAIL %s: not in the table of %s#inherited-state\n", field[0],
                                              docs_path);
                                failures++;
                        }
                }
                wv = lookup(worker, field[0]);
                pv = lookup(parent, field[0]);
                for (i = 0; i < worker->n; i++)
                        if (strcmp(worker->key[i], field[0]) == 0)
                                seen[i] = 1;
                if (!wv || !pv) {
                        print_message("FAIL %s: the probe does not print it\n", field[0]);
                        failures++;
                        continue;
                }
                ok_worker = matches(field[1], wv, pv, uid);
                ok_parent = matches(field[2], pv, NULL, "0");
                if (!ok_parent) {
                        print_message("FAIL %s: the dirty parent has %s, the table says %s (the scene is not what "
                                      "the table describes)\n", field[0], pv, field[2]);
                        failures++;
                }
                if (strncmp(field[3], "pending:", 8) == 0) {
                        /* Owned by a change not merged yet: a mismatch is expected;
                         * a match means the mark must go. */
                        if (ok_worker) {
                                print_message("FAIL %s: now %s as the table wants: remove '%s'\n", field[0], wv,
                                              field[3]);
                                failures++;
                        } else {
                                print_message("PENDING %s: worker has %s, target %s (%s)\n", field[0], wv, field[1],
                                              field[3]);
                                pending++;
                        }
                } else if (!ok_worker) {
                        print_message("FAIL %s: worker has %s, the table says %s (dirty parent: %s)\n", field[0], wv,
                                      field[1], pv);
                        failures++;
                }
        }
        fclose(f);
        for (int i = 0; i < worker->n; i++)
                if (!seen[i]) {
                        print_message("FAIL %s=%s: printed by the probe, not in %s\n", worker->key[i],
                                      worker->value[i], table_path);
                        failures++;
                }
        print_message("inherited state: %d rows, %d pending, %d failed\n", rows, pending, failures);
        assert_true(rows >= 60);
        assert_int_equal(failures, 0);
}

static void dirty_parent_worker(void **state, int in_place)
{
        struct fixture *f = *state;
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        apid_token *t = NULL;
        struct dump *parent = calloc(1, sizeof(*parent)), *worker = calloc(1, sizeof(*worker));
        char cwd[300], secret[64], uid[16], *ptext = malloc(65536), *wtext = malloc(65536);
        int pfd[2], wfd[2], status;
        pid_t pid;

        assert_true(parent && worker && ptext && wtext);
        must(apid_pool_create(f->ctx, "probe", &pool));
        must(apid_pool_get_identity(pool, &id));
        must(apid_token_new(id, &t));
        snprintf(uid, sizeof(uid), "%u", pool_uid(f->ctx, "probe", NULL));
        snprintf(cwd, sizeof(cwd), "%s/dirty-cwd", f->dir);
        assert_int_equal(mkdir(cwd, 0700), 0);
        snprintf(secret, sizeof(secret), "apid-probe-secret-%d", (int)getpid());
        assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
        assert_int_equal(pipe2(wfd, O_CLOEXEC), 0);
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                err_fd = fcntl(2, F_DUPFD_CLOEXEC, 10);
                close(pfd[0]);
                close(wfd[0]);
                make_dirty(cwd, secret);
                probe_directly(pfd[1], secret);
                close(pfd[1]);
                if (in_place)
                        probe_exec_in_place(t, wfd[1], secret);
                else
                        probe_in_worker(t, wfd[1], secret);
                _exit(0);
        }
        close(pfd[1]);
        close(wfd[1]);
        read_all(pfd[0], ptext, 65536);
        read_all(wfd[0], wtext, 65536);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        if (getenv("APID_PROBE_DUMP"))
                printf("---- dirty parent ----\n%s---- worker ----\n%s", ptext, wtext);
        load_docs();
        parse_dump(parent, ptext);
        parse_dump(worker, wtext);
        compare(parent, worker, uid);
        apid_token_free(t);
        apid_identity_free(id);
        apid_pool_free(pool);
        free(parent);
        free(worker);
        free(ptext);
        free(wtext);
}

static void dirty_parent_worker_gets_the_table(void **state)
{
        dirty_parent_worker(state, 0);
}

/* apid_launch_exec(): the same steps, in the caller; the worker it becomes
 * must match the same table (pending signals, timers and the subreaper mark,
 * which a clone()d child never has, included). */
static void dirty_caller_exec_in_place_gets_the_table(void **state)
{
        dirty_parent_worker(state, 1);
}

static int root_setup(void **state)
{
        if (geteuid() != 0) {
                print_message("SKIP: launching under another identity needs root\n");
                return -1;
        }
        return fixture_setup(state);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(dirty_parent_worker_gets_the_table, root_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(dirty_caller_exec_in_place_gets_the_table, root_setup,
                                                fixture_teardown),
        };

        if (argc != 4) {
                fprintf(stderr, "usage: test-inherit PROBE INHERITED_STATE_TSV SECURITY_MD\n");
                return 2;
        }
        probe_program = realpath(argv[1], NULL);
        table_path = argv[2];
        docs_path = argv[3];
        if (!probe_program) {
                fprintf(stderr, "test-inherit: %s: %s\n", argv[1], strerror(errno));
                return 2;
        }
        unsetenv(APID_STATE_DIR_ENV);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
