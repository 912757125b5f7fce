//! The scheduled SSE canary's CloudWatch EMF record (docs/contracts.md section 7): one JSON
//! object per run on the canary's stdout, namespace [`NAMESPACE`], dimension [`DIMENSION`]
//! (the environment's name). The canary (`canary/`) writes it; the Terraform module
//! `modules/canary` alarms on it; the console reads its history back.

use serde_json::{Map, Value, json};

/// The canary's metrics namespace.
pub const NAMESPACE: &str = "LibreChat/Probe";
/// The one dimension: the environment's name.
pub const DIMENSION: &str = "Environment";

/// 1 when the probe's status was `healthy`, else 0 (unit `None`).
pub const HEALTHY: &str = "Healthy";
/// The SSE verdict as a number: [`VERDICT_STREAMING`], [`VERDICT_BUFFERED`], [`VERDICT_FAILED`].
pub const SSE_VERDICT: &str = "SseVerdict";
/// Milliseconds from the request to the first event.
pub const SSE_FIRST_EVENT_MS: &str = "SseFirstEventMs";
/// The smallest arrival gap / send gap over the spaced pairs (1 = arrived as sent, near 0 =
/// collapsed, i.e. buffered). Absent when no pair was spaced.
pub const SSE_WORST_GAP_RATIO: &str = "SseWorstGapRatio";
/// `GET /api/health` latency in milliseconds.
pub const HEALTH_LATENCY_MS: &str = "HealthLatencyMs";
/// Number of findings of the run.
pub const FINDINGS: &str = "Findings";

pub const VERDICT_STREAMING: f64 = 0.0;
pub const VERDICT_BUFFERED: f64 = 1.0;
pub const VERDICT_FAILED: f64 = 2.0;

/// The suffixes of the canary's two alarms (`modules/canary`): each is named
/// `{name_prefix}-{suffix}` and listed in the `canary_alarms` output.
pub const ALARM_SUFFIXES: [&str; 2] = ["probe-unhealthy", "sse-buffered"];

/// The `event` property of the record (a plain term for FilterLogEvents).
pub const EVENT_RUN: &str = "canary_run";
/// The `event` property of the run's JSON report line.
pub const EVENT_REPORT: &str = "canary_report";

/// The unit of each metric.
pub fn unit(metric: &str) -> &'static str {
    match metric {
        SSE_FIRST_EVENT_MS | HEALTH_LATENCY_MS => "Milliseconds",
        FINDINGS => "Count",
        _ => "None",
    }
}

/// One EMF record; metrics are (name, value), absent metrics are left out.
pub fn line(environment: &str, metrics: &[(&str, f64)], timestamp_ms: u64) -> Value {
    let defs: Vec<Value> = metrics
        .iter()
        .map(|(n, _)| json!({"Name": n, "Unit": unit(n)}))
        .collect();
    let mut obj = Map::new();
    obj.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[DIMENSION]],
                "Metrics": defs,
            }]
        }),
    );
    obj.insert(DIMENSION.into(), json!(environment));
    obj.insert("event".into(), json!(EVENT_RUN));
    for (n, v) in metrics {
        obj.insert((*n).to_string(), json!(v));
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_shape_matches_contract() {
        let v = line("dev", &[(SSE_VERDICT, 1.0), (HEALTH_LATENCY_MS, 12.5)], 7);
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "LibreChat/Probe");
        assert_eq!(m["Dimensions"], json!([["Environment"]]));
        assert_eq!(
            m["Metrics"][0],
            json!({"Name": "SseVerdict", "Unit": "None"})
        );
        assert_eq!(
            m["Metrics"][1],
            json!({"Name": "HealthLatencyMs", "Unit": "Milliseconds"})
        );
        assert_eq!(v["Environment"], "dev");
        assert_eq!(v["SseVerdict"], 1.0);
        assert_eq!(v["event"], "canary_run");
        assert_eq!(v["_aws"]["Timestamp"], 7);
    }
}
