#!/usr/bin/env python3
"""Reference CloudFront signatures from botocore + cryptography.

  gen_vectors.py sign KEY_PEM KEY_PAIR_ID URL EXPIRES [RESOURCE]
      print botocore's signed URL: canned policy, or a custom policy for
      RESOURCE (wildcards allowed) when given. RSA keys sign with SHA-1, or
      SHA-256 when HASH=SHA256; ECDSA P-256 keys with SHA-256 (DER). A
      SHA-256 URL ends with &Hash-Algorithm=SHA256.
  gen_vectors.py verify PUBLIC_PEM SIGNED_URL
      check a canned-policy signed URL with cryptography alone (the policy
      rebuilt by botocore); exit 1 if it does not verify
  gen_vectors.py vectors > vectors.json
      the committed vectors, from the testkit fixture keys
"""
import base64
import datetime
import os
import json
import pathlib
import sys

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "testkit" / "fixtures"


def sha256_wanted(key):
    return isinstance(key, ec.EllipticCurvePrivateKey) or os.environ.get("HASH") == "SHA256"


def signer(pem_path, key_pair_id):
    key = serialization.load_pem_private_key(pathlib.Path(pem_path).read_bytes(), password=None)

    def sign(message):
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(message, ec.ECDSA(hashes.SHA256()))
        digest = hashes.SHA256() if sha256_wanted(key) else hashes.SHA1()
        return key.sign(message, padding.PKCS1v15(), digest)

    return CloudFrontSigner(key_pair_id, sign), sha256_wanted(key)


def b64_decode(text):
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def verify(pub_path, signed):
    key = serialization.load_pem_public_key(pathlib.Path(pub_path).read_bytes())
    base, query = signed.split("?", 1)
    params, kept = {}, []
    for p in query.split("&"):
        name, _, value = p.partition("=")
        if name in ("Expires", "Signature", "Key-Pair-Id", "Hash-Algorithm"):
            params[name] = value
        else:
            kept.append(p)
    resource = base + ("?" + "&".join(kept) if kept else "")
    policy = CloudFrontSigner(params["Key-Pair-Id"], None).build_policy(
        resource, when(params["Expires"])
    ).encode()
    signature = b64_decode(params["Signature"])
    sha256 = params.get("Hash-Algorithm") == "SHA256"
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if not sha256:
                sys.exit("an ECDSA signature without Hash-Algorithm=SHA256")
            key.verify(signature, policy, ec.ECDSA(hashes.SHA256()))
        else:
            digest = hashes.SHA256() if sha256 else hashes.SHA1()
            key.verify(signature, policy, padding.PKCS1v15(), digest)
    except InvalidSignature:
        sys.exit("signature does not verify")
    print("ok")


def when(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)


def main(argv):
    if argv[1] == "sign":
        pem, kp, url, expires = argv[2:6]
        s, sha256 = signer(pem, kp)
        if len(argv) > 6:
            policy = s.build_policy(argv[6], when(expires))
            out = s.generate_presigned_url(url, policy=policy)
        else:
            out = s.generate_presigned_url(url, date_less_than=when(expires))
        print(out + ("&Hash-Algorithm=SHA256" if sha256 else ""))
    elif argv[1] == "verify":
        verify(argv[2], argv[3])
    elif argv[1] == "vectors":
        out = []
        for form, name in (("pkcs8", "cloudfront-test.key.pem"), ("pkcs1", "cloudfront-test.pkcs1.pem")):
            s, _ = signer(FIXTURES / name, "K2JCJMDEHXQW5F")
            for url, expires in (
                ("https://d111111abcdef8.cloudfront.net/songs/3f1c.mp3", 1767225600),
                ("http://127.0.0.1:8090/songs/x.ogg?a=1", 2000000000),
            ):
                out.append({
                    "key": form,
                    "url": url,
                    "expires": expires,
                    "signed": s.generate_presigned_url(url, date_less_than=when(expires)),
                })
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
