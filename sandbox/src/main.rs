use std::process::ExitCode;

use clap::Parser;
use opsconsole_sandbox::SandboxArgs;

#[tokio::main]
async fn main() -> ExitCode {
    let args = SandboxArgs::parse();
    match opsconsole_sandbox::run(&args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("opsconsole-sandbox: {e:#}");
            ExitCode::from(3)
        }
    }
}
