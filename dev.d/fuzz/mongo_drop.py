#!/usr/bin/env python3
"""Drop one MongoDB database with a raw OP_MSG (dev.d/infra/mongo_wire.py,
no driver needed).

    mongo_drop.py MONGODB_URI DB     e.g. mongodb://127.0.0.1:57017/?directConnection=true

Exits 0 when the server answered ok: 1 (a missing database is ok too).
"""
import os
import sys
from urllib.parse import urlparse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "infra"))
from mongo_wire import command_ok, el_int, el_str  # noqa: E402


def main(uri: str, db: str) -> int:
    u = urlparse(uri)
    ok = command_ok(u.hostname or "127.0.0.1", u.port or 27017,
                    el_int("dropDatabase", 1), el_str("$db", db))
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
