/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz the example host's control-socket command parser (a message from an
 * administrator's client, examples/host/control.c). Properties: no crash;
 * either a command, or -1 with an error that starts "error: " and is a
 * NUL-terminated string of printable bytes (the offending value escaped);
 * a parsed command's verb is one of the four, list has no pool, the others
 * a pool name of 1 to CONTROL_NAME_MAX bytes, no control byte, that is
 * exactly the bytes after the first space (checked here independently). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/host/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const words[] = { "start", "stop", "recycle", "list" };
        struct control_cmd cmd;
        char error[512];
        const char *msg = (const char *)data, *space;
        size_t i, word, name_len;

        memset(error, 'x', sizeof(error));
        if (control_parse(msg, size, &cmd, error, sizeof(error)) < 0) {
                size_t len = strnlen(error, sizeof(error));

                if (len == sizeof(error) || strncmp(error, "error: ", 7) != 0)
                        abort();
                for (i = 0; i < len; i++)
                        if ((unsigned char)error[i] < 0x20 || error[i] == 0x7f)
                                abort();
                return 0;
        }
        if ((unsigned)cmd.verb > CONTROL_LIST || size > CONTROL_MSG_MAX)
                abort();
        space = memchr(msg, ' ', size);
        word = space ? (size_t)(space - msg) : size;
        if (word != strlen(words[cmd.verb]) || memcmp(msg, words[cmd.verb], word) != 0)
                abort();
        name_len = strnlen(cmd.pool, sizeof(cmd.pool));
        if (name_len == sizeof(cmd.pool))
                abort();
        if (cmd.verb == CONTROL_LIST) {
                if (name_len || space)
                        abort();
                return 0;
        }
        if (!space || name_len == 0 || name_len > CONTROL_NAME_MAX || name_len != size - word - 1 ||
            memcmp(cmd.pool, space + 1, name_len) != 0)
                abort();
        for (i = 0; i < name_len; i++)
                if ((unsigned char)cmd.pool[i] < 0x20 || cmd.pool[i] == 0x7f)
                        abort();
        return 0;
}
