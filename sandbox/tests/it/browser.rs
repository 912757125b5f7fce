//! The browser path (issue 24): Debian's `chromium`, headless, driven over the DevTools protocol
//! (chromiumoxide), opens the sandbox's site URL, which the CloudFront stand-in serves from the
//! frontend bucket (LibreChat's real web client, uploaded by the frontend module's upload.sh),
//! with `/api/*` through API Gateway's stand-in, the local Lambda (two environments) and the
//! shim to the real LibreChat. Through the forms: register, log in; then a chat with an agent
//! whose reply renders progressively, the title in the sidebar, the conversation reopened
//! from the sidebar; then files (issue 30): one over the deployment's limit refused by the app
//! before it is sent, an image uploaded to the files bucket, shown from it and sent in a chat.
//! Navigation stays inside the app: a full reload logs the user out under nx-27017
//! (../shared/librechat/README.md, "The web client").
//!
//! Skipped, saying why, without chromium or without LibreChat and its web client; required
//! (a failure, not a skip) with OPSCONSOLE_REQUIRE_BROWSER=1, which scripts/test-all.sh sets
//! when both are available.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chromiumoxide::page::ScreenshotParams;
use opsconsole::domain::sse::{SseRule, StreamEnd, fill_gaps, verdict};
use opsconsole::model::{SseEventObs, Verdict};
use serde_json::Value;

use crate::chromium::{
    Chromium, choose_file, chromium, click, eval, navigate_in_app, screenshot_dir, type_into,
    wait_for,
};

const REQUIRE_ENV: &str = "OPSCONSOLE_REQUIRE_BROWSER";

fn skip(why: &str) {
    assert!(
        std::env::var(REQUIRE_ENV).as_deref() != Ok("1"),
        "{REQUIRE_ENV}=1 but {why}"
    );
    eprintln!("skipped: {why}");
}

/// Chromium and a LibreChat tree with its web client, or `None` (skipped, with the reason).
pub(crate) fn browser_and_client() -> Option<(PathBuf, PathBuf)> {
    let Some(chromium) = chromium() else {
        skip(
            "chromium is not installed (apt-get install chromium; scripts/bootstrap.sh installs it as root)",
        );
        return None;
    };
    let tree = crate::sandbox_librechat::librechat_tree()?;
    if opsconsole_sandbox::frontend::client_dist(&tree).is_none() {
        skip(&format!(
            "the LibreChat tree {} has no web client (client/dist/assets): ../shared/librechat/install-client.sh {} installs it",
            tree.display(),
            tree.parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ));
        return None;
    }
    Some((chromium, tree))
}

/// The highest `Chunk i of n` the chat area shows (0 when none; the sidebar's title, which the
/// fake model writes from the reply, is left out).
const CHUNKS_SHOWN: &str = "(() => { let m = 0; const area = document.querySelector('main[role=main]') || document.body; for (const x of area.innerText.matchAll(/Chunk (\\d+) of (\\d+)/g)) { m = Math.max(m, Number(x[1])); } return m; })()";

/// Logs the registered user in through the API (the test's own session) and makes an agent
/// for it on the fake model; its id.
async fn agent_for(site: &str, email: &str, password: &str) -> String {
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let login: Value = c
        .post(format!("{site}/api/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login JSON");
    let token = login["token"].as_str().expect("token").to_string();
    let agent: Value = c
        .post(format!("{site}/api/agents"))
        .bearer_auth(&token)
        .header("user-agent", opsconsole::collectors::sse::BROWSER_UA)
        .json(
            &serde_json::json!({"name": "Browser agent", "provider": "fake",
            "model": "fake-model", "instructions": "be brief", "tools": []}),
        )
        .send()
        .await
        .expect("create agent")
        .json()
        .await
        .expect("agent JSON");
    agent["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no agent id: {agent}"))
        .to_string()
}

const CHUNKS: u64 = 6;
/// Wide enough that a loaded 2-core machine (load 4-5 measured) does not run chunks together.
const DELAY_MS: u64 = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn browser_registers_logs_in_and_sees_a_chat_render_progressively() {
    let Some((exe, tree)) = browser_and_client() else {
        return;
    };
    let _serial = crate::one_sandbox_at_a_time();
    let root = opsconsole_testsupport::repo_root();
    let spec = crate::sandbox_librechat::librechat_spec(&tree);
    // A browser opens up to six connections to a host and the app sends that many API calls
    // at once after the login; Lambda runs each in its own environment, and starts a new one
    // for a call that finds them all busy (the deployment reserves no concurrency).
    let settings = opsconsole_sandbox::LambdaSettings {
        envs: usize::from(opsconsole_sandbox::BROWSER_CONCURRENCY),
        titles: true,
        ..Default::default()
    };
    let sandbox = opsconsole_sandbox::start_lambda(&root, None, Some(&spec), settings)
        .await
        .unwrap_or_else(|e| panic!("the real-LibreChat sandbox did not start: {e:#}"));
    assert!(
        sandbox.info.web_client.is_some(),
        "the sandbox uploaded the web client"
    );
    let site = sandbox.info.site_url.clone();
    // Every environment booted first (provisioned concurrency): a cold one under the chat's
    // stream GET would subscribe late, and LibreChat replays what it missed in one burst.
    let envs = usize::from(opsconsole_sandbox::BROWSER_CONNECTIONS);
    let warm = sandbox.prewarm(envs, Duration::from_secs(300)).await;
    assert_eq!(warm, envs, "environments ready");
    let _throttles = ThrottlesOnPanic(&sandbox);
    let chrome = Chromium::launch(&exe).await;
    let page = chrome
        .browser
        .new_page(format!("{site}/"))
        .await
        .expect("open the site");
    let long = Duration::from_secs(90);

    // The login page, served from the bucket; then the registration form.
    wait_for(
        &page,
        "document.querySelector('#email') && document.querySelector('[data-testid=login-button]')",
        long,
        "the login form",
    )
    .await;
    click(&page, "a[href='/register']").await;
    wait_for(
        &page,
        "document.querySelector('#confirm_password')",
        long,
        "the registration form",
    )
    .await;
    let n = std::process::id();
    let email = format!("browser{n}@example.com");
    let password = "Browser-Passw0rd!";
    type_into(&page, "#name", "Browser User").await;
    type_into(&page, "#username", &format!("browser{n}")).await;
    type_into(&page, "#email", &email).await;
    type_into(&page, "#password", password).await;
    type_into(&page, "#confirm_password", password).await;
    click(
        &page,
        "form[aria-label='Registration form'] button[type=submit]",
    )
    .await;
    // "Registration successful", then the app goes back to the login form by itself.
    wait_for(&page, "location.pathname === '/login' && document.querySelector('#email') && !document.querySelector('#confirm_password')", long, "back to the login form after registering").await;

    // An agent of this user's, made through the API before the app loads its agents.
    let agent = agent_for(&site, &email, password).await;

    // Log in through the form.
    type_into(&page, "#email", &email).await;
    type_into(&page, "#password", password).await;
    click(&page, "[data-testid=login-button]").await;
    wait_for(
        &page,
        "location.pathname.startsWith('/c/') && document.querySelector('#prompt-textarea')",
        long,
        "the chat page after logging in",
    )
    .await;

    // The agent, opened inside the app (no reload).
    navigate_in_app(&page, &format!("/c/new?agent_id={agent}")).await;
    wait_for(
        &page,
        "document.body.innerText.includes('Browser agent')",
        long,
        "the agent selected",
    )
    .await;

    // The chat: the reply's chunks as the page shows them, with the time each first showed.
    type_into(
        &page,
        "#prompt-textarea",
        &format!("Hello from a browser [fake chunks={CHUNKS} delay_ms={DELAY_MS}]"),
    )
    .await;
    click(&page, "[data-testid=send-button]").await;
    let started = Instant::now();
    let mut seen: Vec<(u64, f64)> = Vec::new();
    let until = started + Duration::from_secs(120);
    loop {
        let shown = eval(&page, CHUNKS_SHOWN).await.as_u64().unwrap_or(0);
        let last = seen.last().map(|(i, _)| *i).unwrap_or(0);
        if shown > last {
            let t = started.elapsed().as_secs_f64() * 1000.0;
            // Chunks that showed together arrive at the same moment.
            for i in last + 1..=shown {
                seen.push((i, t));
            }
        }
        if shown >= CHUNKS {
            break;
        }
        assert!(
            Instant::now() < until,
            "the reply did not finish rendering within 120 s; shown so far: {seen:?}\n{}",
            eval(&page, "document.body.innerText.slice(0, 2000)").await
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    // What showed at the first render may be LibreChat's replay of what it generated before
    // the stream's GET subscribed (one burst): judged is what came after it.
    let first = seen.first().map(|(_, t)| *t).unwrap_or(0.0);
    let after: Vec<(u64, f64)> = seen.iter().copied().filter(|(_, t)| *t > first).collect();
    let steps: std::collections::BTreeSet<u64> =
        after.iter().map(|(_, t)| (*t * 1000.0) as u64).collect();
    assert!(
        steps.len() >= 3,
        "the reply grew in {} step(s) after its first render, not progressively: {seen:?}",
        steps.len()
    );
    // Spaced like the model's chunks: the console's own rule, with the model's schedule
    // (chunk i sent at i x DELAY_MS) as the send times.
    let mut events: Vec<SseEventObs> = after
        .iter()
        .map(|(i, t)| SseEventObs {
            seq: *i,
            arrived_ms: *t,
            sent_at_ms: Some((*i * DELAY_MS) as f64),
            gap_ms: None,
            sent_gap_ms: None,
        })
        .collect();
    fill_gaps(&mut events);
    let (v, why) = verdict(&events, None, &StreamEnd::Done, &SseRule::default());
    assert_eq!(v, Verdict::Streaming, "{why}: {seen:?}");
    let shot = screenshot_dir().join("chat.png");
    page.save_screenshot(ScreenshotParams::builder().build(), &shot)
        .await
        .expect("screenshot");

    // The title in the sidebar (generated after the reply), as LibreChat stored it.
    // Once the reply is saved, the app's URL names the conversation.
    let convo = wait_for(
        &page,
        "(() => { const id = location.pathname.split('/c/')[1] || ''; return id !== 'new' ? id : ''; })()",
        long,
        "the conversation's URL",
    )
    .await;
    let convo = convo.as_str().unwrap_or("").to_string();
    let title = wait_for(
        &page,
        "(() => { const t = [...document.querySelectorAll('[data-testid=convo-item]')].map(e => e.innerText.trim()).filter(t => t && t !== 'New Chat'); return t[0] || ''; })()",
        long,
        "a generated title in the sidebar",
    )
    .await;
    let title = title.as_str().unwrap_or("").to_string();
    page.save_screenshot(
        ScreenshotParams::builder().build(),
        screenshot_dir().join("chat-titled.png"),
    )
    .await
    .expect("screenshot");

    // A new chat, then the conversation again from the sidebar.
    click(&page, "[data-testid=new-chat-button]").await;
    wait_for(
        &page,
        &format!("{CHUNKS_SHOWN} === 0"),
        long,
        "the new chat's empty page",
    )
    .await;
    let opened = eval(
        &page,
        &format!(
            "(() => {{ const e = [...document.querySelectorAll('[data-testid=convo-item]')].find(e => e.innerText.trim() === {}); if (e) {{ e.click(); return true; }} return false; }})()",
            serde_json::to_string(&title).unwrap_or_default()
        ),
    )
    .await;
    assert_eq!(opened, Value::Bool(true), "the sidebar entry {title:?}");
    wait_for(
        &page,
        &format!("location.pathname === '/c/{convo}' && {CHUNKS_SHOWN} === {CHUNKS}"),
        long,
        "the conversation reopened from the sidebar with its reply",
    )
    .await;
    attach_files(&sandbox, &page, &agent, long).await;
    // Nothing the person did was throttled (a throttled call is a 500 the app shows as "There
    // was an internal server error").
    assert_eq!(sandbox.lambda_throttled(), 0, "throttled invocations");
    chrome.close().await;
    drop(_throttles);
    drop(sandbox);
}

/// A 1x1 PNG.
const PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/// Records the page's XHR and fetch calls and its errors from here on (`window.__net`): what a
/// failed step shows.
const NET_TRACE: &str = r#"(() => { const net = window.__net = []; const o = XMLHttpRequest.prototype.open, s = XMLHttpRequest.prototype.send; XMLHttpRequest.prototype.open = function(m, u) { this.__u = m + ' ' + u; return o.apply(this, arguments); }; XMLHttpRequest.prototype.send = function(b) { const r = this; net.push('xhr ' + r.__u + ' ' + String(b || '').slice(0, 300)); r.addEventListener('loadend', () => net.push(r.status + ' ' + r.__u)); return s.apply(this, arguments); }; const f = window.fetch; window.fetch = function(i, init) { const u = ((init && init.method) || 'GET') + ' ' + (i && i.url ? i.url : i); net.push('fetch ' + u); return f.apply(this, arguments).then(r => { net.push(r.status + ' ' + u); return r; }, e => { net.push('failed ' + u + ' ' + e); throw e; }); }; addEventListener('error', e => net.push('error ' + e.message)); addEventListener('unhandledrejection', e => net.push('rejection ' + e.reason)); const ce = console.error; console.error = function() { net.push('console.error ' + [...arguments].map(String).join(' ').slice(0, 300)); return ce.apply(this, arguments); }; return true; })()"#;

/// The composer's file input (the attach menu's; the import dialog's takes `.json` only).
const CHAT_FILE_INPUT: &str = "form input[type=file]:not([accept='.json'])";

/// Issue 30 through the page: a file just over the limit the deployment's config sets
/// (infrastructure/librechat-files.yaml, 4 MB) is refused by the app with its own message and
/// nothing reaches the files bucket; an image is uploaded to the bucket, the message shows it
/// (loaded from the bucket through LibreChat's presigned URL), and the model's reply comes.
async fn attach_files(
    sandbox: &opsconsole_sandbox::Sandbox,
    page: &chromiumoxide::Page,
    agent: &str,
    long: Duration,
) {
    use base64::Engine as _;
    let outputs: Value = serde_json::from_slice(
        &std::fs::read(&sandbox.info.outputs).expect("the sandbox's outputs"),
    )
    .expect("outputs JSON");
    let bucket = outputs["files_bucket_name"]["value"]
        .as_str()
        .or(outputs["files_bucket_name"].as_str())
        .unwrap_or_else(|| panic!("no files_bucket_name: {outputs}"))
        .to_string();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .endpoint_url(&sandbox.info.moto_url)
            .region(aws_sdk_s3::config::Region::new(opsconsole_sandbox::REGION))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .force_path_style(true)
            .build(),
    );
    let keys = || async {
        s3.list_objects_v2()
            .bucket(&bucket)
            .send()
            .await
            .expect("list the files bucket")
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect::<Vec<_>>()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.pdf");
    let mut data = b"%PDF-1.4\n".to_vec();
    data.resize(4 * 1024 * 1024 + 1024, b' ');
    std::fs::write(&big, &data).expect("write big.pdf");
    let png = dir.path().join("pixel.png");
    std::fs::write(
        &png,
        base64::engine::general_purpose::STANDARD
            .decode(PNG_B64)
            .expect("png"),
    )
    .expect("write pixel.png");

    // A new chat with the agent: a conversation the app builds itself (one it reads back from
    // nx-27017 has its booleans as numbers, which the app's own schema refuses on the next send:
    // a stand-in database's difference, ../shared/librechat/README.md).
    click(page, "[data-testid=new-chat-button]").await;
    navigate_in_app(page, &format!("/c/new?agent_id={agent}")).await;
    wait_for(
        page,
        &format!("{CHUNKS_SHOWN} === 0 && document.body.innerText.includes('Browser agent')"),
        long,
        "a new chat with the agent",
    )
    .await;
    let before = keys().await;
    choose_file(page, CHAT_FILE_INPUT, &big).await;
    wait_for(
        page,
        "document.body.innerText.includes('File size limit exceeded: 4 MB')",
        long,
        "the app's own message for a file over the limit",
    )
    .await;
    page.save_screenshot(
        ScreenshotParams::builder().build(),
        screenshot_dir().join("file-too-large.png"),
    )
    .await
    .expect("screenshot");
    assert_eq!(keys().await, before, "nothing of big.pdf stored");

    choose_file(page, CHAT_FILE_INPUT, &png).await;
    let until = Instant::now() + long;
    let stored = loop {
        let now = keys().await;
        if let Some(k) = now
            .iter()
            .find(|k| k.starts_with("images/") && k.ends_with("__pixel.png"))
        {
            break k.clone();
        }
        assert!(
            Instant::now() < until,
            "the image never reached the files bucket: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    type_into(
        page,
        "#prompt-textarea",
        "What is in this image? [fake chunks=2 delay_ms=100]",
    )
    .await;
    // The send button is enabled once the upload finished.
    wait_for(
        page,
        "(() => { const b = document.querySelector('[data-testid=send-button]'); return b && !b.disabled; })()",
        long,
        "the send button enabled after the upload",
    )
    .await;
    eval(page, NET_TRACE).await;
    click(page, "[data-testid=send-button]").await;
    let until = Instant::now() + long;
    while eval(
        page,
        "(document.querySelector('main[role=main]') || document.body).innerText.includes('Chunk 2 of 2')",
    )
    .await
        != Value::Bool(true)
    {
        assert!(
            Instant::now() < until,
            "no reply to the message with the image within {long:?}; the page's requests and errors since the send: {}\n{}",
            eval(page, "JSON.stringify(window.__net)").await,
            eval(page, "document.body.innerText.slice(-1500)").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shown = wait_for(
        page,
        &format!(
            "[...document.querySelectorAll('main img')].some(i => i.src.includes({}) && i.complete && i.naturalWidth > 0)",
            serde_json::to_string(&stored).unwrap_or_default()
        ),
        long,
        "the message's image loaded from the files bucket",
    )
    .await;
    assert_eq!(shown, Value::Bool(true));
    page.save_screenshot(
        ScreenshotParams::builder().build(),
        screenshot_dir().join("chat-with-image.png"),
    )
    .await
    .expect("screenshot");
}

/// On a failure: how many invocations the local Lambda throttled (each a 500 to the app), and
/// the error lines of every environment's log (shim and LibreChat), the last 40: what a 500
/// the page got came from.
struct ThrottlesOnPanic<'a>(&'a opsconsole_sandbox::Sandbox);

impl Drop for ThrottlesOnPanic<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        eprintln!(
            "the local Lambda throttled {} invocation(s); environments: {:?}",
            self.0.lambda_throttled(),
            self.0.lambda_environments()
        );
        let lambda = self.0.info.dir.join("lambda");
        let mut lines = Vec::new();
        for env in std::fs::read_dir(&lambda).into_iter().flatten().flatten() {
            let log = env.path().join("output.log");
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let name = env.file_name().to_string_lossy().into_owned();
            lines.extend(
                text.lines()
                    .filter(|l| {
                        let l = l.to_ascii_lowercase();
                        l.contains("error") || l.contains(" 500") || l.contains("\"status\":500")
                    })
                    .map(|l| format!("{name}: {}", l.chars().take(300).collect::<String>())),
            );
        }
        let from = lines.len().saturating_sub(40);
        eprintln!(
            "error lines in {} ({} in all, the last 40):\n{}",
            lambda.display(),
            lines.len(),
            lines[from..].join("\n")
        );
    }
}
