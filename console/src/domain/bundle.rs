//! The support bundle's pure parts (`opsconsole bundle`, `:bundle`): redaction, the archive's
//! file names, the SUMMARY.md rendering, the SSM parameter names a function's environment
//! refers to. The adapters (AWS, HTTP, the tar.gz) are `crate::bundle`.
//!
//! Redaction is layered; every file of the archive passes the last two:
//! 1. structured: sensitive outputs are `(sensitive)` (as everywhere in the console), the
//!    function's environment values are [`REDACTED`] (names kept), and in every JSON document
//!    a value under a key that names a secret ([`is_secret_key`]) is [`REDACTED`];
//! 2. known values: the exact values that must never appear (sensitive outputs, the function's
//!    environment values, the diagnostics token and chat key, the SSM parameters the
//!    environment names), wherever they appear (log lines, error messages);
//! 3. shapes: text that looks like a secret by its key name (`password=..`, `"api_key": ".."`,
//!    `x-opsconsole-token: ..`), bearer tokens, passwords in URLs, AWS access keys, JWTs,
//!    `sk-` API keys and private key blocks.
//!
//! What is not secret stays (issue 25): a key that merely contains a secret word but names a
//! measure (`secrets_ms`, `ColdStartSecretsMs`, `token_count`) keeps its value, numbers as
//! numbers; the caller's identity (account, user id, ARN: ids, not credentials) is kept even
//! where it has an access key's shape; and a known value that is a number, a boolean, a path,
//! a file name, a URL without credentials, an ARN or a plain lowercase word is not scrubbed
//! from text (the structured layer still removes it where it belongs), nor is the value of a
//! function variable whose name is not secret unless it looks generated (upper and lower case
//! and digits, or 24+ characters).

use std::path::Path;

use regex::Regex;
use serde_json::Value;
use time::OffsetDateTime;

/// What stands where a secret was.
pub const REDACTED: &str = "[REDACTED]";

/// Known values shorter than this are not scrubbed as text (too likely to hit ordinary words;
/// the structured layer still removes them where they belong).
pub const MIN_KNOWN_LEN: usize = 6;

/// Parts of key names that mark a secret (case-insensitive substring).
const SECRET_KEY_PARTS: [&str; 11] = [
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "credential",
    "private_key",
    "creds_key",
    "creds_iv",
];

/// Whether a key (JSON field, environment variable, header) names a secret: it contains a
/// secret word and does not name a measure ([`is_measure_key`]).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_KEY_PARTS.iter().any(|p| k.contains(p)) && !is_measure_key(key)
}

/// Last words of a key that name a measure, not a value: a timing, a count, a size.
const MEASURE_WORDS: [&str; 16] = [
    "ms", "s", "sec", "secs", "seconds", "count", "counts", "total", "bytes", "size", "len",
    "length", "duration", "latency", "age", "ttl",
];

/// Whether a key names a measure by its last word (`secrets_ms`, `ColdStartSecretsMs`,
/// `token-count`): words split at `_`, `-`, `.`, spaces and lower-to-upper case changes.
pub fn is_measure_key(key: &str) -> bool {
    let mut last = String::new();
    let mut prev_lower = false;
    for c in key.trim_matches(|c: char| c == '"' || c == '\'').chars() {
        if matches!(c, '_' | '-' | '.' | ' ') {
            last.clear();
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            last.clear();
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        last.push(c.to_ascii_lowercase());
    }
    MEASURE_WORDS.contains(&last.as_str())
}

/// A value that is no secret however it is named: a number, a boolean, an absolute path, a
/// file name, a URL without credentials, an ARN, or a plain lowercase word.
pub fn is_plain_value(v: &str) -> bool {
    let v = v.trim();
    const EXT: [&str; 12] = [
        ".yaml", ".yml", ".json", ".toml", ".txt", ".js", ".mjs", ".pem", ".env", ".conf", ".log",
        ".md",
    ];
    v.parse::<f64>().is_ok()
        || v.eq_ignore_ascii_case("true")
        || v.eq_ignore_ascii_case("false")
        || v.starts_with('/')
        || v.starts_with("arn:")
        || (v.contains("://") && !v.contains('@'))
        || (EXT.iter().any(|e| v.ends_with(e)) && !v.contains(char::is_whitespace))
        || (!v.is_empty() && v.len() <= 12 && v.chars().all(|c| c.is_ascii_lowercase()))
}

/// Whether a value looks generated (a key, a token): upper and lower case and digits, or 24+
/// characters without spaces.
pub fn looks_generated(v: &str) -> bool {
    let has = |f: fn(&char) -> bool| v.chars().any(|c| f(&c));
    (has(char::is_ascii_uppercase) && has(char::is_ascii_lowercase) && has(char::is_ascii_digit))
        || (v.chars().count() >= 24 && !v.contains(char::is_whitespace))
}

/// The known values of a function's environment: every value of a secret-named variable, and
/// of the others those that look generated ([`looks_generated`]); a credential inside a URL
/// is the URL shape's.
pub fn known_from_env<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    vars.into_iter()
        .filter(|(k, v)| is_secret_key(k) || looks_generated(v))
        .map(|(_, v)| v.to_string())
        .collect()
}

/// In a JSON document, every string or number under a secret-named key becomes [`REDACTED`]
/// (objects and arrays under such keys are walked, not dropped: `"tokens": {"count": 1}` keeps
/// its shape). `(sensitive)` markers stay as they are.
pub fn redact_json(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if is_secret_key(k) {
                    match x {
                        Value::String(s) if s == "(sensitive)" || s == REDACTED => {}
                        Value::String(_) | Value::Number(_) => {
                            *x = Value::String(REDACTED.into());
                        }
                        _ => redact_json(x),
                    }
                } else {
                    redact_json(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// Removes secrets from text: exact known values first, then secret shapes; `kept` values
/// (the caller's identity) are never touched.
pub struct Redactor {
    known: Vec<String>,
    kept: Vec<String>,
    shapes: Vec<(Regex, &'static str)>,
    named: Option<Regex>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Redactor({} known values, {} shapes)",
            self.known.len(),
            self.shapes.len()
        )
    }
}

/// The secret shapes: (pattern, replacement).
const SHAPES: [(&str, &str); 7] = [
    // AWS access key ids; secret keys and session tokens after their names.
    (r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", REDACTED),
    (
        r#"(?i)(aws_secret_access_key|secretaccesskey|aws_session_token)(["'\s:=]+)[A-Za-z0-9/+=]{16,}"#,
        "${1}${2}[REDACTED]",
    ),
    // user:password@ in URLs (redis://:pw@host, mongodb+srv://u:pw@host).
    (
        r"(?i)([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@",
        "${1}[REDACTED]@",
    ),
    // Bearer tokens, OpenAI-style keys, JWTs, private keys.
    (r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}", "${1}[REDACTED]"),
    (r"\bsk-[A-Za-z0-9_-]{16,}", REDACTED),
    (
        r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        REDACTED,
    ),
    (
        r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
        REDACTED,
    ),
];

/// A secret-named key with a value: JSON ("password": ".."), env (JWT_SECRET=..), headers
/// (x-opsconsole-token: ..); group 2 is the key. Kept when the key names a measure.
const NAMED: &str = r#"(?i)("?([a-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|credential|private[_-]?key|creds[_-]key|creds[_-]iv)[a-z0-9_.-]*)"?\s*[:=]\s*"?)([^"\s,}\[({][^"\s,}]{3,})"#;

impl Redactor {
    /// `known`: values that must not appear anywhere (shorter than [`MIN_KNOWN_LEN`] are left
    /// to the structured layer).
    pub fn new(known: impl IntoIterator<Item = String>) -> Redactor {
        Redactor::keeping(known, Vec::new())
    }

    /// [`Redactor::new`], with values never to remove (`kept`: the caller's account, user id
    /// and ARN, which can have an access key's shape).
    pub fn keeping(known: impl IntoIterator<Item = String>, kept: Vec<String>) -> Redactor {
        let mut known: Vec<String> = known
            .into_iter()
            .filter(|k| k.chars().count() >= MIN_KNOWN_LEN && !is_plain_value(k))
            .collect();
        // Longest first, so a value containing another is removed whole.
        known.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        known.dedup();
        let shapes = SHAPES
            .iter()
            .filter_map(|(re, with)| match Regex::new(re) {
                Ok(r) => Some((r, *with)),
                // The patterns are constants and a unit test compiles each one.
                Err(e) => {
                    tracing::error!("bundle: redaction pattern {re} does not compile: {e}");
                    None
                }
            })
            .collect();
        let named = Regex::new(NAMED)
            .map_err(|e| tracing::error!("bundle: redaction pattern NAMED does not compile: {e}"))
            .ok();
        let mut kept: Vec<String> = kept.into_iter().filter(|k| k.len() >= 4).collect();
        kept.sort_by_key(|k| std::cmp::Reverse(k.len()));
        Redactor {
            known,
            kept,
            shapes,
            named,
        }
    }

    /// How many known values it removes.
    pub fn known_count(&self) -> usize {
        self.known.len()
    }

    pub fn redact(&self, text: &str) -> String {
        let mut s = text.to_string();
        // Kept values step aside (a marker no pattern matches) and come back at the end.
        let mark = |i: usize| format!("\u{1}{i}\u{1}");
        for (i, k) in self.kept.iter().enumerate() {
            if s.contains(k.as_str()) {
                s = s.replace(k.as_str(), &mark(i));
            }
        }
        for k in &self.known {
            if s.contains(k.as_str()) {
                s = s.replace(k.as_str(), REDACTED);
            }
        }
        for (re, with) in &self.shapes {
            if re.is_match(&s) {
                s = re.replace_all(&s, *with).into_owned();
            }
        }
        if let Some(re) = &self.named
            && re.is_match(&s)
        {
            s = re
                .replace_all(&s, |c: &regex::Captures<'_>| {
                    if is_measure_key(&c[2]) {
                        c[0].to_string()
                    } else {
                        format!("{}{REDACTED}", &c[1])
                    }
                })
                .into_owned();
        }
        for (i, k) in self.kept.iter().enumerate() {
            s = s.replace(&mark(i), k);
        }
        s
    }
}

/// The SSM parameters a function's environment names (the shim's contract, shim/README.md):
/// `SHIM_DIAGNOSTICS_TOKEN_SSM=NAME` and `SHIM_SSM_SECRETS=VAR=NAME,VAR=NAME`. Sorted, unique.
pub fn ssm_names_from_env<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in vars {
        match k {
            "SHIM_DIAGNOSTICS_TOKEN_SSM" if !v.trim().is_empty() => out.push(v.trim().to_string()),
            "SHIM_SSM_SECRETS" => out.extend(
                v.split(',')
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(_, name)| name.trim().to_string())
                    .filter(|n| !n.is_empty()),
            ),
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The default archive name: `opsconsole-bundle-ENV-YYYYMMDDTHHMMSSZ.tar.gz` (UTC).
pub fn default_file_name(env: &str, t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "opsconsole-bundle-{env}-{:04}{:02}{:02}T{:02}{:02}{:02}Z.tar.gz",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The directory every file of the archive sits in: the archive's name without `.tar.gz` /
/// `.tgz` (so unpacking two bundles never mixes them).
pub fn archive_dir(out: &Path) -> String {
    out.file_name()
        .and_then(|n| n.to_str())
        .map(|n| {
            n.strip_suffix(".tar.gz")
                .or_else(|| n.strip_suffix(".tgz"))
                .unwrap_or(n)
                .to_string()
        })
        .filter(|n| !n.is_empty() && n != "." && n != "..")
        .unwrap_or_else(|| "opsconsole-bundle".into())
}

/// What SUMMARY.md says beyond the probe document.
#[derive(Debug, Clone)]
pub struct SummaryFacts {
    pub env: String,
    pub opsconsole_version: String,
    /// The shim's version from its status endpoint, or why it is not known.
    pub shim_version: Result<String, String>,
    /// One line about the log lines (how many, from where, cut or not), or why there are none.
    pub logs_note: String,
    /// One line about the alarm history (read, or why not: e.g. not implemented by the endpoint).
    pub history_note: String,
    /// How many known secret values the redactor removes (a count, never the values).
    pub known_secrets: usize,
}

/// The files of the archive with what each holds (SUMMARY.md lists them).
pub const FILES: [(&str, &str); 10] = [
    ("SUMMARY.md", "this file"),
    (
        "probe.json",
        "the document `opsconsole probe ENV --json` prints (every check)",
    ),
    (
        "outputs.json",
        "the Terraform outputs (sensitive ones `(sensitive)`, secret-named ones [REDACTED])",
    ),
    (
        "logs.txt",
        "the function's newest log lines (FilterLogEvents over the window)",
    ),
    (
        "alarms.json",
        "every alarm's state (DescribeAlarms) and history (DescribeAlarmHistory, where the endpoint has it)",
    ),
    (
        "lambda.json",
        "GetFunctionConfiguration, environment variable values [REDACTED] (names kept)",
    ),
    (
        "cloudfront.json",
        "GetDistribution: status, origins, behaviours, aliases, certificate; the newest invalidations",
    ),
    (
        "cost.json",
        "the month's cost, estimated and actual, part by part, with the what-ifs (`opsconsole cost --json`)",
    ),
    (
        "versions.txt",
        "opsconsole's version, the shim's (status endpoint), OS",
    ),
    ("REDACTION.md", "what was removed and how"),
];

/// SUMMARY.md: status, findings with their next steps, the alarms in ALARM, the checks,
/// versions and the files (pure; from the probe document).
pub fn summary_markdown(probe: &Value, f: &SummaryFacts) -> String {
    use std::fmt::Write as _;
    let s = |v: &Value| v.as_str().unwrap_or("?").to_string();
    let mut o = String::new();
    let _ = writeln!(o, "# opsconsole support bundle: {}\n", f.env);
    let _ = writeln!(
        o,
        "- status: **{}** (probe exit code {})",
        s(&probe["status"]).to_uppercase(),
        probe["exit_code"]
    );
    let _ = writeln!(o, "- generated: {}", s(&probe["generated_at"]));
    let _ = writeln!(
        o,
        "- window: {} ({} min)",
        s(&probe["window"]),
        probe["window_minutes"]
    );
    let _ = writeln!(o, "- opsconsole {}", f.opsconsole_version);
    match &f.shim_version {
        Ok(v) => {
            let _ = writeln!(o, "- shim {v} (its status endpoint)");
        }
        Err(why) => {
            let _ = writeln!(o, "- shim version unknown: {why}");
        }
    }
    let _ = writeln!(o, "\n## Findings\n");
    match probe["findings"].as_array() {
        Some(fs) if !fs.is_empty() => {
            for x in fs {
                // The message carries what was observed, the likely cause and the next step.
                let _ = writeln!(
                    o,
                    "- **{}** `{}` ({}): {}",
                    s(&x["severity"]),
                    s(&x["code"]),
                    s(&x["check"]),
                    s(&x["message"])
                );
            }
        }
        _ => {
            let _ = writeln!(o, "None: every check that ran was healthy.");
        }
    }
    let _ = writeln!(o, "\n## Alarms in ALARM\n");
    let alarms = probe["checks"]["alarms"]["data"]["alarms"].as_array();
    let firing: Vec<&Value> = alarms
        .map(|a| a.iter().filter(|a| a["state"] == "ALARM").collect())
        .unwrap_or_default();
    if alarms.is_none() {
        let _ = writeln!(
            o,
            "Not known: the alarms check did not run or failed (probe.json, `checks.alarms`)."
        );
    } else if firing.is_empty() {
        let _ = writeln!(o, "None.");
    } else {
        for a in firing {
            let _ = writeln!(
                o,
                "- `{}` ({}) since {}: {}",
                s(&a["name"]),
                s(&a["region"]),
                a["state_updated"].as_str().unwrap_or("?"),
                s(&a["reason"])
            );
        }
    }
    let _ = writeln!(o, "\n{}", f.history_note);
    let _ = writeln!(o, "\n## Checks\n");
    if let Some(c) = probe["checks"].as_object() {
        for (name, v) in c {
            let extra = match v["status"].as_str() {
                Some("error") => format!(
                    ": {} ({})",
                    s(&v["error"]["message"]),
                    s(&v["error"]["kind"])
                ),
                Some("skipped") => format!(": {}", s(&v["reason"])),
                _ => String::new(),
            };
            let _ = writeln!(o, "- {name}: {}{extra}", s(&v["status"]));
        }
    }
    let _ = writeln!(o, "\n## Logs\n\n{}", f.logs_note);
    let _ = writeln!(o, "\n## Files\n");
    for (name, what) in FILES {
        let _ = writeln!(o, "- `{name}`: {what}");
    }
    let _ = writeln!(
        o,
        "\nSecrets are removed from every file ({} known values and secret shapes; REDACTION.md).",
        f.known_secrets
    );
    o
}

/// REDACTION.md: what was removed and how (no value, only counts and rules).
pub fn redaction_markdown(known_secrets: usize, ssm_note: &str) -> String {
    format!(
        "# Redaction\n\n\
         Every file of this archive passed these steps before it was written:\n\n\
         1. Outputs marked `sensitive` in Terraform are `(sensitive)`; the function's environment \
         variable values are `{REDACTED}` (the names are kept); in every JSON document, a value \
         under a key naming a secret (containing {}) is `{REDACTED}`.\n\
         2. {known_secrets} known secret values were replaced by `{REDACTED}` wherever they \
         appeared (sensitive outputs, the function's environment values, the diagnostics token, \
         the chat API key, the SSM parameters the function's environment names). {ssm_note}\n\
         3. Text shaped like a secret was replaced: `KEY=value` / `\"key\": \"value\"` / \
         `header: value` where the key names a secret, bearer tokens, passwords in URLs, AWS \
         access keys and secret keys, JWTs, `sk-` API keys, private key blocks.\n",
        SECRET_KEY_PARTS
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_shape_compiles() {
        for (re, _) in SHAPES {
            assert!(Regex::new(re).is_ok(), "{re}");
        }
        assert_eq!(Redactor::new([]).shapes.len(), SHAPES.len());
    }

    #[test]
    fn known_values_and_secret_shapes_are_removed() {
        let r = Redactor::new(["s3cr3t-value-123".to_string(), "abc".to_string()]);
        let text = r#"x s3cr3t-value-123 y
AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
redis://:hunter2pass@cache:6379 mongodb+srv://u:pw12345@cluster/db
Authorization: Bearer abcdefghijklmnop
x-opsconsole-token: tok-abcdef-123
{"OPENAI_API_KEY": "sk-proj-abcdefghijklmnopqrstu", "JWT_SECRET": "xyzxyzxyz", "password":"p4ssw0rd!"}
CREDS_KEY=0123456789abcdef
eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ
-----BEGIN RSA PRIVATE KEY-----
MIIEsecretbody
-----END RSA PRIVATE KEY-----
abc stays (too short to be a known secret); http://127.0.0.1:5000/path stays"#;
        let out = r.redact(text);
        for secret in [
            "s3cr3t-value-123",
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI",
            "hunter2pass",
            "pw12345",
            "abcdefghijklmnop",
            "tok-abcdef-123",
            "sk-proj-abcdefghijklmnopqrstu",
            "xyzxyzxyz",
            "p4ssw0rd!",
            "0123456789abcdef",
            "eyJhbGciOiJIUzI1NiJ9",
            "MIIEsecretbody",
        ] {
            assert!(!out.contains(secret), "{secret} left in:\n{out}");
        }
        assert!(out.contains("abc stays"), "{out}");
        assert!(out.contains("cache:6379"), "{out}");
        assert!(out.contains("http://127.0.0.1:5000/path stays"), "{out}");
        assert_eq!(r.known_count(), 1);
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let r = Redactor::new([]);
        for t in [
            r#"{"status": "ok", "duration_ms": 12.5, "window": "1h"}"#,
            "no diagnostics token configured (config file [env.NAME.probe])",
            r#""redis_auth_token": "(sensitive)""#,
            "REPORT RequestId: 1-2-3 Duration: 12.00 ms",
        ] {
            assert_eq!(r.redact(t), t);
        }
    }

    #[test]
    fn a_value_containing_another_is_removed_whole() {
        let r = Redactor::new(["secret-one".to_string(), "secret-one-two".to_string()]);
        assert_eq!(r.redact("a secret-one-two b"), "a [REDACTED] b");
    }

    #[test]
    fn secret_named_json_values_are_redacted_by_key() {
        let mut v = json!({
            "site_url": "https://x",
            "diagnostics_token": "tok123",
            "redis_auth_token": "(sensitive)",
            "nested": [{"DB_PASSWORD": "pw", "port": 6379}],
            "tokens": {"count": 3},
            "openai_api_key": 42
        });
        redact_json(&mut v);
        assert_eq!(v["site_url"], "https://x");
        assert_eq!(v["diagnostics_token"], REDACTED);
        assert_eq!(v["redis_auth_token"], "(sensitive)");
        assert_eq!(v["nested"][0]["DB_PASSWORD"], REDACTED);
        assert_eq!(v["nested"][0]["port"], 6379);
        assert_eq!(v["tokens"]["count"], 3);
        assert_eq!(v["openai_api_key"], REDACTED);
        assert!(is_secret_key("JWT_REFRESH_SECRET"));
        assert!(is_secret_key("CREDS_KEY"));
        assert!(!is_secret_key("lambda_function_name"));
    }

    #[test]
    fn measures_identities_and_plain_values_are_kept_beside_real_secrets() {
        // Keys: timings and counts that contain a secret word are measures.
        for k in [
            "secrets_ms",
            "ColdStartSecretsMs",
            "token_count",
            "secret-ttl",
            "SecretsTotal",
        ] {
            assert!(is_measure_key(k) && !is_secret_key(k), "{k}");
        }
        for k in [
            "JWT_SECRET",
            "secret",
            "api_key",
            "x-opsconsole-token",
            "tokenMs2",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        // JSON: the numbers stay numbers, the secrets go.
        let mut v = serde_json::json!({"init": {"secrets_ms": 40.5, "ColdStartSecretsMs": 41},
            "password": "Pw-Kq83nXz1", "jwt_secret": 123456});
        redact_json(&mut v);
        assert_eq!(v["init"]["secrets_ms"], 40.5);
        assert_eq!(v["init"]["ColdStartSecretsMs"], 41);
        assert_eq!(v["password"], REDACTED);
        assert_eq!(v["jwt_secret"], REDACTED);
        // Text: the same, and the caller's identity (an access key's shape in moto) is kept.
        let user = "AKIAIOSFODNN7EXAMPLE";
        let r = Redactor::keeping(
            [
                "Pw-Kq83nXz1".to_string(),
                "librechat".into(),
                "librechat.yaml".into(),
                "/tmp/lc/librechat.yaml".into(),
                "8080".into(),
                "https://example.org/x".into(),
            ],
            vec![user.into(), "123456789012".into()],
        );
        let text = format!(
            r#"{{"secrets_ms": 40.5, "ColdStartSecretsMs": 41, "user_id": "{user}", "account": "123456789012"}} config /tmp/lc/librechat.yaml (librechat) port 8080 pw Pw-Kq83nXz1 password=Hunter2-Xy9 other AKIAABCDEFGHIJKLMNOP"#
        );
        let out = r.redact(&text);
        for kept in [
            "\"secrets_ms\": 40.5",
            "\"ColdStartSecretsMs\": 41",
            user,
            "123456789012",
            "/tmp/lc/librechat.yaml (librechat) port 8080",
        ] {
            assert!(out.contains(kept), "{kept}: {out}");
        }
        for gone in ["Pw-Kq83nXz1", "Hunter2-Xy9", "AKIAABCDEFGHIJKLMNOP"] {
            assert!(!out.contains(gone), "{gone}: {out}");
        }
        assert_eq!(r.known_count(), 1, "only the real secret is a known value");
        // The function's variables: secret-named ones, and values that look generated.
        let env = known_from_env([
            ("CONFIG_PATH", "/tmp/lc/librechat.yaml"),
            ("APP_TITLE", "LibreChat on Lambda"),
            ("AWS_REGION", "eu-west-1"),
            ("BUILD_LABEL", "plain-env-Jd92Tq4Lm5"),
            ("JWT_SECRET", "jwt"),
        ]);
        assert_eq!(env, ["plain-env-Jd92Tq4Lm5", "jwt"]);
    }

    #[test]
    fn ssm_names_come_from_the_shims_variables() {
        let env = [
            ("SHIM_DIAGNOSTICS_TOKEN_SSM", "/l/dev/diag"),
            (
                "SHIM_SSM_SECRETS",
                "JWT_SECRET=/l/dev/jwt, CREDS_KEY=arn:aws:ssm:eu-west-1:1:parameter/l/dev/creds,bad,",
            ),
            ("NODE_ENV", "production"),
        ];
        assert_eq!(
            ssm_names_from_env(env),
            [
                "/l/dev/diag",
                "/l/dev/jwt",
                "arn:aws:ssm:eu-west-1:1:parameter/l/dev/creds"
            ]
        );
        assert!(ssm_names_from_env([("SHIM_DIAGNOSTICS_TOKEN_SSM", " ")]).is_empty());
    }

    #[test]
    fn file_names_carry_env_and_utc_time() {
        let t = time::macros::datetime!(2026-12-01 02:03:04 +02:00);
        assert_eq!(
            default_file_name("dev", t),
            "opsconsole-bundle-dev-20261201T000304Z.tar.gz"
        );
        assert_eq!(archive_dir(Path::new("/tmp/x/b.tar.gz")), "b");
        assert_eq!(archive_dir(Path::new("b.tgz")), "b");
        assert_eq!(archive_dir(Path::new("plain")), "plain");
        assert_eq!(archive_dir(Path::new("/")), "opsconsole-bundle");
    }

    #[test]
    fn summary_names_status_findings_alarms_and_versions() {
        let probe = json!({
            "status": "failing", "exit_code": 2, "generated_at": "2026-12-01T00:00:00Z",
            "window": "1h", "window_minutes": 60,
            "findings": [
                {"check": "health", "code": "health_failed", "severity": "failing",
                 "message": "LibreChat did not answer /health. Next: press l"}
            ],
            "checks": {
                "alarms": {"status": "ok", "data": {"alarms": [
                    {"name": "p-apigw-5xx", "region": "eu-west-1", "state": "ALARM",
                     "reason": "Threshold Crossed", "state_updated": "2026-12-01T00:00:00Z"},
                    {"name": "p-lambda-errors", "region": "eu-west-1", "state": "OK", "reason": "fine"}
                ]}},
                "sse": {"status": "skipped", "reason": "no token"},
                "redis": {"status": "error", "error": {"kind": "timeout", "message": "slow"}}
            }
        });
        let facts = SummaryFacts {
            env: "dev".into(),
            opsconsole_version: "0.1.0".into(),
            shim_version: Err("status endpoint did not answer".into()),
            logs_note: "500 lines".into(),
            history_note: "history: not implemented by this endpoint".into(),
            known_secrets: 4,
        };
        let md = summary_markdown(&probe, &facts);
        assert!(
            md.contains("status: **FAILING** (probe exit code 2)"),
            "{md}"
        );
        assert!(
            md.contains(
                "`health_failed` (health): LibreChat did not answer /health. Next: press l"
            ),
            "{md}"
        );
        assert!(md.contains("`p-apigw-5xx` (eu-west-1)"), "{md}");
        assert!(!md.contains("p-lambda-errors"), "{md}");
        assert!(
            md.contains("shim version unknown: status endpoint did not answer"),
            "{md}"
        );
        assert!(md.contains("opsconsole 0.1.0"), "{md}");
        assert!(md.contains("- sse: skipped: no token"), "{md}");
        assert!(md.contains("- redis: error: slow (timeout)"), "{md}");
        assert!(md.contains("not implemented by this endpoint"), "{md}");
        for (name, _) in FILES {
            assert!(md.contains(name), "{name} in {md}");
        }
        let healthy = summary_markdown(
            &json!({"status": "healthy", "exit_code": 0, "findings": [], "checks": {}}),
            &facts,
        );
        assert!(
            healthy.contains("None: every check that ran was healthy."),
            "{healthy}"
        );
        assert!(healthy.contains("Not known: the alarms check"), "{healthy}");
    }

    #[test]
    fn redaction_note_gives_counts_not_values() {
        let md = redaction_markdown(3, "2 SSM parameters read.");
        assert!(md.contains("3 known secret values"), "{md}");
        assert!(md.contains("2 SSM parameters read."), "{md}");
    }
}
