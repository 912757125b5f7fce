#!/usr/bin/env bash
# Builds the Lambda image and pushes it to ECR. Used by the backend module (terraform_data
# local-exec) and by `task docker:push` / `task deploy:image`.
# Env: REPO (ECR repository URL), TAG, CONTEXT, DOCKERFILE, optional PLATFORM, REGION,
# LIBRECHAT_VERSION (default: the Dockerfile's ARG).
set -euo pipefail
: "${REPO:?REPO (ECR repository URL) is required}" "${TAG:?TAG is required}"
: "${CONTEXT:?CONTEXT is required}" "${DOCKERFILE:?DOCKERFILE is required}"
registry=${REPO%%/*}
region=${REGION:-$(cut -d. -f4 <<<"$registry")}
command -v docker >/dev/null || { echo "build-image: docker CLI not found" >&2; exit 1; }
aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry"
# --provenance=false: Lambda accepts only single-platform image manifests, not attestation indexes.
docker build --platform "${PLATFORM:-linux/amd64}" --provenance=false \
  ${LIBRECHAT_VERSION:+--build-arg "LIBRECHAT_VERSION=$LIBRECHAT_VERSION"} \
  -f "$DOCKERFILE" -t "$REPO:$TAG" "$CONTEXT"
docker push "$REPO:$TAG"
