//! Issue 25 item 5: drills on the real LibreChat (v0.8.6 behind the shim on the local Lambda),
//! as an on-call engineer meets them: the model stalling mid-answer and answering 500, MongoDB
//! hung and down, Redis hung and down with `USE_REDIS=true`. For each, `opsconsole probe --json`
//! returns within its `--timeout` and names the fault: the expected finding, and otherwise only
//! the chat's and health's failures it causes (`sse_failed`, `health_failed`).
//!
//! What LibreChat does (seen in these drills): on a model 500 the web chat's stream stays
//! silent after `created` (no error frame, 40 s and more), as a frozen environment's does, so
//! the finding names both; with MongoDB or Redis hung a new
//! environment's LibreChat does not get ready, and the login answers 500 / 503.
//! The function may run 10 environments (the deployment reserves no concurrency: on Lambda a
//! request that finds every environment busy starts a new one; at the sandbox's default 4, the
//! probe's own concurrent requests were throttled in a drill and the database went unnamed).

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use crate::sandbox_librechat::{librechat_spec, librechat_tree, probe_with};

/// The probe's budget in the drills (`--timeout`), and what the test allows it beyond that
/// (process start, the JSON).
const TIMEOUT_S: u64 = 40;

/// The finding codes, sorted, each once.
fn codes(doc: &Value) -> Vec<String> {
    let mut c = crate::sandbox_faults::codes(doc);
    c.sort();
    c.dedup();
    c
}

/// The sandbox's console config with the web and chat prompts replaced by `prompt`.
fn config_with_prompt(base: &Path, dir: &Path, name: &str, prompt: &str) -> PathBuf {
    let text = std::fs::read_to_string(base).expect("the sandbox's console config");
    let out: String = text
        .lines()
        .map(|l| {
            if l.starts_with("web_prompt =") {
                format!("web_prompt = \"{prompt}\"")
            } else if l.starts_with("chat_prompt =") {
                format!("chat_prompt = \"{prompt}\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let p = dir.join(name);
    std::fs::write(&p, out + "\n").expect("write config");
    p
}

/// Runs the probe with `--timeout TIMEOUT_S`; (exit code, document, stderr, seconds taken).
async fn drill(
    info: &opsconsole_sandbox::SandboxInfo,
    config: &Path,
    what: &str,
) -> (i32, Value, String, f64) {
    let t = Instant::now();
    let timeout = TIMEOUT_S.to_string();
    let (code, doc, stderr) = probe_with(info, config, &[], &["--timeout", &timeout]).await;
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "drill {what}: exit {code} in {secs:.1} s, findings {:?}\n{}",
        codes(&doc),
        doc["findings"]
            .as_array()
            .map(|f| f
                .iter()
                .map(|x| format!("  {} [{}]: {}", x["code"], x["severity"], x["message"]))
                .collect::<Vec<_>>()
                .join("\n"))
            .unwrap_or_default()
    );
    let sse = &doc["checks"]["sse"];
    eprintln!(
        "  sse: status {} verdict {} mode {} reason {} stall {} ttfb {} first {}\n  events {:?}",
        sse["status"],
        sse["data"]["verdict"],
        sse["data"]["mode"],
        sse["data"]["reason"],
        sse["data"]["stall"],
        sse["data"]["ttfb_ms"],
        sse["data"]["first_event_ms"],
        sse["data"]["events"]
            .as_array()
            .map(|e| e
                .iter()
                .map(|x| x["arrived_ms"].as_f64().unwrap_or(0.0) as i64)
                .collect::<Vec<_>>())
            .unwrap_or_default()
    );
    (code, doc, stderr, secs)
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a pid the sandbox started; no memory is touched.
    let rc = unsafe { libc::kill(pid as i32, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig})");
}

fn child(sandbox: &opsconsole_sandbox::Sandbox, name: &str) -> u32 {
    sandbox
        .children()
        .into_iter()
        .find(|(n, _)| n.contains(name))
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("no child named {name}: {:?}", sandbox.children()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn drills_on_the_real_librechat_name_each_fault() {
    let Some(tree) = librechat_tree() else {
        return;
    };
    let _serial = crate::one_sandbox_at_a_time();
    let root = opsconsole_testsupport::repo_root();
    let spec = librechat_spec(&tree);
    let sandbox = opsconsole_sandbox::start_lambda(
        &root,
        None,
        Some(&spec),
        opsconsole_sandbox::LambdaSettings {
            envs: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("the real-LibreChat sandbox did not start: {e:#}"));
    // Warm environments (provisioned concurrency): a cold one under the chat's stream GET
    // would hide the model's pause inside its boot.
    let warm = sandbox
        .prewarm(4, std::time::Duration::from_secs(300))
        .await;
    assert_eq!(warm, 4, "{:?}", sandbox.lambda_environments());
    let info = sandbox.info.clone();
    let lc = info.librechat.clone().expect("librechat info");
    let tmp = tempfile::tempdir().expect("tempdir");
    let within = (TIMEOUT_S + 20) as f64;

    // The model stalls 15 s after its 3rd chunk: the web chat stalls mid-answer.
    let stall = config_with_prompt(
        &lc.console_config,
        tmp.path(),
        "stall.toml",
        "A drill [fake chunks=6 delay_ms=300 pause_after=3 pause_ms=15000]",
    );
    let (code, doc, _, secs) = drill(&info, &stall, "the model stalls").await;
    assert_eq!(codes(&doc), ["web_chat_stalled"], "{doc:#}");
    assert_eq!(code, 1);
    // Named as a stall with the model among its causes (whether any token came before the
    // pause depends on where LibreChat's stream GET subscribed: seen both ways).
    let msg = doc["findings"][0]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("the model stalled") || msg.contains("the model provider failed"),
        "{msg}"
    );
    assert!(secs < within, "{secs} s");

    // The model answers 500: LibreChat's stream stays silent after `created`.
    let fail = config_with_prompt(
        &lc.console_config,
        tmp.path(),
        "fail.toml",
        "A drill [fake fail_status=500]",
    );
    let (code, doc, _, secs) = drill(&info, &fail, "the model answers 500").await;
    assert_eq!(codes(&doc), ["web_chat_stalled"], "{doc:#}");
    assert_eq!(code, 1);
    let msg = doc["findings"][0]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("before its first token") && msg.contains("the model provider failed"),
        "{msg}"
    );
    assert!(secs < within, "{secs} s");

    let named_beside = |doc: &Value, code: &str, beside: &[&str]| {
        let got = codes(doc);
        assert!(got.iter().any(|c| c == code), "{code} missing: {doc:#}");
        let other: Vec<&String> = got
            .iter()
            .filter(|c| {
                c.as_str() != code
                    && !["sse_failed", "health_failed"].contains(&c.as_str())
                    && !beside.contains(&c.as_str())
            })
            .collect();
        assert!(other.is_empty(), "unrelated findings {other:?}: {doc:#}");
    };
    let named = |doc: &Value, code: &str| named_beside(doc, code, &[]);
    let message = |doc: &Value, code: &str| {
        doc["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|x| x["code"] == code))
            .and_then(|x| x["message"].as_str())
            .unwrap_or_default()
            .to_string()
    };

    // MongoDB hung (stopped), then resumed.
    let nx = child(&sandbox, "nx-27017");
    signal(nx, libc::SIGSTOP);
    let (code, doc, _, secs) = drill(&info, &lc.console_config, "MongoDB hung").await;
    signal(nx, libc::SIGCONT);
    named(&doc, "database_unreachable");
    assert_eq!(code, 2);
    assert!(secs < within, "{secs} s");

    // Redis hung (stopped), then resumed.
    let redis = child(&sandbox, "redis");
    signal(redis, libc::SIGSTOP);
    let (code, doc, _, secs) = drill(&info, &lc.console_config, "Redis hung").await;
    signal(redis, libc::SIGCONT);
    named(&doc, "redis_unreachable");
    assert_eq!(code, 2);
    assert!(secs < within, "{secs} s");

    // MongoDB down (killed).
    signal(nx, libc::SIGKILL);
    let (code, doc, _, secs) = drill(&info, &lc.console_config, "MongoDB down").await;
    named(&doc, "database_unreachable");
    let msg = message(&doc, "database_unreachable");
    assert!(msg.contains("Connection refused"), "{msg}");
    assert_eq!(code, 2);
    assert!(secs < within, "{secs} s");

    // Redis down (killed) with USE_REDIS=true, MongoDB still down: both named, nothing else.
    signal(redis, libc::SIGKILL);
    let (code, doc, _, secs) = drill(&info, &lc.console_config, "Redis down").await;
    named_beside(&doc, "redis_unreachable", &["database_unreachable"]);
    let msg = message(&doc, "redis_unreachable");
    assert!(msg.contains("refused"), "{msg}");
    assert_eq!(code, 2);
    assert!(secs < within, "{secs} s");
    assert_eq!(sandbox.lambda_throttled(), 0, "throttled invocations");
    drop(sandbox);
}
