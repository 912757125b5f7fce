//! See main.rs. One sandbox per test; the canary, cargo-lambda and the sandbox are stopped
//! (process groups) when the test ends.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use opsconsole_proc::child::Proc;
use opsconsole_sandbox::{Fault, Sandbox};
use serde_json::{Value, json};

const FUNCTION: &str = "canary";
const LOG_GROUP: &str = "/aws/lambda/librechat-sandbox-canary";
const TOKEN_PARAMETER: &str = "/librechat-sandbox/shim-diagnostics-token";

/// What EventBridge Scheduler sends: the target's `Input` from `modules/canary`, its
/// `<aws.scheduler.*>` placeholders filled in.
fn scheduler_event() -> Value {
    json!({
        "source": "aws.scheduler",
        "schedule_arn": "arn:aws:scheduler:eu-west-1:123456789012:schedule/default/librechat-sandbox-canary",
        "scheduled_time": "2026-11-30T03:10:00Z",
        "execution_id": "c0ffee00-0000-4000-8000-000000000001",
        "attempt_number": "1"
    })
}

async fn wait_for_port(port: u16) {
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nothing listens on 127.0.0.1:{port} after 30 s");
}

/// cargo-lambda's Runtime API serving a function named `canary` (it serves the binaries of the
/// package in its directory: a two-line manifest, nothing is built).
async fn cargo_lambda(dir: &Path) -> (Proc, u16) {
    let root = opsconsole_testsupport::repo_root();
    let cl = root.join(".tools/venv/bin/cargo-lambda");
    assert!(
        cl.exists(),
        "{} missing: run scripts/bootstrap.sh venv",
        cl.display()
    );
    let cl_dir = dir.join("cargo-lambda");
    std::fs::create_dir_all(&cl_dir).unwrap();
    std::fs::write(
        cl_dir.join("Cargo.toml"),
        format!("[package]\nname = \"{FUNCTION}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[[bin]]\nname = \"{FUNCTION}\"\npath = \"main.rs\"\n\n[workspace]\n"),
    )
    .unwrap();
    std::fs::write(cl_dir.join("main.rs"), "fn main() {}\n").unwrap();
    let port = opsconsole_testsupport::free_port().unwrap();
    let mut cmd = Command::new(cl);
    cmd.args([
        "lambda",
        "watch",
        "--only-lambda-apis",
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        &port.to_string(),
        "--ignore-changes",
        "--timeout",
        "60",
    ])
    .current_dir(&cl_dir);
    let p = Proc::spawn("cargo-lambda", cmd, &dir.join("cargo-lambda.log")).unwrap();
    wait_for_port(port).await;
    (p, port)
}

/// The canary binary polling the Runtime API with the environment `modules/canary` gives it.
fn canary(sandbox: &Sandbox, port: u16, log: &Path) -> Proc {
    let outputs = std::fs::read_to_string(&sandbox.info.outputs).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_canary"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // cargo-lambda serves each function's Runtime API under `/.rt/NAME` (as the sandbox uses it).
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt/{FUNCTION}"),
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
        .env(canary::ENV_TOKEN_SSM, TOKEN_PARAMETER);
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
        http.post(format!(
            "http://127.0.0.1:{port}/2015-03-31/functions/{FUNCTION}/invocations"
        ))
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
