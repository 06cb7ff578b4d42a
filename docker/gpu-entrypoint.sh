#!/usr/bin/env bash
# GPU image entrypoint: put the DeepSeek-OCR-2 weights in place, then exec the step's command.
# - Weights baked into the image (a config.json in OCR_PIPELINE_BAKED_MODEL_PATH): used as they are, nothing synced.
# - Otherwise, with OCR_PIPELINE_MODEL_S3_URI set: `aws s3 sync --delete` into OCR_PIPELINE_MODEL_PATH (an
#   instance-local cache) on every start. It is incremental (cheap when nothing changed), finishes a sync that an
#   earlier start left half done, and picks up new weights. The marker .sync-complete is removed before and written
#   only after a successful sync: a cache without it is incomplete. Tasks sharing the cache take turns (flock).
# - Neither: the command runs with OCR_PIPELINE_MODEL_PATH as given.
set -euo pipefail

marker_name=.sync-complete
baked=${OCR_PIPELINE_BAKED_MODEL_PATH:-}

if [ -n "$baked" ] && [ -f "$baked/config.json" ]; then
  export OCR_PIPELINE_MODEL_PATH="$baked"
  echo "gpu-entrypoint: weights baked into the image at $baked (no sync)" >&2
elif [ -n "${OCR_PIPELINE_MODEL_S3_URI:-}" ]; then
  cache=${OCR_PIPELINE_MODEL_PATH:?OCR_PIPELINE_MODEL_PATH must name the directory to sync the weights into}
  mkdir -p "$cache"
  exec 9>"$cache/.sync-lock"
  flock 9
  rm -f "$cache/$marker_name"
  echo "gpu-entrypoint: syncing $OCR_PIPELINE_MODEL_S3_URI into $cache" >&2
  aws s3 sync --only-show-errors --delete --exclude ".sync-*" \
    "$OCR_PIPELINE_MODEL_S3_URI" "$cache"
  printf '%s synced %s\n' "$OCR_PIPELINE_MODEL_S3_URI" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$cache/$marker_name.tmp"
  mv -f "$cache/$marker_name.tmp" "$cache/$marker_name"
  flock -u 9
  exec 9>&-
fi

exec "$@"
