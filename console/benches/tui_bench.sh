#!/usr/bin/env bash
# TUI benchmark (not a test): exec-to-first-frame, idle CPU for 60 s with refreshes running and
# the logs view following a log group that receives 50 lines/s (a bounded writer into moto),
# peak RSS, measured on the real release binary in tmux against moto and the shim stand-in.
# Usage: console/benches/tui_bench.sh            (OPSCONSOLE_BENCH_IDLE_SECS=60 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
exec cargo test --release -p opsconsole --test it -- --ignored --nocapture tui_e2e::bench_tui_first_frame_idle_cpu_rss
