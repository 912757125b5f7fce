#!/usr/bin/env bash
# Tests the scripts Terraform runs on apply (modules/frontend/upload.sh, modules/backend/
# build-image.sh) with recording stand-ins for the docker and aws CLIs on PATH: what is
# uploaded with which Cache-Control, what is built and pushed where. No AWS, no Docker.
set -euo pipefail
tf_root=$(cd "$(dirname "$0")/../terraform" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
calls="$work/calls.log"
for cli in aws docker; do
  cat >"$work/bin/$cli" <<EOF
#!/usr/bin/env bash
echo "$cli \$*" >>"$calls"
case "\$*" in
  "ecr get-login-password"*) echo token ;;
  "login "*) cat >/dev/null ;; # reads the password like docker login --password-stdin
  "create "*) echo cid123 ;;
  "cp cid123:"*) mkdir -p "\${3}/assets" && echo '<html>' >"\${3}/index.html" && echo js >"\${3}/assets/a-1f2e.js" ;;
esac
EOF
  chmod +x "$work/bin/$cli"
done
export PATH="$work/bin:$PATH"
fail() { echo "FAIL: $*" >&2; echo "--- calls:" >&2; cat "$calls" >&2; exit 1; }
expect() { grep -qF -- "$1" "$calls" || fail "expected a call containing: $1"; }

# upload.sh from a local build
dist="$work/dist"
mkdir -p "$dist/assets"
echo '<html>' >"$dist/index.html"
echo js >"$dist/assets/index-3f2a.js"
echo '{}' >"$dist/manifest.webmanifest"
: >"$calls"
BUCKET=b1 DIST_DIR="$dist" "$tf_root/modules/frontend/upload.sh" >/dev/null
expect "aws s3 sync $dist/assets s3://b1/assets --only-show-errors --cache-control public, max-age=31536000, immutable"
expect "aws s3 sync $dist s3://b1 --only-show-errors --exclude assets/* --delete --cache-control no-cache"
expect "--content-type application/manifest+json --cache-control no-cache"
grep -q '^docker' "$calls" && fail "a local build must not use docker"

# upload.sh extracting the client from the image
: >"$calls"
BUCKET=b2 IMAGE=ghcr.io/x/librechat-api:v1 IMAGE_DIST_PATH=/app/client/dist "$tf_root/modules/frontend/upload.sh" >/dev/null
expect "docker create --platform linux/amd64 ghcr.io/x/librechat-api:v1"
expect "docker cp cid123:/app/client/dist"
expect "docker rm cid123"
expect "s3://b2/assets --only-show-errors --cache-control public, max-age=31536000, immutable"

# upload.sh refuses a directory without index.html
mkdir -p "$work/empty"
if BUCKET=b3 DIST_DIR="$work/empty" "$tf_root/modules/frontend/upload.sh" >/dev/null 2>&1; then
  fail "upload.sh accepted a build without index.html"
fi

# build-image.sh
: >"$calls"
REPO=123456789012.dkr.ecr.eu-west-1.amazonaws.com/librechat-dev-api TAG=src-abc CONTEXT=/ctx DOCKERFILE=/ctx/Dockerfile \
  "$tf_root/modules/backend/build-image.sh" >/dev/null
expect "aws ecr get-login-password --region eu-west-1"
expect "docker login --username AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com"
expect "docker build --platform linux/amd64 --provenance=false -f /ctx/Dockerfile -t 123456789012.dkr.ecr.eu-west-1.amazonaws.com/librechat-dev-api:src-abc /ctx"
expect "docker push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/librechat-dev-api:src-abc"

echo "deploy scripts: upload.sh (local build, image extraction, refusal) and build-image.sh pass"
