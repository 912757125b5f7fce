//! HTTP collectors: `/api/health` and the shim's `/api/__shim/status` (for the Redis PING).

use std::time::Instant;

use opsconsole_wire::TOKEN_HEADER;
use opsconsole_wire::status::ShimStatus;

use crate::context::Context;
use crate::model::{CollectorError, ErrorKind, HealthData, RedisPing};

fn http_err(what: &str, e: &reqwest::Error) -> CollectorError {
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
    let latency_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let status = resp.status().as_u16();
    Ok(HealthData {
        url,
        status,
        latency_ms,
        ok: resp.status().is_success(),
    })
}

/// The in-VPC PING the shim reports; `None` without a token. Errors reaching the shim are a
/// failed ping with the reason.
pub(crate) async fn shim_redis_ping(ctx: &Context) -> Option<RedisPing> {
    let token = match (&ctx.token, &ctx.token_error) {
        (Some(t), _) => t.0.clone(),
        (None, Some(e)) => {
            return Some(RedisPing {
                ok: false,
                rtt_ms: None,
                error: Some(e.clone()),
            });
        }
        (None, None) => return None,
    };
    let url = format!("{}{}", ctx.outputs.site_url, ctx.settings.status_path);
    let fail = |e: String| {
        Some(RedisPing {
            ok: false,
            rtt_ms: None,
            error: Some(e),
        })
    };
    let resp = match ctx.http.get(&url).header(TOKEN_HEADER, token).send().await {
        Ok(r) => r,
        Err(e) => {
            return fail(format!(
                "shim status unreachable: {}",
                http_err(&url, &e).message
            ));
        }
    };
    if !resp.status().is_success() {
        return fail(format!("shim status answered {}", resp.status().as_u16()));
    }
    let text = match resp.text().await {
        Ok(t) => t,
        Err(e) => return fail(format!("shim status body: {e}")),
    };
    match serde_json::from_str::<ShimStatus>(&text) {
        Ok(ShimStatus { redis: Some(r), .. }) => Some(RedisPing {
            ok: r.ok,
            rtt_ms: r.rtt_ms,
            error: r.error,
        }),
        Ok(ShimStatus { redis: None, .. }) => fail("shim status has no `redis` field".into()),
        Err(e) => fail(format!("shim status is not the documented JSON: {e}")),
    }
}
