#!/usr/bin/env python3
"""Drop one MongoDB database with a raw OP_MSG (no driver needed).

    mongo_drop.py MONGODB_URI DB     e.g. mongodb://127.0.0.1:57017/?directConnection=true

Exits 0 when the server answered ok: 1 (a missing database is ok too).
"""
import socket
import struct
import sys
from urllib.parse import urlparse


def cstr(s: str) -> bytes:
    return s.encode() + b"\0"


def bson_doc(*elems: bytes) -> bytes:
    body = b"".join(elems)
    return struct.pack("<i", len(body) + 5) + body + b"\0"


def el_int(name: str, v: int) -> bytes:
    return b"\x10" + cstr(name) + struct.pack("<i", v)


def el_str(name: str, v: str) -> bytes:
    raw = v.encode()
    return b"\x02" + cstr(name) + struct.pack("<i", len(raw) + 1) + raw + b"\0"


def main(uri: str, db: str) -> int:
    u = urlparse(uri)
    doc = bson_doc(el_int("dropDatabase", 1), el_str("$db", db))
    msg = struct.pack("<I", 0) + b"\0" + doc
    s = socket.create_connection((u.hostname or "127.0.0.1", u.port or 27017), timeout=10)
    s.sendall(struct.pack("<iiii", 16 + len(msg), 1, 0, 2013) + msg)
    data = b""
    while len(data) < 4 or len(data) < struct.unpack("<i", data[:4])[0]:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    ok = b"\x01ok\0" + struct.pack("<d", 1.0) in data or b"\x10ok\0" + struct.pack("<i", 1) in data
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
