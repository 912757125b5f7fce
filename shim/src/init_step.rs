//! The init step: `librechat.yaml` from S3 and secrets from SSM, fetched by a separate,
//! short-lived process (`shim-init`), so that the AWS SDK (its clients, credential chain, TLS
//! stack and their code pages) is never loaded into the long-lived `bootstrap` that serves every
//! request (shim/README.md, "Memory").
//!
//! `shim-init` is its own package (shim/init, the only one with the AWS SDK): a build of
//! `bootstrap` (`cargo build -p shim --bin bootstrap`) does not even unify the SDK's features
//! (HTTP/2 in hyper, its TLS stack) into its dependencies.
//!
//! `bootstrap` runs `shim-init` once per cold start, only when there is something to fetch, with
//! its own environment, and reads one JSON document ([`InitOutput`]) from its stdout: a pipe, so
//! secret values never touch the disk or a command line. `shim-init` writes the config file
//! itself (`CONFIG_PATH`) and reports its checksum.

use crate::coldstart::{self, ConfigResult};
use crate::settings::Settings;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::AsyncReadExt;

/// The environment name under which the diagnostics token's SSM value travels (never
/// LibreChat's: `bootstrap` takes it out of the secrets before LibreChat is spawned).
pub const DIAG_TOKEN_ENV: &str = "__SHIM_DIAGNOSTICS_TOKEN";

/// The binary's file name, beside `bootstrap` unless `SHIM_INIT_BIN` says otherwise.
pub const INIT_BIN_NAME: &str = "shim-init";

/// Largest result document read from `shim-init` (secrets only; the config goes to a file).
const MAX_OUTPUT_BYTES: u64 = 1 << 20;

/// What the init step found: each phase's result and duration (`shim-init`'s stdout, JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitOutput {
    /// `Ok(None)`: no config bucket/key set.
    pub config: Result<Option<ConfigResult>, String>,
    pub config_ms: f64,
    /// Environment name -> value.
    pub secrets: Result<BTreeMap<String, String>, String>,
    pub secrets_ms: f64,
}

/// The init step could not run or did not answer.
#[derive(Debug, thiserror::Error)]
pub enum InitStepError {
    #[error("starting {path}: {reason}")]
    Spawn { path: String, reason: String },
    #[error("{path} did not finish within {ms} ms (SHIM_INIT_STEP_TIMEOUT_MS); it was killed")]
    Timeout { path: String, ms: u128 },
    #[error("{path} exited with {status} without a result (its stderr is in the function's log)")]
    Failed { path: String, status: String },
    #[error("{path} wrote no valid result: {reason}")]
    BadOutput { path: String, reason: String },
}

/// The `(ENV_NAME, parameter)` pairs to read from SSM: `SHIM_SSM_SECRETS` and the diagnostics
/// token's parameter.
pub fn secret_pairs(settings: &Settings) -> Result<Vec<(String, String)>, String> {
    let mut pairs =
        coldstart::parse_secret_spec(&settings.ssm_secrets).map_err(|e| e.to_string())?;
    if let Some(param) = &settings.diagnostics_token_ssm {
        pairs.push((DIAG_TOKEN_ENV.to_string(), param.clone()));
    }
    Ok(pairs)
}

/// Where the config is, when both `CONFIG_S3_BUCKET` and `CONFIG_S3_KEY` are set.
pub fn config_location(settings: &Settings) -> Option<(&str, &str)> {
    match (&settings.config_bucket, &settings.config_key) {
        (Some(b), Some(k)) => Some((b, k)),
        _ => None,
    }
}

/// What the step would find without asking AWS: `None` when something has to be fetched.
pub fn without_fetching(settings: &Settings) -> Option<InitOutput> {
    let pairs = secret_pairs(settings);
    let nothing_to_fetch =
        config_location(settings).is_none() && !matches!(&pairs, Ok(p) if !p.is_empty());
    nothing_to_fetch.then(|| InitOutput {
        config: Ok(None),
        config_ms: 0.0,
        secrets: pairs.map(|_| BTreeMap::new()),
        secrets_ms: 0.0,
    })
}

/// Where `bootstrap` finds `shim-init`: `SHIM_INIT_BIN`, else next to its own executable.
pub fn init_bin(settings: &Settings) -> PathBuf {
    if let Some(p) = &settings.init_bin {
        return PathBuf::from(p);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(INIT_BIN_NAME)))
        .unwrap_or_else(|| PathBuf::from(INIT_BIN_NAME))
}

/// `bootstrap`'s side: run `shim-init` (when there is something to fetch) and read its result.
/// The child inherits the environment (the function's credentials, `AWS_ENDPOINT_URL`, the
/// settings) and stderr; it is killed on timeout and cannot outlive `bootstrap`.
pub async fn run(settings: &Settings) -> Result<InitOutput, InitStepError> {
    if let Some(out) = without_fetching(settings) {
        return Ok(out);
    }
    let bin = init_bin(settings);
    let path = bin.display().to_string();
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    opsconsole_proc::child::die_with_parent(cmd.as_std_mut());
    let mut child = cmd.spawn().map_err(|e| InitStepError::Spawn {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let stdout = child.stdout.take();
    let finish = async {
        let mut text = String::new();
        if let Some(out) = stdout {
            out.take(MAX_OUTPUT_BYTES)
                .read_to_string(&mut text)
                .await
                .map_err(|e| InitStepError::BadOutput {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
        }
        let status = child.wait().await.map_err(|e| InitStepError::Failed {
            path: path.clone(),
            status: format!("a failed wait ({e})"),
        })?;
        Ok::<_, InitStepError>((status, text))
    };
    let (status, text) = match tokio::time::timeout(settings.init_step_timeout, finish).await {
        Ok(r) => r?,
        Err(_) => {
            // Dropping `finish` dropped the child handle: kill_on_drop sends SIGKILL.
            return Err(InitStepError::Timeout {
                path,
                ms: settings.init_step_timeout.as_millis(),
            });
        }
    };
    if !status.success() {
        return Err(InitStepError::Failed {
            path,
            status: status.to_string(),
        });
    }
    decode(&text).map_err(|reason| InitStepError::BadOutput { path, reason })
}

/// The result document as `shim-init` writes it (one line of JSON).
pub fn encode(out: &InitOutput) -> Result<String, serde_json::Error> {
    serde_json::to_string(out)
}

/// Read `shim-init`'s document; the reason names what was wrong, never a value.
pub fn decode(text: &str) -> Result<InitOutput, String> {
    if text.trim().is_empty() {
        return Err("empty output".into());
    }
    serde_json::from_str(text.trim()).map_err(|e| {
        format!(
            "not an init result ({} at line {} column {})",
            match e.classify() {
                serde_json::error::Category::Io => "read error",
                serde_json::error::Category::Syntax => "invalid JSON",
                serde_json::error::Category::Data => "unexpected fields",
                serde_json::error::Category::Eof => "truncated",
            },
            e.line(),
            e.column()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| m.get(k).cloned()).expect("settings")
    }

    #[test]
    fn nothing_to_fetch_needs_no_step() {
        let out = without_fetching(&settings(&[])).expect("no step");
        assert_eq!(out.config, Ok(None));
        assert_eq!(out.secrets, Ok(BTreeMap::new()));
        // A bad secret spec alone is known without AWS, and fails the secrets phase.
        let bad =
            without_fetching(&settings(&[("SHIM_SSM_SECRETS", "NOEQUALS")])).expect("no step");
        assert!(bad.secrets.is_err_and(|e| e.contains("NOEQUALS")));
    }

    #[test]
    fn config_secrets_or_the_diagnostics_token_need_the_step() {
        for env in [
            &[("CONFIG_S3_BUCKET", "b"), ("CONFIG_S3_KEY", "k")][..],
            &[("SHIM_SSM_SECRETS", "JWT_SECRET=/p/jwt")][..],
            &[("SHIM_DIAGNOSTICS_TOKEN_SSM", "/p/token")][..],
        ] {
            assert!(without_fetching(&settings(env)).is_none(), "{env:?}");
        }
        // A bucket without a key is not a config location (as before the split).
        assert!(without_fetching(&settings(&[("CONFIG_S3_BUCKET", "b")])).is_some());
        let pairs = secret_pairs(&settings(&[
            ("SHIM_SSM_SECRETS", "A=/p/a"),
            ("SHIM_DIAGNOSTICS_TOKEN_SSM", "/p/token"),
        ]))
        .expect("pairs");
        assert_eq!(
            pairs[1],
            (DIAG_TOKEN_ENV.to_string(), "/p/token".to_string())
        );
    }

    #[test]
    fn the_document_round_trips_and_bad_output_names_no_value() {
        let out = InitOutput {
            config: Ok(Some(ConfigResult {
                path: "/tmp/librechat.yaml".into(),
                sha256: "ab".into(),
                bytes: 10,
                replacements: 2,
            })),
            config_ms: 12.5,
            secrets: Ok(BTreeMap::from([(
                "JWT_SECRET".to_string(),
                "s3cr3t-value".to_string(),
            )])),
            secrets_ms: 3.0,
        };
        let text = encode(&out).expect("encodes");
        assert_eq!(decode(&format!("{text}\n")), Ok(out.clone()));
        let failed = InitOutput {
            config: Err("fetching s3://b/k: NoSuchKey".into()),
            secrets: Err("SSM parameters not found for: A (/p/a)".into()),
            ..out
        };
        assert_eq!(decode(&encode(&failed).expect("encodes")), Ok(failed));
        assert_eq!(decode(""), Err("empty output".to_string()));
        let truncated = decode(&text[..text.len() / 2]).expect_err("truncated");
        assert!(
            truncated.starts_with("not an init result (truncated"),
            "{truncated}"
        );
        assert!(!truncated.contains("s3cr3t"), "{truncated}");
        let data = decode(r#"{"secrets": "s3cr3t-value"}"#).expect_err("wrong shape");
        assert!(!data.contains("s3cr3t"), "{data}");
    }
}
