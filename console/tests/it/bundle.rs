//! `opsconsole bundle` end to end: the built binary against moto (a seeded deployment) and the
//! shim stand-in, with known secret values planted where a deployment keeps them (SSM: the
//! diagnostics token and the secrets the shim loads; the function's environment; sensitive
//! outputs and a secret-named one; log lines). The archive is unpacked and no file may hold
//! any of them; every expected file must be there with its content.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::process::Command;

use crate::common::{moto, seed_outputs};
use aws_sdk_lambda::types::Environment;
use aws_sdk_ssm::types::ParameterType;
use opsconsole_testsupport::seed::SeedSpec;
use opsconsole_testsupport::sse::{ShimStandIn, SseMode};
use serde_json::{Value, json};

const REGION: &str = "eu-west-1";
const P: &str = "bdl";

// The planted secrets (each distinct, none a substring of ordinary text).
const DIAG_TOKEN: &str = "diag-tok-Q8v2LmZx41";
const JWT_SECRET: &str = "jwt-sec-Hh73KpWq09";
const CREDS_KEY: &str = "creds-key-Zt5Rn2Yc88";
const OPENAI_KEY: &str = "sk-bundletest0123456789abcdef";
const MONGO_PW: &str = "mongo-pw-Vb61Xe3Ns7";
const PLAIN_ENV: &str = "plain-env-Jd92Tq4Lm5";
const REDIS_AUTH: &str = "redis-auth-Wc47Pa8Ku2";
const SENSITIVE_OUT: &str = "sens-out-Gm38Rf1Dy6";
const NAMED_OUT: &str = "named-out-Ks29Bv7Hx3";
const LOG_PW: &str = "log-pw-Nf84Ue2Qa1";
/// Not a secret: kept whole.
const CONFIG_PATH: &str = "/tmp/lc-bundle/librechat.yaml";

const SECRETS: [&str; 10] = [
    DIAG_TOKEN,
    JWT_SECRET,
    CREDS_KEY,
    OPENAI_KEY,
    MONGO_PW,
    PLAIN_ENV,
    REDIS_AUTH,
    SENSITIVE_OUT,
    NAMED_OUT,
    LOG_PW,
];

const FILES: [&str; 10] = [
    "SUMMARY.md",
    "probe.json",
    "outputs.json",
    "logs.txt",
    "alarms.json",
    "lambda.json",
    "cloudfront.json",
    "cost.json",
    "versions.txt",
    "REDACTION.md",
];

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("fits")
}

/// Seeds the deployment and plants the secrets; returns the outputs document.
async fn plant(shim: &ShimStandIn) -> Value {
    let mut spec = SeedSpec::healthy(P, REGION, &shim.url());
    spec.site_url = shim.url();
    let mut doc = seed_outputs(&spec).await;
    let c = moto().clients(REGION).await;
    for (name, value) in [
        (format!("/{P}/diagnostics-token"), DIAG_TOKEN),
        (format!("/{P}/jwt-secret"), JWT_SECRET),
        (format!("/{P}/creds-key"), CREDS_KEY),
        (format!("/{P}/openai-key"), OPENAI_KEY),
    ] {
        c.ssm
            .put_parameter()
            .name(&name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ssm put {name}: {e:?}"));
    }
    let function = doc["lambda_function_name"]["value"]
        .as_str()
        .expect("function name")
        .to_string();
    let vars = BTreeMap::from([
        (
            "SHIM_DIAGNOSTICS_TOKEN_SSM".to_string(),
            format!("/{P}/diagnostics-token"),
        ),
        (
            "SHIM_SSM_SECRETS".to_string(),
            format!("JWT_SECRET=/{P}/jwt-secret,CREDS_KEY=/{P}/creds-key"),
        ),
        ("OPENAI_API_KEY".to_string(), OPENAI_KEY.to_string()),
        (
            "MONGO_URI".to_string(),
            format!("mongodb://admin:{MONGO_PW}@db.internal:27017/librechat"),
        ),
        ("APP_BUILD_LABEL".to_string(), PLAIN_ENV.to_string()),
        ("NODE_ENV".to_string(), "production".to_string()),
        // Not secrets: a path, a file name and a plain word (issue 25: they cut paths).
        ("CONFIG_PATH".to_string(), CONFIG_PATH.to_string()),
        ("CONFIG_S3_KEY".to_string(), "librechat.yaml".to_string()),
        ("APP_TITLE".to_string(), "librechat".to_string()),
    ]);
    c.lambda
        .update_function_configuration()
        .function_name(&function)
        .environment(
            Environment::builder()
                .set_variables(Some(vars.into_iter().collect()))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("lambda env: {e:?}"));
    // Log lines that leak: raw values (known: from SSM and the environment) and shapes.
    let group = doc["lambda_log_group_name"]["value"]
        .as_str()
        .expect("group")
        .to_string();
    let t = now_ms();
    let lines = [
        "bundle-marker: LibreChat started".to_string(),
        format!("{{\"level\":\"error\",\"msg\":\"jwt verify with {JWT_SECRET} failed\"}}"),
        format!("config reloaded creds {CREDS_KEY} build {PLAIN_ENV}"),
        format!("db login password={LOG_PW} refused"),
        format!("calling openai with key {OPENAI_KEY}"),
        format!("diagnostics request x-opsconsole-token: {DIAG_TOKEN}"),
        // Not secrets: the config path and a cold start's phases (a field named `secrets`).
        format!("bundle-marker: reading {CONFIG_PATH} for librechat"),
        opsconsole_wire::emf::cold_start_line(
            &function,
            12.5,
            40.25,
            2100.0,
            2150.0,
            u64::try_from(t).expect("positive"),
        )
        .to_string(),
    ];
    let events: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, m)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(t + i64::try_from(i).expect("small"))
                .message(m)
                .build()
                .expect("event")
        })
        .collect();
    c.logs
        .put_log_events()
        .log_group_name(&group)
        .log_stream_name("2026/01/01/[$LATEST]seed")
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put_log_events: {e:?}"));
    // Sensitive outputs, and a secret-named one Terraform did not mark sensitive.
    doc["redis_auth_token"] = json!({"value": REDIS_AUTH, "type": "string", "sensitive": true});
    doc["extra_admin_password"] =
        json!({"value": SENSITIVE_OUT, "type": "string", "sensitive": true});
    doc["librechat_jwt_secret_hint"] =
        json!({"value": NAMED_OUT, "type": "string", "sensitive": false});
    doc
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn bundle(dir: &Path, outputs: &Path, cfg: &Path, out: &Path) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsconsole"));
    cmd.args(["bundle", "test", "--endpoint-url", moto().endpoint_url()])
        .arg("--outputs")
        .arg(outputs)
        .arg("--config")
        .arg(cfg)
        .arg("--out")
        .arg(out);
    crate::common::isolated_env(&mut cmd, dir);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running opsconsole: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// name -> text of every file in the archive (paths under one directory).
fn unpack(archive: &Path) -> BTreeMap<String, String> {
    let f = std::fs::File::open(archive).expect("archive");
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut files = BTreeMap::new();
    for e in a.entries().expect("entries") {
        let mut e = e.expect("entry");
        let path = e.path().expect("path").display().to_string();
        let (dir, name) = path.split_once('/').expect("one directory");
        assert_eq!(dir, "b", "{path}");
        let mut s = String::new();
        e.read_to_string(&mut s).expect("utf-8 text");
        files.insert(name.to_string(), s);
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_holds_every_file_and_no_secret() {
    let shim = ShimStandIn::start(DIAG_TOKEN, SseMode::Streaming).expect("shim");
    let doc = plant(&shim).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let outputs = dir.path().join("outputs.json");
    std::fs::write(&outputs, doc.to_string()).expect("outputs");
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[env.test]\ntimeout_secs = 30\n[env.test.probe]\nsse_events = 4\nsse_interval_ms = 50\ntoken_ssm = \"/{P}/diagnostics-token\"\n"
        ),
    )
    .expect("config");
    let archive = dir.path().join("b.tar.gz");
    let d = dir.path().to_path_buf();
    let (o, c, a) = (outputs.clone(), cfg.clone(), archive.clone());
    let r = tokio::task::spawn_blocking(move || bundle(&d, &o, &c, &a))
        .await
        .expect("bundle thread");
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert_eq!(r.stdout.trim(), archive.display().to_string());

    let files = unpack(&archive);
    assert_eq!(
        files.keys().cloned().collect::<Vec<_>>(),
        {
            let mut f: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
            f.sort();
            f
        },
        "the archive's files"
    );
    for (name, text) in &files {
        for s in SECRETS {
            assert!(!text.contains(s), "secret {s} in {name}:\n{text}");
        }
    }
    // And what should be there is.
    let probe: Value = serde_json::from_str(&files["probe.json"]).expect("probe.json is JSON");
    assert_eq!(probe["env"], "test");
    assert!(probe["checks"]["alarms"]["status"] == "ok", "{probe:#}");
    assert_eq!(probe["checks"]["health"]["status"], "ok", "{probe:#}");
    let summary = &files["SUMMARY.md"];
    assert!(
        summary.contains("# opsconsole support bundle: test"),
        "{summary}"
    );
    assert!(summary.contains("status: **"), "{summary}");
    // moto does not implement DescribeAlarmHistory: the archive says so.
    assert!(
        summary.contains("Alarm history: not available from this endpoint"),
        "{summary}"
    );
    let logs = &files["logs.txt"];
    assert!(logs.contains("bundle-marker: LibreChat started"), "{logs}");
    // What is not secret stays (issue 25): the path and the word whole, timings as numbers,
    // the caller's identity (moto's user id has an access key's shape).
    assert!(
        logs.contains(&format!("reading {CONFIG_PATH} for librechat")),
        "{logs}"
    );
    assert!(logs.contains("\"ColdStartSecretsMs\":40.25"), "{logs}");
    let phases = &probe["checks"]["lambda"]["data"]["shim_phases"];
    // The seeded cold starts' average with this one: a number, never "[REDACTED]".
    assert!(phases["secrets_ms"].is_number(), "{phases:#}");
    let who = &probe["checks"]["identity"]["data"];
    for k in ["account", "user_id", "arn"] {
        assert!(
            who[k]
                .as_str()
                .is_some_and(|v| !v.is_empty() && !v.contains("REDACTED")),
            "{k}: {who:#}"
        );
    }
    assert!(logs.contains("REPORT RequestId"), "{logs}");
    assert!(logs.contains("[REDACTED]"), "{logs}");
    let lambda: Value = serde_json::from_str(&files["lambda.json"]).expect("lambda.json");
    let vars = &lambda["environment_variables"];
    for name in [
        "MONGO_URI",
        "OPENAI_API_KEY",
        "APP_BUILD_LABEL",
        "SHIM_SSM_SECRETS",
        "NODE_ENV",
    ] {
        assert_eq!(vars[name], "[REDACTED]", "{name}: {lambda:#}");
    }
    let outs: Value = serde_json::from_str(&files["outputs.json"]).expect("outputs.json");
    assert_eq!(outs["redis_auth_token"], "(sensitive)");
    assert_eq!(outs["librechat_jwt_secret_hint"], "[REDACTED]");
    assert_eq!(outs["site_url"], shim.url());
    let cf: Value = serde_json::from_str(&files["cloudfront.json"]).expect("cloudfront.json");
    assert!(cf["distribution"]["id"].is_string(), "{cf:#}");
    // The cost document, through the same redaction: numbers stay numbers.
    let cost: Value = serde_json::from_str(&files["cost.json"]).expect("cost.json");
    assert_eq!(cost["status"], "ok", "{cost:#}");
    assert_eq!(cost["data"]["env"], "test");
    assert!(
        cost["data"]["estimate"]["total_usd"].is_number(),
        "{cost:#}"
    );
    let lines = cost["data"]["estimate"]["lines"].as_array().expect("lines");
    assert!(lines.len() > 10, "{cost:#}");
    for l in lines {
        assert!(l["quantity"].is_number(), "{l:#}");
        assert!(
            l["monthly_usd"].is_number() || l["monthly_usd"].is_null(),
            "{l:#}"
        );
    }
    assert!(
        cost["data"]["deployment"]["lambda_memory_mb"]["value"].is_number(),
        "{cost:#}"
    );
    assert!(
        cost["data"]["what_ifs"][0]["delta_usd"].is_number(),
        "{cost:#}"
    );
    assert!(
        !files["cost.json"].contains("REDACTED"),
        "{}",
        files["cost.json"]
    );
    let alarms: Value = serde_json::from_str(&files["alarms.json"]).expect("alarms.json");
    assert_eq!(alarms["states"]["status"], "ok", "{alarms:#}");
    assert_eq!(
        alarms["history"].as_object().map(|m| m.len()),
        Some(10),
        "{alarms:#}"
    );
    let versions = &files["versions.txt"];
    assert!(
        versions.contains(&format!("opsconsole {}", env!("CARGO_PKG_VERSION"))),
        "{versions}"
    );
    assert!(
        !versions.contains("shim unknown"),
        "the stand-in answers its status: {versions}"
    );

    // Never overwritten: a second run to the same file is a usage error (exit 3), file intact.
    let before = std::fs::read(&archive).expect("archive");
    let d = dir.path().to_path_buf();
    let (o, c, a) = (outputs.clone(), cfg.clone(), archive.clone());
    let again = tokio::task::spawn_blocking(move || bundle(&d, &o, &c, &a))
        .await
        .expect("bundle thread");
    assert_eq!(again.code, 3, "stderr: {}", again.stderr);
    assert!(
        again.stderr.contains("never overwritten"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read(&archive).expect("archive"), before);
}
