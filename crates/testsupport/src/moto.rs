//! A moto server (PyPI `moto[server]`) on a free 127.0.0.1 port, killed on drop.
//!
//! The server is the venv's `moto_server` (`<repo>/.tools/venv`, created by
//! `scripts/bootstrap.sh venv` when missing). It is started through the venv's Python with a
//! small wrapper that also exits when our stdin closes, so a server held in a `static` (one per
//! test binary, see [`MotoServer::shared`]) does not outlive the test process. The wrapper
//! installs the project's extensions named in [`MOTOEXT`] (`tools/motoext`) first.
//!
//! Isolation: `POST /moto-api/reset` ([`MotoServer::reset`]) or distinct resource names.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
#[cfg(feature = "console")]
use opsconsole::aws::{AwsClients, AwsOptions};

/// Region the helpers use unless told otherwise.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The account moto answers with.
pub const MOTO_ACCOUNT: &str = "123456789012";

/// The project's moto extensions (`tools/motoext`) every server here runs with: those that
/// make moto answer what the console asks (percentile statistics in GetMetricData) and refuse
/// what AWS refuses (a temporary key without its session token: the local Lambda gives the
/// function such credentials), and the Price List API moto lacks (`opsconsole cost
/// --refresh-prices`). The extensions for `terraform apply` are left to
/// `apply-local.sh`'s own server.
pub const MOTOEXT: &[&str] = &[
    "cloudwatch.percentile_statistics",
    "auth.session_token",
    "pricing.get_products",
];

const WRAPPER: &str = "import os, sys, threading\n\
sys.path.insert(0, os.environ['OPSCONSOLE_MOTOEXT_PATH'])\n\
import motoext\n\
motoext.install(only=os.environ['OPSCONSOLE_MOTOEXT'].split(','))\n\
from moto.server import main\n\
t = threading.Thread(target=main, args=(sys.argv[1:],), daemon=True)\n\
t.start()\n\
try:\n    sys.stdin.read()\nexcept Exception:\n    pass\n";

pub struct MotoServer {
    child: Child,
    port: u16,
    endpoint: String,
}

impl std::fmt::Debug for MotoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MotoServer")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// `<repo>/.tools/venv/bin/python` with moto installed, bootstrapping the venv when missing.
pub fn venv_python() -> anyhow::Result<PathBuf> {
    let root = crate::find_repo(None)?;
    let moto = root.join(".tools/venv/bin/moto_server");
    if !moto.is_file() {
        eprintln!(
            "opsconsole: moto_server not found at {}; running scripts/bootstrap.sh venv (first run takes a minute or two)",
            moto.display()
        );
        let st = Command::new("bash")
            .arg(root.join("scripts/bootstrap.sh"))
            .arg("venv")
            .stdout(Stdio::null())
            .status()
            .context("running scripts/bootstrap.sh venv")?;
        if !st.success() || !moto.is_file() {
            bail!("scripts/bootstrap.sh venv failed ({st}); moto_server is still missing");
        }
    }
    Ok(root.join(".tools/venv/bin/python"))
}

impl MotoServer {
    /// Starts a server and waits (at most 60 s) until it answers.
    pub fn start() -> anyhow::Result<MotoServer> {
        Self::start_with_env(&[])
    }

    /// Like [`MotoServer::start`], with extra environment for moto (e.g.
    /// `INITIAL_NO_AUTH_ACTION_COUNT` to enforce IAM after that many requests;
    /// `OPSCONSOLE_MOTOEXT` = comma-separated extensions instead of [`MOTOEXT`], empty for none).
    pub fn start_with_env(env: &[(&str, &str)]) -> anyhow::Result<MotoServer> {
        let python = venv_python()?;
        let motoext = crate::find_repo(None)?.join("tools/motoext");
        let joined = MOTOEXT.join(",");
        let ext_path = motoext.to_string_lossy().into_owned();
        // The caller's entries come last and win (`("OPSCONSOLE_MOTOEXT", "")`: plain moto).
        let mut all: Vec<(&str, &str)> = vec![
            ("OPSCONSOLE_MOTOEXT_PATH", &ext_path),
            ("OPSCONSOLE_MOTOEXT", &joined),
        ];
        all.extend_from_slice(env);
        let env = all.as_slice();
        let mut last_err = None;
        for _ in 0..3 {
            let port = crate::free_port().context("finding a free port")?;
            match Self::start_on(&python, port, env) {
                Ok(s) => return Ok(s),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("moto did not start")))
    }

    fn start_on(python: &PathBuf, port: u16, env: &[(&str, &str)]) -> anyhow::Result<MotoServer> {
        eprintln!("opsconsole: starting moto server on 127.0.0.1:{port}");
        let child = Command::new(python)
            .envs(env.iter().copied())
            .arg("-c")
            .arg(WRAPPER)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("spawning {}", python.display()))?;
        let mut server = MotoServer {
            child,
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(st) = server.child.try_wait()? {
                bail!("moto server exited early ({st})");
            }
            if server.http("GET", "/moto-api/data.json", "").is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!("moto server on port {port} did not answer within 60 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One server per process, started on first use and stopped when the process exits.
    pub fn shared() -> anyhow::Result<&'static MotoServer> {
        static SHARED: OnceLock<Result<MotoServer, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| MotoServer::start().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    pub fn endpoint_url(&self) -> &str {
        &self.endpoint
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Forgets every resource (`POST /moto-api/reset`).
    pub fn reset(&self) -> anyhow::Result<()> {
        self.http("POST", "/moto-api/reset", "")?;
        Ok(())
    }

    /// POSTs JSON to a moto control endpoint (e.g. `/moto-api/state-manager/set-transition`).
    pub fn control(&self, path: &str, json: &str) -> anyhow::Result<String> {
        self.http("POST", path, json)
    }

    /// A minimal blocking HTTP/1.0 exchange with the server (control API only).
    fn http(&self, method: &str, path: &str, body: &str) -> anyhow::Result<String> {
        self.raw_request(method, path, &[("Content-Type", "application/json")], body)
    }

    /// A raw blocking HTTP/1.0 request to the server; the body of a 2xx answer.
    pub fn raw_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> anyhow::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut head = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n",
            self.port
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        write!(s, "{head}Content-Length: {}\r\n\r\n{body}", body.len())?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        let status_ok = out.starts_with("HTTP/1.0 2") || out.starts_with("HTTP/1.1 2");
        if !status_ok {
            bail!("moto {method} {path}: {}", out.lines().next().unwrap_or(""));
        }
        Ok(out
            .split_once("\r\n\r\n")
            .map(|x| x.1.to_string())
            .unwrap_or_default())
    }

    #[cfg(feature = "console")]
    /// Options for clients pointed at this server: dummy credentials, 1 attempt, `region`.
    pub fn aws_options(&self, region: &str) -> AwsOptions {
        AwsOptions {
            profile: None,
            region: Some(region.to_string()),
            endpoint_url: Some(self.endpoint.clone()),
            max_attempts: Some(1),
            static_credentials: Some(("testing".into(), "testing".into())),
            operation_timeout: Some(Duration::from_secs(20)),
        }
    }

    #[cfg(feature = "console")]
    /// All SDK clients pointed at this server (through the console's one loader,
    /// `opsconsole::aws`).
    pub async fn clients(&self, region: &str) -> AwsClients {
        AwsClients::load(&self.aws_options(region)).await
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
