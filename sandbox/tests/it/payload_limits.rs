//! Issue 30 item 1: the payload limits a user's upload meets on the way in, as AWS answers them,
//! on the plain sandbox: API Gateway's 10 MB request body limit (413 `{"message":"Request Too
//! Long"}`, nothing invoked) and Lambda's 6 MB invocation payload (Invoke's 413
//! `RequestTooLargeException`, which the Lambda proxy integration answers 500 `{"message":
//! "Internal server error"}`); an upload under both reaches the function; the environment keeps
//! serving afterwards.

use std::time::Duration;

use serde_json::Value;

fn invocations(sandbox: &opsconsole_sandbox::Sandbox) -> u64 {
    sandbox
        .lambda_environments()
        .iter()
        .map(|e| e.invocations)
        .sum()
}

async fn post(c: &reqwest::Client, url: &str, len: usize) -> (u16, Value) {
    let r = c
        .post(url)
        .header("content-type", "application/octet-stream")
        .body(vec![b'x'; len])
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {len} bytes: {e}"));
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn uploads_meet_api_gateways_and_lambdas_payload_limits_as_aws_answers_them() {
    let _serial = crate::one_sandbox_at_a_time();
    let sandbox = opsconsole_sandbox::start(None)
        .await
        .unwrap_or_else(|e| panic!("sandbox did not start: {e:#}"));
    let site = sandbox.info.site_url.clone();
    let url = format!("{site}/api/files");
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    const MB: usize = 1024 * 1024;

    // Over API Gateway's 10 MB: refused there, the function never invoked.
    let before = invocations(&sandbox);
    let (status, body) = post(&c, &url, 10 * MB + 1).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body, serde_json::json!({"message": "Request Too Long"}));
    assert_eq!(invocations(&sandbox), before, "nothing invoked");

    // Under 10 MB but over Lambda's 6 MB once in the event (the binary body base64-encoded):
    // Invoke refuses it, the integration answers 500.
    let (status, body) = post(&c, &url, 5 * MB).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"message": "Internal server error"})
    );
    assert_eq!(invocations(&sandbox), before, "nothing invoked");

    // Under both (4 MB, about 5.3 MB in the event): it reaches the function, whatever the
    // stand-in then says of the path.
    let (status, _) = post(&c, &url, 4 * MB).await;
    assert_ne!(status, 413);
    assert_ne!(status, 500);
    assert_eq!(invocations(&sandbox), before + 1, "the upload was invoked");

    // The environment keeps serving.
    let h = c
        .get(format!("{site}/api/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(h.status(), 200);
    drop(sandbox);
}
