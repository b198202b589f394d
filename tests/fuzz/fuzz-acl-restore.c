/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz the reader of ACL save files (the getfacl format): parse, check and
 * dry-run a restore against an empty directory. Properties: no crash, no
 * leak, nothing written, every refusal explains itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apppoolid.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apid_ctx *ctx;
static char dir[64] = "/tmp/apid-fuzz-XXXXXX", file[96];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        FILE *f;
        int r;

        if (!ctx) {
                if (!mkdtemp(dir) || apid_ctx_new(&ctx) != APID_OK || apid_ctx_set_state_dir(ctx, dir) != APID_OK)
                        abort();
                snprintf(file, sizeof(file), "%s/input.acl", dir);
        }
        f = fopen(file, "w");
        if (!f)
                abort();
        fwrite(data, 1, size, f);
        fclose(f);
        r = apid_acl_restore(ctx, file, dir, 0x8 /* APID_ACL_DRY_RUN */);
        if (r != APID_OK && apid_error_message()[0] == '\0')
                abort();
        return 0;
}
