//! Diagnostics endpoints for the console (docs/contracts.md section 2).

use crate::event::ProxyRequest;
use http::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const STATUS_PATH: &str = "/api/__shim/status";
pub const SSE_PATH: &str = "/api/__shim/sse";
pub const TOKEN_HEADER: &str = "x-opsconsole-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagRoute {
    Status,
    Sse { events: u32, interval_ms: u64 },
}

fn eq_constant_time(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A diagnostics request only if the path matches, the method is GET and the token is right.
pub fn route(req: &ProxyRequest, token: Option<&str>) -> Option<DiagRoute> {
    let token = token.filter(|t| !t.is_empty())?;
    if req.method != Method::GET {
        return None;
    }
    let sent = req.header(TOKEN_HEADER)?;
    if !eq_constant_time(sent.as_bytes(), token.as_bytes()) {
        return None;
    }
    match req.path.as_str() {
        STATUS_PATH => Some(DiagRoute::Status),
        SSE_PATH => {
            let (events, interval_ms) = sse_params(&req.query);
            Some(DiagRoute::Sse {
                events,
                interval_ms,
            })
        }
        _ => None,
    }
}

/// `events` (default 10, at most 1000) and `interval_ms` (default 200, at most 10000).
pub fn sse_params(query: &str) -> (u32, u64) {
    let mut events = 10u32;
    let mut interval = 200u64;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "events" => {
                if let Ok(n) = v.parse::<u32>() {
                    events = n.min(1000);
                }
            }
            "interval_ms" => {
                if let Ok(n) = v.parse::<u64>() {
                    interval = n.min(10_000);
                }
            }
            _ => {}
        }
    }
    (events, interval)
}

pub fn now_ms_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

pub fn sse_probe_event(seq: u32, total: u32, sent_at_ms: f64) -> String {
    // Field order as in the contract (serde_json's map would sort the keys).
    let sent = serde_json::to_string(&sent_at_ms).unwrap_or_else(|_| "null".into());
    format!(
        "id: {seq}\nevent: probe\ndata: {{\"seq\":{seq},\"sent_at_ms\":{sent},\"total\":{total}}}\n\n"
    )
}

pub fn sse_done_event(total: u32) -> String {
    format!("event: done\ndata: {}\n\n", json!({"total": total}))
}

/// Redis PING over RESP on a plain TCP connection: round-trip in ms, or the error.
/// `rediss://` (TLS) is reported as unsupported.
pub async fn redis_ping(uri: Option<&str>, timeout: Duration) -> Result<f64, String> {
    let uri = uri.ok_or_else(|| "REDIS_URI is not set".to_string())?;
    let rest = if let Some(r) = uri.strip_prefix("redis://") {
        r
    } else if uri.starts_with("rediss://") {
        return Err("rediss:// (TLS) is not supported by the shim's PING".into());
    } else {
        uri
    };
    let hostport = rest.split('/').next().unwrap_or(rest);
    let hostport = hostport.rsplit('@').next().unwrap_or(hostport);
    let addr = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:6379")
    };
    let work = async {
        let start = Instant::now();
        let mut s = tokio::net::TcpStream::connect(&addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        s.write_all(b"*1\r\n$4\r\nPING\r\n")
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).await.map_err(|e| format!("read: {e}"))?;
        let reply = String::from_utf8_lossy(&buf[..n]);
        if reply.starts_with("+PONG") {
            Ok(start.elapsed().as_secs_f64() * 1000.0)
        } else {
            Err(format!("unexpected reply: {}", reply.trim()))
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(format!("timed out after {} ms", timeout.as_millis())),
    }
}

/// Inputs of the status document.
#[derive(Debug, Clone)]
pub struct StatusInputs {
    pub instance_id: String,
    pub cold_start: bool,
    pub uptime_ms: u64,
    pub config_ms: Option<f64>,
    pub secrets_ms: Option<f64>,
    pub spawn_to_ready_ms: Option<f64>,
    pub total_ms: Option<f64>,
    pub health: Result<(u16, f64), String>,
    pub redis: Result<f64, String>,
    pub config_sha256: Option<String>,
}

pub fn status_json(i: &StatusInputs) -> Value {
    let librechat = match &i.health {
        Ok((status, latency)) => json!({
            "healthy": (200..300).contains(status),
            "status": status,
            "latency_ms": latency,
            "error": Value::Null,
        }),
        Err(e) => {
            json!({"healthy": false, "status": Value::Null, "latency_ms": Value::Null, "error": e})
        }
    };
    let redis = match &i.redis {
        Ok(rtt) => json!({"ok": true, "rtt_ms": rtt, "error": Value::Null}),
        Err(e) => json!({"ok": false, "rtt_ms": Value::Null, "error": e}),
    };
    json!({
        "shim_version": env!("CARGO_PKG_VERSION"),
        "instance_id": i.instance_id,
        "cold_start": i.cold_start,
        "uptime_ms": i.uptime_ms,
        "init": {
            "config_ms": i.config_ms,
            "secrets_ms": i.secrets_ms,
            "spawn_to_ready_ms": i.spawn_to_ready_ms,
            "total_ms": i.total_ms,
        },
        "librechat": librechat,
        "redis": redis,
        "config_sha256": i.config_sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventKind, ProxyRequest};
    use bytes::Bytes;
    use http::{HeaderName, HeaderValue};

    fn req(method: Method, path: &str, query: &str, token: Option<&str>) -> ProxyRequest {
        let mut headers = Vec::new();
        if let Some(t) = token {
            headers.push((
                HeaderName::from_static(TOKEN_HEADER),
                HeaderValue::from_str(t).expect("valid"),
            ));
        }
        ProxyRequest {
            kind: EventKind::RestV1,
            method,
            path: path.into(),
            query: query.into(),
            headers,
            body: Bytes::new(),
        }
    }

    #[test]
    fn routes_only_with_the_right_token() {
        assert_eq!(
            route(
                &req(Method::GET, STATUS_PATH, "", Some("s3cret")),
                Some("s3cret")
            ),
            Some(DiagRoute::Status)
        );
        assert_eq!(
            route(
                &req(Method::GET, STATUS_PATH, "", Some("wrong")),
                Some("s3cret")
            ),
            None
        );
        assert_eq!(
            route(&req(Method::GET, STATUS_PATH, "", None), Some("s3cret")),
            None
        );
        assert_eq!(
            route(&req(Method::GET, STATUS_PATH, "", Some("s3cret")), None),
            None
        );
        assert_eq!(
            route(
                &req(Method::POST, STATUS_PATH, "", Some("s3cret")),
                Some("s3cret")
            ),
            None
        );
        assert_eq!(
            route(
                &req(Method::GET, "/api/other", "", Some("s3cret")),
                Some("s3cret")
            ),
            None
        );
        assert_eq!(
            route(
                &req(Method::GET, SSE_PATH, "events=3&interval_ms=50", Some("t")),
                Some("t")
            ),
            Some(DiagRoute::Sse {
                events: 3,
                interval_ms: 50
            })
        );
    }

    #[test]
    fn sse_params_defaults_and_caps() {
        assert_eq!(sse_params(""), (10, 200));
        assert_eq!(sse_params("events=5000&interval_ms=99999"), (1000, 10_000));
        assert_eq!(sse_params("events=x&interval_ms=-1"), (10, 200));
    }

    #[test]
    fn sse_event_format() {
        let e = sse_probe_event(3, 10, 1763769600123.456);
        assert_eq!(
            e,
            "id: 3\nevent: probe\ndata: {\"seq\":3,\"sent_at_ms\":1763769600123.456,\"total\":10}\n\n"
        );
        assert_eq!(sse_done_event(10), "event: done\ndata: {\"total\":10}\n\n");
    }

    #[test]
    fn status_document_has_contract_fields() {
        let v = status_json(&StatusInputs {
            instance_id: "id".into(),
            cold_start: true,
            uptime_ms: 5,
            config_ms: Some(1.0),
            secrets_ms: Some(2.0),
            spawn_to_ready_ms: Some(3.0),
            total_ms: Some(4.0),
            health: Ok((200, 1.5)),
            redis: Err("REDIS_URI is not set".into()),
            config_sha256: Some("ab".into()),
        });
        assert_eq!(v["shim_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["cold_start"], true);
        assert_eq!(v["init"]["spawn_to_ready_ms"], 3.0);
        assert_eq!(v["librechat"]["healthy"], true);
        assert_eq!(v["librechat"]["error"], Value::Null);
        assert_eq!(v["redis"]["ok"], false);
        assert_eq!(v["redis"]["error"], "REDIS_URI is not set");
        assert_eq!(v["config_sha256"], "ab");
    }

    #[tokio::test]
    async fn redis_ping_reports_errors() {
        assert_eq!(
            redis_ping(None, Duration::from_secs(1)).await,
            Err("REDIS_URI is not set".into())
        );
        assert!(
            redis_ping(Some("rediss://x:6379"), Duration::from_secs(1))
                .await
                .is_err()
        );
        // A closed port on loopback: connection refused, reported not panicked.
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        let r = redis_ping(
            Some(&format!("redis://127.0.0.1:{port}")),
            Duration::from_secs(2),
        )
        .await;
        assert!(r.is_err_and(|e| e.contains("connect")));
    }
}
