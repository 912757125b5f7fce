//! The canary's web mode (issue 23, item 4) on the real-LibreChat sandbox: the scheduled run logs
//! in as the sandbox's seeded user (its password read from SSM in moto), POSTs the web UI's chat
//! and reads the stream's GET, which the local Lambda may serve from another environment.
//! Skipped, saying why, without a LibreChat tree (required with OPSCONSOLE_REQUIRE_LIBRECHAT=1).

use std::time::Duration;

use serde_json::Value;

use crate::under_cargo_lambda::{FUNCTION, canary_with, cargo_lambda, scheduler_event};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn web_mode_streams_the_web_chat_on_the_real_librechat() {
    let Some(tree) = opsconsole_testsupport::librechat::tree_or_skip() else {
        return;
    };
    let _serial = crate::one_sandbox_at_a_time();
    let (nx, mongo) = opsconsole_testsupport::librechat::database_env();
    let spec =
        opsconsole_sandbox::librechat::check(&tree, None, nx.as_deref(), mongo.as_deref(), true)
            .unwrap_or_else(|e| panic!("{e}"));
    let root = opsconsole_testsupport::repo_root();
    let sandbox = opsconsole_sandbox::start_with(&root, None, Some(&spec))
        .await
        .unwrap_or_else(|e| panic!("the real-LibreChat sandbox did not start: {e:#}"));
    let lc = sandbox.info.librechat.clone().expect("librechat info");
    let dir = tempfile::tempdir().unwrap();
    let (cl, port) = cargo_lambda(dir.path()).await;
    let log = dir.path().join("canary.log");
    let web = [
        (canary::ENV_WEB_AGENT, lc.agent_id.clone()),
        (
            canary::ENV_WEB_EMAIL,
            opsconsole_sandbox::librechat::USER_EMAIL.to_string(),
        ),
        (canary::ENV_WEB_PASSWORD_SSM, lc.password_parameter.clone()),
        (canary::ENV_TIMEOUT, "60".to_string()),
    ];
    let fun = canary_with(env!("CARGO_BIN_EXE_canary"), &sandbox, port, &log, &web);
    let resp = tokio::time::timeout(
        Duration::from_secs(120),
        reqwest::Client::new()
            .post(opsconsole_testsupport::lambda::invoke_url(port, FUNCTION))
            .json(&scheduler_event())
            .send(),
    )
    .await
    .expect("the invocation answered within 120 s")
    .expect("invocation sent");
    let answer: Value = resp.json().await.unwrap_or(Value::Null);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    drop(fun);
    drop(cl);
    let report = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "canary_report")
        .unwrap_or_else(|| panic!("no report line:\n{text}"));
    let sse = &report["report"]["checks"]["sse"]["data"];
    assert_eq!(sse["mode"], "web", "{report:#}");
    assert!(
        sse["url"]
            .as_str()
            .is_some_and(|u| u.contains("/api/agents/chat/stream/")),
        "{report:#}"
    );
    assert_eq!(sse["verdict"], "STREAMING", "{report:#}");
    assert_eq!(answer["metrics"]["SseVerdict"], 0.0, "{answer}");
    assert!(
        !text.contains(opsconsole_sandbox::librechat::USER_PASSWORD),
        "the password must never be logged"
    );
    drop(sandbox);
}
