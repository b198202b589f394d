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
 * The child is made with clone(CLONE_VM | CLONE_PIDFD) (clone3() with
 * CLONE_INTO_CGROUP into a cgroup v2 given with apid_launch_attr_add_cgroup())
 * and runs only raw system calls until execve() (no malloc, no locks, no glibc set*id
 * wrappers), so launching is safe from a multi-threaded caller. Its steps,
 * in order: the cgroup v1 hierarchies joined (apid_launch_attr_add_cgroup());
 * signal handlers reset; a new session; file descriptors mapped and
 * every other one closed (a terminal on 0, 1 or 2 becomes /dev/null unless it
 * was given with apid_launch_attr_set_terminal(), which also makes it the
 * controlling terminal); a fresh anonymous session keyring; resource limits;
 * supplementary groups, gid; the bounding set dropped and securebits locked;
 * uid; capabilities; no_new_privs; working directory (by default the pool's
 * profile directory, else /; never the caller's) and umask; parent-death
 * signal (and a check that the parent still lives); the seccomp filter; the
 * signal mask cleared; execve(). A step that fails is reported to the caller
 * as the step and its errno ("setresuid(1886158817): Operation not
 * permitted", "execve(/srv/x): No such file or directory"), never as an
 * anonymous exit status.
 *
 * The launching thread waits for the child's execve() (or its report of a
 * failed step) on a close-on-exec pipe, for at most the launch timeout (5 s
 * by default, apid_launch_attr_set_timeout()). From setresuid() on the child
 * runs as the pool, and the pool can stop it (SIGSTOP); a child that has not
 * reached execve() by the deadline is killed through its pidfd and the launch
 * fails, so no pool can hold a launcher. A killed child that the kernel
 * keeps alive (uninterruptible sleep on a hung file system) is reaped, and
 * the memory it ran on released, by the first launch after it has died.
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
 * @brief New launch attributes: stdin, stdout and stderr inherited (a
 *        terminal among them as /dev/null), no other descriptor, no terminal,
 *        the default working directory (the profile directory, else /), no
 *        parent-death signal, the default launch timeout (5 s).
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
 * A terminal is never handed over this way: one passed as 0, 1 or 2 is
 * /dev/null in the worker, and one passed as 3 or above makes apid_launch()
 * fail with #APID_EINVAL (a worker holding the administrator's terminal could
 * read what is typed next, or change its modes); give a terminal with
 * apid_launch_attr_set_terminal(). Anything passed is shared with the worker:
 * a log file passed as stderr can be truncated or written with forged lines
 * by it; pass a pipe the caller reads instead.
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
 * @param dir   an absolute path, or NULL for the default: the pool's profile
 *              directory when it loads one (/ if that does not exist), else /.
 *              Never the caller's directory, which may lie inside another
 *              pool's private tree.
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
 * @brief Give the worker a terminal: @p tty_fd becomes its descriptors 0, 1
 *        and 2 (those not given otherwise with apid_launch_attr_pass_fd()),
 *        and the controlling terminal of its new session (TIOCSCTTY).
 *
 * Without this call no launch hands a terminal to a worker. Give a terminal
 * the caller owns for this worker alone (the slave of a pty it opened, as
 * `apppoolctl run` does, relaying to its own terminal), never the
 * administrator's: the worker can read it, change its modes, and keep it open
 * after the launcher is gone. It must not be another session's controlling
 * terminal (TIOCSCTTY fails with EPERM: "ioctl(TIOCSCTTY): Operation not
 * permitted").
 * @param attr    the attributes.
 * @param tty_fd  an open terminal descriptor (not closed by the launch), or -1
 *                for none (the default).
 * @return #APID_OK; #APID_EINVAL for a descriptor that is not open or not a
 *         terminal (nothing changes).
 * @note One attributes object is not shared across threads without locking.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_launch_attr_set_terminal(apid_launch_attr *attr, int tty_fd);

/**
 * @brief How long apid_launch() waits for the child to reach execve().
 *
 * From its uid change on, the child runs as the pool, which can stop it; a
 * child that has not exec'd (or reported a failed step) by then is killed and
 * the launch fails with #APID_ESYS (errno ETIMEDOUT): "launch /srv/w: the
 * child had not reached execve after 5000 ms (stopped by the pool, or stuck in
 * the kernel); killed". The launching thread has its signals blocked while it
 * waits.
 * @param attr        the attributes.
 * @param timeout_ms  1 to 3600000 milliseconds, or 0 for the default (5000).
 * @return #APID_OK, #APID_EINVAL.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_launch_attr_set_timeout(apid_launch_attr *attr, uint32_t timeout_ms);

/**
 * @brief Put the worker in a cgroup: its resource limits (memory, process
 *        count, CPU) hold from the first instruction the worker runs.
 *
 * The library only places the worker; creating a cgroup and setting its limits
 * is the caller's policy (the example host's examples/host/cgroup.c maps IIS
 * settings to them). Call once per hierarchy:
 * - a directory of cgroup v2 (the unified hierarchy, at most one): the child
 *   is made with clone3(CLONE_INTO_CGROUP) and is born in it, never in the
 *   caller's cgroup (Linux 5.7 or later; on architectures other than x86-64
 *   and arm64 it is joined as the v1 ones are);
 * - directories of cgroup v1 hierarchies (memory, pids, cpu, cpuacct...: one
 *   for each): apid_launch() opens their `cgroup.procs` before the clone, and
 *   the child writes itself into each as its very first step, while it still
 *   has the caller's privileges, before any other step and long before it
 *   becomes the pool and runs the program. A refusal by the kernel (a cpuset
 *   without CPUs: ENOSPC) fails the launch with the file named:
 *   "write(/sys/fs/cgroup/cpuset/x/cgroup.procs): No space left on device".
 *
 * The worker cannot leave the cgroup: the cgroup files belong to root, and
 * the worker has no capability. Its children inherit the cgroup.
 * @param attr   the attributes.
 * @param dirfd  an open descriptor of a cgroup directory (O_RDONLY |
 *               O_DIRECTORY, not O_PATH: clone3() refuses those); not
 *               closed, not duplicated: it must stay open until
 *               every apid_launch() that uses these attributes has returned.
 *               Giving the same v1 descriptor again changes nothing.
 * @return #APID_OK; #APID_EINVAL for a descriptor that is not open, not a
 *         directory of a cgroup file system, or O_PATH, or a second cgroup v2
 *         directory;
 *         #APID_ERANGE past 8 cgroup v1 directories. Nothing changes on error.
 *         apid_launch() fails with #APID_ESYS (or #APID_EPERM) naming the
 *         cgroup when it cannot open a `cgroup.procs` (the cgroup was removed)
 *         or the kernel refuses the worker.
 * @note One attributes object is not shared across threads without locking;
 *       launches from several threads may share the same cgroup descriptors.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_launch_attr_add_cgroup(apid_launch_attr *attr, int dirfd);

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
 *         and errno of the child that failed (the child is reaped), or with
 *         ETIMEDOUT when the child did not reach execve() within the launch
 *         timeout (it is killed, and reaped unless it does not die within a
 *         second, stuck in the kernel: then it is left to the caller's
 *         SIGCHLD handling).
 * @note Thread-safe.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_launch(const apid_token *token, const apid_launch_attr *attr, const char *path,
                                             const char *const *argv, apid_process **out);

/**
 * @brief Become the worker: run a launch's steps in the calling process and
 *        execve() the program in its place, as setpriv(1) and env(1) do. No
 *        child, no parent waiting for it: for a command-line launcher whose
 *        only job is to start the worker (`apppoolctl run` without a
 *        terminal).
 *
 * The worker starts as one apid_launch() starts (the same steps, in the same
 * order: tests/test-inherit.c compares the two): a new session without a
 * controlling terminal, default signal dispositions and an empty signal
 * mask, the attributes' descriptors and no other, a fresh session keyring,
 * the token's rlimits, groups, ids, bounding set, securebits, capabilities,
 * no_new_privs, directory, umask and seccomp filter. What a child of clone()
 * would not have and execve() keeps is cleared first: pending signals, armed
 * interval timers (ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF), the
 * child-subreaper mark, a Yama ptracer exception. What stays the caller's:
 * its pid, parent, cgroup (unless the attributes name some: they are joined
 * through their `cgroup.procs`, cgroup v2 too), the CPU time it has used
 * (RLIMIT_CPU counts it), and its children, which become the worker's. The
 * attributes' launch timeout does not apply (nothing waits); a parent-death
 * signal is sent when the caller's parent exits.
 *
 * It returns only when nothing has changed yet. Once the first step has
 * begun it cannot return: if a step or the execve() fails, the message (as
 * apid_launch() would return it, prefixed with the calling program's name:
 * "apppoolctl: execve(/srv/w): No such file or directory") goes to
 * descriptor 2 and the process exits with status 127, as env(1) does.
 * stdio buffers are flushed before the first step.
 * @param token  the token.
 * @param attr   launch attributes, or NULL for the defaults.
 * @param path   the program: an absolute path, or a name looked up in the
 *               token's PATH.
 * @param argv   the arguments, NULL-terminated, argv[0] first.
 * @return Only on failure, with the process unchanged: #APID_EINVAL (a NULL
 *         argument, a descriptor or terminal that apid_launch() would refuse,
 *         or several threads: credentials are per thread); #APID_EBUSY if the
 *         caller leads its process group (a shell's job: setsid() would fail;
 *         fork first, or use apid_launch()); #APID_EPERM if the caller cannot
 *         change identity; #APID_ENOTFOUND for a program not found;
 *         #APID_ESYS for a cgroup that cannot be opened.
 * @note The process must be single-threaded.
 * @since 1.0
 */
APID_EXPORT APID_WARN_UNUSED int apid_launch_exec(const apid_token *token, const apid_launch_attr *attr,
                                                  const char *path, const char *const *argv);

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
