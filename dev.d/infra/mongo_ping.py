"""Ping the dev MongoDB server (SecantusDB) on 127.0.0.1:PORT with
{ping: 1, $db: "admin"} (mongo_wire.py, no driver needed); exit 0 on
ok: 1, 1 otherwise.

Run by `./dev` (check_mongo):
    mongo_ping.py PORT
"""
import sys

from mongo_wire import command_ok, el_int, el_str

try:
    ok = command_ok("127.0.0.1", int(sys.argv[1]), el_int("ping", 1), el_str("$db", "admin"),
                    timeout=2)
except OSError:
    ok = False
sys.exit(0 if ok else 1)
