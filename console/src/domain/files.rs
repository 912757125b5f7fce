//! User files against Lambda's payload limits (issue 30), pure: the judge of the config object's
//! `librechat.yaml` (where LibreChat keeps files, and the largest file it lets through), shared by
//! `opsconsole probe` and `opsconsole init`; the uploads the access log shows rejected for size;
//! the files bucket's usage line.
//!
//! LibreChat v0.8.6's defaults (`packages/data-provider/src/config.ts`, `file-config.ts`): a
//! missing `fileStrategy` is `local` (its app directory: read-only on Lambda, and per execution
//! environment even under /tmp); every size limit is in MB of 1024 x 1024 bytes (`mbToBytes`),
//! 512 for `serverFileSizeLimit` and for the built-in endpoints' `fileSizeLimit`, 50 for
//! `skills.fileSizeLimit`, 2 for `avatarSizeLimit`. A config that does not parse is not used at
//! all (`loadCustomConfig` returns null): LibreChat then runs on those defaults.

use serde::Serialize;
use serde_norway::Value;

use super::findings::Severity;

/// A synchronous Lambda invocation's request payload limit (6 MB; the local Lambda's
/// `MAX_SYNC_PAYLOAD`).
pub const LAMBDA_REQUEST_PAYLOAD_BYTES: u64 = 6 * 1024 * 1024;

/// The largest file (MB as LibreChat counts them) that reaches LibreChat: API Gateway hands the
/// body to Lambda base64-encoded (4/3 larger) inside the event (headers, cookies: some KB), and
/// the multipart envelope adds a few hundred bytes: (6 MiB - 64 KiB) x 3/4 = 4.45 MiB.
pub const FITTING_FILE_MB: f64 = 4.4;

/// What `fileConfig` sets when the judge proposes a fix (MB): under [`FITTING_FILE_MB`], a whole
/// number as the documented config has it (infrastructure/README.md).
pub const FIX_FILE_MB: u32 = 4;

/// LibreChat's default size limit (MB) for the server and the built-in endpoints.
const DEFAULT_LIMIT_MB: f64 = 512.0;

/// The endpoints `file-config.ts` gives their own 512 MB `fileSizeLimit`: a `default` entry in
/// the YAML does not lower them.
const BUILT_IN_ENDPOINTS: [&str; 5] = [
    "assistants",
    "azureAssistants",
    "agents",
    "anthropic",
    "default",
];

/// The file types `fileStrategies` can send elsewhere than `fileStrategy`.
const STRATEGY_TYPES: [&str; 4] = ["avatar", "image", "document", "skills"];

/// One problem of the config object, with its fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigFinding {
    pub code: &'static str,
    pub severity: Severity,
    /// What is wrong and what it does to an upload.
    pub summary: String,
    /// The exact change (YAML) or step.
    pub fix: String,
}

impl ConfigFinding {
    /// The probe's message: the summary, then the fix.
    pub fn message(&self) -> String {
        format!("{} Fix: {}", self.summary, self.fix)
    }
}

/// One effective size limit: where it comes from (its YAML path) and its value in MB.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeLimit {
    pub key: String,
    pub mb: f64,
    /// LibreChat's default (the key is not in the YAML).
    pub default: bool,
}

/// What the judge read from the YAML (shown with the findings).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConfigSummary {
    /// The effective `fileStrategy` (`local` when absent).
    pub file_strategy: String,
    /// The largest effective size limit.
    pub largest_limit: Option<SizeLimit>,
}

/// The judgement of one config object.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConfigJudgement {
    /// `None` when the text did not parse.
    pub summary: Option<ConfigSummary>,
    pub findings: Vec<ConfigFinding>,
}

/// The config object could not be read (or its location is unknown): stated, never a pass.
pub fn unreadable(at: &str, why: &str) -> ConfigFinding {
    ConfigFinding {
        code: "config_unreadable",
        severity: Severity::Degraded,
        summary: format!(
            "the config object {at} could not be read: {why}; where uploads go and how large \
             they may be was not checked."
        ),
        fix: format!(
            "give the console's credentials s3:GetObject on {at} (a bucket in another account: \
             its bucket policy), or check that CONFIG_S3_BUCKET / CONFIG_S3_KEY of the function \
             name the object LibreChat boots with."
        ),
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_mapping().and_then(|m| m.get(key))
}

fn fmt_mb(mb: f64) -> String {
    if mb.fract() == 0.0 {
        format!("{mb:.0}")
    } else {
        format!("{mb}")
    }
}

/// Every effective per-file size limit (MB), as `mergeFileConfig` computes them.
pub fn size_limits(doc: &Value) -> Vec<SizeLimit> {
    let fc = get(doc, "fileConfig");
    let at = |path: &[&str]| -> Option<f64> {
        let mut v = fc?;
        for p in path {
            v = get(v, p)?;
        }
        num(v)
    };
    let limit = |key: String, set: Option<f64>, default: f64| SizeLimit {
        key,
        mb: set.unwrap_or(default),
        default: set.is_none(),
    };
    let mut out = vec![
        limit(
            "fileConfig.serverFileSizeLimit".into(),
            at(&["serverFileSizeLimit"]),
            DEFAULT_LIMIT_MB,
        ),
        limit(
            "fileConfig.avatarSizeLimit".into(),
            at(&["avatarSizeLimit"]),
            2.0,
        ),
        limit(
            "fileConfig.skills.fileSizeLimit".into(),
            at(&["skills", "fileSizeLimit"]),
            50.0,
        ),
    ];
    let endpoints = fc
        .and_then(|f| get(f, "endpoints"))
        .and_then(Value::as_mapping);
    let disabled = |name: &str| {
        fc.and_then(|f| get(f, "endpoints"))
            .and_then(|e| get(e, name))
            .and_then(|e| get(e, "disabled"))
            .and_then(Value::as_bool)
            == Some(true)
    };
    let endpoint_limit = |name: &str| at(&["endpoints", name, "fileSizeLimit"]);
    // An endpoint the YAML adds takes the (merged) `default` endpoint's limit when it sets none.
    let default_mb = endpoint_limit("default").unwrap_or(DEFAULT_LIMIT_MB);
    let mut names: Vec<String> = BUILT_IN_ENDPOINTS.iter().map(|s| s.to_string()).collect();
    for k in endpoints.into_iter().flat_map(|m| m.keys()) {
        if let Some(k) = k.as_str()
            && !names.iter().any(|n| n == k)
        {
            names.push(k.to_string());
        }
    }
    for name in names {
        if disabled(&name) {
            continue; // uploads off for it: limit 0
        }
        let fallback = if BUILT_IN_ENDPOINTS.contains(&name.as_str()) {
            DEFAULT_LIMIT_MB
        } else {
            default_mb
        };
        out.push(limit(
            format!("fileConfig.endpoints.{name}.fileSizeLimit"),
            endpoint_limit(&name),
            fallback,
        ));
    }
    out
}

/// Where each kind of file goes: `(what, strategy)` for `fileStrategy` and every
/// `fileStrategies` entry that names another.
fn strategies(doc: &Value) -> (String, Vec<(String, String)>) {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let main = s(get(doc, "fileStrategy")).unwrap_or_else(|| "local".into());
    let per = get(doc, "fileStrategies");
    let default = s(per.and_then(|p| get(p, "default"))).unwrap_or_else(|| main.clone());
    let mut out = vec![("fileStrategy".to_string(), main.clone())];
    if default != main {
        out.push(("fileStrategies.default".into(), default.clone()));
    }
    for t in STRATEGY_TYPES {
        if let Some(v) = s(per.and_then(|p| get(p, t)))
            && v != default
        {
            out.push((format!("fileStrategies.{t}"), v));
        }
    }
    (main, out)
}

/// The YAML that fixes `too_large` (each at [`FIX_FILE_MB`]; the avatar at 2).
fn size_fix(too_large: &[&SizeLimit]) -> String {
    let mut top = Vec::new();
    let mut skills = None;
    let mut endpoints = Vec::new();
    for l in too_large {
        let rest = l.key.trim_start_matches("fileConfig.");
        let v = if rest == "avatarSizeLimit" {
            2
        } else {
            FIX_FILE_MB
        };
        if let Some(name) = rest
            .strip_prefix("endpoints.")
            .and_then(|r| r.strip_suffix(".fileSizeLimit"))
        {
            endpoints.push(format!("    {name}:\n      fileSizeLimit: {v}"));
        } else if rest == "skills.fileSizeLimit" {
            skills = Some(format!("  skills:\n    fileSizeLimit: {v}"));
        } else {
            top.push(format!("  {rest}: {v}"));
        }
    }
    let mut y = vec!["fileConfig:".to_string()];
    y.extend(top);
    y.extend(skills);
    if !endpoints.is_empty() {
        y.push("  endpoints:".into());
        y.extend(endpoints);
    }
    y.join("\n")
}

/// Judges the config object's text.
pub fn judge(text: &str) -> ConfigJudgement {
    let doc: Value = match serde_norway::from_str(text) {
        Ok(v @ Value::Mapping(_)) => v,
        Ok(_) | Err(_) => {
            let why = match serde_norway::from_str::<Value>(text) {
                Err(e) => format!("does not parse as YAML ({e})"),
                Ok(_) => "parses, but is not a mapping".to_string(),
            };
            return ConfigJudgement {
                summary: None,
                findings: vec![ConfigFinding {
                    code: "config_invalid",
                    severity: Severity::Degraded,
                    summary: format!(
                        "librechat.yaml {why}: LibreChat ignores it and runs on its defaults, \
                         among them fileStrategy local (uploads fail or vanish on Lambda) and \
                         512 MB file limits."
                    ),
                    fix: "fix the YAML (check it with a YAML parser) and upload it again to the \
                          config object; the next cold start reads it."
                        .into(),
                }],
            };
        }
    };
    let mut findings = Vec::new();
    let (main, strategies) = strategies(&doc);
    let wrong: Vec<String> = strategies
        .iter()
        .filter(|(_, s)| s != "s3")
        .map(|(k, s)| {
            let how = if k == "fileStrategy" && get(&doc, "fileStrategy").is_none() {
                " (not set: LibreChat's default)"
            } else {
                ""
            };
            format!("{k} is `{s}`{how}")
        })
        .collect();
    if !wrong.is_empty() {
        findings.push(ConfigFinding {
            code: "files_strategy_not_s3",
            severity: Severity::Degraded,
            summary: format!(
                "user files do not go to the files bucket: {}. Likely cause: librechat.yaml \
                 leaves where files go to LibreChat's default; on Lambda `local` writes into a \
                 read-only app directory or one environment's /tmp, so an upload fails or \
                 vanishes when another environment serves the next request.",
                wrong.join(", ")
            ),
            fix: "set `fileStrategy: s3` at the top level of librechat.yaml (and remove other \
                  `fileStrategies` entries); the function's AWS_BUCKET_NAME names the files \
                  bucket and its role may write there; upload the config object again."
                .into(),
        });
    }
    let limits = size_limits(&doc);
    let too_large: Vec<&SizeLimit> = limits.iter().filter(|l| l.mb > FITTING_FILE_MB).collect();
    if !too_large.is_empty() {
        let named: Vec<String> = too_large
            .iter()
            .map(|l| {
                let d = if l.default {
                    " (LibreChat's default)"
                } else {
                    ""
                };
                format!("{} {} MB{d}", l.key, fmt_mb(l.mb))
            })
            .collect();
        findings.push(ConfigFinding {
            code: "file_size_limit_too_large",
            severity: Severity::Degraded,
            summary: format!(
                "librechat.yaml lets through files larger than Lambda can carry: {}; about \
                 {FITTING_FILE_MB} MB fits ({} MB of request payload per invocation, the body \
                 base64-encoded by API Gateway). A larger upload is refused by API Gateway or \
                 Lambda (413, or 500 from the integration) instead of by LibreChat's own message.",
                named.join(", "),
                LAMBDA_REQUEST_PAYLOAD_BYTES / (1024 * 1024)
            ),
            fix: format!(
                "in librechat.yaml (MB):\n{}\nthen upload the config object again.",
                size_fix(&too_large)
            ),
        });
    }
    let largest_limit = limits.iter().max_by(|a, b| a.mb.total_cmp(&b.mb)).cloned();
    ConfigJudgement {
        summary: Some(ConfigSummary {
            file_strategy: main,
            largest_limit,
        }),
        findings,
    }
}

/// The files bucket's usage, from a bounded listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketUsage {
    pub bucket: String,
    pub objects: u64,
    pub bytes: u64,
    /// `false`: the listing stopped at its bound; the bucket holds at least this much.
    pub complete: bool,
}

impl BucketUsage {
    /// `1234 objects, 56.7 MB` (`≥ ...` when the listing stopped early).
    pub fn line(&self) -> String {
        let at_least = if self.complete { "" } else { "≥ " };
        format!(
            "{at_least}{} objects, {}",
            self.objects,
            human_bytes(self.bytes)
        )
    }
}

/// Bytes in B / KB / MB / GB (1024-based, as LibreChat's MB).
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// Uploads refused for size, from API Gateway's access log lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SizeRejections {
    /// The access log group read; `None` when the deployment records none (`not_recorded`).
    pub log_group: Option<String>,
    /// The window read (`1h`).
    pub window: String,
    /// Why nothing could be counted.
    pub not_recorded: Option<String>,
    /// API Gateway's own 413 (over its 10 MB body limit): nothing invoked.
    pub api_gateway: u64,
    /// Lambda's 413 (`RequestTooLargeException`, over 6 MB of invocation payload), which the
    /// integration answers with a 5xx.
    pub lambda: u64,
    /// One such line.
    pub example: Option<String>,
    pub lines_read: u64,
}

/// Which size rejection an access log line records, if any. The line is the JSON format
/// console/README.md gives (`status`, `responseType` = `$context.error.responseType`,
/// `integrationStatus`, `integrationError`); other lines are not rejections.
pub fn size_rejection(line: &str) -> Option<Rejection> {
    let v: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    let field = |k: &str| -> String {
        match v.get(k) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let error = field("integrationError");
    if field("integrationStatus") == "413"
        || error.contains("RequestTooLarge")
        || error.contains("Request must be smaller than")
    {
        return Some(Rejection::Lambda);
    }
    if field("responseType") == "REQUEST_TOO_LARGE" || field("status") == "413" {
        return Some(Rejection::ApiGateway);
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    ApiGateway,
    Lambda,
}

impl SizeRejections {
    /// Counts the rejections among `lines` read from `group`.
    pub fn from_lines<'a>(
        group: &str,
        window: &str,
        lines: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut r = SizeRejections {
            log_group: Some(group.to_string()),
            window: window.to_string(),
            ..SizeRejections::default()
        };
        for l in lines {
            r.lines_read += 1;
            let Some(k) = size_rejection(l) else { continue };
            match k {
                Rejection::ApiGateway => r.api_gateway += 1,
                Rejection::Lambda => r.lambda += 1,
            }
            if r.example.is_none() {
                r.example = Some(l.trim().chars().take(300).collect());
            }
        }
        r
    }

    /// The deployment records no access log: said, not counted.
    pub fn not_recorded(why: &str) -> Self {
        SizeRejections {
            not_recorded: Some(why.to_string()),
            ..SizeRejections::default()
        }
    }
}

/// The `upload_too_large` finding's text, when any upload was refused for size.
pub fn rejections_message(r: &SizeRejections) -> Option<String> {
    let window = &r.window;
    let n = r.api_gateway + r.lambda;
    if n == 0 {
        return None;
    }
    let mut msg = format!(
        "{n} request(s) in the last {window} were refused for size before LibreChat saw them: \
         {} by API Gateway (413, body over its 10 MB limit), {} by Lambda (over {} MB of \
         invocation payload; the user saw a 5xx). Likely cause: a file over about \
         {FITTING_FILE_MB} MB was uploaded and librechat.yaml's limits let the web client send \
         it; next: the file_size_limit_too_large finding's fix (fileConfig limits of \
         {FIX_FILE_MB} MB), so LibreChat refuses such a file with its own message",
        r.api_gateway,
        r.lambda,
        LAMBDA_REQUEST_PAYLOAD_BYTES / (1024 * 1024)
    );
    if let Some(g) = &r.log_group {
        msg.push_str(&format!(" (from {g}"));
        if let Some(e) = &r.example {
            msg.push_str(&format!(", e.g. `{e}`"));
        }
        msg.push(')');
    }
    Some(msg)
}

/// What the files check saw (the probe's `checks.files.data`, the Deployment panel's line).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FilesData {
    /// `s3://bucket/key` of the config object, when known.
    pub config_at: Option<String>,
    /// The judgement of the config object (a `config_unreadable` finding when it was not read).
    pub config: ConfigJudgement,
    /// The files bucket's usage; `None` when the outputs name no files bucket.
    pub bucket: Option<Result<BucketUsage, String>>,
    pub rejections: SizeRejections,
}

impl FilesData {
    /// `files: s3 ≤ 4 MB, 12 objects, 3.1 MB` for the probe's summary.
    pub fn summary(&self) -> String {
        let config = match &self.config.summary {
            Some(s) => {
                let limit = s
                    .largest_limit
                    .as_ref()
                    .map(|l| format!(" ≤ {} MB", fmt_mb(l.mb)))
                    .unwrap_or_default();
                format!("fileStrategy {}{limit}", s.file_strategy)
            }
            None => "config not judged".to_string(),
        };
        let bucket = match &self.bucket {
            Some(Ok(u)) => format!("; bucket {}", u.line()),
            Some(Err(e)) => format!("; bucket not listed: {e}"),
            None => String::new(),
        };
        let rej = match &self.rejections.not_recorded {
            Some(_) => "; size rejections not recorded".to_string(),
            None => format!(
                "; {} upload(s) refused for size",
                self.rejections.api_gateway + self.rejections.lambda
            ),
        };
        format!("{config}{bucket}{rej}")
    }
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
