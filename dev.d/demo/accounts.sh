# shellcheck shell=bash
# The demo accounts, as user-svc creates them when it is ready
# (dev.d/services/user-svc.sh, after_ready; read from that file so there is
# one source of truth; the values below are its fallbacks).
# Sourced by dev.d/up/60-demo-data.sh and dev.d/test/70-e2e.sh. Exports
# CADENZA_DEMO_{ADMIN,USER}_{EMAIL,PASSWORD} unless already set.

# For CADENZA_ROOT. Every caller has loaded it already: then this returns at
# once and changes nothing in the caller.
# shellcheck source=dev.d/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

_demo_from_hook() { # VAR FALLBACK
  local hook="$CADENZA_ROOT/dev.d/services/user-svc.sh" v=''
  if [[ -f "$hook" ]]; then
    v=$(sed -nE "s/^$1=['\"]?([^'\"]*)['\"]?\$/\\1/p" "$hook" | head -n 1)
  fi
  printf '%s' "${v:-$2}"
}

export CADENZA_DEMO_ADMIN_EMAIL="${CADENZA_DEMO_ADMIN_EMAIL:-$(_demo_from_hook DEMO_ADMIN_EMAIL admin@cadenza.local)}"
export CADENZA_DEMO_ADMIN_PASSWORD="${CADENZA_DEMO_ADMIN_PASSWORD:-$(_demo_from_hook DEMO_ADMIN_PASSWORD Cadenza-Demo-Conductor-2026)}"
export CADENZA_DEMO_USER_EMAIL="${CADENZA_DEMO_USER_EMAIL:-$(_demo_from_hook DEMO_LISTENER_EMAIL listener@cadenza.local)}"
export CADENZA_DEMO_USER_PASSWORD="${CADENZA_DEMO_USER_PASSWORD:-$(_demo_from_hook DEMO_LISTENER_PASSWORD Cadenza-Demo-Listener-2026)}"
