//! A pass-through relay between the shim and cargo-lambda's Runtime API that fixes one
//! difference from real Lambda: cargo-lambda 1.9.2 sends `lambda-runtime-deadline-ms` as a
//! duration (`600000`) instead of a Unix time in milliseconds, so a runtime computing
//! `deadline - now` sees every invocation as already past its deadline. Values below
//! [`EPOCH_FLOOR_MS`] are turned into `now + value`; everything else (streamed response bodies
//! frame by frame included) passes through unchanged.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::task::JoinHandle;

/// Any real deadline is after 2001-09-09 (10^12 ms); smaller values are durations.
pub const EPOCH_FLOOR_MS: u64 = 1_000_000_000_000;

/// The deadline header value a runtime should see, given cargo-lambda's value and the time now.
pub fn fix_deadline(value: &str, now_ms: u64) -> Option<String> {
    let v: u64 = value.trim().parse().ok()?;
    (v < EPOCH_FLOOR_MS).then(|| (now_ms + v).to_string())
}

#[derive(Debug)]
pub struct RuntimeRelay {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for RuntimeRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Body = BoxBody<Bytes, hyper::Error>;

/// Relays 127.0.0.1:(free port) to `upstream` (`http://127.0.0.1:PORT`).
pub async fn start(upstream: String) -> anyhow::Result<RuntimeRelay> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("binding the runtime relay")?;
    let addr = listener.local_addr().context("runtime relay local_addr")?;
    let client: Client<HttpConnector, Incoming> =
        Client::builder(TokioExecutor::new()).build_http();
    let shared = Arc::new((client, upstream));
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let shared = shared.clone();
                    async move { Ok::<_, Infallible>(relay(&shared.0, &shared.1, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(RuntimeRelay { addr, task })
}

async fn relay(
    client: &Client<HttpConnector, Incoming>,
    upstream: &str,
    req: Request<Incoming>,
) -> Response<Body> {
    let (mut parts, body) = req.into_parts();
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let is_next = parts.uri.path().ends_with("/invocation/next");
    parts.uri = match format!("{upstream}{pq}").parse() {
        Ok(u) => u,
        Err(e) => return plain(StatusCode::BAD_REQUEST, format!("bad target: {e}")),
    };
    parts.headers.remove(http::header::HOST);
    let resp = match client.request(Request::from_parts(parts, body)).await {
        Ok(r) => r,
        Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("runtime relay: {e}")),
    };
    let (mut parts, body) = resp.into_parts();
    if is_next {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let fixed = parts
            .headers
            .get("lambda-runtime-deadline-ms")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| fix_deadline(v, now_ms));
        if let Some(v) = fixed.and_then(|v| HeaderValue::from_str(&v).ok()) {
            parts.headers.insert("lambda-runtime-deadline-ms", v);
        }
    }
    Response::from_parts(parts, body.boxed())
}

fn plain(status: StatusCode, msg: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(msg)).map_err(|e| match e {}).boxed());
    *r.status_mut() = status;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_become_deadlines_and_epochs_pass_unchanged() {
        let now = 1_795_305_000_000;
        assert_eq!(
            fix_deadline("600000", now),
            Some((now + 600_000).to_string())
        );
        assert_eq!(fix_deadline("1795305600000", now), None);
        assert_eq!(fix_deadline("soon", now), None);
    }
}
