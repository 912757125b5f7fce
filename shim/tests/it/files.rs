//! Files in S3 through the shim on the local Lambda (issue 30): LibreChat with `fileStrategy: s3`
//! stores an upload in the files bucket with the function's role credentials. Lambda's role
//! credentials are temporary (key id, secret, session token); LibreChat's S3 client drops the
//! token when given the variables, so the shim hands them over as a credentials file
//! (shim/src/credentials.rs). moto here refuses a temporary key without its token, as AWS does
//! (tools/motoext `auth.session_token`). Skipped, saying why, without LibreChat.

use crate::support::librechat::*;
use crate::support::*;
use base64::Engine as _;
use serde_json::{Value, json};

const BUCKET: &str = "librechat-files-test";
/// A 1x1 PNG.
const PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

fn files_stack(extra_env: &[(&str, &str)]) -> Option<Stack> {
    let tree = tree()?;
    Some(Stack::start(
        &tree,
        StackOpts {
            extra_env: extra_env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            lambda: Some(LambdaOpts {
                envs: 2,
                titles: false,
                ..Default::default()
            }),
            files_bucket: Some(BUCKET),
            ..Default::default()
        },
    ))
}

/// The web client's avatar upload (`POST /api/files/images/avatar`, multipart, field `file`) as
/// API Gateway hands it to the function: the body base64-encoded.
fn avatar_upload(s: &Seeded) -> Value {
    let png = base64::engine::general_purpose::STANDARD
        .decode(PNG_B64)
        .expect("png");
    let boundary = "----opsconsoleBoundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"manual\"\r\n\r\ntrue\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"avatar.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let auth = format!("Bearer {}", s.token);
    let ctype = format!("multipart/form-data; boundary={boundary}");
    let headers: Vec<(&str, &str)> = vec![
        ("Authorization", &auth),
        ("Content-Type", &ctype),
        ("User-Agent", BROWSER_UA),
    ];
    let mut ev = event("POST", "/api/files/images/avatar", &headers, None);
    ev["body"] = json!(base64::engine::general_purpose::STANDARD.encode(&body));
    ev["isBase64Encoded"] = json!(true);
    ev
}

fn bucket_keys(stack: &Stack) -> Vec<String> {
    let out = stack
        .moto
        .aws(&["s3api", "list-objects-v2", "--bucket", BUCKET]);
    let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
    v["Contents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["Key"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_lands_in_the_files_bucket_with_the_roles_temporary_credentials() {
    let Some(stack) = files_stack(&[]) else {
        return;
    };
    let c = http_client();
    let s = seed(&c, stack.invoke_port).await;
    let r = invoke(&c, stack.invoke_port, &avatar_upload(&s)).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    let url = r.json()["url"].as_str().unwrap_or("").to_string();
    assert!(url.contains(BUCKET), "{url}");
    let keys = bucket_keys(&stack);
    assert!(
        keys.iter()
            .any(|k| k.starts_with("avatars/") && k.ends_with(".png")),
        "{keys:?}"
    );
    assert!(
        stack
            .logs()
            .contains("the role's credentials given to LibreChat as a shared credentials file"),
        "{}",
        stack.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_credential_variables_as_lambda_sets_them_s3_refuses_librechat() {
    // What LibreChat does on Lambda without the shim's credentials file.
    let Some(stack) = files_stack(&[("SHIM_CHILD_AWS_CREDENTIALS", "env")]) else {
        return;
    };
    let c = http_client();
    let s = seed(&c, stack.invoke_port).await;
    let r = invoke(&c, stack.invoke_port, &avatar_upload(&s)).await;
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(bucket_keys(&stack).is_empty());
    let logs = stack.logs();
    assert!(
        logs.contains("InvalidAccessKeyId") || logs.contains("does not exist in our records"),
        "{logs}"
    );
}
