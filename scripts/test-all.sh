#!/usr/bin/env bash
# Runs every test of the project, on a fresh clone too (it installs what it needs first):
#   1. scripts/bootstrap.sh: Python venvs in .tools/ (moto, cargo-lambda, httpbin, awscli,
#      go-task, hadolint; checkov), apt packages (tmux, redis-server)
#   2. formatting, then cargo build with clippy's lints (-D warnings) on the workspace's crates
#      (a separate cargo clippy where clippy-driver is missing)
#   3-6 run beside the build (2), one after another, each with its own log, time and status:
#   3. infrastructure/scripts/check.sh: terraform fmt/validate/test (offline, with the pinned
#      registry modules of ../shared/terraform-modules), checkov, SC-006
#   4. pytest: the moto extensions (tools/motoext), the infrastructure scripts' helpers and
#      shim/benches/hop_trace.py
#   5. hadolint on the Lambda container's Dockerfile
#   6. the real LibreChat v0.8.6 (scripts/librechat-tier.sh: LIBRECHAT_DIR, else
#      ../shared/librechat set up into .tools/librechat with its web client; skipped with the
#      reason without either); the browser tier (headless chromium) when chromium and the web
#      client are there
#   7. infrastructure/scripts/apply-local.sh: terraform apply + destroy of
#      environments/dev into moto with the real registry modules, probed by the built console
#      (SC-001, SC-005; skipped, saying why, without ../shared/terraform-modules)
#   8. cargo test: unit, snapshot, and integration tests against real local peers (moto server,
#      cargo-lambda's Runtime API, httpbin, the Node LibreChat stand-in, the real LibreChat,
#      redis-server, tmux)
# apply-local (7) runs beside cargo test (8), whose sandbox tests run beside its others
# (scripts/test_lanes.py). Exits non-zero on the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
# Each step's time and status for the summary that ends the run (scripts/ci_summary.py), also
# when a step fails (the EXIT trap).
summary_dir=$(mktemp -d)
steps_tsv="$summary_dir/steps.tsv"
test_log="$summary_dir/cargo-test.log"
: > "$test_log"
step_name="" step_start=$SECONDS step_status=ok
close_step() {
  [ -n "$step_name" ] && printf '%s\t%s\t%s\n' "$step_name" "$((SECONDS - step_start))" "${1:-$step_status}" >> "$steps_tsv"
  step_name=""
}
step() {
  close_step
  step_name="$*" step_start=$SECONDS step_status=ok
  printf '\n== %s (at %ss)\n' "$*" "$((SECONDS - started))"
}
# Tiers that must run here (a skip fails the run): the real LibreChat when its bundle or a tree is
# available, apply-local when the pinned registry modules are.
expect=("unit" "local Lambda" "moto and peers" "sandbox")
# The compilation cache's server is ours: stop it (it prints the hit rates) so nothing outlives the run.
stop_cache() {
  case "${RUSTC_WRAPPER:-}" in
    "$PWD"/.tools/*) "$RUSTC_WRAPPER" --stop-server 2>/dev/null | grep -E "^(Compile requests|Cache hits|Cache misses) " || true ;;
  esac
}
finish() {
  local rc=$1
  stop_cache
  if [ "$rc" -ne 0 ]; then close_step failed; else close_step; fi
  if [ -x "$(command -v python3)" ] && [ -s "$steps_tsv" ]; then
    if [ "$rc" -eq 0 ]; then
      python3 scripts/ci_summary.py "$steps_tsv" "$test_log" "${expect[@]}" || rc=1
    else
      python3 scripts/ci_summary.py "$steps_tsv" "$test_log" || true
    fi
  fi
  rm -rf "$summary_dir"
  exit "$rc"
}
trap 'finish $?' EXIT

# A full run builds everything once: incremental caches (GBs) only cost disk here.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
disk() { echo "disk: $(df -h --output=avail . | tail -1 | tr -d ' ') free; target/ $(du -sh target 2>/dev/null | cut -f1)"; }

step "bootstrap"
disk
# A fresh clone's full run fills target/ to ~3.2 GB (measured); warn early, not at link time.
avail_kb=$(df -k --output=avail . | tail -1 | tr -d ' ')
if [ "${avail_kb:-0}" -lt $((4 * 1024 * 1024)) ]; then
  echo "warning: less than 4 GB free here; the build needs ~3.2 GB in target/ and may fail to link"
fi
scripts/bootstrap.sh all
export PATH="$PWD/.tools/venv/bin:$PATH"
# A compilation cache outside the clone (sccache's default dir, ~/.cache/sccache): a new clone on
# the same machine compiles the dependencies once. OPSCONSOLE_NO_SCCACHE=1 turns it off; an
# operator's own RUSTC_WRAPPER is kept.
if [ -z "${RUSTC_WRAPPER:-}" ] && [ -z "${OPSCONSOLE_NO_SCCACHE:-}" ] && [ -x .tools/venv/bin/sccache ]; then
  export RUSTC_WRAPPER="$PWD/.tools/venv/bin/sccache"
  # Paths under the clone are keyed relative to it (another clone elsewhere hits the same
  # entries), and the server lives for the whole run (its default 10 idle minutes ended during
  # cargo test and took the hit counts with it); finish() stops it.
  export SCCACHE_BASEDIRS="$PWD" SCCACHE_IDLE_TIMEOUT=0
  "$RUSTC_WRAPPER" --stop-server >/dev/null 2>&1 || true
  echo "compilation cache: sccache (${SCCACHE_DIR:-~/.cache/sccache})"
fi

step "cargo fmt --check"
cargo fmt --all -- --check

# The steps that compile nothing run beside the build, one after another in the background, each
# with its own log, time and status (printed and counted once the build is done): the build is
# CPU-bound but has stretches on one core (a big crate, a link), and these wait on disk and
# processes much of their time.
beside_dir="$summary_dir/beside"
mkdir -p "$beside_dir"
beside_steps=(
  "infrastructure checks"
  "pytest: moto extensions, infrastructure script helpers, the shim bench's trace tool"
  "hadolint"
  "real LibreChat (for the real-LibreChat tier of cargo test)"
)
beside_run() {
  case "$1" in
    0) infrastructure/scripts/check.sh ;;
    1) .tools/venv/bin/python -m pytest -q -p no:cacheprovider tools/motoext infrastructure/scripts/tests shim/benches scripts/tests ;;
    2) hadolint infrastructure/terraform/modules/backend/docker/Dockerfile ;;
    3) scripts/librechat-tier.sh > "$beside_dir/tier.env" ;;
  esac
}
(
  for i in "${!beside_steps[@]}"; do
    t0=$SECONDS rc=0
    beside_run "$i" > "$beside_dir/$i.log" 2>&1 || rc=$?
    echo "$rc $((SECONDS - t0))" > "$beside_dir/$i.rc"
  done
) &
beside_pid=$!
# A failed build must not leave them running.
kill_tree() { local c; for c in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$c"; done; kill "$1" 2>/dev/null || true; }
trap 'rc=$?; kill_tree "$beside_pid"; finish "$rc"' EXIT
trap 'exit 130' INT TERM

# Lints in the build: clippy-driver compiles the workspace's own crates (cargo's
# RUSTC_WORKSPACE_WRAPPER, what `cargo clippy` itself sets, with its CLIPPY_ARGS), so the
# dependencies are compiled once, for the build and the tests, instead of a second time as
# `cargo check` metadata for a separate `cargo clippy` (~8 of the run's minutes on 2 cores).
# Same lints, same targets (--all-targets); a lint fails the build. The wrapper stays exported:
# cargo test then finds the crates built as they were. Without clippy-driver, or with
# OPSCONSOLE_SEPARATE_CLIPPY=1, a separate `cargo clippy` runs first.
clippy_driver=$(command -v clippy-driver || true)
if [ -n "$clippy_driver" ] && [ -z "${OPSCONSOLE_SEPARATE_CLIPPY:-}" ]; then
  step "cargo build with clippy's lints (warnings are errors; all binaries: tests run the real shim and console)"
  export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
else
  step "cargo clippy (warnings are errors)"
  cargo clippy --workspace --all-targets -- -D warnings
  step "cargo build (all binaries: tests run the real shim and console)"
fi
cargo build --workspace --all-targets

step "waiting for the steps beside the build"
wait "$beside_pid" || true
close_step
trap 'finish $?' EXIT
beside_failed=0
for i in "${!beside_steps[@]}"; do
  name="${beside_steps[$i]}"
  read -r rc secs < "$beside_dir/$i.rc" 2>/dev/null || { rc=1 secs=0; }
  printf '\n== %s (beside cargo build; exit %s, %ss)\n' "$name" "$rc" "$secs"
  cat "$beside_dir/$i.log"
  status=ok
  if [ "$rc" != 0 ]; then status=failed beside_failed=1; fi
  printf '%s\t%s\t%s\n' "$name (beside cargo build)" "$secs" "$status" >> "$steps_tsv"
done
if [ "$beside_failed" != 0 ]; then exit 1; fi

# (not `eval "$(...)"`: a failing command substitution inside eval would not stop the run)
tier_env=$(cat "$beside_dir/tier.env")
eval "$tier_env"
if [ -n "${LIBRECHAT_DIR:-}" ]; then expect+=("real LibreChat"); fi
# The browser tier (sandbox/tests/it/browser.rs): chromium (scripts/bootstrap.sh installs it as
# root) and LibreChat's web client in the tree (librechat-tier.sh installs the bundle's).
if command -v chromium >/dev/null 2>&1 && [ -n "${LIBRECHAT_DIR:-}" ] \
  && [ -d "$LIBRECHAT_DIR/client/dist/assets" ]; then
  expect+=("browser")
  export OPSCONSOLE_REQUIRE_BROWSER=1
fi

step "cargo test"
# apply-local runs beside cargo test: the sandbox tests that make up most of cargo test's time are
# serial and wait on processes much of it. Its own time is a step of its own in the summary.
apply_name="apply-local: terraform apply + destroy into moto (SC-001, SC-005) (beside cargo test)"
if [ -d "${TF_MODULES_DIR:-$PWD/../shared/terraform-modules}" ]; then expect+=("apply-local"); fi
(
  t0=$SECONDS rc=0
  OPSCONSOLE="${CARGO_TARGET_DIR:-$PWD/target}/debug/opsconsole" infrastructure/scripts/apply-local.sh \
    > "$summary_dir/apply-local.log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - t0))" > "$summary_dir/apply-local.rc"
) &
apply_pid=$!
test_rc=0
# The sandbox crate's test executables (whole deployments, one at a time, waiting on their
# processes most of the time) run beside the others (scripts/test_lanes.py: the executables
# `cargo test --workspace --all-targets --no-fail-fast` runs, run as it runs them, in two lanes);
# OPSCONSOLE_SERIAL_TESTS=1 runs cargo test itself, one executable after another. Either way a
# failing executable does not hide the others (the tier table counts what ran).
if [ -z "${OPSCONSOLE_SERIAL_TESTS:-}" ]; then
  python3 scripts/test_lanes.py "$test_log" || test_rc=$?
else
  cargo test --workspace --all-targets --no-fail-fast 2>&1 | tee "$test_log" || test_rc=$?
fi
wait "$apply_pid" || true
echo
echo "== $apply_name (output)"
sed 's/^/  /' "$summary_dir/apply-local.log"
read -r apply_rc apply_secs < "$summary_dir/apply-local.rc" || { apply_rc=1 apply_secs=0; }
apply_status=ok
if [ "$apply_rc" != 0 ]; then apply_status=failed
elif grep -q "^apply-local: skipped" "$summary_dir/apply-local.log"; then apply_status=skipped; fi
printf '%s\t%s\t%s\n' "$apply_name" "$apply_secs" "$apply_status" >> "$steps_tsv"
if [ "$test_rc" != 0 ]; then exit 1; fi
if [ "$apply_status" = failed ]; then close_step ok; exit 1; fi

stop_cache
# Safety net: the tests stop what they start (and tests assert it for the sandbox), but a
# process they leaked must not keep this run (or CI) waiting. Name it, then stop it.
leftovers=$(pgrep -af "$PWD/(target|\.tools|tools)/" || true)
if [ -n "$leftovers" ]; then
  echo "warning: processes left behind by the tests (stopping them):"
  echo "$leftovers"
  echo "$leftovers" | awk '{print $1}' | xargs -r kill -9 2>/dev/null || true
fi

disk
close_step
echo "done in $((SECONDS - started))s"
