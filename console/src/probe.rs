//! `opsconsole probe [ENV] --json`: every check once, concurrently, bounded by `--timeout`;
//! one JSON document on stdout (schema in console/README.md), diagnostics on stderr.
//! Exit codes: 0 healthy, 1 degraded, 2 failing, 3 usage or configuration error.

use std::process::ExitCode;
use std::time::Instant;

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::cli::{GlobalOpts, ProbeArgs};
use crate::collectors::collect_isolated;
use crate::context::Context;
use crate::domain::findings::{self, EXIT_USAGE, ProbeResults, Thresholds};
use crate::domain::window::Window;
use crate::model::{CollectorError, DataEvent, Source};

pub const SCHEMA_VERSION: u32 = 1;

/// Parses `--only` (empty = all). Unknown names are a usage error.
pub fn parse_only(only: &[String]) -> Result<Vec<Source>, String> {
    if only.is_empty() {
        return Ok(Source::ALL.to_vec());
    }
    let mut out = Vec::new();
    for name in only.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let s = Source::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                format!(
                    "--only: unknown check `{name}` (known: {})",
                    Source::ALL.map(|s| s.name()).join(",")
                )
            })?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.is_empty() {
        return Err("--only: no check named".into());
    }
    Ok(out)
}

pub(crate) fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn usage_doc(env: &str, msg: &str) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": "opsconsole",
        "version": env!("CARGO_PKG_VERSION"),
        "env": env,
        "generated_at": now_rfc3339(),
        "status": "error",
        "exit_code": EXIT_USAGE,
        "error": msg,
        "findings": [],
        "checks": {},
    })
}

/// Writes the document (or the human summary) to stdout; a closed stdout is not a crash.
fn emit(doc: &Value, json_out: bool) {
    emit_with(doc, json_out, human);
}

/// [`emit`] with another human rendering (the many-environment table).
pub(crate) fn emit_with(doc: &Value, json_out: bool, human: fn(&Value) -> String) {
    use std::io::Write as _;
    let text = if json_out {
        match serde_json::to_string_pretty(doc) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("opsconsole: cannot serialise the probe document: {e}");
                return;
            }
        }
    } else {
        human(doc)
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        eprintln!("opsconsole: cannot write to stdout: {e}");
    }
}

/// Runs the probe and returns the process exit code.
pub async fn run(global: &GlobalOpts, args: &ProbeArgs) -> ExitCode {
    let env = args.env.clone().unwrap_or_else(|| "dev".into());
    let sources = match parse_only(&args.only) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("opsconsole: {e}");
            emit(&usage_doc(&env, &e), args.json);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let ctx = match Context::build(global, &env).await {
        Ok(c) => c,
        Err(e) => {
            let msg = e.to_string();
            eprintln!("opsconsole: {msg}");
            emit(&usage_doc(&env, &msg), args.json);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let window = args
        .window
        .unwrap_or_else(|| Window::covering(ctx.settings.lambda_window_minutes));
    let doc = probe_document(std::sync::Arc::new(ctx), &sources, window).await;
    let code = doc
        .get("exit_code")
        .and_then(Value::as_u64)
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(EXIT_USAGE);
    emit(&doc, args.json);
    ExitCode::from(code)
}

/// Runs `sources` concurrently on `ctx` and builds the probe document.
pub async fn probe_document(
    ctx: std::sync::Arc<Context>,
    sources: &[Source],
    window: Window,
) -> Value {
    let t0 = Instant::now();
    let budget = ctx.settings.timeout;
    let sse_configured = ctx.token.is_some()
        || ctx.token_error.is_some()
        || ctx.settings.chat_url.is_some()
        || ctx.settings.chat_agent.is_some()
        || ctx.settings.web_agent.is_some();
    let mut skipped: Vec<(Source, String)> = Vec::new();
    let run: Vec<Source> = sources
        .iter()
        .copied()
        .filter(|s| {
            if *s == Source::Sse && !sse_configured {
                skipped.push((
                    *s,
                    "no diagnostics token configured (config file [env.NAME.probe] or OPSCONSOLE_DIAGNOSTICS_TOKEN)".into(),
                ));
                false
            } else if *s == Source::Canary && ctx.outputs.canary_alarms.is_empty() {
                skipped.push((
                    *s,
                    "no canary deployed (the outputs list no canary_alarms: modules/canary, enable_canary)".into(),
                ));
                false
            } else {
                true
            }
        })
        .collect();
    let futs = run.iter().map(|&s| {
        let ctx = ctx.clone();
        async move {
            let t = Instant::now();
            let ev = collect_isolated(ctx, s, budget, window, None).await;
            (s, ev, t.elapsed().as_secs_f64() * 1000.0)
        }
    });
    let results = futures::future::join_all(futs).await;

    let mut pr = ProbeResults::default();
    let mut checks = serde_json::Map::new();
    let mut cost = None;
    for (s, ev, dur) in results {
        // Not a check: a section of its own, never a finding (console/README.md).
        if let DataEvent::Cost(r) = &ev {
            cost = Some(cost_json(r, dur));
            continue;
        }
        let entry = match &ev {
            DataEvent::Identity(r) => check_json(r, dur),
            DataEvent::Alarms(r) => {
                let mut v = check_json(r, dur);
                if let (Ok(a), Some(o)) = (r, v.as_object_mut()) {
                    o.insert("summary".into(), json!(crate::domain::alarms::summarize(a)));
                }
                v
            }
            DataEvent::Lambda(r) => check_json(r, dur),
            DataEvent::Redis(r) => check_json(r, dur),
            DataEvent::CloudFront(r) => check_json(r, dur),
            DataEvent::Health(r) => check_json(r, dur),
            DataEvent::Sse(r) => check_json(r, dur),
            DataEvent::Canary(r) => {
                let mut v = check_json(r, dur);
                if let (Ok(c), Some(o)) = (r, v.as_object_mut()) {
                    o.insert("summary".into(), json!(c.summary));
                }
                v
            }
            DataEvent::Frontend(r) => {
                let mut v = check_json(r, dur);
                if let (Ok(d), Some(o)) = (r, v.as_object_mut()) {
                    o.insert("summary".into(), json!(d.summary));
                }
                v
            }
            DataEvent::Files(r) => {
                let mut v = check_json(r, dur);
                if let (Ok(d), Some(o)) = (r, v.as_object_mut()) {
                    o.insert("summary".into(), json!(d.summary()));
                }
                v
            }
            DataEvent::SseStarted { .. } | DataEvent::SseEvent(_) | DataEvent::Cost(_) => {
                json!({})
            }
        };
        checks.insert(s.name().into(), entry);
        match ev {
            DataEvent::Identity(r) => pr.identity = Some(r),
            DataEvent::Alarms(r) => pr.alarms = Some(r),
            DataEvent::Lambda(r) => pr.lambda = Some(r),
            DataEvent::Redis(r) => pr.redis = Some(r),
            DataEvent::CloudFront(r) => pr.cloudfront = Some(r),
            DataEvent::Health(r) => pr.health = Some(r),
            DataEvent::Sse(r) => pr.sse = Some(r),
            DataEvent::Frontend(r) => pr.frontend = Some(r),
            DataEvent::Files(r) => pr.files = Some(r),
            _ => {}
        }
    }
    for (s, why) in skipped {
        checks.insert(s.name().into(), json!({"status": "skipped", "reason": why}));
    }
    let thresholds = Thresholds {
        cold_start_p95_ms: ctx.settings.cold_start_p95_ms,
    };
    let f = findings::findings(&pr, &thresholds);
    let status = findings::status(&f);
    for x in &f {
        eprintln!(
            "opsconsole: {:?} {} [{}]: {}",
            x.severity, x.code, x.check, x.message
        );
    }
    let mut doc = json!({
        "schema_version": SCHEMA_VERSION,
        "tool": "opsconsole",
        "version": env!("CARGO_PKG_VERSION"),
        "env": ctx.env,
        "generated_at": now_rfc3339(),
        "duration_ms": t0.elapsed().as_secs_f64() * 1000.0,
        "timeout_secs": budget.as_secs(),
        "window": window.label(),
        "window_minutes": window.minutes(),
        "status": status,
        "exit_code": status.exit_code(),
        "findings": f,
        "thresholds": { "cold_start_p95_ms": thresholds.cold_start_p95_ms },
        "outputs_origin": ctx.outputs.origin,
        "outputs": ctx.outputs.masked_json(),
        "checks": checks,
    });
    if let (Some(c), Some(o)) = (cost, doc.as_object_mut()) {
        o.insert("cost".into(), c);
    }
    doc
}

/// The `cost` section: `status` `ok`, `partial` (some reads failed: `data.errors` names them,
/// their figures are assumed) or `error` (no document: `error` says why), with a one-line
/// `summary` and `data`, `opsconsole cost ENV --json`'s document.
fn cost_json(
    r: &Result<Box<crate::domain::cost_document::CostDocument>, CollectorError>,
    dur: f64,
) -> Value {
    match r {
        Ok(d) => json!({
            "status": if d.errors.is_empty() { "ok" } else { "partial" },
            "duration_ms": dur,
            "summary": d.summary(),
            "data": d,
        }),
        Err(e) => json!({"status": "error", "duration_ms": dur, "error": e}),
    }
}

fn check_json<T: serde::Serialize>(r: &Result<T, CollectorError>, dur: f64) -> Value {
    match r {
        Ok(d) => json!({"status": "ok", "duration_ms": dur, "data": d}),
        Err(e) => json!({"status": "error", "duration_ms": dur, "error": e}),
    }
}

fn human(doc: &Value) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let window = doc
        .get("window")
        .and_then(Value::as_str)
        .map(|w| format!(", window {w}"))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "opsconsole probe {}: {} (exit {}){window}",
        s(&doc["env"]),
        doc["status"].as_str().unwrap_or("?").to_uppercase(),
        doc["exit_code"]
    );
    if let Some(e) = doc.get("error").and_then(Value::as_str) {
        let _ = writeln!(o, "  error: {e}");
    }
    if let Some(checks) = doc["checks"].as_object() {
        for (name, c) in checks {
            let st = s(&c["status"]);
            let extra = match st.as_str() {
                "error" => format!(": {}", s(&c["error"]["message"])),
                "skipped" => format!(": {}", s(&c["reason"])),
                _ => c["summary"]
                    .as_str()
                    .map(|x| format!(": {x}"))
                    .unwrap_or_default(),
            };
            let _ = writeln!(o, "  {name:<11} {st}{extra}");
        }
    }
    if let Some(c) = doc.get("cost") {
        let st = s(&c["status"]);
        let extra = match st.as_str() {
            "error" => s(&c["error"]["message"]),
            _ => s(&c["summary"]),
        };
        let _ = writeln!(o, "  {:<11} {st}: {extra}", "cost");
    }
    if let Some(f) = doc["findings"].as_array() {
        for x in f {
            let _ = writeln!(
                o,
                "  ! {} [{}] {}",
                s(&x["code"]),
                s(&x["severity"]),
                s(&x["message"])
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_summary_names_status_checks_and_findings() {
        let doc = json!({
            "env": "dev", "status": "degraded", "exit_code": 1,
            "checks": {"alarms": {"status": "ok"}, "sse": {"status": "skipped", "reason": "no token"},
                       "canary": {"status": "ok", "summary": "SSE buffered in 3 of the last 288 runs"},
                       "redis": {"status": "error", "error": {"message": "denied"}}},
            "findings": [{"code": "alarm_firing", "severity": "degraded", "message": "x is in ALARM"}]
        });
        let h = human(&doc);
        assert!(
            h.starts_with("opsconsole probe dev: DEGRADED (exit 1)"),
            "{h}"
        );
        assert!(h.contains("sse         skipped: no token"), "{h}");
        assert!(h.contains("redis       error: denied"), "{h}");
        assert!(
            h.contains("canary      ok: SSE buffered in 3 of the last 288 runs"),
            "{h}"
        );
        assert!(h.contains("! alarm_firing [degraded] x is in ALARM"), "{h}");
        assert!(human(&usage_doc("dev", "bad flag")).contains("ERROR (exit 3)"));
    }

    /// A cost that could not be read is stated (`error`, or `partial` with what was not read),
    /// never a zero; the human summary names it.
    #[test]
    fn the_cost_section_states_a_failure() {
        use crate::model::ErrorKind;
        let e = CollectorError {
            kind: ErrorKind::Timeout,
            message: "cost did not finish within 10 s".into(),
            fix: None,
        };
        let v = cost_json(&Err(e), 10_000.0);
        assert_eq!(v["status"], "error");
        assert_eq!(v["error"]["message"], "cost did not finish within 10 s");
        assert!(v.get("data").is_none(), "{v}");
        let doc =
            json!({"env": "dev", "status": "healthy", "exit_code": 0, "checks": {}, "cost": v});
        assert!(
            human(&doc).contains("cost        error: cost did not finish within 10 s"),
            "{}",
            human(&doc)
        );
    }

    #[test]
    fn only_parses_names_and_rejects_unknown() {
        assert_eq!(parse_only(&[]).expect("all").len(), Source::ALL.len());
        assert_eq!(
            parse_only(&["sse".into(), "health".into(), "sse".into()]).expect("two"),
            [Source::Sse, Source::Health]
        );
        assert!(
            parse_only(&["bogus".into()])
                .expect_err("unknown")
                .contains("bogus")
        );
    }
}
