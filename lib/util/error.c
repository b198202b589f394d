/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The thread's last error, status texts, and apid_free(). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local struct {
        int status;
        int sys_errno;
        char message[1024];
} last_error;

int apid__fail(int status, int sys_errno, const char *fmt, ...)
{
        char message[sizeof(last_error.message)];
        va_list ap;

        /* Format into a buffer of its own: callers may pass the thread's
         * last message (apid_error_message()) as an argument, and writing it
         * while reading it is undefined (it garbled import errors). */
        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        last_error.status = status;
        last_error.sys_errno = sys_errno;
        memcpy(last_error.message, message, sizeof(message));
        return status;
}

void apid__error_save(struct apid__error_state *s)
{
        _Static_assert(sizeof(s->message) == sizeof(last_error.message), "same size");
        s->status = last_error.status;
        s->sys_errno = last_error.sys_errno;
        memcpy(s->message, last_error.message, sizeof(s->message));
}

int apid__error_restore(const struct apid__error_state *s)
{
        last_error.status = s->status;
        last_error.sys_errno = s->sys_errno;
        memcpy(last_error.message, s->message, sizeof(last_error.message));
        return s->status;
}

int apid__fail_oom(void)
{
        return apid__fail(APID_ENOMEM, ENOMEM, "out of memory");
}

void apid__quote(char *buf, size_t size, const char *text, size_t max)
{
        const unsigned char *s = (const unsigned char *)text;
        size_t len = strlen(text), i = 0, o = 0;

        if (size == 0)
                return;
        while (i < len && i < max) {
                uint32_t cp;
                size_t n = apid__utf8_decode(s + i, len - i, &cp);
                int printable = n > 0 && cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0);

                if (printable) {
                        if (o + n >= size)
                                break;
                        memcpy(buf + o, s + i, n);
                        o += n;
                        i += n;
                } else {
                        if (o + 4 >= size)
                                break;
                        snprintf(buf + o, size - o, "\\x%02X", s[i]);
                        o += 4;
                        i += 1;
                }
        }
        if (i < len && o + 3 < size) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o < size ? o : size - 1] = '\0';
}

APID_EXPORT const char *apid_strerror(int status)
{
        switch (status) {
        case APID_OK: return "success";
        case APID_EINVAL: return "invalid argument";
        case APID_ENOMEM: return "out of memory";
        case APID_ENOTFOUND: return "not found";
        case APID_EEXISTS: return "already exists";
        case APID_ECOLLISION: return "identity collision";
        case APID_EPERM: return "not privileged enough";
        case APID_ESYS: return "system call failed";
        case APID_EUNSUPPORTED: return "not supported";
        case APID_ERANGE: return "out of range";
        case APID_ECORRUPT: return "corrupt data";
        case APID_EBUSY: return "busy";
        default: return "unknown status";
        }
}

APID_EXPORT const char *apid_error_message(void)
{
        return last_error.message;
}

APID_EXPORT int apid_error_status(void)
{
        return last_error.status;
}

APID_EXPORT int apid_error_errno(void)
{
        return last_error.sys_errno;
}

APID_EXPORT void apid_free(void *ptr)
{
        free(ptr);
}
