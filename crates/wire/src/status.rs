//! `GET /api/__shim/status` -> `200 application/json` (docs/contracts.md section 2). The shim
//! serialises [`ShimStatus`]; the console deserialises it. Every field has a default when read,
//! so a document with fewer fields (an older shim) still parses; the console says which part it
//! missed.

use serde::{Deserialize, Serialize};

/// The status document, fields in the contract's order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ShimStatus {
    pub shim_version: String,
    /// Fixed for the life of the execution environment.
    pub instance_id: String,
    /// Whether this environment's first request has not been answered yet.
    pub cold_start: bool,
    pub uptime_ms: u64,
    pub init: InitTimings,
    pub librechat: Option<LibreChatCheck>,
    pub redis: Option<RedisCheck>,
    /// The shim's MongoDB `ping` from inside the VPC (`None` from a shim older than issue 25).
    pub database: Option<DatabaseCheck>,
    /// SHA-256 (hex) of the `librechat.yaml` the shim wrote.
    pub config_sha256: Option<String>,
}

/// The cold start's phases, in milliseconds (None for a phase that did not run).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InitTimings {
    pub config_ms: Option<f64>,
    pub secrets_ms: Option<f64>,
    pub spawn_to_ready_ms: Option<f64>,
    pub total_ms: Option<f64>,
}

/// The shim's check of LibreChat's health endpoint.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LibreChatCheck {
    pub healthy: bool,
    pub status: Option<u16>,
    pub latency_ms: Option<f64>,
    pub error: Option<String>,
}

impl LibreChatCheck {
    /// From the health check's outcome: `(status, latency_ms)` or the reason it failed.
    pub fn from_result(r: &Result<(u16, f64), String>) -> LibreChatCheck {
        match r {
            Ok((status, latency)) => LibreChatCheck {
                healthy: (200..300).contains(status),
                status: Some(*status),
                latency_ms: Some(*latency),
                error: None,
            },
            Err(e) => LibreChatCheck {
                healthy: false,
                status: None,
                latency_ms: None,
                error: Some(e.clone()),
            },
        }
    }
}

/// The shim's Redis PING from inside the VPC (`ok=false` with `error` when REDIS_URI is unset
/// or unreachable).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RedisCheck {
    pub ok: bool,
    pub rtt_ms: Option<f64>,
    pub error: Option<String>,
}

impl RedisCheck {
    /// From the PING's outcome: the round trip in ms, or the reason it failed.
    pub fn from_result(r: &Result<f64, String>) -> RedisCheck {
        match r {
            Ok(rtt) => RedisCheck {
                ok: true,
                rtt_ms: Some(*rtt),
                error: None,
            },
            Err(e) => RedisCheck {
                ok: false,
                rtt_ms: None,
                error: Some(e.clone()),
            },
        }
    }
}

/// The shim's MongoDB check from inside the VPC: a connect (TLS when `MONGO_URI` asks for it)
/// and a `ping` command to each host of LibreChat's `MONGO_URI`, bounded. Never the URI, its
/// user or its password: only `host:port`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseCheck {
    /// A host answered the `ping` with `ok: 1`.
    pub ok: bool,
    /// `host:port` that answered, or (failed) the first host of the URI.
    pub address: Option<String>,
    /// Connect, TLS and the `ping` round trip.
    pub rtt_ms: Option<f64>,
    /// Why it failed: each host's reason.
    pub error: Option<String>,
    /// Why it was not checked (`MONGO_URI` unset, `mongodb+srv://`): then `ok` is false and
    /// this is not a finding about the database.
    pub not_checked: Option<String>,
    /// A recent LibreChat log line with the connection-failure signature towards this database
    /// (`ECONNREFUSED host:port`, `MongoServerSelectionError`), as evidence.
    pub evidence: Option<String>,
    /// Seconds since that line was logged.
    pub evidence_age_s: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_every_contract_field_with_nulls() {
        let s = ShimStatus {
            shim_version: "0.1.0".into(),
            instance_id: "i".into(),
            cold_start: true,
            uptime_ms: 5,
            init: InitTimings {
                config_ms: Some(1.0),
                ..Default::default()
            },
            librechat: Some(LibreChatCheck::from_result(&Ok((200, 1.5)))),
            redis: Some(RedisCheck::from_result(&Err("REDIS_URI is not set".into()))),
            database: Some(DatabaseCheck {
                ok: true,
                address: Some("db:27017".into()),
                rtt_ms: Some(0.8),
                ..Default::default()
            }),
            config_sha256: None,
        };
        let v = serde_json::to_value(&s).expect("serialises");
        assert_eq!(
            v,
            json!({
                "shim_version": "0.1.0", "instance_id": "i", "cold_start": true, "uptime_ms": 5,
                "init": {"config_ms": 1.0, "secrets_ms": null, "spawn_to_ready_ms": null, "total_ms": null},
                "librechat": {"healthy": true, "status": 200, "latency_ms": 1.5, "error": null},
                "redis": {"ok": false, "rtt_ms": null, "error": "REDIS_URI is not set"},
                "database": {"ok": true, "address": "db:27017", "rtt_ms": 0.8, "error": null,
                             "not_checked": null, "evidence": null, "evidence_age_s": null},
                "config_sha256": null
            })
        );
        let text = serde_json::to_string(&s).expect("serialises");
        assert_eq!(
            serde_json::from_str::<ShimStatus>(&text).expect("parses"),
            s
        );
    }

    #[test]
    fn a_document_with_fewer_fields_parses() {
        let s: ShimStatus =
            serde_json::from_str(r#"{"redis":{"ok":true,"rtt_ms":0.4}}"#).expect("parses");
        assert_eq!(s.redis.as_ref().map(|r| r.ok), Some(true));
        assert_eq!(s.redis.and_then(|r| r.error), None);
        assert_eq!(s.librechat, None);
        assert_eq!(s.database, None);
        let s: ShimStatus = serde_json::from_str("{}").expect("parses");
        assert_eq!(s.redis, None);
        assert!(serde_json::from_str::<ShimStatus>(r#"{"redis":"yes"}"#).is_err());
    }
}
