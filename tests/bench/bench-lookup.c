/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark: look up a pool identity by name, through the API and through
 * NSS (getpwnam with libnss_apppoolid), against the alternative a user would
 * pick: the same number of static accounts in /etc/passwd (NSS "files").
 * Not a test: run it with tests/bench/run-bench-lookup.sh, which sets up a
 * private mount namespace so nothing on the system changes.
 * Usage: bench-lookup POOLS ITERATIONS */
#include <dlfcn.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apppoolid.h>

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double per_second(int iterations, double seconds)
{
        return iterations / seconds;
}

int main(int argc, char **argv)
{
        int pools = argc > 1 ? atoi(argv[1]) : 1000;
        int iterations = argc > 2 ? atoi(argv[2]) : 20000;
        char name[64], user[64];
        apid_ctx *ctx = NULL;
        double t, api_user, api_pool, nss, files, miss, module, module_uid, files_alone, files_uid_alone;
        enum nss_status (*getpwnam_module)(const char *, struct passwd *, char *, size_t, int *);
        void *handle;
        int err;
        struct passwd pw, *res;
        char buf[4096];
        int i;

        if (apid_ctx_new(&ctx) != APID_OK) {
                fprintf(stderr, "%s\n", apid_error_message());
                return 1;
        }
        /* Names looked up: spread over the registry, so a scan is not lucky. */
        t = now();
        for (i = 0; i < iterations; i++) {
                apid_identity *id = NULL;

                snprintf(user, sizeof(user), "apppool-pool%d", (i * 7919) % pools);
                if (apid_identity_from_user(ctx, user, &id) != APID_OK) {
                        fprintf(stderr, "api: %s\n", apid_error_message());
                        return 1;
                }
                apid_identity_free(id);
        }
        api_user = per_second(iterations, now() - t);

        t = now();
        for (i = 0; i < iterations; i++) {
                apid_pool *pool = NULL;
                apid_identity *id = NULL;

                snprintf(name, sizeof(name), "Pool%d", (i * 7919) % pools);
                if (apid_pool_open(ctx, name, &pool) != APID_OK || apid_pool_get_identity(pool, &id) != APID_OK) {
                        fprintf(stderr, "api: %s\n", apid_error_message());
                        return 1;
                }
                apid_identity_free(id);
                apid_pool_free(pool);
        }
        api_pool = per_second(iterations, now() - t);

        t = now();
        for (i = 0; i < iterations; i++) {
                snprintf(user, sizeof(user), "apppool-pool%d", (i * 7919) % pools);
                if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res) {
                        fprintf(stderr, "nss: %s not found: is apppoolid in nsswitch.conf?\n", user);
                        return 1;
                }
        }
        nss = per_second(iterations, now() - t);

        t = now();
        for (i = 0; i < iterations; i++) {
                snprintf(user, sizeof(user), "static%d", (i * 7919) % pools);
                if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res) {
                        fprintf(stderr, "files: %s not found in /etc/passwd\n", user);
                        return 1;
                }
        }
        files = per_second(iterations, now() - t);

        t = now();
        for (i = 0; i < iterations; i++)
                getpwnam_r("no-such-user-anywhere", &pw, buf, sizeof(buf), &res);
        miss = per_second(iterations, now() - t);

        /* The module alone, as glibc calls it, without the modules before it. */
        handle = dlopen("libnss_apppoolid.so.2", RTLD_NOW);
        getpwnam_module = NULL;
        if (handle) {
                void *sym = dlsym(handle, "_nss_apppoolid_getpwnam_r");

                memcpy(&getpwnam_module, &sym, sizeof(sym)); /* POSIX: dlsym returns functions as void * */
        }
        if (!getpwnam_module) {
                fprintf(stderr, "dlopen libnss_apppoolid.so.2: %s\n", dlerror());
                return 1;
        }
        t = now();
        for (i = 0; i < iterations; i++) {
                snprintf(user, sizeof(user), "apppool-pool%d", (i * 7919) % pools);
                if (getpwnam_module(user, &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS) {
                        fprintf(stderr, "module: %s not found\n", user);
                        return 1;
                }
        }
        module = per_second(iterations, now() - t);

        /* Each module alone, by name and by uid: apppoolid's against glibc's
         * files module (in libc since 2.34) on an /etc/passwd of as many
         * static accounts, in the same run. */
        {
                typedef enum nss_status (*byname_fn)(const char *, struct passwd *, char *, size_t, int *);
                typedef enum nss_status (*byuid_fn)(uid_t, struct passwd *, char *, size_t, int *);
                byname_fn files_name = NULL;
                byuid_fn mod_uid = NULL, files_uid = NULL;
                void *libc = dlopen("libc.so.6", RTLD_NOW), *sym;
                uid_t *uids = calloc((size_t)pools, sizeof(uid_t));

                sym = dlsym(handle, "_nss_apppoolid_getpwuid_r");
                memcpy(&mod_uid, &sym, sizeof(sym));
                sym = libc ? dlsym(libc, "_nss_files_getpwnam_r") : NULL;
                if (!sym) {
                        void *nss_files = dlopen("libnss_files.so.2", RTLD_NOW);

                        sym = nss_files ? dlsym(nss_files, "_nss_files_getpwnam_r") : NULL;
                        libc = nss_files;
                }
                memcpy(&files_name, &sym, sizeof(sym));
                sym = libc ? dlsym(libc, "_nss_files_getpwuid_r") : NULL;
                memcpy(&files_uid, &sym, sizeof(sym));
                if (!mod_uid || !files_name || !files_uid || !uids) {
                        fprintf(stderr, "module functions not found\n");
                        return 1;
                }
                for (i = 0; i < pools; i++) {
                        snprintf(user, sizeof(user), "apppool-pool%d", i);
                        if (getpwnam_module(user, &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS)
                                return 1;
                        uids[i] = pw.pw_uid;
                }
                t = now();
                for (i = 0; i < iterations; i++)
                        if (mod_uid(uids[(i * 7919) % pools], &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS) {
                                fprintf(stderr, "module: uid %u not found\n", (unsigned)uids[(i * 7919) % pools]);
                                return 1;
                        }
                module_uid = per_second(iterations, now() - t);
                t = now();
                for (i = 0; i < iterations; i++) {
                        snprintf(user, sizeof(user), "static%d", (i * 7919) % pools);
                        if (files_name(user, &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS) {
                                fprintf(stderr, "files module: %s not found\n", user);
                                return 1;
                        }
                }
                files_alone = per_second(iterations, now() - t);
                t = now();
                for (i = 0; i < iterations; i++)
                        if (files_uid((uid_t)(3000000 + (i * 7919) % pools), &pw, buf, sizeof(buf), &err) !=
                            NSS_STATUS_SUCCESS) {
                                fprintf(stderr, "files module: uid not found\n");
                                return 1;
                        }
                files_uid_alone = per_second(iterations, now() - t);
                free(uids);
        }

        printf("pools: %d, lookups per run: %d\n", pools, iterations);
        printf("%-58s %12.0f /s\n", "API  apid_identity_from_user(\"apppool-poolN\")", api_user);
        printf("%-58s %12.0f /s\n", "API  apid_pool_open(\"PoolN\") + apid_pool_get_identity", api_pool);
        printf("%-58s %12.0f /s\n", "NSS  getpwnam(\"apppool-poolN\") via libnss_apppoolid", nss);
        printf("%-58s %12.0f /s\n", "NSS  getpwnam(\"staticN\") via files (/etc/passwd)", files);
        printf("%-58s %12.0f /s\n", "     _nss_apppoolid_getpwnam_r alone (dlopen)", module);
        printf("%-58s %12.0f /s\n", "NSS  getpwnam of a missing name (files + apppoolid)", miss);
        printf("%-58s %12.0f /s\n", "     _nss_apppoolid_getpwuid_r alone (dlopen)", module_uid);
        printf("%-58s %12.0f /s\n", "     _nss_files_getpwnam_r alone (glibc, /etc/passwd)", files_alone);
        printf("%-58s %12.0f /s\n", "     _nss_files_getpwuid_r alone (glibc, /etc/passwd)", files_uid_alone);
        printf("ratio module alone / files module alone, by name: %.1f (goal >= 10)\n", module / files_alone);
        printf("ratio module alone / files module alone, by uid:  %.1f (goal >= 10)\n", module_uid / files_uid_alone);
        printf("ratio NSS apppoolid / files:        %.2f (glibc asks files and systemd first)\n", nss / files);
        printf("ratio module alone / files:         %.2f\n", module / files);
        printf("ratio API by user / NSS apppoolid:  %.2f\n", api_user / nss);
        printf("ratio API by pool / NSS apppoolid:  %.2f\n", api_pool / nss);
        apid_ctx_unref(ctx);
        return 0;
}
