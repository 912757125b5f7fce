//! Lambda log lines: `REPORT RequestId: ...` lines (text or JSON `platform.report`) and the
//! shim's EMF cold-start lines (docs/contracts.md section 3).

use opsconsole_wire::emf;
use serde_json::Value;
use time::OffsetDateTime;

use crate::model::{ReportLine, ShimPhases};

/// Parses one `REPORT` line; `None` when it is not one or lacks Duration.
///
/// Text form: `REPORT RequestId: ID\tDuration: 12.3 ms\tBilled Duration: 13 ms\tMemory Size:
/// 1024 MB\tMax Memory Used: 80 MB\tInit Duration: 234.5 ms` (Init only on cold starts).
pub(crate) fn parse_report(line: &str, timestamp: Option<OffsetDateTime>) -> Option<ReportLine> {
    let t = line.trim_start();
    if t.starts_with('{') {
        return parse_json_report(t, timestamp);
    }
    if !t.starts_with("REPORT ") {
        return None;
    }
    let tok: Vec<&str> = t.split_whitespace().collect();
    let num = |i: usize| tok.get(i).and_then(|s| s.parse::<f64>().ok());
    let mut r = ReportLine {
        request_id: String::new(),
        timestamp,
        duration_ms: f64::NAN,
        billed_duration_ms: 0.0,
        memory_size_mb: 0,
        max_memory_used_mb: 0,
        init_duration_ms: None,
    };
    let mut i = 0;
    while i < tok.len() {
        let prev = if i > 0 { tok[i - 1] } else { "" };
        match tok[i] {
            "RequestId:" => {
                r.request_id = tok.get(i + 1).map(|s| s.to_string()).unwrap_or_default()
            }
            "Duration:" => {
                let v = num(i + 1);
                match prev {
                    "Billed" => r.billed_duration_ms = v.unwrap_or(0.0),
                    "Init" => r.init_duration_ms = v,
                    _ => r.duration_ms = v.unwrap_or(f64::NAN),
                }
            }
            "Size:" if prev == "Memory" => r.memory_size_mb = num(i + 1).map_or(0, |v| v as u32),
            "Used:" if prev == "Memory" => {
                r.max_memory_used_mb = num(i + 1).map_or(0, |v| v as u32)
            }
            _ => {}
        }
        i += 1;
    }
    if r.duration_ms.is_nan() {
        return None;
    }
    Some(r)
}

/// JSON log format: `{"type":"platform.report","record":{"requestId":..,"metrics":{...}}}`.
fn parse_json_report(t: &str, timestamp: Option<OffsetDateTime>) -> Option<ReportLine> {
    let v: Value = serde_json::from_str(t).ok()?;
    if v.get("type")?.as_str()? != "platform.report" {
        return None;
    }
    let rec = v.get("record")?;
    let m = rec.get("metrics")?;
    let f = |k: &str| m.get(k).and_then(Value::as_f64);
    Some(ReportLine {
        request_id: rec
            .get("requestId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        timestamp,
        duration_ms: f("durationMs")?,
        billed_duration_ms: f("billedDurationMs").unwrap_or(0.0),
        memory_size_mb: f("memorySizeMB").map_or(0, |x| x as u32),
        max_memory_used_mb: f("maxMemoryUsedMB").map_or(0, |x| x as u32),
        init_duration_ms: f("initDurationMs"),
    })
}

/// One cold start as the shim reported it in EMF.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ShimColdStart {
    pub config_ms: Option<f64>,
    pub secrets_ms: Option<f64>,
    pub ready_ms: Option<f64>,
    pub total_ms: Option<f64>,
}

/// Parses a shim EMF cold-start line (a JSON object with `_aws` and `ColdStartTotalMs`).
pub(crate) fn parse_emf_cold_start(line: &str) -> Option<ShimColdStart> {
    let t = line.trim();
    if !t.starts_with('{') || !t.contains("ColdStart") {
        return None;
    }
    let v: Value = serde_json::from_str(t).ok()?;
    v.get("_aws")?;
    let f = |k: &str| {
        v.get(k).and_then(|x| match x {
            Value::Array(a) => a.first().and_then(Value::as_f64),
            other => other.as_f64(),
        })
    };
    let c = ShimColdStart {
        config_ms: f(emf::COLD_START_CONFIG_MS),
        secrets_ms: f(emf::COLD_START_SECRETS_MS),
        ready_ms: f(emf::COLD_START_READY_MS),
        total_ms: f(emf::COLD_START_TOTAL_MS),
    };
    c.total_ms.map(|_| c)
}

/// Averages the phases of the cold starts seen; `None` when there are none.
pub(crate) fn average_phases(samples: &[ShimColdStart]) -> Option<ShimPhases> {
    if samples.is_empty() {
        return None;
    }
    let avg = |get: fn(&ShimColdStart) -> Option<f64>| {
        let v: Vec<f64> = samples.iter().filter_map(get).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    Some(ShimPhases {
        samples: u32::try_from(samples.len()).unwrap_or(u32::MAX),
        config_ms: avg(|s| s.config_ms),
        secrets_ms: avg(|s| s.secrets_ms),
        ready_ms: avg(|s| s.ready_ms),
        total_ms: avg(|s| s.total_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cold_and_warm_report_lines() {
        let cold = "REPORT RequestId: 3f1c-aa\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 1024 MB\tMax Memory Used: 80 MB\tInit Duration: 2345.67 ms\t\n";
        let r = parse_report(cold, None).expect("report");
        assert_eq!(r.request_id, "3f1c-aa");
        assert_eq!(r.duration_ms, 12.34);
        assert_eq!(r.billed_duration_ms, 13.0);
        assert_eq!(r.memory_size_mb, 1024);
        assert_eq!(r.max_memory_used_mb, 80);
        assert_eq!(r.init_duration_ms, Some(2345.67));
        let warm = "REPORT RequestId: b\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 512 MB\tMax Memory Used: 70 MB";
        assert_eq!(
            parse_report(warm, None).expect("warm").init_duration_ms,
            None
        );
    }

    #[test]
    fn rejects_other_and_malformed_lines() {
        assert!(parse_report("START RequestId: x Version: $LATEST", None).is_none());
        assert!(parse_report("REPORT RequestId: x Duration: abc ms", None).is_none());
        assert!(parse_report("REPORT", None).is_none());
        assert!(parse_report("{\"type\":\"platform.report\"", None).is_none());
    }

    #[test]
    fn parses_json_platform_report() {
        let j = r#"{"time":"t","type":"platform.report","record":{"requestId":"r1","metrics":{"durationMs":5.5,"billedDurationMs":6,"memorySizeMB":256,"maxMemoryUsedMB":90,"initDurationMs":800.5}}}"#;
        let r = parse_report(j, None).expect("json report");
        assert_eq!(r.init_duration_ms, Some(800.5));
        assert_eq!(r.memory_size_mb, 256);
    }

    #[test]
    fn parses_shim_emf_and_averages() {
        let l = r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"LibreChat/Shim","Dimensions":[["FunctionName"]],"Metrics":[{"Name":"ColdStartTotalMs","Unit":"Milliseconds"}]}]},"event":"cold_start","FunctionName":"f","ColdStartConfigMs":10,"ColdStartSecretsMs":20,"ColdStartReadyMs":1000,"ColdStartTotalMs":1030}"#;
        let a = parse_emf_cold_start(l).expect("emf");
        assert_eq!(a.total_ms, Some(1030.0));
        let mut b = a.clone();
        b.total_ms = Some(2030.0);
        let avg = average_phases(&[a, b]).expect("avg");
        assert_eq!(avg.samples, 2);
        assert_eq!(avg.total_ms, Some(1530.0));
        assert!(
            parse_emf_cold_start(r#"{"ColdStartTotalMs":1}"#).is_none(),
            "no _aws"
        );
        assert!(parse_emf_cold_start("{broken ColdStart").is_none());
        assert!(average_phases(&[]).is_none());
    }
}
