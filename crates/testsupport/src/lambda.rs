//! cargo-lambda's Lambda Runtime API (`cargo lambda watch --only-lambda-apis`) for one function,
//! as the sandbox, the canary's tests and its benchmark run it.
//!
//! cargo-lambda serves only functions named like the binaries of the package in its directory (it
//! runs `cargo metadata`; with `--only-lambda-apis` nothing is built), so the directory gets a
//! manifest declaring the function, outside the workspace. A function polls its Runtime API under
//! [`runtime_api`]`(port, name)` and is invoked at [`invoke_url`]`(port, name)`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use opsconsole_proc::child::Proc;

/// The running emulator and its port; dropping it stops the emulator (process group).
pub struct CargoLambda {
    pub proc: Proc,
    pub port: u16,
}

/// `AWS_LAMBDA_RUNTIME_API` for `function`: cargo-lambda serves each function's Runtime API under
/// `/.rt/NAME`.
pub fn runtime_api(port: u16, function: &str) -> String {
    format!("http://127.0.0.1:{port}/.rt/{function}")
}

/// Where `function` is invoked (the Lambda Invoke API path).
pub fn invoke_url(port: u16, function: &str) -> String {
    format!("http://127.0.0.1:{port}/2015-03-31/functions/{function}/invocations")
}

/// `cargo lambda watch --only-lambda-apis` on 127.0.0.1:`port` (invocations time out after
/// `timeout_secs`, cargo-lambda's default when `None`); the caller sets its directory.
pub fn watch_command(cargo_lambda: &Path, port: u16, timeout_secs: Option<u32>) -> Command {
    let mut cmd = Command::new(cargo_lambda);
    cmd.args([
        "lambda",
        "watch",
        "--only-lambda-apis",
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        &port.to_string(),
        "--ignore-changes",
    ]);
    if let Some(t) = timeout_secs {
        cmd.args(["--timeout", &t.to_string()]);
    }
    cmd
}

/// Starts `cargo_lambda` in `dir` (created) for `function`, invocations timing out after
/// `timeout_secs`, its output in `log`; returns once it listens on 127.0.0.1 (30 s at most).
pub async fn start(
    cargo_lambda: &Path,
    dir: &Path,
    function: &str,
    timeout_secs: u32,
    log: &Path,
) -> anyhow::Result<CargoLambda> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{function}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[[bin]]\nname = \"{function}\"\npath = \"main.rs\"\n\n[workspace]\n"
        ),
    )
    .context("writing cargo-lambda's manifest")?;
    std::fs::write(dir.join("main.rs"), "fn main() {}\n")
        .context("writing cargo-lambda's main.rs")?;
    let port = crate::free_port().context("a free port for cargo-lambda")?;
    let mut cmd = watch_command(cargo_lambda, port, Some(timeout_secs));
    cmd.current_dir(dir);
    let mut proc = Proc::spawn("cargo-lambda", cmd, log)?;
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(CargoLambda { proc, port });
        }
        if let Some(status) = proc.exited() {
            bail!(
                "cargo-lambda exited before listening on port {port}: {status} (log: {})",
                log.display()
            );
        }
        if Instant::now() >= until {
            bail!(
                "cargo-lambda did not listen on port {port} within 30 s (log: {})",
                log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
