//! The invocation loop over the Lambda Runtime API, built from `lambda_runtime`'s own parts
//! (`Config`, `Context`, `LambdaEvent`, `StreamResponse`, the `lambda_runtime_api_client` client)
//! with one difference from `lambda_runtime::run`: the connection to the Runtime API has
//! `TCP_NODELAY` set.
//!
//! Why: `lambda_runtime` 1.5 builds its client with a default `HttpConnector` (Nagle on). A
//! streamed response is several small writes (prelude, delimiter, body chunks, final chunk);
//! with Nagle and the peer's delayed ACK the tail of a response (and the next `/next` on the same
//! connection) waits ~40 ms. Measured with the benchmark: p50 added latency 42.8 ms with
//! `lambda_runtime::run`, see shim/README.md for the figure with this loop.

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderValue, Method, Request, Uri};
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use lambda_runtime::streaming::Body;
use lambda_runtime::{Config, Context, LambdaEvent, StreamResponse};
use lambda_runtime_api_client::{PooledClient, build_request};
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;

type BoxError = lambda_runtime::Error;

/// Poll `/next`, run `handler`, stream its response back; forever.
pub async fn run<H, Fut>(handler: H) -> Result<(), BoxError>
where
    H: Fn(LambdaEvent<Value>) -> Fut,
    Fut: Future<Output = StreamResponse<Body>>,
{
    let config = Arc::new(Config::from_env());
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = PooledClient::builder().with_connector(connector).build();
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
        let response = handler(LambdaEvent::new(payload, ctx)).await;
        if let Err(e) = post_streaming(&client, &request_id, response).await {
            tracing::error!(request_id, error = %e, "posting the response to the runtime API failed");
        }
    }
}

/// Connection-level failures of `/next` retried before the loop gives up (and the process exits,
/// so that Lambda starts a new environment).
const NEXT_ATTEMPTS: u32 = 3;

/// `GET /next`: the invocation's head and payload. A failure to get any answer (the connection
/// refused, or closed before the response, e.g. a kept-alive connection the peer had just closed)
/// is retried a few times; an answer, even an error status, is returned as is.
async fn next_invocation(
    client: &PooledClient,
) -> Result<(http::response::Parts, Bytes), BoxError> {
    let mut attempt = 1;
    loop {
        let req = build_request()
            .method(Method::GET)
            .uri(Uri::from_static("/2018-06-01/runtime/invocation/next"))
            .body(Body::empty())?;
        match client.call(req).await {
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
    client: &PooledClient,
    request_id: &str,
    mut response: StreamResponse<Body>,
) -> Result<(), BoxError> {
    let uri: Uri = format!("/2018-06-01/runtime/invocation/{request_id}/response").parse()?;
    let mut builder = build_request().method(Method::POST).uri(uri);
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
    let resp = client.call(req).await?;
    let status = resp.status();
    let _ = resp.into_body().collect().await;
    if !status.is_success() {
        return Err(format!("runtime API answered {status} to the response").into());
    }
    Ok(())
}

/// Report a failed invocation (`/invocation/{id}/error`).
async fn post_error(
    client: &PooledClient,
    request_id: &str,
    message: &str,
) -> Result<(), BoxError> {
    let uri: Uri = format!("/2018-06-01/runtime/invocation/{request_id}/error").parse()?;
    let body = serde_json::json!({"errorType": "Shim.InvalidContext", "errorMessage": message})
        .to_string();
    let req = build_request()
        .method(Method::POST)
        .uri(uri)
        .header("lambda-runtime-function-error-type", "Shim.InvalidContext")
        .header("content-type", "application/json")
        .body(Body::from(body))?;
    let resp = client.call(req).await?;
    let _ = resp.into_body().collect().await;
    Ok(())
}
