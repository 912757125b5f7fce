//! aws-lambda-web-adapter 1.0.0-rc1's `main` (crates.io `lambda_web_adapter`, src/main.rs), for the
//! shim's overhead benchmark. One difference: the extension registration.
//!
//! LWA registers itself as a Lambda extension at `http://{AWS_LAMBDA_RUNTIME_API}/2020-01-01/...`
//! (it prepends `http://`), while its runtime client (lambda_runtime) parses the same variable
//! as a URI. Lambda sets `127.0.0.1:9001`, which both accept; cargo-lambda's emulator serves the
//! APIs under a path (`http://127.0.0.1:P/.rt`), which only the URI form reaches, and the
//! registration then fails and LWA exits 1. Here the registration (the same two requests as
//! `Adapter::register_default_extension`) takes the variable as a URI, with or without a scheme.
//! Everything else is LWA's code: options from the environment, readiness, the runtime loop.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use lambda_web_adapter::{tracing, Adapter, AdapterOptions, Error};

fn main() -> Result<(), Error> {
    Adapter::apply_runtime_proxy_config();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async_main())
}

async fn async_main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let options = AdapterOptions::default();
    let mut adapter = Adapter::new(&options)?;
    tokio::spawn(async {
        if let Err(e) = register_extension().await {
            eprintln!("Extension registration failed - terminating process: {e}");
            std::process::exit(1);
        }
    });
    adapter.check_init_health().await;
    adapter.run().await?;
    Ok(())
}

/// The runtime API's base URL: `AWS_LAMBDA_RUNTIME_API` with `http://` added only if it has no
/// scheme.
fn runtime_base() -> String {
    let v = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_else(|_| "127.0.0.1:9001".into());
    let v = v.trim_end_matches('/');
    if v.contains("://") {
        v.to_string()
    } else {
        format!("http://{v}")
    }
}

/// `Adapter::register_default_extension`'s requests: register for no events, then wait on
/// `event/next` (which keeps the extension alive for the life of the environment).
async fn register_extension() -> Result<(), Error> {
    let base = runtime_base();
    let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build(HttpConnector::new());
    let register = hyper::Request::post(format!("{base}/2020-01-01/extension/register"))
        .header("Lambda-Extension-Name", "lambda-adapter")
        .body(Full::new(Bytes::from_static(b"{ \"events\": [] }")))?;
    let res = client.request(register).await?;
    if res.status() != hyper::StatusCode::OK {
        return Err(format!("Extension registration failed with status: {}", res.status()).into());
    }
    let id = res
        .headers()
        .get("Lambda-Extension-Identifier")
        .cloned()
        .ok_or("Missing Lambda-Extension-Identifier header")?;
    let _ = res.into_body().collect().await;
    let next = hyper::Request::get(format!("{base}/2020-01-01/extension/event/next"))
        .header("Lambda-Extension-Identifier", id)
        .body(Full::new(Bytes::new()))?;
    client.request(next).await?;
    Ok(())
}
