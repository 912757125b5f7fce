//! The deployment's Terraform outputs (docs/contracts.md section 1), from (in this order):
//! `--outputs FILE`, `terraform output -json` in an initialised
//! `infrastructure/terraform/environments/ENV`, or the `outputs` of the state object in the
//! environment's S3 backend. Sensitive outputs are never shown.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Outputs the console cannot work without.
pub(crate) const REQUIRED: [&str; 7] = [
    "site_url",
    "region",
    "cloudfront_distribution_id",
    "lambda_function_name",
    "lambda_log_group_name",
    "redis_replication_group_id",
    "alarms",
];

/// One alarm named by the outputs, with the region it lives in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmRef {
    pub name: String,
    pub region: String,
}

/// One raw output: `{ "value": ..., "type": ..., "sensitive": bool }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawOutput {
    pub value: Value,
    #[serde(default, rename = "type")]
    pub ty: Option<Value>,
    #[serde(default)]
    pub sensitive: bool,
}

/// Where the outputs came from (shown in the TUI header and the probe document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutputsOrigin {
    File { path: String },
    Terraform { dir: String },
    S3State { bucket: String, key: String },
}

/// The outputs the console uses, typed; plus all raw outputs for display.
#[derive(Debug, Clone, PartialEq)]
pub struct Outputs {
    pub site_url: String,
    pub region: String,
    pub cloudfront_distribution_id: String,
    pub cloudfront_domain_name: Option<String>,
    pub api_gateway_id: Option<String>,
    pub api_gateway_stage: Option<String>,
    pub api_gateway_invoke_url: Option<String>,
    pub lambda_function_name: String,
    pub lambda_function_arn: Option<String>,
    pub lambda_log_group_name: String,
    pub ecr_repository_url: Option<String>,
    pub redis_replication_group_id: String,
    pub redis_endpoint: Option<String>,
    pub redis_port: Option<u16>,
    pub frontend_bucket_name: Option<String>,
    pub files_bucket_name: Option<String>,
    /// The config object (`librechat.yaml`) the function boots with; when absent, the console
    /// reads the function's CONFIG_S3_BUCKET / CONFIG_S3_KEY.
    pub config_s3_bucket: Option<String>,
    pub config_s3_key: Option<String>,
    /// API Gateway's access log group, when access logging is on (issue 30: uploads refused for
    /// size are recorded nowhere else).
    pub api_gateway_access_log_group: Option<String>,
    pub alarms: Vec<AlarmRef>,
    /// The scheduled canary's two alarms (docs/contracts.md section 7) when `modules/canary` is
    /// enabled; empty when the output is absent, null or `[]`.
    pub canary_alarms: Vec<AlarmRef>,
    pub dashboard_name: Option<String>,
    pub shim_metrics_namespace: String,
    pub raw: BTreeMap<String, RawOutput>,
    pub origin: Option<OutputsOrigin>,
}

#[derive(Debug, thiserror::Error)]
pub enum OutputsError {
    #[error("outputs: required output(s) missing: {0}")]
    Missing(String),
    #[error("outputs: output `{name}` has the wrong type: expected {expected}")]
    WrongType {
        name: String,
        expected: &'static str,
    },
    #[error("outputs: not valid JSON of the `terraform output -json` shape: {0}")]
    Malformed(String),
    #[error("outputs: cannot read {path}: {err}")]
    Read { path: String, err: String },
    #[error("outputs: {0}")]
    Unavailable(String),
}

impl Outputs {
    /// Parses the `terraform output -json` shape.
    pub fn from_json(text: &str) -> Result<Outputs, OutputsError> {
        let raw: BTreeMap<String, RawOutput> =
            serde_json::from_str(text).map_err(|e| OutputsError::Malformed(e.to_string()))?;
        Outputs::from_raw(raw)
    }

    pub(crate) fn from_raw(raw: BTreeMap<String, RawOutput>) -> Result<Outputs, OutputsError> {
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|n| matches!(raw.get(*n).map(|o| &o.value), None | Some(Value::Null)))
            .collect();
        if !missing.is_empty() {
            return Err(OutputsError::Missing(missing.join(", ")));
        }
        let req = |n: &str| -> Result<String, OutputsError> {
            match raw.get(n).map(|o| &o.value) {
                None | Some(Value::Null) => Err(OutputsError::Missing(n.into())),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(OutputsError::WrongType {
                    name: n.into(),
                    expected: "string",
                }),
            }
        };
        let opt = |n: &str| -> Option<String> {
            raw.get(n)
                .and_then(|o| o.value.as_str())
                .map(str::to_string)
        };
        let alarms_val = raw
            .get("alarms")
            .map(|o| o.value.clone())
            .ok_or_else(|| OutputsError::Missing("alarms".into()))?;
        let alarms: Vec<AlarmRef> =
            serde_json::from_value(alarms_val).map_err(|_| OutputsError::WrongType {
                name: "alarms".into(),
                expected: "list(object({name=string, region=string}))",
            })?;
        let canary_alarms: Vec<AlarmRef> = match raw.get("canary_alarms").map(|o| &o.value) {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => serde_json::from_value(v.clone()).map_err(|_| OutputsError::WrongType {
                name: "canary_alarms".into(),
                expected: "list(object({name=string, region=string}))",
            })?,
        };
        let redis_port = match raw.get("redis_port").map(|o| &o.value) {
            Some(Value::Number(n)) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        Ok(Outputs {
            site_url: req("site_url")?.trim_end_matches('/').to_string(),
            region: req("region")?,
            cloudfront_distribution_id: req("cloudfront_distribution_id")?,
            cloudfront_domain_name: opt("cloudfront_domain_name"),
            api_gateway_id: opt("api_gateway_id"),
            api_gateway_stage: opt("api_gateway_stage"),
            api_gateway_invoke_url: opt("api_gateway_invoke_url"),
            lambda_function_name: req("lambda_function_name")?,
            lambda_function_arn: opt("lambda_function_arn"),
            lambda_log_group_name: req("lambda_log_group_name")?,
            ecr_repository_url: opt("ecr_repository_url"),
            redis_replication_group_id: req("redis_replication_group_id")?,
            redis_endpoint: opt("redis_endpoint"),
            redis_port,
            frontend_bucket_name: opt("frontend_bucket_name"),
            files_bucket_name: opt("files_bucket_name"),
            config_s3_bucket: opt("config_s3_bucket"),
            config_s3_key: opt("config_s3_key"),
            api_gateway_access_log_group: opt("api_gateway_access_log_group"),
            alarms,
            canary_alarms,
            dashboard_name: opt("dashboard_name"),
            shim_metrics_namespace: opt("shim_metrics_namespace")
                .unwrap_or_else(|| opsconsole_wire::emf::NAMESPACE.into()),
            raw,
            origin: None,
        })
    }

    /// Reads an outputs file.
    pub fn from_file(path: &Path) -> Result<Outputs, OutputsError> {
        let text = std::fs::read_to_string(path).map_err(|e| OutputsError::Read {
            path: path.display().to_string(),
            err: e.to_string(),
        })?;
        let mut o = Outputs::from_json(&text)?;
        o.origin = Some(OutputsOrigin::File {
            path: path.display().to_string(),
        });
        Ok(o)
    }

    /// Every output as (name, shown value), sensitive ones as `(sensitive)`.
    pub(crate) fn display_rows(&self) -> Vec<(String, String)> {
        self.raw
            .iter()
            .map(|(k, o)| {
                let v = if o.sensitive {
                    "(sensitive)".to_string()
                } else {
                    display_value(&o.value)
                };
                (k.clone(), v)
            })
            .collect()
    }

    /// The outputs as a JSON object of shown values (sensitive masked), for the probe document.
    pub(crate) fn masked_json(&self) -> Value {
        Value::Object(
            self.raw
                .iter()
                .map(|(k, o)| {
                    let v = if o.sensitive {
                        Value::String("(sensitive)".into())
                    } else {
                        o.value.clone()
                    };
                    (k.clone(), v)
                })
                .collect(),
        )
    }
}

/// One output value as a line of text: strings as they are, a list of named objects (the
/// `alarms` output) as a count and the names, other lists as their items, objects as JSON.
fn display_value(v: &Value) -> String {
    let item = |x: &Value| match x {
        Value::String(s) => s.clone(),
        Value::Object(m) => m
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| x.to_string(), str::to_string),
        other => other.to_string(),
    };
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let names: Vec<String> = items.iter().map(item).collect();
            format!("({}) {}", items.len(), names.join(", "))
        }
        other => other.to_string(),
    }
}

/// The environment's Terraform directory.
pub(crate) fn env_dir(repo: &Path, env: &str) -> PathBuf {
    repo.join("infrastructure/terraform/environments").join(env)
}

/// `terraform output -json` in `dir`, when it is initialised (`.terraform/` exists).
pub(crate) async fn from_terraform(dir: &Path) -> Result<Option<Outputs>, OutputsError> {
    if !dir.join(".terraform").is_dir() {
        return Ok(None);
    }
    let out = tokio::process::Command::new("terraform")
        .arg("output")
        .arg("-json")
        .current_dir(dir)
        .output()
        .await
        .map_err(|e| OutputsError::Unavailable(format!("running terraform: {e}")))?;
    if !out.status.success() {
        return Err(OutputsError::Unavailable(format!(
            "`terraform output -json` in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim() == "{}" {
        return Ok(None);
    }
    let mut o = Outputs::from_json(&text)?;
    o.origin = Some(OutputsOrigin::Terraform {
        dir: dir.display().to_string(),
    });
    Ok(Some(o))
}

/// The S3 backend block (`backend "s3" { bucket = ..., key = ..., region = ... }`) of the
/// environment's `*.tf` files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Backend {
    pub bucket: String,
    pub key: String,
    pub region: Option<String>,
}

/// Finds the S3 backend settings in the `.tf` files of `dir` (simple attribute scan).
pub(crate) fn find_s3_backend(dir: &Path) -> Option<S3Backend> {
    let entries = std::fs::read_dir(dir).ok()?;
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("tf") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        if let Some(b) = parse_s3_backend(&text) {
            return Some(b);
        }
    }
    None
}

/// Parses the first `backend "s3" { ... }` block of HCL text.
pub(crate) fn parse_s3_backend(text: &str) -> Option<S3Backend> {
    let start = text.find("backend \"s3\"")?;
    let body_start = start + text[start..].find('{')? + 1;
    let body_end = body_start + text[body_start..].find('}')?;
    let body = &text[body_start..body_end];
    let attr = |name: &str| -> Option<String> {
        body.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            if k.trim() != name {
                return None;
            }
            let v = v.trim().trim_matches('"');
            Some(v.to_string())
        })
    };
    Some(S3Backend {
        bucket: attr("bucket")?,
        key: attr("key")?,
        region: attr("region"),
    })
}

/// Parses the `outputs` of a Terraform state document.
pub(crate) fn from_state_json(text: &str) -> Result<Outputs, OutputsError> {
    let state: Value =
        serde_json::from_str(text).map_err(|e| OutputsError::Malformed(format!("state: {e}")))?;
    let outputs = state
        .get("outputs")
        .cloned()
        .ok_or_else(|| OutputsError::Malformed("state has no `outputs`".into()))?;
    let raw: BTreeMap<String, RawOutput> = serde_json::from_value(outputs)
        .map_err(|e| OutputsError::Malformed(format!("state outputs: {e}")))?;
    Outputs::from_raw(raw)
}

/// Reads the state object from the S3 backend.
pub(crate) async fn from_s3_state(
    s3: &aws_sdk_s3::Client,
    backend: &S3Backend,
) -> Result<Outputs, OutputsError> {
    let obj = s3
        .get_object()
        .bucket(&backend.bucket)
        .key(&backend.key)
        .send()
        .await
        .map_err(|e| {
            let why = crate::aws::classify(&e, "s3:GetObject", "", None);
            OutputsError::Unavailable(format!(
                "reading the state s3://{}/{} failed ({:?}): {}",
                backend.bucket, backend.key, why.kind, why.message
            ))
        })?;
    let bytes = obj
        .body
        .collect()
        .await
        .map_err(|e| OutputsError::Unavailable(format!("reading state body: {e}")))?
        .into_bytes();
    let text = String::from_utf8_lossy(&bytes);
    let mut o = from_state_json(&text)?;
    o.origin = Some(OutputsOrigin::S3State {
        bucket: backend.bucket.clone(),
        key: backend.key.clone(),
    });
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> String {
        serde_json::json!({
            "site_url": {"value": "https://x.example/", "type": "string", "sensitive": false},
            "region": {"value": "eu-west-1", "type": "string", "sensitive": false},
            "cloudfront_distribution_id": {"value": "E1", "type": "string", "sensitive": false},
            "lambda_function_name": {"value": "fn", "type": "string", "sensitive": false},
            "lambda_log_group_name": {"value": "/aws/lambda/fn", "type": "string", "sensitive": false},
            "redis_replication_group_id": {"value": "rg", "type": "string", "sensitive": false},
            "redis_port": {"value": 6379, "type": "number", "sensitive": false},
            "db_password": {"value": "hunter2", "type": "string", "sensitive": true},
            "alarms": {"value": [{"name": "a", "region": "us-east-1"}], "type": ["list", "object"], "sensitive": false},
            "extra": {"value": {"x": 1}, "type": "object", "sensitive": false}
        })
        .to_string()
    }

    #[test]
    fn parses_contract_shape_and_masks_sensitive() {
        let o = Outputs::from_json(&sample()).expect("valid");
        assert_eq!(o.site_url, "https://x.example");
        assert_eq!(o.redis_port, Some(6379));
        assert_eq!(o.alarms[0].region, "us-east-1");
        let rows = o.display_rows();
        assert!(rows.contains(&("db_password".into(), "(sensitive)".into())));
        assert!(!format!("{rows:?}").contains("hunter2"));
        assert!(!o.masked_json().to_string().contains("hunter2"));
        // Lists of named objects read as names, not as JSON.
        assert!(
            rows.contains(&("alarms".into(), "(1) a".into())),
            "{rows:?}"
        );
        assert!(
            rows.contains(&("extra".into(), r#"{"x":1}"#.into())),
            "{rows:?}"
        );
    }

    #[test]
    fn missing_output_is_named() {
        let mut v: serde_json::Value = serde_json::from_str(&sample()).expect("json");
        v.as_object_mut().map(|m| m.remove("lambda_function_name"));
        let err = Outputs::from_json(&v.to_string()).expect_err("must fail");
        assert!(err.to_string().contains("lambda_function_name"), "{err}");
    }

    #[test]
    fn malformed_is_an_error_not_a_panic() {
        assert!(matches!(
            Outputs::from_json("{not json"),
            Err(OutputsError::Malformed(_))
        ));
        assert!(Outputs::from_json("[1,2]").is_err());
        let bad_alarms = sample().replace(r#"[{"name":"a","region":"us-east-1"}]"#, "\"x\"");
        assert!(Outputs::from_json(&bad_alarms).is_err());
    }

    #[test]
    fn canary_alarms_are_optional_and_typed() {
        let o = Outputs::from_json(&sample()).expect("valid");
        assert!(o.canary_alarms.is_empty(), "absent: none");
        let mut v: serde_json::Value = serde_json::from_str(&sample()).expect("json");
        v["canary_alarms"] = serde_json::json!({"value": null});
        let o = Outputs::from_json(&v.to_string()).expect("null is none");
        assert!(o.canary_alarms.is_empty());
        v["canary_alarms"] = serde_json::json!({"value": [
            {"name": "p-probe-unhealthy", "region": "eu-west-1"},
            {"name": "p-sse-buffered", "region": "eu-west-1"}
        ]});
        let o = Outputs::from_json(&v.to_string()).expect("two");
        assert_eq!(o.canary_alarms.len(), 2);
        assert_eq!(o.canary_alarms[1].name, "p-sse-buffered");
        assert_eq!(o.alarms.len(), 1, "the base alarms stay apart");
        v["canary_alarms"] = serde_json::json!({"value": "x"});
        let err = Outputs::from_json(&v.to_string()).expect_err("wrong type");
        assert!(err.to_string().contains("canary_alarms"), "{err}");
    }

    #[test]
    fn backend_block_and_state_outputs() {
        let b = parse_s3_backend(
            "terraform {\n  backend \"s3\" {\n    bucket = \"tf-state\"\n    key    = \"a/b.tfstate\"\n    region = \"eu-west-1\"\n  }\n}",
        )
        .expect("block");
        assert_eq!(b.bucket, "tf-state");
        assert_eq!(b.key, "a/b.tfstate");
        assert_eq!(b.region.as_deref(), Some("eu-west-1"));
        let state = format!(r#"{{"version":4,"outputs":{}}}"#, sample());
        assert_eq!(
            from_state_json(&state).expect("state").lambda_function_name,
            "fn"
        );
    }
}
