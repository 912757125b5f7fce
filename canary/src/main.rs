//! The canary's Lambda entry point (`lambda_runtime`): one probe per invocation (EventBridge
//! Scheduler's event; its content is only logged), one EMF record and one report line on stdout.

use std::sync::Arc;

use canary::{CanaryConfig, probe_once, run_lines};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
    let cfg = Arc::new(
        CanaryConfig::from_vars(|k| std::env::var(k).ok()).map_err(|e| {
            eprintln!("canary: {e}");
            Error::from(e.to_string())
        })?,
    );
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<Value>| {
        let cfg = cfg.clone();
        async move {
            let report = probe_once(&cfg).await;
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            let (record, line, answer) = run_lines(&cfg.env, &report, now_ms, &ev.payload);
            // One line each: Lambda ships stdout to the function's log group.
            println!("{record}");
            println!("{line}");
            Ok::<Value, Error>(answer)
        }
    }))
    .await
}
