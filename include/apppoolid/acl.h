/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid/acl.h
 * @brief ACL edits: icacls-style grants applied as POSIX.1e ACLs.
 *
 * An edit collects changes for one or more trustees, then applies them to a
 * file or a tree, as "icacls PATH /grant ... /T" does:
 *
 * @code
 * apid_acl_edit *edit = NULL;
 * apid_acl_edit_new(ctx, &edit);
 * apid_acl_edit_add(edit, APID_ACL_GRANT, "IIS AppPool\\DefaultAppPool:(OI)(CI)RX");
 * apid_acl_edit_set_flags(edit, APID_ACL_RECURSIVE);
 * apid_acl_edit_apply(edit, "/srv/www");
 * apid_acl_edit_free(edit);
 * @endcode
 *
 * Rights are spelled as icacls spells them: the simple rights N, F, M, RX, R,
 * W, D, or a parenthesised list of specific rights (RD, WD, AD, REA, WEA, X,
 * DC, RA, WA, DE, RC, WDAC, WO, S, AS, MA, GR, GW, GE, GA), preceded by the
 * inheritance flags (OI), (CI), (IO), (NP). Trustees are account names
 * ("IIS AppPool\\{pool}" of an existing pool, "NT AUTHORITY\\SYSTEM", "Everyone",
 * "BUILTIN\\IIS_IUSRS"), SIDs ("*S-1-5-82-..."), POSIX users and groups
 * ("www-data", or "user:NAME", "group:NAME" to choose).
 *
 * The mapping to POSIX (docs/acl.md has the whole table) never grants more
 * than asked: r needs read-data, x needs execute, w on a file needs
 * write-data and append-data, w on a directory also needs delete-child (POSIX
 * w on a directory lets its holder delete and rename any entry). What POSIX
 * cannot express (delete, write-DAC, take-ownership, deny for a group,
 * (OI) without (CI), (NP)) is refused with #APID_ACL_STRICT and otherwise
 * approximated by granting less, and every approximation is reported.
 * The ACL mask is recomputed without widening what other entries get.
 *
 * Thread-safety: an edit is used by one thread at a time; apply may use
 * worker threads of its own, and calls the callbacks from them, one at a time.
 */
#ifndef APPPOOLID_ACL_H
#define APPPOOLID_ACL_H

#include "apppoolid/common.h"
#include "apppoolid/context.h"

/** @defgroup apid_acl ACL edits
 *  @{ */

/** @brief An ACL edit (opaque). @since 1.0 */
typedef struct apid_acl_edit apid_acl_edit;

/** @brief What a change does to a trustee's rights (icacls's verbs). @since 1.0 */
enum apid_acl_op {
        APID_ACL_GRANT = 1,         /**< /grant: add the rights to what the trustee has. */
        APID_ACL_GRANT_REPLACE = 2, /**< /grant:r: the trustee has exactly these rights. */
        APID_ACL_DENY = 3,          /**< /deny: take the rights away, and keep them away for a user. */
        APID_ACL_REMOVE = 4         /**< /remove: drop every entry of the trustee. */
};

/** @brief Flags for apid_acl_edit_set_flags() and the save/restore calls. @since 1.0 */
enum apid_acl_flags {
        APID_ACL_RECURSIVE = 1, /**< /T: the path and everything below it (never following a link). */
        APID_ACL_STRICT = 2,    /**< Refuse what POSIX cannot express exactly, instead of approximating. */
        APID_ACL_CONTINUE = 4,  /**< /C: go on after an error on one path. */
        APID_ACL_DRY_RUN = 8,   /**< Compute and report, write nothing. */
        /** Also edit a file with more than one hard link whose owner is not
         *  the owner of the tree's top directory, or not the owner of the
         *  directory it is found in, or that is found in a directory others
         *  than its owner can write. Without it such a file is skipped and
         *  reported (#APID_ACL_SKIPPED): with fs.protected_hardlinks=0 a pool
         *  can link a file it does not own (/etc/shadow) into a tree it can
         *  write, and a recursive grant would otherwise edit that file.
         *  @since 1.0 */
        APID_ACL_FOLLOW_HARDLINKS = 16
};

/** @brief The deepest walk apid_acl_edit_set_max_depth() and
 *         apid_acl_save_depth() take: directory levels entered below the
 *         path. Part of the ABI (never lowered). Bindings that cannot read
 *         this header ask apid_acl_max_depth(). @since 1.0 */
#define APID_ACL_MAX_DEPTH 4096
/** @brief The depth a recursive walk goes to unless told otherwise
 *         (apid_acl_save(), a new edit). @since 1.0 */
#define APID_ACL_DEFAULT_DEPTH 256

/**
 * @brief #APID_ACL_MAX_DEPTH, as the library that is loaded has it: for
 *        bindings (ctypes, P/Invoke), which cannot read a macro, so that
 *        their own range checks and messages never drift from the
 *        library's.
 *
 * Cannot fail; thread-safe.
 * @return The largest depth apid_acl_edit_set_max_depth() and
 *         apid_acl_save_depth() accept.
 * @since 1.0
 */
APID_EXPORT unsigned apid_acl_max_depth(void);

/** @brief Per-path outcomes, passed to the report callback and counted. @since 1.0 */
enum apid_acl_event {
        APID_ACL_CHANGED = 1,      /**< The ACL was written (or would be, in a dry run). */
        APID_ACL_UNCHANGED = 2,    /**< The ACL already said the same; nothing was written. */
        APID_ACL_SKIPPED = 3,      /**< Not a file or directory (a link, a device), or a foreign hard link: left alone. */
        APID_ACL_FAILED = 4,       /**< An error; the detail says what. */
        APID_ACL_APPROXIMATED = 5  /**< A right or flag POSIX cannot express was granted as less. */
};

/**
 * @brief Per-path report callback: every path changed, skipped or failed,
 *        and every approximation (once per change and kind of path). Paths
 *        left unchanged are counted (apid_acl_edit_count()), not reported.
 * @param event     one of #apid_acl_event.
 * @param path      the path, relative to the one given to apid_acl_edit_apply() ("." for itself).
 * @param detail    for #APID_ACL_FAILED and #APID_ACL_APPROXIMATED, what happened; else "".
 * @param userdata  as given.
 * @since 1.0
 */
typedef void (*apid_acl_report_fn)(int event, const char *path, const char *detail, void *userdata);

/**
 * @brief Progress callback for long walks, called about every 1000 paths.
 * @param visited   paths visited so far.
 * @param changed   paths whose ACL was written so far.
 * @param userdata  as given.
 * @since 1.0
 */
typedef void (*apid_acl_progress_fn)(uint64_t visited, uint64_t changed, void *userdata);

APID_BEGIN_DECLS

/**
 * @brief Check the grammar of an icacls spec ("trustee:perm") without
 *        resolving the trustee.
 * @param spec  the spec, UTF-8.
 * @return #APID_OK, or #APID_EINVAL with a message that quotes the spec and
 *         points at the offending character.
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_spec_check(const char *spec);

/**
 * @brief Create an empty edit.
 * @param ctx       the context (trustees that name pools are resolved in its registry).
 * @param[out] out  receives the edit; free it with apid_acl_edit_free().
 * @return #APID_OK, #APID_EINVAL, #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_edit_new(apid_ctx *ctx, apid_acl_edit **out);

/**
 * @brief Free an edit.
 * @param edit  the edit; NULL is a no-op.
 * @since 1.0
 */
APID_EXPORT void apid_acl_edit_free(apid_acl_edit *edit);

/**
 * @brief Add a change: an #apid_acl_op and an icacls spec.
 *
 * For #APID_ACL_REMOVE the spec is the trustee alone. The trustee is
 * resolved now, so an unknown one is refused before anything is applied.
 * @param edit  the edit.
 * @param op    one of #apid_acl_op.
 * @param spec  "trustee:perm" (grant, grant-replace, deny) or "trustee" (remove).
 * @return #APID_OK; #APID_EINVAL for a bad op or spec (the message points at
 *         the character); #APID_ENOTFOUND for a trustee with no Linux account
 *         (a pool that does not exist, a user NSS does not know, a well-known
 *         account with no mapping); #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_edit_add(apid_acl_edit *edit, int op, const char *spec);

/**
 * @brief Also reset each path to what it inherits (icacls /reset): its ACL
 *        becomes its parent directory's default ACL, or its mode bits alone
 *        when the parent has none. Applied before the other changes.
 * @param edit  the edit.
 * @return #APID_OK, #APID_EINVAL.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_edit_reset(apid_acl_edit *edit);

/**
 * @brief Set #apid_acl_flags (recursive, strict, continue on error, dry run,
 *        follow hard links).
 * @param edit   the edit.
 * @param flags  an OR of #apid_acl_flags.
 * @return #APID_OK, or #APID_EINVAL for an unknown flag.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_edit_set_flags(apid_acl_edit *edit, uint32_t flags);

/**
 * @brief Set the per-path report callback.
 * @param edit      the edit.
 * @param fn        the callback, or NULL.
 * @param userdata  passed to @p fn.
 * @return #APID_OK, #APID_EINVAL.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_edit_set_report_fn(apid_acl_edit *edit, apid_acl_report_fn fn, void *userdata);

/**
 * @brief Set the progress callback.
 * @param edit      the edit.
 * @param fn        the callback, or NULL.
 * @param userdata  passed to @p fn.
 * @return #APID_OK, #APID_EINVAL.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_edit_set_progress_fn(apid_acl_edit *edit, apid_acl_progress_fn fn, void *userdata);

/**
 * @brief Keep a journal: before a path's ACL is changed, its old ACLs are
 *        appended to @p path (in the format of apid_acl_save()) and flushed
 *        to disk.
 *
 * If an apply is interrupted, apid_acl_restore() of the journal rolls it
 * back; applying the same edit again finishes it (paths already done are
 * left alone). A successful apply leaves the journal in place for the caller
 * to remove.
 * @param edit  the edit.
 * @param path  the journal file (created or truncated when apply starts; a
 *              FIFO, socket or device there fails the apply with
 *              #APID_EINVAL, never written to); NULL for none.
 * @return #APID_OK, #APID_EINVAL, #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_edit_set_journal(apid_acl_edit *edit, const char *path);

/**
 * @brief How deep a recursive apply goes: the number of directory levels
 *        below the path that the walk enters (default 256).
 *
 * A directory deeper than this is edited itself but not entered; it is
 * reported as an #APID_ACL_FAILED event naming it ("depth: nested deeper
 * than N directories"), and the apply returns #APID_ERANGE (at the end with
 * #APID_ACL_CONTINUE). The walk holds one open directory per level it is in
 * (a file descriptor and libc's buffer of about 32 KiB), so the limit also
 * bounds its descriptors and memory. The setting stays for later applies of
 * the same edit.
 * @param edit   the edit (not thread-safe: set it before apid_acl_edit_apply()).
 * @param depth  1 to 4096.
 * @return #APID_OK; #APID_EINVAL (NULL, or a depth out of range: unchanged).
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_edit_set_max_depth(apid_acl_edit *edit, unsigned depth);

/**
 * @brief Apply the edit to a path (and, with #APID_ACL_RECURSIVE, to
 *        everything below it).
 *
 * The walk goes through directory file descriptors and never follows a
 * symbolic link, so a link or a directory swapped for one during the walk
 * cannot make it write outside the tree. Symbolic links, devices, sockets
 * and FIFOs are skipped. An entry that changes during the walk (it vanishes,
 * or its name now holds a link or another kind of file) is left alone and
 * reported as #APID_ACL_SKIPPED with what changed, and the walk goes on: a
 * race inside the tree is not an error. A file (not the path itself) with more than one hard
 * link whose owner differs from the owner of the top directory or of the
 * directory holding it, or in a directory others than its owner can write,
 * is skipped unless #APID_ACL_FOLLOW_HARDLINKS is set.
 * Paths whose ACL already says the same are not written.
 * @param edit  the edit.
 * @param path  the file or directory.
 * @return #APID_OK; #APID_EINVAL (nothing added, a bad path); #APID_ENOTFOUND
 *         (no such path); #APID_EUNSUPPORTED (the file system has no ACLs, or
 *         a strict edit meets an approximation: nothing is written); #APID_EPERM;
 *         #APID_ESYS. Without #APID_ACL_CONTINUE the walk stops at the first
 *         error; with it, the walk goes on and the first error is returned at
 *         the end. The counts say what was done either way.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_edit_apply(apid_acl_edit *edit, const char *path);

/**
 * @brief How many paths the last apply counted for an event.
 * @param edit   the edit.
 * @param event  one of #apid_acl_event.
 * @return The count; 0 for NULL or an unknown event.
 * @since 1.0
 */
APID_EXPORT uint64_t apid_acl_edit_count(const apid_acl_edit *edit, int event);

/**
 * @brief Save the ACLs of a path (and, with #APID_ACL_RECURSIVE, of the tree)
 *        in the text format "getfacl -R" prints and "setfacl --restore" reads.
 * @param ctx    the context.
 * @param path   the file or directory.
 * @param file   where to write (atomically).
 * @param flags  #APID_ACL_RECURSIVE or 0.
 * @return #APID_OK, #APID_EINVAL, #APID_ENOTFOUND, #APID_ESYS, #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_save(apid_ctx *ctx, const char *path, const char *file, uint32_t flags);

/**
 * @brief apid_acl_save() with a limit on how deep a recursive save goes:
 *        the number of directory levels below the path that the walk enters
 *        (apid_acl_save() enters 256, as apid_acl_edit_apply() does by
 *        default).
 *
 * A directory deeper than @p max_depth fails the save with #APID_ERANGE
 * and a message naming it ("depth: nested deeper than N directories"):
 * a save is what a restore rolls back from, so it never leaves a part of
 * the tree out without a word; and @p file is left as it was. The walk
 * holds one open directory per level it is in, so the limit also bounds
 * its descriptors and memory, as for apid_acl_edit_set_max_depth().
 * Thread-safe for different contexts; a context may be shared as for
 * apid_acl_save().
 * @param ctx        the context.
 * @param path       the file or directory.
 * @param file       where to write (atomically).
 * @param flags      #APID_ACL_RECURSIVE or 0.
 * @param max_depth  1 to 4096 (without #APID_ACL_RECURSIVE it is checked
 *                   but nothing below @p path is entered).
 * @return #APID_OK; #APID_EINVAL (NULL or empty, an unknown flag, or a
 *         depth out of range: nothing is written); #APID_ERANGE (a
 *         directory deeper than @p max_depth); #APID_ENOTFOUND; #APID_ESYS;
 *         #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_save_depth(apid_ctx *ctx, const char *path, const char *file,
                                                     uint32_t flags, unsigned max_depth);

/**
 * @brief Restore ACLs from a file in the "getfacl" format (written by
 *        apid_acl_save() or by getfacl -R), as "setfacl --restore" does.
 *
 * Paths in the file are relative to @p base_dir (getfacl removes the leading
 * "/" of absolute paths). The whole file is parsed and checked before any
 * ACL is set; owner and group lines are read but not applied. Links are
 * never followed, in any component below @p base_dir.
 * @param ctx       the context.
 * @param file      the file to read: a regular file (a FIFO, socket, device
 *                  or directory is refused at once, never read from).
 * @param base_dir  the directory the paths are relative to.
 * @param flags     #APID_ACL_CONTINUE, #APID_ACL_DRY_RUN, or 0.
 * @return #APID_OK; #APID_EINVAL for a malformed file (the message names the
 *         line; nothing is changed) or one that is not a regular file; #APID_ENOTFOUND; #APID_ESYS; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_acl_restore(apid_ctx *ctx, const char *file, const char *base_dir,
                                                  uint32_t flags);

APID_END_DECLS

/** @} */

#endif /* APPPOOLID_ACL_H */
