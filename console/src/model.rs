//! The data every panel shows and every probe reports: plain, serialisable values produced by
//! the collectors (`crate::collectors`) and rendered by the TUI (`crate::tui`) or printed by
//! `probe --json`. Nothing here does I/O.
//!
//! Timestamps are `time::OffsetDateTime` (RFC 3339 in JSON). `PanelState` tracks one data
//! source through Loading -> Ready -> Error, keeping the last good data and its age on error.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One data source: one collector task, one panel (or part of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Identity,
    Alarms,
    Lambda,
    Redis,
    CloudFront,
    Health,
    Sse,
    /// The scheduled canary's history (its metrics), when `modules/canary` is deployed.
    Canary,
    /// The site's `index.html` and the assets it references (issue 24).
    Frontend,
    /// The monthly cost (issue 29): `opsconsole cost`'s document, read rarely.
    Cost,
    /// User files (issue 30): the config object's judgement, the files bucket's usage, uploads
    /// refused for size.
    Files,
}

impl Source {
    pub const ALL: [Source; 11] = [
        Source::Identity,
        Source::Alarms,
        Source::Lambda,
        Source::Redis,
        Source::CloudFront,
        Source::Health,
        Source::Sse,
        Source::Canary,
        Source::Frontend,
        Source::Cost,
        Source::Files,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Source::Identity => "identity",
            Source::Alarms => "alarms",
            Source::Lambda => "lambda",
            Source::Redis => "redis",
            Source::CloudFront => "cloudfront",
            Source::Health => "health",
            Source::Sse => "sse",
            Source::Canary => "canary",
            Source::Frontend => "frontend",
            Source::Cost => "cost",
            Source::Files => "files",
        }
    }

    /// Whether the source looks back over the time window (and collects again when it
    /// changes).
    pub fn windowed(self) -> bool {
        matches!(
            self,
            Source::Alarms | Source::Lambda | Source::Redis | Source::Canary | Source::Files
        )
    }
}

/// What went wrong in a collector, classified so the UI can show the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No credentials found in the chain.
    NoCredentials,
    /// SSO session or token expired.
    ExpiredCredentials,
    AccessDenied,
    Throttled,
    /// The service is not offered in that region, or answered 5xx / not implemented.
    ServiceUnavailable,
    /// Connection refused, DNS, TLS: the endpoint could not be reached.
    Unreachable,
    /// The resource named by the outputs does not exist.
    NotFound,
    /// The collector did not finish within its time budget.
    Timeout,
    /// Outputs/config missing or invalid (a usage problem, not an outage).
    Config,
    /// The peer answered with something we could not parse.
    Malformed,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectorError {
    pub kind: ErrorKind,
    pub message: String,
    /// What the operator should do, e.g. "run `task login:dev`".
    pub fix: Option<String>,
}

impl std::fmt::Display for CollectorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, " (fix: {fix})")?;
        }
        Ok(())
    }
}

impl std::error::Error for CollectorError {}

/// The state of one panel's data.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum PanelState<T> {
    #[default]
    Loading,
    Ready {
        data: T,
        fetched_at: OffsetDateTime,
    },
    Error {
        error: CollectorError,
        failed_at: OffsetDateTime,
        /// The last good data and when it was fetched, shown with its age.
        stale: Option<(T, OffsetDateTime)>,
    },
}

impl<T> PanelState<T> {
    /// Applies a collector result, keeping the last good data when the new result is an error.
    pub fn apply(&mut self, result: Result<T, CollectorError>, now: OffsetDateTime) {
        let previous = std::mem::take(self);
        *self = match result {
            Ok(data) => PanelState::Ready {
                data,
                fetched_at: now,
            },
            Err(error) => {
                let stale = match previous {
                    PanelState::Ready { data, fetched_at } => Some((data, fetched_at)),
                    PanelState::Error { stale, .. } => stale,
                    PanelState::Loading => None,
                };
                PanelState::Error {
                    error,
                    failed_at: now,
                    stale,
                }
            }
        };
    }

    /// The freshest data available (ready or stale) and when it was fetched.
    pub fn data(&self) -> Option<(&T, OffsetDateTime)> {
        match self {
            PanelState::Ready { data, fetched_at } => Some((data, *fetched_at)),
            PanelState::Error {
                stale: Some((data, at)),
                ..
            } => Some((data, *at)),
            _ => None,
        }
    }

    pub fn error(&self) -> Option<&CollectorError> {
        match self {
            PanelState::Error { error, .. } => Some(error),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Identity

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
    pub region: String,
    pub profile: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Alarms

/// The suffixes of the 10 alarms (docs/contracts.md section 4): each alarm is named
/// `{name_prefix}-{suffix}`; `cloudfront-5xx-rate` lives in us-east-1. The monitoring module is
/// the source of truth: `sandbox::alarms` checks its definitions against the Terraform and
/// against this list.
pub const ALARM_SUFFIXES: [&str; 10] = [
    "lambda-errors",
    "lambda-throttles",
    "lambda-duration-p95",
    "lambda-concurrency",
    "lambda-cold-start-p95",
    "apigw-5xx",
    "apigw-latency-p95",
    "cloudfront-5xx-rate",
    "redis-cpu",
    "redis-memory",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
    /// Named in the outputs but not found in CloudWatch.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmInfo {
    pub name: String,
    pub region: String,
    pub state: AlarmState,
    pub reason: Option<String>,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub statistic: Option<String>,
    pub comparison: Option<String>,
    pub threshold: Option<f64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub state_updated: Option<OffsetDateTime>,
    /// The alarm's metric over the sparkline window, oldest first (empty when unavailable).
    pub series: Vec<f64>,
}

impl AlarmInfo {
    /// An alarm known by name, region and state only (no definition, reason or series).
    pub(crate) fn bare(name: &str, region: &str, state: AlarmState) -> AlarmInfo {
        AlarmInfo {
            name: name.to_string(),
            region: region.to_string(),
            state,
            reason: None,
            namespace: None,
            metric_name: None,
            statistic: None,
            comparison: None,
            threshold: None,
            state_updated: None,
            series: vec![],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmsData {
    /// In the order of the outputs.
    pub alarms: Vec<AlarmInfo>,
    /// Window of `series`, in minutes, and its period in seconds.
    pub window_minutes: u32,
    pub period_seconds: u32,
}

// ---------------------------------------------------------------------------------------------
// The scheduled canary (docs/contracts.md section 7)

/// What the canary's metrics say about its runs in the window. A run is a `Healthy`
/// datapoint; the verdict counts are minutes whose `SseVerdict` maximum was 0, 1 or >= 2.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CanaryHistory {
    pub runs: u32,
    pub unhealthy: u32,
    pub streaming: u32,
    pub buffered: u32,
    pub failed: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_run: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_unhealthy: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_buffered: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_failed: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanaryData {
    /// Whether the outputs list the canary's alarms (`modules/canary` enabled).
    pub deployed: bool,
    /// The `Environment` dimension read (from the canary alarm's definition).
    pub environment: Option<String>,
    pub region: Option<String>,
    pub window_minutes: u32,
    pub period_seconds: u32,
    pub history: CanaryHistory,
    /// One line, e.g. "SSE buffered in 3 of the last 288 runs, last at 03:10 UTC".
    pub summary: String,
}

// ---------------------------------------------------------------------------------------------
// Lambda and cold starts

/// One parsed `REPORT RequestId: ...` line of a Lambda log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportLine {
    pub request_id: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub timestamp: Option<OffsetDateTime>,
    pub duration_ms: f64,
    pub billed_duration_ms: f64,
    pub memory_size_mb: u32,
    pub max_memory_used_mb: u32,
    /// Present only on cold starts.
    pub init_duration_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ColdStartStats {
    /// REPORT lines seen in the window.
    pub invocations: u32,
    pub cold: u32,
    pub cold_ratio: f64,
    pub init_p50_ms: Option<f64>,
    pub init_p95_ms: Option<f64>,
    pub init_max_ms: Option<f64>,
}

/// The shim's own cold-start phases (from its EMF lines), averaged over the window.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShimPhases {
    pub samples: u32,
    pub config_ms: Option<f64>,
    pub secrets_ms: Option<f64>,
    pub ready_ms: Option<f64>,
    pub total_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaData {
    pub function_name: String,
    pub state: Option<String>,
    pub last_update_status: Option<String>,
    pub image_uri: Option<String>,
    pub memory_mb: Option<i32>,
    pub timeout_s: Option<i32>,
    /// Sums (invocations, errors, throttles) and maximum (concurrency) over the window.
    pub invocations: Option<f64>,
    pub errors: Option<f64>,
    pub throttles: Option<f64>,
    pub max_concurrency: Option<f64>,
    pub window_minutes: u32,
    pub cold_starts: ColdStartStats,
    pub shim_phases: Option<ShimPhases>,
    /// Newest last; at most the configured number.
    pub reports: Vec<ReportLine>,
    /// Set when a limit cut the log scan or the list ("scanned 10000 events, stopped").
    pub truncated: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Redis

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedisNode {
    pub id: String,
    pub role: Option<String>,
    pub status: Option<String>,
    pub az: Option<String>,
}

/// The in-VPC PING reported by the shim's status endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedisPing {
    pub ok: bool,
    pub rtt_ms: Option<f64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedisData {
    pub replication_group_id: String,
    pub status: Option<String>,
    pub engine: Option<String>,
    pub engine_version: Option<String>,
    pub endpoint: Option<String>,
    pub nodes: Vec<RedisNode>,
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
    pub connections: Option<f64>,
    pub evictions: Option<f64>,
    /// CacheHits / (CacheHits + CacheMisses) over the window.
    pub hit_rate: Option<f64>,
    /// The PING the shim reported; `None` when no diagnostics token is configured or the
    /// shim's status endpoint did not answer (then `shim_status_error` says why).
    pub ping: Option<RedisPing>,
    /// Why the shim's status endpoint gave no PING result (not reached, timed out, not 2xx,
    /// not the documented JSON, or the token could not be read). This is an observation about
    /// the shim / LibreChat, never about Redis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shim_status_error: Option<String>,
    /// The shim's MongoDB `ping` from inside the VPC, from the same status document (`None`
    /// when the status endpoint was not asked or did not answer, or from an older shim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<opsconsole_wire::status::DatabaseCheck>,
}

// ---------------------------------------------------------------------------------------------
// CloudFront

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invalidation {
    pub id: String,
    /// As returned by the API (`InProgress`, `Completed`; moto says `COMPLETED`): compare
    /// without case.
    pub status: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub created: Option<OffsetDateTime>,
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudFrontData {
    pub distribution_id: String,
    pub domain_name: Option<String>,
    pub status: Option<String>,
    pub enabled: Option<bool>,
    pub aliases: Vec<String>,
    /// Newest first.
    pub invalidations: Vec<Invalidation>,
    pub truncated: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Health and the SSE probe

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthData {
    pub url: String,
    pub status: u16,
    pub latency_ms: f64,
    pub ok: bool,
    /// The body when it is the shim's JSON (docs/contracts.md section 2): what the shim saw of
    /// LibreChat's `/health`, or the shim's own error. `None` for any other body (e.g. an API
    /// Gateway or CloudFront error page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shim: Option<ShimHealthBody>,
}

/// The shim's `/api/health` body (`{"status","librechat":{..},"error"}`) or its error body
/// (`{"error","detail"}`), fields all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShimHealthBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub librechat: Option<ShimHealthLibreChat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShimHealthLibreChat {
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub latency_ms: Option<f64>,
}

impl ShimHealthBody {
    /// The body if it is the shim's JSON (`"source": "shim"`), else `None`.
    pub fn parse(body: &str) -> Option<ShimHealthBody> {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        if v.get("source").and_then(serde_json::Value::as_str) != Some("shim") {
            return None;
        }
        serde_json::from_value(v).ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Events arrived spaced as they were sent.
    Streaming,
    /// Events sent apart arrived together: something on the path buffers.
    Buffered,
    /// No stream: connect error, HTTP error, stall, or dropped before the end.
    Failed,
    /// The web chat mode only: the stream opened, then no event came within the stall limit
    /// (`crate::domain::sse::stall_limit_ms`). Other modes report a stall as FAILED.
    Stalled,
}

/// One SSE event as the probe saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SseEventObs {
    pub seq: u64,
    /// Milliseconds since the request was sent.
    pub arrived_ms: f64,
    /// The server's send time (`sent_at_ms` in the event), when present.
    pub sent_at_ms: Option<f64>,
    /// Arrival gap to the previous event, and the server's send gap, in ms.
    pub gap_ms: Option<f64>,
    pub sent_gap_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SseProbeData {
    pub url: String,
    pub connect_ms: Option<f64>,
    pub ttfb_ms: Option<f64>,
    pub first_event_ms: Option<f64>,
    pub events: Vec<SseEventObs>,
    pub expected_events: Option<u64>,
    pub verdict: Verdict,
    pub reason: String,
    /// What was probed: `shim` (the shim's probe stream), `chat_url` (a configured GET chat
    /// endpoint), `chat` (a real chat through the agents API with a browser's headers) or `web`
    /// (the web UI's chat: login, POST, then the stream's GET; `events` are the message deltas).
    /// Absent in documents written before the field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The longest pause between two events over the stall limit, in every mode, even when the
    /// stream went on ([`crate::domain::stall`]): the finding `sse_stalled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall: Option<crate::domain::stall::Stall>,
}

/// What the collector tasks send to the TUI (wrapped in its `Action`) and to the probe.
#[derive(Debug, Clone, PartialEq)]
pub enum DataEvent {
    Identity(Result<Identity, CollectorError>),
    Alarms(Result<AlarmsData, CollectorError>),
    Lambda(Result<LambdaData, CollectorError>),
    Redis(Result<RedisData, CollectorError>),
    CloudFront(Result<CloudFrontData, CollectorError>),
    Health(Result<HealthData, CollectorError>),
    /// The SSE probe started (clears the live timeline).
    SseStarted {
        url: String,
    },
    /// One event arrived during a running SSE probe (for the live timeline).
    SseEvent(SseEventObs),
    /// The SSE probe finished, with its verdict.
    Sse(Result<SseProbeData, CollectorError>),
    Canary(Result<CanaryData, CollectorError>),
    Frontend(Result<crate::domain::frontend::FrontendData, CollectorError>),
    /// Boxed: the document is large and rare.
    Cost(Result<Box<crate::domain::cost_document::CostDocument>, CollectorError>),
    Files(Result<crate::domain::files::FilesData, CollectorError>),
}

impl DataEvent {
    pub fn source(&self) -> Source {
        match self {
            DataEvent::Identity(_) => Source::Identity,
            DataEvent::Alarms(_) => Source::Alarms,
            DataEvent::Lambda(_) => Source::Lambda,
            DataEvent::Redis(_) => Source::Redis,
            DataEvent::CloudFront(_) => Source::CloudFront,
            DataEvent::Health(_) => Source::Health,
            DataEvent::SseStarted { .. } | DataEvent::SseEvent(_) | DataEvent::Sse(_) => {
                Source::Sse
            }
            DataEvent::Canary(_) => Source::Canary,
            DataEvent::Frontend(_) => Source::Frontend,
            DataEvent::Cost(_) => Source::Cost,
            DataEvent::Files(_) => Source::Files,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(msg: &str) -> CollectorError {
        CollectorError {
            kind: ErrorKind::Throttled,
            message: msg.into(),
            fix: None,
        }
    }

    #[test]
    fn error_keeps_last_good_data_and_its_time() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let t1 = t0 + time::Duration::seconds(30);
        let t2 = t0 + time::Duration::seconds(60);
        let mut p: PanelState<u32> = PanelState::Loading;
        assert!(p.data().is_none());
        p.apply(Ok(7), t0);
        p.apply(Err(err("slow down")), t1);
        assert_eq!(p.data(), Some((&7, t0)));
        assert_eq!(p.error().map(|e| e.message.as_str()), Some("slow down"));
        // A second error still keeps the data of t0, not of the first failure.
        p.apply(Err(err("again")), t2);
        assert_eq!(p.data(), Some((&7, t0)));
        p.apply(Ok(8), t2);
        assert_eq!(
            p,
            PanelState::Ready {
                data: 8,
                fetched_at: t2
            }
        );
    }

    #[test]
    fn error_before_any_data_has_no_stale_data() {
        let mut p: PanelState<u32> = PanelState::Loading;
        p.apply(Err(err("down")), OffsetDateTime::UNIX_EPOCH);
        assert!(p.data().is_none());
        assert!(p.error().is_some());
    }
}

// ---------------------------------------------------------------------------------------------
// Alarm history (the detail view of one alarm)

/// Most alarm history items fetched for the detail view (newest first); more is reported as
/// truncated.
pub(crate) const MAX_ALARM_HISTORY: usize = 20;

/// One entry of CloudWatch `DescribeAlarmHistory`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmHistoryItem {
    #[serde(with = "time::serde::rfc3339::option")]
    pub timestamp: Option<OffsetDateTime>,
    /// `StateUpdate`, `ConfigurationUpdate`, `Action`, ...
    pub item_type: String,
    pub summary: String,
}

/// The history of one alarm, newest first, at most [`MAX_ALARM_HISTORY`] items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmHistory {
    pub alarm: String,
    pub region: String,
    pub items: Vec<AlarmHistoryItem>,
    /// The API had more items than were fetched.
    pub truncated: bool,
}
