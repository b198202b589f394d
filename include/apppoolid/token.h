/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid/token.h
 * @brief Restricted tokens: what a pool's worker runs with (CreateRestrictedToken for Linux).
 *
 * A token is made from an identity and records, without acting, everything a
 * worker gets: uid, gid and supplementary groups, capabilities, no_new_privs,
 * locked securebits, a seccomp filter, resource limits, a umask and an
 * environment. It acts in apid_launch() (for a new process) or
 * apid_token_apply_self() (for the calling process). Every restriction is on
 * by default:
 *
 * - **No capabilities**: effective, permitted, inheritable, ambient and
 *   bounding sets empty, unless apid_token_keep_cap() names one to keep as an
 *   ambient capability (a web worker that binds port 80 keeps
 *   CAP_NET_BIND_SERVICE and nothing else).
 * - **no_new_privs**: execve() never grants privileges (setuid and setgid bits
 *   and file capabilities are ignored).
 * - **Securebits** SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP and SECBIT_KEEP_CAPS
 *   (off), each locked, and SECBIT_NO_CAP_AMBIENT_RAISE (locked) when no
 *   capability is kept: uid 0 would not regain capabilities.
 * - **A seccomp allow-list** (libseccomp; docs/security.md lists it by
 *   group): what ordinary servers use (file, socket and event I/O, threads,
 *   fork and exec, memory, signals, timers...) is allowed; a system call not
 *   on the list fails with ENOSYS, as on a kernel without it, so libc and
 *   runtimes fall back and a call a future kernel adds stays closed. Closed
 *   on purpose, with EPERM: ptrace, process_vm_readv/writev, io_uring,
 *   keyctl, add_key, request_key, bpf, perf_event_open, userfaultfd, mount
 *   and the new mount API, pivot_root, chroot, unshare, setns, clone() with
 *   a namespace flag, kexec, module loading, swapon, reboot, pidfd_getfd,
 *   kcmp and more; with ENOSYS: clone3 (libc falls back to clone()),
 *   memfd_secret, personality() other than PER_LINUX and the query. System
 *   calls of another architecture kill the process.
 * - **A clean environment**: PATH only, plus HOME, USER, LOGNAME and TMPDIR
 *   for the pool's profile when it loads one, plus what the caller adds.
 * - **umask 027**.
 *
 * **The pool's identity is in every worker's token**, whatever its identity
 * type: IIS injects the pool SID into the token of a worker that runs as
 * NetworkService or as a specific user; the token carries the pool's own
 * group (apid_identity_get_pool_gid()), as the primary group for
 * ApplicationPoolIdentity and as a supplementary group for every other type
 * (LocalSystem included: its worker is uid 0 without capabilities, so the
 * kernel checks its ACL entries like anyone's). ACL grants to
 * "IIS AppPool\{pool}" are entries for that group.
 *
 * Windows' deny-only SIDs have no Linux equivalent (a supplementary group
 * only ever adds access). What apid_token_set_groups() gives instead is the
 * removal of the shared group from the worker's groups.
 */
#ifndef APPPOOLID_TOKEN_H
#define APPPOOLID_TOKEN_H

#include "apppoolid/common.h"
#include "apppoolid/identity.h"

/** @defgroup apid_token Tokens
 *  @{ */

/** @brief A restricted token (opaque). @since 1.0 */
typedef struct apid_token apid_token;

APID_BEGIN_DECLS

/**
 * @brief Make a token for an identity, with every restriction on.
 * @param identity  the identity (copied; may be freed afterwards).
 * @param[out] out  receives the token; free it with apid_token_free().
 * @return #APID_OK; #APID_EINVAL; #APID_ESYS (the seccomp filter could not be
 *         built); #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_token_new(const apid_identity *identity, apid_token **out);

/**
 * @brief Free a token.
 * @param token  the token; NULL is a no-op.
 * @since 1.0
 */
APID_EXPORT void apid_token_free(apid_token *token);

/**
 * @brief Keep one capability, as an ambient capability of the worker (and
 *        in its bounding set); every other capability stays dropped.
 * @param token  the token.
 * @param name   a capability name, "CAP_NET_BIND_SERVICE" or "net_bind_service".
 * @return #APID_OK, or #APID_EINVAL naming an unknown capability, or for
 *         CAP_SETPCAP (which would let the worker unlock its securebits).
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_token_keep_cap(apid_token *token, const char *name);

/**
 * @brief Whether the worker carries the shared group (on by default, when one
 *        is configured).
 * @param token           the token.
 * @param include_shared  1 to keep the shared group, 0 to run without it (the
 *                        primary group and the pool's own group stay).
 * @return #APID_OK, #APID_EINVAL.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_token_set_groups(apid_token *token, int include_shared);

/**
 * @brief Turn the seccomp filter on (the default) or off.
 * @param token   the token.
 * @param enable  1 for the allow-list filter (and the names denied with
 *                apid_token_deny_syscall()), 0 for no filter at all.
 * @return #APID_OK, #APID_EINVAL.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_token_set_seccomp(apid_token *token, int enable);

/**
 * @brief Make a system call fail with EPERM in the worker, on top of the
 *        allow-list: a denied name always fails, whether the list allows it
 *        ("socket", for a worker that must not open sockets) or not.
 * @param token    the token.
 * @param syscall  the system call's name ("socket").
 * @return #APID_OK; #APID_EINVAL naming an unknown system call; #APID_ESYS
 *         (the filter could not be built; the token is unchanged).
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_token_deny_syscall(apid_token *token, const char *syscall);

/**
 * @brief Set a resource limit for the worker.
 * @param token     the token.
 * @param resource  an RLIMIT_* number (RLIMIT_NOFILE is 7 on Linux).
 * @param soft      the soft limit (UINT64_MAX: unlimited).
 * @param hard      the hard limit, at least @p soft.
 * @return #APID_OK, or #APID_EINVAL for an unknown resource or soft above hard.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_token_set_rlimit(apid_token *token, int resource, uint64_t soft, uint64_t hard);

/**
 * @brief Set the worker's umask (027 by default).
 * @param token  the token.
 * @param mask   the umask, at most 0777.
 * @return #APID_OK, #APID_EINVAL.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_token_set_umask(apid_token *token, uint32_t mask);

/**
 * @brief Add or replace a variable of the worker's environment.
 * @param token  the token.
 * @param name   the name: not empty, no '='.
 * @param value  the value, or NULL to remove the variable.
 * @return #APID_OK; #APID_EINVAL for a bad name; #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_token_setenv(apid_token *token, const char *name, const char *value);

/**
 * @brief Describe the token: what a worker gets, one item a line.
 * @param token     the token.
 * @param[out] out  receives the text; free it with apid_free().
 * @return #APID_OK, #APID_EINVAL, #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_token_describe(const apid_token *token, char **out);

/**
 * @brief Apply the token to the calling process, irreversibly: the same
 *        steps a launch takes in the child (for pre-fork servers that drop
 *        privileges after fork()).
 *
 * The process must be single-threaded (credentials are per thread on
 * Linux) and privileged enough to change its identity. A failure after the
 * first step leaves the process half-restricted; the caller must then exit.
 * @param token  the token.
 * @return #APID_OK; #APID_EINVAL if the process has several threads;
 *         #APID_EPERM if it lacks CAP_SETUID, CAP_SETGID or CAP_SETPCAP (the
 *         message names them; nothing has changed); #APID_ESYS naming the step
 *         and errno that failed.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_token_apply_self(const apid_token *token);

APID_END_DECLS

/** @} */

#endif /* APPPOOLID_TOKEN_H */
