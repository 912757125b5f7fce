//! The console's integration tests: one test binary (linking the AWS SDKs once), one module per
//! area. Run one area with a filter, e.g. `cargo test -p opsconsole --test it tui_snapshots::`.
//!
//! Real peers, no mocks: moto's server (one per binary, shared; each test seeds its own
//! resources under a distinct prefix), the shim stand-in, terraform, tmux.

// Test code: a failed step is a failing test with its message (clippy.toml allows this in
// #[test] functions; the helpers here are test code too).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod tui_support;

mod bundle;
mod charts_moto;
mod cli;
mod collectors_moto;
mod cost;
mod cost_live;
mod files_probe;
mod init;
mod init_apply;
mod init_wizard;
mod leftovers;
mod moto_support;
mod probe_cli;
mod probe_sources;
mod sse_probe;
mod tui_actions;
mod tui_e2e;
mod tui_snapshots;
mod tui_update;
