use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use opsconsole::cli::{Cli, Command};
use opsconsole::context::Context;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = cli.check() {
        eprintln!("opsconsole: {e}");
        return ExitCode::from(3);
    }
    let result = match &cli.command {
        Some(Command::Sandbox(_)) => {
            eprintln!("opsconsole: {}", opsconsole::cli::SANDBOX_MOVED);
            return ExitCode::from(3);
        }
        Some(Command::Probe(args)) => {
            init_stderr_logs();
            if opsconsole::probe_multi::is_multi(args) {
                return opsconsole::probe_multi::run(&cli.global, args).await;
            }
            return opsconsole::probe::run(&cli.global, args).await;
        }
        Some(Command::Leftovers(args)) => {
            init_stderr_logs();
            return opsconsole::leftovers::run(&cli.global, args).await;
        }
        Some(Command::Cost(args)) => {
            init_stderr_logs();
            return opsconsole::cost::run(&cli.global, args).await;
        }
        Some(Command::Init(args)) => {
            init_stderr_logs();
            return opsconsole::init::run(&cli.global, args).await;
        }
        Some(Command::Bundle(args)) => {
            init_stderr_logs();
            return opsconsole::bundle::run(&cli.global, args).await;
        }
        None => {
            let env = cli.env.clone().unwrap_or_else(|| "dev".into());
            match Context::build(&cli.global, &env).await {
                Ok(ctx) => opsconsole::tui::run(Arc::new(ctx))
                    .await
                    .map(|()| ExitCode::SUCCESS),
                Err(e) => Err(anyhow::Error::new(e)),
            }
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

/// Diagnostics on stderr (RUST_LOG; default: errors, and the console's warnings); stdout stays for the JSON document.
fn init_stderr_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error,opsconsole=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
