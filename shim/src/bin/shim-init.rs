//! `shim-init`: the init step that `bootstrap` runs once per cold start (src/init_step.rs):
//! `librechat.yaml` from S3 (written to `CONFIG_PATH`) and secrets from SSM, then one JSON
//! document on stdout, and exit. It logs nothing: `bootstrap` logs the result (never a value).

use shim::init_step::{self, InitOutput};
use shim::settings::Settings;
use std::io::Write;
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let out = match Settings::from_env() {
        Ok(settings) => init_step::fetch(&settings).await,
        Err(e) => InitOutput {
            config: Err(e.to_string()),
            config_ms: 0.0,
            secrets: Err(e.to_string()),
            secrets_ms: 0.0,
        },
    };
    let written = init_step::encode(&out)
        .map_err(|e| e.to_string())
        .and_then(|text| {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{text}")
                .and_then(|()| stdout.flush())
                .map_err(|e| e.to_string())
        });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shim-init: writing the result: {e}");
            ExitCode::FAILURE
        }
    }
}
