#!/usr/bin/env python3
"""Reference CloudFront signatures from botocore + cryptography.

  gen_vectors.py sign KEY_PEM KEY_PAIR_ID URL EXPIRES [RESOURCE]
      print botocore's signed URL: canned policy, or a custom policy for
      RESOURCE (wildcards allowed) when given
  gen_vectors.py vectors > vectors.json
      the committed vectors, from the testkit fixture keys
"""
import datetime
import json
import pathlib
import sys

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "testkit" / "fixtures"


def signer(pem_path, key_pair_id):
    key = serialization.load_pem_private_key(pathlib.Path(pem_path).read_bytes(), password=None)

    def rsa_signer(message):
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())

    return CloudFrontSigner(key_pair_id, rsa_signer)


def when(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)


def main(argv):
    if argv[1] == "sign":
        pem, kp, url, expires = argv[2:6]
        s = signer(pem, kp)
        if len(argv) > 6:
            policy = s.build_policy(argv[6], when(expires))
            print(s.generate_presigned_url(url, policy=policy))
        else:
            print(s.generate_presigned_url(url, date_less_than=when(expires)))
    elif argv[1] == "vectors":
        out = []
        for form, name in (("pkcs8", "cloudfront-test.key.pem"), ("pkcs1", "cloudfront-test.pkcs1.pem")):
            s = signer(FIXTURES / name, "K2JCJMDEHXQW5F")
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
