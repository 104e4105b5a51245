#!/usr/bin/env bash
# Dev signing keys in .dev/keys (git-ignored), generated once with openssl:
#   jwt.key.pem / jwt.pub.pem                  RS256 access tokens (PKCS#8 / SPKI)
#   cloudfront.key.pem / cloudfront.pub.pem    CloudFront signed URLs (ECDSA P-256, PKCS#8 / SPKI)
#   cloudfront.key-pair-id                     the key pair id the dev CDN edge expects
# Idempotent: existing keys are kept, so tokens and URLs survive restarts.
set -euo pipefail
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v openssl >/dev/null || ensure_apt openssl

KEYS="$CADENZA_DEV/keys"
mkdir -p "$KEYS"
chmod 700 "$KEYS"

# key_pair NAME rsa|ec: NAME.key.pem (PKCS#8, mode 600) and NAME.pub.pem;
# RSA-2048 or ECDSA P-256. An existing key is kept, whatever its kind.
key_pair() {
  local key="$KEYS/$1.key.pem" pub="$KEYS/$1.pub.pem" tmp
  local -a alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)
  [[ $2 == ec ]] && alg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256)
  if [[ ! -s "$key" ]]; then
    tmp=$(mktemp "$KEYS/.$1.XXXXXX")
    (umask 077 && openssl genpkey "${alg[@]}" -out "$tmp" 2>/dev/null) ||
      die "openssl could not generate $key"
    mv -f "$tmp" "$key"
    rm -f "$pub"
    log "generated $1 signing key (${key#"$CADENZA_ROOT"/})"
  fi
  chmod 600 "$key"
  if [[ ! -s "$pub" ]]; then
    openssl pkey -in "$key" -pubout -out "$pub" 2>/dev/null || die "openssl could not derive $pub"
  fi
}

# JWTs are RS256 (CONTRACTS); CloudFront URLs are signed with ECDSA P-256
# (SHA-256), the default for new key pairs (crates/cdn/README.md).
key_pair jwt rsa
key_pair cloudfront ec

if [[ ! -s "$KEYS/cloudfront.key-pair-id" ]]; then
  # CloudFront public key ids look like K2JCJMDEHXQW5F: K + 13 upper-case alphanumerics.
  printf 'K%s\n' "$(openssl rand -hex 16 | tr 'a-f' 'A-F' | cut -c1-13)" >"$KEYS/cloudfront.key-pair-id"
fi
log "keys ready in ${KEYS#"$CADENZA_ROOT"/} (cloudfront key pair id $(cat "$KEYS/cloudfront.key-pair-id"))"
