/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SQLite, loaded when the registry is first opened (issue 17): a process
 * that never opens it (a launch answered by the launch settings file, an
 * NSS-answered lookup, SID arithmetic) does not pay for loading
 * libsqlite3 and libm (0.3 ms per exec on the test machine). The pattern
 * of systemd's dlopen-on-demand optional libraries (src/shared/dlfcn-util.h,
 * learnt from, not copied): one pointer per function used, resolved
 * together at the first need; the calls below are redirected to them by
 * name, so registry.c reads as plain SQLite. Only registry.c calls SQLite,
 * and only after apid__sqlite_load() succeeded (apid__reg_run). */
#ifndef APID_STORE_SQLITE_DL_H
#define APID_STORE_SQLITE_DL_H

#include <sqlite3.h>

/* The soname the library loads: SQLite 3's ABI. */
#define APID__SQLITE_SONAME "libsqlite3.so.0"

#define APID__SQLITE_FUNCS(X) \
        X(sqlite3_bind_int) \
        X(sqlite3_bind_int64) \
        X(sqlite3_bind_text) \
        X(sqlite3_busy_timeout) \
        X(sqlite3_changes) \
        X(sqlite3_close_v2) \
        X(sqlite3_column_int) \
        X(sqlite3_column_int64) \
        X(sqlite3_column_text) \
        X(sqlite3_commit_hook) \
        X(sqlite3_db_config) \
        X(sqlite3_db_filename) \
        X(sqlite3_errmsg) \
        X(sqlite3_errstr) \
        X(sqlite3_exec) \
        X(sqlite3_extended_errcode) \
        X(sqlite3_extended_result_codes) \
        X(sqlite3_file_control) \
        X(sqlite3_finalize) \
        X(sqlite3_get_autocommit) \
        X(sqlite3_libversion_number) \
        X(sqlite3_open_v2) \
        X(sqlite3_prepare_v2) \
        X(sqlite3_step) \
        X(sqlite3_system_errno) \
        X(sqlite3_vfs_find)

#define APID__SQLITE_DECLARE(f) extern __typeof__(f) *apid__dl_##f;
APID__SQLITE_FUNCS(APID__SQLITE_DECLARE)
#undef APID__SQLITE_DECLARE

/* Load SQLite once per process (thread-safe). APID_OK, or APID_ESYS with a
 * message naming the library and dlerror()'s text (every call after a
 * failure fails the same way). */
int apid__sqlite_load(void);

#ifndef APID__SQLITE_DL_IMPL
#define sqlite3_bind_int apid__dl_sqlite3_bind_int
#define sqlite3_bind_int64 apid__dl_sqlite3_bind_int64
#define sqlite3_bind_text apid__dl_sqlite3_bind_text
#define sqlite3_busy_timeout apid__dl_sqlite3_busy_timeout
#define sqlite3_changes apid__dl_sqlite3_changes
#define sqlite3_close_v2 apid__dl_sqlite3_close_v2
#define sqlite3_column_int apid__dl_sqlite3_column_int
#define sqlite3_column_int64 apid__dl_sqlite3_column_int64
#define sqlite3_column_text apid__dl_sqlite3_column_text
#define sqlite3_commit_hook apid__dl_sqlite3_commit_hook
#define sqlite3_db_config apid__dl_sqlite3_db_config
#define sqlite3_db_filename apid__dl_sqlite3_db_filename
#define sqlite3_errmsg apid__dl_sqlite3_errmsg
#define sqlite3_errstr apid__dl_sqlite3_errstr
#define sqlite3_exec apid__dl_sqlite3_exec
#define sqlite3_extended_errcode apid__dl_sqlite3_extended_errcode
#define sqlite3_extended_result_codes apid__dl_sqlite3_extended_result_codes
#define sqlite3_file_control apid__dl_sqlite3_file_control
#define sqlite3_finalize apid__dl_sqlite3_finalize
#define sqlite3_get_autocommit apid__dl_sqlite3_get_autocommit
#define sqlite3_libversion_number apid__dl_sqlite3_libversion_number
#define sqlite3_open_v2 apid__dl_sqlite3_open_v2
#define sqlite3_prepare_v2 apid__dl_sqlite3_prepare_v2
#define sqlite3_step apid__dl_sqlite3_step
#define sqlite3_system_errno apid__dl_sqlite3_system_errno
#define sqlite3_vfs_find apid__dl_sqlite3_vfs_find
#endif

#endif
