#!/bin/sh
# Set the image tag of one or more services in a chart values file, then
# (optionally) commit and push the change so ArgoCD rolls it out.
#
#   bump-image-tag.sh [--values FILE] [--no-commit] [--push] SERVICE=TAG[@sha256:DIGEST]...
#
#   --values FILE  values file to edit (default: helm/cadenza/values-staging.yaml)
#   --no-commit    only edit the file
#   --push         push the commit to BUMP_GIT_REMOTE (an https URL, default
#                  this GitLab project: https://$CI_SERVER_HOST/$CI_PROJECT_PATH.git;
#                  set it to the GitHub repo when GitHub is the source of truth),
#                  branch $CI_COMMIT_BRANCH, authenticated as BUMP_GIT_USER
#                  (default oauth2; x-access-token for GitHub) with BUMP_GIT_TOKEN
#
# A tag line is found by its marker comment:   tag: "abc123" # bump:user-svc
# and, when the file has one, the digest line:  digest: "sha256:…" # digest:user-svc
# SERVICE=TAG@sha256:DIGEST sets both (the chart deploys by digest when one is
# set); SERVICE=TAG alone empties the digest, so a stale digest never wins.
# Plain POSIX sh + sed + git: runs on any shell image (alpine/busybox too).
set -eu

values=helm/cadenza/values-staging.yaml
commit=1
push=0
while [ $# -gt 0 ]; do
  case $1 in
    --values) values=$2; shift 2 ;;
    --no-commit) commit=0; shift ;;
    --push) push=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) echo "bump: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "bump: usage: $0 [--values FILE] [--no-commit] [--push] SERVICE=TAG..." >&2; exit 2; }
[ -f "$values" ] || { echo "bump: no such values file: $values" >&2; exit 2; }

summary=""
for pair in "$@"; do
  svc=${pair%%=*}
  ref=${pair#*=}
  tag=${ref%%@*}
  digest=""
  [ "$tag" = "$ref" ] || digest=${ref#*@}
  case $svc in
    ''|*[!a-z0-9-]*) echo "bump: bad service name '$svc'" >&2; exit 2 ;;
  esac
  case $tag in
    ''|*[!A-Za-z0-9_.-]*|[.-]*) echo "bump: bad image tag '$tag'" >&2; exit 2 ;;
  esac
  if [ -n "$digest" ] && ! printf '%s\n' "$digest" | grep -Eq '^sha256:[a-f0-9]{64}$'; then
    echo "bump: bad image digest '$digest'" >&2; exit 2
  fi
  n=$(grep -c "^[[:space:]]*tag:.*# bump:${svc}[[:space:]]*\$" "$values" || true)
  [ "$n" -eq 1 ] || { echo "bump: expected exactly one '# bump:$svc' tag line in $values, found $n" >&2; exit 1; }
  tmp=$(mktemp)
  sed "s|^\([[:space:]]*tag:[[:space:]]*\).*\(# bump:$svc\)[[:space:]]*\$|\1\"$tag\" \2|" "$values" > "$tmp"
  cat "$tmp" > "$values"   # keep the file's mode and inode
  rm -f "$tmp"
  grep -q "tag: \"$tag\" # bump:$svc\$" "$values" || { echo "bump: rewrite of $svc failed" >&2; exit 1; }
  n=$(grep -c "^[[:space:]]*digest:.*# digest:${svc}[[:space:]]*\$" "$values" || true)
  if [ "$n" -eq 1 ]; then
    tmp=$(mktemp)
    sed "s|^\([[:space:]]*digest:[[:space:]]*\).*\(# digest:$svc\)[[:space:]]*\$|\1\"$digest\" \2|" "$values" > "$tmp"
    cat "$tmp" > "$values"
    rm -f "$tmp"
    grep -q "digest: \"$digest\" # digest:$svc\$" "$values" || { echo "bump: digest rewrite of $svc failed" >&2; exit 1; }
  elif [ -n "$digest" ] || [ "$n" -gt 1 ]; then
    echo "bump: expected exactly one '# digest:$svc' line in $values, found $n" >&2; exit 1
  fi
  echo "bump: $svc -> $ref in $values"
  summary="$summary $svc=$ref"
done

[ "$commit" -eq 1 ] || exit 0
if git diff --quiet -- "$values"; then
  echo "bump: $values already at$summary; nothing to commit"
  exit 0
fi
git add -- "$values"
# [skip ci]: the bump commit must not start another pipeline.
git -c user.name="${GITLAB_USER_NAME:-cadenza-bot}" -c user.email="${GITLAB_USER_EMAIL:-cadenza-bot@users.noreply.gitlab.com}" \
  commit -q -m "deploy: bump$summary [skip ci]" -- "$values"
echo "bump: committed$summary"

[ "$push" -eq 1 ] || exit 0
: "${BUMP_GIT_TOKEN:?BUMP_GIT_TOKEN is required to push}"
: "${CI_COMMIT_BRANCH:?CI_COMMIT_BRANCH is required to push}"
url=${BUMP_GIT_REMOTE:-https://${CI_SERVER_HOST:?}/${CI_PROJECT_PATH:?}.git}
case $url in
  https://*) remote="https://${BUMP_GIT_USER:-oauth2}:${BUMP_GIT_TOKEN}@${url#https://}" ;;
  file://*) remote=$url ;;   # local bare repo: the validator's shell-mode test
  *) echo "bump: BUMP_GIT_REMOTE must be an https:// (or file://) URL" >&2; exit 2 ;;
esac
# Other services' bump jobs push concurrently: rebase and retry.
i=0
until git push -q "$remote" "HEAD:${CI_COMMIT_BRANCH}"; do
  i=$((i + 1))
  [ $i -lt 5 ] || { echo "bump: push failed $i times" >&2; exit 1; }
  sleep $((i * 2))
  git pull -q --rebase "$remote" "${CI_COMMIT_BRANCH}"
done
echo "bump: pushed to ${CI_COMMIT_BRANCH}"
