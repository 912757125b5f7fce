//! `opsconsole probe ENV1 ENV2 ... [--json]` and `opsconsole probe --all`: several environments
//! probed concurrently (at most `--jobs` at once), one document with the single-environment
//! document of each under `environments`, and an overall exit code (the worst wins).
//! The single-environment `probe ENV` keeps its own document (`probe.rs`); this module only
//! runs that document once per environment. Schema: console/README.md, "Many environments".

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt as _;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::cli::{GlobalOpts, ProbeArgs};
use crate::config::ConfigFile;
use crate::context::Context;
use crate::domain::findings::EXIT_USAGE;
use crate::domain::window::Window;
use crate::probe::{SCHEMA_VERSION, parse_only, probe_document, usage_doc};

/// True when the arguments ask for more than one environment (or `--all`).
pub fn is_multi(args: &ProbeArgs) -> bool {
    args.all || !args.more_envs.is_empty()
}

/// The environments to probe, in the order named, without repeats. `--all` takes every
/// `[env.NAME]` of the config file (sorted by name).
pub(crate) fn select_envs(
    first: Option<&str>,
    more: &[String],
    all: bool,
    config_envs: &[String],
) -> Result<Vec<String>, String> {
    let named: Vec<String> = if all {
        if first.is_some() || !more.is_empty() {
            return Err(
                "--all probes every [env.NAME] of the config file: name no environment with it"
                    .into(),
            );
        }
        if config_envs.is_empty() {
            return Err("--all: the config file has no [env.NAME] section (add one per environment, or name the environments: `opsconsole probe ENV1 ENV2`)".into());
        }
        config_envs.to_vec()
    } else {
        first
            .map(str::to_string)
            .into_iter()
            .chain(more.iter().cloned())
            .collect()
    };
    let mut out: Vec<String> = Vec::new();
    for e in named {
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

/// The overall status and exit code: the worst environment wins (3, a configuration error in
/// one environment, is the worst).
pub(crate) fn overall(codes: impl IntoIterator<Item = u8>) -> (&'static str, u8) {
    let worst = codes.into_iter().max().unwrap_or(0);
    (status_name(worst), worst)
}

fn status_name(code: u8) -> &'static str {
    match code {
        0 => "healthy",
        1 => "degraded",
        2 => "failing",
        _ => "error",
    }
}

fn exit_code_of(doc: &Value) -> u8 {
    doc.get("exit_code")
        .and_then(Value::as_u64)
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(EXIT_USAGE)
}

fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The combined document from each environment's own document.
pub(crate) fn combine(docs: BTreeMap<String, Value>, duration_ms: f64, jobs: usize) -> Value {
    let (status, code) = overall(docs.values().map(exit_code_of));
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": "opsconsole",
        "version": env!("CARGO_PKG_VERSION"),
        "generated_at": now_rfc3339(),
        "duration_ms": duration_ms,
        "jobs": jobs,
        "status": status,
        "exit_code": code,
        "environments": docs,
    })
}

fn multi_usage_doc(msg: &str) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": "opsconsole",
        "version": env!("CARGO_PKG_VERSION"),
        "generated_at": now_rfc3339(),
        "status": "error",
        "exit_code": EXIT_USAGE,
        "error": msg,
        "environments": {},
    })
}

/// The human output: one table, a row per environment.
pub(crate) fn table(doc: &Value) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "opsconsole probe ({} environments): {} (exit {})",
        doc["environments"].as_object().map_or(0, |m| m.len()),
        doc["status"].as_str().unwrap_or("?").to_uppercase(),
        doc["exit_code"]
    );
    if let Some(e) = doc.get("error").and_then(Value::as_str) {
        let _ = writeln!(o, "  error: {e}");
    }
    let rows: Vec<[String; 5]> = doc["environments"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(name, d)| {
                    let bad: Vec<String> = d["checks"]
                        .as_object()
                        .map(|c| {
                            c.iter()
                                .filter(|(_, v)| v["status"] == "error")
                                .map(|(k, _)| k.clone())
                                .collect()
                        })
                        .unwrap_or_default();
                    let mut codes: Vec<String> = d["findings"]
                        .as_array()
                        .map(|f| {
                            f.iter()
                                .filter_map(|x| x["code"].as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    codes.dedup();
                    let detail = match d.get("error").and_then(Value::as_str) {
                        Some(e) => e.to_string(),
                        None if codes.is_empty() => "-".into(),
                        None => codes.join(","),
                    };
                    [
                        name.clone(),
                        d["status"].as_str().unwrap_or("?").to_string(),
                        d["exit_code"].to_string(),
                        if bad.is_empty() {
                            "-".into()
                        } else {
                            bad.join(",")
                        },
                        detail,
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    let head = ["ENV", "STATUS", "EXIT", "ERRORED CHECKS", "FINDINGS"];
    let mut w = head.map(str::len);
    for r in &rows {
        for (i, c) in r.iter().enumerate().take(4) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |c: [&str; 5]| {
        format!(
            "  {:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}\n",
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        )
    };
    o.push_str(&line(head));
    for r in &rows {
        o.push_str(&line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
    }
    o
}

fn emit(doc: &Value, json_out: bool) {
    crate::probe::emit_with(doc, json_out, table);
}

/// One environment's document: its context error as the single-environment usage document,
/// else its probe document.
async fn one(
    global: &GlobalOpts,
    env: &str,
    sources: &[crate::model::Source],
    window: Option<Window>,
) -> Value {
    match Context::build(global, env).await {
        Ok(ctx) => {
            let window =
                window.unwrap_or_else(|| Window::covering(ctx.settings.lambda_window_minutes));
            probe_document(Arc::new(ctx), sources, window).await
        }
        Err(e) => {
            let msg = e.to_string();
            eprintln!("opsconsole: {env}: {msg}");
            usage_doc(env, &msg)
        }
    }
}

/// Runs the probe on several environments and returns the overall exit code.
pub async fn run(global: &GlobalOpts, args: &ProbeArgs) -> ExitCode {
    let usage = |msg: String| {
        eprintln!("opsconsole: {msg}");
        emit(&multi_usage_doc(&msg), args.json);
        ExitCode::from(EXIT_USAGE)
    };
    let sources = match parse_only(&args.only) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    if args.jobs == 0 {
        return usage("--jobs must be at least 1".into());
    }
    let config_envs: Vec<String> = if args.all {
        match ConfigFile::load(global.config.as_deref()) {
            Ok((f, _)) => f.env.keys().cloned().collect(),
            Err(e) => return usage(e.to_string()),
        }
    } else {
        Vec::new()
    };
    let envs = match select_envs(args.env.as_deref(), &args.more_envs, args.all, &config_envs) {
        Ok(e) => e,
        Err(e) => return usage(e),
    };
    if global.outputs.is_some() && envs.len() > 1 {
        return usage("--outputs names one environment's outputs: with several environments put `outputs = \"FILE\"` in each [env.NAME] of the config file".into());
    }
    let t0 = Instant::now();
    let jobs = args.jobs.min(envs.len().max(1));
    let window = args.window;
    let docs: BTreeMap<String, Value> = futures::stream::iter(envs.iter().cloned())
        .map(|env| {
            let sources = sources.clone();
            async move {
                let doc = one(global, &env, &sources, window).await;
                (env, doc)
            }
        })
        .buffer_unordered(jobs)
        .collect()
        .await;
    let doc = combine(docs, t0.elapsed().as_secs_f64() * 1000.0, jobs);
    let code = exit_code_of(&doc);
    emit(&doc, args.json);
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn envs_in_order_without_repeats_or_all_from_the_config() {
        assert_eq!(
            select_envs(Some("b"), &s(&["a", "b", "c"]), false, &[]).expect("named"),
            s(&["b", "a", "c"])
        );
        assert_eq!(
            select_envs(None, &[], true, &s(&["dev", "prod"])).expect("all"),
            s(&["dev", "prod"])
        );
        assert!(
            select_envs(None, &[], true, &[])
                .expect_err("no sections")
                .contains("[env.NAME]")
        );
        assert!(select_envs(Some("dev"), &[], true, &s(&["dev"])).is_err());
    }

    #[test]
    fn the_worst_environment_wins() {
        assert_eq!(overall([0, 1, 0]), ("degraded", 1));
        assert_eq!(overall([2, 1]), ("failing", 2));
        assert_eq!(overall([0, 3, 2]), ("error", 3));
        assert_eq!(overall([0, 0]), ("healthy", 0));
    }

    #[test]
    fn combined_document_and_table() {
        let mut docs = BTreeMap::new();
        docs.insert(
            "dev".to_string(),
            json!({"env": "dev", "status": "healthy", "exit_code": 0, "findings": [], "checks": {"health": {"status": "ok"}}}),
        );
        docs.insert(
            "prod".to_string(),
            json!({"env": "prod", "status": "degraded", "exit_code": 1,
                   "findings": [{"code": "sse_buffered"}],
                   "checks": {"sse": {"status": "ok"}, "redis": {"status": "error"}}}),
        );
        docs.insert("qa".to_string(), usage_doc("qa", "missing outputs"));
        let doc = combine(docs, 12.0, 4);
        assert_eq!(doc["status"], "error");
        assert_eq!(doc["exit_code"], 3);
        assert_eq!(
            doc["environments"]["prod"]["findings"][0]["code"],
            "sse_buffered"
        );
        let t = table(&doc);
        assert!(
            t.starts_with("opsconsole probe (3 environments): ERROR (exit 3)"),
            "{t}"
        );
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[1].contains("ENV") && lines[1].contains("FINDINGS"),
            "{t}"
        );
        assert!(
            lines[2].contains("dev") && lines[2].contains("healthy"),
            "{t}"
        );
        assert!(
            lines[3].contains("prod")
                && lines[3].contains("redis")
                && lines[3].contains("sse_buffered"),
            "{t}"
        );
        assert!(
            lines[4].contains("qa") && lines[4].contains("missing outputs"),
            "{t}"
        );
    }
}
