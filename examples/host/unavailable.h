/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What HTTP.sys does for a pool that cannot serve (IIS's
 * failure.loadBalancerCapabilities): the host itself answers the connections
 * waiting on a stopped pool's listening socket, no worker started:
 *  - HttpLevel (IIS's default): "503 Service Unavailable", a small HTML body
 *    and "Connection: close", once the request head has arrived (or 8 KiB of
 *    it), then a lingering close (what the client still sends is read and
 *    dropped, so that the kernel does not reset the connection under the
 *    answer);
 *  - TcpLevel: the connection is reset (SO_LINGER 0), as HTTP.sys drops it.
 * Connections live in an epoll set of their own (the host watches its
 * descriptor), at most UNAVAILABLE_CONNS at once, each closed after its
 * deadline; nothing here blocks. */
#ifndef APPPOOL_HOST_UNAVAILABLE_H
#define APPPOOL_HOST_UNAVAILABLE_H

#define UNAVAILABLE_CONNS 64

struct unavailable;

/* The set; *epoll_fd: its descriptor, to watch for reading. NULL (errno) on
 * failure. header_timeout: seconds a client has to send its request head. */
struct unavailable *unavailable_open(int header_timeout, int *epoll_fd);

/* Accept what waits on a listening socket (shared with the pool's workers,
 * which may have made it blocking or not: never blocks either way) and
 * answer each: tcp_level 0, a 503; 1, a reset. Returns the number accepted,
 * or -1 when the set is full and connections still wait (the caller stops
 * watching that socket until unavailable_full() is 0), or -2 when the socket
 * no longer listens (a process of the pool shut it down: it stays readable
 * for ever, and the caller must stop watching it). */
int unavailable_accept(struct unavailable *u, int listen_fd, int tcp_level);

/* Serve the connections that are ready (reading heads, answering, draining). */
void unavailable_run(struct unavailable *u);

/* Close the connections past their deadline (call once a second). */
void unavailable_sweep(struct unavailable *u);

/* Whether no connection can be taken now. */
int unavailable_full(const struct unavailable *u);

void unavailable_close(struct unavailable *u);

#endif
