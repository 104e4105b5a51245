# shellcheck shell=bash
# Sourced by dev.d/test/65-alerts.sh and dev.d/up/45-prometheus.sh.
#
# ensure_prometheus_bins: Debian's prometheus package, unpacked (never
# installed: installing it would enable and start a system daemon) into
# .dev/ops/prometheus/<version>/, stamped by the package version apt offers.
# Sets PROMTOOL and PROMETHEUS (absolute paths). Needs apt-get and dpkg-deb.
#   CADENZA_PROMETHEUS_DEB=FILE  use this .deb instead of apt-get download

# Both callers have loaded it already (then this returns at once).
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ensure_prometheus_bins() {
  local root ops base version dir tmp deb
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  ops="$root/.dev/ops"
  base="$ops/prometheus"
  mkdir -p "$base" "$ops/stamps"
  if [[ -n "${CADENZA_PROMETHEUS_DEB:-}" ]]; then
    version=$(dpkg-deb -f "$CADENZA_PROMETHEUS_DEB" Version)
  else
    version=$(apt-cache policy prometheus 2>/dev/null | sed -n 's/^ *Candidate: *//p')
    if [[ -z "$version" || "$version" == "(none)" ]]; then
      # A fresh machine or container: no package lists yet.
      local sudo=()
      ((EUID == 0)) || sudo=(sudo -n)
      "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
      version=$(apt-cache policy prometheus 2>/dev/null | sed -n 's/^ *Candidate: *//p')
    fi
    [[ -n "$version" && "$version" != "(none)" ]] || {
      echo "no prometheus package in the apt sources" >&2
      return 1
    }
  fi
  dir="$base/$version"
  if [[ ! -x "$dir/usr/bin/promtool" || ! -x "$dir/usr/bin/prometheus" ||
    "$(cat "$ops/stamps/prometheus" 2>/dev/null)" != "$version" ]]; then
    tmp=$(mktemp -d)
    if [[ -n "${CADENZA_PROMETHEUS_DEB:-}" ]]; then
      deb=$CADENZA_PROMETHEUS_DEB
    else
      # apt-get download writes to the current directory; the _apt sandbox
      # user may not write into $tmp, so the download runs unsandboxed there.
      (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "prometheus=$version" >/dev/null 2>&1) || {
        rm -rf "$tmp"
        echo "apt-get download prometheus=$version failed" >&2
        return 1
      }
      deb=$(find "$tmp" -maxdepth 1 -name 'prometheus_*.deb' | head -n 1)
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    dpkg-deb -x "$deb" "$dir"
    rm -rf "$tmp"
    [[ -x "$dir/usr/bin/promtool" && -x "$dir/usr/bin/prometheus" ]] || {
      echo "the prometheus package has no usr/bin/promtool or usr/bin/prometheus" >&2
      return 1
    }
    # Older unpacked versions are dead weight (100 MB each).
    find "$base" -mindepth 1 -maxdepth 1 -type d ! -name "$version" -exec rm -rf {} +
    printf '%s' "$version" >"$ops/stamps/prometheus"
  fi
  PROMTOOL="$dir/usr/bin/promtool"
  PROMETHEUS="$dir/usr/bin/prometheus"
  export PROMTOOL PROMETHEUS
}

# ensure_prometheus_ui: the classic web UI of the Debian package links its
# JavaScript libraries from ../../../javascript (the libjs-* packages); unpack
# those packages into the same tree (no system install), once per version.
# Call after ensure_prometheus_bins.
ensure_prometheus_ui() {
  local dir ops stamp tmp deb pkgs
  dir=$(dirname "$(dirname "$(dirname "$PROMETHEUS")")")
  ops=$(cd "$dir/../.." && pwd)
  stamp="$ops/stamps/prometheus-ui"
  [[ "$(cat "$stamp" 2>/dev/null)" == "$dir" && -e "$dir/usr/share/javascript/jquery" ]] && return 0
  # The web UI's dependencies of Debian 12's prometheus package, plus what they need.
  pkgs=(fonts-glyphicons-halflings libjs-bootstrap4 libjs-eonasdan-bootstrap-datetimepicker libjs-jquery
    libjs-jquery-hotkeys libjs-moment libjs-moment-timezone libjs-mustache libjs-popper.js libjs-rickshaw)
  # With their own dependencies; downloaded even when installed system-wide (the tree is self-contained).
  mapfile -t pkgs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances --no-pre-depends "${pkgs[@]}" 2>/dev/null | grep -E '^(libjs|fonts|javascript)-' | sort -u)
  tmp=$(mktemp -d)
  if ((${#pkgs[@]} > 0)); then
    (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "${pkgs[@]}" >/dev/null 2>&1) || {
      rm -rf "$tmp"
      echo "apt-get download ${pkgs[*]} failed (the web UI lacks its scripts; the API works)" >&2
      return 1
    }
  fi
  for deb in "$tmp"/*.deb; do
    [[ -e "$deb" ]] && dpkg-deb -x "$deb" "$dir"
  done
  rm -rf "$tmp"
  [[ -e "$dir/usr/share/javascript/jquery" ]] || {
    echo "libjs-jquery did not unpack into $dir" >&2
    return 1
  }
  printf '%s' "$dir" >"$stamp"
}
