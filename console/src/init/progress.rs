//! Progress of `terraform plan -json` / `terraform apply -json` from Terraform's machine-readable
//! UI (one JSON object a line: `planned_change`, `change_summary`, `apply_start`,
//! `apply_progress`, `apply_complete`, `apply_errored`, `diagnostic`, ...). Pure: [`Progress::feed`]
//! takes one line and says what changed; the runner only prints it.

use serde::Serialize;
use serde_json::Value;

/// One failure: the resource (when Terraform names one) and the error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The resource address, e.g. `module.redis.aws_elasticache_replication_group.this`; `None`
    /// for an error that names none (configuration, credentials).
    pub resource: Option<String>,
    pub error: String,
}

/// The plan's counts (`change_summary`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub add: u32,
    pub change: u32,
    pub remove: u32,
    pub import: u32,
}

impl Summary {
    /// Resource operations apply will run (a replacement counts as a remove and an add, as
    /// Terraform reports each with its own `apply_complete`).
    pub fn operations(&self) -> u32 {
        self.add + self.change + self.remove + self.import
    }
}

/// What a line changed, for the runner to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// A resource operation started (`apply_start`).
    Started { resource: String, action: String },
    /// One finished (`apply_complete`): `done` of `total` now.
    Completed { resource: String, action: String },
    /// One failed (`apply_errored`); the error text follows in a `diagnostic`.
    Errored { resource: String },
    /// An error diagnostic.
    Error(Failure),
    /// The plan's or the apply's summary.
    Summary(Summary),
}

/// The state of a plan or an apply, built from its `-json` lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Operations planned (`planned_change` lines, or the plan's `change_summary` when given).
    pub total: u32,
    /// Operations completed.
    pub done: u32,
    /// Operations started and not yet finished, oldest first (the last one is "current").
    pub running: Vec<String>,
    pub failures: Vec<Failure>,
    /// The last `change_summary` (the plan's, then the apply's).
    pub summary: Option<Summary>,
    /// Resources that failed (`apply_errored`) whose error has not come yet.
    #[serde(skip)]
    errored: Vec<String>,
    /// The total is the plan's: `apply -json PLANFILE` repeats the plan's `planned_change` and
    /// `change_summary` lines, which must not count twice.
    #[serde(skip)]
    fixed_total: bool,
}

fn resource_addr(v: &Value, hook: &str) -> Option<String> {
    v.get(hook)?
        .get("resource")?
        .get("addr")?
        .as_str()
        .map(str::to_string)
}

fn action(v: &Value, hook: &str) -> String {
    v.get(hook)
        .and_then(|h| h.get("action"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn count(c: &Value, key: &str) -> u32 {
    c.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

impl Progress {
    /// A progress whose total comes from the plan (`terraform apply PLANFILE` prints no
    /// `planned_change`).
    pub fn with_total(total: u32) -> Progress {
        Progress {
            total,
            fixed_total: true,
            ..Progress::default()
        }
    }

    /// The resource being worked on now (the newest started, unfinished one).
    pub fn current(&self) -> Option<&str> {
        self.running.last().map(String::as_str)
    }

    /// Feeds one line of `-json` output. Lines that are not JSON (a crash's stack, a
    /// provider's stray output) and message types of no interest change nothing.
    pub fn feed(&mut self, line: &str) -> Option<Update> {
        let v: Value = serde_json::from_str(line.trim()).ok()?;
        match v.get("type")?.as_str()? {
            "planned_change" if self.fixed_total => None,
            "planned_change" => {
                // `move`, `no-op` and `read` run no apply operation.
                let act = v
                    .get("change")
                    .and_then(|c| c.get("action"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                self.total += match act {
                    "create" | "update" | "delete" | "import" => 1,
                    "replace" => 2,
                    _ => 0,
                };
                None
            }
            "change_summary" => {
                let c = v.get("changes")?;
                let s = Summary {
                    add: count(c, "add"),
                    change: count(c, "change"),
                    remove: count(c, "remove"),
                    import: count(c, "import"),
                };
                if c.get("operation").and_then(Value::as_str) == Some("plan") && !self.fixed_total {
                    self.total = s.operations();
                }
                self.summary = Some(s);
                Some(Update::Summary(s))
            }
            "apply_start" => {
                let r = resource_addr(&v, "hook")?;
                self.running.push(r.clone());
                Some(Update::Started {
                    resource: r,
                    action: action(&v, "hook"),
                })
            }
            "apply_complete" => {
                let r = resource_addr(&v, "hook")?;
                self.running.retain(|x| x != &r);
                let action = action(&v, "hook");
                // A data source read during the apply is no planned operation.
                if !matches!(action.as_str(), "read" | "noop") {
                    self.done += 1;
                }
                Some(Update::Completed {
                    resource: r,
                    action,
                })
            }
            "apply_errored" => {
                let r = resource_addr(&v, "hook")?;
                self.running.retain(|x| x != &r);
                self.errored.push(r.clone());
                Some(Update::Errored { resource: r })
            }
            "diagnostic" => {
                let d = v.get("diagnostic")?;
                if d.get("severity").and_then(Value::as_str) != Some("error") {
                    return None;
                }
                let summary = d.get("summary").and_then(Value::as_str).unwrap_or("");
                let detail = d.get("detail").and_then(Value::as_str).unwrap_or("");
                let error = if detail.is_empty() {
                    summary.to_string()
                } else {
                    format!("{summary}: {detail}")
                };
                // Terraform names the resource in `address` (>= 1.1); otherwise the error is
                // the one of the oldest resource that failed without its error yet.
                let resource = d
                    .get("address")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| (!self.errored.is_empty()).then(|| self.errored.remove(0)));
                if let Some(r) = &resource {
                    self.errored.retain(|x| x != r);
                }
                let f = Failure { resource, error };
                self.failures.push(f.clone());
                Some(Update::Error(f))
            }
            _ => None,
        }
    }

    /// Failed resources whose error never came (named with a generic error).
    pub fn finish(&mut self) {
        for r in std::mem::take(&mut self.errored) {
            self.failures.push(Failure {
                resource: Some(r),
                error: "failed (terraform gave no error message)".into(),
            });
        }
    }

    /// One status line: `12/43 module.x.aws_y.z`.
    pub fn line(&self) -> String {
        match self.current() {
            Some(c) => format!("{}/{} {}", self.done, self.total, c),
            None => format!("{}/{}", self.done, self.total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &[&str] = &[
        r#"{"@level":"info","@message":"Terraform 1.11.4","type":"version","terraform":"1.11.4","ui":"1.2"}"#,
        r#"{"@level":"info","@message":"aws_s3_bucket.files: Plan to create","type":"planned_change","change":{"resource":{"addr":"aws_s3_bucket.files","module":"","resource":"aws_s3_bucket.files","resource_type":"aws_s3_bucket","resource_name":"files","resource_key":null,"implied_provider":"aws"},"action":"create"}}"#,
        r#"{"@level":"info","type":"planned_change","change":{"resource":{"addr":"module.backend.aws_lambda_function.api"},"action":"replace"}}"#,
        r#"{"@level":"info","type":"planned_change","change":{"resource":{"addr":"data.aws_caller_identity.me"},"action":"read"}}"#,
        r#"{"@level":"info","type":"planned_change","change":{"resource":{"addr":"module.x.aws_iam_role.r"},"action":"update"}}"#,
    ];

    #[test]
    fn planned_changes_count_operations_and_the_plan_summary_wins() {
        let mut p = Progress::default();
        for l in PLAN {
            p.feed(l);
        }
        // create 1 + replace 2 + read 0 + update 1
        assert_eq!(p.total, 4);
        let u = p.feed(r#"{"type":"change_summary","changes":{"add":2,"change":1,"import":0,"remove":1,"operation":"plan"}}"#);
        assert_eq!(
            u,
            Some(Update::Summary(Summary {
                add: 2,
                change: 1,
                remove: 1,
                import: 0
            }))
        );
        assert_eq!(p.total, 4);
        // The apply's summary does not change the total.
        p.feed(r#"{"type":"change_summary","changes":{"add":1,"change":0,"import":0,"remove":0,"operation":"apply"}}"#);
        assert_eq!(p.total, 4);
        assert_eq!(p.summary.map(|s| s.add), Some(1));
    }

    #[test]
    fn apply_counts_done_over_total_and_names_the_current_resource() {
        let mut p = Progress::with_total(3);
        // `apply PLANFILE` repeats the plan's lines: the total stays the plan's.
        for l in PLAN {
            p.feed(l);
        }
        p.feed(r#"{"type":"change_summary","changes":{"add":9,"change":0,"import":0,"remove":0,"operation":"plan"}}"#);
        assert_eq!(p.line(), "0/3");
        let u = p.feed(r#"{"@level":"info","@message":"aws_s3_bucket.files: Creating...","type":"apply_start","hook":{"resource":{"addr":"aws_s3_bucket.files","resource_type":"aws_s3_bucket"},"action":"create"}}"#);
        assert_eq!(
            u,
            Some(Update::Started {
                resource: "aws_s3_bucket.files".into(),
                action: "create".into()
            })
        );
        p.feed(r#"{"type":"apply_start","hook":{"resource":{"addr":"module.redis.aws_elasticache_replication_group.this[0]"},"action":"create"}}"#);
        assert_eq!(
            p.line(),
            "0/3 module.redis.aws_elasticache_replication_group.this[0]"
        );
        p.feed(r#"{"type":"apply_progress","hook":{"resource":{"addr":"module.redis.aws_elasticache_replication_group.this[0]"},"action":"create","elapsed_seconds":10}}"#);
        p.feed(r#"{"type":"apply_complete","hook":{"resource":{"addr":"module.redis.aws_elasticache_replication_group.this[0]"},"action":"create","id_key":"id","id_value":"x","elapsed_seconds":31}}"#);
        assert_eq!(p.done, 1);
        assert_eq!(p.line(), "1/3 aws_s3_bucket.files");
        p.feed(r#"{"type":"apply_complete","hook":{"resource":{"addr":"aws_s3_bucket.files"},"action":"create"}}"#);
        assert_eq!(p.line(), "2/3");
        // A data source read during the apply counts for nothing.
        p.feed(r#"{"type":"apply_start","hook":{"resource":{"addr":"data.aws_iam_policy_document.p"},"action":"read"}}"#);
        p.feed(r#"{"type":"apply_complete","hook":{"resource":{"addr":"data.aws_iam_policy_document.p"},"action":"read"}}"#);
        assert_eq!(p.line(), "2/3");
        assert!(p.failures.is_empty());
    }

    #[test]
    fn a_failure_names_the_resource_and_the_error() {
        let mut p = Progress::with_total(2);
        p.feed(r#"{"type":"apply_start","hook":{"resource":{"addr":"aws_s3_bucket.files"},"action":"create"}}"#);
        p.feed(r#"{"type":"apply_start","hook":{"resource":{"addr":"module.backend.aws_lambda_function.api"},"action":"create"}}"#);
        p.feed(r#"{"type":"apply_errored","hook":{"resource":{"addr":"aws_s3_bucket.files"},"action":"create","elapsed_seconds":1}}"#);
        let u = p.feed(r#"{"type":"apply_errored","hook":{"resource":{"addr":"module.backend.aws_lambda_function.api"},"action":"create","elapsed_seconds":2}}"#);
        assert_eq!(
            u,
            Some(Update::Errored {
                resource: "module.backend.aws_lambda_function.api".into()
            })
        );
        assert_eq!(p.done, 0);
        assert!(p.running.is_empty());
        // A diagnostic with an address names its resource (not the first that failed).
        p.feed(r#"{"@level":"error","@message":"Error: creating Lambda Function","type":"diagnostic","diagnostic":{"severity":"error","summary":"creating Lambda Function (librechat-dev-api)","detail":"InvalidParameterValueException: image not found","address":"module.backend.aws_lambda_function.api"}}"#);
        assert_eq!(
            p.failures,
            vec![Failure {
                resource: Some("module.backend.aws_lambda_function.api".into()),
                error: "creating Lambda Function (librechat-dev-api): InvalidParameterValueException: image not found".into()
            }]
        );
        // The bucket's error never came: named with a generic one.
        p.finish();
        assert_eq!(p.failures.len(), 2);
        assert_eq!(
            p.failures[1].resource.as_deref(),
            Some("aws_s3_bucket.files")
        );
        assert!(p.failures[1].error.contains("no error message"));
    }

    #[test]
    fn an_error_without_address_goes_to_the_resource_that_failed_and_warnings_are_not_failures() {
        let mut p = Progress::default();
        p.feed(r#"{"type":"apply_errored","hook":{"resource":{"addr":"aws_route53_record.site"},"action":"create"}}"#);
        p.feed(r#"{"type":"diagnostic","diagnostic":{"severity":"warning","summary":"Deprecated","detail":"dynamodb_table"}}"#);
        assert!(p.failures.is_empty());
        p.feed(r#"{"type":"diagnostic","diagnostic":{"severity":"error","summary":"InvalidChangeBatch","detail":""}}"#);
        assert_eq!(
            p.failures[0],
            Failure {
                resource: Some("aws_route53_record.site".into()),
                error: "InvalidChangeBatch".into()
            }
        );
        // An error after that names no resource: configuration-level.
        p.feed(r#"{"type":"diagnostic","diagnostic":{"severity":"error","summary":"No valid credential sources found"}}"#);
        assert_eq!(p.failures[1].resource, None);
        // A resource that failed and got no diagnostic is still named.
        p.feed(r#"{"type":"apply_errored","hook":{"resource":{"addr":"aws_s3_bucket.b"},"action":"create"}}"#);
        p.finish();
        assert_eq!(p.failures[2].resource.as_deref(), Some("aws_s3_bucket.b"));
    }

    #[test]
    fn lines_that_are_not_terraform_json_change_nothing() {
        let mut p = Progress::with_total(1);
        let before = p.clone();
        for l in [
            "",
            "panic: runtime error",
            "{not json",
            r#"{"type":"outputs","outputs":{}}"#,
            r#"{"type":"apply_start"}"#,
            r#"[1,2]"#,
        ] {
            assert_eq!(p.feed(l), None, "{l}");
        }
        assert_eq!(p, before);
    }
}
