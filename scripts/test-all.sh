#!/usr/bin/env bash
# Runs every test of the project: Rust (unit, integration against moto / cargo-lambda / local
# servers, TUI snapshots and the tmux end-to-end run), Terraform checks, linters.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh all
export PATH="$PWD/.tools/venv/bin:$PATH"
echo "== cargo fmt"; cargo fmt --all -- --check
echo "== cargo test"; cargo test --workspace --all-targets
