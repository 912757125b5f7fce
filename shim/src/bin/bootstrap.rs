//! `bootstrap`: the Lambda container entry point (see shim/README.md).

use shim::app::App;
use shim::settings::Settings;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = Instant::now();
    shim::init_logging();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "invalid settings");
            return Err(e.into());
        }
    };
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "shim starting");
    let app = App::cold_start(settings, started).await;
    tracing::info!(
        init_ms = started.elapsed().as_secs_f64() * 1000.0,
        "init phase done"
    );
    let handler_app = app.clone();
    let result = if std::env::var("SHIM_RUNTIME_LOOP").as_deref() == Ok("lambda_runtime") {
        // lambda_runtime's own loop (its Runtime API connection has Nagle on: ~40 ms per response).
        lambda_runtime::run(lambda_runtime::service_fn(move |ev| {
            handler_app.clone().handle(ev)
        }))
        .await
    } else {
        shim::runtime_loop::run(move |ev| handler_app.clone().handle_stream(ev)).await
    };
    app.shutdown();
    result
}
