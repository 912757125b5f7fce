//! One environment's Runtime API (`AWS_LAMBDA_RUNTIME_API`): `next`, `response` (buffered, or
//! streamed with `Lambda-Runtime-Function-Response-Mode: streaming` and error trailers), `error`,
//! and `init/error`.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use crate::env::{Chunk, Env, Reply};
use crate::{MAX_BUFFERED_RESPONSE, Shared};

type Resp = Response<Full<Bytes>>;

pub(crate) async fn serve(listener: tokio::net::TcpListener, env: Arc<Env>, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (env, shared) = (env.clone(), shared.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let (env, shared) = (env.clone(), shared.clone());
                async move { Ok::<_, Infallible>(handle(req, env, shared).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn answer(status: StatusCode, body: serde_json::Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn accepted() -> Resp {
    answer(StatusCode::ACCEPTED, serde_json::json!({"status": "OK"}))
}

async fn handle(req: Request<Incoming>, env: Arc<Env>, shared: Arc<Shared>) -> Resp {
    let path = req.uri().path().to_string();
    let rest = path.strip_prefix("/2018-06-01/runtime/").unwrap_or("");
    let parts: Vec<&str> = rest.split('/').collect();
    match (req.method(), parts.as_slice()) {
        (&Method::GET, ["invocation", "next"]) => next(env, shared).await,
        (&Method::POST, ["invocation", id, "response"]) => {
            let id = id.to_string();
            response(req, &id, env).await
        }
        (&Method::POST, ["invocation", id, "error"]) => {
            let id = id.to_string();
            error(req, &id, env).await
        }
        (&Method::POST, ["init", "error"]) => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let (t, m) = error_of(&body, None);
            shared.log(
                &env,
                format!("INIT_REPORT Phase: init Status: error Error Type: {t}"),
                true,
            );
            env.kill(&shared, &format!("init error {t}: {m}"));
            shared.remove_env(env.id);
            accepted()
        }
        _ => answer(
            StatusCode::NOT_FOUND,
            serde_json::json!({"errorType": "InvalidRequest", "errorMessage": format!("no such Runtime API path {path}")}),
        ),
    }
}

async fn next(env: Arc<Env>, shared: Arc<Shared>) -> Resp {
    let Some(inv) = env.next(&shared).await else {
        return answer(
            StatusCode::GONE,
            serde_json::json!({"errorMessage": "the environment is stopping"}),
        );
    };
    let mut r = Response::new(Full::new(inv.payload));
    let h = r.headers_mut();
    let pairs = [
        ("lambda-runtime-aws-request-id", inv.request_id.clone()),
        ("lambda-runtime-deadline-ms", inv.deadline_ms.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{}",
                shared.cfg.name
            ),
        ),
        (
            "lambda-runtime-trace-id",
            format!("Root=1-00000000-{}", inv.request_id.replace('-', "")),
        ),
        ("content-type", "application/json".into()),
    ];
    for (k, v) in pairs {
        if let Ok(v) = http::HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    r
}

/// Takes the reply channel of the invocation `id` if it is the environment's current one.
fn take_reply(env: &Env, id: &str) -> Option<tokio::sync::oneshot::Sender<Reply>> {
    let mut g = env.lock();
    g.current
        .as_mut()
        .filter(|c| c.request_id == id)
        .and_then(|c| c.reply.take())
}

fn unknown(id: &str) -> Resp {
    answer(
        StatusCode::BAD_REQUEST,
        serde_json::json!({"errorType": "InvalidRequestID", "errorMessage": format!("invocation {id} is not this environment's current invocation, or was answered already")}),
    )
}

async fn response(req: Request<Incoming>, id: &str, env: Arc<Env>) -> Resp {
    let Some(reply) = take_reply(&env, id) else {
        return unknown(id);
    };
    let streaming = req
        .headers()
        .get("lambda-runtime-function-response-mode")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("streaming"));
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = req.into_body();
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    if !streaming {
        let mut all = Vec::new();
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                break;
            };
            if let Ok(d) = frame.into_data() {
                all.extend_from_slice(&d);
                if all.len() > MAX_BUFFERED_RESPONSE {
                    let _ = reply.send(Reply::Error {
                        error_type: "Function.ResponseSizeTooLarge".into(),
                        message: format!(
                            "Response payload size exceeded maximum allowed payload size ({MAX_BUFFERED_RESPONSE} bytes)."
                        ),
                    });
                    return accepted();
                }
            }
        }
        let _ = tx.try_send(Chunk::Data(Bytes::from(all)));
        drop(tx);
        let _ = reply.send(Reply::Body {
            streaming,
            content_type,
            chunks: rx,
        });
        return accepted();
    }
    let _ = reply.send(Reply::Body {
        streaming,
        content_type,
        chunks: rx,
    });
    // A timeout or crash can cut the stream through this sender.
    if let Some(c) = env.lock().current.as_mut().filter(|c| c.request_id == id) {
        c.stream = Some(tx.clone());
    }
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => {
                let _ = tx
                    .send(Chunk::Error(format!("the runtime's stream broke: {e}")))
                    .await;
                break;
            }
        };
        match frame.into_data() {
            Ok(d) => {
                // A client that left does not stop the function: keep reading its response.
                let _ = tx.send(Chunk::Data(d)).await;
            }
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers()
                    && let Some(t) = trailers.get("lambda-runtime-function-error-type")
                {
                    let body = trailers
                        .get("lambda-runtime-function-error-body")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    let _ = tx
                        .send(Chunk::Error(format!(
                            "{}: {body}",
                            t.to_str().unwrap_or("error")
                        )))
                        .await;
                }
            }
        }
    }
    if let Some(c) = env.lock().current.as_mut().filter(|c| c.request_id == id) {
        c.stream = None;
    }
    accepted()
}

/// errorType / errorMessage of an error body (JSON, else the text), the header's type first.
fn error_of(body: &[u8], header_type: Option<&str>) -> (String, String) {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let t = header_type
        .map(str::to_string)
        .or_else(|| {
            v.get("errorType")
                .and_then(|t| t.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "Unhandled".into());
    let m = v
        .get("errorMessage")
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    (t, m)
}

async fn error(req: Request<Incoming>, id: &str, env: Arc<Env>) -> Resp {
    let Some(reply) = take_reply(&env, id) else {
        return unknown(id);
    };
    let header_type = req
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let (error_type, message) = error_of(&body, header_type.as_deref());
    let _ = reply.send(Reply::Error {
        error_type,
        message,
    });
    accepted()
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_bodies_take_the_headers_type_first() {
        let (t, m) = super::error_of(br#"{"errorType":"A","errorMessage":"m"}"#, None);
        assert_eq!((t.as_str(), m.as_str()), ("A", "m"));
        let (t, _) = super::error_of(br#"{"errorType":"A"}"#, Some("B"));
        assert_eq!(t, "B");
        let (t, m) = super::error_of(b"plain", None);
        assert_eq!((t.as_str(), m.as_str()), ("Unhandled", "plain"));
    }
}
