"""Signs in every account of an accounts file against user-svc and writes
one refresh token per line to SESSIONS and one access token per line to
ACCESS (bench/user-svc.sh). Each sign-in comes from its own client address
(X-Forwarded-For, believed from 127.0.0.1).

    python sessions.py BASE_URL ACCOUNTS SESSIONS ACCESS
"""

import json
import re
import sys
import urllib.request


def main() -> None:
    base, accounts, sessions, access = sys.argv[1:5]
    refresh_tokens, access_tokens = [], []
    with open(accounts, encoding="utf-8") as f:
        pairs = [line.split() for line in f if line.strip()]
    for n, (email, password) in enumerate(pairs):
        req = urllib.request.Request(
            f"{base}/api/user/login",
            data=json.dumps({"email": email, "password": password}).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Forwarded-For": f"10.250.{n // 250}.{n % 250 + 1}",
            },
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = json.load(resp)
            cookies = resp.headers.get_all("Set-Cookie") or []
        token = next(
            (m.group(1) for c in cookies if (m := re.match(r"refreshToken=([^;]+)", c))),
            None,
        )
        if not token:
            sys.exit(f"login of {email} set no refreshToken cookie")
        refresh_tokens.append(token)
        access_tokens.append(body["accessToken"])
    with open(sessions, "w", encoding="utf-8") as f:
        f.write("\n".join(refresh_tokens) + "\n")
    with open(access, "w", encoding="utf-8") as f:
        f.write("\n".join(access_tokens) + "\n")


if __name__ == "__main__":
    main()
