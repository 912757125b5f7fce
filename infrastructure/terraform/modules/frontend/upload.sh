#!/usr/bin/env bash
# Uploads the built LibreChat client to the frontend bucket (run by terraform_data on apply).
# Hashed build assets (assets/*) are immutable and cached for a year; everything else
# (index.html, manifest, service worker) is no-cache, so a new deployment is seen without an
# invalidation. Old hashed assets are kept: open tabs may still load them.
# Env: BUCKET, and DIST_DIR (a local build) or IMAGE + IMAGE_DIST_PATH (extracted with docker).
set -euo pipefail
: "${BUCKET:?BUCKET is required}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${DIST_DIR:-}" ]; then
  src=$DIST_DIR
else
  : "${IMAGE:?IMAGE or DIST_DIR is required}"
  cid=$(docker create --platform linux/amd64 "$IMAGE")
  docker cp "$cid:${IMAGE_DIST_PATH:-/app/client/dist}" "$work/dist"
  docker rm "$cid" >/dev/null
  src=$work/dist
fi
[ -f "$src/index.html" ] || { echo "upload: $src has no index.html" >&2; exit 1; }
if [ -d "$src/assets" ]; then
  aws s3 sync "$src/assets" "s3://$BUCKET/assets" --only-show-errors \
    --cache-control "public, max-age=31536000, immutable"
fi
aws s3 sync "$src" "s3://$BUCKET" --only-show-errors --exclude "assets/*" --delete \
  --cache-control "no-cache"
# mimetypes does not know these everywhere; set them explicitly.
for f in manifest.webmanifest; do
  [ -f "$src/$f" ] && aws s3 cp "$src/$f" "s3://$BUCKET/$f" --only-show-errors \
    --content-type "application/manifest+json" --cache-control "no-cache"
done
echo "upload: $src -> s3://$BUCKET"
