#!/usr/bin/env bash
# Schema fuzzing (issue 8): schemathesis against each service's own OpenAPI
# 3.1 document, directly on the service ports (not through the gateway), with
# real access tokens obtained by logging in through the API. Checks:
# not_a_server_error, status_code_conformance, content_type_conformance,
# response_schema_conformance. Any failure, or fewer than FUZZ_MIN_CASES
# generated cases for a service, fails the hook. Findings are fixed in the
# services, never suppressed here.
#
# What runs where:
#   song-svc   a private instance on :$FUZZ_SONG_PORT of the binary ./dev up
#              just built, reading the demo catalogue (`cadenza`; the API is
#              read-only) with its own REDIS_NAMESPACE, so that its cache and
#              load stay apart from whoever is using :7000 meanwhile.
#              Listener token: the demo listener, logged in on :5000.
#   admin-svc  a private instance on :$FUZZ_ADMIN_PORT started and stopped
#              here, with its own database (cadenza_fuzz, migrated with
#              `admin-svc migrate`, seeded with dev.d/fuzz/seed-admin.sql),
#              bucket (cadenza-fuzz) and REDIS_NAMESPACE: DELETE album/song
#              can never touch the demo catalogue, its media or song-svc's
#              cache. Admin token: the demo admin, logged in on :5000.
#   user-svc   a private instance on :$FUZZ_USER_PORT with its own MONGODB_DB
#              (cadenza_fuzz), SQS queue and REDIS_NAMESPACE, so that the
#              thousands of registrations, logins and emails the fuzzer asks
#              for land nowhere near the demo accounts or the mailer. Tokens:
#              accounts created there with `user-svc user create`, logged in
#              through that instance's /login.
#              Operations that end the caller's own sessions (logout,
#              logout-all, change-password, DELETE /sessions/{id}) run in
#              runs of their own, each as a throwaway user created for it:
#              run with the fuzzing user's token, the first success would
#              revoke it and every later case would only ever see 401,
#              hiding the authenticated behaviour of the other operations.
#              Nothing is excluded. set-password stays in the main run: it
#              authenticates by a single-use reset token, which the fuzzer
#              cannot forge, so it cannot end anyone's session.
#
# Rate limits: login, register, forgot-password, resend-verification and
# refresh answer 429 (documented in the OpenAPI) once the fuzzer floods them.
# That is the behaviour under test, not excluded; the script clears the
# private instance's rate-limit counters before each of its own logins.
#
# Reproducible: --generation-deterministic (derandomized Hypothesis), no
# example database (implied), all four phases (examples, coverage, fuzzing, stateful).
#
#   FUZZ_MAX_EXAMPLES=100   --max-examples per operation
#   FUZZ_MIN_CASES=1000     generated cases required per service
#   FUZZ_WORKERS=1          schemathesis workers (threads); more than one trips
#                           CPython 3.11's ast recursion-depth bug (gh-106905:
#                           "AST constructor recursion depth mismatch") in
#                           schemathesis' coverage phase
#   FUZZ_RUN_TIMEOUT=900    seconds, per schemathesis run
#   FUZZ_SKIP_UP=1          do not run ./dev up (the platform is running)
#   FUZZ_ONLY="song admin user"   services to fuzz
#   FUZZ_ARGS="..."         extra `schemathesis run` arguments (e.g. --report har)
# Logs and JUnit reports: .dev/log/schemathesis/.
set -euo pipefail
# shellcheck source=dev.d/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=dev.d/fuzz/venv.sh disable=SC1091
source "$CADENZA_ROOT/dev.d/fuzz/venv.sh"
cd "$CADENZA_ROOT"

EXAMPLES=${FUZZ_MAX_EXAMPLES:-100}
MIN_CASES=${FUZZ_MIN_CASES:-1000}
WORKERS=${FUZZ_WORKERS:-1}
RUN_TIMEOUT=${FUZZ_RUN_TIMEOUT:-900}
ONLY=${FUZZ_ONLY:-song admin user}
USER_PORT=${FUZZ_USER_PORT:-15000}
ADMIN_PORT=${FUZZ_ADMIN_PORT:-15001}
SONG_PORT=${FUZZ_SONG_PORT:-17000}
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
OUT="$CADENZA_LOG/schemathesis"
FUZZ_DB=cadenza_fuzz
FUZZ_BUCKET=cadenza-fuzz
FUZZ_QUEUE=cadenza-email-fuzz
NS="fuzz-$$"
FUZZ_PASSWORD='Fuzz-Listener-Passphrase-2026'

ensure_fuzz_venv
ST="$FUZZ_VENV/bin/schemathesis"

if [[ "${FUZZ_SKIP_UP:-}" != 1 ]]; then
  t0=$(_now_ms)
  ./dev up >"$CADENZA_LOG/fuzz-dev-up.log" 2>&1 || {
    log_tail "$CADENZA_LOG/fuzz-dev-up.log" 60
    die "fuzz: ./dev up failed"
  }
  log "fuzz: ./dev up took $((($(_now_ms) - t0) / 1000))s (log .dev/log/fuzz-dev-up.log)"
fi
# shellcheck source=/dev/null
source "$CADENZA_DEV/env"
# shellcheck source=dev.d/demo/accounts.sh disable=SC1091
source "$CADENZA_ROOT/dev.d/demo/accounts.sh"
DEV_PY="$CADENZA_VENV/bin/python"
BIN="${CARGO_TARGET_DIR:-${CADENZA_CACHE_DIR:-$HOME/.cache/cadenza}/target}/debug"
for b in user-svc admin-svc song-svc; do
  [[ -x "$BIN/$b" ]] || die "fuzz: $BIN/$b missing (./dev up builds it)"
done
FUZZ_DB_URL="${CADENZA_PG_ADMIN_URL%/*}/$FUZZ_DB"
rm -rf "$OUT"
mkdir -p "$OUT"

# ---------------------------------------------------------------- helpers
redis_clear() { # PATTERN: delete the keys of our private namespace matching it
  local keys
  keys=$(redis-cli -u "$CADENZA_REDIS_URL" --scan --pattern "$1" 2>/dev/null || true)
  [[ -z "$keys" ]] || xargs -r redis-cli -u "$CADENZA_REDIS_URL" unlink <<<"$keys" >/dev/null
}

mongo_drop() { # DB: dropDatabase over OP_MSG (no MongoDB client needed)
  "$DEV_PY" "$CADENZA_ROOT/dev.d/fuzz/mongo_drop.py" "${CADENZA_MONGODB_URI}" "$1"
}

cleanup() {
  set +e
  stop_pid fuzz-song-svc TERM 10
  stop_pid fuzz-user-svc TERM 10
  stop_pid fuzz-admin-svc TERM 10
  psql "$CADENZA_PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$FUZZ_DB\" WITH (FORCE)" >/dev/null 2>&1
  mongo_drop "$FUZZ_DB" >/dev/null 2>&1
  "$DEV_PY" dev.d/fuzz/aws.py bucket-delete "$FUZZ_BUCKET" >/dev/null 2>&1
  "$DEV_PY" dev.d/fuzz/aws.py queue-delete "$FUZZ_QUEUE" >/dev/null 2>&1
  redis_clear "$NS:*"
}
trap cleanup EXIT

wants() { [[ " $ONLY " == *" $1 "* ]]; }

RESULTS=()
TOTAL_FAIL=0
declare -A CASES=()

# ids_config FILE DB_URL "DICT|SQL|OPERATION[,OPERATION...]"...: a
# schemathesis.toml whose dictionaries hold the ids each SQL query returns,
# bound (half of the time) to the `{id}` path parameter of the operations
# listed with them, so that those cases meet real rows, not only random UUIDs
# that are always 404.
ids_config() {
  local file=$1 db=$2 spec name sql ops ids op
  shift 2
  : >"$file"
  for spec in "$@"; do
    IFS='|' read -r name sql ops <<<"$spec"
    ids=$(psql "$db" -XAtqc "$sql" | sed 's/.*/"&"/' | paste -sd, -)
    [[ -n "$ids" ]] || continue
    printf '[dictionaries.%s]\nvalues = [%s]\n\n' "$name" "$ids" >>"$file"
    IFS=, read -ra ops <<<"$ops"
    for op in "${ops[@]}"; do
      printf '[[operations]]\ninclude-name = "%s"\nparameters = { "path.id" = { dictionary = "%s", probability = 0.5 } }\n\n' \
        "$op" "$name" >>"$file"
    done
  done
}

# run_st SERVICE LABEL CONFIG SCHEMA_URL BASE_URL TOKEN [schemathesis args...]
run_st() {
  local svc=$1 label=$2 config=$3 schema=$4 base=$5 token=$6 rc=0 t0 secs n ops failures
  shift 6
  local log="$OUT/$label.log" cfg=()
  [[ -z "$config" ]] || cfg=(--config-file "$config")
  log "fuzz: $label: schemathesis on $base (-n $EXAMPLES, log ${log#"$CADENZA_ROOT"/})"
  t0=$(_now_ms)
  # From $OUT: schemathesis keeps a .schemathesis/ cache in its working directory.
  (cd "$OUT" && exec timeout "$RUN_TIMEOUT" "$ST" "${cfg[@]}" run "$schema" --url "$base" \
    -H "Authorization: Bearer $token" \
    --checks "$CHECKS" \
    --max-examples "$EXAMPLES" --generation-deterministic \
    --workers "$WORKERS" --request-timeout 30 \
    --report junit --report-junit-path "$OUT/$label.junit.xml" \
    --no-color ${FUZZ_ARGS:-} "$@") >"$log" 2>&1 || rc=$?
  secs=$((($(_now_ms) - t0) / 1000))
  n=$(sed -nE 's/^ *([0-9]+) generated.*/\1/p' "$log" | tail -n 1)
  ops=$(sed -nE 's/^ *Tested: ([0-9]+).*/\1/p' "$log" | tail -n 1)
  failures=$(sed -nE 's/^ *([0-9]+) generated, ([0-9]+) found.*/\2/p' "$log" | tail -n 1)
  n=${n:-0}
  failures=${failures:-0}
  if ((rc != 0)); then
    ((failures > 0)) || failures=1
    if ((rc == 124)); then
      warn "fuzz: $label timed out after ${RUN_TIMEOUT}s"
    fi
    # The failures section: what failed, and the curl line that reproduces it.
    sed -n '/^=* FAILURES =*$/,/^=* WARNINGS\|^=* SUMMARY =*$/p' "$log" |
      grep -E '^_{3,}|^[0-9]+\. Test Case|^- |Received:|Documented:|^    curl ' | head -n 80 >&2 || true
    log_tail "$log" 25
  fi
  CASES[$svc]=$((${CASES[$svc]:-0} + n))
  TOTAL_FAIL=$((TOTAL_FAIL + failures))
  RESULTS+=("$(printf '%-10s %-28s %4s %6s %8s %6ss' "$svc" "$label" "${ops:-?}" "$n" "$failures" "$secs")")
}

# ---------------------------------------------------------------- song-svc
if wants song; then
  port_in_use "$SONG_PORT" && die "fuzz: port $SONG_PORT is taken by $(port_owner "$SONG_PORT")"
  (
    export PORT="$SONG_PORT" PUBLIC_BASE_URL=http://127.0.0.1:8080
    export DATABASE_URL="${CADENZA_PG_ADMIN_URL%/*}/${CADENZA_DB:-cadenza}"
    export JWT_PUBLIC_KEYS_FILE="$CADENZA_DEV/keys/jwt.pub.pem" JWT_ISSUER=cadenza-user JWT_AUDIENCE=cadenza-api
    export REDIS_URL="$CADENZA_REDIS_URL" REDIS_NAMESPACE="$NS"
    export CLOUDFRONT_DOMAIN=http://127.0.0.1:8090 CLOUDFRONT_PRIVATE_KEY_FILE="$CADENZA_DEV/keys/cloudfront.key.pem"
    CLOUDFRONT_KEY_PAIR_ID=$(<"$CADENZA_DEV/keys/cloudfront.key-pair-id")
    export CLOUDFRONT_KEY_PAIR_ID NO_COLOR=1 RUST_LOG=warn,song_svc=info
    # One client exploring inputs, not the limit (song-svc tests/api.rs tests that).
    export SEARCH_RATE_PER_MINUTE=100000
    unset JWT_PUBLIC_KEYS JWT_JWKS_URL CLOUDFRONT_PRIVATE_KEY TRUST_PROXY_HEADERS
    start_bg fuzz-song-svc "$OUT/song-svc.log" "$BIN/song-svc"
  )
  wait_http "http://127.0.0.1:$SONG_PORT/readyz" 60 || {
    log_tail "$OUT/song-svc.log"
    die "fuzz: the song-svc fuzzing instance did not become ready"
  }
  token=$("$DEV_PY" dev.d/fuzz/login.py http://127.0.0.1:5000 "$CADENZA_DEMO_USER_EMAIL" "$CADENZA_DEMO_USER_PASSWORD")
  ids_config "$OUT/song.toml" "${CADENZA_PG_ADMIN_URL%/*}/${CADENZA_DB:-cadenza}" \
    "songs|SELECT id FROM songs ORDER BY created_at LIMIT 20|GET /api/song/{id},GET /api/song/stream/{id}" \
    "albums|SELECT id FROM albums ORDER BY created_at LIMIT 20|GET /api/song/album/{id}"
  run_st song-svc song "$OUT/song.toml" "http://127.0.0.1:$SONG_PORT/api/song/openapi.json" "http://127.0.0.1:$SONG_PORT" "$token"
  stop_pid fuzz-song-svc TERM 10
fi

# ---------------------------------------------------------------- admin-svc
if wants admin; then
  psql "$CADENZA_PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$FUZZ_DB\" WITH (FORCE)" >/dev/null
  psql "$CADENZA_PG_ADMIN_URL" -qc "CREATE DATABASE \"$FUZZ_DB\"" >/dev/null
  DATABASE_URL="$FUZZ_DB_URL" RUST_LOG=warn "$BIN/admin-svc" migrate >/dev/null || die "fuzz: admin-svc migrate failed"
  psql "$FUZZ_DB_URL" -v ON_ERROR_STOP=1 -qf dev.d/fuzz/seed-admin.sql >/dev/null
  "$DEV_PY" dev.d/fuzz/aws.py bucket-create "$FUZZ_BUCKET"
  port_in_use "$ADMIN_PORT" && die "fuzz: port $ADMIN_PORT is taken by $(port_owner "$ADMIN_PORT")"
  (
    export PORT="$ADMIN_PORT" PUBLIC_BASE_URL=http://127.0.0.1:8080 DATABASE_URL="$FUZZ_DB_URL"
    export JWT_PUBLIC_KEYS_FILE="$CADENZA_DEV/keys/jwt.pub.pem" JWT_ISSUER=cadenza-user JWT_AUDIENCE=cadenza-api
    export REDIS_URL="$CADENZA_REDIS_URL" REDIS_NAMESPACE="$NS" S3_BUCKET="$FUZZ_BUCKET" S3_FORCE_PATH_STYLE=true
    export AWS_ENDPOINT_URL_S3="$CADENZA_S3_ENDPOINT" CLOUDFRONT_DOMAIN=http://127.0.0.1:8090
    export NO_COLOR=1 RUST_LOG=warn,admin_svc=info
    unset JWT_PUBLIC_KEYS JWT_JWKS_URL CLOUDFRONT_DISTRIBUTION_ID S3_PUBLIC_ENDPOINT MIGRATE_ON_START
    start_bg fuzz-admin-svc "$OUT/admin-svc.log" "$BIN/admin-svc" serve
  )
  wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" 60 || {
    log_tail "$OUT/admin-svc.log"
    die "fuzz: the admin-svc fuzzing instance did not become ready"
  }
  token=$("$DEV_PY" dev.d/fuzz/login.py http://127.0.0.1:5000 "$CADENZA_DEMO_ADMIN_EMAIL" "$CADENZA_DEMO_ADMIN_PASSWORD")
  ids_config "$OUT/admin.toml" "$FUZZ_DB_URL" \
    "songs|SELECT id FROM songs|PATCH /song/{id},DELETE /song/{id}" \
    "albums|SELECT id FROM albums|PATCH /album/{id},DELETE /album/{id},GET /album/{id}/song"
  run_st admin-svc admin "$OUT/admin.toml" "http://127.0.0.1:$ADMIN_PORT/api/admin/openapi.json" \
    "http://127.0.0.1:$ADMIN_PORT/api/admin" "$token"
  stop_pid fuzz-admin-svc TERM 10
fi

# ---------------------------------------------------------------- user-svc
if wants user; then
  mongo_drop "$FUZZ_DB"
  queue_url=$("$DEV_PY" dev.d/fuzz/aws.py queue-create "$FUZZ_QUEUE")
  port_in_use "$USER_PORT" && die "fuzz: port $USER_PORT is taken by $(port_owner "$USER_PORT")"
  user_env() {
    export PORT="$USER_PORT" PUBLIC_BASE_URL=http://127.0.0.1:8080
    export JWT_PRIVATE_KEY_FILE="$CADENZA_DEV/keys/jwt.key.pem" JWT_ISSUER=cadenza-user JWT_AUDIENCE=cadenza-api
    export MONGODB_URI="$CADENZA_MONGODB_URI" MONGODB_DB="$FUZZ_DB"
    export REDIS_URL="$CADENZA_REDIS_URL" REDIS_NAMESPACE="$NS"
    export SQS_EMAIL_QUEUE_URL="$queue_url" AWS_ENDPOINT_URL_SQS="$CADENZA_AWS_ENDPOINT"
    export COOKIE_SECURE=false NO_COLOR=1 RUST_LOG=warn,user_svc=info
    unset JWT_PRIVATE_KEY JWT_PUBLIC_KEYS TRUST_PROXY_HEADERS
  }
  (
    user_env
    start_bg fuzz-user-svc "$OUT/user-svc.log" "$BIN/user-svc" serve
  )
  wait_http "http://127.0.0.1:$USER_PORT/readyz" 60 || {
    log_tail "$OUT/user-svc.log"
    die "fuzz: the user-svc fuzzing instance did not become ready"
  }
  # fuzz_account EMAIL: create it in the private database, log in through
  # the private instance's API, print the access token.
  fuzz_account() {
    (user_env && USER_PASSWORD="$FUZZ_PASSWORD" "$BIN/user-svc" user create --email "$1") >>"$OUT/user-svc.log" 2>&1 ||
      die "fuzz: could not create $1"
    redis_clear "$NS:ratelimit:*"
    "$DEV_PY" dev.d/fuzz/login.py "http://127.0.0.1:$USER_PORT" "$1" "$FUZZ_PASSWORD"
  }
  schema="http://127.0.0.1:$USER_PORT/api/user/openapi.json"
  base="http://127.0.0.1:$USER_PORT"
  ending=('POST /api/user/logout' 'POST /api/user/logout-all' 'POST /api/user/change-password'
    'DELETE /api/user/sessions/{id}')
  excludes=()
  for op in "${ending[@]}"; do excludes+=(--exclude-name "$op"); done
  token=$(fuzz_account fuzz-listener@cadenza.local)
  # Most generated logins use the fuzzing account's real email and password,
  # so that 200 answers (and their schema) are checked too, not only
  # 401/422/429.
  cat >"$OUT/user.toml" <<EOF
[dictionaries.emails]
values = ["fuzz-listener@cadenza.local"]

[dictionaries.passwords]
values = ["$FUZZ_PASSWORD"]

[[operations]]
include-name = "POST /api/user/login"
parameters = { "body.email" = { dictionary = "emails", probability = 0.7 }, "body.password" = { dictionary = "passwords", probability = 0.7 } }
EOF
  run_st user-svc user "$OUT/user.toml" "$schema" "$base" "$token" "${excludes[@]}"
  # change-password with the throwaway user's real current password, so
  # that a success (and the revocation it triggers) is exercised too.
  cat >"$OUT/user-ending.toml" <<EOF
[dictionaries.passwords]
values = ["$FUZZ_PASSWORD"]

[[operations]]
include-name = "POST /api/user/change-password"
parameters = { "body.currentPassword" = { dictionary = "passwords", probability = 0.7 } }
EOF
  i=0
  for op in "${ending[@]}"; do
    i=$((i + 1))
    token=$(fuzz_account "fuzz-throwaway-$i@cadenza.local")
    # GET /sessions alongside, so the stateful phase can follow its ids.
    run_st user-svc "user-ending-$i" "$OUT/user-ending.toml" "$schema" "$base" "$token" \
      --include-name "$op" --include-name 'GET /api/user/sessions'
  done
  stop_pid fuzz-user-svc TERM 10
fi

# ---------------------------------------------------------------- summary
printf '\n%-10s %-28s %4s %6s %8s %7s\n' service run ops cases failures time
printf '%s\n' "${RESULTS[@]}"
short=0
for svc in "${!CASES[@]}"; do
  printf '%-10s total cases %s\n' "$svc" "${CASES[$svc]}"
  if ((CASES[$svc] < MIN_CASES)); then
    warn "fuzz: $svc: only ${CASES[$svc]} cases generated (< $MIN_CASES); raise FUZZ_MAX_EXAMPLES"
    short=1
  fi
done
printf 'schemathesis: %s failure(s); logs and JUnit reports in %s\n' "$TOTAL_FAIL" "${OUT#"$CADENZA_ROOT"/}"
((TOTAL_FAIL == 0 && short == 0))
