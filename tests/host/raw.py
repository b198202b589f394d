#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Raw HTTP for the host tests: bytes sent exactly as given (curl would
normalise a path like //etc/passwd or /a/../b), answers read as they come.

  raw.py req PORT REQUEST      status of the first answer, then "LEAK" if the
                               answer holds /etc/passwd or a SQLite database
  raw.py count PORT REQUEST    "STATUS... closed|open": every answer's status,
                               and whether the server closed the connection
  raw.py slow PORT             a head trickled one header line every 0.5 s:
                               seconds until the server closes ("open" at 30)
  raw.py idle PORT             one request, then silence: seconds until close
  raw.py hold PORT N SECONDS   N connections that send nothing, held open
  raw.py late PORT FILE        connect, print the local port, send nothing
                               until FILE exists, then one request: prints
                               as count does

REQUEST takes Python escapes (\\r\\n, \\x00); "HUGE" in it becomes 9 KiB of a header.
"""
import codecs
import re
import socket
import sys
import time
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # "\\." in a request is meant

LEAKS = (b"root:x:0:0", b"SQLite format 3")


def connect(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    return s


def request_bytes(text):
    raw = codecs.decode(text, "unicode_escape").encode("latin-1")
    return raw.replace(b"HUGE", b"X-Big: " + b"a" * 9216)


def read_all(s, limit=10.0):
    """Everything until the server closes (or limit seconds of silence)."""
    data, closed = b"", False
    s.settimeout(limit)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    return data, closed


def statuses(data):
    return re.findall(rb"^HTTP/1\.1 (\d{3}) ", data, re.M)


def main():
    mode, port = sys.argv[1], sys.argv[2]
    if mode in ("req", "count"):
        s = connect(port)
        s.sendall(request_bytes(sys.argv[3]))
        data, closed = read_all(s, 3.0 if mode == "req" else 10.0)
        codes = [c.decode() for c in statuses(data)]
        if mode == "req":
            out = codes[0] if codes else "none"
            if any(m in data for m in LEAKS):
                out += " LEAK"
        else:
            out = " ".join(codes + ["closed" if closed else "open"])
        print(out)
    elif mode == "slow":
        s = connect(port)
        start = time.monotonic()
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        s.settimeout(0.5)
        try:
            while time.monotonic() - start < 30:
                try:
                    if s.recv(4096) == b"":
                        break
                except socket.timeout:
                    s.sendall(b"X-Slow: 1\r\n")
            else:
                print("open")
                return
        except (BrokenPipeError, ConnectionResetError):
            pass
        print(round(time.monotonic() - start, 1))
    elif mode == "idle":
        s = connect(port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(30)
        data = s.recv(65536)
        start = time.monotonic()
        rest, closed = read_all(s, 30)
        print(round(time.monotonic() - start, 1) if closed else "open")
    elif mode == "hold":
        conns = [connect(port) for _ in range(int(sys.argv[3]))]
        time.sleep(float(sys.argv[4]))
        for c in conns:
            c.close()
    elif mode == "late":
        import os
        s = connect(port)
        print(s.getsockname()[1], flush=True)
        for _ in range(600):
            if os.path.exists(sys.argv[3]):
                break
            time.sleep(0.05)
        try:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            data, closed = read_all(s, 10.0)
        except (BrokenPipeError, ConnectionResetError):
            data, closed = b"", True
        print(" ".join([c.decode() for c in statuses(data)] + ["closed" if closed else "open"]), flush=True)
    else:
        sys.exit(__doc__)


main()
