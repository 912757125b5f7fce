//! The Invoke API as API Gateway's Lambda integration calls it, and a look at the environments.
//!
//! `POST /2015-03-31/functions/NAME/invocations`: the payload goes to an environment; a response
//! the function streams as an HTTP integration response (`application/vnd.awslambda.http-
//! integration-response`: a JSON prelude, 8 NUL bytes, the body) is answered as that HTTP
//! response, its body streamed as it comes (what API Gateway's streaming integration passes on);
//! any other response is returned as the payload. Function errors: HTTP 200 with
//! `X-Amz-Function-Error: Unhandled`; throttling: 429; a payload over 6 MB: 413.
//! `GET /_local/environments`: the environments as JSON.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc::Receiver;

use crate::env::{self, Chunk, Invocation, Reply, RouteError};
use crate::{MAX_SYNC_PAYLOAD, ROUTE_HEADER, SERVED_BY_HEADER, Shared, platform};

/// A response body: what was read ahead, then the chunks as the runtime sends them; a chunk
/// error ends the body with an error (the client sees the stream cut).
pub(crate) struct ChunkBody {
    first: Option<Bytes>,
    rx: Option<Receiver<Chunk>>,
}

impl ChunkBody {
    fn full(b: impl Into<Bytes>) -> ChunkBody {
        ChunkBody {
            first: Some(b.into()),
            rx: None,
        }
    }
}

impl hyper::body::Body for ChunkBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(b) = self.first.take()
            && !b.is_empty()
        {
            return Poll::Ready(Some(Ok(Frame::data(b))));
        }
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Ready(None);
        };
        match rx.poll_recv(cx) {
            Poll::Ready(Some(Chunk::Data(d))) => Poll::Ready(Some(Ok(Frame::data(d)))),
            Poll::Ready(Some(Chunk::Error(e))) => {
                self.rx = None;
                Poll::Ready(Some(Err(std::io::Error::other(e))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

type Resp = Response<ChunkBody>;

pub(crate) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(req, shared).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn json(status: StatusCode, body: serde_json::Value, error_type: Option<&str>) -> Resp {
    let mut r = Response::new(ChunkBody::full(body.to_string()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    if let Some(t) = error_type.and_then(|t| http::HeaderValue::from_str(t).ok()) {
        h.insert("x-amzn-errortype", t);
    }
    r
}

async fn handle(req: Request<Incoming>, shared: Arc<Shared>) -> Resp {
    let path = req.uri().path().to_string();
    if req.method() == Method::GET && path == "/_local/environments" {
        let envs: Vec<_> = shared
            .envs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|e| e.snapshot())
            .collect();
        return json(
            StatusCode::OK,
            serde_json::json!({"freeze_method": shared.method, "environments": envs}),
            None,
        );
    }
    let want = format!("/2015-03-31/functions/{}/invocations", shared.cfg.name);
    if req.method() != Method::POST || path != want {
        return json(
            StatusCode::NOT_FOUND,
            serde_json::json!({"Type": "User", "message": format!("Function not found: {path}")}),
            Some("ResourceNotFoundException"),
        );
    }
    let route = req
        .headers()
        .get(ROUTE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let payload = match Limited::new(req.into_body(), MAX_SYNC_PAYLOAD)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return json(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    platform::request_too_large_body(MAX_SYNC_PAYLOAD + 1),
                    Some("RequestTooLargeException"),
                );
            }
            return json(
                StatusCode::BAD_REQUEST,
                serde_json::json!({"message": format!("reading the payload: {e}")}),
                None,
            );
        }
    };
    invoke(shared, route.as_deref(), payload).await
}

async fn invoke(shared: Arc<Shared>, route: Option<&str>, payload: Bytes) -> Resp {
    let request_id = shared.request_id();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let timeout = shared.cfg.timeout;
    let inv = Invocation {
        request_id: request_id.clone(),
        payload,
        started: Instant::now(),
        deadline: Instant::now() + timeout,
        deadline_ms: crate::now_ms() + timeout.as_millis() as i64,
        reply: Some(tx),
        stream: None,
    };
    let env = match env::route(&shared, route, inv) {
        Ok(e) => e,
        Err(RouteError::Throttled) => {
            shared
                .throttled
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return json(
                StatusCode::TOO_MANY_REQUESTS,
                platform::throttle_body(),
                Some("TooManyRequestsException"),
            );
        }
        Err(RouteError::NotIdle(n)) => {
            return json(
                StatusCode::CONFLICT,
                serde_json::json!({"message": format!("{ROUTE_HEADER}: environment {n} is not idle (or does not exist)")}),
                None,
            );
        }
        Err(RouteError::Spawn(e)) => {
            return json(
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({"message": format!("starting an execution environment failed: {e}")}),
                Some("ServiceException"),
            );
        }
    };
    let reply = rx.await.unwrap_or(Reply::Error {
        error_type: "Runtime.ExitError".into(),
        message: "the execution environment stopped before answering".into(),
    });
    let mut resp = match reply {
        Reply::Error {
            error_type,
            message,
        } => {
            let mut r = json(
                StatusCode::OK,
                platform::function_error(&error_type, &message),
                None,
            );
            r.headers_mut().insert(
                "x-amz-function-error",
                http::HeaderValue::from_static("Unhandled"),
            );
            r
        }
        Reply::Body {
            streaming,
            content_type,
            chunks,
        } => {
            let http_integration = content_type.as_deref()
                == Some("application/vnd.awslambda.http-integration-response");
            if streaming && http_integration {
                http_response(chunks).await
            } else {
                let mut r = Response::new(ChunkBody {
                    first: None,
                    rx: Some(chunks),
                });
                if let Some(ct) = content_type.and_then(|c| http::HeaderValue::from_str(&c).ok()) {
                    r.headers_mut().insert(http::header::CONTENT_TYPE, ct);
                }
                r
            }
        }
    };
    let h = resp.headers_mut();
    if let Ok(v) = http::HeaderValue::from_str(&env.id.to_string()) {
        h.insert(SERVED_BY_HEADER, v);
    }
    if let Ok(v) = http::HeaderValue::from_str(&request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

/// Reads the prelude from the first chunks and answers with the HTTP head it names, the rest of
/// the chunks as the body.
async fn http_response(mut chunks: Receiver<Chunk>) -> Resp {
    let mut buf = BytesMut::new();
    loop {
        if let Some(at) = platform::find_delimiter(&buf) {
            let prelude = platform::parse_prelude(&buf[..at]);
            let rest = buf.split_off(at + 8).freeze();
            return match prelude {
                Ok(p) => {
                    let mut r = Response::new(ChunkBody {
                        first: Some(rest),
                        rx: Some(chunks),
                    });
                    *r.status_mut() =
                        StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_GATEWAY);
                    for (k, v) in p.headers {
                        if let (Ok(k), Ok(v)) = (
                            http::HeaderName::from_bytes(k.as_bytes()),
                            http::HeaderValue::from_str(&v),
                        ) {
                            r.headers_mut().append(k, v);
                        }
                    }
                    r
                }
                Err(e) => json(
                    StatusCode::BAD_GATEWAY,
                    serde_json::json!({"message": e.to_string()}),
                    None,
                ),
            };
        }
        match chunks.recv().await {
            Some(Chunk::Data(d)) => buf.extend_from_slice(&d),
            Some(Chunk::Error(e)) => {
                return json(
                    StatusCode::BAD_GATEWAY,
                    serde_json::json!({"message": format!("the function's response failed before its prelude: {e}")}),
                    None,
                );
            }
            None => {
                return json(
                    StatusCode::BAD_GATEWAY,
                    serde_json::json!({"message": "the function's streamed response ended before its prelude"}),
                    None,
                );
            }
        }
    }
}
