//! `opsconsole sandbox`: the whole deployment on one machine. Entry point: [`run`].

use crate::cli::{GlobalOpts, SandboxArgs};

/// Starts the sandbox, opens the TUI on it (unless `--no-tui`), and stops everything on exit.
pub async fn run(_global: &GlobalOpts, _args: &SandboxArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("the sandbox is not built yet")
}
