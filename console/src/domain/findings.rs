//! The probe's findings, status and exit code (docs/contracts.md section 5).

use serde::Serialize;

use crate::model::{
    AlarmState, AlarmsData, CloudFrontData, CollectorError, ErrorKind, HealthData, Identity,
    LambdaData, RedisData, SseProbeData, Verdict,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Degraded,
    Failing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Healthy,
    Degraded,
    Failing,
}

impl Status {
    /// 0 healthy, 1 degraded, 2 failing (3 is usage/configuration, decided before probing).
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Healthy => 0,
            Status::Degraded => 1,
            Status::Failing => 2,
        }
    }
}

pub const EXIT_USAGE: u8 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: String,
    pub code: String,
    pub severity: Severity,
    pub message: String,
}

fn finding(check: &str, code: &str, severity: Severity, message: String) -> Finding {
    Finding {
        check: check.into(),
        code: code.into(),
        severity,
        message,
    }
}

/// The result of each check; `None` = not run (`--only`, or skipped).
#[derive(Debug, Clone, Default)]
pub struct ProbeResults {
    pub identity: Option<Result<Identity, CollectorError>>,
    pub alarms: Option<Result<AlarmsData, CollectorError>>,
    pub lambda: Option<Result<LambdaData, CollectorError>>,
    pub redis: Option<Result<RedisData, CollectorError>>,
    pub cloudfront: Option<Result<CloudFrontData, CollectorError>>,
    pub health: Option<Result<HealthData, CollectorError>>,
    pub sse: Option<Result<SseProbeData, CollectorError>>,
}

/// Thresholds the findings depend on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub cold_start_p95_ms: f64,
}

fn collector_error(check: &str, e: &CollectorError) -> Finding {
    let mut msg = format!("{check} collector failed ({:?}): {}", e.kind, e.message);
    if let Some(f) = &e.fix {
        msg.push_str(&format!(" - fix: {f}"));
    }
    finding(check, "collector_error", Severity::Degraded, msg)
}

fn eq_ci(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

/// All findings of a probe run, in check order.
pub fn findings(r: &ProbeResults, t: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(Err(e)) = &r.identity {
        out.push(collector_error("identity", e));
    }
    match &r.alarms {
        Some(Ok(a)) => {
            for al in &a.alarms {
                match al.state {
                    AlarmState::Alarm => out.push(finding(
                        "alarms",
                        "alarm_firing",
                        Severity::Degraded,
                        format!(
                            "{} ({}) is in ALARM: {}",
                            al.name,
                            al.region,
                            al.reason.as_deref().unwrap_or("no reason given")
                        ),
                    )),
                    AlarmState::Missing => out.push(finding(
                        "alarms",
                        "alarm_missing",
                        Severity::Degraded,
                        format!("{} ({}) does not exist in CloudWatch", al.name, al.region),
                    )),
                    _ => {}
                }
            }
        }
        Some(Err(e)) => out.push(collector_error("alarms", e)),
        None => {}
    }
    match &r.lambda {
        Some(Ok(l)) => {
            if let Some(p95) = l.cold_starts.init_p95_ms
                && p95 > t.cold_start_p95_ms
            {
                out.push(finding(
                    "lambda",
                    "cold_start_p95_high",
                    Severity::Degraded,
                    format!(
                        "cold-start Init Duration p95 {:.0} ms is over the threshold {:.0} ms ({} cold starts)",
                        p95, t.cold_start_p95_ms, l.cold_starts.cold
                    ),
                ));
            }
            let updating = eq_ci(l.last_update_status.as_deref(), "InProgress");
            let pending = eq_ci(l.state.as_deref(), "Pending");
            if updating || pending {
                out.push(finding(
                    "lambda",
                    "deploy_in_progress",
                    Severity::Degraded,
                    format!(
                        "function {} is being deployed (state {}, last update {})",
                        l.function_name,
                        l.state.as_deref().unwrap_or("?"),
                        l.last_update_status.as_deref().unwrap_or("?")
                    ),
                ));
            }
        }
        Some(Err(e)) => out.push(collector_error("lambda", e)),
        None => {}
    }
    match &r.redis {
        Some(Ok(d)) => {
            let status_bad = !eq_ci(d.status.as_deref(), "available");
            let ping_bad = d.ping.as_ref().is_some_and(|p| !p.ok);
            if status_bad || ping_bad {
                let mut why = Vec::new();
                if status_bad {
                    why.push(format!(
                        "replication group {} is {}",
                        d.replication_group_id,
                        d.status.as_deref().unwrap_or("(no status)")
                    ));
                }
                if let Some(p) = d.ping.as_ref().filter(|p| !p.ok) {
                    why.push(format!(
                        "in-VPC PING from the shim failed: {}",
                        p.error.as_deref().unwrap_or("no error given")
                    ));
                }
                out.push(finding(
                    "redis",
                    "redis_unreachable",
                    Severity::Degraded,
                    why.join("; "),
                ));
            }
        }
        Some(Err(e)) => out.push(collector_error("redis", e)),
        None => {}
    }
    match &r.cloudfront {
        Some(Ok(c)) => {
            let dist = eq_ci(c.status.as_deref(), "InProgress");
            let inv: Vec<&str> = c
                .invalidations
                .iter()
                .filter(|i| i.status.eq_ignore_ascii_case("InProgress"))
                .map(|i| i.id.as_str())
                .collect();
            if dist || !inv.is_empty() {
                let mut why = Vec::new();
                if dist {
                    why.push(format!("distribution {} is InProgress", c.distribution_id));
                }
                if !inv.is_empty() {
                    why.push(format!("invalidation(s) in progress: {}", inv.join(", ")));
                }
                out.push(finding(
                    "cloudfront",
                    "deploy_in_progress",
                    Severity::Degraded,
                    why.join("; "),
                ));
            }
        }
        Some(Err(e)) => out.push(collector_error("cloudfront", e)),
        None => {}
    }
    match &r.health {
        Some(Ok(h)) if !h.ok => out.push(finding(
            "health",
            "health_failed",
            Severity::Failing,
            format!(
                "GET {} answered {} in {:.0} ms",
                h.url, h.status, h.latency_ms
            ),
        )),
        Some(Err(e)) if e.kind == ErrorKind::Config => out.push(collector_error("health", e)),
        Some(Err(e)) => out.push(finding(
            "health",
            "health_failed",
            Severity::Failing,
            format!("health check failed: {}", e.message),
        )),
        _ => {}
    }
    match &r.sse {
        Some(Ok(s)) => match s.verdict {
            Verdict::Buffered => out.push(finding(
                "sse",
                "sse_buffered",
                Severity::Degraded,
                format!("SSE stream is BUFFERED: {}", s.reason),
            )),
            Verdict::Failed => out.push(finding(
                "sse",
                "sse_failed",
                Severity::Failing,
                format!("SSE probe FAILED: {}", s.reason),
            )),
            Verdict::Streaming => {}
        },
        Some(Err(e)) if e.kind == ErrorKind::Timeout => out.push(finding(
            "sse",
            "sse_failed",
            Severity::Failing,
            format!("SSE probe did not finish: {}", e.message),
        )),
        Some(Err(e)) => out.push(collector_error("sse", e)),
        None => {}
    }
    out
}

/// The overall status: the worst severity among the findings.
pub fn status(findings: &[Finding]) -> Status {
    match findings.iter().map(|f| f.severity).max() {
        None => Status::Healthy,
        Some(Severity::Degraded) => Status::Degraded,
        Some(Severity::Failing) => Status::Failing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AlarmInfo, ColdStartStats, RedisPing};

    const T: Thresholds = Thresholds {
        cold_start_p95_ms: 5000.0,
    };

    fn alarm(state: AlarmState) -> AlarmInfo {
        AlarmInfo::bare("a", "us-east-1", state)
    }

    fn lambda(p95: Option<f64>, state: &str, upd: &str) -> LambdaData {
        LambdaData {
            function_name: "f".into(),
            state: Some(state.into()),
            last_update_status: Some(upd.into()),
            image_uri: None,
            memory_mb: None,
            timeout_s: None,
            invocations: None,
            errors: None,
            throttles: None,
            max_concurrency: None,
            window_minutes: 60,
            cold_starts: ColdStartStats {
                init_p95_ms: p95,
                ..ColdStartStats::default()
            },
            shim_phases: None,
            reports: vec![],
            truncated: None,
        }
    }

    fn codes(r: &ProbeResults) -> Vec<String> {
        findings(r, &T).into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn empty_is_healthy_exit_0() {
        let f = findings(&ProbeResults::default(), &T);
        assert!(f.is_empty());
        assert_eq!(status(&f).exit_code(), 0);
    }

    #[test]
    fn alarms_firing_and_missing_are_degraded() {
        let r = ProbeResults {
            alarms: Some(Ok(AlarmsData {
                alarms: vec![
                    alarm(AlarmState::Ok),
                    alarm(AlarmState::Alarm),
                    alarm(AlarmState::Missing),
                ],
                window_minutes: 180,
                period_seconds: 300,
            })),
            ..ProbeResults::default()
        };
        assert_eq!(codes(&r), ["alarm_firing", "alarm_missing"]);
        assert_eq!(status(&findings(&r, &T)).exit_code(), 1);
    }

    #[test]
    fn cold_start_threshold_both_sides() {
        let over = ProbeResults {
            lambda: Some(Ok(lambda(Some(5001.0), "Active", "Successful"))),
            ..Default::default()
        };
        assert_eq!(codes(&over), ["cold_start_p95_high"]);
        let at = ProbeResults {
            lambda: Some(Ok(lambda(Some(5000.0), "Active", "Successful"))),
            ..Default::default()
        };
        assert!(codes(&at).is_empty());
        let deploying = ProbeResults {
            lambda: Some(Ok(lambda(None, "Active", "InProgress"))),
            ..Default::default()
        };
        assert_eq!(codes(&deploying), ["deploy_in_progress"]);
    }

    #[test]
    fn failing_beats_degraded_and_redis_ping() {
        let r = ProbeResults {
            health: Some(Ok(HealthData {
                url: "u".into(),
                status: 502,
                latency_ms: 1.0,
                ok: false,
            })),
            redis: Some(Ok(RedisData {
                replication_group_id: "rg".into(),
                status: Some("available".into()),
                engine: None,
                engine_version: None,
                endpoint: None,
                nodes: vec![],
                cpu_percent: None,
                memory_percent: None,
                connections: None,
                evictions: None,
                hit_rate: None,
                ping: Some(RedisPing {
                    ok: false,
                    rtt_ms: None,
                    error: Some("refused".into()),
                }),
            })),
            ..Default::default()
        };
        let f = findings(&r, &T);
        assert_eq!(
            f.iter().map(|x| x.code.as_str()).collect::<Vec<_>>(),
            ["redis_unreachable", "health_failed"]
        );
        assert_eq!(status(&f), Status::Failing);
        assert_eq!(status(&f).exit_code(), 2);
    }

    #[test]
    fn collector_errors_are_degraded_with_the_fix() {
        let e = CollectorError {
            kind: ErrorKind::ExpiredCredentials,
            message: "expired".into(),
            fix: Some("run `task login:dev`".into()),
        };
        let r = ProbeResults {
            identity: Some(Err(e)),
            ..Default::default()
        };
        let f = findings(&r, &T);
        assert_eq!(f[0].code, "collector_error");
        assert!(f[0].message.contains("task login:dev"));
        assert_eq!(status(&f).exit_code(), 1);
    }
}
