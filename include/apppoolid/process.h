/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid/process.h
 * @brief Launching workers under a token, and the processes that result.
 *
 * @code
 * apid_launch_attr *attr = NULL;
 * apid_process *proc = NULL;
 * const char *argv[] = { "/usr/bin/id", NULL };
 *
 * apid_launch_attr_new(&attr);
 * apid_launch_attr_pass_fd(attr, listen_fd, 3);
 * apid_launch(token, attr, "/usr/bin/id", argv, &proc);
 * ...poll apid_process_get_fd(proc) in an event loop...
 * apid_process_wait(proc, -1);
 * @endcode
 *
 * The child is made with clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD) and runs
 * only raw system calls until execve() (no malloc, no locks, no glibc set*id
 * wrappers), so launching is safe from a multi-threaded caller. Its steps,
 * in order: signal handlers reset; new session; file descriptors mapped and
 * every other one closed; resource limits; supplementary groups, gid; the
 * bounding set dropped and securebits locked; uid; capabilities; no_new_privs;
 * working directory and umask; parent-death signal (and a check that the
 * parent still lives); the seccomp filter; the signal mask cleared; execve().
 * A step that fails is reported to the caller as the step and its errno
 * ("setresuid(1886158817): Operation not permitted", "execve(/srv/x): No such
 * file or directory"), never as an anonymous exit status.
 */
#ifndef APPPOOLID_PROCESS_H
#define APPPOOLID_PROCESS_H

#include "apppoolid/common.h"
#include "apppoolid/token.h"

/** @defgroup apid_process Launch and processes
 *  @{ */

/** @brief Launch attributes (opaque). @since 1.0 */
typedef struct apid_launch_attr apid_launch_attr;
/** @brief A launched process (opaque). @since 1.0 */
typedef struct apid_process apid_process;

APID_BEGIN_DECLS

/**
 * @brief New launch attributes: stdin, stdout and stderr inherited, no other
 *        descriptor, the current directory, no parent-death signal.
 * @param[out] out  receives the attributes; free them with apid_launch_attr_free().
 * @return #APID_OK, #APID_EINVAL, #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_launch_attr_new(apid_launch_attr **out);

/**
 * @brief Free launch attributes.
 * @param attr  the attributes; NULL is a no-op.
 * @since 1.0
 */
APID_EXPORT void apid_launch_attr_free(apid_launch_attr *attr);

/**
 * @brief Give the worker a descriptor of the caller's as descriptor @p child_fd
 *        (0, 1 and 2 for stdio; a listening socket as 3).
 * @param attr       the attributes.
 * @param parent_fd  an open descriptor of the caller (not closed by the launch).
 * @param child_fd   its number in the worker, 0 to 1023; each at most once.
 * @return #APID_OK, #APID_EINVAL.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_launch_attr_pass_fd(apid_launch_attr *attr, int parent_fd, int child_fd);

/**
 * @brief The worker's working directory (entered after the identity change,
 *        so it must be reachable by the worker).
 * @param attr  the attributes.
 * @param dir   an absolute path, or NULL for the caller's directory.
 * @return #APID_OK, #APID_EINVAL, #APID_ENOMEM.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_launch_attr_set_cwd(apid_launch_attr *attr, const char *dir);

/**
 * @brief The signal the worker gets when the thread that launched it exits (0: none).
 * @param attr    the attributes.
 * @param signal  a signal number, or 0.
 * @return #APID_OK, #APID_EINVAL.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_launch_attr_set_parent_death_signal(apid_launch_attr *attr, int signal);

/**
 * @brief Launch a program under a token.
 * @param token     the token.
 * @param attr      launch attributes, or NULL for the defaults.
 * @param path      the program: an absolute path, or a name looked up in the
 *                  token's PATH.
 * @param argv      the arguments, NULL-terminated, argv[0] first.
 * @param[out] out  receives the process; free it with apid_process_free().
 * @return #APID_OK; #APID_EINVAL; #APID_EPERM if the caller cannot change
 *         identity (the message says what is missing; nothing was started);
 *         #APID_ENOTFOUND for a program not found; #APID_ESYS with the step
 *         and errno of the child that failed (the child is reaped).
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_launch(const apid_token *token, const apid_launch_attr *attr, const char *path,
                                             const char *const *argv, apid_process **out);

/**
 * @brief The process id.
 * @param proc  the process.
 * @return The pid, or -1 if @p proc is NULL.
 * @since 1.0
 */
APID_EXPORT int apid_process_get_pid(const apid_process *proc);

/**
 * @brief The process's pidfd, for poll() or epoll in an event loop: it
 *        becomes readable when the process exits. Owned by the process handle.
 * @param proc  the process.
 * @return The descriptor, or -1 if @p proc is NULL.
 * @since 1.0
 */
APID_EXPORT int apid_process_get_fd(const apid_process *proc);

/**
 * @brief Send a signal through the pidfd (no pid reuse race).
 * @param proc    the process.
 * @param signal  the signal.
 * @return #APID_OK; #APID_EINVAL; #APID_ESYS (for example ESRCH once it has been reaped).
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_process_signal(apid_process *proc, int signal);

/**
 * @brief Wait for the process to exit, and reap it.
 * @param proc        the process.
 * @param timeout_ms  -1 to wait as long as it takes, 0 to poll, or milliseconds.
 * @return #APID_OK once it has exited (also on later calls); #APID_EBUSY if it
 *         is still running after the timeout; #APID_EINVAL; #APID_ESYS.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_process_wait(apid_process *proc, int timeout_ms);

/**
 * @brief The exit code of a process that exited normally.
 * @param proc  the process, after apid_process_wait() returned #APID_OK.
 * @return 0 to 255, or -1 if it has not exited or was killed by a signal.
 * @since 1.0
 */
APID_EXPORT int apid_process_exit_code(const apid_process *proc);

/**
 * @brief The signal that killed the process.
 * @param proc  the process, after apid_process_wait() returned #APID_OK.
 * @return The signal number, or 0 if it exited normally or has not exited.
 * @since 1.0
 */
APID_EXPORT int apid_process_term_signal(const apid_process *proc);

/**
 * @brief Free a process handle. A process still running is killed (SIGKILL)
 *        and reaped first: a handle owns its process, and nothing is left
 *        behind as a zombie.
 * @param proc  the process; NULL is a no-op.
 * @since 1.0
 */
APID_EXPORT void apid_process_free(apid_process *proc);

APID_END_DECLS

/** @} */

#endif /* APPPOOLID_PROCESS_H */
