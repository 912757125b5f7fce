//! Benchmark: the canary binary under cargo-lambda's Runtime API against a healthy sandbox.
//! Measures the cold start (process spawn to the first invocation answered, which includes the
//! first run), the warm run time (invocation round trip), and the peak memory (VmHWM of the
//! canary process). Not a test: figures go to modules/canary/README.md.
//!
//! ```sh
//! cargo build -p canary --bin canary --example canary_bench
//! target/debug/examples/canary_bench 5       # 5 warm runs after the cold one
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use opsconsole_proc::child::Proc;

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let sandbox = opsconsole_sandbox::start(None).await.expect("sandbox");
    let dir = tempfile::tempdir().unwrap();
    let root = opsconsole_testsupport::repo_root();
    let cl_dir = dir.path().join("cl");
    std::fs::create_dir_all(&cl_dir).unwrap();
    std::fs::write(cl_dir.join("Cargo.toml"), "[package]\nname = \"canary\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[[bin]]\nname = \"canary\"\npath = \"main.rs\"\n\n[workspace]\n").unwrap();
    std::fs::write(cl_dir.join("main.rs"), "fn main() {}\n").unwrap();
    let port = opsconsole_testsupport::free_port().unwrap();
    let mut cmd = Command::new(root.join(".tools/venv/bin/cargo-lambda"));
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
    let _cl = Proc::spawn("cargo-lambda", cmd, &dir.path().join("cl.log")).unwrap();
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let bin = root.join("target/debug/canary");
    let bin = std::env::var_os("CANARY_BIN")
        .map(Into::into)
        .unwrap_or(bin);
    let outputs = std::fs::read_to_string(&sandbox.info.outputs).unwrap();
    let mut c = Command::new(&bin);
    c.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "canary")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/canary")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", &sandbox.info.moto_url)
        .env(canary::ENV_NAME, "sandbox")
        .env(canary::ENV_OUTPUTS, outputs)
        .env(
            canary::ENV_TOKEN_SSM,
            "/librechat-sandbox/shim-diagnostics-token",
        );
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/2015-03-31/functions/canary/invocations");
    let event =
        serde_json::json!({"source": "aws.scheduler", "scheduled_time": "2026-11-30T03:10:00Z"});
    let t0 = Instant::now();
    let fun = Proc::spawn("canary", c, &dir.path().join("canary.log")).unwrap();
    let r = http.post(&url).json(&event).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let first: serde_json::Value = r.json().await.unwrap();
    let cold = t0.elapsed().as_secs_f64() * 1000.0;
    let mut warm = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let r = http.post(&url).json(&event).send().await.unwrap();
        assert!(r.status().is_success());
        let _ = r.bytes().await;
        warm.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let hwm = vm_hwm_kib(fun.pid());
    println!("canary binary: {}", bin.display());
    println!(
        "first run status: {} (metrics {})",
        first["status"], first["metrics"]
    );
    println!("cold (spawn -> first invocation answered): {cold:.0} ms");
    println!(
        "warm run (invocation round trip), median of {runs}: {:.0} ms (min {:.0}, max {:.0})",
        median(warm.clone()),
        warm.iter().copied().fold(f64::INFINITY, f64::min),
        warm.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "cold start (cold minus the warm median): {:.0} ms",
        cold - median(warm.clone())
    );
    println!(
        "peak memory (VmHWM): {} KiB",
        hwm.map_or("?".into(), |k| k.to_string())
    );
    drop(fun);
}
