//! The stand-in's S3 origin: what CloudFront does for the default behaviour of the frontend
//! module's distribution. The object comes from the frontend bucket (in moto) with the
//! metadata the upload gave it (`Content-Type`, `Cache-Control`, `ETag`); a missing key is
//! S3's `403 AccessDenied` (a bucket behind an origin access control without `s3:ListBucket`);
//! `If-None-Match` gets `304`; the body is compressed when the behaviour compresses and the
//! viewer accepts it ([`crate::distribution::compression`]). Compressed copies are kept per
//! ETag, as an edge keeps the compressed variant; the objects themselves are read from the
//! bucket on each request (a cache miss every time), so a new upload is seen at once.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Mutex;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};

use super::Body;
use crate::distribution::{Behaviours, Encoding, compression};

/// The frontend bucket behind the default behaviour.
pub(crate) struct FrontendOrigin {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub behaviours: Behaviours,
    /// Compressed bodies by (ETag, encoding).
    compressed: Mutex<HashMap<(String, &'static str), Bytes>>,
}

impl std::fmt::Debug for FrontendOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrontendOrigin")
            .field("bucket", &self.bucket)
            .field("behaviours", &self.behaviours)
            .finish_non_exhaustive()
    }
}

impl FrontendOrigin {
    pub(crate) fn new(s3: aws_sdk_s3::Client, bucket: String, behaviours: Behaviours) -> Self {
        FrontendOrigin {
            s3,
            bucket,
            behaviours,
            compressed: Mutex::new(HashMap::new()),
        }
    }
}

fn full(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut r = Response::new(Full::new(body).map_err(|e| match e {}).boxed());
    *r.status_mut() = status;
    r
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut r = full(status, Bytes::from(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    r
}

fn compress(enc: Encoding, data: &[u8]) -> std::io::Result<Vec<u8>> {
    match enc {
        Encoding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            e.write_all(data)?;
            e.finish()
        }
        Encoding::Br => {
            let mut out = Vec::new();
            {
                // Quality 5: an edge compresses on the fly, not at brotli's slow maximum.
                let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 5, 22);
                w.write_all(data)?;
                w.flush()?;
            }
            Ok(out)
        }
    }
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: Option<&str>) {
    if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(name, v);
    }
}

/// Answers one request of the default behaviour from the bucket (`key` after the viewer
/// request function).
pub(crate) async fn serve(
    origin: &FrontendOrigin,
    method: &Method,
    headers: &HeaderMap,
    key: &str,
    behaviour_compresses: bool,
) -> Response<Body> {
    // The default behaviour's allowed methods (the module's default): GET and HEAD.
    if method != Method::GET && method != Method::HEAD {
        return s3_error(
            StatusCode::FORBIDDEN,
            "MethodNotAllowed",
            "This distribution is not configured to allow the HTTP request method that was used for this request.",
        );
    }
    let obj = match origin
        .s3
        .get_object()
        .bucket(&origin.bucket)
        .key(key)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => {
            let not_found = e.as_service_error().is_some_and(|s| s.is_no_such_key());
            if not_found {
                return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied");
            }
            tracing::warn!(error = %aws_smithy_types::error::display::DisplayErrorContext(&e), key, "frontend origin: GetObject failed");
            return s3_error(
                StatusCode::BAD_GATEWAY,
                "OriginError",
                "the frontend bucket did not answer",
            );
        }
    };
    let content_type = obj.content_type().map(str::to_string);
    let cache_control = obj.cache_control().map(str::to_string);
    let etag = obj.e_tag().map(str::to_string);
    let last_modified = obj
        .last_modified()
        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::HttpDate).ok());
    let already_encoded = obj.content_encoding().is_some();
    let content_encoding = obj.content_encoding().map(str::to_string);
    let mut out = HeaderMap::new();
    set(&mut out, header::CONTENT_TYPE, content_type.as_deref());
    set(&mut out, header::CACHE_CONTROL, cache_control.as_deref());
    set(&mut out, header::ETAG, etag.as_deref());
    set(&mut out, header::LAST_MODIFIED, last_modified.as_deref());
    set(
        &mut out,
        header::CONTENT_ENCODING,
        content_encoding.as_deref(),
    );
    out.insert(
        header::VIA,
        HeaderValue::from_static("1.1 opsconsole-sandbox (CloudFront stand-in, S3 origin)"),
    );
    if let (Some(tag), Some(inm)) = (
        etag.as_deref(),
        headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok()),
    ) && inm.split(',').any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/") == tag
    }) {
        let mut r = full(StatusCode::NOT_MODIFIED, Bytes::new());
        *r.headers_mut() = out;
        return r;
    }
    let data = match obj.body.collect().await {
        Ok(d) => d.into_bytes(),
        Err(e) => {
            tracing::warn!(error = %e, key, "frontend origin: reading the object failed");
            return s3_error(
                StatusCode::BAD_GATEWAY,
                "OriginError",
                "reading the object failed",
            );
        }
    };
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let enc = compression(
        behaviour_compresses,
        accept,
        content_type.as_deref().unwrap_or(""),
        data.len(),
        already_encoded,
    );
    let body = match enc {
        None => data,
        Some(enc) => {
            let cache_key = (etag.clone().unwrap_or_default(), enc.name());
            let cached = origin
                .compressed
                .lock()
                .ok()
                .and_then(|m| m.get(&cache_key).cloned());
            let compressed = match cached {
                Some(c) => Some(c),
                None => {
                    let raw = data.clone();
                    match tokio::task::spawn_blocking(move || compress(enc, &raw)).await {
                        Ok(Ok(c)) => {
                            let c = Bytes::from(c);
                            if etag.is_some()
                                && let Ok(mut m) = origin.compressed.lock()
                            {
                                m.insert(cache_key, c.clone());
                            }
                            Some(c)
                        }
                        _ => None,
                    }
                }
            };
            match compressed {
                Some(c) => {
                    out.insert(
                        header::CONTENT_ENCODING,
                        HeaderValue::from_static(enc.name()),
                    );
                    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
                    c
                }
                None => data,
            }
        }
    };
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        body
    };
    let mut r = full(StatusCode::OK, body);
    *r.headers_mut() = out;
    r
}
