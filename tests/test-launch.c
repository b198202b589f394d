/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Launching workers under restricted tokens: real processes, real uids.
 * The escape suite runs tests/launch/escape under a default token and counts
 * every attempt; none may succeed. Needs root (skips otherwise). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <linux/filter.h>
#include <linux/fuse.h>
#include <sched.h>
#include <sys/mount.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <time.h>

#include <cmocka.h>

#include "testutil.h"
#include "testutil-state.h"

static const char *escape_program, *escape_static;
static const char *scenes_program;

/* Beyond any kernel's last capability: drops past it fail with EINVAL. */
#define CAP_LAST_CAP_TEST 63

static int prctl_nnp(void)
{
        return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
}

static apid_token *token_for(apid_ctx *ctx, const char *pool_name, int profile)
{
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        apid_token *t = NULL;

        if (apid_pool_open(ctx, pool_name, &pool) != APID_OK)
                must(apid_pool_create(ctx, pool_name, &pool));
        if (profile)
                must(apid_pool_set(pool, "processModel.loadUserProfile", "true"));
        must(apid_pool_get_identity(pool, &id));
        must(apid_token_new(id, &t));
        apid_identity_free(id);
        apid_pool_free(pool);
        return t;
}

static int root_setup(void **state)
{
        if (geteuid() != 0) {
                print_message("SKIP: launching under another identity needs root\n");
                return -1;
        }
        return fixture_setup(state);
}

static void read_all(int fd, char *buf, size_t size)
{
        ssize_t n, got = 0;

        while ((n = read(fd, buf + got, size - 1 - (size_t)got)) > 0)
                got += n;
        buf[got] = '\0';
}

/* Run argv under t with stdout captured; returns the exit code. */
static int run_capture(apid_token *t, const char *const *argv, char *out, size_t size)
{
        apid_launch_attr *attr = NULL;
        apid_process *p = NULL;
        int fds[2], code;
        ssize_t n, got = 0;

        assert_int_equal(pipe(fds), 0);
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_pass_fd(attr, fds[1], 1));
        must(apid_launch(t, attr, argv[0], argv, &p));
        close(fds[1]);
        while ((n = read(fds[0], out + got, size - 1 - (size_t)got)) > 0)
                got += n;
        close(fds[0]);
        out[got] = '\0';
        must(apid_process_wait(p, -1));
        code = apid_process_exit_code(p);
        apid_process_free(p);
        apid_launch_attr_free(attr);
        return code;
}

static void worker_runs_as_the_pool(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 1);
        const char *argv[] = { "id", NULL };
        const char *env[] = { "/usr/bin/env", NULL };
        char out[4096], expect[600];
        uint32_t uid = pool_uid(f->ctx, "web", NULL);

        assert_int_equal(run_capture(t, argv, out, sizeof(out)), 0);
        snprintf(expect, sizeof(expect), "uid=%u gid=%u groups=%u\n", uid, uid, uid);
        assert_string_equal(out, expect);
        /* The environment: PATH, and the profile's HOME, USER, LOGNAME, TMPDIR. */
        setenv("LD_PRELOAD", "/nonexistent/evil.so", 1);
        assert_int_equal(run_capture(t, env, out, sizeof(out)), 0);
        unsetenv("LD_PRELOAD");
        assert_null(strstr(out, "LD_PRELOAD"));
        assert_non_null(strstr(out, "PATH=/usr/local/bin:/usr/bin:/bin\n"));
        assert_non_null(strstr(out, "USER=apppool-web\n"));
        snprintf(expect, sizeof(expect), "HOME=%s/profiles/apppool-web\n", f->dir);
        assert_non_null(strstr(out, expect));
        apid_token_free(t);
}

/* The working directory: the profile, else / (also when the profile cannot
 * be reached); never the caller's; the one asked for. */
static void default_working_directory(void **state)
{
        struct fixture *f = *state;
        apid_token *with = token_for(f->ctx, "web", 1), *without = token_for(f->ctx, "plain", 0);
        const char *pwd[] = { "/bin/sh", "-c", "pwd", NULL };
        apid_launch_attr *attr = NULL;
        apid_process *p = NULL;
        char out[512], expect[600];
        int fds[2];

        assert_int_equal(chdir(f->dir), 0); /* the caller's directory */
        assert_int_equal(run_capture(without, pwd, out, sizeof(out)), 0);
        assert_string_equal(out, "/\n");
        /* The state directory is 0700 here: the profile is out of the pool's reach. */
        assert_int_equal(run_capture(with, pwd, out, sizeof(out)), 0);
        assert_string_equal(out, "/\n");
        assert_int_equal(chmod(f->dir, 0755), 0);
        assert_int_equal(run_capture(with, pwd, out, sizeof(out)), 0);
        snprintf(expect, sizeof(expect), "%s/profiles/apppool-web\n", f->dir);
        assert_string_equal(out, expect);
        assert_int_equal(chdir("/"), 0);
        /* Asked for: entered, or the launch fails (no fallback). */
        assert_int_equal(pipe(fds), 0);
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_pass_fd(attr, fds[1], 1));
        must(apid_launch_attr_set_cwd(attr, "/tmp"));
        must(apid_launch(with, attr, pwd[0], pwd, &p));
        close(fds[1]);
        read_all(fds[0], out, sizeof(out));
        close(fds[0]);
        assert_string_equal(out, "/tmp\n");
        apid_process_free(p);
        apid_launch_attr_free(attr);
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_set_cwd(attr, "/nonexistent"));
        assert_int_equal(apid_launch(with, attr, pwd[0], pwd, &p), APID_ESYS);
        assert_string_equal(apid_error_message(), "chdir(/nonexistent): No such file or directory");
        apid_launch_attr_free(attr);
        apid_token_free(with);
        apid_token_free(without);
}

/* A terminal reaches a worker only when given as the terminal; then it is
 * stdin, stdout, stderr and the controlling terminal of the worker's session. */
static void terminal_only_when_asked(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        const char *probe[] = { "/bin/sh", "-c",
                                "for fd in 0 1 2; do [ -t $fd ] && echo \"tty$fd\"; done; "
                                "(: </dev/tty) 2>/dev/null && echo ctty; readlink /proc/self/fd/0; "
                                "ps -o sid= -p $$ | tr -d ' '; echo $$", NULL };
        apid_launch_attr *attr = NULL;
        apid_process *p = NULL;
        char out[1024], expect[1024], pty[128];
        int m, s, fds[2];

        m = posix_openpt(O_RDWR | O_NOCTTY);
        assert_true(m >= 0);
        assert_int_equal(grantpt(m), 0);
        assert_int_equal(unlockpt(m), 0);
        snprintf(pty, sizeof(pty), "%s", ptsname(m));
        s = open(pty, O_RDWR | O_NOCTTY);
        assert_true(s >= 0);
        /* Passed as stdin, without asking: /dev/null. */
        assert_int_equal(pipe(fds), 0);
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_pass_fd(attr, s, 0));
        must(apid_launch_attr_pass_fd(attr, fds[1], 1));
        must(apid_launch_attr_pass_fd(attr, s, 2));
        must(apid_launch(t, attr, probe[0], probe, &p));
        close(fds[1]);
        read_all(fds[0], out, sizeof(out));
        close(fds[0]);
        must(apid_process_wait(p, -1));
        snprintf(expect, sizeof(expect), "/dev/null\n%d\n%d\n", apid_process_get_pid(p), apid_process_get_pid(p));
        assert_string_equal(out, expect);
        apid_process_free(p);
        apid_launch_attr_free(attr);
        /* Passed as 3: refused, with the way to do it. */
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_pass_fd(attr, s, 3));
        assert_int_equal(apid_launch(t, attr, probe[0], probe, &p), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "is a terminal; give a terminal with apid_launch_attr_set_terminal()"));
        apid_launch_attr_free(attr);
        /* Given as the terminal: stdin and stderr (stdout is our pipe), and the
         * controlling terminal of the worker's own session. */
        assert_int_equal(pipe(fds), 0);
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_set_terminal(attr, s));
        must(apid_launch_attr_pass_fd(attr, fds[1], 1));
        must(apid_launch(t, attr, probe[0], probe, &p));
        close(fds[1]);
        read_all(fds[0], out, sizeof(out));
        close(fds[0]);
        must(apid_process_wait(p, -1));
        snprintf(expect, sizeof(expect), "tty0\ntty2\nctty\n%s\n%d\n%d\n", pty, apid_process_get_pid(p),
                 apid_process_get_pid(p));
        assert_string_equal(out, expect);
        apid_process_free(p);
        /* Bad input changes nothing. */
        assert_int_equal(apid_launch_attr_set_terminal(attr, fds[0]), APID_EINVAL); /* closed */
        assert_int_equal(apid_launch_attr_set_terminal(attr, 1), isatty(1) ? APID_OK : APID_EINVAL);
        assert_int_equal(apid_launch_attr_set_terminal(attr, -1), APID_OK);
        assert_int_equal(apid_launch_attr_set_terminal(attr, -2), APID_EINVAL);
        assert_int_equal(apid_launch_attr_set_timeout(attr, 3600001), APID_EINVAL);
        must(apid_launch_attr_set_timeout(attr, 0));
        apid_launch_attr_free(attr);
        close(s);
        close(m);
        apid_token_free(t);
}


static void umask_rlimit_and_setenv(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        const char *argv[] = { "/bin/sh", "-c", "umask; ulimit -n; echo $GREETING", NULL };
        char out[256];

        assert_int_equal(run_capture(t, argv, out, sizeof(out)), 0);
        assert_memory_equal(out, "0027\n", 5); /* the default umask */
        assert_string_equal(out + strlen(out) - 2, "\n\n");  /* no GREETING */
        must(apid_token_set_umask(t, 077));
        must(apid_token_set_rlimit(t, RLIMIT_NOFILE, 100, 200));
        must(apid_token_setenv(t, "GREETING", "hello"));
        assert_int_equal(run_capture(t, argv, out, sizeof(out)), 0);
        assert_string_equal(out, "0077\n100\nhello\n");
        must(apid_token_setenv(t, "GREETING", NULL));
        assert_int_equal(apid_token_set_umask(t, 01000), APID_EINVAL);
        assert_int_equal(apid_token_set_rlimit(t, RLIMIT_NOFILE, 300, 200), APID_EINVAL);
        assert_int_equal(apid_token_set_rlimit(t, 999, 1, 1), APID_EINVAL);
        apid_token_free(t);
}

/* A default token's resource limits, not the caller's (raised here to its
 * hard limit first). */
static void default_resource_limits(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        const char *argv[] = { "/bin/sed", "s/  */ /g", "/proc/self/limits", NULL };
        struct rlimit saved, raised, nofile;
        char out[4096], line[128], *text = NULL;

        assert_int_equal(getrlimit(RLIMIT_NPROC, &saved), 0);
        if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 8192)
                skip(); /* the defaults never exceed the caller's hard limit */
        raised.rlim_cur = raised.rlim_max = saved.rlim_max;
        assert_int_equal(setrlimit(RLIMIT_NPROC, &raised), 0);
        apid_token_free(t);
        t = token_for(f->ctx, "web", 0);
        assert_int_equal(run_capture(t, argv, out, sizeof(out)), 0);
        assert_int_equal(setrlimit(RLIMIT_NPROC, &saved), 0);
        assert_non_null(strstr(out, "Max processes 4096 4096 processes"));
        assert_non_null(strstr(out, "Max core file size 0 0 bytes"));
        assert_non_null(strstr(out, "Max locked memory 8388608 8388608 bytes"));
        assert_non_null(strstr(out, "Max nice priority 0 0"));
        assert_non_null(strstr(out, "Max realtime priority 0 0"));
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &nofile), 0);
        snprintf(line, sizeof(line), "Max open files 1024 %llu files",
                 nofile.rlim_max < 524288 ? (unsigned long long)nofile.rlim_max : 524288ULL);
        assert_non_null(strstr(out, line));
        must(apid_token_describe(t, &text));
        assert_non_null(strstr(text, "rlimit RLIMIT_NPROC: 4096 soft, 4096 hard\n"));
        assert_non_null(strstr(text, "rlimit RLIMIT_CORE: 0 soft, 0 hard\n"));
        apid_free(text);
        /* The caller overrides a default. */
        must(apid_token_set_rlimit(t, RLIMIT_NPROC, 50, 60));
        assert_int_equal(run_capture(t, argv, out, sizeof(out)), 0);
        assert_non_null(strstr(out, "Max processes 50 60 processes"));
        apid_token_free(t);
}

static void closed_stdin_is_dev_null(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        const char *argv[] = { "/bin/sh", "-c", "readlink /proc/self/fd/0", NULL };
        apid_launch_attr *attr = NULL;
        apid_process *p = NULL;
        char out[256];
        int fds[2], saved;
        ssize_t n;

        assert_int_equal(pipe(fds), 0); /* above 2: 0, 1 and 2 are open */
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_pass_fd(attr, fds[1], 1));
        saved = dup(0);
        close(0); /* the caller has no stdin when it launches */
        must(apid_launch(t, attr, argv[0], argv, &p));
        assert_int_equal(dup2(saved, 0), 0);
        close(saved);
        close(fds[1]);
        n = read(fds[0], out, sizeof(out) - 1);
        close(fds[0]);
        out[n > 0 ? n : 0] = '\0';
        must(apid_process_wait(p, -1));
        assert_string_equal(out, "/dev/null\n");
        apid_process_free(p);
        apid_launch_attr_free(attr);
        apid_token_free(t);
}

static void failures_name_the_step(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        apid_launch_attr *attr = NULL;
        apid_process *p = NULL;
        const char *missing[] = { "/nonexistent/program", NULL };
        const char *ok[] = { "/bin/true", NULL };
        char expect[128];

        assert_int_equal(apid_launch(t, NULL, missing[0], missing, &p), APID_ENOTFOUND);
        assert_string_equal(apid_error_message(), "execve(/nonexistent/program): No such file or directory");
        assert_int_equal(apid_error_errno(), ENOENT);
        assert_null(p);
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_set_cwd(attr, "/root"));
        assert_int_equal(apid_launch(t, attr, ok[0], ok, &p), APID_EPERM);
        assert_string_equal(apid_error_message(), "chdir(/root): Permission denied");
        must(apid_token_set_rlimit(t, RLIMIT_NOFILE, 64, 64));
        must(apid_launch_attr_set_cwd(attr, NULL));
        must(apid_launch(t, attr, "true", ok, &p)); /* found in the token's PATH */
        must(apid_process_wait(p, -1));
        assert_int_equal(apid_process_exit_code(p), 0);
        apid_process_free(p);
        assert_int_equal(apid_launch_attr_set_cwd(attr, "relative"), APID_EINVAL);
        assert_int_equal(apid_launch_attr_pass_fd(attr, 12345, 3), APID_EINVAL);
        assert_int_equal(apid_token_keep_cap(t, "cap_fly"), APID_EINVAL);
        assert_string_equal(apid_error_message(), "capability 'cap_fly': unknown");
        assert_int_equal(apid_token_deny_syscall(t, "nosuchcall"), APID_EINVAL);
        assert_int_equal(apid_token_keep_cap(t, "CAP_SETPCAP"), APID_EINVAL);
        assert_non_null(strstr(apid_error_message(), "could unlock its securebits"));
        {
                /* A passed descriptor closed before the launch is an error, not silence. */
                int fds[2];

                assert_int_equal(pipe(fds), 0);
                must(apid_launch_attr_pass_fd(attr, fds[0], 5));
                close(fds[0]);
                close(fds[1]);
                assert_int_equal(apid_launch(t, attr, ok[0], ok, &p), APID_EINVAL);
                assert_non_null(strstr(apid_error_message(), "is closed"));
        }
        assert_int_equal(apid_token_setenv(t, "A=B", "x"), APID_EINVAL);
        snprintf(expect, sizeof(expect), "%s", "");
        apid_launch_attr_free(attr);
        apid_token_free(t);
}

static void not_root_is_told_what_is_missing(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        int fds[2], status;
        char msg[512] = "";
        pid_t pid;

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        if (pid == 0) {
                const char *argv[] = { "/bin/true", NULL };
                apid_process *p = NULL;
                int r;

                if (setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(2);
                r = apid_launch(t, NULL, argv[0], argv, &p);
                if (write(fds[1], apid_error_message(), strlen(apid_error_message())) < 0)
                        _exit(3);
                _exit(r == APID_EPERM ? 0 : 1);
        }
        close(fds[1]);
        if (read(fds[0], msg, sizeof(msg) - 1) < 0)
                msg[0] = '\0';
        close(fds[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("unprivileged launch: status %d, message %s", status, msg);
        assert_non_null(strstr(msg, "needs CAP_SETUID, CAP_SETGID and CAP_SETPCAP"));
        assert_non_null(strstr(msg, "lacks CAP_SETUID, CAP_SETGID, CAP_SETPCAP"));
        apid_token_free(t);
}

static void pidfd_wait_signal_and_no_zombie(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        const char *sleeper[] = { "/bin/sleep", "30", NULL };
        apid_process *p = NULL;
        struct pollfd pfd;
        pid_t pid;

        must(apid_launch(t, NULL, sleeper[0], sleeper, &p));
        assert_int_equal(apid_process_wait(p, 0), APID_EBUSY);
        pfd.fd = apid_process_get_fd(p);
        pfd.events = POLLIN;
        assert_int_equal(poll(&pfd, 1, 50), 0); /* running: not readable */
        must(apid_process_signal(p, SIGTERM));
        assert_int_equal(poll(&pfd, 1, 5000), 1); /* exited: readable */
        must(apid_process_wait(p, -1));
        assert_int_equal(apid_process_term_signal(p), SIGTERM);
        assert_int_equal(apid_process_exit_code(p), -1);
        assert_int_equal(apid_process_signal(p, SIGTERM), APID_ESYS);
        apid_process_free(p);
        /* Freeing a running process kills and reaps it. */
        must(apid_launch(t, NULL, sleeper[0], sleeper, &p));
        pid = apid_process_get_pid(p);
        apid_process_free(p);
        assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
        assert_int_equal(kill(pid, 0), -1);
        apid_token_free(t);
}

struct threaded {
        apid_token *t;
        int failures;
};

static void *launch_many(void *arg)
{
        struct threaded *th = arg;
        const char *argv[] = { "/bin/true", NULL };
        int i;

        for (i = 0; i < 40; i++) {
                apid_process *p = NULL;

                if (apid_launch(th->t, NULL, argv[0], argv, &p) != APID_OK || apid_process_wait(p, -1) != APID_OK ||
                    apid_process_exit_code(p) != 0)
                        __atomic_add_fetch(&th->failures, 1, __ATOMIC_RELAXED);
                apid_process_free(p);
        }
        return NULL;
}

static void launches_from_many_threads(void **state)
{
        struct fixture *f = *state;
        struct threaded th = { token_for(f->ctx, "web", 0), 0 };
        pthread_t threads[4];
        int i;

        for (i = 0; i < 4; i++)
                assert_int_equal(pthread_create(&threads[i], NULL, launch_many, &th), 0);
        for (i = 0; i < 4; i++)
                pthread_join(threads[i], NULL);
        assert_int_equal(th.failures, 0);
        apid_token_free(th.t);
}

static void kept_capability_and_passed_socket(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        const char *argv[] = { "/bin/sh", "-c",
                               "grep -E '^Cap(Eff|Amb|Bnd)' /proc/self/status | tr -d '\\t'; ls /proc/$$/fd",
                               NULL };
        apid_launch_attr *attr = NULL;
        apid_process *p = NULL;
        char out[1024];
        int fds[2], sock;
        ssize_t n, got = 0;

        must(apid_token_keep_cap(t, "CAP_NET_BIND_SERVICE"));
        sock = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(pipe(fds), 0);
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_pass_fd(attr, fds[1], 1));
        must(apid_launch_attr_pass_fd(attr, sock, 3));
        must(apid_launch(t, attr, argv[0], argv, &p));
        close(fds[1]);
        while ((n = read(fds[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
                got += n;
        out[got] = '\0';
        close(fds[0]);
        close(sock);
        must(apid_process_wait(p, -1));
        /* Only CAP_NET_BIND_SERVICE (bit 10), in every set it needs; and only the
         * descriptors given (listed with no pipeline running: a shell holds
         * pipe ends while it starts one). */
        assert_string_equal(out, "CapEff:0000000000000400\nCapBnd:0000000000000400\nCapAmb:0000000000000400\n0\n1\n2\n3\n");
        apid_process_free(p);
        apid_launch_attr_free(attr);
        apid_token_free(t);
}

static void apply_self_in_a_child(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        uint32_t uid = pool_uid(f->ctx, "web", NULL);
        int status;
        pid_t pid = fork();

        if (pid == 0) {
                if (apid_token_apply_self(t) != APID_OK)
                        _exit(1);
                if (getuid() != uid || geteuid() != uid || getgid() != uid || setuid(0) == 0)
                        _exit(2);
                if (prctl_nnp() != 1)
                        _exit(3);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        apid_token_free(t);
}

static void *idle_thread(void *arg)
{
        (void)arg;
        pause();
        return NULL;
}

static void apply_self_refuses_threads(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        int status;
        pid_t pid = fork();

        if (pid == 0) {
                pthread_t th;

                pthread_create(&th, NULL, idle_thread, NULL);
                _exit(apid_token_apply_self(t) == APID_EINVAL && strstr(apid_error_message(), "2 threads") ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(WEXITSTATUS(status), 0);
        apid_token_free(t);
}

/* apid_launch_exec(): refusals leave the process as it was (the same uid,
 * its handlers, its descriptors), and the caller goes on; a failure after the
 * first step exits 127 with the message on stderr. */
static void launch_exec_refuses_and_fails(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        const char *argv[] = { "true", NULL }, *missing[] = { "/nonexistent/x", NULL };
        char out[512] = "";
        int status, pfd[2];
        pid_t pid;

        assert_int_equal(apid_launch_exec(NULL, NULL, "true", argv), APID_EINVAL);
        assert_int_equal(apid_launch_exec(t, NULL, NULL, argv), APID_EINVAL);
        assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
        pid = fork();
        if (pid == 0) {
                /* A process group leader cannot start the worker's session. */
                if (setpgid(0, 0) < 0 || apid_launch_exec(t, NULL, "true", argv) != APID_EBUSY ||
                    !strstr(apid_error_message(), "leads its process group"))
                        _exit(1);
                if (getuid() != 0 || fcntl(pfd[1], F_GETFD) < 0)
                        _exit(2); /* nothing changed */
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        pid = fork();
        if (pid == 0) {
                pthread_t th;

                pthread_create(&th, NULL, idle_thread, NULL);
                _exit(apid_launch_exec(t, NULL, "true", argv) == APID_EINVAL &&
                      strstr(apid_error_message(), "2 threads") && getuid() == 0 ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        pid = fork();
        if (pid == 0) {
                const char *notfound[] = { "apid-no-such-program", NULL };

                if (apid_launch_exec(t, NULL, "apid-no-such-program", notfound) != APID_ENOTFOUND)
                        _exit(1);
                dup2(pfd[1], 2);
                /* Not returning: the execve fails after the identity change. */
                _exit(apid_launch_exec(t, NULL, "/nonexistent/x", missing) < 0 ? 2 : 3);
        }
        close(pfd[1]);
        assert_true(read(pfd[0], out, sizeof(out) - 1) > 0);
        close(pfd[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 127);
        assert_non_null(strstr(out, "execve(/nonexistent/x): No such file or directory\n"));
        apid_token_free(t);
}

/* The worker it becomes: the pool's ids, no_new_privs, its pid the caller's. */
static void launch_exec_becomes_the_worker(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        const char *argv[] = { "/bin/sh", "-c", "echo $$ $(id -u) $(grep NoNewPrivs /proc/self/status | cut -f2)",
                               NULL };
        uint32_t uid = pool_uid(f->ctx, "web", NULL);
        apid_launch_attr *attr = NULL;
        char out[256] = "", want[256];
        int status, pfd[2];
        ssize_t n;
        pid_t pid;

        assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_pass_fd(attr, pfd[1], 1));
        pid = fork();
        if (pid == 0) {
                _exit(apid_launch_exec(t, attr, argv[0], argv) < 0 ? 98 : 99);
        }
        close(pfd[1]);
        n = read(pfd[0], out, sizeof(out) - 1);
        assert_true(n > 0);
        close(pfd[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        snprintf(want, sizeof(want), "%d %u 1\n", (int)pid, uid);
        assert_string_equal(out, want);
        apid_launch_attr_free(attr);
        apid_token_free(t);
}

/* ---- attacks that need the administrator's side simulated ---- */

/* Count the "blocked" and "ESCAPED" lines of a report (printing escapes);
 * returns the number of attempts. */
static int tally(char *report, int *blocked, int *escaped)
{
        char *line, *save = NULL;
        int n = 0;

        for (line = strtok_r(report, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                n++;
                if (strncmp(line, "blocked ", 8) == 0) {
                        (*blocked)++;
                } else if (strncmp(line, "ESCAPED ", 8) == 0) {
                        (*escaped)++;
                        print_message("%s\n", line);
                } else {
                        n--;
                        print_message("unexpected: %s\n", line);
                }
        }
        return n;
}

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The administrator launches a worker from an interactive terminal (a pty
 * here), waits for it, and types a password once the launch is over. */
static int attack_tty(apid_token *t, int *blocked, int *escaped)
{
        apid_launch_attr *attr = NULL;
        char report[4096], pty[128];
        int m, rep[2], status, n;
        pid_t launcher;

        m = posix_openpt(O_RDWR | O_NOCTTY);
        assert_true(m >= 0);
        assert_int_equal(grantpt(m), 0);
        assert_int_equal(unlockpt(m), 0);
        snprintf(pty, sizeof(pty), "%s", ptsname(m));
        assert_int_equal(pipe(rep), 0);
        launcher = fork();
        if (launcher == 0) {
                const char *argv[] = { scenes_program, "tty", pty, NULL };
                apid_process *p = NULL;
                int s = open(pty, O_RDWR | O_NOCTTY);

                if (s < 0 || dup2(s, 0) < 0 || dup2(s, 1) < 0 || dup2(s, 2) < 0)
                        _exit(2);
                close(s);
                close(m);
                close(rep[0]);
                if (apid_launch_attr_new(&attr) != APID_OK || apid_launch_attr_pass_fd(attr, rep[1], 3) != APID_OK ||
                    apid_launch(t, attr, argv[0], argv, &p) != APID_OK || apid_process_wait(p, -1) != APID_OK)
                        _exit(3);
                _exit(0);
        }
        close(rep[1]);
        assert_int_equal(waitpid(launcher, &status, 0), launcher);
        assert_int_equal(status, 0);
        /* The launch is over; the administrator types at the prompt. */
        assert_int_equal(write(m, "hunter2\n", 8), 8);
        read_all(rep[0], report, sizeof(report)); /* until the left-behind process is done */
        close(rep[0]);
        close(m);
        n = tally(report, blocked, escaped);
        assert_int_equal(n, 6);
        return n;
}

/* The administrator's session keyring holds a key; a worker (without the
 * seccomp filter, which would deny keyctl anyway) looks for it. */
static int attack_keyring(apid_token *t, int *blocked, int *escaped)
{
        char report[4096];
        int rep[2], status, n;
        pid_t launcher;

        assert_int_equal(pipe(rep), 0);
        launcher = fork();
        if (launcher == 0) {
                static const char desc[] = "apid-escape-root-key";
                static const char secret[] = "root-keyring-secret";
                char serial[32], session[32];
                const char *argv[] = { scenes_program, "keyring", serial, desc, session, NULL };
                apid_launch_attr *attr = NULL;
                apid_process *p = NULL;
                long ses, key;

                /* A keyring of this launcher only: the machine's keyrings stay as they are. */
                ses = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL);
                if (ses < 0 && (errno == ENOSYS || errno == EPERM))
                        _exit(77); /* no keyrings here (or a container's filter): nothing to inherit */
                key = syscall(SYS_add_key, "user", desc, secret, strlen(secret), KEY_SPEC_SESSION_KEYRING);
                if (ses < 0 || key < 0)
                        _exit(2);
                snprintf(serial, sizeof(serial), "%ld", key);
                snprintf(session, sizeof(session), "%ld", ses);
                close(rep[0]);
                if (apid_token_set_seccomp(t, 0) != APID_OK || apid_launch_attr_new(&attr) != APID_OK ||
                    apid_launch_attr_pass_fd(attr, rep[1], 3) != APID_OK ||
                    apid_launch(t, attr, argv[0], argv, &p) != APID_OK || apid_process_wait(p, -1) != APID_OK)
                        _exit(3);
                _exit(0);
        }
        close(rep[1]);
        read_all(rep[0], report, sizeof(report));
        close(rep[0]);
        assert_int_equal(waitpid(launcher, &status, 0), launcher);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
                print_message("SKIP the keyring attacks: keyctl is not available here\n");
                return 0;
        }
        assert_int_equal(status, 0);
        n = tally(report, blocked, escaped);
        assert_int_equal(n, 4);
        return n;
}

/* A pool stops the launch child once it runs as the pool, before execve.
 * To hit that window every time, the launcher holds execve for a seccomp
 * listener (SECCOMP_RET_USER_NOTIF); the listener is the stopper, a process
 * running as the pool, which sends SIGSTOP to the pid it is told about. The
 * launch must come back, failed, within its bound (5 s by default). */
/* after_failure: the child fails a step after its uid change (a working
 * directory that does not exist), writes its report, and is stopped on its
 * way out (exit_group held) instead of before execve. */
static int attack_stall(apid_token *t, uint32_t uid, uint32_t timeout_ms, int after_failure, int *blocked,
                        int *escaped)
{
        int res[2], stop[2], hold[2], status, r = -1, kill_r = -1, kill_errno = 0, stopped = 0;
        char line[1024] = "", how[1200];
        struct pollfd pfd;
        double ms = -1;
        pid_t launcher;

        assert_int_equal(pipe(res), 0);
        assert_int_equal(pipe(stop), 0);
        assert_int_equal(pipe(hold), 0);
        launcher = fork();
        if (launcher == 0) {
                struct sock_filter code[] = {
                        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, after_failure ? __NR_exit_group : __NR_execve, 0, 1),
                        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
                        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                };
                struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };
                const char *argv[] = { "/bin/true", NULL };
                apid_launch_attr *attr = NULL;
                apid_process *p = NULL;
                int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                            SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
                pid_t stopper;
                double t0;

                if (listener < 0)
                        _exit(2);
                stopper = fork();
                if (stopper == 0) {
                        struct seccomp_notif req;
                        char c;

                        close(res[1]);
                        if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                                syscall(SYS_exit, 2);
                        memset(&req, 0, sizeof(req));
                        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
                                syscall(SYS_exit, 3);
                        r = kill((pid_t)req.pid, SIGSTOP);
                        dprintf(stop[1], "%u %d %d\n", req.pid, r, r < 0 ? errno : 0);
                        close(stop[1]);
                        /* Keep the listener until the test is done. */
                        close(hold[1]);
                        if (read(hold[0], &c, 1) < 0)
                                syscall(SYS_exit, 4);
                        syscall(SYS_exit, 0); /* exit_group may be held */
                }
                close(listener);
                close(stop[1]);
                close(hold[1]);
                if (apid_launch_attr_new(&attr) != APID_OK || apid_launch_attr_set_timeout(attr, timeout_ms) != APID_OK ||
                    (after_failure && apid_launch_attr_set_cwd(attr, "/nonexistent") != APID_OK))
                        _exit(5);
                t0 = now_ms();
                r = apid_launch(t, attr, argv[0], argv, &p);
                dprintf(res[1], "%d %.0f %s\n", r, now_ms() - t0, r == APID_OK ? "started" : apid_error_message());
                close(res[1]);
                apid_process_free(p);
                waitpid(stopper, NULL, 0); /* it exits once the test is done with it */
                /* exit, not exit_group: the latter may be held by the filter. */
                syscall(SYS_exit, 0);
                _exit(0);
        }
        close(res[1]);
        close(stop[1]);
        close(hold[0]);
        pfd.fd = res[0];
        pfd.events = POLLIN;
        if (poll(&pfd, 1, 20000) == 1) {
                ssize_t n = read(res[0], line, sizeof(line) - 1); /* one write, one line */

                line[n > 0 ? n : 0] = '\0';
                sscanf(line, "%d %lf", &r, &ms);
        }
        {
                char s[128] = "";
                unsigned pid = 0;

                pfd.fd = stop[0];
                if (poll(&pfd, 1, 5000) == 1)
                        read_all(stop[0], s, sizeof(s));
                if (sscanf(s, "%u %d %d", &pid, &kill_r, &kill_errno) == 3 && kill_r == 0)
                        stopped = (int)pid;
        }
        if (ms < 0) {
                snprintf(how, sizeof(how), "apid_launch had not returned after 20 s (child %d stopped)", stopped);
                kill(launcher, SIGKILL);
                if (stopped > 0)
                        kill(stopped, SIGKILL);
        } else {
                line[strcspn(line, "\n")] = '\0';
                snprintf(how, sizeof(how), "%s", line);
        }
        close(hold[1]);
        close(res[0]);
        close(stop[0]);
        assert_int_equal(waitpid(launcher, &status, 0), launcher);
        /* The attack ran: the stopper, as the pool, stopped the child. */
        if (!stopped)
                fail_msg("the stopper did not stop the launch child (kill: %d, errno %d; launch: %s)", kill_r,
                         kill_errno, line);
        print_message("stall attack: %s\n", how);
        if (ms < 0 || r == APID_OK || ms > (timeout_ms ? timeout_ms : 5000) + 4000) {
                (*escaped)++;
                print_message("ESCAPED stall a launch by stopping the child after its uid change: %s\n", how);
        } else {
                (*blocked)++;
                /* The child was killed and reaped by the launch, which said why. */
                assert_int_equal(kill(stopped, 0), -1);
                snprintf(how, sizeof(how),
                         after_failure ? "the child failed but did not exit within %u ms"
                                       : "the child had not reached execve after %u ms",
                         timeout_ms ? timeout_ms : 5000);
                assert_non_null(strstr(line, how));
                assert_true(ms >= (timeout_ms ? timeout_ms : 5000) - 50);
        }
        return 1;
}

/* A launcher confined by its service (the host's unit keeps a few
 * capabilities in its bounding set): the launch reads which are already
 * gone and drops the rest; every worker, the first and the later ones (which
 * go by what the first found), has an empty bounding set, or just what its
 * token keeps. */
static void bounding_set_from_a_confined_launcher(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0), *kept = token_for(f->ctx, "web", 0);
        const char *argv[] = { "/bin/grep", "CapBnd", "/proc/self/status", NULL };
        int status, i, c;
        pid_t pid;

        must(apid_token_keep_cap(kept, "CAP_NET_BIND_SERVICE"));
        pid = fork();
        if (pid == 0) {
                char out[256];

                for (c = 0; c <= CAP_LAST_CAP_TEST; c++)
                        if (c != 5 && c != 6 && c != 7 && c != 8 && c != 10 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
                            errno != EINVAL)
                                _exit(2);
                for (i = 0; i < 6; i++) {
                        const char *want = i % 2 ? "CapBnd:\t0000000000000400\n" : "CapBnd:\t0000000000000000\n";

                        if (run_capture(i % 2 ? kept : t, argv, out, sizeof(out)) != 0 || strcmp(out, want) != 0) {
                                fprintf(stderr, "launch %d: %s", i, out);
                                _exit(1);
                        }
                }
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(status, 0);
        apid_token_free(t);
        apid_token_free(kept);
}

/* ---- a launch child the kernel will not let die ---- */

/* A FUSE server that answers INIT, then holds the first LOOKUP without an
 * answer: the task that asked sleeps uninterruptibly (SIGKILL included) once
 * the request has been read, until the server goes. It writes the pid of that
 * task to `held`, then waits for `release` and exits (which aborts the
 * connection). */
static void fuse_hold(int fuse, int held, int release)
{
        static char buf[256 * 1024];
        char c;

        for (;;) {
                ssize_t n = read(fuse, buf, sizeof(buf));
                struct fuse_in_header *in = (struct fuse_in_header *)buf;
                struct {
                        struct fuse_out_header h;
                        struct fuse_init_out init;
                } out;

                if (n < 0 && (errno == EINTR || errno == ENOENT))
                        continue;
                if (n < (ssize_t)sizeof(*in))
                        _exit(2);
                memset(&out, 0, sizeof(out));
                out.h.unique = in->unique;
                out.h.len = sizeof(out.h);
                if (in->opcode == FUSE_INIT) {
                        out.init.major = FUSE_KERNEL_VERSION;
                        out.init.minor = FUSE_KERNEL_MINOR_VERSION;
                        out.init.max_write = 4096;
                        out.h.len = sizeof(out);
                } else if (in->opcode == FUSE_LOOKUP) {
                        dprintf(held, "%u\n", in->pid);
                        if (read(release, &c, 1) < 0)
                                _exit(3);
                        _exit(0);
                } else {
                        out.h.error = -ENOSYS;
                }
                if (write(fuse, &out, out.h.len) != (ssize_t)out.h.len)
                        _exit(4);
        }
}

/* The start of the mapping of /proc/self/maps that holds addr, or 0. */
static unsigned long mapping_of(unsigned long addr)
{
        FILE *f = fopen("/proc/self/maps", "re");
        unsigned long lo, hi, found = 0;
        char line[512];

        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi)
                        found = lo;
        if (f)
                fclose(f);
        return found;
}

static char proc_state(pid_t pid)
{
        char path[64], line[512], *p, state = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "re");
        if (f && fgets(line, sizeof(line), f) && (p = strrchr(line, ')')))
                state = p[2];
        if (f)
                fclose(f);
        return state;
}

#define STUCK_FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); _exit(1); } while (0)

/* In a child with its own mount namespace: a launch whose child hangs in the
 * kernel past the deadline and the grace after SIGKILL; then the hang ends. */
static void stuck_launch(struct fixture *f, apid_token *t)
{
        const char *argv[] = { "/bin/true", NULL };
        char dir[512], cwd[600], opts[256], path[64], line[512] = "";
        int fuse, held[2], release[2], pidfd, status;
        unsigned long sp = 0, area;
        apid_launch_attr *attr = NULL;
        apid_process *p = NULL;
        struct pollfd pfd;
        pid_t server, child = 0;
        FILE *sys;
        int r;

        snprintf(dir, sizeof(dir), "%s/hung-fs", f->dir);
        snprintf(cwd, sizeof(cwd), "%s/stall", dir);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                _exit(77);
        fuse = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", fuse);
        if (fuse < 0 || mkdir(dir, 0755) < 0 || chmod(f->dir, 0755) < 0 ||
            mount("apid-hung", dir, "fuse", MS_NOSUID | MS_NODEV, opts) < 0)
                _exit(77);
        if (pipe(held) < 0 || pipe(release) < 0)
                STUCK_FAIL("pipe");
        server = fork();
        if (server == 0) {
                close(release[1]);
                fuse_hold(fuse, held[1], release[0]);
        }
        close(fuse);
        close(held[1]);
        close(release[0]);
        /* This thread's area exists from here on. */
        if (apid_launch(t, NULL, argv[0], argv, &p) != APID_OK || apid_process_wait(p, -1) != APID_OK)
                STUCK_FAIL("a first launch: %s", apid_error_message());
        apid_process_free(p);
        if (apid_launch_attr_new(&attr) != APID_OK || apid_launch_attr_set_cwd(attr, cwd) != APID_OK ||
            apid_launch_attr_set_timeout(attr, 200) != APID_OK)
                STUCK_FAIL("attr: %s", apid_error_message());
        r = apid_launch(t, attr, argv[0], argv, &p);
        if (r == APID_OK || !strstr(apid_error_message(), "had not reached execve"))
                STUCK_FAIL("the stuck launch: %d %s", r, apid_error_message());
        pfd.fd = held[0];
        pfd.events = POLLIN;
        if (poll(&pfd, 1, 0) != 1 || read(held[0], line, sizeof(line) - 1) <= 0 || sscanf(line, "%d", &child) != 1)
                STUCK_FAIL("the server saw no lookup");
        /* The scene: the child, killed, still in the kernel on our memory. */
        if (proc_state(child) != 'D')
                STUCK_FAIL("child %d: state %c, not in uninterruptible sleep", (int)child, proc_state(child));
        snprintf(path, sizeof(path), "/proc/%d/syscall", (int)child);
        sys = fopen(path, "re");
        if (!sys || !fgets(line, sizeof(line), sys) ||
            sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %lx", &sp) != 1 || !(area = mapping_of(sp)))
                STUCK_FAIL("child %d: no stack pointer in our memory (%s)", (int)child, line);
        fclose(sys);
        pidfd = (int)syscall(SYS_pidfd_open, child, 0);
        if (pidfd < 0)
                STUCK_FAIL("pidfd_open %d", (int)child);
        /* The hang ends: the child dies (a zombie until someone reaps it). */
        close(release[1]);
        pfd.fd = pidfd;
        if (poll(&pfd, 1, 10000) != 1)
                STUCK_FAIL("child %d did not die once the file system went", (int)child);
        /* The next launch reaps it and unmaps its area. */
        if (apid_launch(t, NULL, argv[0], argv, &p) != APID_OK || apid_process_wait(p, -1) != APID_OK)
                STUCK_FAIL("the launch after: %s", apid_error_message());
        apid_process_free(p);
        if (proc_state(child))
                STUCK_FAIL("child %d: left a zombie (state %c)", (int)child, proc_state(child));
        if (mapping_of(sp))
                STUCK_FAIL("child %d: its area (sp %#lx in the mapping at %#lx) is still mapped", (int)child, sp,
                           mapping_of(sp));
        close(pidfd);
        waitpid(server, &status, 0);
        apid_launch_attr_free(attr);
        _exit(0);
}

/* A launch child that outlives its deadline and the grace after SIGKILL (in
 * uninterruptible sleep on a hung FUSE file system) is neither left a zombie
 * nor its memory leaked: a later launch reaps it and unmaps its area. */
static void stuck_child_is_reaped_later(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "hung", 0);
        pid_t pid;
        int status;

        pid = fork();
        if (pid == 0)
                stuck_launch(f, t);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        apid_token_free(t);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
                print_message("SKIP: no FUSE here (/dev/fuse, or mounting in a mount namespace)\n");
                return;
        }
        assert_int_equal(status, 0);
}

/* The launch deadline is the caller's to choose. */
static void launch_timeout_is_settable(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        int blocked = 0, escaped = 0;

        assert_int_equal(attack_stall(t, pool_uid(f->ctx, "web", NULL), 300, 0, &blocked, &escaped), 1);
        assert_int_equal(blocked, 1);
        /* Stopped after it reported a failed step, on its way out. */
        assert_int_equal(attack_stall(t, pool_uid(f->ctx, "web", NULL), 300, 1, &blocked, &escaped), 1);
        assert_int_equal(blocked, 2);
        assert_int_equal(escaped, 0);
        apid_token_free(t);
}

static void escape_suite(void **state)
{
        struct fixture *f = *state;
        apid_token *alpha = token_for(f->ctx, "alpha", 1), *beta = token_for(f->ctx, "beta", 1);
        const char *sleeper[] = { "/bin/sleep", "60", NULL };
        uint32_t beta_uid = pool_uid(f->ctx, "beta", NULL);
        char beta_file[700], root_file[512], beta_profile[512], suid[512], other[16], parent[16], secret[16];
        char report[8192], cmd[2000];
        apid_launch_attr *attr = NULL;
        apid_process *victim = NULL, *worker = NULL;
        int fds[2], secret_fd, blocked = 0, escaped = 0, attempts = -1, escapes = -1, cwd_fd, r;
        ssize_t n, got = 0;
        char *line, *save = NULL;

        /* Another pool's private file and profile, root's private file, a setuid-root binary. */
        snprintf(beta_profile, sizeof(beta_profile), "%s/profiles/apppool-beta", f->dir);
        snprintf(beta_file, sizeof(beta_file), "%s/private", beta_profile);
        close(open(beta_file, O_CREAT | O_WRONLY, 0600));
        assert_int_equal(chown(beta_file, beta_uid, beta_uid), 0);
        assert_int_equal(chmod(f->dir, 0755), 0);
        snprintf(root_file, sizeof(root_file), "%s/root-secret", f->dir);
        close(open(root_file, O_CREAT | O_WRONLY, 0600));
        snprintf(suid, sizeof(suid), "%s/suid-id", f->dir);
        snprintf(cmd, sizeof(cmd), "cp /usr/bin/id '%s' && chown root:root '%s' && chmod 4755 '%s'", suid, suid, suid);
        assert_int_equal(system(cmd), 0);
        /* A worker of another pool to attack, and a secret the parent holds open. */
        must(apid_launch(beta, NULL, sleeper[0], sleeper, &victim));
        secret_fd = open(root_file, O_RDONLY); /* not O_CLOEXEC: only the launch may close it */
        assert_true(secret_fd > 3);
        setenv("SECRET_TOKEN", "hunter2", 1);
        setenv("LD_PRELOAD", "/nonexistent/evil.so", 1);
        snprintf(other, sizeof(other), "%d", apid_process_get_pid(victim));
        snprintf(parent, sizeof(parent), "%d", getpid());
        snprintf(secret, sizeof(secret), "%d", secret_fd);
        const char *argv[] = { escape_program, other, parent, beta_file, root_file, beta_profile, suid, secret, NULL };
        assert_int_equal(pipe(fds), 0);
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_pass_fd(attr, fds[1], 3));
        /* The caller's working directory is inside the other pool's 0700 profile. */
        snprintf(cmd, sizeof(cmd), "%s/site", beta_profile);
        assert_int_equal(mkdir(cmd, 0755), 0);
        assert_int_equal(chown(cmd, beta_uid, beta_uid), 0);
        cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(chdir(cmd), 0);
        close(open("beta-only-marker", O_CREAT | O_WRONLY, 0644));
        r = apid_launch(alpha, attr, escape_program, argv, &worker);
        assert_int_equal(fchdir(cwd_fd), 0);
        close(cwd_fd);
        must(r);
        unsetenv("SECRET_TOKEN");
        unsetenv("LD_PRELOAD");
        close(fds[1]);
        while ((n = read(fds[0], report + got, sizeof(report) - 1 - (size_t)got)) > 0)
                got += n;
        report[got] = '\0';
        close(fds[0]);
        must(apid_process_wait(worker, -1));
        for (line = strtok_r(report, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "blocked ", 8) == 0)
                        blocked++;
                else if (strncmp(line, "ESCAPED ", 8) == 0) {
                        escaped++;
                        print_message("%s\n", line);
                } else if (sscanf(line, "attempts %d escapes %d", &attempts, &escapes) != 2)
                        print_message("unexpected: %s\n", line);
        }
        /* The attacks with the administrator's side simulated. */
        attempts += attack_tty(alpha, &blocked, &escaped);
        attempts += attack_keyring(alpha, &blocked, &escaped);
        attempts += attack_stall(alpha, pool_uid(f->ctx, "alpha", NULL), 0, 0, &blocked, &escaped);
        print_message("escape suite: %d attempts, %d blocked, %d succeeded\n", attempts, blocked, escaped);
        assert_int_equal(escapes, 0);
        assert_int_equal(escaped, 0);
        assert_int_equal(apid_process_exit_code(worker), 0);
        assert_true(attempts >= 53);
        assert_int_equal(attempts, blocked);
        /* The victim lived through it. */
        assert_int_equal(apid_process_wait(victim, 0), APID_EBUSY);
        close(secret_fd);
        apid_process_free(victim);
        apid_process_free(worker);
        apid_launch_attr_free(attr);
        apid_token_free(alpha);
        apid_token_free(beta);
}

/* The case: a token that denies openat, socket and connect, and a
 * worker that tries them through an io_uring, whose operations seccomp
 * never sees. The allow-list closes the ring itself. */
static void io_uring_cannot_bypass_the_deny_list(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "ring", 1);
        const char *argv[] = { escape_static, "--io-uring", NULL };
        char report[2048], *line, *save = NULL;
        apid_launch_attr *attr = NULL;
        apid_process *p = NULL;
        int fds[2], attempts = -1, escapes = -1, blocked = 0;
        ssize_t n, got = 0;

        must(apid_token_deny_syscall(t, "openat"));
        must(apid_token_deny_syscall(t, "socket"));
        must(apid_token_deny_syscall(t, "connect"));
        assert_int_equal(pipe(fds), 0);
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_pass_fd(attr, fds[1], 3));
        must(apid_launch(t, attr, escape_static, argv, &p));
        close(fds[1]);
        while ((n = read(fds[0], report + got, sizeof(report) - 1 - (size_t)got)) > 0)
                got += n;
        report[got] = '\0';
        close(fds[0]);
        must(apid_process_wait(p, -1));
        for (line = strtok_r(report, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "blocked ", 8) == 0)
                        blocked++;
                else if (sscanf(line, "attempts %d escapes %d", &attempts, &escapes) != 2)
                        print_message("%s\n", line);
        }
        assert_int_equal(attempts, 4);
        assert_int_equal(escapes, 0);
        assert_int_equal(blocked, 4);
        assert_int_equal(apid_process_exit_code(p), 0);
        apid_process_free(p);
        apid_launch_attr_free(attr);
        apid_token_free(t);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, root_setup, fixture_teardown)
                T(worker_runs_as_the_pool),
                T(umask_rlimit_and_setenv),
                T(default_resource_limits),
                T(default_working_directory),
                T(terminal_only_when_asked),
                T(failures_name_the_step),
                T(closed_stdin_is_dev_null),
                T(not_root_is_told_what_is_missing),
                T(pidfd_wait_signal_and_no_zombie),
                T(launches_from_many_threads),
                T(kept_capability_and_passed_socket),
                T(bounding_set_from_a_confined_launcher),
                T(apply_self_in_a_child),
                T(apply_self_refuses_threads),
                T(launch_exec_refuses_and_fails),
                T(launch_exec_becomes_the_worker),
                T(launch_timeout_is_settable),
                T(stuck_child_is_reaped_later),
                T(escape_suite),
                T(io_uring_cannot_bypass_the_deny_list),
        };

        if (argc < 3) {
                fprintf(stderr, "usage: test-launch ESCAPE_PROGRAM ESCAPE_SCENES_PROGRAM\n");
                return 2;
        }
        escape_program = realpath(argv[1], NULL);
        scenes_program = realpath(argv[2], NULL);
        if (!escape_program || !scenes_program) {
                perror(argv[escape_program ? 2 : 1]);
                return 2;
        }
        escape_static = argc > 3 ? realpath(argv[3], NULL) : NULL;
        if (!escape_static) {
                perror(argc > 3 ? argv[3] : "usage: test-launch ESCAPE_PROGRAM ESCAPE_SCENES_PROGRAM ESCAPE_STATIC");
                return 2;
        }
        unsetenv(APID_STATE_DIR_ENV);
        if (geteuid() != 0) {
                printf("SKIP: the launch suite needs root (it changes uids)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
