//! `opsconsole probe --json` end to end: the built binary against moto (seeded through the SDK)
//! plus a local shim stand-in, with an outputs file and a config file written here. Asserts the
//! JSON document and the exit code for the healthy case and each degraded / failing case.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{TOKEN, moto, seed_outputs};
use opsconsole_testsupport::seed::SeedSpec;
use opsconsole_testsupport::sse::{ShimStandIn, SseMode};
use serde_json::Value;

const REGION: &str = "eu-west-1";

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) doc: Value,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Err(e) = std::fs::write(&p, text) {
        panic!("writing {}: {e}", p.display());
    }
    p
}

pub(crate) fn config(token: bool) -> String {
    let mut c = String::from(
        "[env.test]\ntimeout_secs = 30\n[env.test.probe]\nsse_events = 6\nsse_interval_ms = 80\n",
    );
    if token {
        c.push_str(&format!("token = \"{TOKEN}\"\n"));
    }
    c
}

/// Runs the binary with a clean AWS environment (dummy keys, no profile files).
pub(crate) fn probe(dir: &Path, outputs: &Path, cfg: &Path, extra: &[&str]) -> Run {
    probe_env(dir, outputs, cfg, extra, &mut Vec::new())
}

fn probe_env(
    dir: &Path,
    outputs: &Path,
    cfg: &Path,
    extra: &[&str],
    env: &mut Vec<(&str, &str)>,
) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsconsole"));
    cmd.args([
        "probe",
        "test",
        "--json",
        "--endpoint-url",
        moto().endpoint_url(),
    ])
    .arg("--outputs")
    .arg(outputs)
    .arg("--config")
    .arg(cfg)
    .args(extra);
    crate::common::isolated_env(&mut cmd, dir);
    cmd.envs(env.drain(..));
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("running opsconsole: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("stdout is not one JSON document ({e}):\n{stdout}\nstderr:\n{stderr}")
    });
    Run {
        code: out.status.code().unwrap_or(-1),
        doc,
        stdout,
        stderr,
    }
}

/// Seeds `spec` (its site_url replaced by the stand-in's), writes the files, runs the probe.
async fn case(mut spec: SeedSpec, shim: &ShimStandIn, token: bool, extra: &[&str]) -> Run {
    spec.site_url = shim.url();
    let doc = seed_outputs(&spec).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let outputs = write(dir.path(), "outputs.json", &doc.to_string());
    let cfg = write(dir.path(), "config.toml", &config(token));
    let dir_path = dir.path().to_path_buf();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = extra.iter().map(String::as_str).collect();
        let r = probe(&dir_path, &outputs, &cfg, &refs);
        drop(dir);
        r
    })
    .await
    .expect("probe thread")
}

pub(crate) fn codes(r: &Run) -> Vec<String> {
    r.doc["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn spec(prefix: &str) -> SeedSpec {
    SeedSpec::healthy(prefix, REGION, "http://placeholder")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_deployment_exits_0_with_every_check_ok() {
    let shim = ShimStandIn::start(TOKEN, SseMode::Streaming).expect("shim");
    let r = case(spec("pok"), &shim, true, &[]).await;
    assert_eq!(r.code, 0, "findings: {:?}\nstderr: {}", codes(&r), r.stderr);
    assert_eq!(r.doc["schema_version"], 1);
    assert_eq!(r.doc["status"], "healthy");
    assert_eq!(r.doc["exit_code"], 0);
    assert_eq!(r.doc["env"], "test");
    assert!(codes(&r).is_empty());
    for check in [
        "identity",
        "alarms",
        "lambda",
        "redis",
        "cloudfront",
        "health",
        "sse",
        "files",
    ] {
        assert_eq!(
            r.doc["checks"][check]["status"], "ok",
            "{check}: {}",
            r.doc["checks"][check]
        );
    }
    assert_eq!(r.doc["checks"]["sse"]["data"]["verdict"], "STREAMING");
    // The cost: a section of its own (not a check), `opsconsole cost --json`'s document.
    let cost = &r.doc["cost"];
    assert_eq!(cost["status"], "ok", "{cost:#}");
    assert!(r.doc["checks"].get("cost").is_none());
    let total = cost["data"]["estimate"]["total_usd"].as_f64();
    assert!(total.is_some_and(|t| t > 0.0), "{cost:#}");
    assert!(
        cost["data"]["actual"]["estimate"]["total_usd"].is_number(),
        "{cost:#}"
    );
    assert_eq!(
        cost["data"]["deployment"]["lambda_memory_mb"]["basis"],
        "configured"
    );
    assert!(
        cost["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("estimated ")),
        "{cost:#}"
    );
    assert_eq!(r.doc["checks"]["alarms"]["summary"]["ok"], 10);
    assert_eq!(r.doc["checks"]["lambda"]["data"]["cold_starts"]["cold"], 3);
    assert_eq!(r.doc["checks"]["redis"]["data"]["ping"]["ok"], true);
    assert_eq!(
        r.doc["checks"]["identity"]["data"]["account"],
        "123456789012"
    );
    // Sensitive outputs never printed.
    assert_eq!(r.doc["outputs"]["redis_auth_token"], "(sensitive)");
    assert!(!r.stdout.contains("do-not-print-me"));
    assert!(
        !r.stdout.contains(TOKEN),
        "the diagnostics token leaked to stdout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firing_and_missing_alarms_exit_1() {
    let shim = ShimStandIn::start(TOKEN, SseMode::Streaming).expect("shim");
    let mut s = spec("palm");
    s.firing = vec!["apigw-5xx".into()];
    s.missing = vec!["redis-memory".into()];
    let r = case(s, &shim, true, &[]).await;
    assert_eq!(r.code, 1, "{:?}", codes(&r));
    assert_eq!(r.doc["status"], "degraded");
    assert_eq!(codes(&r), ["alarm_firing", "alarm_missing"]);
    assert_eq!(r.doc["findings"][0]["check"], "alarms");
    assert_eq!(r.doc["findings"][0]["severity"], "degraded");
    assert!(
        r.doc["findings"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("palm-apigw-5xx")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_stream_exits_1() {
    let shim = ShimStandIn::start(TOKEN, SseMode::Buffering).expect("shim");
    let r = case(spec("pbuf"), &shim, true, &[]).await;
    assert_eq!(r.code, 1, "{:?}", codes(&r));
    assert_eq!(codes(&r), ["sse_buffered"]);
    assert_eq!(r.doc["checks"]["sse"]["data"]["verdict"], "BUFFERED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_cold_starts_exit_1() {
    let shim = ShimStandIn::start(TOKEN, SseMode::Streaming).expect("shim");
    let mut s = spec("pcold");
    s.cold_inits_ms = vec![4000.0, 6000.0, 7000.0];
    let r = case(s, &shim, true, &[]).await;
    assert_eq!(r.code, 1, "{:?}", codes(&r));
    assert_eq!(codes(&r), ["cold_start_p95_high"]);
    assert_eq!(r.doc["thresholds"]["cold_start_p95_ms"], 5000.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_ping_failing_exits_1() {
    let shim = ShimStandIn::start(TOKEN, SseMode::Streaming).expect("shim");
    shim.set_redis_ok(false);
    let r = case(spec("predis"), &shim, true, &[]).await;
    assert_eq!(r.code, 1, "{:?}", codes(&r));
    assert_eq!(codes(&r), ["redis_unreachable"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_502_exits_2() {
    let shim = ShimStandIn::start(TOKEN, SseMode::Streaming).expect("shim");
    shim.set_health_status(502);
    let r = case(spec("phealth"), &shim, true, &[]).await;
    assert_eq!(r.code, 2, "{:?}", codes(&r));
    assert_eq!(r.doc["status"], "failing");
    assert_eq!(codes(&r), ["health_failed"]);
    assert_eq!(r.doc["checks"]["health"]["data"]["status"], 502);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_stream_exits_2() {
    let shim = ShimStandIn::start(TOKEN, SseMode::Drop).expect("shim");
    let r = case(spec("pdrop"), &shim, true, &[]).await;
    assert_eq!(r.code, 2, "{:?}", codes(&r));
    assert_eq!(codes(&r), ["sse_failed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_selects_checks_and_no_token_skips_sse() {
    let shim = ShimStandIn::start(TOKEN, SseMode::Streaming).expect("shim");
    let r = case(spec("ponly"), &shim, false, &["--only", "health,sse"]).await;
    assert_eq!(r.code, 0, "{:?} {}", codes(&r), r.stderr);
    let checks = r.doc["checks"].as_object().expect("checks");
    assert_eq!(checks.keys().collect::<Vec<_>>(), ["health", "sse"]);
    assert_eq!(r.doc["checks"]["sse"]["status"], "skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_and_configuration_errors_exit_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write(dir.path(), "config.toml", &config(true));
    // An outputs file without a required output: exit 3, the output named.
    let bad = write(
        dir.path(),
        "outputs.json",
        r#"{"site_url":{"value":"http://x","type":"string","sensitive":false}}"#,
    );
    let r = probe(dir.path(), &bad, &cfg, &[]);
    assert_eq!(r.code, 3);
    assert_eq!(r.doc["status"], "error");
    let msg = r.doc["error"].as_str().unwrap_or("");
    assert!(
        msg.contains("region") && msg.contains("alarms") && !msg.contains("site_url"),
        "{msg}"
    );
    // Not JSON at all.
    let junk = write(dir.path(), "junk.json", "terraform says hi");
    let r = probe(dir.path(), &junk, &cfg, &[]);
    assert_eq!(r.code, 3);
    // An unknown check name.
    let r = probe(dir.path(), &bad, &cfg, &["--only", "alarms,bogus"]);
    assert_eq!(r.code, 3);
    assert!(r.doc["error"].as_str().unwrap_or("").contains("bogus"));
    // A config file that does not parse.
    let badcfg = write(dir.path(), "bad.toml", "[env.test]\nnope = 1\n");
    let r = probe(dir.path(), &bad, &badcfg, &[]);
    assert_eq!(r.code, 3);
    assert!(r.stderr.contains("bad.toml"), "{}", r.stderr);
}

/// A configured chat endpoint with a bearer token from the environment instead of the shim's.
fn chat_probe(shim: &ShimStandIn, outputs: &Value) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = write(dir.path(), "outputs.json", &outputs.to_string());
    let cfg = write(
        dir.path(),
        "config.toml",
        &format!(
            "[env.test.probe]\nchat_url = \"{}/api/chat?events=6&interval_ms=80\"\nchat_token_env = \"CHAT_TOKEN_FOR_TEST\"\n",
            shim.url()
        ),
    );
    // The token goes to the child's environment only.
    let mut cmd_env = vec![("CHAT_TOKEN_FOR_TEST", TOKEN)];
    let r = probe_env(dir.path(), &out, &cfg, &["--only", "sse"], &mut cmd_env);
    drop(dir);
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_endpoint_with_bearer_token_streams_or_buffers() {
    let shim = ShimStandIn::start(TOKEN, SseMode::Streaming).expect("shim");
    let mut s = spec("pchat");
    s.site_url = shim.url();
    let doc = seed_outputs(&s).await;
    let (r, shim) = tokio::task::spawn_blocking(move || (chat_probe(&shim, &doc), (shim, doc)))
        .await
        .expect("join");
    assert_eq!(r.code, 0, "{:?} {}", codes(&r), r.doc);
    assert_eq!(r.doc["checks"]["sse"]["data"]["verdict"], "STREAMING");
    assert_eq!(
        r.doc["checks"]["sse"]["data"]["events"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    let (shim, doc) = shim;
    shim.set_mode(SseMode::Buffering);
    let r = tokio::task::spawn_blocking(move || chat_probe(&shim, &doc))
        .await
        .expect("join");
    assert_eq!(r.code, 1, "{:?} {}", codes(&r), r.doc);
    assert_eq!(codes(&r), ["sse_buffered"]);
}
