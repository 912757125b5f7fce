//! `opsconsole bundle ENV [--out FILE]` (and the TUI's `:bundle`): one `.tar.gz` to attach to a
//! ticket: the probe document, SUMMARY.md, the outputs, the function's newest log lines, alarm
//! states and history, the Lambda and CloudFront configuration summaries, the month's cost,
//! tool versions.
//! Secrets never enter it (`crate::domain::bundle` says how); this file is the thin adapters.
//!
//! Exit codes: 0 written; 1 the archive could not be written; 3 usage or configuration error
//! (the output file exists, bad flags, no outputs), as `probe` and `leftovers`.

use std::fs::OpenOptions;
use std::io::ErrorKind as IoKind;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Value, json};

use crate::cli::{BundleArgs, GlobalOpts};
use crate::context::Context;
use crate::domain::bundle::{self as dom, REDACTED, Redactor, SummaryFacts};
use crate::domain::findings::EXIT_USAGE;
use crate::domain::window::Window;
use crate::model::Source;

/// How many of the function's newest log lines go in by default.
pub const DEFAULT_LOG_LINES: usize = 500;
/// The most `--lines` may ask for.
pub const MAX_LOG_LINES: usize = 10_000;

/// Why a bundle was not written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A usage error (exit 3): the file exists, or a bad argument.
    #[error("{0}")]
    Usage(String),
    /// Writing the archive failed (exit 1).
    #[error("{0}")]
    Write(String),
}

impl BundleError {
    pub fn exit_code(&self) -> u8 {
        match self {
            BundleError::Usage(_) => EXIT_USAGE,
            BundleError::Write(_) => 1,
        }
    }
}

/// One file of the archive (its text is redacted when written).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: &'static str,
    pub text: String,
}

/// Runs `opsconsole bundle` and returns the exit code; prints the archive's path on stdout.
pub async fn run(global: &GlobalOpts, args: &BundleArgs) -> ExitCode {
    let env = args.env.clone().unwrap_or_else(|| "dev".into());
    if args.lines == 0 || args.lines > MAX_LOG_LINES {
        eprintln!(
            "opsconsole: --lines must be 1..={MAX_LOG_LINES} (got {})",
            args.lines
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(dom::default_file_name(
            &env,
            time::OffsetDateTime::now_utc(),
        ))
    });
    // Checked first so a long collection does not end in a refusal (and again, atomically, at
    // the write).
    if let Err(e) = check_out(&out) {
        eprintln!("opsconsole: {e}");
        return ExitCode::from(e.exit_code());
    }
    let ctx = match Context::build(global, &env).await {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("opsconsole: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let window = args
        .window
        .unwrap_or_else(|| Window::covering(ctx.settings.lambda_window_minutes));
    match build(ctx, window, args.lines, out).await {
        Ok((path, status)) => {
            eprintln!(
                "opsconsole: bundle written ({status}; secrets redacted: SUMMARY.md, REDACTION.md inside)"
            );
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("opsconsole: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Refuses an existing output file or a missing directory (usage errors, named with the fix).
pub fn check_out(out: &Path) -> Result<(), BundleError> {
    if out.exists() {
        return Err(BundleError::Usage(format!(
            "bundle: {} already exists; it is never overwritten (move it away or pass another --out FILE)",
            out.display()
        )));
    }
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(d) = dir.filter(|d| !d.is_dir()) {
        return Err(BundleError::Usage(format!(
            "bundle: directory {} does not exist (create it or pass another --out FILE)",
            d.display()
        )));
    }
    Ok(())
}

/// Collects everything and writes the archive at `out`; returns its path and the probe status.
pub async fn build(
    ctx: Arc<Context>,
    window: Window,
    lines: usize,
    out: PathBuf,
) -> Result<(PathBuf, String), BundleError> {
    check_out(&out)?;
    let (entries, redactor, status) = collect(ctx, window, lines).await;
    let dir = dom::archive_dir(&out);
    let o = out.clone();
    tokio::task::spawn_blocking(move || write_archive(&o, &dir, &entries, &redactor))
        .await
        .map_err(|e| BundleError::Write(format!("bundle: the writer stopped: {e}")))??;
    Ok((out, status))
}

/// Writes `entries` (each redacted) as `dir/NAME` into a new gzip'd tar at `out`; never
/// replaces an existing file (`create_new`); a failed write removes the partial file.
pub fn write_archive(
    out: &Path,
    dir: &str,
    entries: &[Entry],
    r: &Redactor,
) -> Result<(), BundleError> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| match e.kind() {
            IoKind::AlreadyExists => BundleError::Usage(format!(
                "bundle: {} already exists; it is never overwritten (move it away or pass another --out FILE)",
                out.display()
            )),
            _ => BundleError::Write(format!(
                "bundle: cannot create {}: {e} (choose another --out FILE)",
                out.display()
            )),
        })?;
    let result = (|| -> std::io::Result<()> {
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let mtime = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        for e in entries {
            let body = r.redact(&e.text);
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o600);
            h.set_mtime(mtime);
            h.set_cksum();
            tar.append_data(&mut h, format!("{dir}/{}", e.name), body.as_bytes())?;
        }
        tar.into_inner()?.finish()?.sync_all()
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(out);
        BundleError::Write(format!("bundle: writing {} failed: {e}", out.display()))
    })
}

fn pretty(v: &Value) -> String {
    let mut v = v.clone();
    dom::redact_json(&mut v);
    serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("(not serialisable: {e})")) + "\n"
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Builds the archive's entries, the redactor and the probe's status (all network I/O).
pub async fn collect(
    ctx: Arc<Context>,
    window: Window,
    lines: usize,
) -> (Vec<Entry>, Redactor, String) {
    let probe_fut = crate::probe::probe_document(ctx.clone(), &Source::ALL, window);
    let (probe, (lambda, env_vars), cloudfront, logs, histories, shim_version) = tokio::join!(
        probe_fut,
        lambda_config(&ctx),
        cloudfront_config(&ctx),
        log_lines(&ctx, window, lines),
        alarm_histories(&ctx),
        shim_version(&ctx),
    );
    // Known values: everything the archive must not hold, found before anything is written.
    let mut known = dom::known_from_env(env_vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    known.extend(sensitive_outputs(&ctx));
    known.extend(ctx.token.iter().map(|t| t.0.clone()));
    known.extend(ctx.chat_key.iter().map(|t| t.0.clone()));
    let names = dom::ssm_names_from_env(env_vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (ssm_values, ssm_note) = ssm_values(&ctx, &names).await;
    known.extend(ssm_values);
    // The caller's identity is no credential (moto's user id has an access key's shape).
    let identity = &probe["checks"]["identity"]["data"];
    let kept = ["account", "user_id", "arn"]
        .iter()
        .filter_map(|k| identity[*k].as_str().map(str::to_string))
        .collect();
    let redactor = Redactor::keeping(known, kept);

    let (logs_text, logs_note) = logs;
    let (history, history_note) = histories;
    let facts = SummaryFacts {
        env: ctx.env.clone(),
        opsconsole_version: env!("CARGO_PKG_VERSION").into(),
        shim_version: shim_version.clone(),
        logs_note,
        history_note,
        known_secrets: redactor.known_count(),
    };
    let status = probe["status"].as_str().unwrap_or("?").to_string();
    let mut outputs = ctx.outputs.masked_json();
    dom::redact_json(&mut outputs);
    let versions = format!(
        "opsconsole {}\nshim {}\nos {} {}\n",
        env!("CARGO_PKG_VERSION"),
        match &shim_version {
            Ok(v) => v.clone(),
            Err(why) => format!("unknown ({why})"),
        },
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    let alarms = json!({
        "states": probe["checks"]["alarms"],
        "history": history,
    });
    let entries = vec![
        Entry {
            name: "SUMMARY.md",
            text: dom::summary_markdown(&probe, &facts),
        },
        Entry {
            name: "probe.json",
            text: pretty(&probe),
        },
        Entry {
            name: "outputs.json",
            text: pretty(&outputs),
        },
        Entry {
            name: "logs.txt",
            text: logs_text,
        },
        Entry {
            name: "alarms.json",
            text: pretty(&alarms),
        },
        Entry {
            name: "lambda.json",
            text: pretty(&lambda),
        },
        Entry {
            name: "cloudfront.json",
            text: pretty(
                &json!({"distribution": cloudfront, "probe": probe["checks"]["cloudfront"]}),
            ),
        },
        Entry {
            // The probe's `cost` section: `opsconsole cost --json`'s document (or why not).
            name: "cost.json",
            text: pretty(probe.get("cost").unwrap_or(&json!({
                "status": "error",
                "error": {"kind": "other", "message": "the probe made no cost section", "fix": null}
            }))),
        },
        Entry {
            name: "versions.txt",
            text: versions,
        },
        Entry {
            name: "REDACTION.md",
            text: dom::redaction_markdown(redactor.known_count(), &ssm_note),
        },
    ];
    (entries, redactor, status)
}

/// The values of the outputs marked sensitive (strings, and the strings inside lists/objects).
fn sensitive_outputs(ctx: &Context) -> Vec<String> {
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Value::Object(m) => m.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for o in ctx.outputs.raw.values().filter(|o| o.sensitive) {
        strings(&o.value, &mut out);
    }
    out
}

/// GetFunctionConfiguration with the environment's values replaced (names kept); the
/// variables come back for the redactor.
async fn lambda_config(ctx: &Context) -> (Value, Vec<(String, String)>) {
    let name = &ctx.outputs.lambda_function_name;
    let c = match ctx
        .aws
        .lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
    {
        Ok(c) => c,
        Err(e) => {
            return (
                json!({"error": format!("lambda:GetFunctionConfiguration {name}: {}", opsconsole_proc::error_chain(&e))}),
                Vec::new(),
            );
        }
    };
    let mut vars: Vec<(String, String)> = c
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    vars.sort();
    let shown: serde_json::Map<String, Value> = vars
        .iter()
        .map(|(k, _)| (k.clone(), Value::String(REDACTED.into())))
        .collect();
    let s = |x: Option<&str>| x.map(str::to_string);
    let doc = json!({
        "function_name": s(c.function_name()),
        "function_arn": s(c.function_arn()),
        "package_type": c.package_type().map(|p| p.as_str().to_string()),
        "runtime": c.runtime().map(|r| r.as_str().to_string()),
        "handler": s(c.handler()),
        "role": s(c.role()),
        "memory_mb": c.memory_size(),
        "timeout_s": c.timeout(),
        "architectures": c.architectures().iter().map(|a| a.as_str().to_string()).collect::<Vec<_>>(),
        "ephemeral_storage_mb": c.ephemeral_storage().map(|e| e.size()),
        "state": c.state().map(|s| s.as_str().to_string()),
        "state_reason": s(c.state_reason()),
        "last_update_status": c.last_update_status().map(|s| s.as_str().to_string()),
        "last_update_status_reason": s(c.last_update_status_reason()),
        "last_modified": s(c.last_modified()),
        "version": s(c.version()),
        "revision_id": s(c.revision_id()),
        "code_size": c.code_size(),
        "vpc": c.vpc_config().map(|v| json!({
            "vpc_id": v.vpc_id(),
            "subnet_ids": v.subnet_ids(),
            "security_group_ids": v.security_group_ids(),
        })),
        "environment_variables": shown,
        "environment_note": "values are [REDACTED]; names kept",
    });
    (doc, vars)
}

/// GetDistribution's configuration, summarised (origin custom headers by name only: they often
/// carry a shared secret).
async fn cloudfront_config(ctx: &Context) -> Value {
    let id = &ctx.outputs.cloudfront_distribution_id;
    let d = match ctx.aws.cloudfront.get_distribution().id(id).send().await {
        Ok(d) => d,
        Err(e) => {
            return json!({"error": format!("cloudfront:GetDistribution {id}: {}", opsconsole_proc::error_chain(&e))});
        }
    };
    let Some(dist) = d.distribution() else {
        return json!({"error": format!("cloudfront:GetDistribution {id}: no distribution in the answer")});
    };
    let cfg = dist.distribution_config();
    let origins: Vec<Value> = cfg
        .and_then(|c| c.origins())
        .map(|o| {
            o.items()
                .iter()
                .map(|o| {
                    json!({
                        "id": o.id(),
                        "domain_name": o.domain_name(),
                        "origin_path": o.origin_path(),
                        "origin_access_control_id": o.origin_access_control_id(),
                        "custom_header_names": o.custom_headers().map(|h| h.items().iter().map(|h| h.header_name().to_string()).collect::<Vec<_>>()).unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let behaviours: Vec<Value> = cfg
        .and_then(|c| c.cache_behaviors())
        .map(|b| {
            b.items()
                .iter()
                .map(|b| {
                    json!({
                        "path_pattern": b.path_pattern(),
                        "target_origin_id": b.target_origin_id(),
                        "viewer_protocol_policy": b.viewer_protocol_policy().as_str(),
                        "cache_policy_id": b.cache_policy_id(),
                        "origin_request_policy_id": b.origin_request_policy_id(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "id": dist.id(),
        "arn": dist.arn(),
        "status": dist.status(),
        "domain_name": dist.domain_name(),
        "last_modified": dist.last_modified_time().fmt(aws_smithy_types::date_time::Format::DateTime).ok(),
        "in_progress_invalidation_batches": dist.in_progress_invalidation_batches(),
        "enabled": cfg.map(|c| c.enabled()),
        "comment": cfg.map(|c| c.comment()),
        "aliases": cfg.and_then(|c| c.aliases()).map(|a| a.items().to_vec()).unwrap_or_default(),
        "price_class": cfg.and_then(|c| c.price_class()).map(|p| p.as_str().to_string()),
        "http_version": cfg.and_then(|c| c.http_version()).map(|h| h.as_str().to_string()),
        "web_acl_id": cfg.and_then(|c| c.web_acl_id()),
        "default_root_object": cfg.and_then(|c| c.default_root_object()),
        "viewer_certificate": cfg.and_then(|c| c.viewer_certificate()).map(|v| json!({
            "acm_certificate_arn": v.acm_certificate_arn(),
            "cloudfront_default_certificate": v.cloud_front_default_certificate(),
            "minimum_protocol_version": v.minimum_protocol_version().map(|m| m.as_str().to_string()),
        })),
        "origins": origins,
        "default_cache_behavior": cfg.and_then(|c| c.default_cache_behavior()).map(|b| json!({
            "target_origin_id": b.target_origin_id(),
            "viewer_protocol_policy": b.viewer_protocol_policy().as_str(),
            "cache_policy_id": b.cache_policy_id(),
            "origin_request_policy_id": b.origin_request_policy_id(),
        })),
        "cache_behaviors": behaviours,
    })
}

/// The newest `max` lines of the function's log group over the window, through the logs
/// view's own reader; (text, one line about them).
async fn log_lines(ctx: &Context, window: Window, max: usize) -> (String, String) {
    let group = ctx.outputs.lambda_log_group_name.clone();
    let start = now_ms() - i64::try_from(window.secs() * 1000).unwrap_or(0);
    match crate::collectors::logs::filter_events(ctx, &group, start, max).await {
        Ok((evs, truncated)) => {
            let note = format!(
                "`logs.txt`: the newest {} lines of {group} over the last {} (FilterLogEvents, at most {max}){}.",
                evs.len(),
                window.label(),
                if truncated {
                    "; older lines of the window left out"
                } else {
                    ""
                }
            );
            let mut text = String::new();
            for (ts, _, m) in &evs {
                let t =
                    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(*ts) * 1_000_000)
                        .ok()
                        .and_then(|t| {
                            t.format(&time::format_description::well_known::Rfc3339)
                                .ok()
                        })
                        .unwrap_or_else(|| ts.to_string());
                text.push_str(&t);
                text.push(' ');
                text.push_str(m.trim_end());
                text.push('\n');
            }
            if evs.is_empty() {
                text.push_str("(no log lines in the window)\n");
            }
            (text, note)
        }
        Err(e) => (
            format!("(no log lines: {e})\n"),
            format!("No log lines: {e}."),
        ),
    }
}

/// DescribeAlarmHistory for every alarm of the outputs, concurrently: ({alarm: history or
/// error}, one line about it, naming an endpoint that does not implement the call).
async fn alarm_histories(ctx: &Context) -> (Value, String) {
    let futs = ctx.outputs.alarms.iter().map(|a| async move {
        (
            a.name.clone(),
            crate::collectors::aws::alarm_history(ctx, &a.name, &a.region).await,
        )
    });
    let results = futures::future::join_all(futs).await;
    let mut out = serde_json::Map::new();
    let mut failed = Vec::new();
    for (name, r) in results {
        let v = match r {
            Ok(h) => serde_json::to_value(h).unwrap_or(Value::Null),
            Err(e) => {
                failed.push(e.message.clone());
                json!({"error": e})
            }
        };
        out.insert(name, v);
    }
    let total = out.len();
    let note = if failed.is_empty() {
        format!("Alarm history: read for all {total} alarms (`alarms.json`).")
    } else if failed
        .iter()
        .any(|m| m.contains("not implemented") || m.contains("HTML error page"))
    {
        format!(
            "Alarm history: not available from this endpoint ({}); `alarms.json` has the states only.",
            failed[0]
        )
    } else {
        format!(
            "Alarm history: {} of {total} alarms could not be read (first: {}); see `alarms.json`.",
            failed.len(),
            failed[0]
        )
    };
    (Value::Object(out), note)
}

/// The shim's version from its status endpoint (needs the diagnostics token).
async fn shim_version(ctx: &Context) -> Result<String, String> {
    let token = match (&ctx.token, &ctx.token_error) {
        (Some(t), _) => t.0.clone(),
        (None, Some(e)) => return Err(format!("no diagnostics token: {e}")),
        (None, None) => return Err("no diagnostics token configured".into()),
    };
    let url = format!("{}{}", ctx.outputs.site_url, ctx.settings.status_path);
    let resp = ctx
        .http
        .get(&url)
        .header(opsconsole_wire::TOKEN_HEADER, token)
        .send()
        .await
        .map_err(|e| {
            format!(
                "the status endpoint {url} did not answer: {}",
                opsconsole_proc::error_chain(&e)
            )
        })?;
    if !resp.status().is_success() {
        return Err(format!(
            "the status endpoint {url} answered HTTP {}",
            resp.status().as_u16()
        ));
    }
    let text = resp
        .text()
        .await
        .map_err(|e| format!("the status body did not arrive: {e}"))?;
    serde_json::from_str::<opsconsole_wire::status::ShimStatus>(&text)
        .map(|s| s.shim_version)
        .map_err(|e| format!("the status answer is not the documented JSON: {e}"))
}

/// The values of the SSM parameters the function's environment names (GetParameters, 10 per
/// call, decrypted), only to remove them from the archive: (values, one line about it).
async fn ssm_values(ctx: &Context, names: &[String]) -> (Vec<String>, String) {
    if names.is_empty() {
        return (
            Vec::new(),
            "The function's environment names no SSM parameter.".into(),
        );
    }
    let mut values = Vec::new();
    let mut problems = Vec::new();
    for chunk in names.chunks(10) {
        match ctx
            .aws
            .ssm
            .get_parameters()
            .set_names(Some(chunk.to_vec()))
            .with_decryption(true)
            .send()
            .await
        {
            Ok(r) => {
                values.extend(
                    r.parameters()
                        .iter()
                        .filter_map(|p| p.value().map(str::to_string)),
                );
                problems.extend(
                    r.invalid_parameters()
                        .iter()
                        .map(|n| format!("{n} not found")),
                );
            }
            Err(e) => problems.push(format!(
                "ssm:GetParameters: {}",
                opsconsole_proc::error_chain(&e)
            )),
        }
    }
    let note = if problems.is_empty() {
        format!(
            "The {} SSM parameters the function's environment names were read to be removed (never written).",
            names.len()
        )
    } else {
        format!(
            "Of the {} SSM parameters the function's environment names, {} values were read to be removed; not read: {} (values of those are removed only by their shapes).",
            names.len(),
            values.len(),
            problems.join("; ")
        )
    };
    (values, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_holds_every_entry_redacted_and_never_overwrites() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("b.tar.gz");
        let r = Redactor::new(["topsecretvalue".to_string()]);
        let entries = vec![
            Entry {
                name: "SUMMARY.md",
                text: "# hi topsecretvalue".into(),
            },
            Entry {
                name: "probe.json",
                text: "{}".into(),
            },
        ];
        write_archive(&out, "b", &entries, &r).expect("written");
        let f = std::fs::File::open(&out).expect("open");
        let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
        let mut names = Vec::new();
        for e in a.entries().expect("entries") {
            let mut e = e.expect("entry");
            let mut s = String::new();
            std::io::Read::read_to_string(&mut e, &mut s).expect("read");
            assert!(!s.contains("topsecretvalue"), "{s}");
            names.push(e.path().expect("path").display().to_string());
        }
        assert_eq!(names, ["b/SUMMARY.md", "b/probe.json"]);
        // A second write to the same path is a usage error and leaves the first archive.
        let before = std::fs::read(&out).expect("read");
        let e = write_archive(&out, "b", &entries, &r).expect_err("exists");
        assert_eq!(e.exit_code(), EXIT_USAGE);
        assert!(e.to_string().contains("never overwritten"), "{e}");
        assert_eq!(std::fs::read(&out).expect("read"), before);
        let e = check_out(&out).expect_err("exists");
        assert_eq!(e.exit_code(), EXIT_USAGE);
        let e = check_out(&dir.path().join("no/such/dir/x.tar.gz")).expect_err("no dir");
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert!(check_out(&dir.path().join("new.tar.gz")).is_ok());
        assert!(check_out(Path::new("relative-new-file.tar.gz")).is_ok());
    }
}
