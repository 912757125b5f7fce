//! Test harness for the shim's integration tests: real peers on loopback.
//!
//! - [`Proc`]: a child process in its own process group, killed (the whole group) on drop.
//! - [`free_port`], [`wait_port`]: loopback ports, bounded waits.
//! - [`moto`], [`standin`], [`httpbin`], [`cargo_lambda`], [`bootstrap`]: start the peers.
//! - [`invoke`]: POST an event to cargo-lambda's invoke API and read the streamed response with
//!   the arrival time of every chunk.
#![allow(dead_code)]

pub mod bench;
pub mod image;
pub mod librechat;
pub mod webchat;

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use opsconsole_testsupport::repo_root;

/// The Lambda image's Dockerfile.
pub fn dockerfile() -> PathBuf {
    repo_root().join("infrastructure/terraform/modules/backend/docker/Dockerfile")
}

/// The LibreChat version the image is built on: the default of the Dockerfile's
/// `ARG LIBRECHAT_VERSION`, the one place it is set.
pub fn dockerfile_librechat_version() -> String {
    let text = std::fs::read_to_string(dockerfile()).expect("read the Dockerfile");
    text.lines()
        .find_map(|l| l.trim().strip_prefix("ARG LIBRECHAT_VERSION="))
        .map(|v| v.trim().to_string())
        .expect("the Dockerfile has no ARG LIBRECHAT_VERSION=<version>")
}

/// The `ENV` settings of the image's Dockerfile, as (name, value) pairs.
pub fn dockerfile_env() -> Vec<(String, String)> {
    opsconsole_testsupport::librechat::parse_dockerfile_env(
        &std::fs::read_to_string(dockerfile()).expect("read the Dockerfile"),
    )
}

/// A tool in `.tools/venv/bin`; runs `scripts/bootstrap.sh` once if it is missing.
pub fn tool(name: &str) -> PathBuf {
    let p = repo_root().join(".tools/venv/bin").join(name);
    if !p.exists() {
        let status = Command::new("bash")
            .arg(repo_root().join("scripts/bootstrap.sh"))
            .current_dir(repo_root())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "scripts/bootstrap.sh failed"
        );
    }
    assert!(p.exists(), "{} missing after bootstrap", p.display());
    p
}

/// A free port on 127.0.0.1 (`opsconsole_testsupport::free_port`).
pub fn free_port() -> u16 {
    opsconsole_testsupport::free_port().expect("bind an ephemeral port on 127.0.0.1")
}

/// Wait (bounded) until `127.0.0.1:port` accepts a connection.
pub fn wait_port(port: u16, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A spawned process in its own process group; the group is killed on drop.
pub struct Proc {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(name: &str, mut cmd: Command, log_dir: &Path) -> Proc {
        let log = log_dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("create log file");
        let err = out.try_clone().expect("clone log file");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {name}: {e}"));
        Proc {
            name: name.to_string(),
            child,
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's output so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait (bounded) for the process to exit; its exit code if it did.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let pgid = self.child.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Moto {
    pub proc: Proc,
    pub port: u16,
}

impl Moto {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Run an awscli command against this moto (e.g. `["s3", "mb", "s3://b"]`).
    pub fn aws(&self, args: &[&str]) -> String {
        let out = Command::new(tool("aws"))
            .args(args)
            .args(["--endpoint-url", &self.endpoint(), "--region", "eu-west-1"])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "eu-west-1")
            .output()
            .expect("run aws cli");
        assert!(
            out.status.success(),
            "aws {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// moto with the project's extensions (tools/motoext), among them `auth.session_token`: a
/// temporary key without its session token is refused, as on AWS.
pub fn moto(log_dir: &Path) -> Moto {
    let port = free_port();
    let mut cmd = Command::new(tool("python"));
    cmd.args([
        "-m",
        "motoext.server",
        "--no-managed-policies",
        "-p",
        &port.to_string(),
    ])
    .env("PYTHONPATH", repo_root().join("tools/motoext"));
    let proc = Proc::spawn("moto", cmd, log_dir);
    assert!(
        wait_port(port, Duration::from_secs(30)),
        "moto did not start"
    );
    Moto { proc, port }
}

/// The Node LibreChat stand-in as a standalone server.
pub fn standin(port: u16, env: &[(&str, &str)], log_dir: &Path) -> Proc {
    standin_via(&[], port, env, log_dir)
}

/// The stand-in started through `wrapper` (e.g. `["taskset", "-c", "1"]`; empty = directly).
pub fn standin_via(wrapper: &[&str], port: u16, env: &[(&str, &str)], log_dir: &Path) -> Proc {
    let mut cmd = wrapped(wrapper, "node");
    cmd.arg(standin_script())
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Proc::spawn(&format!("standin-{port}"), cmd, log_dir)
}

pub fn standin_script() -> PathBuf {
    repo_root().join("tools/librechat-standin/server.mjs")
}

/// httpbin (werkzeug) on 127.0.0.1.
pub fn httpbin_cmd(port_expr: &str) -> String {
    format!(
        "{} -m httpbin.core --host 127.0.0.1 --port {port_expr}",
        tool("python").display()
    )
}

/// cargo-lambda's Runtime API emulator (`watch --only-lambda-apis`).
pub fn cargo_lambda(log_dir: &Path) -> (Proc, u16) {
    let port = free_port();
    let mut cmd = opsconsole_testsupport::lambda::watch_command(&tool("cargo-lambda"), port, None);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    let proc = Proc::spawn(&format!("cargo-lambda-{port}"), cmd, log_dir);
    assert!(
        wait_port(port, Duration::from_secs(60)),
        "cargo-lambda did not start: {}",
        proc.output()
    );
    (proc, port)
}

/// The real `bootstrap` binary attached to the Runtime API on `rt_port`.
pub fn bootstrap(rt_port: u16, env: &[(String, String)], log_dir: &Path, name: &str) -> Proc {
    bootstrap_via(&[], rt_port, env, log_dir, name)
}

/// `shim-init` (its own package, shim/init: cargo gives tests no path to another package's
/// binary): the one the workspace's build made (`cargo build --workspace`, as scripts/test-all.sh
/// runs it) while it is not older than its sources (shim/init, the shim's library, crates/proc and
/// crates/wire), else built once per test binary with `cargo build -p shim-init`, in the dev
/// profile whatever the caller's (the init step's speed is not what a bench measures). Not that
/// build every time: it resolves the package alone, with other features than the workspace's, so
/// after a workspace build it compiled shim-init's AWS SDK crates a second time while the tests
/// ran (seen in CI: aws-sdk-ssm again, both cores for a minute beside timing-sensitive tests).
pub fn init_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        use opsconsole_testsupport::bins::{newest_source_mtime, newest_source_mtime_of};
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target"));
        let bin = target.join("debug/shim-init");
        let built = newest_source_mtime_of(&bin);
        let fresh = built.is_some()
            && ["shim/init", "shim", "crates/proc", "crates/wire"]
                .iter()
                .all(|d| newest_source_mtime(&repo_root().join(d)) <= built);
        if fresh {
            return bin;
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let st = Command::new(cargo)
            .args(["build", "--quiet", "-p", "shim-init"])
            .current_dir(repo_root())
            .status()
            .expect("running cargo build -p shim-init");
        assert!(st.success(), "cargo build -p shim-init failed ({st})");
        assert!(bin.is_file(), "{} missing after its build", bin.display());
        bin
    })
    .clone()
}

/// A clean environment with what Lambda gives every function (the Runtime API of cargo-lambda on
/// `rt_port`, name, version, memory, region) and `PATH`.
pub fn lambda_env(cmd: &mut Command, rt_port: u16) -> &mut Command {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{rt_port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_REGION", "eu-west-1")
}

/// `program` run through `wrapper` (its first element the command, the rest its arguments, then
/// `program`); an empty wrapper runs `program` itself.
pub fn wrapped(wrapper: &[&str], program: impl AsRef<std::ffi::OsStr>) -> Command {
    match wrapper.split_first() {
        None => Command::new(program),
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(program);
            c
        }
    }
}

/// [`bootstrap`] started through `wrapper` (e.g. `setpriv --reuid=65534 ...`), if not empty.
pub fn bootstrap_via(
    wrapper: &[&str],
    rt_port: u16,
    env: &[(String, String)],
    log_dir: &Path,
    name: &str,
) -> Proc {
    let mut cmd = wrapped(wrapper, env!("CARGO_BIN_EXE_bootstrap"));
    lambda_env(&mut cmd, rt_port)
        .env("SHIM_INIT_BIN", init_bin())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_LOG", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Proc::spawn(name, cmd, log_dir)
}

/// One chunk of a streamed response and when it arrived.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub at: Instant,
    pub data: Vec<u8>,
}

/// A streamed invocation result.
#[derive(Debug)]
pub struct Invoked {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub chunks: Vec<Chunk>,
    pub sent: Instant,
    /// `Some(reason)` when reading the body failed.
    pub body_error: Option<String>,
}

impl Invoked {
    pub fn body(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|c| c.data.clone()).collect()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body()).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body())
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .expect("reqwest client")
}

/// Invoke through cargo-lambda and read the streamed response chunk by chunk.
pub async fn invoke(
    client: &reqwest::Client,
    invoke_port: u16,
    event: &serde_json::Value,
) -> Invoked {
    invoke_routed(client, invoke_port, event, None).await
}

/// [`invoke`] with the local Lambda's route header (`new`, or an environment's number).
pub async fn invoke_routed(
    client: &reqwest::Client,
    invoke_port: u16,
    event: &serde_json::Value,
    route: Option<&str>,
) -> Invoked {
    use futures::StreamExt;
    let url = format!("http://127.0.0.1:{invoke_port}/2015-03-31/functions/_/invocations");
    let sent = Instant::now();
    let mut rb = client.post(url).json(event);
    if let Some(r) = route {
        rb = rb.header(opsconsole_locallambda::ROUTE_HEADER, r);
    }
    // A failed request (e.g. the client's timeout) is status 0 with the reason as its body, so
    // the caller's assertion prints it with the function's logs.
    let resp = match rb.send().await {
        Ok(r) => r,
        Err(e) => {
            let reason = format!("invoke request failed after {:?}: {e:?}", sent.elapsed());
            return Invoked {
                status: 0,
                headers: reqwest::header::HeaderMap::new(),
                chunks: vec![Chunk {
                    at: Instant::now(),
                    data: reason.clone().into_bytes(),
                }],
                sent,
                body_error: Some(reason),
            };
        }
    };
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut chunks = Vec::new();
    let mut body_error = None;
    let mut stream = resp.bytes_stream();
    while let Some(item) = stream.next().await {
        match item {
            Ok(b) => chunks.push(Chunk {
                at: Instant::now(),
                data: b.to_vec(),
            }),
            Err(e) => {
                body_error = Some(e.to_string());
                break;
            }
        }
    }
    Invoked {
        status,
        headers,
        chunks,
        sent,
        body_error,
    }
}

/// A REST API (v1) proxy event.
pub fn v1_event(method: &str, path: &str) -> serde_json::Value {
    serde_json::json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Host": "lambda-test.example", "Accept": "*/*"},
        "multiValueHeaders": {"Host": ["lambda-test.example"], "Accept": ["*/*"]},
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "requestContext": {"stage": "prod", "path": format!("/prod{path}"),
                           "identity": {"sourceIp": "203.0.113.7"}, "requestId": "test"},
        "body": null,
        "isBase64Encoded": false
    })
}

/// Set a field of an event.
pub fn with(mut ev: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
    if let Some(o) = ev.as_object_mut() {
        o.insert(key.to_string(), value);
    }
    ev
}

/// Parse SSE `data:` lines of `event` events as JSON (`opsconsole_wire::sse::Frames`), with the
/// arrival time of the chunk that completed each event.
pub fn sse_events(chunks: &[Chunk], event: &str) -> Vec<(Instant, serde_json::Value)> {
    let mut frames = opsconsole_wire::sse::Frames::new();
    let mut out = Vec::new();
    for c in chunks {
        for f in frames.push(&String::from_utf8_lossy(&c.data)) {
            if f.event == event
                && let Ok(v) = serde_json::from_str(&f.data)
            {
                out.push((c.at, v));
            }
        }
    }
    out
}
