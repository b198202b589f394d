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

#include <cmocka.h>

#include "testutil.h"
#include "testutil-state.h"

static const char *escape_program;

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


static void umask_rlimit_and_setenv(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "web", 0);
        const char *argv[] = { "/bin/sh", "-c", "umask; ulimit -n; echo $GREETING", NULL };
        char out[256];

        assert_int_equal(run_capture(t, argv, out, sizeof(out)), 0);
        assert_memory_equal(out, "0027\n", 5); /* the default umask; the limit is inherited */
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
                               "grep -E '^Cap(Eff|Amb|Bnd)' /proc/self/status | tr -d '\\t'; ls -v /proc/$$/fd",
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
        /* Only CAP_NET_BIND_SERVICE (bit 10), in every set it needs. */
        /* ls alone, not in a pipeline: the shell holds a pipeline's pipe ends
         * while it runs, and ls saw them now and then (4 5 6). */
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
        int fds[2], secret_fd, blocked = 0, escaped = 0, attempts = -1, escapes = -1;
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
        must(apid_launch(alpha, attr, escape_program, argv, &worker));
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
        print_message("escape suite: %d attempts, %d blocked, %d succeeded\n", attempts, blocked, escaped);
        assert_int_equal(escapes, 0);
        assert_int_equal(escaped, 0);
        assert_int_equal(apid_process_exit_code(worker), 0);
        assert_true(attempts >= 40);
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

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, root_setup, fixture_teardown)
                T(worker_runs_as_the_pool),
                T(umask_rlimit_and_setenv),
                T(failures_name_the_step),
                T(closed_stdin_is_dev_null),
                T(not_root_is_told_what_is_missing),
                T(pidfd_wait_signal_and_no_zombie),
                T(launches_from_many_threads),
                T(kept_capability_and_passed_socket),
                T(apply_self_in_a_child),
                T(apply_self_refuses_threads),
                T(escape_suite),
        };

        if (argc < 2) {
                fprintf(stderr, "usage: test-launch ESCAPE_PROGRAM\n");
                return 2;
        }
        escape_program = realpath(argv[1], NULL);
        if (!escape_program) {
                perror(argv[1]);
                return 2;
        }
        unsetenv(APID_STATE_DIR_ENV);
        if (geteuid() != 0) {
                printf("SKIP: the launch suite needs root (it changes uids)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
