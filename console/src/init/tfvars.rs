//! What `opsconsole init` writes, pure: `terraform.tfvars.json` (the starting variables with the
//! chosen prerequisites over them, then `--set`) and `backend.hcl` (the S3 backend's settings,
//! passed to `terraform init -backend-config`).

use serde_json::{Map, Value, json};

use super::checks::Choices;

/// `KEY=VALUE` of a repeatable flag.
pub fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

/// A `--set KEY=VALUE` value: JSON when it parses as JSON (`false`, `3`, `["a"]`), else the
/// string itself.
pub fn set_value(v: &str) -> Value {
    serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()))
}

/// The variables: `base` (the environment's tfvars, or `--from`), the choices over it, then
/// `sets` (which win).
pub fn render(
    base: &Map<String, Value>,
    env: &str,
    c: &Choices,
    sets: &[(String, Value)],
) -> Map<String, Value> {
    let mut v = base.clone();
    let chosen = [
        ("environment", json!(env)),
        ("region", json!(c.region)),
        ("vpc_id", json!(c.vpc_id)),
        ("private_subnet_ids", json!(c.private_subnet_ids)),
        ("security_group_ids", json!(c.security_group_ids)),
        ("route53_zone_id", json!(c.route53_zone_id)),
        ("acm_certificate_arn", json!(c.acm_certificate_arn)),
        ("custom_domain", json!(c.custom_domain)),
        ("config_s3_bucket", json!(c.config_s3_bucket)),
        ("config_s3_key", json!(c.config_s3_key)),
        ("ssm_secrets", json!(c.ssm_secrets)),
    ];
    for (k, val) in chosen {
        v.insert(k.to_string(), val);
    }
    for (k, val) in sets {
        v.insert(k.clone(), val.clone());
    }
    v
}

/// The file's text: two-space JSON and a final newline (what `apply_local.py` writes too).
pub fn to_text(v: &Map<String, Value>) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// The S3 backend's settings for `env`: the state key per environment, locking by DynamoDB
/// table when given, else by S3 lock file (Terraform >= 1.10).
pub fn backend_hcl(bucket: &str, region: &str, lock_table: Option<&str>, env: &str) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = format!(
        "# written by `opsconsole init {env}`: terraform init -backend-config=backend.hcl\nbucket = {}\nkey    = {}\nregion = {}\n",
        q(bucket),
        q(&format!("librechat-lambda/{env}/terraform.tfstate")),
        q(region)
    );
    match lock_table {
        Some(t) => out.push_str(&format!("dynamodb_table = {}\n", q(t))),
        None => out.push_str("use_lockfile = true\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices() -> Choices {
        Choices {
            region: "eu-west-1".into(),
            custom_domain: "chat.example.com".into(),
            vpc_id: "vpc-1".into(),
            private_subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
            security_group_ids: [("shared".to_string(), "sg-1".to_string())].into(),
            acm_certificate_arn: "arn:cert".into(),
            route53_zone_id: "Z1".into(),
            config_s3_bucket: "cfg".into(),
            config_s3_key: "k/librechat.yaml".into(),
            ssm_secrets: [("JWT_SECRET".to_string(), "arn:p".to_string())].into(),
        }
    }

    #[test]
    fn choices_replace_the_base_and_keep_the_rest_and_sets_win() {
        let base = json!({
            "environment": "old", "vpc_id": "vpc-old", "lambda_environment": {"A": "b"},
            "ssm_secrets": {"OLD": "x"}, "build_image": true
        });
        let base = base.as_object().unwrap().clone();
        let sets = vec![("build_image".to_string(), set_value("false"))];
        let v = render(&base, "dev", &choices(), &sets);
        assert_eq!(v["environment"], "dev");
        assert_eq!(v["vpc_id"], "vpc-1");
        assert_eq!(v["private_subnet_ids"], json!(["subnet-a", "subnet-b"]));
        assert_eq!(
            v["ssm_secrets"],
            json!({"JWT_SECRET": "arn:p"}),
            "the checked map, not the old one"
        );
        assert_eq!(v["lambda_environment"], json!({"A": "b"}));
        assert_eq!(v["build_image"], json!(false));
        assert!(to_text(&v).ends_with("}\n"));
    }

    #[test]
    fn set_values_are_json_when_they_parse() {
        assert_eq!(set_value("false"), json!(false));
        assert_eq!(set_value("[\"a\"]"), json!(["a"]));
        assert_eq!(set_value("/tmp/dist"), json!("/tmp/dist"));
        assert_eq!(parse_kv("A=b=c").unwrap(), ("A".into(), "b=c".into()));
        assert!(parse_kv("novalue").is_err());
        assert!(parse_kv("=x").is_err());
    }

    #[test]
    fn the_backend_has_a_key_per_environment_and_a_lock() {
        let b = backend_hcl("state", "eu-west-1", Some("locks"), "staging");
        assert!(
            b.contains("key    = \"librechat-lambda/staging/terraform.tfstate\""),
            "{b}"
        );
        assert!(b.contains("dynamodb_table = \"locks\""));
        let b = backend_hcl("state", "eu-west-1", None, "dev");
        assert!(
            b.contains("use_lockfile = true") && !b.contains("dynamodb"),
            "{b}"
        );
    }
}
