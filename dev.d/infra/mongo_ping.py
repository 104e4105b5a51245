"""Ping the dev MongoDB server (SecantusDB) on 127.0.0.1:PORT with an OP_MSG
{ping: 1, $db: "admin"} over a raw socket (no driver needed); exit 0 on
{ok: 1.0}, 1 otherwise.

Run by `./dev` (check_mongo):
    mongo_ping.py PORT
"""
import socket, struct, sys
def cstr(s): return s.encode() + b"\0"
body = (b"\x10" + cstr("ping") + struct.pack("<i", 1)
        + b"\x02" + cstr("$db") + struct.pack("<i", 6) + cstr("admin"))
doc = struct.pack("<i", len(body) + 5) + body + b"\0"
msg = struct.pack("<I", 0) + b"\0" + doc
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    s.sendall(struct.pack("<iiii", 16 + len(msg), 1, 0, 2013) + msg)
    data = b""
    while len(data) < 4 or len(data) < struct.unpack("<i", data[:4])[0]:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError:
    sys.exit(1)
sys.exit(0 if b"\x01ok\0" + struct.pack("<d", 1.0) in data else 1)
