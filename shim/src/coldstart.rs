//! Cold-start work done before LibreChat is spawned: `librechat.yaml` from S3 and secrets from SSM.
//! Secret values are never logged or put into error messages. The parts that need no AWS SDK
//! (parsing, domain replacement, matching, the result and error types); the fetching is
//! `shim-init`'s (shim/init, run by [`crate::init_step`]).

use sha2::{Digest, Sha256};

/// Errors of the cold-start phases. Messages name parameters and env vars, never secret values.
#[derive(Debug, thiserror::Error)]
pub enum ColdStartError {
    #[error("SHIM_SSM_SECRETS entry `{0}` is not NAME=parameter")]
    BadSecretSpec(String),
    #[error("fetching s3://{bucket}/{key}: {reason}")]
    ConfigFetch {
        bucket: String,
        key: String,
        reason: String,
    },
    #[error("config s3://{0}/{1} is not UTF-8 text")]
    ConfigNotText(String, String),
    #[error("writing config to {path}: {reason}")]
    ConfigWrite { path: String, reason: String },
    #[error("SSM GetParameters: {0}")]
    Ssm(String),
    #[error("SSM parameters not found for: {0}")]
    SecretsMissing(String),
}

/// Parse `NAME=parameter,NAME2=parameter` (parameter = name or ARN). Blank entries are skipped.
pub fn parse_secret_spec(spec: &str) -> Result<Vec<(String, String)>, ColdStartError> {
    let mut out = Vec::new();
    for entry in spec.split([',', '\n']) {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let (name, param) = entry
            .split_once('=')
            .ok_or_else(|| ColdStartError::BadSecretSpec(entry.to_string()))?;
        let (name, param) = (name.trim(), param.trim());
        let valid_name = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid_name || param.is_empty() {
            return Err(ColdStartError::BadSecretSpec(entry.to_string()));
        }
        out.push((name.to_string(), param.to_string()));
    }
    Ok(out)
}

/// Replace every occurrence of `from` with `to` (no-op when `from` is empty).
pub fn replace_domain(text: &str, from: Option<&str>, to: Option<&str>) -> String {
    match (from, to) {
        (Some(f), Some(t)) if !f.is_empty() => text.replace(f, t),
        _ => text.to_string(),
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Result of the config phase.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConfigResult {
    pub path: String,
    pub sha256: String,
    pub bytes: usize,
    pub replacements: usize,
}

/// Does an SSM parameter (as returned) answer the id that was asked for (name or ARN)?
pub fn parameter_matches(asked: &str, name: Option<&str>, arn: Option<&str>) -> bool {
    if arn == Some(asked) || name == Some(asked) {
        return true;
    }
    // ARN asked, name returned: arn:aws:ssm:REGION:ACCOUNT:parameter/NAME (name may lack "/").
    if let (Some(n), Some(idx)) = (name, asked.find(":parameter")) {
        let tail = &asked[idx + ":parameter".len()..];
        return tail == n || tail.strip_prefix('/') == Some(n) || tail == format!("/{n}");
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_spec_parses_arns_and_names() {
        let spec = "CREDS_IV=arn:aws:ssm:eu-west-1:515966504419:parameter/ecs/genai/librechat/CREDS_IV, JWT_SECRET=/plain/name,\n";
        let pairs = parse_secret_spec(spec).expect("parses");
        assert_eq!(
            pairs,
            vec![
                (
                    "CREDS_IV".to_string(),
                    "arn:aws:ssm:eu-west-1:515966504419:parameter/ecs/genai/librechat/CREDS_IV"
                        .to_string()
                ),
                ("JWT_SECRET".to_string(), "/plain/name".to_string()),
            ]
        );
        assert!(parse_secret_spec("").expect("empty ok").is_empty());
        assert!(matches!(
            parse_secret_spec("NOEQUALS"),
            Err(ColdStartError::BadSecretSpec(_))
        ));
        assert!(matches!(
            parse_secret_spec("BAD-NAME=x"),
            Err(ColdStartError::BadSecretSpec(_))
        ));
        assert!(matches!(
            parse_secret_spec("X="),
            Err(ColdStartError::BadSecretSpec(_))
        ));
    }

    #[test]
    fn domain_replacement_replaces_every_occurrence() {
        let text = "a: https://genai.sandbox.data.apro.is/x\nb: genai.sandbox.data.apro.is\n";
        let out = replace_domain(
            text,
            Some("genai.sandbox.data.apro.is"),
            Some("lambda-test.sandbox.data.apro.is"),
        );
        assert_eq!(
            out,
            "a: https://lambda-test.sandbox.data.apro.is/x\nb: lambda-test.sandbox.data.apro.is\n"
        );
        assert_eq!(replace_domain(text, None, Some("x")), text);
        assert_eq!(replace_domain(text, Some(""), Some("x")), text);
    }

    #[test]
    fn parameter_matching() {
        let arn = "arn:aws:ssm:eu-west-1:515966504419:parameter/ecs/genai/librechat/CREDS_IV";
        assert!(parameter_matches(
            arn,
            Some("/ecs/genai/librechat/CREDS_IV"),
            None
        ));
        assert!(parameter_matches(
            arn,
            Some("ecs/genai/librechat/CREDS_IV"),
            None
        ));
        assert!(parameter_matches(arn, None, Some(arn)));
        assert!(parameter_matches("/a/b", Some("/a/b"), None));
        assert!(!parameter_matches("/a/b", Some("/a/c"), None));
        assert!(!parameter_matches(
            arn,
            Some("/ecs/genai/librechat/CREDS_KEY"),
            None
        ));
    }
}
