"""One MongoDB command over a raw socket (OP_MSG), for the dev scripts that
must talk to the dev MongoDB server (SecantusDB) before any driver is
installed: `mongo_ping.py` (./dev) and `dev.d/fuzz/mongo_drop.py`.
"""
import socket
import struct


def cstr(s: str) -> bytes:
    return s.encode() + b"\0"


def el_int(name: str, v: int) -> bytes:
    return b"\x10" + cstr(name) + struct.pack("<i", v)


def el_str(name: str, v: str) -> bytes:
    raw = v.encode()
    return b"\x02" + cstr(name) + struct.pack("<i", len(raw) + 1) + raw + b"\0"


def bson_doc(*elems: bytes) -> bytes:
    body = b"".join(elems)
    return struct.pack("<i", len(body) + 5) + body + b"\0"


def command_ok(host: str, port: int, *elems: bytes, timeout: float = 10) -> bool:
    """Sends the command document made of `elems` (include `$db`) and tells
    whether the reply says ok: 1 (as a double or an int32). Raises OSError
    when the server cannot be reached."""
    msg = struct.pack("<I", 0) + b"\0" + bson_doc(*elems)
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(struct.pack("<iiii", 16 + len(msg), 1, 0, 2013) + msg)
        data = b""
        while len(data) < 4 or len(data) < struct.unpack("<i", data[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return (b"\x01ok\0" + struct.pack("<d", 1.0) in data
            or b"\x10ok\0" + struct.pack("<i", 1) in data)
