//! The canary binary under cargo-lambda's Runtime API against the sandbox (issue 14, item 5):
//! invoked with EventBridge Scheduler's event, its EMF record lands in moto's log group (the
//! test ships the function's stdout there, as Lambda does and as the sandbox does for the shim),
//! and the sandbox's `buffering` fault flips `SseVerdict` from 0 to 1; the web mode (issue 23) on
//! the real-LibreChat sandbox (web_mode.rs).

// Test code: a failed step is a failing test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod under_cargo_lambda;
mod web_mode;

/// A whole sandbox takes both cores: one at a time.
fn one_sandbox_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}
