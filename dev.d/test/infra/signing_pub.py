"""Print the PEM public key (SubjectPublicKeyInfo) of a fresh, throwaway
2048-bit RSA key: the PublicKey parameter of the edge stack that
dev.d/test/62-infra.sh deploys into moto.

    signing_pub.py > signing.pub
"""
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
print(key.public_key().public_bytes(serialization.Encoding.PEM,
      serialization.PublicFormat.SubjectPublicKeyInfo).decode(), end="")
