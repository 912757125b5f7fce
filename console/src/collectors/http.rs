//! HTTP collectors: `/api/health` and the shim's `/api/__shim/status` (for the Redis PING).

use std::time::Instant;

use opsconsole_wire::TOKEN_HEADER;
use opsconsole_wire::status::{DatabaseCheck, ShimStatus};

use crate::context::Context;
use crate::model::{CollectorError, ErrorKind, HealthData, RedisPing, ShimHealthBody};

pub(crate) fn http_err(what: &str, e: &reqwest::Error) -> CollectorError {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else if e.is_connect() || e.is_request() {
        ErrorKind::Unreachable
    } else if e.is_decode() {
        ErrorKind::Malformed
    } else {
        ErrorKind::Other
    };
    CollectorError {
        kind,
        message: format!("{what}: {}", opsconsole_proc::error_chain(e)),
        fix: None,
    }
}

pub async fn health(ctx: &Context) -> Result<HealthData, CollectorError> {
    let url = format!("{}{}", ctx.outputs.site_url, ctx.settings.health_path);
    let t0 = Instant::now();
    let resp = ctx
        .http
        .get(&url)
        .send()
        .await
        .map_err(|e| http_err(&format!("GET {url}"), &e))?;
    let status = resp.status().as_u16();
    let ok = resp.status().is_success();
    // The shim's body says what it saw of LibreChat; a body that does not arrive in time is
    // not a failure of the check (the status line already did).
    let body = resp.text().await.ok();
    let latency_ms = t0.elapsed().as_secs_f64() * 1000.0;
    Ok(HealthData {
        url,
        status,
        latency_ms,
        ok,
        shim: body.as_deref().and_then(ShimHealthBody::parse),
    })
}

/// What the shim's status endpoint told about Redis.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ShimPing {
    /// No diagnostics token configured: not asked.
    NotAsked,
    /// The status endpoint answered with its document: the in-VPC PING's result, and the
    /// database check's (absent from an older shim).
    Answered(RedisPing, Option<DatabaseCheck>),
    /// The status endpoint gave no PING result: why (not a Redis observation).
    NoAnswer(String),
}

/// The in-VPC PING the shim reports. Failing to reach the status endpoint is `NoAnswer`, never
/// a failed PING: only the shim's own document says anything about Redis.
pub(crate) async fn shim_redis_ping(ctx: &Context) -> ShimPing {
    let token = match (&ctx.token, &ctx.token_error) {
        (Some(t), _) => t.0.clone(),
        (None, Some(e)) => return ShimPing::NoAnswer(e.clone()),
        (None, None) => return ShimPing::NotAsked,
    };
    let url = format!("{}{}", ctx.outputs.site_url, ctx.settings.status_path);
    let resp = match ctx.http.get(&url).header(TOKEN_HEADER, token).send().await {
        Ok(r) => r,
        Err(e) => {
            let why = if e.is_timeout() {
                "did not answer in time"
            } else {
                "could not be reached"
            };
            return ShimPing::NoAnswer(format!(
                "the shim's status endpoint {why}: {}",
                http_err(&url, &e).message
            ));
        }
    };
    if !resp.status().is_success() {
        return ShimPing::NoAnswer(format!(
            "the shim's status endpoint {url} answered HTTP {}",
            resp.status().as_u16()
        ));
    }
    let text = match resp.text().await {
        Ok(t) => t,
        Err(e) => {
            return ShimPing::NoAnswer(format!(
                "the shim's status body did not arrive: {}",
                http_err(&url, &e).message
            ));
        }
    };
    parse_status(&text)
}

/// The PING of a status document (pure).
pub(crate) fn parse_status(text: &str) -> ShimPing {
    match serde_json::from_str::<ShimStatus>(text) {
        Ok(ShimStatus {
            redis: Some(r),
            database,
            ..
        }) => ShimPing::Answered(
            RedisPing {
                ok: r.ok,
                rtt_ms: r.rtt_ms,
                error: r.error,
            },
            database,
        ),
        Ok(ShimStatus { redis: None, .. }) => {
            ShimPing::NoAnswer("the shim's status document has no `redis` field".into())
        }
        Err(e) => ShimPing::NoAnswer(format!(
            "the shim's status answer is not the documented JSON: {e}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_document_ping_or_no_answer() {
        let ok = r#"{"shim_version":"0.1.0","instance_id":"i","cold_start":false,"uptime_ms":1,
            "init":{"config_ms":null,"secrets_ms":null,"spawn_to_ready_ms":null,"total_ms":null},
            "librechat":{"healthy":false,"status":null,"latency_ms":null,"error":"x"},
            "redis":{"ok":false,"rtt_ms":null,"error":"refused"},"config_sha256":"h"}"#;
        match parse_status(ok) {
            ShimPing::Answered(p, db) => {
                assert!(!p.ok);
                assert_eq!(p.error.as_deref(), Some("refused"));
                assert_eq!(db, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse_status("<html>"), ShimPing::NoAnswer(_)));
        let with_db = r#"{"redis":{"ok":true},"database":{"ok":false,"address":"db:27017","error":"connect: refused"}}"#;
        match parse_status(with_db) {
            ShimPing::Answered(_, Some(db)) => {
                assert!(!db.ok);
                assert_eq!(db.address.as_deref(), Some("db:27017"));
            }
            other => panic!("{other:?}"),
        }
    }
}
