#!/usr/bin/env python3
"""Prints an RS256 access token (CONTRACTS §3) signed with a PEM key.

  mint_token.py PRIVATE_KEY_PEM KID [TTL_SECONDS]
"""
import base64
import json
import pathlib
import sys
import time
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main(pem_path, kid, ttl="3600"):
    key = serialization.load_pem_private_key(pathlib.Path(pem_path).read_bytes(), password=None)
    now = int(time.time())
    header = {"alg": "RS256", "typ": "at+jwt", "kid": kid}
    claims = {
        "iss": "cadenza-user", "aud": "cadenza-api", "sub": "bench-user",
        "email": "bench@cadenza.test", "role": "user", "isVerified": True,
        "sid": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + int(ttl),
        "jti": str(uuid.uuid4()),
    }
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    print(signing_input + "." + b64url(sig))


if __name__ == "__main__":
    main(*sys.argv[1:])
