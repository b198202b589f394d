#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Read (and, for attack tests, forge) the NSS snapshot, format version 3
(lib/store/snapshot.h), independently of the C reader. A delta head is read
with its base (FILE.base-GEN): the base's users that the delta neither
replaces nor removes, then the delta's.

  snapshot.py users FILE          user names of pool accounts (key not empty)
  snapshot.py generation FILE     the header's generation
  snapshot.py base FILE           the base generation the head needs (0: none)
  snapshot.py set-uid FILE NAME UID   rewrite NAME's uid (in the head, or in
                                      its base) and fix the header check
"""
import struct
import sys

HEADER = struct.Struct("<8sIIQQ16IQI4x")
FIELDS = ("magic version header_size generation size n_users n_groups users groups by_name by_uid by_sid "
          "by_key gr_by_name gr_by_gid strings strings_size gone_uids n_gone_uids gone_gids n_gone_gids "
          "base_generation check").split()
UREC = struct.Struct("<6I")
CHECK_AT = HEADER.size - 8


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def load(path):
    data = bytearray(open(path, "rb").read())
    h = dict(zip(FIELDS, HEADER.unpack_from(data)))
    assert h["magic"] == b"APIDSNAP" and h["version"] == 3, "not a version 3 snapshot"
    assert h["check"] == fnv1a(data[:CHECK_AT]), "header check value"
    return data, h


def string(data, h, off):
    start = h["strings"] + off
    return data[start:data.index(b"\0", start)].decode()


def users(data, h):
    for i in range(h["n_users"]):
        name, uid, gecos, home, key, sid = UREC.unpack_from(data, h["users"] + i * UREC.size)
        yield i, string(data, h, name), uid, string(data, h, key)


def merged(path):
    """(name, uid, key) of every user the head and its base hold together."""
    data, h = load(path)
    out = []
    if h["base_generation"]:
        bdata, bh = load("%s.base-%d" % (path, h["base_generation"]))
        assert bh["generation"] == h["base_generation"] and bh["base_generation"] == 0, "base"
        gone = set(struct.unpack_from("<%dI" % h["n_gone_uids"], data, h["gone_uids"]))
        gone |= {uid for _, _, uid, _ in users(data, h)}
        out += [(n, u, k) for _, n, u, k in users(bdata, bh) if u not in gone]
    out += [(n, u, k) for _, n, u, k in users(data, h)]
    return out


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    data, h = load(path)
    if cmd == "users":
        print(" ".join(sorted(name for name, _, key in merged(path) if key)))
    elif cmd == "generation":
        print(h["generation"])
    elif cmd == "base":
        print(h["base_generation"])
    elif cmd == "set-uid":
        for target in ([path] + (["%s.base-%d" % (path, h["base_generation"])] if h["base_generation"] else [])):
            data, h = load(target)
            hit = False
            for i, name, _, _ in users(data, h):
                if name == sys.argv[3]:
                    struct.pack_into("<I", data, h["users"] + i * UREC.size + 4, int(sys.argv[4]))
                    hit = True
            if hit:
                struct.pack_into("<I", data, CHECK_AT, fnv1a(data[:CHECK_AT]))
                open(target, "wb").write(data)
                break


main()
