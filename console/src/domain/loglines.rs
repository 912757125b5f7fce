//! The function's log lines for the logs view (pure): Lambda's `START` / `END` / `REPORT`
//! lines, the shim's JSON lines (tracing, flattened: `level`, `message`, `request_id`,
//! `target`), LibreChat's lines as the shim forwards them (`target: "librechat"`, `line`), the
//! shim's EMF lines, and anything else as plain text. Filtering by level, text and request id.

use serde_json::Value;

/// Severity of a line, ordered (a level filter keeps this level and worse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s.trim().to_ascii_lowercase().as_str() {
            "trace" => Some(Level::Trace),
            "debug" => Some(Level::Debug),
            "info" => Some(Level::Info),
            "warn" | "warning" => Some(Level::Warn),
            "error" | "fatal" | "crit" | "critical" => Some(Level::Error),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Lambda's `START` / `END` / `REPORT` (text or JSON `platform.*`).
    Platform,
    /// The shim's own JSON log line.
    Shim,
    /// A LibreChat output line forwarded by the shim.
    LibreChat,
    /// An Embedded Metric Format line (the shim's metrics).
    Metric,
    /// Anything else.
    Other,
}

impl Origin {
    pub fn label(self) -> &'static str {
        match self {
            Origin::Platform => "lambda",
            Origin::Shim => "shim",
            Origin::LibreChat => "librechat",
            Origin::Metric => "emf",
            Origin::Other => "-",
        }
    }
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Event time, Unix milliseconds.
    pub ts_ms: i64,
    pub origin: Origin,
    pub level: Level,
    pub request_id: Option<String>,
    /// What to show: the message, with the interesting fields after it.
    pub text: String,
    /// The raw message (searched by the text filter too).
    pub raw: String,
}

impl LogLine {
    pub fn is_report(&self) -> bool {
        self.origin == Origin::Platform && self.raw.trim_start().starts_with("REPORT")
    }
}

fn req_id_after(t: &str, key: &str) -> Option<String> {
    let rest = &t[t.find(key)? + key.len()..];
    rest.split_whitespace().next().map(str::to_string)
}

/// Parses one log event's message.
pub fn parse_line(ts_ms: i64, message: &str) -> LogLine {
    let raw = message.trim_end_matches(['\n', '\r']).to_string();
    let t = raw.trim_start();
    for kw in ["START ", "END ", "REPORT ", "INIT_START ", "INIT_REPORT "] {
        if t.starts_with(kw) {
            let failed = t.contains("Status: error") || t.contains("Status: timeout");
            return LogLine {
                ts_ms,
                origin: Origin::Platform,
                level: if failed { Level::Error } else { Level::Info },
                request_id: req_id_after(t, "RequestId: "),
                text: t.replace('\t', "  "),
                raw,
            };
        }
    }
    if t.starts_with('{')
        && let Ok(v) = serde_json::from_str::<Value>(t)
        && let Some(line) = parse_json(ts_ms, &v, &raw)
    {
        return line;
    }
    if let Some(l) = parse_timeout_line(ts_ms, t, &raw) {
        return l;
    }
    LogLine {
        ts_ms,
        origin: Origin::Other,
        level: guess_level(t),
        request_id: None,
        text: t.to_string(),
        raw,
    }
}

/// `2024-.. RequestId task timed out after 30.00 seconds` and similar platform text.
fn parse_timeout_line(ts_ms: i64, t: &str, raw: &str) -> Option<LogLine> {
    if !t.contains("Task timed out after") {
        return None;
    }
    Some(LogLine {
        ts_ms,
        origin: Origin::Platform,
        level: Level::Error,
        request_id: t
            .split_whitespace()
            .find(|w| w.len() == 36 && w.chars().filter(|c| *c == '-').count() == 4)
            .map(str::to_string),
        text: t.to_string(),
        raw: raw.to_string(),
    })
}

fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn parse_json(ts_ms: i64, v: &Value, raw: &str) -> Option<LogLine> {
    let obj = v.as_object()?;
    if obj.contains_key("_aws") {
        let event = str_field(v, "event").unwrap_or("metrics");
        let mut text = format!("EMF {event}");
        for (k, val) in obj {
            if k == "_aws" || k == "event" {
                continue;
            }
            if let Some(n) = val.as_f64() {
                text.push_str(&format!(" {k}={n}"));
            } else if let Some(s) = val.as_str() {
                text.push_str(&format!(" {k}={s}"));
            }
        }
        return Some(LogLine {
            ts_ms,
            origin: Origin::Metric,
            level: Level::Info,
            request_id: None,
            text,
            raw: raw.to_string(),
        });
    }
    if let Some(ty) = str_field(v, "type")
        && ty.starts_with("platform.")
    {
        let rec = v.get("record");
        let rid = rec
            .and_then(|r| r.get("requestId"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let status = rec
            .and_then(|r| r.get("status"))
            .and_then(Value::as_str)
            .unwrap_or("");
        return Some(LogLine {
            ts_ms,
            origin: Origin::Platform,
            level: if status == "error" || status == "timeout" {
                Level::Error
            } else {
                Level::Info
            },
            request_id: rid,
            text: format!("{ty} {}", rec.map(Value::to_string).unwrap_or_default()),
            raw: raw.to_string(),
        });
    }
    let level = str_field(v, "level").and_then(Level::parse);
    let target = str_field(v, "target").unwrap_or("");
    let request_id = ["request_id", "requestId", "AWSRequestId"]
        .iter()
        .find_map(|k| str_field(v, k))
        .map(str::to_string);
    if target == "librechat" {
        let line = str_field(v, "line")
            .or_else(|| str_field(v, "message"))
            .unwrap_or("");
        let inner_level = librechat_level(line);
        return Some(LogLine {
            ts_ms,
            origin: Origin::LibreChat,
            level: inner_level
                .or(level)
                .map(|l| {
                    if str_field(v, "stream") == Some("stderr") {
                        l.max(Level::Warn)
                    } else {
                        l
                    }
                })
                .unwrap_or(Level::Info),
            request_id,
            text: line.to_string(),
            raw: raw.to_string(),
        });
    }
    let level = level?;
    let message = str_field(v, "message")
        .or_else(|| str_field(v, "msg"))
        .unwrap_or("");
    let mut text = message.to_string();
    for (k, val) in obj {
        if matches!(
            k.as_str(),
            "timestamp" | "level" | "message" | "msg" | "target" | "request_id" | "requestId"
        ) {
            continue;
        }
        let shown = match val {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        text.push_str(&format!(" {k}={shown}"));
    }
    Some(LogLine {
        ts_ms,
        origin: Origin::Shim,
        level,
        request_id,
        text,
        raw: raw.to_string(),
    })
}

/// LibreChat's own level: its JSON lines (`{"level":"error",...}`) or winston's text
/// (`2025-01-01 12:00:00 error: ...`).
fn librechat_level(line: &str) -> Option<Level> {
    let t = line.trim_start();
    if t.starts_with('{')
        && let Ok(v) = serde_json::from_str::<Value>(t)
    {
        return str_field(&v, "level").and_then(Level::parse);
    }
    t.split_whitespace()
        .take(4)
        .find_map(|w| w.strip_suffix(':').and_then(Level::parse))
}

/// A plain line's level from its first words (`ERROR`, `error:`, `[warn]`).
fn guess_level(t: &str) -> Level {
    t.split_whitespace()
        .take(4)
        .find_map(|w| Level::parse(w.trim_matches(|c: char| !c.is_ascii_alphabetic())))
        .unwrap_or(Level::Info)
}

/// What the logs view shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogFilter {
    /// Keep this level and worse (None: all).
    pub min_level: Option<Level>,
    /// Case-insensitive substring of the text or the raw line.
    pub text: String,
    /// Only the lines of this request.
    pub request_id: Option<String>,
}

impl LogFilter {
    pub fn matches(&self, l: &LogLine) -> bool {
        if let Some(min) = self.min_level
            && l.level < min
        {
            return false;
        }
        if let Some(r) = &self.request_id
            && l.request_id.as_deref() != Some(r.as_str())
        {
            return false;
        }
        if self.text.is_empty() {
            return true;
        }
        let needle = self.text.to_lowercase();
        l.text.to_lowercase().contains(&needle) || l.raw.to_lowercase().contains(&needle)
    }

    /// The next level filter: all -> WARN -> ERROR -> all.
    pub fn cycle_level(&mut self) {
        self.min_level = match self.min_level {
            None => Some(Level::Warn),
            Some(Level::Warn) => Some(Level::Error),
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_lines_carry_their_request_id() {
        let s = parse_line(1, "START RequestId: 8f2c-1 Version: $LATEST");
        assert_eq!(s.origin, Origin::Platform);
        assert_eq!(s.request_id.as_deref(), Some("8f2c-1"));
        let e = parse_line(2, "END RequestId: 8f2c-1\n");
        assert_eq!(e.request_id.as_deref(), Some("8f2c-1"));
        let r = parse_line(
            3,
            "REPORT RequestId: 8f2c-1\tDuration: 12.5 ms\tBilled Duration: 13 ms\tMemory Size: 2048 MB\tMax Memory Used: 90 MB\tInit Duration: 900.1 ms",
        );
        assert!(r.is_report());
        assert_eq!(r.request_id.as_deref(), Some("8f2c-1"));
        assert_eq!(r.level, Level::Info);
        assert!(!r.text.contains('\t'));
        let bad = parse_line(4, "REPORT RequestId: x\tDuration: 1 ms\tStatus: timeout");
        assert_eq!(bad.level, Level::Error);
    }

    #[test]
    fn shim_json_lines_give_level_message_and_request_id() {
        let l = parse_line(
            5,
            r#"{"timestamp":"2026-11-30T22:00:00Z","level":"ERROR","message":"proxy error","request_id":"abc-1","reason":"connection refused","path":"/api/ask","target":"shim::app"}"#,
        );
        assert_eq!(l.origin, Origin::Shim);
        assert_eq!(l.level, Level::Error);
        assert_eq!(l.request_id.as_deref(), Some("abc-1"));
        assert!(l.text.starts_with("proxy error"), "{}", l.text);
        assert!(l.text.contains("reason=connection refused"), "{}", l.text);
        assert!(!l.text.contains("target="), "{}", l.text);
    }

    #[test]
    fn librechat_lines_forwarded_by_the_shim() {
        let l = parse_line(
            6,
            r#"{"timestamp":"t","level":"INFO","stream":"stdout","line":"2026-11-30 22:00:00 error: Mongo connection lost","target":"librechat"}"#,
        );
        assert_eq!(l.origin, Origin::LibreChat);
        assert_eq!(l.level, Level::Error);
        assert_eq!(l.text, "2026-11-30 22:00:00 error: Mongo connection lost");
        let plain = parse_line(
            7,
            r#"{"timestamp":"t","level":"INFO","stream":"stdout","line":"Server listening on all interfaces at port 3080","target":"librechat"}"#,
        );
        assert_eq!(plain.level, Level::Info);
        let stderr = parse_line(
            8,
            r#"{"timestamp":"t","level":"INFO","stream":"stderr","line":"DeprecationWarning: x","target":"librechat"}"#,
        );
        assert_eq!(stderr.level, Level::Warn);
    }

    #[test]
    fn emf_and_other_lines() {
        let m = parse_line(
            9,
            r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"event":"cold_start","ColdStartTotalMs":1200.5}"#,
        );
        assert_eq!(m.origin, Origin::Metric);
        assert!(m.text.contains("cold_start"));
        assert!(m.text.contains("ColdStartTotalMs=1200.5"));
        let o = parse_line(10, "ERROR something odd");
        assert_eq!(o.origin, Origin::Other);
        assert_eq!(o.level, Level::Error);
        let p = parse_line(11, "just text");
        assert_eq!(p.level, Level::Info);
        let j = parse_line(12, "{not json");
        assert_eq!(j.origin, Origin::Other);
    }

    #[test]
    fn filter_by_level_text_and_request() {
        let lines = [
            parse_line(1, "START RequestId: r1 Version: $LATEST"),
            parse_line(
                2,
                r#"{"level":"WARN","message":"slow upstream","request_id":"r1","target":"shim::app"}"#,
            ),
            parse_line(
                3,
                r#"{"level":"ERROR","message":"proxy error","request_id":"r2","target":"shim::app"}"#,
            ),
        ];
        let count = |f: &LogFilter| lines.iter().filter(|l| f.matches(l)).count();
        let mut f = LogFilter::default();
        assert_eq!(count(&f), 3);
        f.cycle_level();
        assert_eq!(count(&f), 2);
        f.cycle_level();
        assert_eq!(count(&f), 1);
        f.cycle_level();
        assert_eq!(f.min_level, None);
        f.text = "SLOW".into();
        assert_eq!(count(&f), 1);
        f.text.clear();
        f.request_id = Some("r1".into());
        assert_eq!(count(&f), 2);
    }
}
