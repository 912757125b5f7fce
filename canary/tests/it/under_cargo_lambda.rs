//! See main.rs. One sandbox per test; the canary, cargo-lambda and the sandbox are stopped
//! (process groups) when the test ends.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use opsconsole_proc::child::Proc;
use opsconsole_sandbox::{Fault, Sandbox};
use serde_json::{Value, json};

pub(crate) const FUNCTION: &str = "canary";
const LOG_GROUP: &str = "/aws/lambda/librechat-sandbox-canary";
const TOKEN_PARAMETER: &str = "/librechat-sandbox/shim-diagnostics-token";

/// What EventBridge Scheduler sends: the target's `Input` from `modules/canary`, its
/// `<aws.scheduler.*>` placeholders filled in.
pub(crate) fn scheduler_event() -> Value {
    json!({
        "source": "aws.scheduler",
        "schedule_arn": "arn:aws:scheduler:eu-west-1:123456789012:schedule/default/librechat-sandbox-canary",
        "scheduled_time": "2026-11-30T03:10:00Z",
        "execution_id": "c0ffee00-0000-4000-8000-000000000001",
        "attempt_number": "1"
    })
}

/// cargo-lambda's Runtime API serving a function named `canary`.
pub(crate) async fn cargo_lambda(dir: &Path) -> (opsconsole_testsupport::lambda::CargoLambda, u16) {
    let cl = opsconsole_testsupport::repo_root().join(".tools/venv/bin/cargo-lambda");
    assert!(
        cl.exists(),
        "{} missing: run scripts/bootstrap.sh venv",
        cl.display()
    );
    let rt = opsconsole_testsupport::lambda::start(
        &cl,
        &dir.join("cargo-lambda"),
        FUNCTION,
        60,
        &dir.join("cargo-lambda.log"),
    )
    .await
    .unwrap();
    let port = rt.port;
    (rt, port)
}

/// The canary binary polling the Runtime API with the environment `modules/canary` gives it.
fn canary(sandbox: &Sandbox, port: u16, log: &Path) -> Proc {
    canary_bin(env!("CARGO_BIN_EXE_canary"), sandbox, port, log)
}

/// [`canary`] with the binary `bin`.
fn canary_bin(bin: &str, sandbox: &Sandbox, port: u16, log: &Path) -> Proc {
    canary_with(bin, sandbox, port, log, &[])
}

/// [`canary_bin`] with more variables (the web mode's).
pub(crate) fn canary_with(
    bin: &str,
    sandbox: &Sandbox,
    port: u16,
    log: &Path,
    extra: &[(&str, String)],
) -> Proc {
    let outputs = std::fs::read_to_string(&sandbox.info.outputs).unwrap();
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // cargo-lambda serves each function's Runtime API under `/.rt/NAME` (as the sandbox uses it).
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            opsconsole_testsupport::lambda::runtime_api(port, FUNCTION),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", LOG_GROUP)
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/30/[$LATEST]canary0001",
        )
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", &sandbox.info.moto_url)
        .env(canary::ENV_NAME, "sandbox")
        .env(canary::ENV_OUTPUTS, outputs)
        .env(canary::ENV_TOKEN_SSM, TOKEN_PARAMETER)
        .envs(extra.iter().map(|(k, v)| (k, v)));
    Proc::spawn("canary", cmd, log).unwrap()
}

/// Ships the function's log lines to the log group in moto (what Lambda does with stdout).
async fn ship_logs(sandbox: &Sandbox, lines: &[String]) -> aws_sdk_cloudwatchlogs::Client {
    let opts = opsconsole::aws::AwsOptions {
        profile: None,
        region: Some("eu-west-1".into()),
        endpoint_url: Some(sandbox.info.moto_url.clone()),
        max_attempts: Some(2),
        static_credentials: Some(("testing".into(), "testing".into())),
        operation_timeout: Some(Duration::from_secs(20)),
    };
    let sdk = opsconsole::aws::load_sdk_config(&opts).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let _ = logs
        .create_log_group()
        .log_group_name(LOG_GROUP)
        .send()
        .await;
    let stream = "2026/11/30/[$LATEST]canary0001";
    let _ = logs
        .create_log_stream()
        .log_group_name(LOG_GROUP)
        .log_stream_name(stream)
        .send()
        .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let events: Vec<_> = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now)
                .message(l.clone())
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(LOG_GROUP)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
    logs
}

/// Starts the sandbox with `fault`, runs one scheduled invocation of the canary, and returns
/// (the invocation's answer, the EMF record read back from moto's log group).
#[allow(clippy::await_holding_lock)]
async fn one_run(fault: Option<Fault>) -> (Value, Value) {
    let _serial = crate::one_sandbox_at_a_time();
    let sandbox = opsconsole_sandbox::start(fault)
        .await
        .unwrap_or_else(|e| panic!("sandbox {fault:?} did not start: {e:#}"));
    let dir = tempfile::tempdir().unwrap();
    let (cl, port) = cargo_lambda(dir.path()).await;
    let log = dir.path().join("canary.log");
    let fun = canary(&sandbox, port, &log);
    let http = reqwest::Client::new();
    let resp = tokio::time::timeout(
        Duration::from_secs(90),
        http.post(opsconsole_testsupport::lambda::invoke_url(port, FUNCTION))
            .json(&scheduler_event())
            .send(),
    )
    .await
    .expect("the invocation answered within 90 s")
    .expect("invocation sent");
    let status = resp.status();
    let answer: Value = resp.json().await.unwrap_or(Value::Null);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        status.is_success(),
        "invoke {status}: {answer}\ncanary log:\n{text}"
    );
    drop(fun);
    drop(cl);
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let logs = ship_logs(&sandbox, &lines).await;
    // Read the record back as the console would: FilterLogEvents with a plain term.
    let found = logs
        .filter_log_events()
        .log_group_name(LOG_GROUP)
        .filter_pattern("SseVerdict")
        .send()
        .await
        .unwrap();
    let records: Vec<Value> = found
        .events()
        .iter()
        .filter_map(|e| e.message())
        .filter_map(|m| serde_json::from_str::<Value>(m).ok())
        .filter(|v| v["event"] == "canary_run")
        .collect();
    assert_eq!(
        records.len(),
        1,
        "one EMF record per run in {LOG_GROUP}:\n{text}"
    );
    assert!(
        text.lines().any(|l| l.contains("\"canary_report\"")),
        "the JSON report as a log line:\n{text}"
    );
    drop(sandbox);
    (answer, records[0].clone())
}

fn assert_record_shape(rec: &Value) {
    let m = &rec["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(m["Namespace"], "LibreChat/Probe", "{rec}");
    assert_eq!(m["Dimensions"], json!([["Environment"]]), "{rec}");
    assert_eq!(rec["Environment"], "sandbox", "{rec}");
    for k in [
        "Healthy",
        "SseVerdict",
        "SseFirstEventMs",
        "SseWorstGapRatio",
        "HealthLatencyMs",
        "Findings",
    ] {
        assert!(rec[k].is_number(), "{k} missing in {rec}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_sandbox_gives_streaming_verdict_in_the_log_group() {
    let (answer, rec) = one_run(None).await;
    assert_record_shape(&rec);
    assert_eq!(rec["SseVerdict"], 0.0, "{rec}\n{answer}");
    assert_eq!(rec["Healthy"], 1.0, "{rec}\n{answer}");
    assert_eq!(rec["Findings"], 0.0, "{rec}");
    assert_eq!(answer["status"], "healthy", "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffering_fault_flips_sse_verdict_to_1() {
    let (answer, rec) = one_run(Some(Fault::Buffering)).await;
    assert_record_shape(&rec);
    assert_eq!(rec["SseVerdict"], 1.0, "{rec}\n{answer}");
    assert_eq!(rec["Healthy"], 0.0, "{rec}");
    assert!(rec["SseWorstGapRatio"].as_f64().unwrap() < 0.25, "{rec}");
}

/// Peak resident memory (VmHWM) of a process, in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Benchmark, not a test (ignored; figures go to infrastructure/terraform/modules/canary/README.md):
/// the canary under cargo-lambda against a healthy sandbox, invoked with the scheduler's event:
/// cold (spawn to the first invocation answered, which includes a whole first run), warm runs
/// (invocation round trip), and peak memory (VmHWM). `CANARY_BIN` runs another build (e.g. the
/// release one); `CANARY_BENCH_RUNS` warm runs (default 10).
///
/// ```sh
/// cargo build --release -p canary
/// CANARY_BIN=target/release/canary cargo test -p canary --test it -- --ignored --nocapture bench_
/// ```
#[ignore = "benchmark: run with --ignored --nocapture"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn bench_canary_cold_start_run_time_memory() {
    let _serial = crate::one_sandbox_at_a_time();
    let runs: usize = std::env::var("CANARY_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let sandbox = opsconsole_sandbox::start(None).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cl, port) = cargo_lambda(dir.path()).await;
    let bin = std::env::var("CANARY_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_canary").into());
    let http = reqwest::Client::new();
    let invoke = || async {
        let r = http
            .post(opsconsole_testsupport::lambda::invoke_url(port, FUNCTION))
            .json(&scheduler_event())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        r.json::<Value>().await.unwrap()
    };
    let t0 = std::time::Instant::now();
    let fun = canary_bin(&bin, &sandbox, port, &dir.path().join("canary.log"));
    let first = invoke().await;
    let cold = t0.elapsed().as_secs_f64() * 1000.0;
    let mut warm = Vec::new();
    for _ in 0..runs {
        let t = std::time::Instant::now();
        let _ = invoke().await;
        warm.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let hwm = vm_hwm_kib(fun.pid());
    warm.sort_by(f64::total_cmp);
    let median = warm.get(warm.len() / 2).copied().unwrap_or(0.0);
    println!("canary binary: {bin}");
    println!(
        "first run: status {} metrics {}",
        first["status"], first["metrics"]
    );
    println!("cold (spawn -> first invocation answered): {cold:.0} ms");
    println!(
        "warm run (invocation round trip), {runs} runs: median {median:.0} ms, min {:.0}, max {:.0}",
        warm.first().copied().unwrap_or(0.0),
        warm.last().copied().unwrap_or(0.0)
    );
    println!(
        "cold start (cold minus the warm median): {:.0} ms",
        cold - median
    );
    println!(
        "peak memory (VmHWM): {}",
        hwm.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
    );
    drop(fun);
    drop(cl);
}
