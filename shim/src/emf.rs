//! CloudWatch Embedded Metric Format lines (docs/contracts.md section 3).

use serde_json::{Map, Value, json};

pub const NAMESPACE: &str = "LibreChat/Shim";

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Build one EMF object. `metrics` are (name, unit, value).
pub fn emf_line(
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
                "Dimensions": [["FunctionName"]],
                "Metrics": defs,
            }]
        }),
    );
    obj.insert("FunctionName".into(), json!(function_name));
    obj.insert("event".into(), json!(event));
    for (n, _, v) in metrics {
        obj.insert((*n).to_string(), json!(v));
    }
    for (k, v) in properties {
        obj.insert((*k).to_string(), json!(v));
    }
    Value::Object(obj)
}

fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "unknown".into())
}

fn emit(v: Value) {
    println!("{v}");
}

/// Cold-start phase timings (milliseconds).
pub fn cold_start(config_ms: f64, secrets_ms: f64, ready_ms: f64, total_ms: f64) {
    emit(emf_line(
        &function_name(),
        "cold_start",
        &[
            ("ColdStartConfigMs", "Milliseconds", config_ms),
            ("ColdStartSecretsMs", "Milliseconds", secrets_ms),
            ("ColdStartReadyMs", "Milliseconds", ready_ms),
            ("ColdStartTotalMs", "Milliseconds", total_ms),
        ],
        &[],
        now_ms(),
    ));
}

/// One failed proxy request.
pub fn proxy_error(reason: &str) {
    emit(emf_line(
        &function_name(),
        "proxy_error",
        &[("ProxyErrors", "Count", 1.0)],
        &[("reason", reason)],
        now_ms(),
    ));
}

/// Readiness budget exhausted.
pub fn readiness_timeout(cause: &str) {
    emit(emf_line(
        &function_name(),
        "readiness_timeout",
        &[("ReadinessTimeouts", "Count", 1.0)],
        &[("reason", cause)],
        now_ms(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_shape_matches_contract() {
        let v = emf_line(
            "fn",
            "cold_start",
            &[("ColdStartTotalMs", "Milliseconds", 12.5)],
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
        let v = emf_line(
            "fn",
            "proxy_error",
            &[("ProxyErrors", "Count", 1.0)],
            &[("reason", "x")],
            1,
        );
        assert_eq!(v["reason"], "x");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
            "Count"
        );
    }
}
