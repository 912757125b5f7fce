//! `opsconsole-sandbox` (`cargo run -p opsconsole-sandbox`): the whole deployment on one machine,
//! with the console's TUI on it. Entry point: [`run`]. A crate of its own: it depends on the
//! console and on the test support, never the other way, so the operator's `opsconsole` carries
//! none of it.
//!
//! What runs (all on 127.0.0.1, free ports; every child in its own process group, stopped when
//! [`Sandbox`] is dropped - normal exit, Ctrl-C, panic):
//! - moto's server (AWS APIs, `opsconsole_testsupport::moto`), seeded through the SDK ([`seed`])
//!   with what the Terraform creates;
//! - `redis-server` (the shim's `REDIS_URI`);
//! - the local Lambda (`opsconsole-locallambda`) running the real shim `bootstrap` in each
//!   execution environment, which spawns the LibreChat stand-in (`node
//!   tools/librechat-standin/server.mjs`); environments start on demand, are frozen while idle
//!   and replaced when they exit, as on Lambda ([`function`]);
//! - the CloudFront/API Gateway stand-in ([`gateway`]), whose URL is the outputs' `site_url`.
//!
//! See docs/sandbox.md.

mod alarms;
mod distribution;
pub mod frontend;
mod function;
mod gateway;
pub mod librechat;
mod logs;
mod outputs;
pub mod reaper;
mod seed;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use opsconsole::cli::GlobalOpts;
use opsconsole_proc::child::Proc;
use opsconsole_testsupport::bins::{newest_source_mtime, newest_source_mtime_of};
use opsconsole_testsupport::moto::MotoServer;

/// `opsconsole-sandbox [--fault NAME] [--no-tui]`, with the console's global options.
#[derive(Debug, Parser)]
#[command(
    name = "opsconsole-sandbox",
    version,
    about = "Start a local stand-in of the whole deployment and open the console on it"
)]
pub struct SandboxArgs {
    #[command(flatten)]
    pub global: GlobalOpts,

    /// Start the sandbox broken in one way (see `--fault help`).
    #[arg(long, value_name = "NAME")]
    pub fault: Option<String>,

    /// Keep the sandbox up without opening the TUI (prints its outputs file and endpoints).
    #[arg(long)]
    pub no_tui: bool,

    /// Run this LibreChat tree (its api/server/index.js, with node_modules) as the shim's child
    /// instead of the stand-in, with a MongoDB, the fake model, and a seeded user, agent and
    /// API key; the SSE probe then streams a real chat (docs/sandbox.md).
    #[arg(long, value_name = "DIR")]
    pub librechat: Option<PathBuf>,

    /// With --librechat: the nx-27017 to start (default: LIBRECHAT_NX, else
    /// <DIR>/../nx-venv/bin/nx-27017).
    #[arg(
        long,
        value_name = "PATH",
        requires = "librechat",
        conflicts_with = "mongo_uri"
    )]
    pub nx: Option<PathBuf>,

    /// With --librechat: a running MongoDB instead of nx-27017.
    #[arg(long, value_name = "URI", requires = "librechat")]
    pub mongo_uri: Option<String>,

    /// Execution environments the local Lambda may run at once (the function's concurrency;
    /// a web chat needs two: one generating, one streaming). Default 4; 6 with `--librechat`
    /// and its web client installed (a browser sends up to six API calls at once, and a
    /// throttled one is answered 500).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub lambda_envs: Option<u16>,

    /// Give each environment the CPU share and memory limit of the function's memory
    /// (1,769 MB = one vCPU), where cgroups are writable.
    #[arg(long)]
    pub lambda_limits: bool,
}

/// A browser's connections to one host (HTTP/1.1): the API calls it may send at once.
pub const BROWSER_CONNECTIONS: u16 = 6;
/// The environment name the sandbox deploys as.
pub(crate) const ENV: &str = "sandbox";
/// The deployment's home region in the sandbox (CloudFront's alarm is in us-east-1).
pub const REGION: &str = "eu-west-1";
/// Environment variable naming a file: with `--no-tui`, once the sandbox is up and that file
/// appears, the sandbox panics. Used by the test that proves a panic leaves no process behind.
pub const PANIC_HOOK_ENV: &str = "OPSCONSOLE_SANDBOX_TEST_PANIC";

/// The faults `--fault NAME` can start the sandbox with (docs/contracts.md section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Buffering,
    LibrechatDown,
    Alarm,
    ColdStartStorm,
    RedisDown,
    DeployInProgress,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::Buffering,
        Fault::LibrechatDown,
        Fault::Alarm,
        Fault::ColdStartStorm,
        Fault::RedisDown,
        Fault::DeployInProgress,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Buffering => "buffering",
            Fault::LibrechatDown => "librechat-down",
            Fault::Alarm => "alarm",
            Fault::ColdStartStorm => "cold-start-storm",
            Fault::RedisDown => "redis-down",
            Fault::DeployInProgress => "deploy-in-progress",
        }
    }

    /// The `probe --json` finding code this fault must produce.
    pub fn finding_code(self) -> &'static str {
        match self {
            Fault::Buffering => "sse_buffered",
            Fault::LibrechatDown => "health_failed",
            Fault::Alarm => "alarm_firing",
            Fault::ColdStartStorm => "cold_start_p95_high",
            Fault::RedisDown => "redis_unreachable",
            Fault::DeployInProgress => "deploy_in_progress",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Fault::Buffering => {
                "the CloudFront/API Gateway stand-in collects each whole response before answering"
            }
            Fault::LibrechatDown => {
                "the LibreChat stand-in answers /health and /readyz with 503, so the shim never gets ready"
            }
            Fault::Alarm => "the alarm `lambda-errors` is in ALARM",
            Fault::ColdStartStorm => {
                "the function's log holds mostly cold starts with Init Duration 7-14 s"
            }
            Fault::RedisDown => "the shim's REDIS_URI points at a port where nothing listens",
            Fault::DeployInProgress => {
                "the CloudFront distribution stays InProgress (moto's state manager)"
            }
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == s)
    }
}

fn fault_help() -> String {
    let mut s = String::from("faults (opsconsole-sandbox --fault NAME):\n");
    for f in Fault::ALL {
        s.push_str(&format!(
            "  {:<20} {} -> finding `{}`\n",
            f.name(),
            f.describe(),
            f.finding_code()
        ));
    }
    s
}

/// Where things are, once the sandbox is up.
#[derive(Debug, Clone)]
pub struct SandboxInfo {
    pub dir: PathBuf,
    pub outputs: PathBuf,
    pub site_url: String,
    pub moto_url: String,
    pub invoke_url: String,
    pub redis_uri: String,
    pub diagnostics_token: String,
    pub fault: Option<Fault>,
    /// `--librechat`: the real LibreChat and what it runs with.
    pub librechat: Option<LibreChatInfo>,
    /// The web client uploaded to the frontend bucket (`--librechat` with the client
    /// installed), which the CloudFront stand-in serves at `site_url`.
    pub web_client: Option<PathBuf>,
    /// The frontend bucket (in moto) the stand-in serves.
    pub frontend_bucket: String,
}

/// Where the parts of `--librechat` run.
#[derive(Debug, Clone)]
pub struct LibreChatInfo {
    pub dir: PathBuf,
    /// `nx-27017 pid P on 127.0.0.1:PORT (data D, log L)` or the `--mongo-uri`.
    pub mongo: String,
    pub mongo_uri: String,
    pub fake_model: String,
    pub agent_id: String,
    /// The SSM parameter (in moto) holding the seeded API key.
    pub key_parameter: String,
    /// The SSM parameter (in moto) holding the seeded user's password (the web mode's).
    pub password_parameter: String,
    /// The console config the probe command uses (the web mode on the seeded agent as the
    /// seeded user; the chat mode's lines beside it).
    pub console_config: PathBuf,
}

impl SandboxInfo {
    /// The environment the console (TUI or probe) needs to reach the sandbox: moto's dummy
    /// credentials and the shim's diagnostics token.
    pub fn console_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            (
                "OPSCONSOLE_DIAGNOSTICS_TOKEN",
                self.diagnostics_token.clone(),
            ),
        ]
    }

    pub(crate) fn probe_command(&self) -> String {
        let env: Vec<String> = self
            .console_env()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let config = match &self.librechat {
            Some(l) => format!(" --config {}", l.console_config.display()),
            None => String::new(),
        };
        format!(
            "{} opsconsole probe {ENV} --json --outputs {} --endpoint-url {}{config}",
            env.join(" "),
            self.outputs.display(),
            self.moto_url
        )
    }

    /// What runs where (ports, pids, logs, URLs), for the operator.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let mut line = |k: &str, v: String| s.push_str(&format!("  {k:<11}{v}\n"));
        line("outputs:", self.outputs.display().to_string());
        line(
            "site_url:",
            format!("{} (CloudFront/API Gateway stand-in)", self.site_url),
        );
        line(
            "browser:",
            match &self.web_client {
                Some(d) => format!(
                    "open {}/ (LibreChat's web client from {}, uploaded to the frontend bucket as upload.sh does)",
                    self.site_url,
                    d.display()
                ),
                None => "the frontend bucket holds a placeholder index.html (the web client: ../shared/librechat/install-client.sh, then --librechat)".into(),
            },
        );
        line("moto:", format!("{} (AWS APIs)", self.moto_url));
        line(
            "lambda:",
            format!(
                "{} (local Lambda: an environment per concurrent request, frozen while idle)",
                self.invoke_url
            ),
        );
        line("redis:", self.redis_uri.clone());
        line(
            "logs:",
            format!(
                "{} (lambda/env-N/output.log: each environment's shim and LibreChat)",
                self.dir.display()
            ),
        );
        match &self.librechat {
            None => line(
                "librechat:",
                "the stand-in (node tools/librechat-standin/server.mjs), the shim's child".into(),
            ),
            Some(l) => {
                line(
                    "librechat:",
                    format!(
                        "{} (node api/server/index.js), the shim's child",
                        l.dir.display()
                    ),
                );
                line("mongo:", l.mongo.clone());
                line("model:", l.fake_model.clone());
                line(
                    "user:",
                    format!(
                        "{} / {} (seeded through LibreChat's API)",
                        librechat::USER_EMAIL,
                        librechat::USER_PASSWORD
                    ),
                );
                line("agent:", l.agent_id.clone());
                line(
                    "api key:",
                    format!("SSM parameter {} in moto (not printed)", l.key_parameter),
                );
                line(
                    "password:",
                    format!(
                        "SSM parameter {} in moto (the web probe's)",
                        l.password_parameter
                    ),
                );
                line(
                    "probe:",
                    format!(
                        "web mode (the web UI's chat: login, POST, GET the stream), config {}",
                        l.console_config.display()
                    ),
                );
            }
        }
        s
    }
}

/// The last `n` lines of a log file (for saying why a process exited).
fn last_lines(path: &std::path::Path, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

/// A running sandbox. Dropping it stops everything (the shim first, moto last) and removes its
/// directory.
pub struct Sandbox {
    pub info: SandboxInfo,
    // Field order = drop order.
    /// The function's environments (the shim and LibreChat in each), stopped first.
    lambda: Option<opsconsole_locallambda::LocalLambda>,
    /// `--librechat`: nx-27017 and the fake model (stopped after the shim and LibreChat).
    /// The sandbox's children (nx-27017, the fake model, redis-server), watched by `reaper`.
    children: reaper::Children,
    _gateway: gateway::Gateway,
    _moto: MotoServer,
    log_forwarder: tokio::task::JoinHandle<()>,
    /// Reaps and reports the children that die (`reaper::watch`).
    reaper: tokio::task::JoinHandle<()>,
    deaths: Option<tokio::sync::mpsc::UnboundedReceiver<reaper::Death>>,
    keep_dir: bool,
}

impl Sandbox {
    /// The sandbox's own children: (name, pid).
    pub fn children(&self) -> Vec<(String, u32)> {
        self.children
            .lock()
            .map(|c| {
                c.iter()
                    .map(|w| (w.proc.name.clone(), w.proc.pid()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The children's deaths as they are reaped (once: the first caller gets the receiver).
    pub fn take_deaths(&mut self) -> Option<tokio::sync::mpsc::UnboundedReceiver<reaper::Death>> {
        self.deaths.take()
    }

    /// The local Lambda's execution environments now (phase, frozen, processes).
    pub fn lambda_environments(&self) -> Vec<opsconsole_locallambda::EnvSnapshot> {
        self.lambda
            .as_ref()
            .map(|l| l.environments())
            .unwrap_or_default()
    }
}

impl Sandbox {
    /// Brings the function up to `total` execution environments (as provisioned concurrency
    /// would), returning once the new ones are ready (or `within` passed): how many are ready.
    pub async fn prewarm(&self, total: usize, within: Duration) -> usize {
        let Some(l) = self.lambda.as_ref() else {
            return 0;
        };
        let have = l.environments().len();
        have + l.prewarm(total.saturating_sub(have), within).await
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        drop(self.lambda.take());
        self.log_forwarder.abort();
        self.reaper.abort();
        if !self.keep_dir {
            let _ = std::fs::remove_dir_all(&self.info.dir);
        }
    }
}

fn run_bootstrap(root: &Path, what: &str) -> anyhow::Result<()> {
    eprintln!(
        "opsconsole-sandbox: {what} missing; running scripts/bootstrap.sh venv (first run only, a minute or two)"
    );
    let st = Command::new("bash")
        .arg(root.join("scripts/bootstrap.sh"))
        .arg("venv")
        .stdout(std::process::Stdio::null())
        .status()
        .context("running scripts/bootstrap.sh")?;
    if !st.success() {
        bail!("scripts/bootstrap.sh venv failed ({st})");
    }
    Ok(())
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// The tools the sandbox runs, installing what is missing (with a progress message).
struct Tools {
    redis_server: PathBuf,
    node: PathBuf,
    bootstrap: PathBuf,
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn ensure_tools(root: &Path) -> anyhow::Result<Tools> {
    let redis_server = match which("redis-server") {
        Some(p) => p,
        None => {
            run_bootstrap(root, "redis-server")?;
            which("redis-server").context("redis-server is not installed (apt package redis-server; scripts/bootstrap.sh installs it when run as root)")?
        }
    };
    let node = which("node")
        .context("node (Node.js >= 20) is not on PATH; the LibreChat stand-in needs it")?;
    // `bootstrap` runs `shim-init` (config and secrets) from its own directory: both are built,
    // each by its own `cargo build` (one invocation would unify the AWS SDK's features, which
    // only shim-init has, into bootstrap's dependencies).
    let bootstrap = target_dir(root).join("debug/bootstrap");
    let init_bin = target_dir(root).join("debug/shim-init");
    let newest_shim_source = newest_source_mtime(&root.join("shim"));
    for (bin, args) in [
        (
            &bootstrap,
            &["build", "-p", "shim", "--bin", "bootstrap"][..],
        ),
        (&init_bin, &["build", "-p", "shim-init"][..]),
    ] {
        let stale = !bin.is_file() || newest_shim_source > newest_source_mtime_of(bin);
        if !stale {
            continue;
        }
        let cmd = format!("cargo {}", args.join(" "));
        eprintln!(
            "opsconsole-sandbox: building the shim ({cmd}; {}) ...",
            if bin.is_file() {
                "its sources changed"
            } else {
                "first run"
            }
        );
        let st = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(args)
            .current_dir(root)
            .status()
            .with_context(|| format!("running {cmd}"))?;
        if !st.success() || !bin.is_file() {
            bail!(
                "building the shim failed ({st}); {} is missing",
                bin.display()
            );
        }
    }
    Ok(Tools {
        redis_server,
        node,
        bootstrap,
    })
}

fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    format!("sbx-{:016x}", h.finish())
}

/// [`start_in`] the checkout found from the current directory (or `OPSCONSOLE_REPO`).
pub async fn start(fault: Option<Fault>) -> anyhow::Result<Sandbox> {
    start_in(&opsconsole_proc::repo::find(None)?, fault).await
}

/// A free port on 127.0.0.1.
fn free_port() -> anyhow::Result<u16> {
    opsconsole_testsupport::free_port().context("finding a free port on 127.0.0.1")
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`, or `proc` exits, or
/// `timeout` passes.
async fn wait_for_port(proc: &mut Proc, port: u16, timeout: Duration) -> anyhow::Result<()> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let until = std::time::Instant::now() + timeout;
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = proc.exited() {
            bail!(
                "{} exited before listening on port {port}: {status}",
                proc.name
            );
        }
        if std::time::Instant::now() >= until {
            bail!(
                "{} did not listen on port {port} within {timeout:?}",
                proc.name
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts every part of the sandbox from the checkout `root` and seeds it; returns once
/// `/api/health` answers through the whole path (or, for `librechat-down`, once the shim has
/// been started).
pub(crate) async fn start_in(root: &Path, fault: Option<Fault>) -> anyhow::Result<Sandbox> {
    start_with(root, fault, None).await
}

/// What `--librechat` started before the rest.
struct LibreChatPeers {
    mongo_uri: String,
    mongo: String,
    llm_port: u16,
    fake_model: String,
}

/// `--librechat`: the MongoDB (nx-27017, or a check that `--mongo-uri` answers) and the fake
/// model, each a child in `peers`.
async fn start_librechat_peers(
    root: &Path,
    dir: &Path,
    logs: &Path,
    spec: &librechat::LibreChatSpec,
    node: &Path,
    peers: &mut Vec<reaper::Watched>,
) -> anyhow::Result<LibreChatPeers> {
    let (mongo_uri, mongo) = match &spec.mongo {
        librechat::Mongo::Uri(uri) => {
            if let Some((host, port)) = librechat::mongo_host_port(uri) {
                let c = tokio::time::timeout(
                    Duration::from_secs(5),
                    tokio::net::TcpStream::connect((host.as_str(), port)),
                )
                .await;
                let err = match c {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(_) => Some("no answer within 5 s".into()),
                };
                if let Some(e) = err {
                    bail!(
                        "MongoDB at {uri} is not reachable ({host}:{port}: {e})\n  fix: start that MongoDB or fix --mongo-uri, or leave --mongo-uri out to let the sandbox start nx-27017"
                    );
                }
            }
            (uri.clone(), format!("{uri} (--mongo-uri)"))
        }
        librechat::Mongo::Nx(bin) => {
            eprintln!("opsconsole-sandbox: starting nx-27017 (MongoDB wire protocol on SQLite)");
            let port = free_port()?;
            let data = dir.join("nx-data");
            std::fs::create_dir_all(&data)
                .with_context(|| format!("creating {}", data.display()))?;
            let log = logs.join("nx-27017.log");
            let mut cmd = Command::new(bin);
            cmd.args(["--host", "127.0.0.1", "-p", &port.to_string(), "--data-dir"])
                .arg(&data)
                .arg("--log-file")
                .arg(&log)
                // Its default pid file is global: a second instance would refuse to start.
                .arg("--pid-file")
                .arg(dir.join("nx-27017.pid"))
                .current_dir(dir);
            let mut p = Proc::spawn("nx-27017", cmd, &logs.join("nx-27017.out"))?;
            if let Err(e) = wait_for_port(&mut p, port, Duration::from_secs(30)).await {
                let last = last_lines(&logs.join("nx-27017.out"), 5).join("\n    ");
                bail!(
                    "{e:#}\n  its last lines:\n    {last}\n  fix: check {} (a working nx-27017: ../shared/librechat/setup.sh), or pass --mongo-uri",
                    bin.display()
                );
            }
            let desc = format!(
                "nx-27017 pid {} on 127.0.0.1:{port} (data {}, log {})",
                p.pid(),
                data.display(),
                log.display()
            );
            peers.push(reaper::Watched {
                proc: p,
                log: logs.join("nx-27017.out"),
                reported: false,
            });
            (format!("mongodb://127.0.0.1:{port}/LibreChat"), desc)
        }
    };
    eprintln!("opsconsole-sandbox: starting the fake model (tools/librechat-local/fake-llm.mjs)");
    let port_file = dir.join("fake-llm.port");
    let mut cmd = Command::new(node);
    cmd.arg(opsconsole_testsupport::librechat::local_dir(root).join("fake-llm.mjs"))
        .env("FAKE_LLM_PORT", "0")
        .env("FAKE_LLM_PORT_FILE", &port_file)
        .env("FAKE_LLM_API_KEY", FAKE_LLM_KEY)
        .current_dir(dir);
    let log = logs.join("fake-llm.log");
    let mut p = Proc::spawn("fake-llm", cmd, &log)?;
    let until = std::time::Instant::now() + Duration::from_secs(20);
    let llm_port: u16 = loop {
        if let Some(port) = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break port;
        }
        if let Some(st) = p.exited() {
            bail!(
                "the fake model exited at start ({st}); see {}",
                log.display()
            );
        }
        if std::time::Instant::now() >= until {
            bail!(
                "the fake model wrote no port within 20 s; see {}",
                log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let fake_model = format!(
        "http://127.0.0.1:{llm_port}/v1 (fake-llm.mjs pid {}, log {})",
        p.pid(),
        log.display()
    );
    peers.push(reaper::Watched {
        proc: p,
        log: log.clone(),
        reported: false,
    });
    Ok(LibreChatPeers {
        mongo_uri,
        mongo,
        llm_port,
        fake_model,
    })
}

/// The fake model's API key (LibreChat's config passes it; a throw-away value).
pub(crate) const FAKE_LLM_KEY: &str = "sk-fake-llm-not-a-secret";

/// `--librechat`: LibreChat's own config (tools/librechat-local/librechat.yaml) in the config
/// bucket and its secrets (librechat.env's, and the MongoDB URI) in SSM, over what [`seed`] put.
async fn seed_librechat_config(
    sdk: &aws_config::SdkConfig,
    names: &seed::Names,
    root: &Path,
    mongo_uri: &str,
    titles: bool,
) -> anyhow::Result<Vec<(String, String)>> {
    use opsconsole_testsupport::librechat as lc;
    let yaml_path = lc::local_dir(root).join("librechat.yaml");
    let mut yaml = std::fs::read_to_string(&yaml_path)
        .with_context(|| format!("reading {}", yaml_path.display()))?;
    if titles {
        if !yaml.contains("titleConvo: false") {
            bail!(
                "{} has no `titleConvo: false` to turn titles on with",
                yaml_path.display()
            );
        }
        yaml = yaml.replace("titleConvo: false", "titleConvo: true");
    }
    let yaml = yaml.into_bytes();
    aws_sdk_s3::Client::new(sdk)
        .put_object()
        .bucket(&names.config_bucket)
        .key(&names.config_key)
        .body(aws_sdk_s3::primitives::ByteStream::from(yaml))
        .send()
        .await
        .context("S3 PutObject librechat.yaml (LibreChat's config)")?;
    let mut plain =
        lc::librechat_env(root).context("reading tools/librechat-local/librechat.env")?;
    let ssm = aws_sdk_ssm::Client::new(sdk);
    for (name, param) in names.secret_parameters() {
        let value = if name == "MONGO_URI" {
            mongo_uri.to_string()
        } else {
            plain
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
                .with_context(|| format!("{name} is not in tools/librechat-local/librechat.env"))?
        };
        ssm.put_parameter()
            .name(&param)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .with_context(|| format!("SSM PutParameter {param}"))?;
    }
    plain.retain(|(k, _)| !lc::SECRETS.contains(&k.as_str()));
    Ok(plain)
}

/// Starts every part of the sandbox (with `librechat`: the real LibreChat instead of the
/// stand-in) and seeds it; returns once `/api/health` answers through the whole path (and, with
/// `librechat`, the user, agent and API key are made).
pub async fn start_with(
    root: &Path,
    fault: Option<Fault>,
    librechat: Option<&librechat::LibreChatSpec>,
) -> anyhow::Result<Sandbox> {
    start_lambda(root, fault, librechat, LambdaSettings::default()).await
}

/// How the local Lambda runs the function (`--lambda-envs`, `--lambda-limits`).
#[derive(Debug, Clone)]
pub struct LambdaSettings {
    /// Concurrent environments at most (the function's reserved concurrency).
    pub envs: usize,
    /// CPU share and memory limit from the function's memory, where cgroups allow.
    pub limits: bool,
    /// Extra function environment, set last (wins), for tests: e.g. `SHIM_PENDING_WAIT_MS=0`
    /// to bring back the stall of a web chat on a frozen environment.
    pub extra_env: Vec<(String, String)>,
    /// With the real LibreChat: conversation titles on for the fake endpoint (`titleConvo: true`
    /// in the uploaded librechat.yaml), as a person using the web client expects.
    pub titles: bool,
}

impl Default for LambdaSettings {
    fn default() -> Self {
        LambdaSettings {
            envs: 4,
            limits: false,
            extra_env: vec![],
            titles: false,
        }
    }
}

/// [`start_with`] with the local Lambda's settings.
pub async fn start_lambda(
    root: &Path,
    fault: Option<Fault>,
    librechat: Option<&librechat::LibreChatSpec>,
    lambda_settings: LambdaSettings,
) -> anyhow::Result<Sandbox> {
    let root = root.to_path_buf();
    let tools = ensure_tools(&root)?;
    static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = STARTED.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "opsconsole-sandbox-{}{}",
        std::process::id(),
        if n == 0 {
            String::new()
        } else {
            format!("-{n}")
        }
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let keep_dir = std::env::var_os("OPSCONSOLE_SANDBOX_KEEP").is_some();
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let names = seed::Names::new(ENV, REGION);
    let token = random_token();
    let mut peers: Vec<reaper::Watched> = Vec::new();
    let lc_peers = match librechat {
        Some(spec) => {
            Some(start_librechat_peers(&root, &dir, &logs, spec, &tools.node, &mut peers).await?)
        }
        None => None,
    };

    eprintln!("opsconsole-sandbox: starting moto");
    let moto = tokio::task::block_in_place(MotoServer::start)?;
    set_cloudfront_transition(&moto, fault)?;

    // Redis (or, for `redis-down`, a port where nothing listens).
    let redis_port = free_port()?;
    let redis = if fault == Some(Fault::RedisDown) {
        None
    } else {
        let mut cmd = Command::new(&tools.redis_server);
        cmd.args([
            "--bind",
            "127.0.0.1",
            "--port",
            &redis_port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .current_dir(&dir);
        let mut p = Proc::spawn("redis-server", cmd, &logs.join("redis.log"))?;
        wait_for_port(&mut p, redis_port, Duration::from_secs(20)).await?;
        Some(p)
    };
    let redis_uri = format!("redis://127.0.0.1:{redis_port}");

    // The function's log lines (its output and the platform's START/END/REPORT), to the log
    // group in moto.
    let (log_tx, log_rx) = tokio::sync::mpsc::unbounded_channel();
    // The gateway's port first: the function's environment names the site's URL.
    let gw_port = free_port()?;
    let site_url = format!("http://127.0.0.1:{gw_port}");

    eprintln!("opsconsole-sandbox: seeding moto");
    let (sdk, seeded) = seed_moto(&moto, &names, fault, &token).await?;
    let lc_plain_env = match &lc_peers {
        Some(p) => Some(
            seed_librechat_config(&sdk, &names, &root, &p.mongo_uri, lambda_settings.titles)
                .await?,
        ),
        None => None,
    };
    let log_forwarder = tokio::spawn(logs::forward(
        aws_sdk_cloudwatchlogs::Client::new(&sdk),
        names.log_group.clone(),
        log_rx,
    ));

    // The function on the local Lambda (crates/locallambda): environments started on demand,
    // frozen while idle, as Lambda runs them.
    eprintln!("opsconsole-sandbox: starting the local Lambda (the shim in each environment)");
    let lambda = function::start(function::Spec {
        root: &root,
        dir: &dir,
        names: &names,
        site_url: &site_url,
        moto_url: moto.endpoint_url(),
        redis_uri: &redis_uri,
        fault,
        node: &tools.node,
        bootstrap: &tools.bootstrap,
        librechat: match (librechat, &lc_peers, lc_plain_env) {
            (Some(spec), Some(p), Some(plain)) => Some(function::LibreChatRun {
                spec,
                llm_port: p.llm_port,
                plain,
            }),
            _ => None,
        },
        settings: lambda_settings,
        log_tx,
    })
    .await?;
    eprintln!("opsconsole-sandbox: {}", lambda.describe());
    let invoke_url = lambda.invoke_url();

    // The frontend as the Terraform deploys it: the distribution's behaviours from the frontend
    // module, and with `--librechat` and an installed web client, the module's upload.sh into
    // the frontend bucket (otherwise the bucket keeps the seeded placeholder index.html).
    let behaviours = distribution::Behaviours::from_checkout(&root)
        .context("the CloudFront stand-in reads the distribution's behaviours")?;
    let web_client = librechat.and_then(|s| frontend::client_dist(&s.dir));
    if let Some(dist) = &web_client {
        eprintln!(
            "opsconsole-sandbox: uploading the web client {} to s3://{} (upload.sh)",
            dist.display(),
            names.frontend_bucket
        );
        frontend::upload(
            &root,
            dist,
            &names.frontend_bucket,
            moto.endpoint_url(),
            REGION,
            &logs.join("frontend-upload.log"),
        )
        .await?;
    }
    let frontend_origin = gateway::FrontendOrigin::new(
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        ),
        names.frontend_bucket.clone(),
        behaviours,
    );

    // The CloudFront/API Gateway stand-in.
    let gw = gateway::start(
        gateway::GatewayConfig {
            invoke_url: invoke_url.clone(),
            api: gateway::ApiInfo {
                api_id: names.api_id.clone(),
                stage: names.stage.clone(),
                account_id: names.account.clone(),
                domain_name: "127.0.0.1".into(),
            },
            buffering: fault == Some(Fault::Buffering),
            frontend: Some(std::sync::Arc::new(frontend_origin)),
        },
        gw_port,
    )
    .await?;

    let outputs_path = dir.join("outputs.json");
    let doc = outputs::outputs_json(
        &names,
        &outputs::Endpoints {
            site_url: site_url.clone(),
            distribution_id: seeded.distribution_id.clone(),
            distribution_domain: seeded.distribution_domain.clone(),
            redis_host: "127.0.0.1".into(),
            redis_port,
        },
    );
    std::fs::write(&outputs_path, serde_json::to_vec_pretty(&doc)?)
        .with_context(|| format!("writing {}", outputs_path.display()))?;

    let info = SandboxInfo {
        dir: dir.clone(),
        outputs: outputs_path,
        site_url: site_url.clone(),
        moto_url: moto.endpoint_url().to_string(),
        invoke_url,
        redis_uri,
        diagnostics_token: token,
        fault,
        librechat: None,
        web_client,
        frontend_bucket: names.frontend_bucket.clone(),
    };
    // Redis last: stopped after the shim, LibreChat and the other peers.
    peers.extend(redis.map(|proc| reaper::Watched {
        proc,
        log: logs.join("redis.log"),
        reported: false,
    }));
    let children: reaper::Children = std::sync::Arc::new(std::sync::Mutex::new(peers));
    let (death_tx, deaths) = tokio::sync::mpsc::unbounded_channel();
    let reaper = reaper::watch(std::sync::Arc::downgrade(&children), death_tx);
    let mut sandbox = Sandbox {
        info,
        lambda: Some(lambda),
        children,
        _gateway: gw,
        _moto: moto,
        log_forwarder,
        reaper,
        deaths: Some(deaths),
        keep_dir,
    };
    if let (Some(spec), Some(p)) = (librechat, lc_peers) {
        eprintln!(
            "opsconsole-sandbox: waiting for LibreChat ({}) to get ready behind the shim",
            spec.dir.display()
        );
        wait_librechat(&site_url, &dir.join("lambda"), &p.mongo_uri).await?;
        eprintln!(
            "opsconsole-sandbox: seeding a user, an agent and an API key through LibreChat's API"
        );
        let seeded = librechat::seed_user(&site_url).await?;
        let key_parameter = format!("{}/probe-chat-api-key", names.ssm_prefix);
        aws_sdk_ssm::Client::new(&sdk)
            .put_parameter()
            .name(&key_parameter)
            .value(&seeded.api_key)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .with_context(|| format!("SSM PutParameter {key_parameter}"))?;
        // The web mode's probe user: the seeded user, its password from SSM as on AWS.
        let password_parameter = format!("{}/probe-web-password", names.ssm_prefix);
        aws_sdk_ssm::Client::new(&sdk)
            .put_parameter()
            .name(&password_parameter)
            .value(librechat::USER_PASSWORD)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .with_context(|| format!("SSM PutParameter {password_parameter}"))?;
        let console_config = dir.join("console.toml");
        std::fs::write(
            &console_config,
            librechat::console_config(ENV, &seeded.agent_id, &key_parameter, &password_parameter),
        )
        .with_context(|| format!("writing {}", console_config.display()))?;
        sandbox.info.librechat = Some(LibreChatInfo {
            dir: spec.dir.clone(),
            mongo: p.mongo,
            mongo_uri: p.mongo_uri,
            fake_model: p.fake_model,
            agent_id: seeded.agent_id,
            key_parameter,
            password_parameter,
            console_config,
        });
    } else if fault != Some(Fault::LibrechatDown) {
        wait_healthy(&site_url, &logs).await?;
    }
    Ok(sandbox)
}

/// moto's state manager for CloudFront distributions: `Deployed` at once, or held `InProgress`
/// for the `deploy-in-progress` fault.
fn set_cloudfront_transition(moto: &MotoServer, fault: Option<Fault>) -> anyhow::Result<()> {
    let transition = if fault == Some(Fault::DeployInProgress) {
        r#"{"model_name":"cloudfront::distribution","transition":{"progression":"manual","times":1000000}}"#
    } else {
        r#"{"model_name":"cloudfront::distribution","transition":{"progression":"immediate"}}"#
    };
    tokio::task::block_in_place(|| {
        moto.control("/moto-api/state-manager/set-transition", transition)
    })
    .context("moto state manager: set-transition for cloudfront::distribution")?;
    Ok(())
}

/// Seeds `moto` (SDK configuration for the home region, and us-east-1 for CloudFront's alarm).
async fn seed_moto(
    moto: &MotoServer,
    names: &seed::Names,
    fault: Option<Fault>,
    token: &str,
) -> anyhow::Result<(aws_config::SdkConfig, seed::Seeded)> {
    let opts = moto.aws_options(REGION);
    let sdk = opsconsole::aws::load_sdk_config(&opsconsole::aws::AwsOptions {
        max_attempts: Some(2),
        ..opts.clone()
    })
    .await;
    let east = opsconsole::aws::load_sdk_config(&opsconsole::aws::AwsOptions {
        region: Some("us-east-1".into()),
        max_attempts: Some(2),
        ..opts
    })
    .await;
    let seeded = seed::seed(&sdk, &east, names, fault, "127.0.0.1", token).await?;
    Ok((sdk, seeded))
}

/// Seeds `moto` exactly as [`start`] does (no fault), without starting anything else, and
/// returns the outputs document the sandbox would write (its stand-ins' endpoints replaced by
/// unused local ones). For `sandbox/tests/it/deployment_shape.rs`, which compares both with
/// `infrastructure/deployment-shape.json` (what `terraform apply` of environments/dev creates).
/// Needs a multi-threaded tokio runtime.
pub async fn seed_only(moto: &MotoServer) -> anyhow::Result<serde_json::Value> {
    let names = seed::Names::new(ENV, REGION);
    set_cloudfront_transition(moto, None)?;
    let (_, seeded) = seed_moto(moto, &names, None, &random_token()).await?;
    Ok(outputs::outputs_json(
        &names,
        &outputs::Endpoints {
            site_url: "http://127.0.0.1:9".into(),
            distribution_id: seeded.distribution_id,
            distribution_domain: seeded.distribution_domain,
            redis_host: "127.0.0.1".into(),
            redis_port: 9,
        },
    ))
}

/// `--librechat`: waits (bounded, 240 s) until `/api/health` answers 200 through the whole
/// path. When the first execution environment exits (LibreChat exited at boot, or never got
/// ready), says why from the last lines of its log.
async fn wait_librechat(site_url: &str, logs: &Path, mongo_uri: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .context("HTTP client")?;
    let url = format!("{site_url}/api/health");
    let until = std::time::Instant::now() + Duration::from_secs(240);
    // Only health requests, one at a time, run meanwhile: a second execution environment means
    // that the first one exited.
    let first_log = logs.join("env-1/output.log");
    loop {
        if logs.join("env-2").exists() {
            let lines = last_lines(&first_log, 40);
            let (cause, fix) = librechat::diagnose(&lines, mongo_uri);
            let tail: Vec<&String> = lines.iter().rev().take(8).rev().collect();
            bail!(
                "{cause}\n  fix: {fix}\n  the last lines of {}:\n    {}",
                first_log.display(),
                tail.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n    ")
            );
        }
        let last = match client.get(&url).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => e.to_string(),
        };
        if std::time::Instant::now() >= until {
            bail!(
                "{url} did not answer 200 within 240 s (last: {last}); see the logs in {}",
                logs.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits (bounded) until `/api/health` answers 200 through the gateway, the local Lambda and the shim.
async fn wait_healthy(site_url: &str, logs: &Path) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .context("HTTP client")?;
    let url = format!("{site_url}/api/health");
    let mut last = String::new();
    for _ in 0..60 {
        match client.get(&url).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!(
        "{url} did not answer 200 (last: {last}); see the logs in {}",
        logs.display()
    )
}

/// Starts the sandbox, opens the TUI on it (unless `--no-tui`), and stops everything on exit.
pub async fn run(args: &SandboxArgs) -> anyhow::Result<ExitCode> {
    let global = &args.global;
    let fault = match args.fault.as_deref() {
        None => None,
        Some("help") => {
            print!("{}", fault_help());
            return Ok(ExitCode::SUCCESS);
        }
        Some(name) => match Fault::parse(name) {
            Some(f) => Some(f),
            None => bail!("unknown fault `{name}`\n{}", fault_help()),
        },
    };
    let lc_spec = match &args.librechat {
        None => None,
        Some(d) => {
            if fault == Some(Fault::LibrechatDown) {
                bail!(
                    "--fault librechat-down makes the stand-in unhealthy; with --librechat there is no stand-in\n  fix: leave one of the two out"
                );
            }
            let env_nx = std::env::var_os("LIBRECHAT_NX").map(PathBuf::from);
            let mut spec = librechat::check(
                d,
                args.nx.as_deref(),
                env_nx.as_deref(),
                args.mongo_uri.as_deref(),
                which("node").is_some(),
            )?;
            spec.dir = spec.dir.canonicalize().unwrap_or(spec.dir);
            Some(spec)
        }
    };
    if args.no_tui {
        // The sandbox's own events (a shim restarted, an invocation that failed) on stderr;
        // with the TUI they would draw over the screen.
        let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new("error,opsconsole=info,opsconsole_sandbox=info")
        });
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init();
    }
    let mut signals = StopSignals::install()?;
    // A signal during start-up drops the half-started sandbox, which stops what already runs.
    let root = opsconsole_proc::repo::find(global.repo.as_deref())?;
    let mut sandbox = tokio::select! {
        s = start_lambda(&root, fault, lc_spec.as_ref(), LambdaSettings {
            envs: usize::from(args.lambda_envs.unwrap_or(
                if lc_spec.as_ref().is_some_and(|s| frontend::client_dist(&s.dir).is_some()) {
                    BROWSER_CONNECTIONS
                } else {
                    4
                },
            )),
            limits: args.lambda_limits,
            extra_env: vec![],
            // A person opens the web client: its sidebar shows generated titles.
            titles: lc_spec.as_ref().is_some_and(|s| frontend::client_dist(&s.dir).is_some()),
        }) => s?,
        r = signals.recv() => {
            r?;
            eprintln!("opsconsole-sandbox: interrupted during start-up; stopped");
            return Ok(ExitCode::from(130));
        }
    };
    let info = sandbox.info.clone();
    // A child that dies is reaped and said: on stderr, or in the console's Activity panel.
    let mut deaths = sandbox.take_deaths();
    let (note_tx, notes) = tokio::sync::mpsc::unbounded_channel::<String>();
    let no_tui = args.no_tui;
    let _reports = tokio::spawn(async move {
        while let Some(d) = match deaths.as_mut() {
            Some(rx) => rx.recv().await,
            None => None,
        } {
            if no_tui {
                eprintln!("opsconsole-sandbox: {}", d.line());
            } else {
                let _ = note_tx.send(d.line());
            }
        }
    });
    if args.no_tui {
        println!(
            "opsconsole-sandbox is up (fault: {}; LibreChat: {})",
            fault.map(Fault::name).unwrap_or("none"),
            if info.librechat.is_some() {
                "real"
            } else {
                "stand-in"
            }
        );
        print!("{}", info.describe());
        println!("  probe:     {}", info.probe_command());
        println!("Ctrl-C stops the sandbox.");
        if let Some(trigger) = std::env::var_os(PANIC_HOOK_ENV).map(PathBuf::from) {
            tokio::select! {
                _ = async {
                    while !trigger.exists() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                } => panic!("{PANIC_HOOK_ENV}: {} appeared; panicking with the sandbox up (test of the cleanup)", trigger.display()),
                r = signals.recv() => r?,
            }
        } else {
            signals.recv().await?;
        }
        eprintln!("opsconsole-sandbox: stopping");
        drop(sandbox);
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("opsconsole-sandbox is up:\n{}", info.describe());
    let result = tokio::select! {
        r = open_console(global, &info, notes) => r,
        r = signals.recv() => r,
    };
    drop(sandbox);
    result.map(|()| ExitCode::SUCCESS)
}

/// SIGINT (Ctrl-C), SIGTERM and SIGHUP, listened to from the start so that a signal arriving
/// at any point stops the sandbox cleanly.
struct StopSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> anyhow::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
            hup: signal(SignalKind::hangup()).context("installing the SIGHUP handler")?,
        })
    }

    async fn recv(&mut self) -> anyhow::Result<()> {
        tokio::select! {
            _ = self.int.recv() => {},
            _ = self.term.recv() => {},
            _ = self.hup.recv() => {},
        }
        Ok(())
    }
}

/// The console's context on the sandbox: its outputs, moto as the endpoint (moto's dummy
/// credentials), the diagnostics token, and the config file's settings (if any) otherwise.
pub(crate) async fn console_context(
    global: &GlobalOpts,
    info: &SandboxInfo,
) -> anyhow::Result<opsconsole::context::Context> {
    let mut g = global.clone();
    g.outputs = Some(info.outputs.clone());
    g.endpoint_url = Some(info.moto_url.clone());
    g.region = Some(REGION.into());
    let (file, path) = opsconsole::config::ConfigFile::load(g.config.as_deref())?;
    let mut settings = file.resolve(ENV, &g);
    settings.config_path = path;
    settings.token = Some(opsconsole::config::TokenSource::Literal(
        info.diagnostics_token.clone(),
    ));
    if let Some(l) = &info.librechat {
        // The SSE panel streams a real chat as the web UI does (the seeded user, its password
        // from SSM in moto); the chat mode (its API key from SSM) is configured beside it.
        settings.web_agent = Some(l.agent_id.clone());
        settings.web_email = Some(librechat::USER_EMAIL.to_string());
        settings.web_password = Some(opsconsole::config::TokenSource::Ssm(
            l.password_parameter.clone(),
        ));
        settings.web_prompt = librechat::CHAT_PROMPT.to_string();
        settings.chat_agent = Some(l.agent_id.clone());
        settings.chat_key = Some(opsconsole::config::TokenSource::Ssm(
            l.key_parameter.clone(),
        ));
        settings.chat_prompt = librechat::CHAT_PROMPT.to_string();
        settings.cold_start_p95_ms = librechat::COLD_START_P95_MS;
    }
    let outputs = opsconsole::outputs::Outputs::from_file(&info.outputs)?;
    let aws = opsconsole::aws::AwsClients::load(&opsconsole::aws::AwsOptions {
        profile: None,
        region: Some(REGION.into()),
        endpoint_url: Some(info.moto_url.clone()),
        max_attempts: Some(1),
        static_credentials: Some(("testing".into(), "testing".into())),
        operation_timeout: Some(settings.timeout),
    })
    .await;
    Ok(opsconsole::context::Context::from_parts(ENV, &g, settings, outputs, aws).await)
}

/// Opens the TUI on environment `sandbox`.
async fn open_console(
    global: &GlobalOpts,
    info: &SandboxInfo,
    notes: tokio::sync::mpsc::UnboundedReceiver<String>,
) -> anyhow::Result<()> {
    let ctx = console_context(global, info).await?;
    opsconsole::tui::run_with_notes(std::sync::Arc::new(ctx), Some(notes)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_names_round_trip_and_map_to_contract_codes() {
        for f in Fault::ALL {
            assert_eq!(Fault::parse(f.name()), Some(f));
        }
        assert_eq!(Fault::parse("nope"), None);
        let codes: Vec<&str> = Fault::ALL.iter().map(|f| f.finding_code()).collect();
        assert_eq!(
            codes,
            [
                "sse_buffered",
                "health_failed",
                "alarm_firing",
                "cold_start_p95_high",
                "redis_unreachable",
                "deploy_in_progress"
            ]
        );
        assert!(fault_help().contains("cold-start-storm"));
    }
}
