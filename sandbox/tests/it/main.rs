//! The sandbox's integration tests: one test binary, one module per area. Each starts whole
//! sandboxes (moto, redis-server, cargo-lambda with the real shim, the gateway stand-in), one
//! at a time within a module.

// Test code: a failed step is a failing test with its message (clippy.toml allows this in
// #[test] functions; the helpers here are test code too).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod chromium;
mod deployment_shape;
mod drills;
mod frontend;
mod multi_env_probe;
mod payload_limits;
mod sandbox_cleanup;
mod sandbox_faults;
mod sandbox_keys;
mod sandbox_librechat;
mod sandbox_reaper;
mod sandbox_tui;

/// A whole sandbox takes both cores: the tests of every module start theirs one at a time.
fn one_sandbox_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}
