#!/bin/sh
# Seal secret values for one service of one environment with kubeseal, and
# print the encryptedData block to paste into helm/cadenza/values-<env>.yaml.
#
#   seal-secrets.sh ENV SERVICE KEY=@FILE|KEY=- ...
#
#   ENV       staging | production (namespace cadenza-ENV, release cadenza)
#   SERVICE   user | admin | song | media-worker | migrate
#   KEY=@FILE the value is the file's content (PEM keys)
#   KEY=-     the value is read from the terminal (not echoed)
#
# Needs kubeseal and either cluster access (it fetches the controller's
# certificate) or SEALED_SECRETS_CERT=cert.pem (kubeseal --fetch-cert > cert.pem,
# done once by someone with access; the certificate is public).
# Values never touch the disk here and are sealed for the exact Secret name and
# namespace (strict scope), so a ciphertext is useless anywhere else.
set -eu

[ $# -ge 3 ] || { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
env=$1 svc=$2; shift 2
case $env in staging|production) ;; *) echo "seal: ENV must be staging or production" >&2; exit 2 ;; esac
case $svc in
  user|admin|song) name="cadenza-$svc-svc"; path="services:\n  $svc:\n    secret:\n      encryptedData:"; ind="        " ;;
  media-worker) name="cadenza-media-worker"; path="mediaWorker:\n  secret:\n    encryptedData:"; ind="      " ;;
  migrate) name="cadenza-migrate"; path="migration:\n  secret:\n    encryptedData:"; ind="      " ;;
  *) echo "seal: SERVICE must be user, admin, song, media-worker or migrate" >&2; exit 2 ;;
esac
command -v kubeseal >/dev/null || { echo "seal: kubeseal is not installed" >&2; exit 1; }
cert=""
[ -z "${SEALED_SECRETS_CERT:-}" ] || cert="--cert=$SEALED_SECRETS_CERT"

printf "# values-%s.yaml\n$path\n" "$env"
for pair in "$@"; do
  key=${pair%%=*} src=${pair#*=}
  case $key in ''|*[!A-Z0-9_]*) echo "seal: bad key '$key'" >&2; exit 2 ;; esac
  if [ "$src" = "-" ]; then
    printf '%s: ' "$key" >&2
    stty -echo 2>/dev/null || true; IFS= read -r value; stty echo 2>/dev/null || true; echo >&2
    # shellcheck disable=SC2086 # $cert is empty or one word
    sealed=$(printf '%s' "$value" | kubeseal --raw $cert --scope strict --namespace "cadenza-$env" --name "$name" --from-file=/dev/stdin)
    value=""
  else
    file=${src#@}
    [ -f "$file" ] || { echo "seal: no such file $file" >&2; exit 2; }
    # shellcheck disable=SC2086
    sealed=$(kubeseal --raw $cert --scope strict --namespace "cadenza-$env" --name "$name" --from-file="$file")
  fi
  printf '%s%s: %s\n' "$ind" "$key" "$sealed"
done
