#!/bin/sh
# Weights: baked into the image at OCR_PIPELINE_MODEL_PATH, or synced there from OCR_PIPELINE_MODEL_S3_URI
# (an instance-local cache: `aws s3 sync` only copies what changed). Then run the step's command.
set -eu
if [ -n "${OCR_PIPELINE_MODEL_S3_URI:-}" ] && [ ! -f "${OCR_PIPELINE_MODEL_PATH}/config.json" ]; then
  mkdir -p "${OCR_PIPELINE_MODEL_PATH}"
  aws s3 sync --only-show-errors "${OCR_PIPELINE_MODEL_S3_URI}" "${OCR_PIPELINE_MODEL_PATH}"
fi
exec "$@"
