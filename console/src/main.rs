use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use opsconsole::cli::{Cli, Command};
use opsconsole::context::Context;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Sandbox(args)) => opsconsole::sandbox::run(&cli.global, args).await,
        Some(Command::Probe(_)) => Err(anyhow::anyhow!("probe is not built yet")),
        None => {
            let ctx = Context {
                env: cli.env.clone().unwrap_or_else(|| "dev".into()),
                read_only: cli.global.read_only,
                global: cli.global.clone(),
            };
            opsconsole::tui::run(Arc::new(ctx)).await.map(|()| ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("opsconsole: {e:#}");
            ExitCode::from(3)
        }
    }
}
