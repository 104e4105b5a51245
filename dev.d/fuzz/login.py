#!/usr/bin/env python3
"""Log in through the real user-svc API and print the access token.

    login.py BASE_URL EMAIL PASSWORD      e.g. http://127.0.0.1:5000

A 429 (login rate limit) is waited out, honouring Retry-After, for at most
90 s in total. Standard library only.
"""
import json
import sys
import time
import urllib.error
import urllib.request


def login(base: str, email: str, password: str) -> str:
    body = json.dumps({"email": email, "password": password}).encode()
    deadline = time.monotonic() + 90
    while True:
        req = urllib.request.Request(
            f"{base.rstrip('/')}/api/user/login",
            data=body,
            headers={"Content-Type": "application/json", "User-Agent": "cadenza-fuzz"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.load(resp)["accessToken"]
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:300]
            if e.code == 429 and time.monotonic() < deadline:
                wait = min(int(e.headers.get("Retry-After") or 5), 60)
                print(f"login {email}: 429, retrying in {wait}s", file=sys.stderr)
                time.sleep(wait)
                continue
            sys.exit(f"login {email} at {base}: HTTP {e.code}: {detail}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    print(login(*sys.argv[1:]))
