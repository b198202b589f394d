/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Without libFuzzer: run a fuzz target over every file of its checked-in
 * corpus directories, as an ordinary test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
        uint8_t buf[1 << 16];
        size_t n;
        FILE *f = fopen(path, "rb");

        if (!f) {
                perror(path);
                return -1;
        }
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        return 0;
}

int main(int argc, char **argv)
{
        int i, runs = 0;

        for (i = 1; i < argc; i++) {
                struct dirent *e;
                DIR *d = opendir(argv[i]);

                if (!d) {
                        perror(argv[i]);
                        return 1;
                }
                while ((e = readdir(d))) {
                        char path[4096];

                        if (e->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
                        if (run_file(path) < 0) {
                                closedir(d);
                                return 1;
                        }
                        runs++;
                }
                closedir(d);
        }
        printf("%d inputs, no failure\n", runs);
        return runs > 0 ? 0 : 1;
}
