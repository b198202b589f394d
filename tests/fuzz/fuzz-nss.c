/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz the NSS module's snapshot reader (it runs in every process that looks
 * up a user): the module is built into this target with the snapshot's path
 * a variable, the input becomes the snapshot, and every lookup is made with
 * caller buffers from 0 bytes up (each exactly the size passed, so ASan sees
 * a write past it), growing on ERANGE as glibc does. Every answer must have
 * an id from 65536 to 2^31 - 1, valid names, no ':' or newline in any field,
 * and every string inside the caller's buffer.
 * Input: byte 0 is a mode, the rest the file (lib/store/snapshot.h). With
 * bit 0 set, the header's size and check value are fixed up, so that the
 * fuzzer reaches the tables behind them (offsets, strings, indexes); names
 * looked up are the file's NUL-separated strings, ids every 4-byte value. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char snapshot_path[128];
#define APID_NSS_SNAPSHOT snapshot_path
#include "nss/nss-apppoolid.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void die(const char *what, const char *detail)
{
        fprintf(stderr, "fuzz-nss: %s: %s\n", what, detail ? detail : "");
        abort();
}

static void check_text(const char *s, const char *buf, size_t len, const char *what)
{
        if (!s || s < buf || s >= buf + len || memchr(s, '\0', (size_t)(buf + len - s)) == NULL)
                die("string outside the caller's buffer", what);
        if (strchr(s, ':') || strchr(s, '\n'))
                die("':' or newline in a field", what);
}

static void check_id(uint32_t id, const char *what)
{
        if (id < 65536u || id > 2147483647u)
                die("id outside 65536..2^31-1 answered", what);
}

static void check_passwd(const struct passwd *pw, const char *buf, size_t len)
{
        check_text(pw->pw_name, buf, len, "pw_name");
        check_text(pw->pw_passwd, buf, len, "pw_passwd");
        check_text(pw->pw_gecos, buf, len, "pw_gecos");
        check_text(pw->pw_dir, buf, len, "pw_dir");
        check_text(pw->pw_shell, buf, len, "pw_shell");
        if (!apid__posix_name_valid(pw->pw_name))
                die("invalid user name answered", pw->pw_name);
        if (pw->pw_dir[0] != '/')
                die("relative home answered", pw->pw_dir);
        check_id((uint32_t)pw->pw_uid, pw->pw_name);
        if (pw->pw_gid != pw->pw_uid)
                die("gid differs from uid", pw->pw_name);
}

static void check_group(const struct group *gr, const char *buf, size_t len)
{
        size_t i;

        check_text(gr->gr_name, buf, len, "gr_name");
        check_text(gr->gr_passwd, buf, len, "gr_passwd");
        if (!apid__posix_name_valid(gr->gr_name))
                die("invalid group name answered", gr->gr_name);
        check_id((uint32_t)gr->gr_gid, gr->gr_name);
        if ((const char *)gr->gr_mem < buf || (const char *)gr->gr_mem >= buf + len)
                die("member array outside the caller's buffer", gr->gr_name);
        for (i = 0; gr->gr_mem[i]; i++) {
                check_text(gr->gr_mem[i], buf, len, "gr_mem");
                if (!apid__posix_name_valid(gr->gr_mem[i]))
                        die("invalid member answered", gr->gr_mem[i]);
        }
}

enum lookup_kind { BY_PWNAM, BY_PWUID, BY_GRNAM, BY_GRGID, PW_ENT, GR_ENT };

/* One lookup, from a 0-byte buffer up, doubling on ERANGE. Returns the
 * final status. */
static enum nss_status lookup(enum lookup_kind q, const char *name, uint32_t id)
{
        size_t len = 0;

        for (;;) {
                char *buf = malloc(len ? len : 1);
                struct passwd pw = { 0 };
                struct group gr = { 0 };
                enum nss_status st;
                int err = 0;

                if (!buf)
                        die("malloc", NULL);
                switch (q) {
                case BY_PWNAM: st = _nss_apppoolid_getpwnam_r(name, &pw, buf, len, &err); break;
                case BY_PWUID: st = _nss_apppoolid_getpwuid_r((uid_t)id, &pw, buf, len, &err); break;
                case BY_GRNAM: st = _nss_apppoolid_getgrnam_r(name, &gr, buf, len, &err); break;
                case BY_GRGID: st = _nss_apppoolid_getgrgid_r((gid_t)id, &gr, buf, len, &err); break;
                case PW_ENT: st = _nss_apppoolid_getpwent_r(&pw, buf, len, &err); break;
                default: st = _nss_apppoolid_getgrent_r(&gr, buf, len, &err); break;
                }
                if (st == NSS_STATUS_SUCCESS) {
                        if (q == BY_PWNAM || q == BY_PWUID || q == PW_ENT)
                                check_passwd(&pw, buf, len);
                        else
                                check_group(&gr, buf, len);
                        if ((q == BY_PWUID && pw.pw_uid != id) || (q == BY_GRGID && gr.gr_gid != id))
                                die("answered another id", name);
                        if ((q == BY_PWNAM && !strchr(name, '\\') && strcmp(pw.pw_name, name) != 0) ||
                            (q == BY_GRNAM && !strchr(name, '\\') && strcmp(gr.gr_name, name) != 0))
                                die("answered another name", name);
                }
                free(buf);
                if (st == NSS_STATUS_TRYAGAIN && err != ERANGE)
                        die("TRYAGAIN without ERANGE", name);
                if (st != NSS_STATUS_TRYAGAIN)
                        return st;
                if (len > (64u << 20))
                        die("ERANGE past the snapshot's size", name);
                len = len ? len * 2 : 1;
        }
}

/* The header's check value (FNV-1a of the bytes before it), recomputed. */
static void fix_header(unsigned char *file, size_t size)
{
        struct apid__snap_header h;
        const unsigned char *p = (const unsigned char *)&h;
        uint32_t c = 2166136261u;
        size_t i;

        if (size < sizeof(h))
                return;
        memcpy(&h, file, sizeof(h));
        h.size = size;
        for (i = 0; i < offsetof(struct apid__snap_header, check); i++)
                c = (c ^ p[i]) * 16777619u;
        h.check = c;
        memcpy(file, &h, sizeof(h));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const fixed[] = { "root", "apppool-web", "IIS APPPOOL\\web", "iis apppool\\WEB" };
        char tmp[160], name[64];
        unsigned char *file;
        size_t i, n_file;
        FILE *f;
        int n;

        if (!dir[0]) {
                snprintf(dir, sizeof(dir), "%s", access("/dev/shm", W_OK) == 0 ? "/dev/shm/apid-nssfuzz-XXXXXX"
                                                                              : "/tmp/apid-nssfuzz-XXXXXX");
                if (!mkdtemp(dir))
                        die("mkdtemp", dir);
                snprintf(snapshot_path, sizeof(snapshot_path), "%s/nss-snapshot", dir);
                if (geteuid() != 0)
                        fprintf(stderr, "fuzz-nss: not root: the module trusts only root's snapshot, "
                                        "so every lookup is 'not found'\n");
        }
        if (size == 0)
                return 0;
        n_file = size - 1;
        file = malloc(n_file + 1);
        if (!file)
                die("malloc", NULL);
        memcpy(file, data + 1, n_file);
        if (data[0] & 1)
                fix_header(file, n_file);
        snprintf(tmp, sizeof(tmp), "%s.tmp", snapshot_path);
        f = fopen(tmp, "w");
        if (!f)
                die("snapshot", tmp);
        fwrite(file, 1, n_file, f);
        fclose(f);
        if (chmod(tmp, 0644) < 0 || rename(tmp, snapshot_path) < 0)
                die("snapshot", snapshot_path);

        for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
                lookup(BY_PWNAM, fixed[i], 0);
                lookup(BY_GRNAM, fixed[i], 0);
        }
        lookup(BY_PWUID, NULL, 0);
        lookup(BY_GRGID, NULL, 65535);
        /* Every string the file holds, as a name (and "IIS APPPOOL\" it). */
        for (i = 0, n = 0; i < n_file && n < 64; n++) {
                const unsigned char *nul = memchr(file + i, '\0', n_file - i);
                size_t len = (size_t)((nul ? nul : file + n_file) - (file + i));

                if (len > 0 && len < 40) {
                        snprintf(name, sizeof(name), "%.*s", (int)len, (const char *)file + i);
                        lookup(BY_PWNAM, name, 0);
                        lookup(BY_GRNAM, name, 0);
                        snprintf(name, sizeof(name), "IIS APPPOOL\\%.*s", (int)len, (const char *)file + i);
                        lookup(BY_PWNAM, name, 0);
                        lookup(BY_GRNAM, name, 0);
                }
                i += len + 1;
        }
        /* Every aligned 4-byte value in the id range, as an id. */
        for (i = 0, n = 0; i + 4 <= n_file && n < 256; i += 4) {
                uint32_t id;

                memcpy(&id, file + i, 4);
                if (id < 65536u || id > 2147483647u)
                        continue;
                lookup(BY_PWUID, NULL, id);
                lookup(BY_GRGID, NULL, id);
                n++;
        }
        free(file);
        /* Enumeration, with the same small buffers. */
        _nss_apppoolid_setpwent(0);
        for (n = 0; n < 100000 && lookup(PW_ENT, "getpwent", 0) == NSS_STATUS_SUCCESS; n++)
                ;
        _nss_apppoolid_endpwent();
        _nss_apppoolid_setgrent(0);
        for (n = 0; n < 100000 && lookup(GR_ENT, "getgrent", 0) == NSS_STATUS_SUCCESS; n++)
                ;
        _nss_apppoolid_endgrent();
        return 0;
}
