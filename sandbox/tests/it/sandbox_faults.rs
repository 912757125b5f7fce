//! End to end: the sandbox (moto, cargo-lambda + the real shim + the LibreChat stand-in, Redis,
//! the API Gateway stand-in) started healthy or with each `--fault`, and the real
//! `opsconsole probe sandbox --json` run against it must name the fault (finding code and exit
//! code, docs/contracts.md sections 5-6). One sandbox at a time (2 cores); each is started,
//! probed once, and stopped.

use std::process::Stdio;
use std::time::Duration;

use opsconsole_sandbox::{Fault, SandboxInfo};
use serde_json::Value;

/// Runs the probe binary the way the sandbox prints it; returns (exit code, document).
async fn probe(info: &SandboxInfo) -> (i32, Value, String) {
    let xdg = tempfile::tempdir().expect("tempdir");
    let bin = opsconsole_testsupport::bins::workspace_bin("opsconsole", "console", "opsconsole");
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(["probe", "sandbox", "--json", "--outputs"])
        .arg(&info.outputs)
        .args(["--endpoint-url", &info.moto_url])
        .env("XDG_CONFIG_HOME", xdg.path())
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in info.console_env() {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("probe finished within 120 s")
        .expect("probe ran");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("probe stdout is not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (out.status.code().unwrap_or(-1), doc, stderr)
}

pub(crate) fn codes(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Starts the sandbox with `fault`, probes it, and checks the exit code and that the findings
/// are `expected` plus at most the codes in `collateral` (in any order); returns the document.
// The guard only keeps other tests' sandboxes out while this one runs; each test has its own
// runtime, so no task of it waits for the lock.
#[allow(clippy::await_holding_lock)]
async fn check(
    fault: Option<Fault>,
    expected_exit: i32,
    expected: &[&str],
    collateral: &[&str],
) -> Value {
    let _serial = crate::one_sandbox_at_a_time();
    let sandbox = opsconsole_sandbox::start(fault)
        .await
        .unwrap_or_else(|e| panic!("sandbox {fault:?} did not start: {e:#}"));
    let (code, doc, stderr) = probe(&sandbox.info).await;
    let pretty = serde_json::to_string_pretty(&doc).unwrap_or_default();
    let mut got = codes(&doc);
    got.sort();
    got.dedup();
    let required: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    let missing: Vec<&String> = required.iter().filter(|c| !got.contains(c)).collect();
    let unexpected: Vec<&String> = got
        .iter()
        .filter(|c| !required.contains(c) && !collateral.contains(&c.as_str()))
        .collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "findings for {fault:?}: missing {missing:?}, unexpected {unexpected:?}\n{pretty}\nstderr: {stderr}"
    );
    assert_eq!(
        code, expected_exit,
        "exit code for {fault:?}:\n{pretty}\nstderr: {stderr}"
    );
    let status = match expected_exit {
        0 => "healthy",
        1 => "degraded",
        _ => "failing",
    };
    assert_eq!(doc["status"], status, "{pretty}");
    if let Some(f) = fault {
        assert!(
            got.iter().any(|c| c == f.finding_code()),
            "{f:?} must produce {}",
            f.finding_code()
        );
    }
    drop(sandbox);
    doc
}

/// Healthy, and the canary's history (the sandbox seeds 18 runs 5 minutes apart, all streaming,
/// the newest 5 minutes before the seeding: 11 of them fall in the probe's 1 h window, 12 when
/// the window's start is rounded down to the minute, as moto and CloudWatch do) read back for
/// the `Environment` its alarm names, with its two alarms after the ten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_baseline_is_healthy() {
    let doc = check(None, 0, &[], &[]).await;
    let canary = &doc["checks"]["canary"];
    assert_eq!(canary["status"], "ok", "{canary:#}");
    let runs = canary["data"]["history"]["runs"].as_u64().unwrap_or(0);
    assert!((11..=12).contains(&runs), "1 h window: {canary:#}");
    assert_eq!(canary["data"]["history"]["buffered"], 0, "{canary:#}");
    assert!(
        canary["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with(&format!(
                "healthy and streaming in all {runs} runs of the last 1h"
            ))),
        "{canary:#}"
    );
    // The frontend check fetched the placeholder's index.html and both assets it names.
    let fe = &doc["checks"]["frontend"];
    assert_eq!(fe["status"], "ok", "{fe:#}");
    assert_eq!(fe["data"]["problems"], serde_json::json!([]), "{fe:#}");
    assert_eq!(fe["data"]["cache_control"], "no-cache", "{fe:#}");
    let assets: Vec<&str> = fe["data"]["assets"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["path"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        assets,
        [SANDBOX_JS, "/assets/sandbox.4e5f6a7b.css"],
        "{fe:#}"
    );
    let alarms: Vec<&str> = doc["checks"]["alarms"]["data"]["alarms"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(alarms.len(), 12, "{alarms:?}");
    assert!(
        alarms[10..]
            .iter()
            .all(|n| n.ends_with("-probe-unhealthy") || n.ends_with("-sse-buffered")),
        "{alarms:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_fault_buffering_gives_sse_buffered() {
    check(Some(Fault::Buffering), 1, &["sse_buffered"], &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_fault_librechat_down_gives_health_failed() {
    // The shim answers 503 and recycles its environment (exits) after the failed readiness; an
    // SSE diagnostics stream running in that environment at the time is cut: `sse_failed` may
    // come along.
    check(
        Some(Fault::LibrechatDown),
        2,
        &["health_failed"],
        &["sse_failed"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_fault_alarm_gives_alarm_firing() {
    check(Some(Fault::Alarm), 1, &["alarm_firing"], &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_fault_cold_start_storm_gives_cold_start_p95_high() {
    check(
        Some(Fault::ColdStartStorm),
        1,
        &["cold_start_p95_high"],
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_fault_redis_down_gives_redis_unreachable() {
    check(Some(Fault::RedisDown), 1, &["redis_unreachable"], &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_fault_deploy_in_progress_gives_deploy_in_progress() {
    check(
        Some(Fault::DeployInProgress),
        1,
        &["deploy_in_progress"],
        &[],
    )
    .await;
}

/// SIGCONTs the stopped processes when dropped (also while unwinding from a failed assert), so
/// the sandbox's SIGTERM reaches them.
struct Continue(Vec<i32>);

impl Drop for Continue {
    fn drop(&mut self) {
        for pid in &self.0 {
            // SAFETY: kill(2) with a pid this test stopped; no memory is touched.
            unsafe {
                libc::kill(*pid, libc::SIGCONT);
            }
        }
    }
}

/// The processes under this test (the sandbox's) whose command line satisfies `pick`; at least
/// one.
fn under_this_test(what: &str, pick: impl Fn(&str) -> bool) -> Vec<i32> {
    let me = i32::try_from(std::process::id()).expect("pid fits i32");
    let procs = opsconsole_testsupport::procs::descendants(me);
    let pids: Vec<i32> = procs
        .iter()
        .filter(|(_, cmd)| pick(cmd))
        .map(|(pid, _)| *pid)
        .collect();
    assert!(!pids.is_empty(), "no {what} under this test: {procs:?}");
    pids
}

/// SIGSTOPs `pids`; the guard continues them on every path (also while unwinding), before the
/// sandbox is dropped.
fn stop(pids: Vec<i32>) -> Continue {
    let cont = Continue(pids);
    for pid in &cont.0 {
        // SAFETY: kill(2) on a child process of this test's sandbox.
        let rc = unsafe { libc::kill(*pid, libc::SIGSTOP) };
        assert_eq!(rc, 0, "SIGSTOP {pid}");
    }
    cont
}

/// Starts a healthy sandbox whose function may run one execution environment (reserved
/// concurrency 1: with more, Lambda would serve the next request from another environment and
/// only the one request on the hung environment would fail), stops the processes `pick`
/// chooses, probes, and checks what every hang must give: `health_failed`, no
/// `redis_unreachable` (Redis is fine), exit 2. Returns the document (pretty) and its finding
/// codes for the case's own checks.
#[allow(clippy::await_holding_lock)]
async fn hung(what: &str, pick: impl Fn(&str) -> bool) -> (Value, String, Vec<String>) {
    let _serial = crate::one_sandbox_at_a_time();
    let one = opsconsole_sandbox::LambdaSettings {
        envs: 1,
        limits: false,
        ..Default::default()
    };
    let sandbox =
        opsconsole_sandbox::start_lambda(&opsconsole_testsupport::repo_root(), None, None, one)
            .await
            .unwrap_or_else(|e| panic!("sandbox did not start: {e:#}"));
    let cont = stop(under_this_test(what, pick));
    let (code, doc, stderr) = probe(&sandbox.info).await;
    drop(cont);
    drop(sandbox);
    let pretty = format!(
        "{}\nstderr: {stderr}",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    );
    let got = codes(&doc);
    assert!(
        got.iter().any(|c| c == "health_failed"),
        "{got:?}\n{pretty}"
    );
    assert!(
        !got.iter().any(|c| c == "redis_unreachable"),
        "a hung {what} must not be blamed on Redis: {got:?}\n{pretty}"
    );
    assert_eq!(code, 2, "{pretty}");
    (doc, pretty, got)
}

/// LibreChat hung (its process stopped with SIGSTOP, not a `--fault`): the probe names
/// `health_failed` with what the shim saw of LibreChat's `/health`, and no `redis_unreachable`
/// (Redis is fine; the shim's status endpoint not answering is not a Redis observation).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_hung_librechat_gives_health_failed_and_no_redis_finding() {
    // The LibreChat stand-in runs under the shim (bootstrap) the sandbox started.
    let (doc, pretty, _) = hung("LibreChat stand-in", |cmd| {
        cmd.contains("librechat-standin")
    })
    .await;
    let health = doc["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|x| x["code"] == "health_failed"))
        .and_then(|x| x["message"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(
        health.contains("LibreChat did not answer /health"),
        "the health finding says what the shim saw: {health}\n{pretty}"
    );
}

/// The whole function hung (the shim's `bootstrap` and the LibreChat stand-in both stopped
/// with SIGSTOP): nothing answers, neither `/api/health` nor the shim's status endpoint. The
/// probe names `health_failed`, says the status endpoint gave no answer
/// (`shim_status_unavailable`) and names no `redis_unreachable`: Redis was never asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_hung_function_gives_health_failed_and_no_redis_finding() {
    let is_shim = |cmd: &str| {
        cmd.split_whitespace()
            .next()
            .is_some_and(|exe| exe.ends_with("/bootstrap"))
    };
    let (doc, pretty, got) = hung("shim bootstrap and LibreChat stand-in", |cmd| {
        is_shim(cmd) || cmd.contains("librechat-standin")
    })
    .await;
    assert!(
        got.iter().any(|c| c == "shim_status_unavailable"),
        "the silent status endpoint is named as such: {got:?}\n{pretty}"
    );
    assert!(
        doc["checks"]["redis"]["data"]["ping"].is_null(),
        "no PING result without the shim's answer:\n{pretty}"
    );
}

/// The script the sandbox's placeholder index.html names (sandbox/src/seed/s3.rs).
const SANDBOX_JS: &str = "/assets/sandbox.0a1b2c3d.js";

/// Issue 24 item 4: an asset index.html references is gone from the frontend bucket (a partial
/// upload, or an old index.html after a deploy replaced the hashed assets): the probe's
/// frontend check names it, `frontend_asset_missing`, failing (exit 2), and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn a_missing_frontend_asset_is_named_by_the_probe() {
    let _serial = crate::one_sandbox_at_a_time();
    let sandbox = opsconsole_sandbox::start(None)
        .await
        .unwrap_or_else(|e| panic!("sandbox did not start: {e:#}"));
    let info = &sandbox.info;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .endpoint_url(&info.moto_url)
            .region(aws_sdk_s3::config::Region::new(opsconsole_sandbox::REGION))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .force_path_style(true)
            .build(),
    );
    s3.delete_object()
        .bucket(&info.frontend_bucket)
        .key(SANDBOX_JS.trim_start_matches('/'))
        .send()
        .await
        .expect("delete the script from the frontend bucket");
    let (code, doc, stderr) = probe(info).await;
    let pretty = serde_json::to_string_pretty(&doc).unwrap_or_default();
    assert_eq!(
        codes(&doc),
        ["frontend_asset_missing"],
        "{pretty}\n{stderr}"
    );
    assert_eq!(code, 2, "{pretty}");
    let msg = doc["findings"][0]["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with(&format!(
            "1 of the 2 assets index.html references cannot be fetched: {SANDBOX_JS} (40"
        )),
        "{msg}"
    );
    assert!(
        stderr.contains("frontend_asset_missing"),
        "the finding on stderr: {stderr}"
    );
    drop(sandbox);
}
