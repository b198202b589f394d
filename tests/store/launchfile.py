#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Read (and, for tests, forge) the launch settings file, version 1
(lib/launchsettings.c), independently of the C reader.

  launchfile.py generation FILE        the header's generation
  launchfile.py keys FILE              the pool keys it holds, in index order
  launchfile.py dump FILE              every record, one a line, in index order
  launchfile.py set-generation FILE N  rewrite the generation, header check fixed
  launchfile.py set-uid FILE KEY UID   rewrite KEY's uid (header check still valid)
"""
import struct
import sys

HEADER = struct.Struct("<8sIIQQIIII")
FIELDS = "magic version header_size generation size n_pools index dir check".split()
CHECK_AT = HEADER.size - 4


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def load(path):
    data = bytearray(open(path, "rb").read())
    h = dict(zip(FIELDS, HEADER.unpack_from(data)))
    assert h["magic"] == b"APIDLNCH" and h["version"] == 1, "not a version 1 launch settings file"
    assert h["check"] == fnv1a(data[:CHECK_AT]), "header check value"
    assert h["size"] == len(data), "size"
    return data, h


def records(data, h):
    for i in range(h["n_pools"]):
        off, = struct.unpack_from("<I", data, h["index"] + 4 * i)
        size, uid = struct.unpack_from("<2I", data, off)
        key = data[off + 20:data.index(b"\0", off + 20)].decode()
        yield off, key, uid


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    data, h = load(path)
    if cmd == "generation":
        print(h["generation"])
    elif cmd == "keys":
        print(" ".join(k for _, k, _ in records(data, h)))
    elif cmd == "dump":
        for off, key, _ in records(data, h):
            size, uid, probe, shared_gid, n = struct.unpack_from("<5I", data, off)
            strings = bytes(data[off + 20:off + size]).split(b"\0")
            print(uid, probe, shared_gid, n, *(x.decode() for x in strings[:4 + 2 * n]))
    elif cmd == "set-generation":
        struct.pack_into("<Q", data, 16, int(sys.argv[3]))
        struct.pack_into("<I", data, CHECK_AT, fnv1a(data[:CHECK_AT]))
        open(path, "wb").write(data)
    elif cmd == "set-uid":
        for off, key, _ in records(data, h):
            if key == sys.argv[3]:
                struct.pack_into("<I", data, off + 4, int(sys.argv[4]))
        open(path, "wb").write(data)


main()
