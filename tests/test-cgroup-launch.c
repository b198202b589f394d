/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Launching into cgroups (apid_launch_attr_add_cgroup()): real cgroups made
 * below the test's own, real workers; the worker's /proc/self/cgroup says
 * where it runs, a memory limit kills a worker that passes it, and cgroups the
 * kernel refuses fail the launch with the file named. Every cgroup made is
 * removed. Needs root and a mounted cgroup file system (skips otherwise). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "testutil-state.h"

/* A hierarchy: its mount point and our cgroup in it ("" for the root). */
struct hier {
        char mount[512], own[1024];
};

/* controller NULL: cgroup v2. */
static int find_hier(const char *controller, struct hier *h)
{
        char line[4096];
        FILE *f = fopen("/proc/self/mountinfo", "re");
        int found = 0;

        if (!f)
                return -1;
        while (!found && fgets(line, sizeof(line), f)) {
                char mnt[512], fstype[64], super[1024], *dash = strstr(line, " - "), *opt, *save = NULL;

                if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
                    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
                        continue;
                if (!controller)
                        found = strcmp(fstype, "cgroup2") == 0;
                else if (strcmp(fstype, "cgroup") == 0)
                        for (opt = strtok_r(super, ",", &save); opt && !found; opt = strtok_r(NULL, ",", &save))
                                found = strcmp(opt, controller) == 0;
                if (found)
                        snprintf(h->mount, sizeof(h->mount), "%s", mnt);
        }
        fclose(f);
        if (!found || !(f = fopen("/proc/self/cgroup", "re")))
                return -1;
        found = 0;
        while (!found && fgets(line, sizeof(line), f)) {
                char *names = strchr(line, ':'), *path = names ? strchr(names + 1, ':') : NULL, *opt, *save = NULL;

                if (!path)
                        continue;
                *path++ = '\0';
                path[strcspn(path, "\n")] = '\0';
                names++;
                if (!controller)
                        found = names[0] == '\0';
                else
                        for (opt = strtok_r(names, ",", &save); opt && !found; opt = strtok_r(NULL, ",", &save))
                                found = strcmp(opt, controller) == 0;
                if (found)
                        snprintf(h->own, sizeof(h->own), "%s", strcmp(path, "/") == 0 ? "" : path);
        }
        fclose(f);
        return found ? 0 : -1;
}

/* Every cgroup a test made, removed by the teardown even when the test failed. */
static char made[8][2048];
static int n_made;

/* Make the test's cgroup NAME in a hierarchy; its descriptor, or -1 (with
 * a skip message) when the hierarchy is missing or not ours to change. */
static int make_cgroup(const char *controller, const char *name, char *path, size_t size)
{
        struct hier h;
        int fd;

        if (find_hier(controller, &h) < 0) {
                print_message("SKIP: no %s hierarchy\n", controller ? controller : "cgroup v2");
                return -1;
        }
        snprintf(path, size, "%s%s/%s-%d", h.mount, h.own, name, (int)getpid());
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                print_message("SKIP: mkdir %s: %s\n", path, strerror(errno));
                return -1;
        }
        if (n_made < 8)
                snprintf(made[n_made++], sizeof(made[0]), "%s", path);
        fd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static void remove_cgroup(int fd, const char *path)
{
        int tries;

        close(fd);
        /* A reaped worker leaves its cgroup at once; allow the kernel a moment all the same. */
        for (tries = 0; rmdir(path) < 0 && errno == EBUSY && tries < 100; tries++)
                usleep(10000);
        assert_int_equal(access(path, F_OK), -1);
}

static apid_token *token_for(apid_ctx *ctx, const char *pool_name)
{
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        apid_token *t = NULL;

        if (apid_pool_open(ctx, pool_name, &pool) != APID_OK)
                must(apid_pool_create(ctx, pool_name, &pool));
        must(apid_pool_get_identity(pool, &id));
        must(apid_token_new(id, &t));
        apid_identity_free(id);
        apid_pool_free(pool);
        return t;
}

/* Run argv under t in the cgroups cg[0..n), stdout captured; the process is reaped. */
static apid_process *run(apid_token *t, const int *cg, int n_cg, const char *const *argv, char *out, size_t size)
{
        apid_launch_attr *attr = NULL;
        apid_process *p = NULL;
        int fds[2], i;
        ssize_t n, got = 0;

        assert_int_equal(pipe(fds), 0);
        must(apid_launch_attr_new(&attr));
        for (i = 0; cg && i < n_cg; i++)
                must(apid_launch_attr_add_cgroup(attr, cg[i]));
        must(apid_launch_attr_pass_fd(attr, fds[1], 1));
        must(apid_launch(t, attr, argv[0], argv, &p));
        apid_launch_attr_free(attr);
        close(fds[1]);
        while ((n = read(fds[0], out + got, size - 1 - (size_t)got)) > 0)
                got += n;
        close(fds[0]);
        out[got] = '\0';
        must(apid_process_wait(p, -1));
        return p;
}

/* The line of /proc/self/cgroup text for a hierarchy ("0::" or ":memory:"). */
static void assert_in_cgroup(const char *text, const char *key, const char *path)
{
        struct hier h;
        char want[2048];

        assert_int_equal(find_hier(strcmp(key, "0::") == 0 ? NULL : key, &h), 0);
        /* The worker's path is the directory below the mount point. */
        snprintf(want, sizeof(want), "%s%s\n", strcmp(key, "0::") == 0 ? "0::" : "", path + strlen(h.mount));
        if (strcmp(key, "0::") == 0) {
                if (!strstr(text, want))
                        fail_msg("not in %s: %s", path, text);
        } else {
                char needle[2100];

                snprintf(needle, sizeof(needle), ":%s:%s\n", key, path + strlen(h.mount));
                if (!strstr(text, needle))
                        fail_msg("not in %s: %s", path, text);
        }
}

static void born_in_a_cgroup_v2(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "cgv2");
        const char *argv[] = { "/bin/cat", "/proc/self/cgroup", NULL };
        apid_process *p;
        char path[2048], out[4096];
        int fd = make_cgroup(NULL, "apid-test-v2", path, sizeof(path));

        if (fd < 0) {
                apid_token_free(t);
                skip();
        }
        p = run(t, &fd, 1, argv, out, sizeof(out));
        assert_int_equal(apid_process_exit_code(p), 0);
        assert_in_cgroup(out, "0::", path);
        apid_process_free(p);
        apid_token_free(t);
        remove_cgroup(fd, path);
}

static void joins_v1_hierarchies(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "cgv1");
        const char *argv[] = { "/bin/cat", "/proc/self/cgroup", NULL };
        apid_process *p;
        char mem[2048], pids[2048], out[4096];
        int mfd = make_cgroup("memory", "apid-test-v1", mem, sizeof(mem)), pfd, both[3];

        if (mfd < 0) {
                apid_token_free(t);
                skip();
        }
        pfd = make_cgroup("pids", "apid-test-v1", pids, sizeof(pids));
        if (pfd < 0) {
                remove_cgroup(mfd, mem);
                apid_token_free(t);
                skip();
        }
        both[0] = mfd, both[1] = pfd, both[2] = mfd; /* a v1 cgroup given again changes nothing */
        p = run(t, both, 3, argv, out, sizeof(out));
        assert_int_equal(apid_process_exit_code(p), 0);
        assert_in_cgroup(out, "memory", mem);
        assert_in_cgroup(out, "pids", pids);
        apid_process_free(p);
        {
                /* The worker cannot leave: writing itself into the hierarchy's
                 * root (as root could) is refused, and it stays where it was put. */
                struct hier h;
                char script[1200];
                const char *leave[] = { "/bin/sh", "-c", script, NULL };

                assert_int_equal(find_hier("memory", &h), 0);
                snprintf(script, sizeof(script),
                         "echo 0 > %s/cgroup.procs 2>/dev/null && echo escaped; cat /proc/self/cgroup", h.mount);
                p = run(t, both, 2, leave, out, sizeof(out));
                assert_null(strstr(out, "escaped"));
                assert_in_cgroup(out, "memory", mem);
                apid_process_free(p);
        }
        apid_token_free(t);
        remove_cgroup(mfd, mem);
        remove_cgroup(pfd, pids);
}

/* The limit holds for the worker: one that allocates past it is killed. */
static void memory_limit_holds(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "cgmem");
        const char *argv[] = { "/usr/bin/python3", "-c", "x = b'x' * (256 << 20); print('survived')", NULL };
        const char *small[] = { "/usr/bin/python3", "-c", "x = b'x' * (4 << 20); print('fits')", NULL };
        apid_process *p;
        char path[2048], out[4096], file[2100];
        int fd = make_cgroup("memory", "apid-test-mem", path, sizeof(path)), w;

        if (fd < 0) {
                apid_token_free(t);
                skip();
        }
        snprintf(file, sizeof(file), "%s/memory.limit_in_bytes", path);
        w = open(file, O_WRONLY | O_CLOEXEC);
        assert_true(w >= 0);
        assert_int_equal(write(w, "67108864", 8), 8);
        close(w);
        /* With swap, the same limit on memory and swap together. */
        snprintf(file, sizeof(file), "%s/memory.memsw.limit_in_bytes", path);
        if ((w = open(file, O_WRONLY | O_CLOEXEC)) >= 0) {
                assert_int_equal(write(w, "67108864", 8), 8);
                close(w);
        }
        /* Outside the cgroup the same program gets its memory. */
        p = run(t, NULL, 0, argv, out, sizeof(out));
        assert_string_equal(out, "survived\n");
        apid_process_free(p);
        p = run(t, &fd, 1, small, out, sizeof(out));
        assert_string_equal(out, "fits\n");
        apid_process_free(p);
        p = run(t, &fd, 1, argv, out, sizeof(out));
        assert_int_equal(apid_process_term_signal(p), SIGKILL);
        assert_string_equal(out, "");
        apid_process_free(p);
        apid_token_free(t);
        remove_cgroup(fd, path);
}

static void refusals(void **state)
{
        struct fixture *f = *state;
        apid_token *t = token_for(f->ctx, "cgbad");
        const char *argv[] = { "/bin/true", NULL };
        apid_launch_attr *attr = NULL;
        apid_process *p = NULL;
        char path[2048], v2path[2048], expect[2300];
        int tmp = open("/tmp", O_DIRECTORY | O_RDONLY | O_CLOEXEC), fd, v2;

        must(apid_launch_attr_new(&attr));
        assert_int_equal(apid_launch_attr_add_cgroup(attr, -1), APID_EINVAL);
        assert_int_equal(apid_launch_attr_add_cgroup(NULL, tmp), APID_EINVAL);
        assert_int_equal(apid_launch_attr_add_cgroup(attr, 9999), APID_EINVAL);
        assert_int_equal(apid_launch_attr_add_cgroup(attr, tmp), APID_EINVAL);
        snprintf(expect, sizeof(expect), "cgroup %d: not a directory of a cgroup file system", tmp);
        assert_string_equal(apid_error_message(), expect);
        close(tmp);
        /* A cpuset without CPUs takes no process: the child's write fails, the
         * launch says which file, and nothing is left running. */
        fd = make_cgroup("cpuset", "apid-test-cpuset", path, sizeof(path));
        if (fd >= 0) {
                must(apid_launch_attr_add_cgroup(attr, fd));
                assert_int_equal(apid_launch(t, attr, argv[0], argv, &p), APID_ESYS);
                snprintf(expect, sizeof(expect), "write(%s/cgroup.procs): No space left on device", path);
                assert_string_equal(apid_error_message(), expect);
                assert_int_equal(apid_error_errno(), ENOSPC);
                assert_null(p);
                apid_launch_attr_free(attr);
                must(apid_launch_attr_new(&attr));
                /* Removed after it was given: the launch says so. */
                assert_int_equal(rmdir(path), 0);
                must(apid_launch_attr_add_cgroup(attr, fd));
                assert_int_equal(apid_launch(t, attr, argv[0], argv, &p), APID_ESYS);
                assert_non_null(strstr(apid_error_message(), "cannot open its cgroup.procs: No such file or directory"));
                close(fd);
                apid_launch_attr_free(attr);
                must(apid_launch_attr_new(&attr));
        }
        v2 = make_cgroup(NULL, "apid-test-v2bad", v2path, sizeof(v2path));
        if (v2 >= 0) {
                int again = open(v2path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
                int path_fd = open(v2path, O_PATH | O_DIRECTORY | O_CLOEXEC);

                assert_int_equal(apid_launch_attr_add_cgroup(attr, path_fd), APID_EINVAL);
                assert_non_null(strstr(apid_error_message(), "an O_PATH descriptor"));
                close(path_fd);

                must(apid_launch_attr_add_cgroup(attr, v2));
                assert_int_equal(apid_launch_attr_add_cgroup(attr, again), APID_EINVAL);
                assert_non_null(strstr(apid_error_message(), "is already given"));
                close(again);
                assert_int_equal(rmdir(v2path), 0);
                assert_int_equal(apid_launch(t, attr, argv[0], argv, &p), APID_ESYS);
                snprintf(expect, sizeof(expect), "clone3(CLONE_INTO_CGROUP, cgroup %d): ", v2);
                assert_non_null(strstr(apid_error_message(), expect));
                assert_null(p);
                close(v2);
        }
        apid_launch_attr_free(attr);
        apid_token_free(t);
}

static int root_setup(void **state)
{
        return fixture_setup(state);
}

static int remove_made(void **state)
{
        while (n_made > 0)
                rmdir(made[--n_made]); /* gone already when the test passed */
        return fixture_teardown(state);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(born_in_a_cgroup_v2, root_setup, remove_made),
                cmocka_unit_test_setup_teardown(joins_v1_hierarchies, root_setup, remove_made),
                cmocka_unit_test_setup_teardown(memory_limit_holds, root_setup, remove_made),
                cmocka_unit_test_setup_teardown(refusals, root_setup, remove_made),
        };

        unsetenv(APID_STATE_DIR_ENV);
        if (geteuid() != 0) {
                printf("SKIP: launching into cgroups needs root\n");
                return 77;
        }
        if (access("/proc/self/cgroup", R_OK) != 0) {
                printf("SKIP: no cgroups (/proc/self/cgroup)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
