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

/// A multipart form as the web client's `FormData` sends it: text fields, then the file as
/// field `file`. Returns the body and its content type.
fn multipart(fields: &[(&str, &str)], name: &str, ctype: &str, data: &[u8]) -> (Vec<u8>, String) {
    let boundary = "----opsconsoleBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {ctype}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// A POST of `body` as API Gateway hands a binary body to the function: base64-encoded.
fn upload_event(s: &Seeded, path: &str, (body, ctype): (Vec<u8>, String)) -> Value {
    let auth = format!("Bearer {}", s.token);
    let headers: Vec<(&str, &str)> = vec![
        ("Authorization", &auth),
        ("Content-Type", &ctype),
        ("User-Agent", BROWSER_UA),
    ];
    let mut ev = event("POST", path, &headers, None);
    ev["body"] = json!(base64::engine::general_purpose::STANDARD.encode(&body));
    ev["isBase64Encoded"] = json!(true);
    ev
}

fn png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(PNG_B64)
        .expect("png")
}

/// The web client's avatar upload (`POST /api/files/images/avatar`, multipart, field `file`).
fn avatar_upload(s: &Seeded) -> Value {
    let form = multipart(&[("manual", "true")], "avatar.png", "image/png", &png());
    upload_event(s, "/api/files/images/avatar", form)
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

/// LibreChat's megabyte (`librechat-data-provider`'s `megabyte`), in which librechat.yaml's
/// `fileConfig` sizes are given.
const MB: u64 = 1024 * 1024;

/// A one-page PDF (no text), small and valid enough for a file picker and a document part.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The fields the web client's `FormData` carries for a chat attachment (client/dist, v0.8.6:
/// endpoint, endpointType, the file's temporary id, the image's size, `message_file`, the agent).
fn chat_attachment(
    s: &Seeded,
    path: &str,
    temp_id: &str,
    name: &str,
    ctype: &str,
    data: &[u8],
) -> Value {
    let mut fields = vec![
        ("endpoint", "agents"),
        ("endpointType", ""),
        ("file_id", temp_id),
    ];
    if ctype.starts_with("image/") {
        fields.extend([("width", "1"), ("height", "1")]);
    }
    fields.extend([("message_file", "true"), ("agent_id", s.agent_id.as_str())]);
    upload_event(s, path, multipart(&fields, name, ctype, data))
}

/// [`chat_attachment`] sent to the stack (a throttle retried, as the web client's retry does).
async fn attach(
    stack: &Stack,
    c: &reqwest::Client,
    s: &Seeded,
    path: &str,
    temp_id: &str,
    (name, ctype, data): (&str, &str, &[u8]),
) -> Invoked {
    let ev = chat_attachment(s, path, temp_id, name, ctype, data);
    invoke_unthrottled(c, stack.invoke_port, &ev).await
}

/// The fake model's `attachments` log lines (tools/librechat-local/fake-llm.mjs).
fn model_attachments(stack: &Stack) -> Vec<Value> {
    stack
        .llm
        .output()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["msg"] == "attachments")
        .flat_map(|v| v["attachments"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The web UI's chat with files attached (`files` in the POST, as the client sends them), read
/// to its final event; returns the stream's text (or, when the stream was over before the GET
/// came, the saved messages, as the web client reads them then).
async fn chat_with(stack: &Stack, c: &reqwest::Client, s: &Seeded, files: Value) -> String {
    use crate::support::webchat::{deltas, ev, read_stream};
    let body = json!({"text": "what is in this file? [fake chunks=3 delay_ms=100]",
                      "endpoint": "agents", "agent_id": s.agent_id, "conversationId": null,
                      "parentMessageId": "00000000-0000-0000-0000-000000000000", "files": files});
    let r = invoke_unthrottled(
        c,
        stack.invoke_port,
        &ev("POST", "/api/agents/chat/agents", s, Some(&body)),
    )
    .await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    let id = r.json()["conversationId"]
        .as_str()
        .expect("conversationId")
        .to_string();
    // The POST's environment keeps generating; on two environments the other may still be
    // finishing the previous chat's stream: a throttle, which the web client retries.
    let mut tries = 0;
    let st = loop {
        let st = read_stream(stack, c, s, &id, "", std::time::Duration::from_secs(90)).await;
        tries += 1;
        if st.status != 429 || tries >= 50 {
            break st;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    if st.status == 404 {
        // The generation ended before the GET reached an environment (the other one cold or
        // still busy): LibreChat has dropped the finished job, and the web client, as on one
        // environment (web_chat.rs), reloads the messages, where the reply is saved whole.
        eprintln!("chat {id}: stream 404 (the generation was over first): reading the messages");
        // The POST's environment holds until LibreChat says the chat is over (saved).
        crate::support::webchat::idle_envs(stack, stack.lambda().environments().len()).await;
        let messages =
            crate::support::webchat::get_json(stack, c, s, &format!("/api/messages/{id}")).await;
        return messages.to_string();
    }
    assert!(
        st.finished,
        "POST {} / stream {} {:?}\n{}",
        r.text(),
        st.status,
        st.events,
        stack.logs()
    );
    deltas(&st.events).into_iter().map(|(_, t)| t).collect()
}

/// An object of the files bucket: its bytes and content type (`s3api get-object`).
fn bucket_object(stack: &Stack, key: &str) -> (Vec<u8>, String) {
    let out = stack.dir.path().join("object.bin");
    let meta = stack.moto.aws(&[
        "s3api",
        "get-object",
        "--bucket",
        BUCKET,
        "--key",
        key,
        &out.display().to_string(),
    ]);
    let meta: Value = serde_json::from_str(&meta).unwrap_or(Value::Null);
    let bytes = std::fs::read(&out).expect("object");
    (
        bytes,
        meta["ContentType"].as_str().unwrap_or("").to_string(),
    )
}

/// Issue 30, item 3: the path a person takes with a file, through the real LibreChat, the shim
/// and the local Lambda (two environments, frozen while idle): the limits the web client reads,
/// an image and a PDF uploaded as the client sends them, stored in the files bucket, served back,
/// used by a chat; a file just over the limit refused with nothing stored; one over what an
/// invocation carries refused by Lambda; the environment still serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_and_a_pdf_are_stored_served_back_and_used_by_a_chat_within_the_limits() {
    use crate::support::webchat::{ev, get_json};
    // Titles are off in this stack's config: no new chat's title to wait for (shim/README.md,
    // `SHIM_TITLE_WAIT_MS`), else the POST's environment holds 15 s and, of two, the next
    // chat's stream finds both busy.
    let Some(stack) = files_stack(&[("SHIM_TITLE_WAIT_MS", "0")]) else {
        return;
    };
    let c = http_client();
    let s = seed(&c, stack.invoke_port).await;
    let me = get_json(&stack, &c, &s, "/api/user").await;
    let user = me["id"]
        .as_str()
        .or(me["_id"].as_str())
        .expect("user id")
        .to_string();

    // What the web client reads to refuse a too-large file before sending it: the config's
    // limits in MB, as written (the client's `mergeFileConfig` turns them into bytes).
    let cfg = get_json(&stack, &c, &s, "/api/files/config").await;
    assert_eq!(cfg["serverFileSizeLimit"], json!(4), "{cfg}");
    assert_eq!(
        cfg["endpoints"]["agents"]["fileSizeLimit"],
        json!(4),
        "{cfg}"
    );

    // An image, as the client uploads one for a chat (`/api/files/images`).
    let r = attach(
        &stack,
        &c,
        &s,
        "/api/files/images",
        "3b0f5a1e-6c1d-4f2a-9e7b-0c2d4e6f8a01",
        ("pixel.png", "image/png", &png()),
    )
    .await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    let img = r.json();
    let img_id = img["file_id"].as_str().expect("file_id").to_string();
    assert_eq!(img["source"], "s3", "{img}");
    assert_eq!(img["type"], "image/png", "{img}");
    let img_key = format!("images/{user}/{img_id}__pixel.png");
    assert_eq!(img["storageKey"], json!(img_key), "{img}");
    // LibreChat stores its own encoding of an image (resized, re-encoded): a PNG still.
    let (stored, ctype) = bucket_object(&stack, &img_key);
    assert!(stored.starts_with(b"\x89PNG\r\n\x1a\n"), "{stored:?}");
    assert_eq!(img["bytes"], json!(stored.len()), "{img}");
    // LibreChat v0.8.6's S3 PutObject names no content type (`saveBufferToS3`): the object is
    // an octet-stream (here `application/octet-stream`). The type lives in LibreChat's database
    // (`type` above); its download route answers octet-stream with the file name anyway.
    assert!(ctype.ends_with("octet-stream"), "{ctype}");
    // The preview: the web client shows `filepath`, a presigned URL of the object (120 s).
    let url = img["filepath"].as_str().expect("filepath");
    assert!(
        url.contains(&img_key) && url.contains("X-Amz-Signature"),
        "{url}"
    );
    let preview = c.get(url).send().await.expect("presigned GET");
    assert_eq!(preview.status().as_u16(), 200);
    let preview = preview.bytes().await.expect("preview body");
    assert_eq!(sha256_hex(&preview), sha256_hex(&stored));

    // A PDF (`/api/files`).
    let r = attach(
        &stack,
        &c,
        &s,
        "/api/files",
        "3b0f5a1e-6c1d-4f2a-9e7b-0c2d4e6f8a02",
        ("report.pdf", "application/pdf", PDF),
    )
    .await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    let pdf = r.json();
    let pdf_id = pdf["file_id"].as_str().expect("file_id").to_string();
    assert_eq!(pdf["source"], "s3", "{pdf}");
    assert_eq!(pdf["type"], "application/pdf", "{pdf}");
    let pdf_key = format!("uploads/{user}/{pdf_id}__report.pdf");
    assert_eq!(pdf["storageKey"], json!(pdf_key), "{pdf}");
    assert_eq!(
        sha256_hex(&bucket_object(&stack, &pdf_key).0),
        sha256_hex(PDF)
    );

    // Served back through the site: the download route streams the object from S3.
    let r = invoke_unthrottled(
        &c,
        stack.invoke_port,
        &ev(
            "GET",
            &format!("/api/files/download/{user}/{pdf_id}"),
            &s,
            None,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.header("content-disposition")
            .is_some_and(|d| d.contains("filename=\"report.pdf\"")),
        "{:?}",
        r.headers
    );
    assert_eq!(sha256_hex(&r.body()), sha256_hex(PDF));

    // Chats using them: LibreChat reads each object back from S3 (in whichever environment runs
    // the chat) and sends it to the model, which logs what it got.
    let text = chat_with(
        &stack,
        &c,
        &s,
        json!([{"file_id": img_id, "filepath": img["filepath"], "type": "image/png",
                "width": 1, "height": 1}]),
    )
    .await;
    assert!(text.contains("Chunk 3 of 3"), "{text}");
    let got = model_attachments(&stack);
    assert!(
        got.iter().any(|a| a["type"] == "image_url"
            && a["media_type"] == "image/png"
            && a["sha256"] == json!(sha256_hex(&stored))),
        "{got:?}"
    );
    let text = chat_with(
        &stack,
        &c,
        &s,
        json!([{"file_id": pdf_id, "filepath": pdf["filepath"], "type": "application/pdf"}]),
    )
    .await;
    assert!(text.contains("Chunk 3 of 3"), "{text}");
    let got = model_attachments(&stack);
    assert!(
        got.iter().any(|a| a["type"] == "file"
            && a["media_type"] == "application/pdf"
            && a["sha256"] == json!(sha256_hex(PDF))),
        "{got:?}"
    );

    // Just over the limit (4 MB and 1 KB; its event fits Lambda's 6 MB): LibreChat refuses it
    // (multer's size limit, answered with LibreChat's generic message: the web client refuses
    // such a file before sending it, from the config above), and nothing is stored.
    let before = bucket_keys(&stack);
    let mut big = PDF.to_vec();
    big.resize(4 * MB as usize + 1024, b' ');
    let r = attach(
        &stack,
        &c,
        &s,
        "/api/files",
        "3b0f5a1e-6c1d-4f2a-9e7b-0c2d4e6f8a03",
        ("big.pdf", "application/pdf", &big),
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(bucket_keys(&stack), before);
    let listed = get_json(&stack, &c, &s, "/api/files").await;
    assert!(!listed.to_string().contains("big.pdf"), "{listed}");

    // Over what one invocation carries (5 MB, about 7 MB as API Gateway's base64 in the event):
    // Lambda refuses the invocation; the function never sees it.
    let mut bigger = PDF.to_vec();
    bigger.resize(5 * MB as usize, b' ');
    let r = attach(
        &stack,
        &c,
        &s,
        "/api/files",
        "3b0f5a1e-6c1d-4f2a-9e7b-0c2d4e6f8a04",
        ("bigger.pdf", "application/pdf", &bigger),
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("too large"), "{}", r.text());
    assert_eq!(bucket_keys(&stack), before);

    // The environments keep serving.
    let r = invoke_unthrottled(&c, stack.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200);
}
