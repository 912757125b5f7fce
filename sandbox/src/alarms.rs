//! The 10 alarms the sandbox seeds into moto: the same definitions as
//! `infrastructure/terraform/modules/monitoring/main.tf` (`local.alarms`); a test parses that file
//! and compares name, namespace, metric, statistic, threshold and period. Then the canary
//! module's 2 alarms. The whole definitions (operators, missing data, dimensions, ...) are
//! compared with what `terraform apply` creates by `sandbox/tests/it/deployment_shape.rs`.

/// Which dimension set of the monitoring module an alarm uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dims {
    Function,
    Api,
    Distribution,
    Redis,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AlarmDef {
    /// Name suffix after `${name_prefix}-`.
    pub suffix: &'static str,
    /// `None` = the shim's metrics namespace (`var.shim_metrics_namespace`).
    pub namespace: Option<&'static str>,
    pub metric: &'static str,
    /// `Sum`, `Average`, `Maximum` or an extended statistic `pNN`.
    pub stat: &'static str,
    pub threshold: f64,
    pub period: i32,
    pub dims: Dims,
    /// CloudFront's alarm lives in us-east-1.
    pub us_east_1: bool,
}

const fn def(
    suffix: &'static str,
    namespace: Option<&'static str>,
    metric: &'static str,
    stat: &'static str,
    threshold: f64,
    period: i32,
    dims: Dims,
) -> AlarmDef {
    AlarmDef {
        suffix,
        namespace,
        metric,
        stat,
        threshold,
        period,
        dims,
        us_east_1: false,
    }
}

pub(crate) const ALARMS: [AlarmDef; 10] = [
    def(
        "lambda-errors",
        Some("AWS/Lambda"),
        "Errors",
        "Sum",
        5.0,
        300,
        Dims::Function,
    ),
    def(
        "lambda-throttles",
        Some("AWS/Lambda"),
        "Throttles",
        "Sum",
        0.0,
        300,
        Dims::Function,
    ),
    def(
        "lambda-duration-p95",
        Some("AWS/Lambda"),
        "Duration",
        "p95",
        600000.0,
        300,
        Dims::Function,
    ),
    def(
        "lambda-concurrency",
        Some("AWS/Lambda"),
        "ConcurrentExecutions",
        "Maximum",
        80.0,
        60,
        Dims::Function,
    ),
    def(
        "lambda-cold-start-p95",
        None,
        opsconsole_wire::emf::COLD_START_TOTAL_MS,
        "p95",
        20000.0,
        900,
        Dims::Function,
    ),
    def(
        "apigw-5xx",
        Some("AWS/ApiGateway"),
        "5XXError",
        "Sum",
        5.0,
        300,
        Dims::Api,
    ),
    def(
        "apigw-latency-p95",
        Some("AWS/ApiGateway"),
        "Latency",
        "p95",
        10000.0,
        300,
        Dims::Api,
    ),
    AlarmDef {
        us_east_1: true,
        ..def(
            "cloudfront-5xx-rate",
            Some("AWS/CloudFront"),
            "5xxErrorRate",
            "Average",
            5.0,
            300,
            Dims::Distribution,
        )
    },
    def(
        "redis-cpu",
        Some("AWS/ElastiCache"),
        "EngineCPUUtilization",
        "Average",
        80.0,
        300,
        Dims::Redis,
    ),
    def(
        "redis-memory",
        Some("AWS/ElastiCache"),
        "DatabaseMemoryUsagePercentage",
        "Average",
        80.0,
        300,
        Dims::Redis,
    ),
];

/// The namespace of the canary's EMF records and alarms (contracts section 7).
pub(crate) const CANARY_NAMESPACE: &str = opsconsole_wire::canary::NAMESPACE;

/// One of `modules/canary`'s two alarms (dimension `Environment`, in the home region).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CanaryAlarmDef {
    /// Name suffix after `${name_prefix}-`.
    pub suffix: &'static str,
    pub metric: &'static str,
    pub stat: &'static str,
    pub comparison: &'static str,
    pub threshold: f64,
    pub treat_missing_data: &'static str,
    pub period: i32,
    pub evaluation_periods: i32,
}

/// `modules/canary`'s `local.alarms` (enabled by default in environments/dev, listed in the
/// `canary_alarms` output); `infrastructure/deployment-shape.json` holds what apply creates.
pub(crate) const CANARY_ALARMS: [CanaryAlarmDef; 2] = [
    CanaryAlarmDef {
        suffix: "probe-unhealthy",
        metric: opsconsole_wire::canary::HEALTHY,
        stat: "Minimum",
        comparison: "LessThanThreshold",
        threshold: 1.0,
        // A canary that stopped running is unhealthy.
        treat_missing_data: "breaching",
        period: 300,
        evaluation_periods: 2,
    },
    CanaryAlarmDef {
        suffix: "sse-buffered",
        metric: opsconsole_wire::canary::SSE_VERDICT,
        stat: "Minimum",
        comparison: "GreaterThanOrEqualToThreshold",
        threshold: 1.0,
        treat_missing_data: "notBreaching",
        period: 300,
        evaluation_periods: 2,
    },
];

/// One row of `local.alarms` as written in the monitoring module (the unit test compares the
/// list above with it).
#[cfg(test)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TfAlarm {
    pub suffix: String,
    /// Raw HCL expression (`"AWS/Lambda"` unquoted, or `var.shim_metrics_namespace`).
    pub namespace: String,
    pub metric: String,
    pub stat: String,
    pub threshold: f64,
    pub period: i32,
    pub dims: String,
}

/// Extracts the rows of `alarms = { "suffix" = { ns = ..., metric = ..., ... } }` from the
/// monitoring module's HCL. Returns an error naming the line it could not read.
#[cfg(test)]
pub(crate) fn parse_tf_alarms(hcl: &str) -> Result<Vec<TfAlarm>, String> {
    let mut out = Vec::new();
    let mut inside = false;
    for (n, line) in hcl.lines().enumerate() {
        let t = line.trim();
        if !inside {
            if t.starts_with("alarms") && t.ends_with('{') && t.contains('=') {
                inside = true;
            }
            continue;
        }
        if t == "}" {
            break;
        }
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (key, rest) = t
            .split_once('=')
            .ok_or_else(|| format!("line {}: expected `\"name\" = {{ ... }}`", n + 1))?;
        let suffix = key.trim().trim_matches('"').to_string();
        let body = rest
            .trim()
            .strip_prefix('{')
            .and_then(|b| b.strip_suffix('}'))
            .ok_or_else(|| format!("line {}: expected an object on one line", n + 1))?;
        let mut fields = std::collections::BTreeMap::new();
        for part in body.split(',') {
            if let Some((k, v)) = part.split_once('=') {
                fields.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
            }
        }
        let get = |k: &str| {
            fields
                .get(k)
                .cloned()
                .ok_or_else(|| format!("line {}: `{suffix}` has no `{k}`", n + 1))
        };
        out.push(TfAlarm {
            suffix: suffix.clone(),
            namespace: get("ns")?,
            metric: get("metric")?,
            stat: get("stat")?,
            threshold: get("threshold")?
                .parse()
                .map_err(|_| format!("line {}: threshold of `{suffix}` is not a number", n + 1))?,
            period: get("period")?
                .parse()
                .map_err(|_| format!("line {}: period of `{suffix}` is not a number", n + 1))?,
            dims: get("dims")?,
        });
    }
    if out.is_empty() {
        return Err("no `alarms = {` block found".into());
    }
    Ok(out)
}

/// The `in_us_east_1 = [...]` list of the monitoring module.
#[cfg(test)]
pub(crate) fn parse_tf_us_east_1(hcl: &str) -> Vec<String> {
    hcl.lines()
        .map(str::trim)
        .find(|l| l.starts_with("in_us_east_1"))
        .and_then(|l| l.split_once('['))
        .and_then(|(_, r)| r.split_once(']'))
        .map(|(inner, _)| {
            inner
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitoring_tf() -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../infrastructure/terraform/modules/monitoring");
        let mut all = String::new();
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .expect("monitoring module directory")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .collect();
        entries.sort();
        for p in entries {
            all.push_str(&std::fs::read_to_string(&p).expect("read .tf"));
            all.push('\n');
        }
        all
    }

    #[test]
    fn sandbox_alarms_are_the_contract_list_in_order() {
        let suffixes: Vec<&str> = ALARMS.iter().map(|a| a.suffix).collect();
        assert_eq!(suffixes, opsconsole::model::ALARM_SUFFIXES);
    }

    #[test]
    fn sandbox_alarms_match_the_monitoring_module() {
        let tf = parse_tf_alarms(&monitoring_tf()).expect("parse monitoring module");
        let tf_names: Vec<&str> = tf.iter().map(|a| a.suffix.as_str()).collect();
        let ours: Vec<&str> = ALARMS.iter().map(|a| a.suffix).collect();
        assert_eq!(
            ours, tf_names,
            "alarm names (and order) differ from modules/monitoring"
        );
        for (a, t) in ALARMS.iter().zip(&tf) {
            let ns = a.namespace.unwrap_or("var.shim_metrics_namespace");
            assert_eq!(ns, t.namespace, "{}: namespace", a.suffix);
            assert_eq!(a.metric, t.metric, "{}: metric", a.suffix);
            assert_eq!(a.stat, t.stat, "{}: stat", a.suffix);
            assert_eq!(a.threshold, t.threshold, "{}: threshold", a.suffix);
            assert_eq!(a.period, t.period, "{}: period", a.suffix);
            let dims = match a.dims {
                Dims::Function => "local.fn",
                Dims::Api => "local.api",
                Dims::Distribution => "local.cf",
                Dims::Redis => "local.redis",
            };
            assert_eq!(dims, t.dims, "{}: dimensions", a.suffix);
        }
        let east: Vec<String> = ALARMS
            .iter()
            .filter(|a| a.us_east_1)
            .map(|a| a.suffix.to_string())
            .collect();
        assert_eq!(east, parse_tf_us_east_1(&monitoring_tf()));
    }

    #[test]
    fn parser_reports_a_renamed_alarm() {
        let hcl = "locals {\n  alarms = {\n    \"x-errors\" = { ns = \"AWS/Lambda\", metric = \"Errors\", stat = \"Sum\", threshold = 5, period = 300, dims = local.fn }\n  }\n}\n";
        let parsed = parse_tf_alarms(hcl).expect("parses");
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].suffix, "x-errors");
        assert_ne!(parsed[0].suffix, ALARMS[0].suffix);
        assert!(parse_tf_alarms("locals {}").is_err());
        assert!(parse_tf_alarms("alarms = {\n \"a\" = { ns = \"n\" }\n}").is_err());
    }
}
