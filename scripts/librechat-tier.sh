#!/usr/bin/env bash
# Makes the real LibreChat available to the tests (the real-LibreChat tier) and prints the
# environment that turns the tier on, as `export` lines for `eval`:
#   LIBRECHAT_DIR    a LibreChat tree with node_modules (an operator's own, if already set)
#   LIBRECHAT_NX     nx-27017, the MongoDB-wire server the tests start (unless LIBRECHAT_MONGO_URI)
#   OPSCONSOLE_REQUIRE_LIBRECHAT=1   the tests then fail, not skip, without LibreChat
# Without LIBRECHAT_DIR it sets up ../shared/librechat (the bundle beside the clone, as CI has
# it) into .tools/librechat with the bundle's setup.sh, which skips every step whose input (the
# tarball's hash, the lockfile) did not change. Without either it prints why the tier is skipped.
# Usage: eval "$(scripts/librechat-tier.sh)"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "librechat-tier: $*" >&2; }

if [ -n "${LIBRECHAT_DIR:-}" ]; then
  [ -f "$LIBRECHAT_DIR/api/server/index.js" ] || { say "LIBRECHAT_DIR=$LIBRECHAT_DIR has no api/server/index.js"; exit 3; }
  say "using LIBRECHAT_DIR=$LIBRECHAT_DIR"
  echo "export OPSCONSOLE_REQUIRE_LIBRECHAT=1"
  exit 0
fi
bundle=${LIBRECHAT_BUNDLE:-$root/../shared/librechat}
if [ ! -x "$bundle/setup.sh" ]; then
  say "skipped: no LIBRECHAT_DIR and no LibreChat bundle at $bundle (set LIBRECHAT_DIR to a LibreChat tree with node_modules, and LIBRECHAT_MONGO_URI or LIBRECHAT_NX)"
  exit 0
fi
target="$root/.tools/librechat"
mkdir -p "$target"
say "setting up the real LibreChat from $bundle into .tools/librechat (cached: re-runs take ~1 s)"
if ! "$bundle/setup.sh" "$target" >"$target/setup.log" 2>&1; then
  tail -n 30 "$target/setup.log" >&2
  say "setup failed (full log: $target/setup.log)"
  exit 1
fi
tail -n 3 "$target/setup.log" | sed 's/^/librechat-tier: /' >&2
# The built web client (the browser tests): idempotent, ~1 s.
if [ -x "$bundle/install-client.sh" ]; then
  if ! "$bundle/install-client.sh" "$target" >"$target/install-client.log" 2>&1; then
    tail -n 10 "$target/install-client.log" >&2
    say "installing the web client failed (full log: $target/install-client.log)"
    exit 1
  fi
  tail -n 1 "$target/install-client.log" | sed 's/^/librechat-tier: /' >&2
fi
tree=$(find "$target" -maxdepth 4 -path '*/api/server/index.js' -printf '%h\n' | head -n 1)
tree=${tree%/api/server}
[ -n "$tree" ] || { say "no LibreChat tree under $target after setup"; exit 1; }
echo "export LIBRECHAT_DIR='$tree'"
[ -x "$target/nx-venv/bin/nx-27017" ] && echo "export LIBRECHAT_NX='$target/nx-venv/bin/nx-27017'"
echo "export OPSCONSOLE_REQUIRE_LIBRECHAT=1"
