#!/bin/sh
# LibreChat's start command in the image (SHIM_CHILD_CMD="librechat-start api/server/index.js",
# issue 26): runs `node "$@"` with Node's module compile cache, filled at image build time
# (shim/image/compile-cache-fill.cjs), read from the image at run time.
#
# Node keeps its compile cache in $NODE_COMPILE_CACHE/<version-arch-flags tag>-<uid>: the uid is
# part of the name, and Lambda runs the image as a user not known at build time. So the cache is
# filled (as root) into $LIBRECHAT_COMPILE_CACHE_SRC (read-only on Lambda, files world-readable),
# and here each of its tag directories is linked into $NODE_COMPILE_CACHE (under /tmp, writable)
# under this process's uid. Node then finds every entry and accepts it; it writes nothing to
# the read-only directory (entries it did not have stay in memory). Without the source
# directory or NODE_COMPILE_CACHE, node runs as it is. LIBRECHAT_NODE: the node binary (node).
set -u
src=${LIBRECHAT_COMPILE_CACHE_SRC:-/app/.node-compile-cache}
if [ -n "${NODE_COMPILE_CACHE:-}" ] && [ -d "$src" ]; then
  uid=$(id -u)
  if mkdir -p "$NODE_COMPILE_CACHE"; then
    for d in "$src"/v*; do
      [ -d "$d" ] || continue
      name=${d##*/}
      ln -sfn "$d" "$NODE_COMPILE_CACHE/${name%-*}-$uid" || echo "librechat-start: cannot link $d into $NODE_COMPILE_CACHE" >&2
    done
  else
    echo "librechat-start: cannot create $NODE_COMPILE_CACHE: Node compiles without its cache" >&2
  fi
fi
exec "${LIBRECHAT_NODE:-node}" "$@"
