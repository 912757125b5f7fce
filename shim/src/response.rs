//! HTTP response -> Lambda streaming response (metadata prelude + body), and error bodies.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};
use lambda_runtime::MetadataPrelude;
use serde_json::json;

/// Response headers not passed through (hop-by-hop; framing belongs to the streaming transport).
const DROP_RESPONSE: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Build the prelude from an upstream response head: every `Set-Cookie` becomes its own cookie,
/// hop-by-hop headers are dropped, repeated headers are joined with `, `.
pub(crate) fn prelude_from_upstream(status: StatusCode, headers: &HeaderMap) -> MetadataPrelude {
    let mut out = HeaderMap::new();
    let mut cookies = Vec::new();
    for name in headers.keys() {
        let lname = name.as_str();
        if DROP_RESPONSE.contains(&lname) {
            continue;
        }
        if name == SET_COOKIE {
            for v in headers.get_all(name) {
                cookies.push(String::from_utf8_lossy(v.as_bytes()).into_owned());
            }
            continue;
        }
        let values: Vec<&HeaderValue> = headers.get_all(name).iter().collect();
        if values.len() == 1 {
            out.insert(name.clone(), values[0].clone());
        } else {
            let joined = values
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect::<Vec<_>>()
                .join(", ");
            if let Ok(v) = HeaderValue::from_str(&joined) {
                out.insert(name.clone(), v);
            }
        }
    }
    MetadataPrelude {
        status_code: status,
        headers: out,
        cookies,
    }
}

/// True when the response is a server-sent event stream.
pub(crate) fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        })
        .unwrap_or(false)
}

/// A JSON error response: prelude and body.
pub(crate) fn json_error(
    status: StatusCode,
    error: &str,
    detail: &str,
) -> (MetadataPrelude, Bytes) {
    json_response(
        status,
        &json!({"error": error, "detail": detail, "source": "shim"}),
    )
}

/// A JSON response of the shim's own (never cached): prelude and body.
pub(crate) fn json_response(
    status: StatusCode,
    doc: &serde_json::Value,
) -> (MetadataPrelude, Bytes) {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    (
        MetadataPrelude {
            status_code: status,
            headers,
            cookies: Vec::new(),
        },
        Bytes::from(doc.to_string()),
    )
}

/// The final SSE event sent when a stream must end early. Starts with a blank line so it can never
/// merge into an event the upstream left half-written.
pub(crate) fn sse_error_event(error: &str, detail: Option<&str>) -> Bytes {
    let data = match detail {
        Some(d) => json!({"error": error, "detail": d}),
        None => json!({"error": error}),
    };
    Bytes::from(format!("\n\nevent: error\ndata: {data}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookies_become_cookies_and_hop_by_hop_dropped() {
        let mut h = HeaderMap::new();
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("a=1; Path=/; HttpOnly"),
        );
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("b=2, with comma; Expires=Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        h.append("transfer-encoding", HeaderValue::from_static("chunked"));
        h.append("connection", HeaderValue::from_static("keep-alive"));
        h.append("vary", HeaderValue::from_static("Origin"));
        h.append("vary", HeaderValue::from_static("Accept-Encoding"));
        h.append(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        h.append("content-encoding", HeaderValue::from_static("gzip"));
        let p = prelude_from_upstream(StatusCode::FOUND, &h);
        assert_eq!(p.status_code, StatusCode::FOUND);
        assert_eq!(
            p.cookies,
            vec![
                "a=1; Path=/; HttpOnly",
                "b=2, with comma; Expires=Wed, 21 Oct 2026 07:28:00 GMT"
            ]
        );
        assert!(p.headers.get(SET_COOKIE).is_none());
        assert!(p.headers.get("transfer-encoding").is_none());
        assert!(p.headers.get("connection").is_none());
        assert_eq!(
            p.headers.get("vary").map(|v| v.as_bytes()),
            Some(&b"Origin, Accept-Encoding"[..])
        );
        assert_eq!(
            p.headers.get("content-encoding").map(|v| v.as_bytes()),
            Some(&b"gzip"[..])
        );
    }

    #[test]
    fn prelude_serializes_like_lambda_expects() {
        let mut h = HeaderMap::new();
        h.append(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        let p = prelude_from_upstream(StatusCode::OK, &h);
        let v = serde_json::to_value(&p).expect("serializes");
        assert_eq!(v["statusCode"], 200);
        assert_eq!(v["headers"]["content-type"], "text/event-stream");
        assert_eq!(v["cookies"], serde_json::json!([]));
    }

    #[test]
    fn event_stream_detection() {
        let mut h = HeaderMap::new();
        assert!(!is_event_stream(&h));
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("Text/Event-Stream; charset=utf-8"),
        );
        assert!(is_event_stream(&h));
    }

    #[test]
    fn error_bodies() {
        let (p, b) = json_error(
            StatusCode::BAD_GATEWAY,
            "upstream_unavailable",
            "connection refused",
        );
        assert_eq!(p.status_code, StatusCode::BAD_GATEWAY);
        let v: serde_json::Value = serde_json::from_slice(&b).expect("json");
        assert_eq!(v["error"], "upstream_unavailable");
        assert_eq!(v["detail"], "connection refused");
        let e = sse_error_event("lambda_deadline", None);
        assert_eq!(
            &e[..],
            b"\n\nevent: error\ndata: {\"error\":\"lambda_deadline\"}\n\n"
        );
    }
}
