//! What the sandbox needs from the machine: the built binaries, the tools venv (bootstrapped
//! on first use), free ports.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};
use opsconsole_proc::child::Proc;
use opsconsole_testsupport::bins::{newest_source_mtime, newest_source_mtime_of};

pub(crate) fn run_bootstrap(root: &Path, what: &str) -> anyhow::Result<()> {
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

pub(crate) fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// The tools the sandbox runs, installing what is missing (with a progress message).
pub(crate) struct Tools {
    pub(crate) redis_server: PathBuf,
    pub(crate) node: PathBuf,
    pub(crate) bootstrap: PathBuf,
}

pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

pub(crate) fn ensure_tools(root: &Path) -> anyhow::Result<Tools> {
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

pub(crate) fn random_token() -> String {
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

/// A free port on 127.0.0.1.
pub(crate) fn free_port() -> anyhow::Result<u16> {
    opsconsole_testsupport::free_port().context("finding a free port on 127.0.0.1")
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`, or `proc` exits, or
/// `timeout` passes.
pub(crate) async fn wait_for_port(
    proc: &mut Proc,
    port: u16,
    timeout: Duration,
) -> anyhow::Result<()> {
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
