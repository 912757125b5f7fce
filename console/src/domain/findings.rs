//! The probe's findings, status and exit code (docs/contracts.md section 5).

use serde::Serialize;

mod database;
mod files;
mod frontend;
pub use database::DATABASE_SLOW_MS;

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
    pub frontend: Option<Result<crate::domain::frontend::FrontendData, CollectorError>>,
    pub files: Option<Result<crate::domain::files::FilesData, CollectorError>>,
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
            out.extend(redis_findings(d));
            out.extend(d.database.as_ref().and_then(database::finding));
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
            health_message(h),
        )),
        Some(Err(e)) if e.kind == ErrorKind::Config => out.push(collector_error("health", e)),
        Some(Err(e)) => {
            let what = match e.kind {
                ErrorKind::Timeout => "did not answer in time",
                ErrorKind::Unreachable => "could not be reached",
                _ => "failed",
            };
            out.push(finding(
                "health",
                "health_failed",
                Severity::Failing,
                format!(
                    "the health check {what}: {}. Likely cause: the path to the function \
                     (DNS, CloudFront, API Gateway) rather than LibreChat; next: the alarms \
                     panel and the function's log lines (`l` in the console)",
                    e.message
                ),
            ))
        }
        _ => {}
    }
    if let Some(Ok(s)) = &r.sse
        && let Some(stall) = &s.stall
        && !matches!(s.verdict, Verdict::Failed | Verdict::Stalled)
    {
        out.push(finding(
            "sse",
            "sse_stalled",
            Severity::Degraded,
            crate::domain::stall::stall_message(stall, s.mode.as_deref().unwrap_or("shim")),
        ));
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
            // No token at all: a frozen environment (the shim without its wait) and a provider
            // answering an error (measured on v0.8.6: the web stream then stays silent, no
            // error frame) look the same from here, so both are named.
            Verdict::Stalled if s.events.is_empty() => out.push(finding(
                "sse",
                "web_chat_stalled",
                Severity::Degraded,
                format!(
                    "the web chat STALLED before its first token: {}. Likely causes: the environment generating the reply was frozen by Lambda (SHIM_PENDING_WAIT_MS=0, or a shim older than this version), or the model provider failed or is not answering (LibreChat v0.8.6 sends no error to the chat's stream when the provider answers an error: the user sees the reply never start). Next: the function's log lines for this chat (`l` in the console: a REPORT right after the POST then nothing means a frozen environment; the provider's error otherwise), then the provider's status and the endpoint's key and model in librechat.yaml",
                    s.reason
                ),
            )),
            Verdict::Stalled => out.push(finding(
                "sse",
                "web_chat_stalled",
                Severity::Degraded,
                format!(
                    "the web chat STALLED: {}. Likely cause: the environment generating the reply was frozen by Lambda: the shim does not wait for LibreChat's work after the response (SHIM_PENDING_WAIT_MS=0, or a shim older than this version), or the model stalled. Next: the function's log lines for this chat (`l` in the console: a REPORT right after the POST, then nothing until the next request, means a frozen environment), the shim's version and SHIM_PENDING_WAIT_MS (shim/README.md, \"LibreChat's work after the response\"), then the model provider",
                    s.reason
                ),
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
    match &r.frontend {
        Some(Ok(d)) => out.extend(frontend::findings(d)),
        Some(Err(e)) => out.push(collector_error("frontend", e)),
        None => {}
    }
    match &r.files {
        Some(Ok(d)) => out.extend(files::findings(d)),
        Some(Err(e)) => out.push(collector_error("files", e)),
        None => {}
    }
    out
}

/// Redis findings: only what the replication group's status or the shim's own PING showed. A
/// status endpoint that did not answer is an observation about the shim / LibreChat
/// (`shim_status_unavailable`), never `redis_unreachable`.
fn redis_findings(d: &RedisData) -> Vec<Finding> {
    let mut out = Vec::new();
    let status_bad = !eq_ci(d.status.as_deref(), "available");
    let mut why = Vec::new();
    if status_bad {
        why.push(format!(
            "replication group {} is {} (ElastiCache's own status)",
            d.replication_group_id,
            d.status.as_deref().unwrap_or("(no status)")
        ));
    }
    if let Some(p) = d.ping.as_ref().filter(|p| !p.ok) {
        why.push(format!(
            "the shim answered its status request and its in-VPC PING of Redis failed: {}",
            p.error.as_deref().unwrap_or("no error given")
        ));
    }
    if !why.is_empty() {
        out.push(finding(
            "redis",
            "redis_unreachable",
            Severity::Degraded,
            format!(
                "{}. Next: the Redis panel (nodes, CPU, memory) and the shim's REDIS_URI / \
                 security groups",
                why.join("; ")
            ),
        ));
    }
    if let Some(e) = &d.shim_status_error {
        out.push(finding(
            "redis",
            "shim_status_unavailable",
            Severity::Degraded,
            format!(
                "{e}; Redis was not checked from inside the VPC (this says nothing about \
                 Redis). Likely cause: the shim or LibreChat is stuck or busy; next: the \
                 health finding and the function's log lines (`l` in the console)"
            ),
        ));
    }
    out
}

/// The `health_failed` message from what the health check saw: the shim's JSON body names
/// what LibreChat did; any other body means the request did not reach the shim.
fn health_message(h: &HealthData) -> String {
    let head = format!(
        "GET {} answered {} in {:.0} ms",
        h.url, h.status, h.latency_ms
    );
    let logs = "its last log lines: `l` in the console";
    let Some(b) = &h.shim else {
        return format!(
            "{head} without the shim's JSON body: the request did not reach the shim or the \
             function failed before answering (API Gateway / CloudFront / Lambda error). Next: \
             the alarms panel and the function's log lines (`l` in the console)"
        );
    };
    if eq_ci(b.status.as_deref(), "unhealthy") {
        let lc = b.librechat.as_ref();
        let seen = match lc.and_then(|l| l.status) {
            Some(s) => format!("LibreChat's /health answered HTTP {s}"),
            None => "LibreChat did not answer /health".to_string(),
        };
        let err = b.error.as_deref().unwrap_or("no detail given");
        return format!(
            "{head}: the shim is up and says {seen} ({err}). Likely cause: LibreChat (hung, \
             crashed or overloaded); {logs}"
        );
    }
    let code = b.error.as_deref().unwrap_or("unknown");
    let detail = b.detail.as_deref().unwrap_or("");
    let cause = match code {
        "librechat_not_ready" => {
            "LibreChat did not become ready after the cold start (config, secrets, \
             its database or Redis at startup)"
        }
        "upstream_unavailable" => "LibreChat's process could not be reached or has exited",
        _ => "the shim's answer names it",
    };
    format!("{head}: the shim answered `{code}` ({detail}). Likely cause: {cause}; {logs}")
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
    use crate::model::{AlarmInfo, ColdStartStats, RedisPing, ShimHealthBody, SseEventObs};

    pub(super) const T: Thresholds = Thresholds {
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

    pub(super) fn codes(r: &ProbeResults) -> Vec<String> {
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
                shim: None,
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
                shim_status_error: None,
                database: None,
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
    fn a_stalled_web_chat_is_degraded_with_cause_and_next_step() {
        let sse = SseProbeData {
            url: "https://x/api/agents/chat/stream/c1".into(),
            connect_ms: None,
            ttfb_ms: Some(5.0),
            first_event_ms: None,
            events: vec![],
            expected_events: None,
            verdict: Verdict::Stalled,
            reason:
                "no event for 5003 ms (stall limit 5000 ms) after 1 frame(s), the last `created`"
                    .into(),
            mode: Some("web".into()),
            stall: None,
        };
        let r = ProbeResults {
            sse: Some(Ok(sse.clone())),
            ..ProbeResults::default()
        };
        let f = findings(&r, &T);
        assert_eq!(codes(&r), ["web_chat_stalled"]);
        assert_eq!(f[0].severity, Severity::Degraded);
        // No token at all: both causes named.
        for needle in [
            "before its first token",
            "the last `created`",
            "5003 ms",
            "frozen by Lambda",
            "the model provider failed",
            "SHIM_PENDING_WAIT_MS=0",
            "Next:",
        ] {
            assert!(f[0].message.contains(needle), "{needle}: {}", f[0].message);
        }
        assert_eq!(status(&f).exit_code(), 1);
        // Tokens, then silence: the frozen environment first.
        let mut mid = sse.clone();
        mid.events = vec![SseEventObs {
            seq: 1,
            arrived_ms: 40.0,
            sent_at_ms: None,
            gap_ms: None,
            sent_gap_ms: None,
        }];
        let f = findings(
            &ProbeResults {
                sse: Some(Ok(mid)),
                ..ProbeResults::default()
            },
            &T,
        );
        for needle in [
            "frozen by Lambda",
            "SHIM_PENDING_WAIT_MS=0",
            "the model stalled",
        ] {
            assert!(f[0].message.contains(needle), "{needle}: {}", f[0].message);
        }
        let streaming = ProbeResults {
            sse: Some(Ok(SseProbeData {
                verdict: Verdict::Streaming,
                ..sse.clone()
            })),
            ..ProbeResults::default()
        };
        assert!(codes(&streaming).is_empty());
    }

    #[test]
    fn a_pause_over_the_stall_limit_is_sse_stalled_in_any_mode_that_did_not_fail() {
        use crate::domain::stall::{Rhythm, Stall, StallCause};
        let stall = Stall {
            after_event: 2,
            events: 12,
            gap_ms: 20_180.0,
            limit_ms: 5000.0,
            rule: "max(5 s, 5 x the largest gap before it)".into(),
            sent_gap_ms: None,
            before: Rhythm::Spaced,
            after: Rhythm::Spaced,
            cause: StallCause::SenderPaused,
        };
        let sse = |verdict, mode: &str| ProbeResults {
            sse: Some(Ok(SseProbeData {
                url: "https://x/api/agents/v1/chat/completions".into(),
                connect_ms: None,
                ttfb_ms: None,
                first_event_ms: None,
                events: vec![],
                expected_events: None,
                verdict,
                reason: "12 events".into(),
                mode: Some(mode.into()),
                stall: Some(stall.clone()),
            })),
            ..ProbeResults::default()
        };
        for mode in ["chat", "shim", "web", "chat_url"] {
            let r = sse(Verdict::Streaming, mode);
            let f = findings(&r, &T);
            assert_eq!(codes(&r), ["sse_stalled"], "{mode}");
            assert_eq!(f[0].severity, Severity::Degraded);
            for needle in [
                format!("the {mode} stream paused 20180 ms after event 2 of 12"),
                "stall limit 5000 ms".to_string(),
                "before were spaced and those after spaced".to_string(),
                "Likely cause: the sender paused".to_string(),
                "next:".to_string(),
            ] {
                assert!(f[0].message.contains(&needle), "{needle}: {}", f[0].message);
            }
            assert_eq!(status(&f).exit_code(), 1);
        }
        // Buffered and stalled: both named. Failed: the failure says it already.
        assert_eq!(
            codes(&sse(Verdict::Buffered, "chat")),
            ["sse_stalled", "sse_buffered"]
        );
        assert_eq!(codes(&sse(Verdict::Failed, "chat")), ["sse_failed"]);
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

    pub(super) fn redis_data(
        ping: Option<RedisPing>,
        shim_status_error: Option<&str>,
    ) -> RedisData {
        RedisData {
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
            ping,
            shim_status_error: shim_status_error.map(str::to_string),
            database: None,
        }
    }

    #[test]
    fn unanswered_shim_status_is_not_a_redis_finding() {
        let r = ProbeResults {
            redis: Some(Ok(redis_data(
                None,
                Some("the shim's status endpoint did not answer in time: timeout"),
            ))),
            ..Default::default()
        };
        let f = findings(&r, &T);
        assert_eq!(
            f.iter().map(|x| x.code.as_str()).collect::<Vec<_>>(),
            ["shim_status_unavailable"]
        );
        assert!(
            f[0].message.contains("did not answer in time"),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains("says nothing about Redis"));
        // An answered, good PING: nothing at all.
        let ok = ProbeResults {
            redis: Some(Ok(redis_data(
                Some(RedisPing {
                    ok: true,
                    rtt_ms: Some(0.5),
                    error: None,
                }),
                None,
            ))),
            ..Default::default()
        };
        assert!(codes(&ok).is_empty());
        // The replication group itself not available is a Redis finding.
        let mut d = redis_data(None, None);
        d.status = Some("modifying".into());
        let bad = ProbeResults {
            redis: Some(Ok(d)),
            ..Default::default()
        };
        assert_eq!(codes(&bad), ["redis_unreachable"]);
    }

    fn health(status: u16, body: &str) -> HealthData {
        HealthData {
            url: "https://x/api/health".into(),
            status,
            latency_ms: 2003.0,
            ok: false,
            shim: ShimHealthBody::parse(body),
        }
    }

    #[test]
    fn health_message_says_what_the_shim_saw() {
        let hung = health(
            503,
            r#"{"status":"unhealthy","librechat":{"status":null,"latency_ms":null},
                "error":"http://127.0.0.1:3080/health: no answer within 2000 ms","source":"shim"}"#,
        );
        let m = health_message(&hung);
        assert!(m.contains("LibreChat did not answer /health"), "{m}");
        assert!(m.contains("no answer within 2000 ms"), "{m}");
        assert!(m.contains("`l` in the console"), "{m}");
        let sick = health(
            503,
            r#"{"status":"unhealthy","librechat":{"status":500,"latency_ms":3.0},"error":"e","source":"shim"}"#,
        );
        assert!(health_message(&sick).contains("LibreChat's /health answered HTTP 500"));
        let gone = health(
            502,
            r#"{"error":"upstream_unavailable","detail":"connection refused","source":"shim"}"#,
        );
        let m = health_message(&gone);
        assert!(
            m.contains("`upstream_unavailable` (connection refused)"),
            "{m}"
        );
        assert!(m.contains("process could not be reached"), "{m}");
        let gw = health(504, "<html>Gateway Timeout</html>");
        assert!(health_message(&gw).contains("did not reach the shim"));
    }
}
