//! The invocation loop over the Lambda Runtime API, built from `lambda_runtime`'s own parts
//! (`Config`, `Context`, `LambdaEvent`, `StreamResponse`, `lambda_runtime_api_client`'s request
//! builder) with one difference from `lambda_runtime::run`: the connection to the Runtime API.
//!
//! `lambda_runtime` 1.5 builds its client with a default `HttpConnector` (Nagle on). A streamed
//! response is several small writes (prelude, delimiter, body chunks, final chunk); with Nagle
//! and the peer's delayed ACK the tail of a response (and the next `/next` on the same
//! connection) waits ~40 ms (bench p50 added latency 42.8 ms with `lambda_runtime::run`).
//! Here the connection has `TCP_NODELAY` and re-arms `TCP_QUICKACK` before every read
//! ([`crate::quickack`]): a Runtime API that writes the head of `/next` and the event in two
//! pieces with Nagle on (cargo-lambda's emulator does, whenever the event is not in its buffer
//! yet) otherwise waits for our delayed ACK, ~40 ms, before it sends the event
//! (shim/README.md, "The ~40 ms tail").

use crate::quickack::QuickAckConnector;
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderValue, Method, Request, Response, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use lambda_runtime::streaming::Body;
use lambda_runtime::{Config, Context, LambdaEvent, StreamResponse};
use lambda_runtime_api_client::build_request;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;

type BoxError = lambda_runtime::Error;

/// The Runtime API's base URI from `AWS_LAMBDA_RUNTIME_API`: Lambda sets `host:port`
/// (`127.0.0.1:9001`), emulators a URL with a scheme and a path prefix
/// (cargo-lambda: `http://127.0.0.1:9000/.rt`). Both are accepted.
pub fn runtime_base(value: &str) -> Result<Uri, String> {
    let v = value.trim();
    let with_scheme = if v.contains("://") {
        v.to_string()
    } else {
        format!("http://{v}")
    };
    let uri: Uri = with_scheme
        .parse()
        .map_err(|e| format!("AWS_LAMBDA_RUNTIME_API={value:?} is not host:port or a URL: {e}"))?;
    if uri.scheme_str() != Some("http") || uri.authority().is_none() {
        return Err(format!(
            "AWS_LAMBDA_RUNTIME_API={value:?}: expected host:port or http://host:port[/prefix]"
        ));
    }
    Ok(uri)
}

/// `path` (e.g. `/2018-06-01/runtime/invocation/next`) under the base URI's path prefix.
pub fn runtime_uri(base: &Uri, path: &str) -> Result<Uri, BoxError> {
    let prefix = base.path().trim_end_matches('/');
    let authority = base
        .authority()
        .ok_or("runtime API base URI has no host")?
        .as_str();
    Ok(format!("http://{authority}{prefix}{path}").parse()?)
}

/// The Runtime API client: one hyper client over [`QuickAckConnector`] connections.
pub struct RuntimeClient {
    base: Uri,
    client: Client<QuickAckConnector, Body>,
}

impl RuntimeClient {
    pub fn new(base: Uri) -> RuntimeClient {
        Self::with_connector(base, QuickAckConnector::new())
    }

    pub fn with_connector(base: Uri, connector: QuickAckConnector) -> RuntimeClient {
        let mut builder = Client::builder(TokioExecutor::new());
        // As lambda_runtime_api_client builds its client.
        builder.http1_max_buf_size(1024 * 1024);
        RuntimeClient {
            base,
            client: builder.build(connector),
        }
    }

    /// From `AWS_LAMBDA_RUNTIME_API`; `SHIM_RUNTIME_QUICKACK=0` leaves out the `TCP_QUICKACK`
    /// re-arming (for comparison only, as `SHIM_RUNTIME_LOOP=lambda_runtime`).
    pub fn from_env() -> Result<RuntimeClient, BoxError> {
        let v = std::env::var("AWS_LAMBDA_RUNTIME_API")
            .map_err(|_| "AWS_LAMBDA_RUNTIME_API is not set (Lambda sets it)")?;
        let rearm = std::env::var("SHIM_RUNTIME_QUICKACK").as_deref() != Ok("0");
        Ok(RuntimeClient::with_connector(
            runtime_base(&v)?,
            QuickAckConnector::with_rearm(rearm),
        ))
    }

    async fn call(&self, path: &str, req: Request<Body>) -> Result<Response<Incoming>, BoxError> {
        let (mut parts, body) = req.into_parts();
        parts.uri = runtime_uri(&self.base, path)?;
        Ok(self
            .client
            .request(Request::from_parts(parts, body))
            .await?)
    }
}

/// Poll `/next`, run `handler`, stream its response back; forever.
pub async fn run<H, Fut>(handler: H) -> Result<(), BoxError>
where
    H: Fn(LambdaEvent<Value>) -> Fut,
    Fut: Future<Output = StreamResponse<Body>>,
{
    run_settling(handler, |_| async {}).await
}

/// [`run`], and after each response `settle(deadline_ms)` before the next event is asked for:
/// Lambda freezes the environment as soon as it is, so work the request started must be done by
/// then ([`crate::pending`]). `deadline_ms` is the invocation's `Lambda-Runtime-Deadline-Ms`.
pub async fn run_settling<H, Fut, S, SFut>(handler: H, settle: S) -> Result<(), BoxError>
where
    H: Fn(LambdaEvent<Value>) -> Fut,
    Fut: Future<Output = StreamResponse<Body>>,
    S: Fn(u64) -> SFut,
    SFut: Future<Output = ()>,
{
    let config = Arc::new(Config::from_env());
    let client = RuntimeClient::from_env()?;
    loop {
        let (parts, bytes) = next_invocation(&client).await?;
        if !parts.status.is_success() {
            return Err(format!("runtime API /next answered {}", parts.status).into());
        }
        let Some(request_id) = parts
            .headers
            .get("lambda-runtime-aws-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
        else {
            return Err("runtime API /next without lambda-runtime-aws-request-id".into());
        };
        if parts.headers.get("lambda-runtime-deadline-ms").is_none() {
            return Err("runtime API /next without lambda-runtime-deadline-ms".into());
        }
        let ctx = match Context::new(&request_id, config.clone(), &parts.headers) {
            Ok(c) => c,
            Err(e) => {
                // E.g. an unparsable client context header: fail this invocation, keep serving.
                tracing::error!(request_id, error = %e, "invalid invocation context");
                if let Err(e) = post_error(&client, &request_id, &e.to_string()).await {
                    tracing::error!(request_id, error = %e, "posting the error to the runtime API failed");
                }
                continue;
            }
        };
        // A payload that is not JSON reaches the handler as `null` and is answered with a 400.
        let payload: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(request_id, error = %e, "invocation payload is not JSON");
                Value::Null
            }
        };
        drop(bytes); // the raw payload: parsed above, not needed while the response streams
        let deadline_ms = ctx.deadline;
        let response = handler(LambdaEvent::new(payload, ctx)).await;
        if let Err(e) = post_streaming(&client, &request_id, response).await {
            tracing::error!(request_id, error = %e, "posting the response to the runtime API failed");
        }
        settle(deadline_ms).await;
    }
}

/// Connection-level failures of `/next` retried before the loop gives up (and the process exits,
/// so that Lambda starts a new environment).
const NEXT_ATTEMPTS: u32 = 3;

/// `GET /next`: the invocation's head and payload. A failure to get any answer (the connection
/// refused, or closed before the response, e.g. a kept-alive connection the peer had just closed)
/// is retried a few times; an answer, even an error status, is returned as is.
async fn next_invocation(
    client: &RuntimeClient,
) -> Result<(http::response::Parts, Bytes), BoxError> {
    let mut attempt = 1;
    loop {
        let req = build_request().method(Method::GET).body(Body::empty())?;
        match client
            .call("/2018-06-01/runtime/invocation/next", req)
            .await
        {
            Ok(resp) => {
                let (parts, body) = resp.into_parts();
                return Ok((parts, body.collect().await?.to_bytes()));
            }
            Err(e) if attempt < NEXT_ATTEMPTS => {
                tracing::warn!(attempt, error = %e, "runtime API /next failed; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// POST the streamed response: prelude, 8 NULs (separate frames, as `lambda_runtime` does; the
/// cargo-lambda emulator requires it), then the body frames.
async fn post_streaming(
    client: &RuntimeClient,
    request_id: &str,
    mut response: StreamResponse<Body>,
) -> Result<(), BoxError> {
    let path = format!("/2018-06-01/runtime/invocation/{request_id}/response");
    let mut builder = build_request().method(Method::POST);
    if let Some(h) = builder.headers_mut() {
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert(
            "lambda-runtime-function-response-mode",
            HeaderValue::from_static("streaming"),
        );
        h.append(
            "trailer",
            HeaderValue::from_static("Lambda-Runtime-Function-Error-Type"),
        );
        h.append(
            "trailer",
            HeaderValue::from_static("Lambda-Runtime-Function-Error-Body"),
        );
        h.insert(
            "content-type",
            HeaderValue::from_static("application/vnd.awslambda.http-integration-response"),
        );
    }
    response
        .metadata_prelude
        .headers
        .entry(http::header::CONTENT_TYPE)
        .or_insert(HeaderValue::from_static("application/octet-stream"));
    let prelude = serde_json::to_string(&response.metadata_prelude)?;
    let (mut tx, rx) = Body::channel();
    tokio::spawn(async move {
        if tx.send_data(Bytes::from(prelude)).await.is_err() {
            return;
        }
        if tx.send_data(Bytes::from_static(&[0u8; 8])).await.is_err() {
            return;
        }
        while let Some(chunk) = response.stream.next().await {
            let data = match chunk {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "response stream error");
                    return;
                }
            };
            if tx.send_data(data).await.is_err() {
                return;
            }
        }
    });
    let req: Request<Body> = builder.body(rx)?;
    let resp = client.call(&path, req).await?;
    let status = resp.status();
    let _ = resp.into_body().collect().await;
    if !status.is_success() {
        return Err(format!("runtime API answered {status} to the response").into());
    }
    Ok(())
}

/// Report a failed invocation (`/invocation/{id}/error`).
async fn post_error(
    client: &RuntimeClient,
    request_id: &str,
    message: &str,
) -> Result<(), BoxError> {
    let path = format!("/2018-06-01/runtime/invocation/{request_id}/error");
    let body = serde_json::json!({"errorType": "Shim.InvalidContext", "errorMessage": message})
        .to_string();
    let req = build_request()
        .method(Method::POST)
        .header("lambda-runtime-function-error-type", "Shim.InvalidContext")
        .header("content-type", "application/json")
        .body(Body::from(body))?;
    let resp = client.call(&path, req).await?;
    let _ = resp.into_body().collect().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_base_accepts_lambdas_and_emulators_forms() {
        let b = runtime_base("127.0.0.1:9001").expect("lambda form");
        assert_eq!(
            runtime_uri(&b, "/2018-06-01/runtime/invocation/next")
                .expect("uri")
                .to_string(),
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next"
        );
        let b = runtime_base("http://127.0.0.1:9000/.rt").expect("cargo-lambda form");
        assert_eq!(
            runtime_uri(&b, "/2018-06-01/runtime/invocation/abc/response")
                .expect("uri")
                .to_string(),
            "http://127.0.0.1:9000/.rt/2018-06-01/runtime/invocation/abc/response"
        );
        let b = runtime_base("http://localhost:9001/prefix/").expect("trailing slash");
        assert_eq!(
            runtime_uri(&b, "/x").expect("uri").to_string(),
            "http://localhost:9001/prefix/x"
        );
        for bad in ["", "https://127.0.0.1:9001", "not a uri", "http://"] {
            let e = runtime_base(bad).expect_err(bad);
            assert!(e.contains("AWS_LAMBDA_RUNTIME_API"), "{e}");
        }
    }
}
