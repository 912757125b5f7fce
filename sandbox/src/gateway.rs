//! The CloudFront / API Gateway stand-in: an HTTP server on 127.0.0.1 that turns each request
//! into an API Gateway REST (v1) proxy event, invokes the function through the local Lambda's
//! `POST /2015-03-31/functions/NAME/invocations`, and relays status, headers and the body as it
//! streams. With `buffering` it collects the whole body before answering (the `buffering`
//! fault: a hop that defeats SSE). With a [`FrontendOrigin`], the distribution's behaviours
//! (read from the Terraform, [`crate::distribution`]) decide first: `/api/*` goes to the
//! function as above, everything else to the frontend bucket ([`frontend`]).

mod frontend;
pub(crate) use frontend::FrontendOrigin;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use bytes::Bytes;
use futures::TryStreamExt;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;

/// Headers that belong to one hop and are not relayed.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// What the event needs to know about the API.
#[derive(Debug, Clone)]
pub(crate) struct ApiInfo {
    pub api_id: String,
    pub stage: String,
    pub account_id: String,
    pub domain_name: String,
    /// The API's binary media types (`x-amazon-apigateway-binary-media-types`): a request body
    /// whose Content-Type matches one reaches the function base64-encoded.
    pub binary_media_types: Vec<String>,
}

/// The api-gateway module's `main.tf` in a checkout.
pub(crate) fn api_main_tf(root: &std::path::Path) -> std::path::PathBuf {
    root.join("infrastructure/terraform/modules/api-gateway/main.tf")
}

/// The binary media types the api-gateway module's `main.tf` gives its OpenAPI body
/// (`x-amazon-apigateway-binary-media-types = ["*/*"]`); `None` when it names none.
pub(crate) fn binary_media_types(main_tf: &str) -> Option<Vec<String>> {
    let key = "x-amazon-apigateway-binary-media-types";
    let rest = &main_tf[main_tf.find(key)? + key.len()..];
    let rest = rest
        .trim_start()
        .strip_prefix('=')?
        .trim_start()
        .strip_prefix('[')?;
    let list = &rest[..rest.find(']')?];
    Some(
        list.split(',')
            .map(|t| t.trim().trim_matches('"').to_string())
            .filter(|t| !t.is_empty())
            .collect(),
    )
}

/// Whether a body of `content_type` is binary for the API: its media type (parameters left
/// out) matches one of `types` (`*/*`, `image/*`, or exact; case-insensitive).
pub(crate) fn is_binary(types: &[String], content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (ty, sub) = media.split_once('/').unwrap_or((media.as_str(), ""));
    types.iter().any(|t| {
        let t = t.to_ascii_lowercase();
        let (tt, ts) = t.split_once('/').unwrap_or((t.as_str(), ""));
        (tt == "*" || tt == ty) && (ts == "*" || ts == sub)
    })
}

/// Builds an API Gateway REST (v1) proxy event (`resource: /{proxy+}`) for one request.
/// `path_and_query` is the request target; a leading `/{stage}` (invoke-URL form) is removed.
#[allow(clippy::too_many_arguments)] // one plain value per event field; a struct adds nothing
pub(crate) fn build_event(
    api: &ApiInfo,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    request_id: &str,
    source_ip: &str,
    now_ms: u64,
) -> Value {
    let (raw_path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let stage_prefix = format!("/{}", api.stage);
    let path = match raw_path.strip_prefix(&stage_prefix) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => raw_path,
    };
    let path = if path.is_empty() { "/" } else { path };

    let mut single_h = Map::new();
    let mut multi_h: Map<String, Value> = Map::new();
    for (name, value) in headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        single_h.insert(name.as_str().to_string(), Value::String(v.clone()));
        match multi_h.get_mut(name.as_str()) {
            Some(Value::Array(list)) => list.push(Value::String(v)),
            _ => {
                multi_h.insert(name.as_str().to_string(), json!([v]));
            }
        }
    }

    let (mut single_q, mut multi_q) = (Map::new(), Map::new());
    if let Some(q) = query {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = decode(k);
            let v = decode(v);
            single_q.insert(k.clone(), Value::String(v.clone()));
            match multi_q.get_mut(&k) {
                Some(Value::Array(list)) => list.push(Value::String(v)),
                _ => {
                    multi_q.insert(k, json!([v]));
                }
            }
        }
    }
    let none_if_empty = |m: Map<String, Value>| {
        if m.is_empty() {
            Value::Null
        } else {
            Value::Object(m)
        }
    };

    let binary = is_binary(
        &api.binary_media_types,
        headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    let (body_v, b64) = if body.is_empty() {
        (Value::Null, false)
    } else {
        match std::str::from_utf8(body) {
            Ok(s) if !binary => (Value::String(s.to_string()), false),
            _ => {
                use base64::Engine as _;
                (
                    Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
                    true,
                )
            }
        }
    };

    json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method.as_str(),
        "headers": single_h,
        "multiValueHeaders": multi_h,
        "queryStringParameters": none_if_empty(single_q),
        "multiValueQueryStringParameters": none_if_empty(multi_q),
        "pathParameters": { "proxy": path.trim_start_matches('/') },
        "stageVariables": Value::Null,
        "requestContext": {
            "resourceId": "sandbox",
            "resourcePath": "/{proxy+}",
            "httpMethod": method.as_str(),
            "path": format!("/{}{}", api.stage, path),
            "stage": api.stage,
            "accountId": api.account_id,
            "apiId": api.api_id,
            "domainName": api.domain_name,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTimeEpoch": now_ms,
            "identity": { "sourceIp": source_ip, "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok()) },
        },
        "body": body_v,
        "isBase64Encoded": b64,
    })
}

fn decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

/// API Gateway's answer (REST API, Lambda proxy integration) when Invoke itself failed (an
/// `x-amzn-ErrorType`: throttled, payload too large, ...) or the function did
/// (`X-Amz-Function-Error`); `None` when the function's own response (any status) is relayed.
pub(crate) fn integration_failure(invoke_error: bool, function_error: bool) -> Option<StatusCode> {
    if invoke_error {
        Some(StatusCode::INTERNAL_SERVER_ERROR)
    } else if function_error {
        Some(StatusCode::BAD_GATEWAY)
    } else {
        None
    }
}

/// Whether a response header of the invocation is relayed to the client.
pub(crate) fn relay_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    !HOP_BY_HOP.contains(&n.as_str()) && !n.starts_with("lambda-runtime-")
}

#[derive(Debug, Clone)]
pub(crate) struct GatewayConfig {
    /// `http://127.0.0.1:PORT/2015-03-31/functions/NAME/invocations`
    pub invoke_url: String,
    pub api: ApiInfo,
    /// The `buffering` fault: collect the whole body before answering.
    pub buffering: bool,
    /// The default behaviour's origin (the frontend bucket); `None`: every path to the function.
    pub frontend: Option<Arc<FrontendOrigin>>,
}

struct State {
    cfg: GatewayConfig,
    client: reqwest::Client,
    seq: AtomicU64,
}

/// The running stand-in; dropping it stops the server.
#[derive(Debug)]
pub(crate) struct Gateway {
    task: JoinHandle<()>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

pub(crate) async fn start(cfg: GatewayConfig, port: u16) -> anyhow::Result<Gateway> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding the gateway stand-in to 127.0.0.1:{port}"))?;
    let client = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .build()
        .context("building the gateway's HTTP client")?;
    let state = Arc::new(State {
        cfg,
        client,
        seq: AtomicU64::new(0),
    });
    let task = tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "gateway accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let state = state.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(handle(state, peer, req).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(Gateway { task })
}

/// API Gateway's REST API request payload limit: 10 MB (the API Gateway quotas page, "Payload
/// size"; taken as 10 MiB here). A larger body is answered [`REQUEST_TOO_LONG`] with 413 and
/// never reaches the function. Lambda's own limit (6 MB of invocation payload, the event with a
/// binary body base64-encoded) is the local Lambda's: Invoke answers 413
/// `RequestTooLargeException`, which the integration turns into a 500 (`integration_failure`).
pub(crate) const MAX_REQUEST_BODY: usize = 10 * 1024 * 1024;
/// The body message of API Gateway's 413, as it is commonly reported (not verified against AWS
/// from here).
pub(crate) const REQUEST_TOO_LONG: &str = "Request Too Long";

fn error_response(status: StatusCode, message: &str) -> Response<Body> {
    let body = json!({ "message": message }).to_string();
    let mut r = Response::new(Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

/// Reads and drops up to `max` bytes of `body`, for at most 30 s.
async fn drain(mut body: Incoming, max: u64) {
    let read = async {
        let mut seen = 0u64;
        while seen < max {
            match body.frame().await {
                Some(Ok(f)) => seen += f.data_ref().map_or(0, |d| d.len() as u64),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), read).await;
}

async fn handle(state: Arc<State>, peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    if let Some(fe) = &state.cfg.frontend
        && let crate::distribution::Route::S3 { key, compress } =
            fe.behaviours.route(parts.uri.path())
    {
        return frontend::serve(fe, &parts.method, &parts.headers, &key, compress).await;
    }
    // API Gateway's payload limit (REST API: 10 MB), before anything reaches the function.
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > MAX_REQUEST_BODY as u64) {
        // Read the body before answering (bounded): a client that sends its whole body before
        // it reads the answer otherwise meets a closed connection instead of the 413 (seen in
        // CI on a loaded machine: "error sending request").
        drain(body, n.min(64 * 1024 * 1024)).await;
        return error_response(StatusCode::PAYLOAD_TOO_LARGE, REQUEST_TOO_LONG);
    }
    let body = match http_body_util::Limited::new(body, MAX_REQUEST_BODY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return error_response(StatusCode::PAYLOAD_TOO_LARGE, REQUEST_TOO_LONG);
        }
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                &format!("reading request body: {e}"),
            );
        }
    };
    let n = state.seq.fetch_add(1, Ordering::Relaxed);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let request_id = format!("sandbox-{now_ms:x}-{n}");
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let event = build_event(
        &state.cfg.api,
        &parts.method,
        &target,
        &parts.headers,
        &body,
        &request_id,
        &peer.ip().to_string(),
        now_ms,
    );
    let mut invoke = state
        .client
        .post(&state.cfg.invoke_url)
        .header("content-type", "application/json");
    // The local Lambda's test knob passes through (a test sends a request to a new or a given
    // execution environment).
    if let Some(route) = parts.headers.get(opsconsole_locallambda::ROUTE_HEADER) {
        invoke = invoke.header(opsconsole_locallambda::ROUTE_HEADER, route.clone());
    }
    let upstream = match invoke.body(event.to_string()).send().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "invoking the function failed");
            return error_response(StatusCode::BAD_GATEWAY, "Internal server error");
        }
    };
    // What API Gateway's Lambda proxy integration answers when the invocation itself failed:
    // Lambda throttled it (429 from Invoke) -> 500; the function failed (`X-Amz-Function-Error`:
    // a crash, a timeout, an error posted to the Runtime API) -> 502; both with this body.
    if let Some(status) = integration_failure(
        upstream.headers().contains_key("x-amzn-errortype"),
        upstream.headers().contains_key("x-amz-function-error"),
    ) {
        tracing::warn!(
            lambda_status = upstream.status().as_u16(),
            function_error = ?upstream.headers().get("x-amz-function-error"),
            "the invocation failed; answering as API Gateway does"
        );
        return error_response(status, "Internal server error");
    }
    let status = upstream.status();
    let mut headers = HeaderMap::new();
    for (k, v) in upstream.headers() {
        if relay_header(k.as_str()) {
            headers.append(k.clone(), v.clone());
        }
    }
    headers.insert(
        "via",
        http::HeaderValue::from_static("1.1 opsconsole-sandbox (CloudFront/API Gateway stand-in)"),
    );
    let body: Body = if state.cfg.buffering {
        let all = upstream.bytes().await;
        match all {
            Ok(all) => Full::new(all).map_err(|e| match e {}).boxed(),
            Err(e) => {
                return error_response(
                    StatusCode::BAD_GATEWAY,
                    &format!("reading the function's response: {e}"),
                );
            }
        }
    } else {
        let stream = upstream
            .bytes_stream()
            .map_ok(Frame::data)
            .map_err(std::io::Error::other);
        BodyExt::boxed(StreamBody::new(stream))
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_media_types_come_from_the_api_gateway_module() {
        let tf = std::fs::read_to_string(api_main_tf(&opsconsole_testsupport::repo_root()))
            .expect("api-gateway main.tf");
        assert_eq!(binary_media_types(&tf), Some(vec!["*/*".to_string()]));
        assert_eq!(binary_media_types("body = {}"), None);
        let all = vec!["*/*".to_string()];
        assert!(is_binary(&all, Some("application/json")));
        assert!(is_binary(&all, Some("multipart/form-data; boundary=x")));
        assert!(!is_binary(&all, None));
        let images = vec!["image/*".to_string(), "application/pdf".to_string()];
        assert!(is_binary(&images, Some("Image/PNG")));
        assert!(is_binary(&images, Some("application/pdf")));
        assert!(!is_binary(&images, Some("application/json")));
    }

    #[test]
    fn a_body_of_a_binary_media_type_is_base64_even_when_it_is_text() {
        let mut a = api();
        a.binary_media_types = vec!["*/*".into()];
        let mut h = HeaderMap::new();
        h.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        let ev = build_event(&a, &Method::POST, "/api/x", &h, b"{}", "r", "1.2.3.4", 0);
        assert_eq!(ev["isBase64Encoded"], true);
        assert_eq!(ev["body"], "e30=");
        a.binary_media_types = vec![];
        let ev = build_event(&a, &Method::POST, "/api/x", &h, b"{}", "r", "1.2.3.4", 0);
        assert_eq!(ev["isBase64Encoded"], false);
        assert_eq!(ev["body"], "{}");
    }

    fn api() -> ApiInfo {
        ApiInfo {
            api_id: "sbx123".into(),
            stage: "sandbox".into(),
            account_id: "123456789012".into(),
            domain_name: "127.0.0.1".into(),
            binary_media_types: vec![],
        }
    }

    #[test]
    fn event_is_a_rest_v1_proxy_event() {
        let mut h = HeaderMap::new();
        h.append("x-opsconsole-token", "t".parse().expect("hv"));
        h.append("cookie", "a=1".parse().expect("hv"));
        h.append("cookie", "b=2".parse().expect("hv"));
        let ev = build_event(
            &api(),
            &Method::GET,
            "/api/__shim/sse?events=3&interval_ms=50&x=a%20b+c",
            &h,
            b"",
            "r1",
            "127.0.0.1",
            5,
        );
        assert_eq!(ev["httpMethod"], "GET");
        assert_eq!(ev["path"], "/api/__shim/sse");
        assert_eq!(ev["resource"], "/{proxy+}");
        assert_eq!(ev["pathParameters"]["proxy"], "api/__shim/sse");
        assert_eq!(ev["requestContext"]["path"], "/sandbox/api/__shim/sse");
        assert_eq!(ev["requestContext"]["stage"], "sandbox");
        assert_eq!(ev["queryStringParameters"]["events"], "3");
        assert_eq!(ev["queryStringParameters"]["x"], "a b c");
        assert_eq!(ev["multiValueHeaders"]["cookie"], json!(["a=1", "b=2"]));
        assert_eq!(ev["headers"]["x-opsconsole-token"], "t");
        assert_eq!(ev["body"], Value::Null);
        assert_eq!(ev["isBase64Encoded"], false);
    }

    #[test]
    fn stage_prefix_is_removed_and_binary_bodies_are_base64() {
        let ev = build_event(
            &api(),
            &Method::POST,
            "/sandbox/api/ask",
            &HeaderMap::new(),
            &[0xff, 0x00],
            "r",
            "ip",
            0,
        );
        assert_eq!(ev["path"], "/api/ask");
        assert_eq!(ev["isBase64Encoded"], true);
        assert_eq!(ev["body"], "/wA=");
        assert_eq!(ev["queryStringParameters"], Value::Null);
        let root = build_event(
            &api(),
            &Method::GET,
            "/sandbox",
            &HeaderMap::new(),
            b"{}",
            "r",
            "ip",
            0,
        );
        assert_eq!(root["path"], "/");
        assert_eq!(root["body"], "{}");
        // A path that only starts with the stage name's letters is left alone.
        let other = build_event(
            &api(),
            &Method::GET,
            "/sandboxes",
            &HeaderMap::new(),
            b"",
            "r",
            "ip",
            0,
        );
        assert_eq!(other["path"], "/sandboxes");
    }

    #[test]
    fn failed_invocations_are_answered_as_api_gateway_does() {
        assert_eq!(integration_failure(false, false), None);
        assert_eq!(
            integration_failure(false, true),
            Some(StatusCode::BAD_GATEWAY)
        );
        assert_eq!(
            integration_failure(true, false),
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
    }

    #[test]
    fn runtime_and_hop_headers_are_not_relayed() {
        assert!(!relay_header("Transfer-Encoding"));
        assert!(!relay_header("lambda-runtime-function-response-mode"));
        assert!(relay_header("content-type"));
        assert!(relay_header("set-cookie"));
    }
}
