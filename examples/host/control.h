/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's administrator control channel, IIS's `appcmd start|stop|recycle
 * apppool` and `appcmd list apppool` for a running apppool-host:
 *  - an AF_UNIX SOCK_SEQPACKET socket (one message is one command, one
 *    message is its answer: no framing to get wrong), mode 0600, in a
 *    directory only root (or the host's uid) can write;
 *  - every connection's peer checked with SO_PEERCRED: only uid 0 or the
 *    host's own uid may command; anyone else (a pool's worker that reached
 *    the socket somehow) gets a refusal and nothing changes;
 *  - at most CONTROL_CONNS connections at once, one command each, each closed
 *    after CONTROL_TIMEOUT_MS: a client that sends nothing costs a slot for a
 *    while, never the event loop (nothing here blocks).
 * The wire format: "start POOL", "stop POOL", "recycle POOL" or "list"; the
 * answer is text, starting "error: " when the command was refused. */
#ifndef APPPOOL_HOST_CONTROL_H
#define APPPOOL_HOST_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#define CONTROL_CONNS 16
#define CONTROL_TIMEOUT_MS 5000
#define CONTROL_MSG_MAX 512     /* a command; longer ones are refused */
#define CONTROL_REPLY_MAX 65536 /* an answer (list: every pool, a line each) */
#define CONTROL_NAME_MAX 127    /* as a [pool NAME] of the configuration */

enum control_verb { CONTROL_START, CONTROL_STOP, CONTROL_RECYCLE, CONTROL_LIST };

struct control_cmd {
        enum control_verb verb;
        char pool[CONTROL_NAME_MAX + 1]; /* "" for list */
};

/* Parse one command of len bytes (not NUL-terminated; may hold NULs).
 * 0, or -1 with error (a NUL-terminated message, naming the offending value
 * with its control bytes escaped) filled. */
int control_parse(const char *msg, size_t len, struct control_cmd *cmd, char *error, size_t size);

/* A value, as an error message may show it: printable ASCII as is, other
 * bytes as \xNN; cut (with "...") to fit size. */
void control_escape(const char *in, size_t len, char *out, size_t size);

/* What the host does with a command from peer uid: writes the answer into
 * reply (starting "error: " on refusal). */
typedef void (*control_exec_fn)(const struct control_cmd *cmd, uid_t uid, char *reply, size_t size);
/* Told of each connection refused for its uid, for the log. */
typedef void (*control_refused_fn)(uid_t uid, pid_t pid);

struct control_server;

/* Listen on path (bound with umask 0177: never reachable by others, not even
 * for an instant), non-blocking. *epoll_fd: a descriptor to watch for
 * reading. NULL with errno on failure. */
struct control_server *control_open(const char *path, int *epoll_fd);
/* Serve what is ready. */
void control_run(struct control_server *srv, control_exec_fn exec, control_refused_fn refused);
/* Close connections past their deadline (call once a second). */
void control_sweep(struct control_server *srv);
/* Close everything and unlink the socket. */
void control_close(struct control_server *srv);

#endif
