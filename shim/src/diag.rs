//! Diagnostics endpoints for the console (docs/contracts.md section 2).

use crate::event::ProxyRequest;
use http::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The deployment's public health route (SC-003), answered by the shim itself: LibreChat v0.8.3+
/// answers unknown `/api/*` paths with 404 and has its health route at `/health`.
pub use opsconsole_wire::HEALTH_PATH as API_HEALTH_PATH;
use opsconsole_wire::sse::SseParams;
use opsconsole_wire::status::{DatabaseCheck, InitTimings, LibreChatCheck, RedisCheck, ShimStatus};
use opsconsole_wire::{SSE_PATH, STATUS_PATH, TOKEN_HEADER};

/// True for `GET`/`HEAD /api/health` (no token needed: the answer reveals no more than LibreChat's
/// own public `/health`).
pub(crate) fn is_api_health(req: &ProxyRequest) -> bool {
    (req.method == Method::GET || req.method == Method::HEAD) && req.path == API_HEALTH_PATH
}

/// The answer to `/api/health` from one check of LibreChat's liveness route: 200 when it answered
/// 2xx, else 503; the body says what was seen.
pub(crate) fn api_health_json(health: &Result<(u16, f64), String>) -> (u16, Value) {
    match health {
        Ok((status, latency)) if (200..300).contains(status) => (
            200,
            json!({"status": "ok", "librechat": {"status": status, "latency_ms": latency}, "source": "shim"}),
        ),
        Ok((status, latency)) => (
            503,
            json!({"status": "unhealthy", "librechat": {"status": status, "latency_ms": latency},
                   "error": format!("LibreChat's health route answered HTTP {status}"), "source": "shim"}),
        ),
        Err(e) => (
            503,
            json!({"status": "unhealthy", "librechat": {"status": Value::Null, "latency_ms": Value::Null},
                   "error": e, "source": "shim"}),
        ),
    }
}

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
            let p = SseParams::from_query(&req.query);
            Some(DiagRoute::Sse {
                events: p.events,
                interval_ms: p.interval_ms,
            })
        }
        _ => None,
    }
}

pub(crate) fn now_ms_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// What the shim's Redis PING connects with: the variables LibreChat itself reads (`REDIS_URI`,
/// `REDIS_USERNAME`, `REDIS_PASSWORD`, `REDIS_CA` = path of a PEM CA file), so the PING tells
/// whether LibreChat's own connection can work.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RedisTarget {
    pub uri: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub ca_file: Option<String>,
}

impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTarget")
            .field("uri_set", &self.uri.is_some())
            .field("username", &self.username)
            .field("password_set", &self.password.is_some())
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl RedisTarget {
    /// From a lookup (the resolved secrets first, then the environment: what LibreChat sees).
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> RedisTarget {
        let opt = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        RedisTarget {
            uri: opt("REDIS_URI"),
            username: opt("REDIS_USERNAME"),
            password: opt("REDIS_PASSWORD"),
            ca_file: opt("REDIS_CA"),
        }
    }
}

/// Redis PING from inside the VPC, with redis-rs: the round-trip in ms (connect, TLS handshake
/// and AUTH included), or the error. `redis://` and `rediss://` (TLS, verified against Mozilla's
/// roots, or only against the PEM CA in `REDIS_CA` when set); a bare `host[:port]` means
/// `redis://`; of a cluster's comma-separated list, the first node. Errors name the address,
/// never the password.
pub async fn redis_ping(target: &RedisTarget, timeout: Duration) -> Result<f64, String> {
    use redis::IntoConnectionInfo as _;
    let uri = target
        .uri
        .as_deref()
        .ok_or_else(|| "REDIS_URI is not set".to_string())?;
    // LibreChat takes a comma-separated list as a cluster's nodes: PING the first.
    let uri = uri.split(',').next().unwrap_or(uri).trim();
    let uri = if uri.contains("://") {
        uri.to_string()
    } else {
        format!("redis://{uri}")
    };
    let info = uri
        .as_str()
        .into_connection_info()
        .map_err(|e| format!("REDIS_URI is not a Redis URL ({})", e.category()))?;
    let addr = info.addr().to_string();
    let tls = matches!(info.addr(), redis::ConnectionAddr::TcpTls { .. });
    // Credentials in the URI win; REDIS_USERNAME / REDIS_PASSWORD fill in when it has none.
    let mut settings = info.redis_settings().clone();
    if settings.password().is_none()
        && let Some(p) = &target.password
    {
        settings = settings.set_password(p);
        if settings.username().is_none()
            && let Some(u) = &target.username
        {
            settings = settings.set_username(u);
        }
    }
    let info = info.set_redis_settings(settings);
    if tls {
        opsconsole_proc::tls::install_crypto_provider();
    }
    let client = match target.ca_file.as_deref() {
        Some(path) if tls => {
            let pem = std::fs::read(path).map_err(|e| format!("CA file {path}: {e}"))?;
            let certs = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem),
            };
            redis::Client::build_with_tls(info, certs)
        }
        _ => redis::Client::open(info),
    }
    .map_err(|e| format!("{addr}: {e}"))?;
    let work = async {
        let start = Instant::now();
        let mut con = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let reply: String = redis::cmd("PING")
            .query_async(&mut con)
            .await
            .map_err(|e| format!("PING {addr}: {e}"))?;
        if reply == "PONG" {
            Ok(start.elapsed().as_secs_f64() * 1000.0)
        } else {
            Err(format!("PING {addr}: unexpected reply {reply}"))
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "{addr}: no answer within {} ms",
            timeout.as_millis()
        )),
    }
}

/// What the status endpoint's database check uses: `MONGO_URI` (from the secrets, else the
/// environment) parsed, and what must never be printed of it.
#[derive(Clone)]
pub struct DatabaseTarget {
    pub target: Result<crate::mongo::MongoTarget, crate::mongo::UriError>,
    pub secrets: Vec<String>,
}

impl std::fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseTarget")
            .field("target", &self.target)
            .finish()
    }
}

impl DatabaseTarget {
    pub fn from_uri(uri: Option<&str>) -> DatabaseTarget {
        DatabaseTarget {
            target: crate::mongo::parse_uri(uri),
            secrets: crate::mongo::credentials(uri),
        }
    }
}

/// The database part of the status document: the in-VPC `ping` (bounded by `timeout`), and
/// LibreChat's newest log line with the connection-failure signature (`watched`, with its age)
/// as evidence when the ping failed. Credentials are scrubbed from everything.
pub async fn database_check(
    db: &DatabaseTarget,
    watched: Option<(Duration, String)>,
    timeout: Duration,
) -> DatabaseCheck {
    let target = match &db.target {
        Ok(t) => t,
        Err(e) => {
            return DatabaseCheck {
                not_checked: Some(crate::mongo::scrub(&e.to_string(), &db.secrets)),
                ..Default::default()
            };
        }
    };
    match crate::mongo::ping(target, timeout).await {
        Ok(p) => DatabaseCheck {
            ok: true,
            address: Some(p.address),
            rtt_ms: Some(p.rtt_ms),
            ..Default::default()
        },
        Err(u) => {
            let (age, line) = watched.unzip();
            DatabaseCheck {
                ok: false,
                address: Some(u.address),
                error: Some(crate::mongo::scrub(&u.error, &db.secrets)),
                evidence: line.map(|l| crate::mongo::scrub(&l, &db.secrets)),
                evidence_age_s: age.map(|a| a.as_secs()),
                ..Default::default()
            }
        }
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
    pub database: DatabaseCheck,
    pub config_sha256: Option<String>,
}

/// The status document (docs/contracts.md section 2, `opsconsole_wire::status`).
pub(crate) fn status_json(i: &StatusInputs) -> Value {
    let doc = ShimStatus {
        shim_version: env!("CARGO_PKG_VERSION").into(),
        instance_id: i.instance_id.clone(),
        cold_start: i.cold_start,
        uptime_ms: i.uptime_ms,
        init: InitTimings {
            config_ms: i.config_ms,
            secrets_ms: i.secrets_ms,
            spawn_to_ready_ms: i.spawn_to_ready_ms,
            total_ms: i.total_ms,
        },
        librechat: Some(LibreChatCheck::from_result(&i.health)),
        redis: Some(RedisCheck::from_result(&i.redis)),
        database: Some(i.database.clone()),
        config_sha256: i.config_sha256.clone(),
    };
    serde_json::to_value(&doc).unwrap_or_else(|e| json!({ "error": e.to_string() }))
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
    fn api_health_is_get_or_head_of_the_exact_path() {
        assert!(is_api_health(&req(Method::GET, API_HEALTH_PATH, "", None)));
        assert!(is_api_health(&req(Method::HEAD, API_HEALTH_PATH, "", None)));
        assert!(!is_api_health(&req(
            Method::POST,
            API_HEALTH_PATH,
            "",
            None
        )));
        assert!(!is_api_health(&req(Method::GET, "/api/healthz", "", None)));
        assert!(!is_api_health(&req(Method::GET, "/health", "", None)));
    }

    #[test]
    fn api_health_answer_follows_librechat() {
        let (code, v) = api_health_json(&Ok((200, 1.5)));
        assert_eq!(code, 200);
        assert_eq!(v["status"], "ok");
        assert_eq!(v["librechat"]["status"], 200);
        let (code, v) = api_health_json(&Ok((404, 0.7)));
        assert_eq!(code, 503);
        assert_eq!(v["status"], "unhealthy");
        assert!(v["error"].as_str().is_some_and(|e| e.contains("404")));
        let (code, v) = api_health_json(&Err("connection refused".into()));
        assert_eq!(code, 503);
        assert_eq!(v["error"], "connection refused");
        assert_eq!(v["librechat"]["status"], Value::Null);
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
            database: DatabaseCheck {
                not_checked: Some("MONGO_URI is not set".into()),
                ..Default::default()
            },
            config_sha256: Some("ab".into()),
        });
        assert_eq!(v["database"]["ok"], false);
        assert_eq!(v["database"]["not_checked"], "MONGO_URI is not set");
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
        let t = |uri: &str| RedisTarget {
            uri: Some(uri.to_string()),
            ..Default::default()
        };
        assert_eq!(
            redis_ping(&RedisTarget::default(), Duration::from_secs(1)).await,
            Err("REDIS_URI is not set".into())
        );
        let r = redis_ping(&t("http://x:6379"), Duration::from_secs(1)).await;
        assert!(
            r.as_ref().is_err_and(|e| e.contains("not a Redis URL")),
            "{r:?}"
        );
        // A closed port on loopback: connection refused, reported not panicked, and a password
        // in the URI stays out of the message.
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        let r = redis_ping(
            &t(&format!("redis://:s3cret@127.0.0.1:{port}")),
            Duration::from_secs(2),
        )
        .await;
        assert!(
            r.as_ref()
                .is_err_and(|e| e.contains(&format!("127.0.0.1:{port}")) && !e.contains("s3cret")),
            "{r:?}"
        );
    }

    #[tokio::test]
    async fn database_check_names_the_host_quotes_the_evidence_and_hides_the_password() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        let db = DatabaseTarget::from_uri(Some(&format!(
            "mongodb://admin:Pw-Zq81x@127.0.0.1:{port}/LibreChat"
        )));
        let line = format!(
            "error: MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:{port} (mongodb://admin:Pw-Zq81x@127.0.0.1:{port}/LibreChat)"
        );
        let c = database_check(
            &db,
            Some((Duration::from_secs(4), line)),
            Duration::from_secs(2),
        )
        .await;
        assert!(!c.ok);
        assert_eq!(c.address, Some(format!("127.0.0.1:{port}")));
        assert!(
            c.error.as_deref().is_some_and(|e| e.contains("connect")),
            "{c:?}"
        );
        let ev = c.evidence.clone().unwrap_or_default();
        assert!(
            ev.contains(&format!("ECONNREFUSED 127.0.0.1:{port}")),
            "{ev}"
        );
        assert_eq!(c.evidence_age_s, Some(4));
        assert!(!format!("{c:?}").contains("Pw-Zq81x"), "{c:?}");
        assert!(!format!("{db:?}").contains("Pw-Zq81x"));
        // Not checkable: said so, not an error about the database.
        let srv = DatabaseTarget::from_uri(Some("mongodb+srv://u:Pw-Zq81x@c.example.net/db"));
        let c = database_check(&srv, None, Duration::from_secs(1)).await;
        assert!(!c.ok && c.error.is_none(), "{c:?}");
        assert!(
            c.not_checked.as_deref().is_some_and(|n| n.contains("SRV")),
            "{c:?}"
        );
        assert!(!format!("{c:?}").contains("Pw-Zq81x"));
    }

    #[test]
    fn redis_target_reads_librechats_variables_and_hides_the_password() {
        let t = RedisTarget::from_lookup(|k| match k {
            "REDIS_URI" => Some("rediss://r:6379".into()),
            "REDIS_PASSWORD" => Some("pw".into()),
            "REDIS_CA" => Some("/etc/ca.pem".into()),
            "REDIS_USERNAME" => Some(" ".into()),
            _ => None,
        });
        assert_eq!(t.uri.as_deref(), Some("rediss://r:6379"));
        assert_eq!(t.password.as_deref(), Some("pw"));
        assert_eq!(t.ca_file.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(t.username, None);
        assert!(!format!("{t:?}").contains("pw"));
    }
}
