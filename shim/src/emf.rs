//! CloudWatch Embedded Metric Format lines (docs/contracts.md section 3).

use opsconsole_wire::emf::{self, UNIT_COUNT};
use serde_json::Value;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "unknown".into())
}

fn emit(v: Value) {
    println!("{v}");
}

/// Cold-start phase timings (milliseconds).
pub fn cold_start(config_ms: f64, secrets_ms: f64, ready_ms: f64, total_ms: f64) {
    emit(emf::cold_start_line(
        &function_name(),
        config_ms,
        secrets_ms,
        ready_ms,
        total_ms,
        now_ms(),
    ));
}

/// One failed proxy request.
pub(crate) fn proxy_error(reason: &str) {
    emit(emf::line(
        &function_name(),
        emf::EVENT_PROXY_ERROR,
        &[(emf::PROXY_ERRORS, UNIT_COUNT, 1.0)],
        &[("reason", reason)],
        now_ms(),
    ));
}

/// Readiness budget exhausted.
pub(crate) fn readiness_timeout(cause: &str) {
    emit(emf::line(
        &function_name(),
        emf::EVENT_READINESS_TIMEOUT,
        &[(emf::READINESS_TIMEOUTS, UNIT_COUNT, 1.0)],
        &[("reason", cause)],
        now_ms(),
    ));
}

/// The wait for LibreChat's work after a response (before the next event was asked for).
pub(crate) fn pending_wait(wait_ms: f64, chats: usize, outcome: &str) {
    emit(emf::line(
        &function_name(),
        emf::EVENT_PENDING_WAIT,
        &[
            (emf::PENDING_WAIT_MS, emf::UNIT_MS, wait_ms),
            (emf::PENDING_CHATS, UNIT_COUNT, chats as f64),
        ],
        &[("outcome", outcome)],
        now_ms(),
    ));
}
