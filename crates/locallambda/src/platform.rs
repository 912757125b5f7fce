//! What Lambda itself writes and answers, as pure functions: the platform log lines (`START`,
//! `END`, `REPORT`, `INIT_REPORT`, the timeout line), the billed duration, log stream names, the
//! Invoke API's error bodies, and the decoding of a streamed HTTP-integration response's prelude.

use serde_json::{Value, json};

/// `START RequestId: ... Version: $LATEST`
pub fn start_line(request_id: &str) -> String {
    format!("START RequestId: {request_id} Version: $LATEST")
}

/// `END RequestId: ...`
pub fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

/// Billed duration in ms: the invocation rounded up to the next millisecond, plus the init phase
/// on the invocation that had one (Lambda bills the init of container-image functions).
pub fn billed_ms(duration_ms: f64, init_ms: Option<f64>) -> u64 {
    (duration_ms + init_ms.unwrap_or(0.0)).max(1.0).ceil() as u64
}

/// The `REPORT` line as Lambda writes it (tab-separated; `Init Duration` on a cold start,
/// `Status: timeout` after a timeout).
pub fn report_line(
    request_id: &str,
    duration_ms: f64,
    memory_mb: u32,
    max_memory_mb: u64,
    init_ms: Option<f64>,
    timed_out: bool,
) -> String {
    // Each field ends with a tab, the last one too, as in CloudWatch Logs.
    let mut s = format!(
        "REPORT RequestId: {request_id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {max_memory_mb} MB\t",
        billed_ms(duration_ms, init_ms)
    );
    if let Some(i) = init_ms {
        s.push_str(&format!("Init Duration: {i:.2} ms\t"));
    }
    if timed_out {
        s.push_str("Status: timeout\t");
    }
    s
}

/// `INIT_REPORT` of an init phase that hit Lambda's 10 s limit.
pub fn init_timeout_line(init_ms: f64) -> String {
    format!("INIT_REPORT Init Duration: {init_ms:.2} ms\tPhase: init\tStatus: timeout")
}

/// The line Lambda logs when an invocation runs past the function's timeout.
pub fn timeout_line(request_id: &str, timeout_secs: f64) -> String {
    format!("{request_id} Task timed out after {timeout_secs:.2} seconds")
}

/// A log stream name of the form Lambda uses: `YYYY/MM/DD/[$LATEST]<32 hex>`.
pub fn log_stream_name(date: time::Date, id_hex: &str) -> String {
    format!(
        "{:04}/{:02}/{:02}/[$LATEST]{id_hex}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Invoke's answer when the function is at its concurrency limit: HTTP 429, this body,
/// `x-amzn-ErrorType: TooManyRequestsException`.
pub fn throttle_body() -> Value {
    json!({
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
        "Type": "User",
        "message": "Rate Exceeded."
    })
}

/// A function error as Invoke returns it (HTTP 200, `X-Amz-Function-Error: Unhandled`).
pub fn function_error(error_type: &str, message: &str) -> Value {
    json!({ "errorType": error_type, "errorMessage": message })
}

/// Invoke's answer for a request payload over the synchronous limit (HTTP 413,
/// `x-amzn-ErrorType: RequestTooLargeException`).
pub fn request_too_large_body(size: usize) -> Value {
    json!({
        "Type": "User",
        "message": format!(
            "{size} byte payload is too large for the RequestResponse invocation type (limit {} bytes)",
            crate::MAX_SYNC_PAYLOAD
        )
    })
}

/// The HTTP head a streamed response's prelude (JSON before 8 NUL bytes, as `lambda_runtime`'s
/// `StreamResponse` writes it) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prelude {
    pub status: u16,
    /// Header name and value, in order; cookies as `set-cookie` headers.
    pub headers: Vec<(String, String)>,
}

/// Why a prelude could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PreludeError {
    #[error("the response's prelude is not JSON: {0}")]
    NotJson(String),
    #[error("the response's prelude has no valid statusCode")]
    NoStatus,
}

/// The prelude's JSON (the bytes before the 8-NUL delimiter) as an HTTP head.
pub fn parse_prelude(json: &[u8]) -> Result<Prelude, PreludeError> {
    let v: Value =
        serde_json::from_slice(json).map_err(|e| PreludeError::NotJson(e.to_string()))?;
    let status = v
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..=599).contains(s))
        .ok_or(PreludeError::NoStatus)?;
    let mut headers = Vec::new();
    for key in ["headers", "multiValueHeaders"] {
        if let Some(h) = v.get(key).and_then(Value::as_object) {
            for (k, val) in h {
                match val {
                    Value::String(s) => headers.push((k.clone(), s.clone())),
                    Value::Array(a) => {
                        for s in a.iter().filter_map(Value::as_str) {
                            headers.push((k.clone(), s.to_string()));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some(c) = v.get("cookies").and_then(Value::as_array) {
        for s in c.iter().filter_map(Value::as_str) {
            headers.push(("set-cookie".into(), s.to_string()));
        }
    }
    Ok(Prelude { status, headers })
}

/// Where the 8-NUL delimiter after the prelude starts in `buf`, if it is there yet.
pub fn find_delimiter(buf: &[u8]) -> Option<usize> {
    buf.windows(8).position(|w| w == [0u8; 8])
}

/// A small seeded random generator (splitmix64): the choice among idle environments is random,
/// as Lambda's is not "the last one used", and reproducible from a seed.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// An index below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// `bytes` random bytes as lowercase hex.
    pub fn hex(&mut self, bytes: usize) -> String {
        let mut s = String::with_capacity(bytes * 2);
        while s.len() < bytes * 2 {
            s.push_str(&format!("{:016x}", self.next_u64()));
        }
        s.truncate(bytes * 2);
        s
    }

    /// A request id shaped like Lambda's (a UUID).
    pub fn request_id(&mut self) -> String {
        let h = self.hex(16);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

/// Fake temporary credentials of the execution role, shaped as Lambda sets them: an `ASIA` key
/// id of 20 characters, a 40-character secret, a session token.
pub fn role_credentials(rng: &mut SplitMix64) -> [(&'static str, String); 3] {
    [
        (
            "AWS_ACCESS_KEY_ID",
            format!("ASIA{}", rng.hex(8).to_uppercase()),
        ),
        ("AWS_SECRET_ACCESS_KEY", rng.hex(20)),
        (
            "AWS_SESSION_TOKEN",
            format!("IQoJb3JpZ2luX2VjLocalLambda{}", rng.hex(32)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_credentials_look_like_lambdas() {
        let [(k, key), (s, secret), (t, token)] = role_credentials(&mut SplitMix64::new(3));
        assert_eq!(
            (k, s, t),
            (
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN"
            )
        );
        assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
        assert_eq!(secret.len(), 40);
        assert!(!token.is_empty());
    }

    #[test]
    fn report_line_is_lambdas() {
        assert_eq!(
            report_line("r1", 12.345, 1024, 90, Some(900.1), false),
            "REPORT RequestId: r1\tDuration: 12.35 ms\tBilled Duration: 913 ms\tMemory Size: 1024 MB\tMax Memory Used: 90 MB\tInit Duration: 900.10 ms\t"
        );
        assert_eq!(
            report_line("r2", 3000.0, 128, 20, None, true),
            "REPORT RequestId: r2\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tStatus: timeout\t"
        );
    }

    #[test]
    fn billed_duration_rounds_up_and_includes_init() {
        assert_eq!(billed_ms(0.2, None), 1);
        assert_eq!(billed_ms(10.01, None), 11);
        assert_eq!(billed_ms(10.0, Some(5.5)), 16);
    }

    #[test]
    fn prelude_maps_headers_and_cookies() {
        let p = parse_prelude(
            br#"{"statusCode":201,"headers":{"content-type":"text/event-stream","x-a":["1","2"]},"cookies":["a=b; HttpOnly"]}"#,
        )
        .expect("prelude");
        assert_eq!(p.status, 201);
        assert!(
            p.headers
                .contains(&("content-type".into(), "text/event-stream".into()))
        );
        assert!(p.headers.contains(&("x-a".into(), "2".into())));
        assert!(
            p.headers
                .contains(&("set-cookie".into(), "a=b; HttpOnly".into()))
        );
        assert_eq!(parse_prelude(b"{}"), Err(PreludeError::NoStatus));
        assert!(matches!(
            parse_prelude(b"nope"),
            Err(PreludeError::NotJson(_))
        ));
        assert_eq!(
            parse_prelude(br#"{"statusCode":42}"#),
            Err(PreludeError::NoStatus)
        );
    }

    #[test]
    fn delimiter_is_eight_nuls() {
        assert_eq!(find_delimiter(b"{}\0\0\0\0\0\0\0\0body"), Some(2));
        assert_eq!(find_delimiter(b"{}\0\0\0\0\0\0\0"), None);
    }

    #[test]
    fn choices_are_seeded_and_spread() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        let xs: Vec<usize> = (0..50).map(|_| a.below(3)).collect();
        let ys: Vec<usize> = (0..50).map(|_| b.below(3)).collect();
        assert_eq!(xs, ys);
        for k in 0..3 {
            assert!(xs.contains(&k), "index {k} never chosen in 50 draws");
        }
        let id = SplitMix64::new(1).request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }

    #[test]
    fn stream_names_look_like_lambdas() {
        let d = time::macros::date!(2026 - 12 - 07);
        assert_eq!(log_stream_name(d, "abc"), "2026/12/07/[$LATEST]abc");
    }
}
