#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A worker program for the host's Suspend test: it speaks the host's protocol
# (listening socket 3, "READY=1" on 4, pings on the control socket 5) and
# keeps a child that spins on the CPU forever, so that a frozen pool can be
# seen to use no CPU. It reports no request until it serves one, so the host
# finds it idle. Every answer: "pid PID spinner PID".
import ctypes, os, select, signal, socket, sys

spinner = os.fork()
if spinner == 0:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: never outlives the worker
    while True:
        pass
signal.signal(signal.SIGTERM, lambda *_: (os.kill(spinner, signal.SIGKILL), sys.exit(0)))
lsock = socket.socket(fileno=3)
ctl = socket.socket(fileno=5)
served = 0
os.write(4, b"READY=1\n")
os.close(4)
while True:
    ready, _, _ = select.select([lsock, ctl], [], [])
    if ctl in ready:
        if ctl.recv(64) == b"ping":
            ctl.send(b"pong %d 0" % served)
    if lsock in ready:
        try:
            conn, _ = lsock.accept()
        except BlockingIOError:
            continue
        conn.settimeout(5)
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                head += chunk
            body = b"pid %d spinner %d\n" % (os.getpid(), spinner)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            served += 1
            ctl.send(b"report %d 0" % served)
        except OSError:
            pass
        conn.close()
