/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journal of an edit: before a path is changed, its old ACLs are
 * appended in the getfacl format (save.c writes the entry) and flushed to
 * disk, so that 'acl restore' of the journal rolls an interrupted edit back.
 * Paths are named from the root without "..", as getfacl would. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "acl-internal.h"

int apid__acl_journal_entry(apid_acl_edit *e, const char *rel, int fd, int is_dir)
{
        char *path = NULL, *text = NULL;
        size_t len = 0;
        FILE *m;
        int r;

        if (strcmp(rel, ".") == 0 ? asprintf(&path, "%s", e->root_display) < 0
                                  : asprintf(&path, "%s/%s", e->root_display, rel) < 0)
                return apid__fail_oom();
        /* The entry is composed first, without the lock: it names the owner
         * and group through NSS, which may be slow (a directory), and the
         * other workers must not wait on it. Only the append is locked. */
        m = open_memstream(&text, &len);
        if (!m) {
                free(path);
                return apid__fail_oom();
        }
        r = apid__acl_write_entry_names(m, path, fd, is_dir, e->names);
        if (fclose(m) != 0 && r == APID_OK)
                r = apid__fail_oom();
        if (r == APID_OK) {
                pthread_mutex_lock(&e->lock);
                if (fwrite(text, 1, len, e->journal) != len || fflush(e->journal) != 0 ||
                    fdatasync(fileno(e->journal)) != 0)
                        r = apid__fail(APID_ESYS, errno, "journal %s: %s", e->journal_path, strerror(errno));
                pthread_mutex_unlock(&e->lock);
        }
        free(text);
        free(path);
        return r;
}
