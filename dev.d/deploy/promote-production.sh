#!/bin/sh
# Open a merge request that promotes to production exactly the images staging
# runs now: the tag + digest of every service, read from values-staging.yaml on
# the REMOTE's main (never from the pipeline's own checkout, which predates its
# own bump, so an old or re-run pipeline cannot promote stale images or roll
# production back). Production changes only when the merge request is merged.
#
#   promote-production.sh [--dry-run]
#
# Environment (the same as bump-image-tag.sh --push):
#   BUMP_GIT_REMOTE  https URL of the repository ArgoCD watches (default this project)
#   BUMP_GIT_USER / BUMP_GIT_TOKEN  credentials allowed to push a branch
#   PROMOTE_TARGET   branch the merge request targets (default $CI_DEFAULT_BRANCH, else main)
#   PROMOTE_PUSH_OPTIONS  1 (default): create the MR with GitLab push options
#                    (merge_request.create); 0: only push the branch (e.g. GitHub:
#                    open the pull request from the printed branch)
# Plain POSIX sh + sed + git: runs on alpine/git.
set -eu

dry_run=0
[ "${1:-}" = "--dry-run" ] && dry_run=1
here=$(cd "$(dirname "$0")" && pwd)
target=${PROMOTE_TARGET:-${CI_DEFAULT_BRANCH:-main}}
staging=helm/cadenza/values-staging.yaml
production=helm/cadenza/values-production.yaml

url=${BUMP_GIT_REMOTE:-https://${CI_SERVER_HOST:?}/${CI_PROJECT_PATH:?}.git}
case $url in
  https://*) remote="https://${BUMP_GIT_USER:-oauth2}:${BUMP_GIT_TOKEN:?BUMP_GIT_TOKEN is required}@${url#https://}" ;;
  file://*) remote=$url ;;   # local bare repo: the validator's test
  *) echo "promote: BUMP_GIT_REMOTE must be an https:// (or file://) URL" >&2; exit 2 ;;
esac

git fetch -q "$remote" "+refs/heads/$target:refs/promote/base"
base=$(git rev-parse refs/promote/base)

# svc=tag@digest for every service with a bump marker; all must have a digest.
st="${TMPDIR:-/tmp}/promote-staging.yaml"
git show "$base:$staging" > "$st"
pairs=""
svcs=$(sed -n 's/^[[:space:]]*tag:.*# bump:\([a-z0-9-]*\)[[:space:]]*$/\1/p' "$st")
for svc in $svcs; do
  tag=$(sed -n "s/^[[:space:]]*tag:[[:space:]]*\"\([^\"]*\)\"[[:space:]]*# bump:${svc}[[:space:]]*\$/\1/p" "$st")
  digest=$(sed -n "s/^[[:space:]]*digest:[[:space:]]*\"\([^\"]*\)\"[[:space:]]*# digest:${svc}[[:space:]]*\$/\1/p" "$st")
  if [ -z "$tag" ] || [ -z "$digest" ]; then
    echo "promote: $svc has no tag+digest in $staging on $target ($base); staging must run digest-pinned images" >&2
    exit 1
  fi
  pairs="$pairs $svc=$tag@$digest"
done
[ -n "$pairs" ] || { echo "promote: no '# bump:' services in $staging on $target" >&2; exit 1; }
echo "promote: staging on $target ($base) runs:$pairs"

branch="promote/production-$(printf '%s' "$base" | cut -c1-12)"
git checkout -q -B "$branch" "$base"
# shellcheck disable=SC2086 # one word per svc=ref pair
sh "$here/bump-image-tag.sh" --values "$production" --no-commit $pairs
if git diff --quiet -- "$production"; then
  echo "promote: production already runs these images; no merge request"
  exit 0
fi
git add -- "$production"
git -c user.name="${GITLAB_USER_NAME:-cadenza-bot}" -c user.email="${GITLAB_USER_EMAIL:-cadenza-bot@users.noreply.gitlab.com}" \
  commit -q -m "deploy: promote staging to production:$pairs" -m "Images read from $staging at $base."
[ "$dry_run" -eq 0 ] || { git --no-pager show --stat HEAD; exit 0; }

if [ "${PROMOTE_PUSH_OPTIONS:-1}" = 1 ]; then
  git push -q --force \
    -o merge_request.create -o "merge_request.target=$target" -o merge_request.remove_source_branch \
    -o "merge_request.title=Promote staging ($(printf '%s' "$base" | cut -c1-8)) to production" \
    "$remote" "HEAD:refs/heads/$branch"
  echo "promote: pushed $branch; merge request to $target opened"
else
  git push -q --force "$remote" "HEAD:refs/heads/$branch"
  echo "promote: pushed $branch; open a merge/pull request from it to $target"
fi
