//! `shim-init`: the init step that `bootstrap` runs once per cold start (shim/src/init_step.rs):
//! `librechat.yaml` from S3 (written to `CONFIG_PATH`) and secrets from SSM, then one JSON
//! document on stdout, and exit. It logs nothing: `bootstrap` logs the result (never a value).
//!
//! The only package of the shim with the AWS SDK, so that `bootstrap`'s build never sees it.

use shim::coldstart::{self, ColdStartError, ConfigResult};
use shim::init_step::{self, InitOutput};
use shim::settings::Settings;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let out = match Settings::from_env() {
        Ok(settings) => fetch(&settings).await,
        Err(e) => InitOutput {
            config: Err(e.to_string()),
            config_ms: 0.0,
            secrets: Err(e.to_string()),
            secrets_ms: 0.0,
        },
    };
    let written = init_step::encode(&out)
        .map_err(|e| e.to_string())
        .and_then(|text| {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{text}")
                .and_then(|()| stdout.flush())
                .map_err(|e| e.to_string())
        });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shim-init: writing the result: {e}");
            ExitCode::FAILURE
        }
    }
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Fetch the config from S3, replace the domain and write it to `path`.
async fn fetch_config(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    from: Option<&str>,
    to: Option<&str>,
    path: &str,
) -> Result<ConfigResult, ColdStartError> {
    let fetch_err = |reason: String| ColdStartError::ConfigFetch {
        bucket: bucket.to_string(),
        key: key.to_string(),
        reason,
    };
    let obj = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| fetch_err(aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
    let data = obj
        .body
        .collect()
        .await
        .map_err(|e| fetch_err(e.to_string()))?
        .into_bytes();
    let text = String::from_utf8(data.to_vec())
        .map_err(|_| ColdStartError::ConfigNotText(bucket.to_string(), key.to_string()))?;
    let replacements = match from {
        Some(f) if !f.is_empty() && to.is_some() => text.matches(f).count(),
        _ => 0,
    };
    let out = coldstart::replace_domain(&text, from, to);
    let write_err = |reason: String| ColdStartError::ConfigWrite {
        path: path.to_string(),
        reason,
    };
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| write_err(e.to_string()))?;
    }
    tokio::fs::write(path, out.as_bytes())
        .await
        .map_err(|e| write_err(e.to_string()))?;
    Ok(ConfigResult {
        path: path.to_string(),
        sha256: coldstart::sha256_hex(out.as_bytes()),
        bytes: out.len(),
        replacements,
    })
}

/// Resolve `(ENV_NAME, parameter)` pairs with GetParameters (WithDecryption), 10 per call.
async fn resolve_secrets(
    ssm: &aws_sdk_ssm::Client,
    pairs: &[(String, String)],
) -> Result<BTreeMap<String, String>, ColdStartError> {
    let mut out = BTreeMap::new();
    let mut missing = Vec::new();
    for batch in pairs.chunks(10) {
        let mut ids: Vec<String> = batch.iter().map(|(_, p)| p.clone()).collect();
        ids.sort();
        ids.dedup();
        let resp = ssm
            .get_parameters()
            .set_names(Some(ids))
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| {
                ColdStartError::Ssm(aws_sdk_ssm::error::DisplayErrorContext(e).to_string())
            })?;
        let params = resp.parameters();
        for (env_name, asked) in batch {
            let found = params
                .iter()
                .find(|p| coldstart::parameter_matches(asked, p.name(), p.arn()))
                .and_then(|p| p.value());
            match found {
                Some(v) => {
                    out.insert(env_name.clone(), v.to_string());
                }
                None => missing.push(format!("{env_name} ({asked})")),
            }
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(ColdStartError::SecretsMissing(missing.join(", ")))
    }
}

/// `shim-init`'s work: the config and the secrets, concurrently, through the AWS SDK.
async fn fetch(settings: &Settings) -> InitOutput {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let config_fut = async {
        let t = Instant::now();
        let r = match init_step::config_location(settings) {
            Some((bucket, key)) => {
                let s3_conf = aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(settings.s3_force_path_style)
                    .build();
                let s3 = aws_sdk_s3::Client::from_conf(s3_conf);
                fetch_config(
                    &s3,
                    bucket,
                    key,
                    settings.domain_from.as_deref(),
                    settings.domain_to.as_deref(),
                    &settings.config_path,
                )
                .await
                .map(Some)
                .map_err(|e| e.to_string())
            }
            None => Ok(None),
        };
        (r, ms_since(t))
    };
    let secrets_fut = async {
        let t = Instant::now();
        let r = match init_step::secret_pairs(settings) {
            Ok(p) if p.is_empty() => Ok(BTreeMap::new()),
            Ok(p) => {
                let ssm = aws_sdk_ssm::Client::new(&sdk);
                resolve_secrets(&ssm, &p).await.map_err(|e| e.to_string())
            }
            Err(e) => Err(e),
        };
        (r, ms_since(t))
    };
    let ((config, config_ms), (secrets, secrets_ms)) = tokio::join!(config_fut, secrets_fut);
    InitOutput {
        config,
        config_ms,
        secrets,
        secrets_ms,
    }
}
