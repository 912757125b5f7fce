//! Lambda event -> HTTP request translation (API Gateway REST v1, HTTP API / Function URL v2).
//!
//! Pure functions: no I/O. Every malformed input becomes an [`EventError`] (answered with 400),
//! never a panic.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

/// Limits applied to incoming requests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest single header value, in bytes.
    pub max_header_value: usize,
    /// Largest sum of all header names and values, in bytes.
    pub max_header_total: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_value: 16 * 1024,
            max_header_total: 64 * 1024,
        }
    }
}

/// Which kind of event was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// API Gateway REST API proxy event (payload format 1.0).
    RestV1,
    /// HTTP API / Function URL event (payload format 2.0).
    HttpV2,
}

/// The HTTP request to send to LibreChat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    pub kind: EventKind,
    pub method: Method,
    /// Path without the stage, always starting with `/`.
    pub path: String,
    /// Encoded query string without the leading `?` (may be empty).
    pub query: String,
    /// Header (lower-case name, value) pairs, repeated names kept in order.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl ProxyRequest {
    /// Path and query as sent on the request line.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// First value of a header, as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.to_str().ok())
    }
}

/// Why an event could not be translated. Answered with `400` and this reason.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("event is not a JSON object")]
    NotAnObject,
    #[error("event is neither an API Gateway v1 nor a v2 proxy event")]
    UnknownShape,
    #[error("invalid HTTP method")]
    BadMethod,
    #[error("invalid path")]
    BadPath,
    #[error("field `{0}` has the wrong type")]
    BadField(&'static str),
    #[error("body is not valid base64")]
    BadBase64,
    #[error("invalid header name `{0}`")]
    BadHeaderName(String),
    #[error("invalid value for header `{0}`")]
    BadHeaderValue(String),
    #[error("header `{0}` is larger than {1} bytes")]
    HeaderTooLarge(String, usize),
    #[error("headers are larger than {0} bytes in total")]
    HeadersTooLarge(usize),
}

impl EventError {
    /// Short machine-readable reason, used in JSON errors and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            EventError::NotAnObject | EventError::UnknownShape | EventError::BadField(_) => {
                "malformed_event"
            }
            EventError::BadMethod => "bad_method",
            EventError::BadPath => "bad_path",
            EventError::BadBase64 => "bad_base64",
            EventError::BadHeaderName(_) | EventError::BadHeaderValue(_) => "invalid_header",
            EventError::HeaderTooLarge(..) | EventError::HeadersTooLarge(_) => "header_too_large",
        }
    }
}

/// Hop-by-hop headers (RFC 9110 7.6.1) plus ones the proxy recomputes.
pub(crate) const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Request headers the shim does not pass on to LibreChat. `Accept-Encoding`: LibreChat's
/// `compression` middleware compresses `text/event-stream` too and never flushes per event, so
/// with a browser's `gzip, deflate, br` a whole chat stream arrives in one piece at the end.
/// Without it LibreChat answers uncompressed and every event is written when it is produced.
pub(crate) const NOT_FORWARDED: &[&str] = &["accept-encoding"];

/// Characters escaped in a query component: everything but RFC 3986 unreserved.
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn str_field<'a>(
    obj: &'a Map<String, Value>,
    key: &'static str,
) -> Result<Option<&'a str>, EventError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(EventError::BadField(key)),
    }
}

fn obj_field<'a>(
    obj: &'a Map<String, Value>,
    key: &'static str,
) -> Result<Option<&'a Map<String, Value>>, EventError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(EventError::BadField(key)),
    }
}

fn bool_field(obj: &Map<String, Value>, key: &'static str) -> Result<bool, EventError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(EventError::BadField(key)),
    }
}

/// Values of a `{name: [v, ...]}` or `{name: v}` map as (name, value) pairs.
fn multi_map(
    obj: &Map<String, Value>,
    key: &'static str,
) -> Result<Vec<(String, String)>, EventError> {
    let Some(m) = obj_field(obj, key)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, v) in m {
        match v {
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(s) => out.push((name.clone(), s.clone())),
                        Value::Null => {}
                        _ => return Err(EventError::BadField(key)),
                    }
                }
            }
            Value::String(s) => out.push((name.clone(), s.clone())),
            Value::Null => {}
            _ => return Err(EventError::BadField(key)),
        }
    }
    Ok(out)
}

fn decode_body(obj: &Map<String, Value>) -> Result<Bytes, EventError> {
    let body = str_field(obj, "body")?.unwrap_or("");
    if bool_field(obj, "isBase64Encoded")? {
        B64.decode(body.as_bytes())
            .map(Bytes::from)
            .map_err(|_| EventError::BadBase64)
    } else {
        Ok(Bytes::copy_from_slice(body.as_bytes()))
    }
}

fn parse_method(m: &str) -> Result<Method, EventError> {
    Method::from_bytes(m.as_bytes()).map_err(|_| EventError::BadMethod)
}

fn check_path(p: &str) -> Result<String, EventError> {
    let p = if p.is_empty() { "/" } else { p };
    if !p.starts_with('/') {
        return Err(EventError::BadPath);
    }
    // Encode what cannot go on a request line as-is (spaces, controls, non-ASCII); keep the rest.
    const PATH_SET: &AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}');
    let encoded = utf8_percent_encode(p, PATH_SET).to_string();
    if http::uri::PathAndQuery::try_from(encoded.as_str()).is_err() {
        return Err(EventError::BadPath);
    }
    Ok(encoded)
}

/// Remove `/{stage}` from the front of `path` (not for `$default`).
fn strip_stage(path: &str, stage: Option<&str>) -> String {
    match stage {
        Some(stage) if !stage.is_empty() && stage != "$default" => {
            let prefix = format!("/{stage}");
            if path == prefix {
                "/".to_string()
            } else if let Some(rest) = path.strip_prefix(&prefix).filter(|r| r.starts_with('/')) {
                rest.to_string()
            } else {
                path.to_string()
            }
        }
        _ => path.to_string(),
    }
}

/// Translate a Lambda event (already parsed as JSON) into the request for LibreChat.
pub fn parse_event(event: &Value, limits: Limits) -> Result<ProxyRequest, EventError> {
    let obj = event.as_object().ok_or(EventError::NotAnObject)?;
    let is_v2 = str_field(obj, "version")? == Some("2.0")
        || (obj.contains_key("rawPath") && !obj.contains_key("httpMethod"));
    if is_v2 {
        parse_v2(obj, limits)
    } else if obj.contains_key("httpMethod") {
        parse_v1(obj, limits)
    } else {
        Err(EventError::UnknownShape)
    }
}

fn parse_v1(obj: &Map<String, Value>, limits: Limits) -> Result<ProxyRequest, EventError> {
    let method = parse_method(str_field(obj, "httpMethod")?.ok_or(EventError::BadMethod)?)?;
    let ctx = obj_field(obj, "requestContext")?;
    let stage = ctx.map(|c| str_field(c, "stage")).transpose()?.flatten();
    let ctx_path = ctx.map(|c| str_field(c, "path")).transpose()?.flatten();
    let raw_path = str_field(obj, "path")?.unwrap_or("/");
    // `path` of a REST event normally has no stage (`requestContext.path` has it). Strip it only
    // when `path` itself carries it, i.e. when it equals the stage-qualified context path.
    let path = match ctx_path {
        Some(cp) if cp == raw_path => strip_stage(raw_path, stage),
        None => raw_path.to_string(),
        Some(_) => raw_path.to_string(),
    };
    let path = check_path(&path)?;

    let mut query_pairs = multi_map(obj, "multiValueQueryStringParameters")?;
    if query_pairs.is_empty() {
        query_pairs = multi_map(obj, "queryStringParameters")?;
    }
    let query = query_pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, QUERY_COMPONENT),
                utf8_percent_encode(v, QUERY_COMPONENT)
            )
        })
        .collect::<Vec<_>>()
        .join("&");

    let mut header_pairs = multi_map(obj, "multiValueHeaders")?;
    if header_pairs.is_empty() {
        header_pairs = multi_map(obj, "headers")?;
    }
    let source_ip = ctx
        .map(|c| obj_field(c, "identity"))
        .transpose()?
        .flatten()
        .map(|i| str_field(i, "sourceIp"))
        .transpose()?
        .flatten();
    let headers = build_headers(header_pairs, source_ip, limits)?;
    Ok(ProxyRequest {
        kind: EventKind::RestV1,
        method,
        path,
        query,
        headers,
        body: decode_body(obj)?,
    })
}

fn parse_v2(obj: &Map<String, Value>, limits: Limits) -> Result<ProxyRequest, EventError> {
    let ctx = obj_field(obj, "requestContext")?.ok_or(EventError::BadField("requestContext"))?;
    let http_ctx = obj_field(ctx, "http")?.ok_or(EventError::BadField("requestContext.http"))?;
    let method = parse_method(str_field(http_ctx, "method")?.ok_or(EventError::BadMethod)?)?;
    let stage = str_field(ctx, "stage")?;
    let raw_path = str_field(obj, "rawPath")?.unwrap_or("/");
    let path = check_path(&strip_stage(raw_path, stage))?;
    let query = str_field(obj, "rawQueryString")?.unwrap_or("").to_string();
    if http::uri::PathAndQuery::try_from(format!("/?{query}").as_str()).is_err() {
        return Err(EventError::BadField("rawQueryString"));
    }
    let mut header_pairs = multi_map(obj, "headers")?;
    if let Some(Value::Array(cookies)) = obj.get("cookies") {
        let cookies: Vec<&str> = cookies.iter().filter_map(Value::as_str).collect();
        if !cookies.is_empty() {
            header_pairs.retain(|(n, _)| !n.eq_ignore_ascii_case("cookie"));
            header_pairs.push(("cookie".to_string(), cookies.join("; ")));
        }
    } else if !matches!(obj.get("cookies"), None | Some(Value::Null)) {
        return Err(EventError::BadField("cookies"));
    }
    let source_ip = str_field(http_ctx, "sourceIp")?;
    let headers = build_headers(header_pairs, source_ip, limits)?;
    Ok(ProxyRequest {
        kind: EventKind::HttpV2,
        method,
        path,
        query,
        headers,
        body: decode_body(obj)?,
    })
}

/// Validate headers, drop hop-by-hop ones and add X-Forwarded-*.
fn build_headers(
    pairs: Vec<(String, String)>,
    source_ip: Option<&str>,
    limits: Limits,
) -> Result<Vec<(HeaderName, HeaderValue)>, EventError> {
    let mut total = 0usize;
    let mut out: Vec<(HeaderName, HeaderValue)> = Vec::with_capacity(pairs.len() + 3);
    // Names listed in Connection are hop-by-hop too.
    let connection_listed: Vec<String> = pairs
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_ascii_lowercase()))
        .collect();
    for (name, value) in pairs {
        total = total.saturating_add(name.len() + value.len());
        if total > limits.max_header_total {
            return Err(EventError::HeadersTooLarge(limits.max_header_total));
        }
        if value.len() > limits.max_header_value {
            return Err(EventError::HeaderTooLarge(name, limits.max_header_value));
        }
        let hn = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| EventError::BadHeaderName(name.clone()))?;
        let lname = hn.as_str();
        if HOP_BY_HOP.contains(&lname)
            || NOT_FORWARDED.contains(&lname)
            || lname == "content-length"
            || connection_listed.iter().any(|c| c == lname)
        {
            continue;
        }
        let hv =
            HeaderValue::from_str(&value).map_err(|_| EventError::BadHeaderValue(name.clone()))?;
        out.push((hn, hv));
    }
    let has =
        |out: &Vec<(HeaderName, HeaderValue)>, n: &str| out.iter().any(|(h, _)| h.as_str() == n);
    if !has(&out, "x-forwarded-for")
        && let Some(ip) = source_ip
        && let Ok(v) = HeaderValue::from_str(ip)
    {
        out.push((HeaderName::from_static("x-forwarded-for"), v));
    }
    if !has(&out, "x-forwarded-proto") {
        out.push((
            HeaderName::from_static("x-forwarded-proto"),
            HeaderValue::from_static("https"),
        ));
    }
    if !has(&out, "x-forwarded-host")
        && let Some(host) = out
            .iter()
            .find(|(h, _)| h.as_str() == "host")
            .map(|(_, v)| v.clone())
    {
        out.push((HeaderName::from_static("x-forwarded-host"), host));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v1(extra: Value) -> Value {
        let mut base = json!({
            "resource": "/{proxy+}",
            "path": "/api/ask/openAI",
            "httpMethod": "POST",
            "requestContext": {"stage": "prod", "path": "/prod/api/ask/openAI",
                               "identity": {"sourceIp": "203.0.113.9"}},
            "isBase64Encoded": false,
            "body": null
        });
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        base
    }

    fn hv(r: &ProxyRequest, name: &str) -> Vec<String> {
        r.headers
            .iter()
            .filter(|(n, _)| n.as_str() == name)
            .map(|(_, v)| v.to_str().unwrap_or("?").to_string())
            .collect()
    }

    #[test]
    fn v1_multi_value_headers_and_query() {
        let ev = v1(json!({
            "multiValueHeaders": {"Accept": ["text/event-stream"], "X-Multi": ["a", "b"],
                                   "Host": ["api.example.com"], "Connection": ["keep-alive, X-Drop"],
                                   "X-Drop": ["x"], "Content-Length": ["99"]},
            "headers": {"X-Multi": "b"},
            "multiValueQueryStringParameters": {"q": ["a b&c", "é"], "empty": [""]},
            "queryStringParameters": {"q": "é"}
        }));
        let r = parse_event(&ev, Limits::default()).expect("parses");
        assert_eq!(r.kind, EventKind::RestV1);
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.path, "/api/ask/openAI");
        assert_eq!(r.query, "empty=&q=a%20b%26c&q=%C3%A9");
        assert_eq!(hv(&r, "x-multi"), vec!["a", "b"]);
        assert!(hv(&r, "connection").is_empty());
        assert!(
            hv(&r, "x-drop").is_empty(),
            "headers listed in Connection are hop-by-hop"
        );
        assert!(hv(&r, "content-length").is_empty());
        assert_eq!(hv(&r, "x-forwarded-for"), vec!["203.0.113.9"]);
        assert_eq!(hv(&r, "x-forwarded-proto"), vec!["https"]);
        assert_eq!(hv(&r, "x-forwarded-host"), vec!["api.example.com"]);
    }

    #[test]
    fn accept_encoding_is_not_forwarded() {
        let ev = v1(json!({
            "multiValueHeaders": {"Accept-Encoding": ["gzip, deflate, br"], "Accept": ["text/event-stream"]}
        }));
        let r = parse_event(&ev, Limits::default()).expect("parses");
        assert!(hv(&r, "accept-encoding").is_empty());
        assert_eq!(hv(&r, "accept"), vec!["text/event-stream"]);
    }

    #[test]
    fn v1_keeps_existing_forwarded_headers() {
        let ev = v1(
            json!({"headers": {"X-Forwarded-For": "1.2.3.4, 5.6.7.8", "X-Forwarded-Proto": "http"}}),
        );
        let r = parse_event(&ev, Limits::default()).expect("parses");
        assert_eq!(hv(&r, "x-forwarded-for"), vec!["1.2.3.4, 5.6.7.8"]);
        assert_eq!(hv(&r, "x-forwarded-proto"), vec!["http"]);
    }

    #[test]
    fn v1_binary_body_base64() {
        let ev = v1(json!({"body": "AAEC/w==", "isBase64Encoded": true}));
        let r = parse_event(&ev, Limits::default()).expect("parses");
        assert_eq!(&r.body[..], &[0u8, 1, 2, 255]);
        let ev = v1(json!({"body": "not base64!!", "isBase64Encoded": true}));
        assert_eq!(
            parse_event(&ev, Limits::default()),
            Err(EventError::BadBase64)
        );
    }

    #[test]
    fn v1_empty_and_text_body() {
        let r = parse_event(&v1(json!({})), Limits::default()).expect("parses");
        assert!(r.body.is_empty());
        let r = parse_event(&v1(json!({"body": "{\"a\":1}"})), Limits::default()).expect("parses");
        assert_eq!(&r.body[..], b"{\"a\":1}");
    }

    #[test]
    fn v1_stage_stripping() {
        // `path` without stage: unchanged, even when it begins like the stage name.
        let ev = v1(
            json!({"path": "/prod/x", "requestContext": {"stage": "prod", "path": "/prod/prod/x"}}),
        );
        assert_eq!(
            parse_event(&ev, Limits::default()).map(|r| r.path),
            Ok("/prod/x".into())
        );
        // `path` carrying the stage (equal to the context path): stripped.
        let ev = v1(
            json!({"path": "/prod/api/health", "requestContext": {"stage": "prod", "path": "/prod/api/health"}}),
        );
        assert_eq!(
            parse_event(&ev, Limits::default()).map(|r| r.path),
            Ok("/api/health".into())
        );
        let ev = v1(
            json!({"path": "/api/health", "requestContext": {"stage": "$default", "path": "/api/health"}}),
        );
        assert_eq!(
            parse_event(&ev, Limits::default()).map(|r| r.path),
            Ok("/api/health".into())
        );
    }

    #[test]
    fn v2_event() {
        let ev = json!({
            "version": "2.0", "routeKey": "$default",
            "rawPath": "/dev/api/chat/x", "rawQueryString": "a=1&a=2&b=%20",
            "cookies": ["s=1", "t=2"],
            "headers": {"accept": "text/event-stream", "cookie": "old=1", "host": "h.example"},
            "requestContext": {"stage": "dev", "http": {"method": "GET", "sourceIp": "198.51.100.1"}},
            "isBase64Encoded": true, "body": "aGk="
        });
        let r = parse_event(&ev, Limits::default()).expect("parses");
        assert_eq!(r.kind, EventKind::HttpV2);
        assert_eq!(r.method, Method::GET);
        assert_eq!(r.path, "/api/chat/x");
        assert_eq!(r.query, "a=1&a=2&b=%20");
        assert_eq!(r.path_and_query(), "/api/chat/x?a=1&a=2&b=%20");
        assert_eq!(hv(&r, "cookie"), vec!["s=1; t=2"]);
        assert_eq!(hv(&r, "x-forwarded-for"), vec!["198.51.100.1"]);
        assert_eq!(&r.body[..], b"hi");
    }

    #[test]
    fn v2_default_stage_not_stripped() {
        let ev = json!({"version": "2.0", "rawPath": "/$default/x",
            "requestContext": {"stage": "$default", "http": {"method": "GET"}}});
        assert_eq!(
            parse_event(&ev, Limits::default()).map(|r| r.path),
            Ok("/$default/x".into())
        );
    }

    #[test]
    fn malformed_events_are_errors() {
        let l = Limits::default();
        assert_eq!(parse_event(&json!([1]), l), Err(EventError::NotAnObject));
        assert_eq!(
            parse_event(&json!({"foo": 1}), l),
            Err(EventError::UnknownShape)
        );
        assert_eq!(
            parse_event(&v1(json!({"httpMethod": "GE T"})), l),
            Err(EventError::BadMethod)
        );
        assert_eq!(
            parse_event(&v1(json!({"httpMethod": 5})), l),
            Err(EventError::BadField("httpMethod"))
        );
        assert_eq!(
            parse_event(&v1(json!({"path": "no-slash"})), l),
            Err(EventError::BadPath)
        );
        assert_eq!(
            parse_event(&v1(json!({"headers": {"bad name": "x"}})), l),
            Err(EventError::BadHeaderName("bad name".into()))
        );
        assert_eq!(
            parse_event(&v1(json!({"headers": {"x": "a\nb"}})), l),
            Err(EventError::BadHeaderValue("x".into()))
        );
        assert_eq!(
            parse_event(&v1(json!({"headers": {"x": 3}})), l),
            Err(EventError::BadField("headers"))
        );
    }

    #[test]
    fn oversized_headers_are_errors() {
        let l = Limits {
            max_header_value: 10,
            max_header_total: 30,
        };
        assert_eq!(
            parse_event(&v1(json!({"headers": {"x": "01234567890"}})), l),
            Err(EventError::HeaderTooLarge("x".into(), 10))
        );
        assert_eq!(
            parse_event(
                &v1(json!({"headers": {"a": "0123456789", "b": "0123456789", "c": "0123456789"}})),
                l
            ),
            Err(EventError::HeadersTooLarge(30))
        );
    }

    #[test]
    fn path_with_spaces_is_encoded() {
        let r = parse_event(&v1(json!({"path": "/a b/ü"})), Limits::default()).expect("parses");
        assert_eq!(r.path, "/a%20b/%C3%BC");
    }
}
