//! Many environments (issue 14, item 4): two sandboxes side by side, one healthy and one with
//! the `buffering` fault, named as two `[env.NAME]` sections of one config file (each its own
//! outputs, moto endpoint and diagnostics token). `opsconsole probe alpha beta --json` and
//! `probe --all --json` must print one document with each environment's own document and the
//! worst exit code; the human output is one table; the single-environment document is unchanged.

use std::process::Stdio;
use std::time::Duration;

use opsconsole_sandbox::{Fault, Sandbox};
use serde_json::Value;

fn env_section(name: &str, s: &Sandbox) -> String {
    format!(
        "[env.{name}]\noutputs = {:?}\nendpoint_url = {:?}\n\n[env.{name}.probe]\ntoken = {:?}\n\n",
        s.info.outputs.display().to_string(),
        s.info.moto_url,
        s.info.diagnostics_token
    )
}

/// Runs `opsconsole probe ARGS --config CFG`; returns (exit code, stdout, stderr).
async fn probe(cfg: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let xdg = tempfile::tempdir().expect("tempdir");
    let bin = opsconsole_testsupport::bins::workspace_bin("opsconsole", "console", "opsconsole");
    let mut cmd = tokio::process::Command::new(bin);
    cmd.arg("probe")
        .args(args)
        .arg("--config")
        .arg(cfg)
        .env("XDG_CONFIG_HOME", xdg.path())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env_remove("OPSCONSOLE_DIAGNOSTICS_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("probe finished within 120 s")
        .expect("probe ran");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn codes(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

// The guard keeps other tests' sandboxes out while these two run (see main.rs).
#[allow(clippy::await_holding_lock)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sandboxes_one_document_worst_exit_wins() {
    let _serial = crate::one_sandbox_at_a_time();
    let alpha = opsconsole_sandbox::start(None)
        .await
        .unwrap_or_else(|e| panic!("healthy sandbox did not start: {e:#}"));
    let beta = opsconsole_sandbox::start(Some(Fault::Buffering))
        .await
        .unwrap_or_else(|e| panic!("buffering sandbox did not start: {e:#}"));
    assert_ne!(alpha.info.moto_url, beta.info.moto_url);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        env_section("alpha", &alpha) + &env_section("beta", &beta),
    )
    .expect("config written");

    // Named environments, JSON.
    let (code, stdout, stderr) = probe(&cfg, &["alpha", "beta", "--json"]).await;
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {stdout}\n{stderr}"));
    let pretty = serde_json::to_string_pretty(&doc).unwrap_or_default();
    assert_eq!(
        code, 1,
        "worst of healthy and degraded:\n{pretty}\n{stderr}"
    );
    assert_eq!(doc["status"], "degraded", "{pretty}");
    assert_eq!(doc["exit_code"], 1, "{pretty}");
    assert_eq!(doc["schema_version"], 1, "{pretty}");
    let envs = doc["environments"].as_object().expect("environments");
    assert_eq!(envs.len(), 2, "{pretty}");
    let a = &envs["alpha"];
    let b = &envs["beta"];
    assert_eq!(a["env"], "alpha", "{pretty}");
    assert_eq!(a["status"], "healthy", "{pretty}");
    assert_eq!(
        a["checks"]["sse"]["data"]["verdict"], "STREAMING",
        "{pretty}"
    );
    assert_eq!(b["env"], "beta", "{pretty}");
    assert_eq!(
        b["checks"]["sse"]["data"]["verdict"], "BUFFERED",
        "{pretty}"
    );
    assert_eq!(codes(b), ["sse_buffered"], "{pretty}");
    // Each environment's document is the single-environment document (its keys).
    let (code_one, one, stderr_one) = probe(&cfg, &["beta", "--json"]).await;
    let one: Value = serde_json::from_str(&one)
        .unwrap_or_else(|e| panic!("single-env stdout is not JSON ({e}): {one}\n{stderr_one}"));
    assert_eq!(code_one, 1, "{stderr_one}");
    assert!(
        one.get("environments").is_none(),
        "single-env document unchanged: {one}"
    );
    let keys = |v: &Value| {
        v.as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(
        keys(&one),
        keys(b),
        "per-environment document = single-env document"
    );

    // Every [env.*] of the config file, human output: one table.
    let (code_all, table, stderr_all) = probe(&cfg, &["--all"]).await;
    assert_eq!(code_all, 1, "{table}\n{stderr_all}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("opsconsole probe (2 environments): DEGRADED (exit 1)"),
        "{table}"
    );
    assert!(lines[1].trim_start().starts_with("ENV"), "{table}");
    assert!(
        lines[2].trim_start().starts_with("alpha") && lines[2].contains("healthy"),
        "{table}"
    );
    assert!(
        lines[3].trim_start().starts_with("beta") && lines[3].contains("sse_buffered"),
        "{table}"
    );

    // One environment unknown to the config (no outputs to find): it is an error document in
    // its slot and the overall exit is 3; the others are still probed.
    let (code_bad, stdout_bad, _) =
        probe(&cfg, &["alpha", "nosuch", "--json", "--only", "health"]).await;
    let bad: Value = serde_json::from_str(&stdout_bad).expect("JSON");
    assert_eq!(code_bad, 3, "{bad}");
    assert_eq!(bad["environments"]["alpha"]["status"], "healthy", "{bad}");
    assert_eq!(bad["environments"]["nosuch"]["exit_code"], 3, "{bad}");
    drop(beta);
    drop(alpha);
}
