//! The scheduled SSE canary (issue 14): `opsconsole`'s probe (the same collectors, BUFFERED
//! rule and findings; no second implementation) run once per invocation inside AWS, invoked by
//! EventBridge Scheduler. Each run prints one EMF record (`opsconsole_wire::canary`: namespace
//! `LibreChat/Probe`, dimension `Environment`) and the probe's JSON report as one log line.
//!
//! Configuration (environment variables, set by `modules/canary`):
//! - `OPSCONSOLE_CANARY_ENV`: the environment's name (the metric dimension), required;
//! - `OPSCONSOLE_CANARY_OUTPUTS`: the deployment's outputs, `terraform output -json` shape
//!   (docs/contracts.md section 1), required;
//! - `OPSCONSOLE_CANARY_TOKEN_SSM`: the SSM parameter holding the shim's diagnostics token
//!   (without it the SSE check is skipped and `SseVerdict` is not emitted);
//! - `OPSCONSOLE_CANARY_CHECKS`: the checks (default `health,sse`: what the role allows);
//! - `OPSCONSOLE_CANARY_TIMEOUT_SECS`: the probe's time budget (default 20);
//! - `OPSCONSOLE_CANARY_WEB_AGENT`, `OPSCONSOLE_CANARY_WEB_EMAIL`, `OPSCONSOLE_CANARY_WEB_PASSWORD_SSM`:
//!   the web mode (issue 23): the SSE check makes the web UI's chat (log in as the probe user
//!   whose password is in that SSM parameter, POST, then GET the stream on whichever environment
//!   serves it), the path browsers take; all three or none;
//! - `OPSCONSOLE_CANARY_WEB_PROMPT`: the web mode's prompt (optional).

use std::sync::Arc;
use std::time::Duration;

use opsconsole::aws::{AwsClients, AwsOptions};
use opsconsole::cli::GlobalOpts;
use opsconsole::config::{ConfigFile, TokenSource};
use opsconsole::context::Context;
use opsconsole::model::Source;
use opsconsole::outputs::Outputs;
use opsconsole_wire::canary as emf;
use serde_json::{Value, json};

pub const ENV_NAME: &str = "OPSCONSOLE_CANARY_ENV";
pub const ENV_OUTPUTS: &str = "OPSCONSOLE_CANARY_OUTPUTS";
pub const ENV_TOKEN_SSM: &str = "OPSCONSOLE_CANARY_TOKEN_SSM";
pub const ENV_CHECKS: &str = "OPSCONSOLE_CANARY_CHECKS";
pub const ENV_TIMEOUT: &str = "OPSCONSOLE_CANARY_TIMEOUT_SECS";
pub const ENV_WEB_AGENT: &str = "OPSCONSOLE_CANARY_WEB_AGENT";
pub const ENV_WEB_EMAIL: &str = "OPSCONSOLE_CANARY_WEB_EMAIL";
pub const ENV_WEB_PASSWORD_SSM: &str = "OPSCONSOLE_CANARY_WEB_PASSWORD_SSM";
pub const ENV_WEB_PROMPT: &str = "OPSCONSOLE_CANARY_WEB_PROMPT";

pub const DEFAULT_CHECKS: &str = "health,sse";
pub const DEFAULT_TIMEOUT_SECS: u64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{0} is not set (the canary's Terraform module sets it; set it to run the canary elsewhere)"
    )]
    Missing(&'static str),
    #[error(
        "OPSCONSOLE_CANARY_OUTPUTS: {0} (fix: the `terraform output -json` document of the environment)"
    )]
    Outputs(String),
    #[error("OPSCONSOLE_CANARY_CHECKS: {0}")]
    Checks(String),
    #[error("OPSCONSOLE_CANARY_TIMEOUT_SECS: `{0}` is not a number of seconds between 1 and 900")]
    Timeout(String),
    #[error(
        "the web mode needs OPSCONSOLE_CANARY_WEB_AGENT, OPSCONSOLE_CANARY_WEB_EMAIL and OPSCONSOLE_CANARY_WEB_PASSWORD_SSM together; {0} is missing (fix: set all three, or none for the API-key mode)"
    )]
    WebIncomplete(&'static str),
}

/// The web mode: the web UI's chat as the probe user.
#[derive(Debug, Clone, PartialEq)]
pub struct WebProbe {
    pub agent: String,
    pub email: String,
    pub password_ssm: String,
    pub prompt: Option<String>,
}

/// The canary's configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct CanaryConfig {
    pub env: String,
    pub outputs: Outputs,
    pub token_ssm: Option<String>,
    pub sources: Vec<Source>,
    pub timeout: Duration,
    pub web: Option<WebProbe>,
}

impl CanaryConfig {
    /// From the variables `get` returns (the process environment in the binary).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<CanaryConfig, ConfigError> {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let env = non_empty(ENV_NAME).ok_or(ConfigError::Missing(ENV_NAME))?;
        let text = non_empty(ENV_OUTPUTS).ok_or(ConfigError::Missing(ENV_OUTPUTS))?;
        let outputs = Outputs::from_json(&text).map_err(|e| ConfigError::Outputs(e.to_string()))?;
        let checks = non_empty(ENV_CHECKS).unwrap_or_else(|| DEFAULT_CHECKS.into());
        let names: Vec<String> = checks.split(',').map(str::to_string).collect();
        let sources = opsconsole::probe::parse_only(&names).map_err(ConfigError::Checks)?;
        let timeout = match non_empty(ENV_TIMEOUT) {
            None => DEFAULT_TIMEOUT_SECS,
            Some(t) => t
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=900).contains(s))
                .ok_or(ConfigError::Timeout(t))?,
        };
        let web = match (
            non_empty(ENV_WEB_AGENT),
            non_empty(ENV_WEB_EMAIL),
            non_empty(ENV_WEB_PASSWORD_SSM),
        ) {
            (None, None, None) => None,
            (Some(agent), Some(email), Some(password_ssm)) => Some(WebProbe {
                agent,
                email,
                password_ssm,
                prompt: non_empty(ENV_WEB_PROMPT),
            }),
            (a, e, _) => {
                return Err(ConfigError::WebIncomplete(if a.is_none() {
                    ENV_WEB_AGENT
                } else if e.is_none() {
                    ENV_WEB_EMAIL
                } else {
                    ENV_WEB_PASSWORD_SSM
                }));
            }
        };
        Ok(CanaryConfig {
            env,
            outputs,
            token_ssm: non_empty(ENV_TOKEN_SSM),
            sources,
            timeout: Duration::from_secs(timeout),
            web,
        })
    }
}

/// Runs the probe once: the same document as `opsconsole probe ENV --json`.
pub async fn probe_once(cfg: &CanaryConfig) -> Value {
    let global = GlobalOpts::default();
    let mut settings = ConfigFile::default().resolve(&cfg.env, &global);
    settings.timeout = cfg.timeout;
    settings.token = cfg.token_ssm.clone().map(TokenSource::Ssm);
    if let Some(w) = &cfg.web {
        settings.web_agent = Some(w.agent.clone());
        settings.web_email = Some(w.email.clone());
        settings.web_password = Some(TokenSource::Ssm(w.password_ssm.clone()));
        if let Some(p) = &w.prompt {
            settings.web_prompt = p.clone();
        }
    }
    let aws = AwsClients::load(&AwsOptions {
        profile: None,
        region: Some(cfg.outputs.region.clone()),
        // AWS_ENDPOINT_URL (the SDK's own variable) still applies: the tests point it at moto.
        endpoint_url: None,
        max_attempts: None,
        static_credentials: None,
        operation_timeout: Some(cfg.timeout),
    })
    .await;
    let ctx = Context::from_parts(&cfg.env, &global, settings, cfg.outputs.clone(), aws).await;
    let window = opsconsole::domain::window::Window::covering(ctx.settings.lambda_window_minutes);
    opsconsole::probe::probe_document(Arc::new(ctx), &cfg.sources, window).await
}

/// The SSE verdict as the `SseVerdict` number; `None` when the SSE check did not run.
pub fn verdict_number(report: &Value) -> Option<f64> {
    let sse = report.get("checks")?.get("sse")?;
    match sse["status"].as_str() {
        Some("ok") => Some(match sse["data"]["verdict"].as_str() {
            Some("STREAMING") => emf::VERDICT_STREAMING,
            Some("BUFFERED") => emf::VERDICT_BUFFERED,
            // The contract (docs/contracts.md section 7) counts a stalled web chat as failed.
            Some("STALLED") => emf::VERDICT_FAILED,
            _ => emf::VERDICT_FAILED,
        }),
        Some("error") => Some(emf::VERDICT_FAILED),
        _ => None,
    }
}

/// The smallest arrival gap / send gap over the spaced pairs (send gap >= 20 ms, the BUFFERED
/// rule's spacing).
pub fn worst_gap_ratio(report: &Value) -> Option<f64> {
    let events = report["checks"]["sse"]["data"]["events"].as_array()?;
    events
        .iter()
        .filter_map(|e| {
            let gap = e["gap_ms"].as_f64()?;
            let sent = e["sent_gap_ms"].as_f64()?;
            (sent >= 20.0).then(|| (gap / sent).max(0.0))
        })
        .reduce(f64::min)
}

/// The run's metrics from its probe document (absent ones left out).
pub fn metrics(report: &Value) -> Vec<(&'static str, f64)> {
    let mut m = vec![(
        emf::HEALTHY,
        if report["status"] == "healthy" {
            1.0
        } else {
            0.0
        },
    )];
    if let Some(v) = verdict_number(report) {
        m.push((emf::SSE_VERDICT, v));
    }
    if let Some(v) = report["checks"]["sse"]["data"]["first_event_ms"].as_f64() {
        m.push((emf::SSE_FIRST_EVENT_MS, v));
    }
    if let Some(v) = worst_gap_ratio(report) {
        m.push((emf::SSE_WORST_GAP_RATIO, v));
    }
    if let Some(v) = report["checks"]["health"]["data"]["latency_ms"].as_f64() {
        m.push((emf::HEALTH_LATENCY_MS, v));
    }
    let findings = report["findings"].as_array().map_or(0, Vec::len);
    m.push((emf::FINDINGS, findings as f64));
    m
}

/// The two log lines of a run (EMF record, then the report) and the invocation's answer.
pub fn run_lines(env: &str, report: &Value, now_ms: u64, event: &Value) -> (Value, Value, Value) {
    let m = metrics(report);
    let record = emf::line(env, &m, now_ms);
    let report_line = json!({"event": emf::EVENT_REPORT, "environment": env, "report": report});
    let answer = json!({
        "environment": env,
        "status": report["status"],
        "exit_code": report["exit_code"],
        "metrics": m.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "schedule": event.get("schedule").or_else(|| event.get("source")).cloned().unwrap_or(Value::Null),
    });
    (record, report_line, answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(verdict: &str, status: &str) -> Value {
        json!({
            "status": status,
            "findings": if status == "healthy" { json!([]) } else { json!([{"code": "sse_buffered"}]) },
            "checks": {
                "health": {"status": "ok", "data": {"latency_ms": 3.5}},
                "sse": {"status": "ok", "data": {"verdict": verdict, "first_event_ms": 4.0, "events": [
                    {"gap_ms": null, "sent_gap_ms": null},
                    {"gap_ms": 190.0, "sent_gap_ms": 200.0},
                    {"gap_ms": 2.0, "sent_gap_ms": 200.0},
                    {"gap_ms": 1.0, "sent_gap_ms": 5.0}
                ]}}
            }
        })
    }

    #[test]
    fn verdict_numbers_follow_the_contract() {
        assert_eq!(verdict_number(&report("STREAMING", "healthy")), Some(0.0));
        assert_eq!(verdict_number(&report("BUFFERED", "degraded")), Some(1.0));
        assert_eq!(verdict_number(&report("FAILED", "failing")), Some(2.0));
        assert_eq!(verdict_number(&report("STALLED", "failing")), Some(2.0));
        assert_eq!(
            verdict_number(&json!({"checks": {"sse": {"status": "error"}}})),
            Some(2.0)
        );
        assert_eq!(
            verdict_number(&json!({"checks": {"sse": {"status": "skipped"}}})),
            None
        );
    }

    #[test]
    fn metrics_from_a_report() {
        let m = metrics(&report("BUFFERED", "degraded"));
        let get = |n: &str| m.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        assert_eq!(get("Healthy"), Some(0.0));
        assert_eq!(get("SseVerdict"), Some(1.0));
        assert_eq!(get("SseFirstEventMs"), Some(4.0));
        // Only spaced pairs (send gap >= 20 ms) count: 2/200, not 1/5.
        assert_eq!(get("SseWorstGapRatio"), Some(0.01));
        assert_eq!(get("HealthLatencyMs"), Some(3.5));
        assert_eq!(get("Findings"), Some(1.0));
        let (rec, line, ans) = run_lines("dev", &report("STREAMING", "healthy"), 5, &json!({}));
        assert_eq!(rec["Environment"], "dev");
        assert_eq!(rec["Healthy"], 1.0);
        assert_eq!(line["event"], "canary_report");
        assert_eq!(ans["metrics"]["SseVerdict"], 0.0);
    }

    #[test]
    fn config_errors_name_the_variable() {
        let none = |_: &str| None;
        assert!(
            CanaryConfig::from_vars(none)
                .expect_err("missing")
                .to_string()
                .contains(ENV_NAME)
        );
        let bad = |k: &str| match k {
            ENV_NAME => Some("dev".to_string()),
            ENV_OUTPUTS => Some("{not json".to_string()),
            _ => None,
        };
        assert!(
            CanaryConfig::from_vars(bad)
                .expect_err("bad outputs")
                .to_string()
                .contains(ENV_OUTPUTS)
        );
    }

    #[test]
    fn the_web_mode_takes_all_three_variables_or_none() {
        let outputs = json!({
            "site_url": {"value": "https://x.example/"},
            "region": {"value": "eu-west-1"},
            "cloudfront_distribution_id": {"value": "E1"},
            "lambda_function_name": {"value": "fn"},
            "lambda_log_group_name": {"value": "/aws/lambda/fn"},
            "redis_replication_group_id": {"value": "rg"},
            "alarms": {"value": [{"name": "a", "region": "eu-west-1"}]}
        })
        .to_string();
        let outputs = &outputs;
        let vars = |web: &'static [(&'static str, &'static str)]| {
            move |k: &str| match k {
                ENV_NAME => Some("dev".to_string()),
                ENV_OUTPUTS => Some(outputs.to_string()),
                _ => web
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string()),
            }
        };
        let none = CanaryConfig::from_vars(vars(&[])).expect("no web mode");
        assert_eq!(none.web, None);
        let all = CanaryConfig::from_vars(vars(&[
            (ENV_WEB_AGENT, "agent_1"),
            (ENV_WEB_EMAIL, "probe@example.org"),
            (ENV_WEB_PASSWORD_SSM, "/librechat/dev/probe-password"),
        ]))
        .expect("web mode");
        assert_eq!(
            all.web,
            Some(WebProbe {
                agent: "agent_1".into(),
                email: "probe@example.org".into(),
                password_ssm: "/librechat/dev/probe-password".into(),
                prompt: None
            })
        );
        let err = CanaryConfig::from_vars(vars(&[
            (ENV_WEB_AGENT, "agent_1"),
            (ENV_WEB_PASSWORD_SSM, "/p"),
        ]))
        .expect_err("no email");
        assert!(err.to_string().contains(ENV_WEB_EMAIL), "{err}");
    }
}
