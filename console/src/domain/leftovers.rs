//! `opsconsole leftovers`: what a deployment owned and still exists after `terraform destroy`.
//! Pure part: the names to look for (from the outputs saved before the destroy), the matching
//! rules for what is found by listing, and the document / exit code.

use serde::Serialize;
use serde_json::{Value, json};

use crate::outputs::Outputs;

/// Exit codes of `opsconsole leftovers`.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_LEFTOVERS: u8 = 1;
/// Nothing found, but some check could not run (denied, unreachable): not proof of clean.
pub const EXIT_INCOMPLETE: u8 = 2;
pub const EXIT_USAGE: u8 = 3;

pub const SCHEMA_VERSION: u32 = 1;

/// The tags every taggable resource of the deployment carries (environments/dev `default_tags`).
pub const DEFAULT_PROJECT_TAG: (&str, &str) = ("Project", "librechat");

/// What the deployment owned, by name, from its outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    pub region: String,
    pub function_name: String,
    pub log_groups: Vec<String>,
    /// Prefix of API Gateway's execution log groups (`API-Gateway-Execution-Logs_{id}/`).
    pub api_log_group_prefix: Option<String>,
    pub ecr_repository: Option<String>,
    pub buckets: Vec<String>,
    pub distribution_id: String,
    /// CloudFront functions and origin access controls are named after the frontend bucket.
    pub cloudfront_name_prefix: Option<String>,
    pub redis_replication_group_id: String,
    /// (region, names)
    pub alarms: Vec<(String, Vec<String>)>,
    pub dashboard: Option<String>,
    /// Tag filters for the Resource Groups Tagging API (all must match).
    pub tags: Vec<(String, String)>,
    /// Regions to ask the tagging API in (home, and us-east-1 for CloudFront and its alarms).
    pub tag_regions: Vec<String>,
}

/// The repository name of an ECR repository URL (`123.dkr.ecr.eu-west-1.amazonaws.com/name`).
pub fn ecr_repository_name(url: &str) -> Option<String> {
    let (_, name) = url.split_once('/')?;
    let name = name.split(':').next().unwrap_or(name).trim_matches('/');
    (!name.is_empty()).then(|| name.to_string())
}

/// Parses `--tag KEY=VALUE`.
pub fn parse_tag(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!(
            "--tag `{s}`: expected KEY=VALUE (e.g. Environment=dev)"
        )),
    }
}

impl Owned {
    /// Names from the outputs; `tags` empty means the defaults (`Project=librechat`,
    /// `Environment=<env>`).
    pub fn from_outputs(o: &Outputs, env: &str, tags: Vec<(String, String)>) -> Owned {
        let tags = if tags.is_empty() {
            vec![
                (
                    DEFAULT_PROJECT_TAG.0.to_string(),
                    DEFAULT_PROJECT_TAG.1.to_string(),
                ),
                ("Environment".to_string(), env.to_string()),
            ]
        } else {
            tags
        };
        let mut alarms: Vec<(String, Vec<String>)> = Vec::new();
        for a in &o.alarms {
            match alarms.iter_mut().find(|(r, _)| *r == a.region) {
                Some((_, names)) => names.push(a.name.clone()),
                None => alarms.push((a.region.clone(), vec![a.name.clone()])),
            }
        }
        let mut tag_regions = vec![o.region.clone()];
        if o.region != "us-east-1" {
            tag_regions.push("us-east-1".to_string());
        }
        let mut log_groups = vec![o.lambda_log_group_name.clone()];
        let lambda_default = format!("/aws/lambda/{}", o.lambda_function_name);
        if !log_groups.contains(&lambda_default) {
            log_groups.push(lambda_default);
        }
        Owned {
            region: o.region.clone(),
            function_name: o.lambda_function_name.clone(),
            log_groups,
            api_log_group_prefix: o
                .api_gateway_id
                .as_ref()
                .map(|id| format!("API-Gateway-Execution-Logs_{id}/")),
            ecr_repository: o
                .ecr_repository_url
                .as_deref()
                .and_then(ecr_repository_name),
            buckets: [&o.frontend_bucket_name, &o.files_bucket_name]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            distribution_id: o.cloudfront_distribution_id.clone(),
            cloudfront_name_prefix: o.frontend_bucket_name.as_ref().map(|b| format!("{b}-")),
            redis_replication_group_id: o.redis_replication_group_id.clone(),
            alarms,
            dashboard: o.dashboard_name.clone(),
            tags,
            tag_regions,
        }
    }

    /// Whether a CloudFront function or origin access control of this name was the
    /// deployment's.
    pub fn owns_cloudfront_name(&self, name: &str) -> bool {
        self.cloudfront_name_prefix
            .as_deref()
            .is_some_and(|p| name.starts_with(p))
    }

    /// Whether a network interface with this description is one the function's VPC
    /// configuration made (Lambda names them `AWS Lambda VPC ENI-<function>-<uuid>`).
    pub fn owns_eni(&self, description: &str) -> bool {
        description
            .strip_prefix("AWS Lambda VPC ENI-")
            .and_then(|rest| rest.strip_prefix(self.function_name.as_str()))
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
    }

    /// The description filter for EC2 `DescribeNetworkInterfaces`.
    pub fn eni_description_filter(&self) -> String {
        format!("AWS Lambda VPC ENI-{}*", self.function_name)
    }
}

/// One resource that still exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leftover {
    /// e.g. `log_group`, `ecr_repository`, `s3_bucket`, `tagged`.
    pub kind: String,
    /// Name, id or ARN.
    pub id: String,
    pub region: String,
    /// What was seen (e.g. "3 object versions").
    pub detail: String,
}

impl Leftover {
    pub fn new(kind: &str, id: impl Into<String>, region: &str, detail: impl Into<String>) -> Self {
        Leftover {
            kind: kind.to_string(),
            id: id.into(),
            region: region.to_string(),
            detail: detail.into(),
        }
    }
}

/// A check that could not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckError {
    pub check: String,
    pub message: String,
}

/// Merges what the checks found: leftovers found by name and by tag are listed once (a tagged
/// ARN that names a resource already listed by name is dropped).
pub fn merge(mut by_name: Vec<Leftover>, tagged: Vec<Leftover>) -> Vec<Leftover> {
    for t in tagged {
        let dup = by_name
            .iter()
            .any(|l| !l.id.is_empty() && (t.id == l.id || arn_names(&t.id, &l.id)));
        if !dup {
            by_name.push(t);
        }
    }
    by_name.sort_by(|a, b| (&a.kind, &a.id).cmp(&(&b.kind, &b.id)));
    by_name.dedup();
    by_name
}

/// Whether an ARN's resource part ends with `name` (`arn:...:log-group:/aws/lambda/f` names
/// `/aws/lambda/f`; `arn:aws:s3:::bucket` names `bucket`).
fn arn_names(arn: &str, name: &str) -> bool {
    if !arn.starts_with("arn:") {
        return false;
    }
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    let resource = resource.strip_suffix(":*").unwrap_or(resource);
    resource == name
        || resource.ends_with(&format!(":{name}"))
        || resource.ends_with(&format!("/{name}"))
}

pub fn exit_code(leftovers: &[Leftover], errors: &[CheckError]) -> u8 {
    if !leftovers.is_empty() {
        EXIT_LEFTOVERS
    } else if !errors.is_empty() {
        EXIT_INCOMPLETE
    } else {
        EXIT_CLEAN
    }
}

fn status(code: u8) -> &'static str {
    match code {
        EXIT_CLEAN => "clean",
        EXIT_LEFTOVERS => "leftovers",
        EXIT_INCOMPLETE => "incomplete",
        _ => "error",
    }
}

/// The JSON document (console/README.md, "leftovers").
pub fn document(
    env: &str,
    generated_at: &str,
    checked: &[String],
    leftovers: &[Leftover],
    errors: &[CheckError],
) -> Value {
    let code = exit_code(leftovers, errors);
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": "opsconsole",
        "version": env!("CARGO_PKG_VERSION"),
        "env": env,
        "generated_at": generated_at,
        "status": status(code),
        "exit_code": code,
        "checked": checked,
        "leftovers": leftovers,
        "errors": errors,
    })
}

/// The usage-error document (exit 3).
pub fn usage_document(env: &str, generated_at: &str, message: &str) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": "opsconsole",
        "version": env!("CARGO_PKG_VERSION"),
        "env": env,
        "generated_at": generated_at,
        "status": "error",
        "exit_code": EXIT_USAGE,
        "error": message,
        "checked": [],
        "leftovers": [],
        "errors": [],
    })
}

/// The human rendering: one line per leftover, then the verdict.
pub fn human(
    env: &str,
    checked: &[String],
    leftovers: &[Leftover],
    errors: &[CheckError],
) -> String {
    let mut out = String::new();
    for l in leftovers {
        out.push_str(&format!(
            "LEFT  {:<22} {:<10} {}{}\n",
            l.kind,
            l.region,
            l.id,
            if l.detail.is_empty() {
                String::new()
            } else {
                format!("  ({})", l.detail)
            }
        ));
    }
    for e in errors {
        out.push_str(&format!("ERROR {:<22} {}\n", e.check, e.message));
    }
    let verdict = match exit_code(leftovers, errors) {
        EXIT_CLEAN => format!("{env}: nothing left ({} checks)", checked.len()),
        EXIT_LEFTOVERS => format!(
            "{env}: {} resource(s) left after destroy ({} checks{})",
            leftovers.len(),
            checked.len(),
            if errors.is_empty() {
                String::new()
            } else {
                format!(", {} could not run", errors.len())
            }
        ),
        _ => format!(
            "{env}: nothing found, but {} of {} checks could not run: not proof that nothing is left",
            errors.len(),
            checked.len()
        ),
    };
    out.push_str(&verdict);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::Outputs;

    fn outputs() -> Outputs {
        let doc = json!({
            "site_url": {"value": "https://chat.example.com"},
            "region": {"value": "eu-west-1"},
            "cloudfront_distribution_id": {"value": "E123"},
            "api_gateway_id": {"value": "abc123"},
            "lambda_function_name": {"value": "librechat-dev-api"},
            "lambda_log_group_name": {"value": "/aws/lambda/librechat-dev-api"},
            "ecr_repository_url": {"value": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/librechat-dev-api"},
            "redis_replication_group_id": {"value": "librechat-dev"},
            "frontend_bucket_name": {"value": "librechat-dev-frontend"},
            "files_bucket_name": {"value": "librechat-dev-files"},
            "alarms": {"value": [
                {"name": "a1", "region": "eu-west-1"},
                {"name": "cf", "region": "us-east-1"},
                {"name": "a2", "region": "eu-west-1"}
            ]},
            "dashboard_name": {"value": "librechat-dev"},
            "shim_metrics_namespace": {"value": "LibreChat/Shim"}
        });
        Outputs::from_json(&doc.to_string()).unwrap()
    }

    #[test]
    fn names_come_from_the_outputs() {
        let o = Owned::from_outputs(&outputs(), "dev", vec![]);
        assert_eq!(o.ecr_repository.as_deref(), Some("librechat-dev-api"));
        assert_eq!(o.log_groups, vec!["/aws/lambda/librechat-dev-api"]);
        assert_eq!(
            o.api_log_group_prefix.as_deref(),
            Some("API-Gateway-Execution-Logs_abc123/")
        );
        assert_eq!(
            o.buckets,
            vec!["librechat-dev-frontend", "librechat-dev-files"]
        );
        assert_eq!(
            o.alarms,
            vec![
                (
                    "eu-west-1".to_string(),
                    vec!["a1".to_string(), "a2".to_string()]
                ),
                ("us-east-1".to_string(), vec!["cf".to_string()])
            ]
        );
        assert_eq!(o.tag_regions, vec!["eu-west-1", "us-east-1"]);
        assert_eq!(
            o.tags,
            vec![
                ("Project".to_string(), "librechat".to_string()),
                ("Environment".to_string(), "dev".to_string())
            ]
        );
        let custom = Owned::from_outputs(&outputs(), "dev", vec![("Team".into(), "x".into())]);
        assert_eq!(custom.tags, vec![("Team".to_string(), "x".to_string())]);
    }

    #[test]
    fn ecr_names_and_tags_parse() {
        assert_eq!(
            ecr_repository_name("1.dkr.ecr.r.amazonaws.com/ns/repo:tag").as_deref(),
            Some("ns/repo")
        );
        assert_eq!(ecr_repository_name("no-slash"), None);
        assert_eq!(ecr_repository_name("host/"), None);
        assert_eq!(
            parse_tag("Environment=dev").unwrap(),
            ("Environment".into(), "dev".into())
        );
        assert!(parse_tag("novalue").unwrap_err().contains("KEY=VALUE"));
        assert!(parse_tag("=x").is_err());
    }

    #[test]
    fn only_the_functions_enis_and_the_frontends_cloudfront_names_are_owned() {
        let o = Owned::from_outputs(&outputs(), "dev", vec![]);
        assert!(o.owns_eni("AWS Lambda VPC ENI-librechat-dev-api-1b2c3d4e-0000"));
        assert!(o.owns_eni("AWS Lambda VPC ENI-librechat-dev-api"));
        assert!(!o.owns_eni("AWS Lambda VPC ENI-librechat-dev-api2-1b2c"));
        assert!(!o.owns_eni("AWS Lambda VPC ENI-other-1b2c"));
        assert!(!o.owns_eni("ELB app/x"));
        assert!(o.owns_cloudfront_name("librechat-dev-frontend-spa"));
        assert!(o.owns_cloudfront_name("librechat-dev-frontend-oac"));
        assert!(!o.owns_cloudfront_name("librechat-prod-frontend-spa"));
        assert_eq!(
            o.eni_description_filter(),
            "AWS Lambda VPC ENI-librechat-dev-api*"
        );
    }

    #[test]
    fn a_tagged_arn_of_a_resource_found_by_name_is_listed_once() {
        let by_name = vec![
            Leftover::new("log_group", "/aws/lambda/f", "eu-west-1", ""),
            Leftover::new("s3_bucket", "b", "eu-west-1", "2 object versions"),
        ];
        let tagged = vec![
            Leftover::new(
                "tagged",
                "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/f",
                "eu-west-1",
                "",
            ),
            Leftover::new(
                "tagged",
                "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/f:*",
                "eu-west-1",
                "",
            ),
            Leftover::new("tagged", "arn:aws:s3:::b", "eu-west-1", ""),
            Leftover::new("tagged", "arn:aws:sns:eu-west-1:1:alerts", "eu-west-1", ""),
        ];
        let merged = merge(by_name, tagged);
        let ids: Vec<&str> = merged.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(
            ids,
            vec!["/aws/lambda/f", "b", "arn:aws:sns:eu-west-1:1:alerts"]
        );
    }

    #[test]
    fn exit_codes_and_documents() {
        let l = vec![Leftover::new("s3_bucket", "b", "eu-west-1", "")];
        let e = vec![CheckError {
            check: "ecr".into(),
            message: "AccessDenied".into(),
        }];
        assert_eq!(exit_code(&[], &[]), EXIT_CLEAN);
        assert_eq!(exit_code(&l, &[]), EXIT_LEFTOVERS);
        assert_eq!(exit_code(&l, &e), EXIT_LEFTOVERS);
        assert_eq!(exit_code(&[], &e), EXIT_INCOMPLETE);
        let checked = vec!["ecr".to_string(), "s3".to_string()];
        let d = document("dev", "t", &checked, &[], &e);
        assert_eq!(d["status"], "incomplete");
        assert_eq!(d["exit_code"], 2);
        assert_eq!(d["errors"][0]["check"], "ecr");
        let h = human("dev", &checked, &[], &e);
        assert!(h.contains("not proof that nothing is left"), "{h}");
        let h = human("dev", &checked, &l, &[]);
        assert!(h.starts_with("LEFT  s3_bucket"), "{h}");
        assert!(h.contains("1 resource(s) left"), "{h}");
        assert_eq!(usage_document("dev", "t", "bad")["exit_code"], 3);
    }
}
