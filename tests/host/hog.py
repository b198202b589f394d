#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A worker program for the host's process-model test: it speaks the host's
# protocol (listening socket 3, "READY=1" on 4, pings on the control socket
# 5, answered with the requests served) and grows on request: GET /grow
# touches 64 MiB (private memory), GET /vgrow maps 1 GiB it never touches
# (virtual memory only). Anything else: "hog". One connection at a time.
import mmap, os, select, signal, socket, sys

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
lsock = socket.socket(fileno=3)
ctl = socket.socket(fileno=5)
hoard, served = [], 0
os.write(4, b"READY=1\n")
os.close(4)
while True:
    ready, _, _ = select.select([lsock, ctl], [], [])
    if ctl in ready:
        if ctl.recv(64) == b"ping":
            ctl.send(b"pong %d 0" % served)
    if lsock in ready:
        conn, _ = lsock.accept()
        conn.settimeout(5)
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                head += chunk
            path = head.split(b" ")[1] if head.count(b" ") >= 2 else b"/"
            if path == b"/grow":
                hoard.append(b"x" * (64 << 20))
            elif path == b"/vgrow":
                hoard.append(mmap.mmap(-1, 1 << 30))
            body = b"hog\n"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            served += 1
            ctl.send(b"report %d 0" % served)
        except OSError:
            pass
        conn.close()
