/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The default seccomp filter is an allow-list, and a practical one: real
 * programs run under a default token (a real pool uid) and do their work:
 * a shell pipeline, python3 serving a file with http.server, the example
 * worker serving a file, mono running a C# program. Each fetch is checked
 * with curl, byte for byte. Then the errno a closed call fails with, the
 * deny list on top, and the filter switched off. Needs root (skips
 * otherwise). Usage: test-filter APPPOOL_WORKER|none */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdlib.h>

#include <cmocka.h>

#include "testutil.h"
#include "testutil-state.h"

static const char *worker_program;

static int root_setup(void **state)
{
        struct fixture *f;

        if (geteuid() != 0) {
                print_message("SKIP: launching under another identity needs root\n");
                return -1;
        }
        fixture_setup(state);
        f = *state;
        /* The pool must reach the files the tests put here. */
        assert_int_equal(chmod(f->dir, 0755), 0);
        return 0;
}

static apid_token *token_for(apid_ctx *ctx, const char *pool_name)
{
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        apid_token *t = NULL;

        must(apid_pool_create(ctx, pool_name, &pool));
        must(apid_pool_set(pool, "processModel.loadUserProfile", "true"));
        must(apid_pool_get_identity(pool, &id));
        must(apid_token_new(id, &t));
        apid_identity_free(id);
        apid_pool_free(pool);
        return t;
}

/* Launch argv under t with stdout on a pipe (and, if listen_fd >= 0, that
 * socket as descriptor 3); *out_fd receives the read end. */
static apid_process *launch_piped(apid_token *t, const char *const *argv, int listen_fd, int *out_fd)
{
        apid_launch_attr *attr = NULL;
        apid_process *p = NULL;
        int fds[2];

        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        must(apid_launch_attr_new(&attr));
        must(apid_launch_attr_pass_fd(attr, fds[1], 1));
        if (listen_fd >= 0)
                must(apid_launch_attr_pass_fd(attr, listen_fd, 3));
        must(apid_launch(t, attr, argv[0], argv, &p));
        close(fds[1]);
        apid_launch_attr_free(attr);
        *out_fd = fds[0];
        return p;
}

/* Everything the worker writes to stdout until it closes it; exit code. */
static int run_all(apid_token *t, const char *const *argv, char *out, size_t size)
{
        apid_process *p;
        ssize_t n, got = 0;
        int fd, code;

        p = launch_piped(t, argv, -1, &fd);
        while ((n = read(fd, out + got, size - 1 - (size_t)got)) > 0)
                got += n;
        close(fd);
        out[got] = '\0';
        must(apid_process_wait(p, -1));
        code = apid_process_exit_code(p);
        if (code != 0)
                print_message("%s exited with %d (signal %d); output: %s\n", argv[0], code,
                              apid_process_term_signal(p), out);
        apid_process_free(p);
        return code;
}

/* A file for the servers: DIR/site/hello.txt, readable by everyone. */
static void make_site(struct fixture *f, char *docroot, size_t size, const char *content)
{
        char path[600];
        int fd;

        snprintf(docroot, size, "%s/site", f->dir);
        assert_int_equal(mkdir(docroot, 0755), 0);
        snprintf(path, sizeof(path), "%s/hello.txt", docroot);
        fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
        close(fd);
}

/* Fetch http://127.0.0.1:port/hello.txt with curl (as root, outside the
 * pool) and compare it with what was written. */
static void curl_matches(struct fixture *f, int port, const char *content)
{
        char cmd[1400], path[600], got[4096];
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "%s/fetched", f->dir);
        snprintf(cmd, sizeof(cmd), "curl -sSf --max-time 30 -o '%s' http://127.0.0.1:%d/hello.txt", path, port);
        assert_int_equal(system(cmd), 0);
        fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        n = read(fd, got, sizeof(got) - 1);
        close(fd);
        assert_true(n >= 0);
        got[n] = '\0';
        assert_string_equal(got, content);
        unlink(path);
}

static void shell_pipelines(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "shell");
        const char *ls[] = { "/bin/sh", "-c", "ls / | sort | head -n 3 | wc -l", NULL };
        const char *text[] = { "/bin/sh", "-c",
                               "printf 'b\\na\\nc\\n' | sort -r | sed s/b/x/ | awk '{printf \"%s\", toupper($0)}'; "
                               "seq 1 200 | xargs -n 7 echo | grep -c 7; expr 6 '*' 7",
                               NULL };
        char out[4096];

        assert_int_equal(run_all(t, ls, out, sizeof(out)), 0);
        assert_string_equal(out, "3\n");
        assert_int_equal(run_all(t, text, out, sizeof(out)), 0);
        assert_string_equal(out, "CXA22\n42\n");
        apid_token_free(t);
}

static void python_http_server(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "python");
        const char *content = "served by python3 under an allow-list\n";
        char docroot[512], line[512];
        const char *argv[] = { "/usr/bin/python3", "-u", "-m", "http.server", "--bind", "127.0.0.1",
                               "--directory", docroot, "0", NULL };
        apid_process *p;
        size_t got = 0;
        int fd, port = 0;
        char c;

        if (access(argv[0], X_OK) != 0) {
                print_message("SKIP: %s is missing\n", argv[0]);
                apid_token_free(t);
                skip();
        }
        make_site(f, docroot, sizeof(docroot), content);
        p = launch_piped(t, argv, -1, &fd);
        /* "Serving HTTP on 127.0.0.1 port N (...)": printed once it listens. */
        while (got < sizeof(line) - 1 && read(fd, &c, 1) == 1 && c != '\n')
                line[got++] = c;
        line[got] = '\0';
        assert_int_equal(sscanf(line, "Serving HTTP on 127.0.0.1 port %d", &port), 1);
        curl_matches(f, port, content);
        must(apid_process_signal(p, SIGTERM));
        must(apid_process_wait(p, -1));
        assert_int_equal(apid_process_term_signal(p), SIGTERM);
        close(fd);
        apid_process_free(p);
        apid_token_free(t);
}

static void example_worker_serves_a_file(void **state)
{
        struct fixture *f = *state;
        apid_token *t;
        const char *content = "served by apppool-worker under an allow-list\n";
        char docroot[512], rest[256];
        const char *argv[] = { worker_program, docroot, NULL };
        struct sockaddr_in sin;
        socklen_t len = sizeof(sin);
        apid_process *p;
        int lst, fd;

        if (!worker_program) {
                print_message("SKIP: the examples are not built\n");
                skip();
        }
        t = token_for(f->ctx, "worker");
        make_site(f, docroot, sizeof(docroot), content);
        lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(lst, (struct sockaddr *)&sin, sizeof(sin)), 0);
        assert_int_equal(listen(lst, 16), 0);
        assert_int_equal(getsockname(lst, (struct sockaddr *)&sin, &len), 0);
        p = launch_piped(t, argv, lst, &fd);
        close(lst);
        curl_matches(f, ntohs(sin.sin_port), content);
        /* SIGTERM: it finishes and exits 0. */
        must(apid_process_signal(p, SIGTERM));
        must(apid_process_wait(p, -1));
        assert_int_equal(apid_process_exit_code(p), 0);
        (void)!read(fd, rest, sizeof(rest));
        close(fd);
        apid_process_free(p);
        apid_token_free(t);
}

static void mono_program(void **state)
{
        struct fixture *f = *state;
        apid_token *t;
        static const char source[] =
                "using System; using System.IO; using System.Linq; using System.Threading.Tasks;\n"
                "class Hello { static int Main() {\n"
                "  var sum = Task.Run(() => Enumerable.Range(1, 1000).Sum()).Result;\n"
                "  var sorted = new[] { 3, 1, 2 }.OrderBy(x => x).ToArray();\n"
                "  var tmp = Path.Combine(Environment.GetEnvironmentVariable(\"HOME\"), \"mono.txt\");\n"
                "  File.WriteAllText(tmp, \"written\"); var back = File.ReadAllText(tmp); File.Delete(tmp);\n"
                "  GC.Collect(); GC.WaitForPendingFinalizers();\n"
                "  Console.WriteLine(\"hello from mono {0} {1} {2}\", sum, string.Join(\",\", sorted), back);\n"
                "  return 0; } }\n";
        char src[600], exe[600], cmd[2000], out[4096];
        const char *argv[] = { "/usr/bin/mono", exe, NULL };
        FILE *s;

        if (access("/usr/bin/mono", X_OK) != 0 || access("/usr/bin/mcs", X_OK) != 0) {
                print_message("SKIP: mono or mcs is missing (.ci/deps installs mono-runtime and mono-mcs)\n");
                skip();
        }
        t = token_for(f->ctx, "mono");
        snprintf(src, sizeof(src), "%s/hello.cs", f->dir);
        snprintf(exe, sizeof(exe), "%s/hello.exe", f->dir);
        s = fopen(src, "w");
        assert_non_null(s);
        fputs(source, s);
        fclose(s);
        snprintf(cmd, sizeof(cmd), "mcs -nologo -out:'%s' '%s' && chmod 0644 '%s'", exe, src, exe);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(run_all(t, argv, out, sizeof(out)), 0);
        assert_string_equal(out, "hello from mono 500500 1,2,3 written\n");
        apid_token_free(t);
}

/* The documented errno of each kind of closed call, seen from python3
 * (through libc's wrappers, and syscall() for the numbers every
 * architecture shares since Linux 5.1). */
static void closed_calls_errno(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "errno");
        const char *argv[] = {
                "/usr/bin/python3", "-c",
                "import ctypes, errno\n"
                "libc = ctypes.CDLL(None, use_errno=True)\n"
                "def e(r):\n"
                "    return errno.errorcode.get(ctypes.get_errno(), '?') if r == -1 else 'ok'\n"
                "buf = ctypes.create_string_buffer(120)\n"
                "print(e(libc.syscall(425, 4, buf)),\n"        /* io_uring_setup: closed, EPERM */
                "      e(libc.syscall(447, 0)),\n"             /* memfd_secret: closed, ENOSYS */
                "      e(libc.unshare(0x10000000)),\n"         /* unshare(CLONE_NEWUSER): EPERM */
                "      e(libc.personality(0x400000)),\n"       /* READ_IMPLIES_EXEC: not listed, ENOSYS */
                "      e(libc.personality(0xffffffff)),\n"     /* the query: allowed */
                "      e(libc.syscall(1023)),\n"               /* never assigned: ENOSYS */
                "      e(libc.getpid()))\n",
                NULL };
        char out[4096];

        if (access(argv[0], X_OK) != 0) {
                apid_token_free(t);
                skip();
        }
        assert_int_equal(run_all(t, argv, out, sizeof(out)), 0);
        assert_string_equal(out, "EPERM ENOSYS EPERM ENOSYS ok ENOSYS ok\n");
        apid_token_free(t);
}

/* apid_token_deny_syscall() on top of the allow-list: a listed call
 * (socket) fails with EPERM; the rest still works. */
static void deny_list_on_top(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "deny");
        const char *argv[] = { "/usr/bin/python3", "-c",
                               "import socket\n"
                               "try:\n"
                               "    socket.socket(); print('socket opened')\n"
                               "except OSError as e:\n"
                               "    print(e.errno)\n",
                               NULL };
        char out[4096], *text = NULL, expect[32];

        must(apid_token_deny_syscall(t, "socket"));
        must(apid_token_deny_syscall(t, "io_uring_setup")); /* closed already: still EPERM */
        assert_int_equal(run_all(t, argv, out, sizeof(out)), 0);
        snprintf(expect, sizeof(expect), "%d\n", EPERM);
        assert_string_equal(out, expect);
        must(apid_token_describe(t, &text));
        assert_non_null(strstr(text, "seccomp: allow-list"));
#if defined(__x86_64__)
        {
                /* The program is the compacted one (libseccomp's own is some 460). */
                const char *n = strstr(text, "process (");
                assert_non_null(n);
                assert_true(atoi(n + 9) > 50 && atoi(n + 9) < 250);
        }
#endif
        assert_non_null(strstr(text, "\nseccomp deny (EPERM): socket io_uring_setup\n"));
        /* socket is no longer shown as allowed */
        assert_null(strstr(text, " socket socketpair"));
        apid_free(text);
        apid_token_free(t);
}

/* apid_token_set_seccomp(token, 0): no filter at all. */
static void filter_off(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "nofilter");
        const char *argv[] = { "/bin/sh", "-c", "grep '^Seccomp:' /proc/self/status | tr -d ' \\t'", NULL };
        char out[4096], *text = NULL;

        assert_int_equal(run_all(t, argv, out, sizeof(out)), 0);
        assert_string_equal(out, "Seccomp:2\n");
        must(apid_token_set_seccomp(t, 0));
        assert_int_equal(run_all(t, argv, out, sizeof(out)), 0);
        assert_string_equal(out, "Seccomp:0\n");
        must(apid_token_describe(t, &text));
        assert_non_null(strstr(text, "\nseccomp: off\n"));
        apid_free(text);
        apid_token_free(t);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, root_setup, fixture_teardown)
                T(shell_pipelines),
                T(python_http_server),
                T(example_worker_serves_a_file),
                T(mono_program),
                T(closed_calls_errno),
                T(deny_list_on_top),
                T(filter_off),
        };

        if (argc < 2) {
                fprintf(stderr, "usage: test-filter APPPOOL_WORKER|none\n");
                return 2;
        }
        if (strcmp(argv[1], "none") != 0 && access(argv[1], X_OK) == 0)
                worker_program = argv[1];
        unsetenv(APID_STATE_DIR_ENV);
        if (geteuid() != 0) {
                printf("SKIP: the filter suite needs root (it changes uids)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
