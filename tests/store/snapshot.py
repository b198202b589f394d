#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Read (and, for attack tests, forge) the NSS snapshot, format version 2
(lib/store/snapshot.h), independently of the C reader.

  snapshot.py users FILE          user names of pool accounts (key not empty)
  snapshot.py generation FILE     the header's generation
  snapshot.py set-uid FILE NAME UID   rewrite NAME's uid and fix the header check
"""
import struct
import sys

HEADER = struct.Struct("<8sIIQQ13I4x")
FIELDS = ("magic version header_size generation size n_users n_groups users groups by_name by_uid by_sid "
          "by_key gr_by_name gr_by_gid strings strings_size check").split()
UREC = struct.Struct("<6I")


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def load(path):
    data = bytearray(open(path, "rb").read())
    h = dict(zip(FIELDS, HEADER.unpack_from(data)))
    assert h["magic"] == b"APIDSNAP" and h["version"] == 2, "not a version 2 snapshot"
    assert h["check"] == fnv1a(data[:HEADER.size - 8]), "header check value"
    return data, h


def string(data, h, off):
    start = h["strings"] + off
    return data[start:data.index(b"\0", start)].decode()


def users(data, h):
    for i in range(h["n_users"]):
        name, uid, gecos, home, key, sid = UREC.unpack_from(data, h["users"] + i * UREC.size)
        yield i, string(data, h, name), uid, string(data, h, key)


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    data, h = load(path)
    if cmd == "users":
        print(" ".join(sorted(name for _, name, _, key in users(data, h) if key)))
    elif cmd == "generation":
        print(h["generation"])
    elif cmd == "set-uid":
        for i, name, _, _ in users(data, h):
            if name == sys.argv[3]:
                struct.pack_into("<I", data, h["users"] + i * UREC.size + 4, int(sys.argv[4]))
        struct.pack_into("<I", data, HEADER.size - 8, fnv1a(data[:HEADER.size - 8]))
        open(path, "wb").write(data)


main()
