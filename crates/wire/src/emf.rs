//! The shim's CloudWatch Embedded Metric Format lines (docs/contracts.md section 3): JSON
//! objects on stdout with `_aws`, namespace [`NAMESPACE`], dimension [`DIMENSION`], and an
//! `event` property so the console finds them in FilterLogEvents with a plain term.

use serde_json::{Map, Value, json};

/// The metrics' namespace (the monitoring module's `shim_metrics_namespace` default).
pub const NAMESPACE: &str = "LibreChat/Shim";
/// The one dimension, from `AWS_LAMBDA_FUNCTION_NAME`.
pub const DIMENSION: &str = "FunctionName";

/// Cold-start phases (Milliseconds), once per cold start.
pub const COLD_START_CONFIG_MS: &str = "ColdStartConfigMs";
pub const COLD_START_SECRETS_MS: &str = "ColdStartSecretsMs";
/// Spawn of LibreChat to its readiness.
pub const COLD_START_READY_MS: &str = "ColdStartReadyMs";
pub const COLD_START_TOTAL_MS: &str = "ColdStartTotalMs";
/// Per failed proxy request (Count), with property `reason`.
pub const PROXY_ERRORS: &str = "ProxyErrors";
/// Per readiness timeout (Count), with property `reason`.
pub const READINESS_TIMEOUTS: &str = "ReadinessTimeouts";

/// LibreChat's work after a response that the environment waited for before asking for the next
/// event (Milliseconds; Count of chats), with properties `outcome` and `jobs`.
pub const PENDING_WAIT_MS: &str = "PendingWaitMs";
pub const PENDING_CHATS: &str = "PendingChats";

/// The `event` property of each kind of line.
pub const EVENT_COLD_START: &str = "cold_start";
pub const EVENT_PROXY_ERROR: &str = "proxy_error";
pub const EVENT_READINESS_TIMEOUT: &str = "readiness_timeout";
pub const EVENT_PENDING_WAIT: &str = "pending_wait";

pub const UNIT_MS: &str = "Milliseconds";
pub const UNIT_COUNT: &str = "Count";

/// One EMF object. `metrics` are (name, unit, value); `properties` are extra string fields.
pub fn line(
    function_name: &str,
    event: &str,
    metrics: &[(&str, &str, f64)],
    properties: &[(&str, &str)],
    timestamp_ms: u64,
) -> Value {
    let defs: Vec<Value> = metrics
        .iter()
        .map(|(n, u, _)| json!({"Name": n, "Unit": u}))
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
    obj.insert(DIMENSION.into(), json!(function_name));
    obj.insert("event".into(), json!(event));
    for (n, _, v) in metrics {
        obj.insert((*n).to_string(), json!(v));
    }
    for (k, v) in properties {
        obj.insert((*k).to_string(), json!(v));
    }
    Value::Object(obj)
}

/// The cold-start line: the four phases in milliseconds.
pub fn cold_start_line(
    function_name: &str,
    config_ms: f64,
    secrets_ms: f64,
    ready_ms: f64,
    total_ms: f64,
    timestamp_ms: u64,
) -> Value {
    line(
        function_name,
        EVENT_COLD_START,
        &[
            (COLD_START_CONFIG_MS, UNIT_MS, config_ms),
            (COLD_START_SECRETS_MS, UNIT_MS, secrets_ms),
            (COLD_START_READY_MS, UNIT_MS, ready_ms),
            (COLD_START_TOTAL_MS, UNIT_MS, total_ms),
        ],
        &[],
        timestamp_ms,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_shape_matches_contract() {
        let v = line(
            "fn",
            EVENT_COLD_START,
            &[(COLD_START_TOTAL_MS, UNIT_MS, 12.5)],
            &[],
            1000,
        );
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "LibreChat/Shim"
        );
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["FunctionName"]])
        );
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "ColdStartTotalMs"
        );
        assert_eq!(v["_aws"]["Timestamp"], 1000);
        assert_eq!(v["ColdStartTotalMs"], 12.5);
        assert_eq!(v["FunctionName"], "fn");
        assert_eq!(v["event"], "cold_start");
        let v = line(
            "fn",
            EVENT_PROXY_ERROR,
            &[(PROXY_ERRORS, UNIT_COUNT, 1.0)],
            &[("reason", "x")],
            1,
        );
        assert_eq!(v["reason"], "x");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
            "Count"
        );
    }

    #[test]
    fn the_cold_start_line_has_all_four_phases() {
        let v = cold_start_line("f", 1.0, 2.0, 3.0, 6.0, 7);
        let names: Vec<&str> = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .map(|m| m.iter().filter_map(|d| d["Name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            names,
            [
                "ColdStartConfigMs",
                "ColdStartSecretsMs",
                "ColdStartReadyMs",
                "ColdStartTotalMs"
            ]
        );
        assert_eq!(v["ColdStartTotalMs"], 6.0);
        assert_eq!(v["event"], "cold_start");
    }
}
